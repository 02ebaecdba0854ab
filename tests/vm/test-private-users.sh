#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod run --private-users under a real systemd (runs in the VM testbed, tests/vm/suite): a pod
# from a shell (its pod-<uuid>.scope, machined, the app's host uid BASE, systemctl stop), a
# pod under systemd-run (journald shows the app's output, systemctl stop stops it), and
# --memory enforced on a pod in a user namespace, and pod enter next to an app whose main
# process sits in a nested user namespace.  Few pods: the VM may be emulated.
# tests/integration/private-users.sh covers the rest on the host.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -d /run/systemd/system ]; then
        tap_skip_all "needs systemd as PID 1 (run it in the VM: make check-vm)"
fi
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

W=$TAP_TMP
P=(--dir="$W/data" --local-config="$W/etc" --system-config="$W/vendor")
PIDS=()
UNITS=()
cleanup() {
        for u in "${UNITS[@]}"; do
                systemctl stop "$u" 2>/dev/null || true
        done
        for p in "${PIDS[@]}"; do
                kill "$p" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        "$POD" "${P[@]}" gc --grace-period=0s >/dev/null 2>&1 || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

wait_for() { # wait_for SECONDS COMMAND...: polls every 0.5 s (the VM may be emulated)
        local i
        for ((i = 0; i < $1 * 2; i++)); do
                "${@:2}" && return 0
                sleep 0.5
        done
        return 1
}
finish() { # finish PID: its exit status in $st; SIGKILL after 120 s
        wait_for 120 eval "! kill -0 $1 2>/dev/null" || kill -9 "$1" 2>/dev/null || true
        set +e
        wait "$1"
        st=$?
        set -e
}

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh echo true sleep dd cat grep; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
[ -x "$PROBE" ] && cp "$PROBE" "$IMG/rootfs/bin/pod-probe"
echo 'root:x:0:0:root:/root:/bin/sh' >"$IMG/rootfs/etc/passwd"
echo 'root:x:0:' >"$IMG/rootfs/etc/group"
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/busybox",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/bb.aci" >/dev/null
run_pod "${P[@]}" --insecure-options=image fetch --quiet "$W/bb.aci"
assert_status "the test image is in the store" 0
B=$OUT
# "waiting" once the TERM trap is set; SIGTERM makes it exit 42.  The uid_map first.
WAITER='cat /proc/self/uid_map; trap "exit 42" TERM; echo waiting; while :; do sleep 0.1; done'

# What the pod sees of cgroups: its /sys/fs/cgroup (empty: a fresh sysfs has no cgroup mounts)
# and whether its root may create a cgroup there.
# shellcheck disable=SC2016 # for the app's shell
CGPROBE='set -- /sys/fs/cgroup/*; echo "cgroupfs=$1"; busybox mkdir /sys/fs/cgroup/x 2>/dev/null;
        echo "cgmkdir=$?"; '

# ---- from a shell: pod-<uuid>.scope, machined, the app's host uid, systemctl stop ----------
"$POD" "${P[@]}" run --private-users --uuid-file-save="$W/u1" "$B" --exec=/bin/sh -- \
        -c "$CGPROBE$WAITER" >"$W/out1" 2>"$W/err1" &
PIDS+=($!)
wait_for 90 grep -q waiting "$W/out1" || true
U=$(cat "$W/u1" 2>/dev/null || true)
tap_check "a --private-users pod runs from a shell" "$(grep -q waiting "$W/out1"; echo $?)" \
        "$(cat "$W/err1")"
RANGE=$(cat "$W/data/pods/run/$U/private-users" 2>/dev/null || true)
BASE=${RANGE% *}
tap_check "the pod has a range ($RANGE)" "$(grep -Eqx '[1-9][0-9]* 65536' <<<"$RANGE"; echo $?)"
BASE=${BASE:-x}
assert_match "the app's uid_map is 0 BASE 65536" "$(tr -s ' ' <"$W/out1")" "^ ?0 $BASE 65536$"
SCOPE=pod-$U.scope
UNITS+=("$SCOPE")
assert_match "systemctl list-units shows pod-<uuid>.scope" \
        "$(systemctl list-units --no-legend --type=scope 2>&1)" "$SCOPE"
if busctl status org.freedesktop.machine1 >/dev/null 2>&1; then
        assert_match "machinectl list shows pod-<uuid>" "$(machinectl list --no-legend 2>&1)" "pod-$U"
else
        tap_check "systemd-machined is installed in the testbed" 1
fi
# The app's shell (in the scope's cgroup, its command line holds the script; its comm is the
# number of the fd stage1 executed it from): host uid BASE, real, effective, saved and fs.
CG=/sys/fs/cgroup$(systemctl show -P ControlGroup "$SCOPE" 2>/dev/null)
APPUIDS=""
APPPID=""
while read -r p; do
        { tr '\0' ' ' <"/proc/$p/cmdline"; } 2>/dev/null | grep -q 'echo waiting' || continue
        APPPID=$p
        APPUIDS="$APPUIDS $(awk '/^Uid:/ { print $2 ":" $3 ":" $4 ":" $5 }' "/proc/$p/status")"
done < <(find "$CG" -name cgroup.procs -exec cat {} + 2>/dev/null)
tap_check "the app's process runs as host uid BASE ($BASE) in every uid" \
        "$([ "$APPUIDS" = " $BASE:$BASE:$BASE:$BASE" ]; echo $?)" \
        "app uids:$APPUIDS (cgroup $CG: $(find "$CG" -name cgroup.procs -exec cat {} + 2>&1 | tr '\n' ' '))"
assert_match "ps -o uid shows it with uid BASE" "$(ps -o uid= -p "${APPPID:-1}" 2>&1)" "^ *$BASE$"

# ---- the delegated cgroup belongs to the range's root (nspawn --private-users does this) ----
# The kernel's list of delegation files; older kernels: the three every v2 kernel delegates.
DELEGATE=$(cat /sys/kernel/cgroup/delegate 2>/dev/null ||
        printf 'cgroup.procs\ncgroup.threads\ncgroup.subtree_control\n')
# check_delegated DESC CGROUP-DIR OWNER: the dir and its delegation files are OWNER, every
# other file (limits, cgroup.controllers, ...) stays 0:0
check_delegated() {
        local bad="" f n
        [ "$(stat -c %u:%g "$2" 2>&1)" = "$3" ] || bad="$bad dir=$(stat -c %u:%g "$2" 2>&1)"
        for f in "$2"/*; do
                n=${f##*/}
                [ -f "$f" ] || continue
                if grep -qx "$n" <<<"$DELEGATE"; then
                        [ "$(stat -c %u:%g "$f")" = "$3" ] || bad="$bad $n=$(stat -c %u:%g "$f")"
                else
                        [ "$(stat -c %u:%g "$f")" = 0:0 ] || bad="$bad $n=$(stat -c %u:%g "$f")(not delegated)"
                fi
        done
        tap_check "$1" "$([ -z "$bad" ]; echo $?)" "$2:$bad"
}
check_delegated "the scope's cgroup and its delegation files are BASE:BASE, the rest root's" \
        "$CG" "$BASE:$BASE"
