#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Robustness under a real systemd (runs in the VM testbed, tests/vm/suite):
#  (a) 20 pods started in parallel while `pod list`/`pod status` and `pod gc` loop: no
#      crash, a pod whose supervisor is alive is always shown running, every pod exits with
#      its own status, and a final gc leaves no directory, mount or pod-*.scope;
#  (b) `pod run` killed with SIGKILL while creating, before stage1, after its scope exists
#      and while running: `pod list` shows final states, gc cleans up completely;
#  (c) a pod's scope that outlived the pod (a stray process in it) is stopped by pod gc.
# Lean on purpose: the guest CPU may be emulated (8-45x slower), so no assertion depends
# on timing; every wait polls with a generous limit.  The host-side variant (no systemd)
# is tests/integration/gc-robust.sh.
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
D=$W/data
PODS=$D/pods
P=(--dir="$D")
PIDS=()
cleanup() {
        local p
        for p in "${PIDS[@]}"; do
                kill -9 "$p" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        "$POD" "${P[@]}" gc --grace-period=0s >/dev/null 2>&1 || true
        rm -rf "$W"
}
trap cleanup EXIT

wait_for() { # wait_for SECONDS COMMAND...: polls every 0.2 s
        local i
        for ((i = 0; i < $1 * 5; i++)); do
                "${@:2}" && return 0
                sleep 0.2
        done
        return 1
}
# read_file VAR FILE: the first line, also without a final newline (the uuid and pid files
# have none, so read returns non-zero there).
read_file() { { IFS= read -r "$1" <"$2"; } 2>/dev/null || [ -n "${!1}" ]; }
# alive PID: the process exists and is not a zombie (bash builtins only: no fork).
alive() {
        local rest
        # The group's 2>/dev/null also covers the input redirection, which fails first when
        # the process ends between the test and the read (a plain "<f 2>/dev/null" is applied
        # left to right, so its error reached the loop's error log).
        [ -r "/proc/$1/stat" ] && { read -r rest <"/proc/$1/stat"; } 2>/dev/null || return 1
        rest=${rest##*) }
        [ "${rest%% *}" != Z ]
}
pod_states() { # "UUID STATE" per pod, from the JSON list (STATE may contain a space; the
        # UUID-shaped name skips the apps, which have "name" and "state" too)
        "$POD" "${P[@]}" list --format=json |
                grep -oE '"name":"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}","state":"[^"]*"' |
                sed 's/^"name":"\([^"]*\)","state":"\([^"]*\)"$/\1 \2/'
}
pod_is_exited() { pod_states | grep -q "^$1 exited$"; }
settled() { ! pod_states | grep -Eq ' (running|preparing|deleting)$'; }
our_mounts() { grep -F "$D/" /proc/self/mountinfo || true; }
leftovers() { find "$PODS" -mindepth 2 -maxdepth 2; }
our_scopes() { # pod-<uuid>.scope units of the given UUIDs still known to systemd
        local units u
        units=$(systemctl list-units --all --no-legend --plain 'pod-*' 2>&1)
        for u in "$@"; do
                [[ $units != *"pod-$u.scope"* ]] || {
                        echo "pod-$u.scope: $units"
                        systemctl status --no-pager --lines=5 "pod-$u.scope" 2>&1
                        systemctl show -p ActiveState,SubState,Result,ControlGroup \
                                "pod-$u.scope" 2>&1
                        machinectl list --no-legend 2>&1
                }
        done
}
no_scopes() { [ -z "$(our_scopes "$@")" ]; }

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh sleep; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$IMG/rootfs/etc/passwd"
echo 'root:x:0:' >"$IMG/rootfs/etc/group"
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/busybox",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","exit 0"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/bb.aci" >/dev/null
run_pod "${P[@]}" --insecure-options=image fetch --quiet "$W/bb.aci"
assert_status "the test image is in the store" 0
# By ID: a name asks for a verified image, and this one was fetched unverified.
B=$OUT

T0=$SECONDS
echo "# setup done after ${T0}s"
# ---- (a) 20 pods in parallel, list/status and gc loops alongside ---------------------------
# machined is started first: its bus activation by 20 registrations at once on an emulated,
# loaded CPU can take minutes (and its watchdog may fire), which is not what this tests.
systemctl start systemd-machined.service 2>/dev/null || true
N=20
RUN_PIDS=()
for i in $(seq 1 $N); do
        "$POD" "${P[@]}" run --net=none --uuid-file-save="$W/u.$i" "$B" --exec=/bin/sh -- \
                -c "sleep 2; exit $i" >/dev/null 2>"$W/err.$i" &
        RUN_PIDS[i]=$!
        PIDS+=($!)
done
any_alive() {
        local p
        for p in "${RUN_PIDS[@]}"; do
                alive "$p" && return 0
        done
        return 1
}

# The list loop.  A pod that is in run/ (its pid file is there) and whose supervisor (the
# process that was `pod run`, holding the lock) is alive both before and after a list or a
# status held its lock all along: it must be shown running.  Checked with builtins only.
(
        set +e
        while any_alive; do
                cand=()
                for i in $(seq 1 $N); do
                        u=""
                        read_file u "$W/u.$i" || continue
                        [ -e "$PODS/run/$u/pid" ] && alive "${RUN_PIDS[i]}" && cand+=("$i:$u")
                done
                out=$("$POD" "${P[@]}" list --format=json 2>&1)
                rc=$?
                [ "$rc" = 0 ] || echo "pod list exited $rc: $out"
                st=""
                if [ "${#cand[@]}" -gt 0 ]; then
                        c=${cand[0]}
                        st=$("$POD" "${P[@]}" status "${c#*:}" 2>&1)
                        rc=$?
                        if alive "${RUN_PIDS[${c%%:*}]}"; then
                                [ "$rc" = 0 ] || echo "pod status ${c#*:} exited $rc: $st"
                                [[ $st == *$'\n'state=running$'\n'* || $st == state=running$'\n'* ]] ||
                                        echo "pod status of running pod ${c#*:}: $st"
                        fi
                fi
                for c in "${cand[@]}"; do
                        alive "${RUN_PIDS[${c%%:*}]}" || continue
                        [[ $out == *"\"name\":\"${c#*:}\",\"state\":\"running\""* ]] ||
                                echo "pod list does not show running pod ${c#*:} as running"
                done
        done
) >"$W/list-errors" 2>&1 &
LIST_LOOP=$!
PIDS+=($!)
# The gc loop: aggressive, removes exited pods at once.
(
        set +e
        while any_alive; do
                out=$("$POD" "${P[@]}" gc --grace-period=0s 2>&1)
                rc=$?
                [ "$rc" = 0 ] || echo "pod gc exited $rc: $out"
        done
) >"$W/gc-errors" 2>&1 &
GC_LOOP=$!
PIDS+=($!)

wrong=""
for i in $(seq 1 $N); do
        # SIGKILL after 180 s, so that a hung pod fails the test rather than the suite
        wait_for 180 eval "! alive ${RUN_PIDS[i]}" || kill -9 "${RUN_PIDS[i]}" 2>/dev/null || true
        set +e
        wait "${RUN_PIDS[i]}"
        st=$?
        set -e
        [ "$st" = "$i" ] || wrong+=" pod $i: status $st, want $i ($(head -c 300 "$W/err.$i"));"
done
echo "# (a): the pods ended after $((SECONDS - T0))s"
tap_check "20 parallel pods each exit with their own status" "$([ -z "$wrong" ]; echo $?)" "$wrong"
wait "$LIST_LOOP" "$GC_LOOP" || true
echo "# (a): the loops ended after $((SECONDS - T0))s"
tap_check "list/status loop: no failure, running pods always shown running" \
        "$([ ! -s "$W/list-errors" ]; echo $?)" "$(head -c 2000 "$W/list-errors")"
tap_check "gc loop: every gc exited 0" "$([ ! -s "$W/gc-errors" ]; echo $?)" \
        "$(head -c 2000 "$W/gc-errors")"
UUIDS_A=()
for i in $(seq 1 $N); do
        u=""
        read_file u "$W/u.$i" && UUIDS_A+=("$u")
done
tap_check "every pod got a UUID" "$([ "${#UUIDS_A[@]}" = $N ]; echo $?)"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "final gc exits 0" 0
echo "# (a): final gc done after $((SECONDS - T0))s"
tap_check "no pod directory is left" "$([ -z "$(leftovers)" ]; echo $?)" "$(leftovers)"
tap_check "no mount is left" "$([ -z "$(our_mounts)" ]; echo $?)" "$(our_mounts)"
wait_for 60 no_scopes "${UUIDS_A[@]}" || true
tap_check "no pod-<uuid>.scope is left" "$(no_scopes "${UUIDS_A[@]}"; echo $?)" \
        "$(our_scopes "${UUIDS_A[@]}")"

echo "# (a) done after $((SECONDS - T0))s"
# ---- (b) kill -9 of pod run at different points -------------------------------------------
# A stage1 that waits on a FIFO before it becomes the real one (the pod is in run/, locked,
# no scope yet); read is a bash builtin, so no child inherits the lock.  stage0's version
# check (no lock fd) goes straight through.
mkfifo "$W/hold.fifo"
cat >"$W/stage1-wait" <<EOF
#!/bin/bash
[ -n "\${POD_LOCK_FD:-}" ] || exec "$POD_STAGE1" "\$@"
: >"$W/stage1-waiting"
read -r -t 300 _ <>"$W/hold.fifo" || true
exec "$POD_STAGE1" "\$@"
EOF
chmod +x "$W/stage1-wait"
in_run() { # in_run UUID-FILE NAME: the pod is in run/ and has the file NAME
        _u=""
        read_file _u "$1" && [ -e "$PODS/run/$_u/$2" ]
}
app_started() { # the pod init has a child: the app
        # shellcheck disable=SC2034 # kids is set by read_file
        local init="" kids=""
        in_run "$1" pid && read_file init "$PODS/run/$_u/pid" &&
                read_file kids "/proc/$init/task/$init/children"
}
kill_run() { # kill_run N WHEN
        local n=$1 when=$2 u=$W/k.$1 s1=$POD_STAGE1 pid
        if [ "$when" = before-stage1 ]; then s1=$W/stage1-wait; fi
        POD_STAGE1=$s1 "$POD" "${P[@]}" run --net=none --uuid-file-save="$u" "$B" \
                --exec=/bin/sleep -- 600 >/dev/null 2>&1 &
        pid=$!
        PIDS+=("$pid")
        case $when in
        creating) wait_for 120 test -e "$u" ;;
        before-stage1) wait_for 120 test -e "$W/stage1-waiting" ;;
        scope) wait_for 120 in_run "$u" unit ;;
        running) wait_for 120 app_started "$u" ;;
        *) sleep "$when" ;;
        esac || echo "# kill_run $n: '$when' never came"
        echo "# kill_run $n ($when) after $((SECONDS - T0))s"
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
}
n=0
for when in creating before-stage1 scope running 0.5 1.5; do
        n=$((n + 1))
        kill_run "$n" "$when"
