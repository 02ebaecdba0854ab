#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod run under a real systemd (runs in the VM testbed, tests/vm/suite): the transient
# pod-<uuid>.scope and machined registration from a shell, a kept unit under systemd-run,
# journalctl -t <app>, systemctl stop recorded by pod status, and --memory enforced.
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
P=(--dir="$W/data")
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

# finish PID: its exit status in $st, SIGKILL after 120 s so a hung pod fails the test
# instead of the suite.
finish() {
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
# Only the applets used here: every fork costs under an emulated CPU.
for a in sh echo true sleep dd cat; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
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
# By ID: a name asks for a verified image, and this one was fetched unverified.
B=$OUT
# The app says "waiting" once its TERM trap is set; SIGTERM makes it exit 42.
WAITER='trap "exit 42" TERM; echo waiting; while :; do sleep 0.1; done'

# ---- pod run from a shell: pod-<uuid>.scope, machined, systemctl stop --------------------
"$POD" "${P[@]}" run --uuid-file-save="$W/u1" "$B" --exec=/bin/sh -- -c "$WAITER" \
        >"$W/out1" 2>"$W/err1" &
PIDS+=($!)
wait_for 60 grep -q waiting "$W/out1" || true
U=$(cat "$W/u1" 2>/dev/null || true)
tap_check "the pod is running" "$(grep -q waiting "$W/out1"; echo $?)" "$(cat "$W/err1")"
SCOPE=pod-$U.scope
UNITS+=("$SCOPE")
assert_match "systemctl list-units shows pod-<uuid>.scope" \
        "$(systemctl list-units --no-legend --type=scope 2>&1)" "$SCOPE"
assert_match "it is in machine.slice" "$(systemctl show -P Slice "$SCOPE")" "^machine\.slice$"
if busctl status org.freedesktop.machine1 >/dev/null 2>&1; then
        assert_match "machinectl list shows pod-<uuid>" "$(machinectl list --no-legend 2>&1)" \
                "pod-$U"
else
        tap_check "systemd-machined is installed in the testbed" 1
fi
run_pod "${P[@]}" status "$U"
assert_match "pod status: running" "$OUT" "^state=running$"
systemctl stop "$SCOPE" || true
finish "${PIDS[0]}"
tap_check "systemctl stop: pod run exits with the app's status (42)" "$([ "$st" = 42 ]; echo $?)" \
        "status $st; $(cat "$W/err1")"
run_pod "${P[@]}" status "$U"
assert_match "pod status: exited" "$OUT" "^state=exited$"
assert_match "pod status records the app's exit" "$OUT" "^app-busybox=42$"

# ---- systemd-run --unit=X pod run: X is the pod's unit -----------------------------------
unit=pod-run-test-$$-$RANDOM
UNITS+=("$unit.service")
marker="pod-run-journal-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
# A service gets systemd's environment, not ours: POD_STAGE1 is passed explicitly.
systemd-run --quiet --unit="$unit" -p StandardOutput=journal -E POD_STAGE1="$POD_STAGE1" \
        "$POD" "${P[@]}" run \
        --uuid-file-save="$W/u2" "$B" --name=japp --exec=/bin/sh -- \
        -c "echo $marker; $WAITER"
wait_for 60 test -s "$W/u2" || true
U2=$(cat "$W/u2" 2>/dev/null || true)
wait_for 60 test -e "$W/data/pods/run/$U2/pid" || true
journal=""
for _ in $(seq 1 60); do
        journalctl --sync 2>/dev/null || true
        journal=$(journalctl --no-pager -o cat -t japp 2>&1)
        grep -q waiting <<<"$journal" && break
        sleep 0.5
done
assert_match "journalctl -t <app> shows the app's output" "$journal" "^$marker$"
tap_check "the kept unit is the pod's unit" \
        "$([ "$(cat "$W/data/pods/run/$U2/unit" 2>/dev/null)" = "$unit.service" ]; echo $?)"
tap_check "no pod-<uuid>.scope was created" \
        "$(if systemctl is-active --quiet "pod-$U2.scope"; then echo 1; else echo 0; fi)"
status=$(systemctl status --no-pager "$unit.service" 2>&1)
assert_match "systemctl status X: active" "$status" "Active: active \(running\)"
assert_match "systemctl status X shows the pod's supervisor" "$status" "pod-stage1-supervise"
assert_match "systemctl status X shows the app" "$status" "/bin/sh -c \"?echo $marker"
systemctl stop "$unit.service" || true
wait_for 30 test -e "$W/data/pods/run/$U2/status/japp" || true
run_pod "${P[@]}" status "$U2"
assert_match "systemctl stop X stops the pod, exit recorded" "$OUT" "^app-japp=42$"

# ---- --memory is enforced; the host lives on ---------------------------------------------
run_pod "${P[@]}" run "$B" --memory=64M --exec=/bin/dd -- if=/dev/zero of=/dev/null bs=200M count=1
assert_status "a 200M allocation in a --memory=64M pod is OOM-killed (128+9)" 137
run_pod "${P[@]}" run "$B" --memory=64M --exec=/bin/sh -- -c 'exit 3'
assert_status "a pod within its limit runs normally" 3

# ---- pod enter joins the app's own sub-cgroup ----------------------------------------------
# An app-level --memory gives every app its own cgroup <scope>/app-<name>: a process entered
# into app a must be in a's (and count against a's limit), not in the pod's leaf.
"$POD" "${P[@]}" run --uuid-file-save="$W/u3" "$B" --name=a --memory=64M --exec=/bin/sh -- \
        -c "$WAITER" --- "$B" --name=b --exec=/bin/sh -- -c "$WAITER" >"$W/out3" 2>"$W/err3" &
PIDS+=($!)
wait_for 60 eval '[ "$(grep -c waiting "$W/out3")" = 2 ]' || true
U3=$(cat "$W/u3" 2>/dev/null || true)
UNITS+=("pod-$U3.scope")
run_pod "${P[@]}" enter --app=a "$U3" cat /proc/self/cgroup
assert_match "pod enter --app=a: the process is in app-a" "$OUT" "/pod-$U3\.scope/app-a$"
run_pod "${P[@]}" enter --app=b "$U3" cat /proc/self/cgroup
assert_match "pod enter --app=b: the process is in app-b" "$OUT" "/pod-$U3\.scope/app-b$"
run_pod "${P[@]}" stop "$U3"
finish "${PIDS[-1]}"
tap_check "the two-app pod stops (42)" "$([ "$st" = 42 ]; echo $?)" "status $st; $(cat "$W/err3")"

tap_done