for f in cgroup.procs cgroup.threads cgroup.subtree_control; do
        tap_check "  $f is BASE:BASE" "$([ "$(stat -c %u:%g "$CG/$f" 2>&1)" = "$BASE:$BASE" ]; echo $?)" \
                "$(stat -c '%n %u:%g' "$CG/$f" 2>&1)"
done
tap_check "  its parent (machine.slice) stays root's" \
        "$([ "$(stat -c %u:%g "${CG%/*}" 2>&1)" = 0:0 ]; echo $?)" "$(stat -c '%n %u:%g' "${CG%/*}" 2>&1)"
assert_match "the pod itself sees no cgroup file system (/sys/fs/cgroup is empty)" \
        "$(cat "$W/out1")" "^cgroupfs=/sys/fs/cgroup/\*$"
assert_match "... and its root cannot create a cgroup there" "$(cat "$W/out1")" "^cgmkdir=[1-9]"
systemctl stop "$SCOPE" || true
finish "${PIDS[0]}"
tap_check "systemctl stop: pod run exits with the app's status (42)" "$([ "$st" = 42 ]; echo $?)" \
        "status $st; $(cat "$W/err1")"

# ---- under systemd-run: journald, systemctl stop ---------------------------------------------
unit=pod-pu-test-$$-$RANDOM
UNITS+=("$unit.service")
marker="pod-pu-journal-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
systemd-run --quiet --unit="$unit" -p StandardOutput=journal -E POD_STAGE1="$POD_STAGE1" \
        "$POD" "${P[@]}" run --private-users --uuid-file-save="$W/u2" "$B" --name=puapp \
        --exec=/bin/sh -- -c "echo $marker; $WAITER"
wait_for 60 test -s "$W/u2" || true
U2=$(cat "$W/u2" 2>/dev/null || true)
journal=""
for _ in $(seq 1 90); do
        journalctl --sync 2>/dev/null || true
        journal=$(journalctl --no-pager -o cat -t puapp 2>&1)
        # This run's marker and then "waiting": -t puapp also holds earlier runs' lines.
        grep -A2 -x "$marker" <<<"$journal" | grep -q waiting && break
        sleep 0.5
done
assert_match "journalctl -t <app> shows the app's output" "$journal" "^$marker$"
assert_match "... including its uid_map (0 BASE 65536)" "$(tr -s ' ' <<<"$journal")" "^ ?0 [1-9][0-9]* 65536$"
tap_check "the service's pod has a range" \
        "$([ -s "$W/data/pods/run/$U2/private-users" ]; echo $?)"
systemctl stop "$unit.service" || true
wait_for 30 test -e "$W/data/pods/run/$U2/status/puapp" || true
run_pod "${P[@]}" status "$U2"
assert_match "systemctl stop X stops the pod, exit recorded" "$OUT" "^app-puapp=42$"

# ---- per-app limits: each app's sub-cgroup is the range's root's, the unit's and pod/ not -------
"$POD" "${P[@]}" run --private-users --uuid-file-save="$W/u5" "$B" --name=a --memory=64M \
        --exec=/bin/sh -- -c "$WAITER" --- "$B" --name=b --exec=/bin/sh -- -c "$WAITER" \
        >"$W/out5" 2>"$W/err5" &
PIDS+=($!)
# shellcheck disable=SC2016 # for eval
wait_for 90 eval '[ "$(grep -c waiting "$W/out5")" = 2 ]' || true
U5=$(cat "$W/u5" 2>/dev/null || true)
UNITS+=("pod-$U5.scope")
R5=$(cat "$W/data/pods/run/$U5/private-users" 2>/dev/null || true)
R5=${R5% *}
CG5=/sys/fs/cgroup$(systemctl show -P ControlGroup "pod-$U5.scope" 2>/dev/null)
tap_check "a two-app --private-users pod with an app --memory runs" \
        "$([ "$(grep -c waiting "$W/out5")" = 2 ] && [ -n "$R5" ]; echo $?)" "$(cat "$W/err5")"
check_delegated "app-a's sub-cgroup is the range's root's (BASE:BASE)" "$CG5/app-a" "${R5:-x}:${R5:-x}"
check_delegated "app-b's too" "$CG5/app-b" "${R5:-x}:${R5:-x}"
tap_check "  app-a's memory.max (64M) stays root's" \
        "$([ "$(stat -c %u:%g "$CG5/app-a/memory.max" 2>&1)" = 0:0 ] &&
                [ "$(cat "$CG5/app-a/memory.max" 2>&1)" = 64000000 ]; echo $?)" \
        "$(stat -c '%n %u:%g' "$CG5/app-a/memory.max" 2>&1) $(cat "$CG5/app-a/memory.max" 2>&1)"
check_delegated "the unit's cgroup, which hands the limits down, stays root's" "$CG5" 0:0
check_delegated "its pod/ leaf (stage1 and the pod init) stays root's" "$CG5/pod" 0:0
run_pod "${P[@]}" stop "$U5"
finish "${PIDS[-1]}"

# ---- a kept unit: delegated only when it says Delegate=yes -----------------------------------
for dg in yes no; do
        unit=pod-pu-dg-$dg-$$-$RANDOM
        UNITS+=("$unit.service")
        rm -f "$W/u6"
        systemd-run --quiet --unit="$unit" -p Delegate="$dg" -E POD_STAGE1="$POD_STAGE1" \
                "$POD" "${P[@]}" run --private-users --uuid-file-save="$W/u6" "$B" \
                --exec=/bin/sh -- -c "$WAITER"
        wait_for 60 test -s "$W/u6" || true
        U6=$(cat "$W/u6" 2>/dev/null || true)
        wait_for 60 test -s "$W/data/pods/run/$U6/pid" || true
        R6=$(cat "$W/data/pods/run/$U6/private-users" 2>/dev/null || true)
        R6=${R6% *}
        CG6=/sys/fs/cgroup$(systemctl show -P ControlGroup "$unit.service" 2>/dev/null)
        run_pod "${P[@]}" status "$U6"
        assert_match "systemd-run -p Delegate=$dg: the pod runs" "$OUT" "^state=running$"
        if [ "$dg" = yes ]; then
                check_delegated "systemd-run -p Delegate=yes: the service's cgroup is BASE:BASE" \
                        "$CG6" "${R6:-x}:${R6:-x}"
        else
                check_delegated "systemd-run without Delegate: the service's cgroup (systemd's) stays root's" \
                        "$CG6" 0:0
        fi
        systemctl stop "$unit.service" || true
done

# ---- --memory: the hog is OOM-killed in a user namespace too ---------------------------------
run_pod "${P[@]}" run --private-users "$B" --memory=64M --exec=/bin/dd -- \
        if=/dev/zero of=/dev/null bs=200M count=1
assert_status "a 200M allocation in a --memory=64M --private-users pod is OOM-killed (128+9)" 137

# ---- pod enter next to a hostile image whose app sits in a nested user namespace ---------------
# (tests/integration/private-users.sh, item 6: here root holds every capability, so pod enter
# does not refuse for lack of one.)  The image alone, run with no insecure flag: its own
# seccomp-retain-set isolator allows everything (so unshare(CLONE_NEWUSER) too), its
# capabilities-retain-set keeps only CAP_NET_BIND_SERVICE.  The app's main process, which
# pod enter takes the app's credentials from, unshares a user namespace (no capability
# needed), where it holds every capability, bounding set included.  The operator's pod
# enter must still give the entered command the app's own capabilities (CAP_NET_BIND_SERVICE),
# not every capability (in the host's user namespace without --private-users).
if [ -x "$PROBE" ]; then
        HIMG=$W/himg
        mkdir -p "$HIMG"
        cp -a "$IMG/rootfs" "$HIMG/"
        cat >"$HIMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/hostile",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status; exec /bin/pod-probe userns-hold"],
        "user":"0","group":"0",
        "isolators":[{"name":"os/linux/seccomp-retain-set","value":{"set":["@appc.io/all"]}},
                     {"name":"os/linux/capabilities-retain-set","value":{"set":["CAP_NET_BIND_SERVICE"]}}]}}
EOF
        "$POD" image build "$HIMG" "$W/hostile.aci" >/dev/null
        run_pod "${P[@]}" --insecure-options=image fetch --quiet "$W/hostile.aci"
        H=$OUT
        for pu in --private-users ""; do
                PU=()
                if [ -n "$pu" ]; then PU=("$pu"); fi
                pu=${pu:-"no --private-users"}
                "$POD" "${P[@]}" run "${PU[@]}" --uuid-file-save="$W/u4" "$H" \
                        >"$W/out4" 2>"$W/err4" &
                PIDS+=($!)
                wait_for 90 grep -qx ok "$W/out4" || true
                U4=$(cat "$W/u4" 2>/dev/null || true)
                UNITS+=("pod-$U4.scope")
                tap_check "$pu: the hostile image's app sits in a nested user namespace" \
                        "$(grep -qx ok "$W/out4"; echo $?)" "$(cat "$W/out4" "$W/err4")"
                HCAPS=$(grep '^Cap' "$W/out4" | tr -s ' \t' ' ' || true)
                run_pod "${P[@]}" enter "$U4" /bin/sh -c 'grep -E "^Cap(Eff|Prm|Bnd):" /proc/self/status'
                GOT=$(tr -s ' \t' ' ' <<<"$OUT")
                tap_check "$pu: pod enter gives the app's capabilities, not the nested namespace's" \
                        "$([ "$STATUS" = 0 ] && [ -n "$HCAPS" ] && [ "$GOT" = "$HCAPS" ]; echo $?)" \
                        "status $STATUS; the app had: $HCAPS; the entered command got: $GOT; $ERR"
                run_pod "${P[@]}" stop "$U4"
                finish "${PIDS[-1]}"
        done
fi

run_pod "${P[@]}" gc --grace-period=0s
LEFT=$(find "$W/data/userns" -mindepth 1 ! -name lock 2>&1 || true)
tap_check "pod gc releases every range" "$([ -d "$W/data/userns" ] && [ -z "$LEFT" ]; echo $?)" "$LEFT"

tap_done