done
UUIDS_B=()
for f in "$W"/k.*; do
        u=""
        read_file u "$f" && UUIDS_B+=("$u")
done
tap_check "every killed pod's lock is freed" "$(wait_for 60 settled; echo $?)" "$(pod_states)"
run_pod "${P[@]}" list
assert_status "pod list after the kills exits 0" 0
states=$(pod_states)
bad=$(grep -Ev ' (embryo|aborted prepare|exited)$' <<<"$states" || true)
tap_check "killed pods are embryo, aborted prepare or exited" "$([ -z "$bad" ]; echo $?)" \
        "$states"
missing=""
for u in "${UUIDS_B[@]}"; do
        [[ $'\n'$states == *$'\n'"$u "* ]] || missing+=" $u"
done
tap_check "every killed pod that got a UUID is listed" "$([ -z "$missing" ]; echo $?)" \
        "missing:$missing"
U=$(cat "$W/k.4" 2>/dev/null || true)
run_pod "${P[@]}" status "$U"
assert_match "pod status of the pod killed while running: exited" "$OUT" "^state=exited$"
assert_match "... with its unit recorded" "$OUT" "pod-$U\.scope"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "gc after the kills exits 0" 0
tap_check "gc removed every killed pod" "$([ -z "$(leftovers)" ]; echo $?)" "$(leftovers)"
tap_check "no mount is left after the kills" "$([ -z "$(our_mounts)" ]; echo $?)" \
        "$(our_mounts)"
wait_for 60 no_scopes "${UUIDS_B[@]}" || true
tap_check "no scope of a killed pod is left" "$(no_scopes "${UUIDS_B[@]}"; echo $?)" \
        "$(our_scopes "${UUIDS_B[@]}")"

echo "# (b) done after $((SECONDS - T0))s"

# ---- (c) a scope that outlived its pod --------------------------------------------------
# A process left in the pod's scope after the pod ended (or a scope systemd lost track of:
# systemd issue #36781) keeps pod-<uuid>.scope loaded; pod gc kills what is left and stops
# the unit.  The stray here is a host process moved into the scope's cgroup.
"$POD" "${P[@]}" run --net=none --uuid-file-save="$W/c" "$B" --exec=/bin/sleep -- 600 \
        >/dev/null 2>&1 &
PIDS+=($!)
wait_for 120 app_started "$W/c" || echo "# (c): the pod never started"
UC=$(cat "$W/c")
CG=$(systemctl show -p ControlGroup --value "pod-$UC.scope")
sleep 900 &
STRAY=$!
PIDS+=("$STRAY")
echo "$STRAY" >"/sys/fs/cgroup$CG/cgroup.procs"
tap_check "a stray process is in the pod's scope" \
        "$(grep -qF "$CG" "/proc/$STRAY/cgroup"; echo $?)" "$(cat "/proc/$STRAY/cgroup")"
run_pod "${P[@]}" stop "$UC"
assert_status "pod stop" 0
wait_for 120 pod_is_exited "$UC" || true
tap_check "the pod is exited, its scope still active" \
        "$(pod_is_exited "$UC" && systemctl is-active --quiet "pod-$UC.scope"; echo $?)" \
        "$(pod_states; systemctl status --no-pager "pod-$UC.scope" 2>&1)"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "pod gc" 0
wait_for 60 no_scopes "$UC" || true
tap_check "pod gc stopped the scope" "$(no_scopes "$UC"; echo $?)" "$(our_scopes "$UC")"
stray_gone() { ! alive "$STRAY"; }
tap_check "and killed the stray" "$(wait_for 30 stray_gone; echo $?)"
echo "# (c) done after $((SECONDS - T0))s"
tap_done
