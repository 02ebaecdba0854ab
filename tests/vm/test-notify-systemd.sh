#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck disable=SC2016 # the apps' shell scripts expand inside the pod
# sd_notify readiness, socket activation and per-app sub-cgroups under a real systemd (runs
# in the VM testbed, tests/vm/suite): a Type=notify service running pod-stage1 becomes
# active only once its notify-capable app said READY=1 (or once the apps started when they
# cannot say it), a .socket unit's socket reaches the app as fd 3, and an app-level memory
# limit in a two-app pod OOM-kills one app while the other lives on.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -d /run/systemd/system ]; then
        tap_skip_all "needs systemd as PID 1 (run it in the VM: make check-vm)"
fi
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
SD=${top_builddir:-.}/tests/helpers/pod-sd
{ [ -x "$PROBE" ] && [ -x "$SD" ]; } || tap_skip_all "tests/helpers/pod-probe or pod-sd not built"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

# shellcheck source=tests/helpers/pod-dir.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/pod-dir.sh"
cp "$SD" "$TEMPLATE/bin/pod-sd"

UNITS=()
cleanup() {
        local u
        for u in "${UNITS[@]}"; do
                systemctl stop "$u" 2>/dev/null || true
        done
        rm -f /run/systemd/system/pod-sock-$$.* 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

wait_for() { # wait_for SECONDS COMMAND...: polls every 0.2 s (the VM is emulated)
        local i
        for ((i = 0; i < $1 * 5; i++)); do
                "${@:2}" && return 0
                sleep 0.2
        done
        return 1
}

notify_image() { # notify_image APP...: the apps' images say they speak sd_notify
        local app
        for app in "$@"; do
                sed -i 's|"labels"|"annotations":[{"name":"appc.io/executor/supports-systemd-notify","value":"true"}],"labels"|' \
                        "$PODDIR/appsinfo/$app/manifest"
        done
}

VOL=',"volumes":[{"name":"v","kind":"empty"}]'
MNT=',"mounts":[{"volume":"v","path":"/v"}]'
STAGE1_CMD="exec 9<.; flock -x 9; POD_LOCK_FD=9 exec $POD_STAGE1 $UUID"

state() { systemctl show -P ActiveState "$1" 2>&1; }

# ---- Type=notify, the app says READY=1 -------------------------------------------------
unit=pod-notify-$$-a
UNITS+=("$unit")
new_pod a
notify_image a
write_pod "$(sh_app a 'touch /v/started; while [ ! -e /v/go ]; do sleep 0.2; done; pod-sd notify STATUS=serving READY=1; touch /v/sent; exec sleep 600' '' "$MNT")" "$VOL"
systemd-run --quiet --no-block --unit="$unit" -p Type=notify -p WorkingDirectory="$PODDIR" \
        /bin/bash -c "$STAGE1_CMD"
wait_for 120 test -e "$PODDIR/volumes/v/started" || true
tap_check "the notify app runs" "$([ -e "$PODDIR/volumes/v/started" ]; echo $?)" "$(systemctl status "$unit" 2>&1)"
sleep 1
assert_match "before the app's READY=1 the unit is activating" "$(state "$unit")" "^activating$"
touch "$PODDIR/volumes/v/go"
wait_for 60 eval '[ "$(state "$unit")" = active ]' || true
assert_match "after the app's READY=1 the unit is active" "$(state "$unit")" "^active$"
assert_match "the app's STATUS= is the unit's status text" "$(systemctl show -P StatusText "$unit")" "^serving$"
mainpid=$(systemctl show -P MainPID "$unit")
assert_match "MAINPID stays stage1's (its supervisor)" "$(cat "/proc/$mainpid/comm" 2>&1)" "^pod-stage1"
systemctl stop "$unit" || true

# ---- Type=notify, one of two apps never signals -------------------------------------------
unit=pod-notify-$$-b
UNITS+=("$unit")
new_pod a b
notify_image a b
write_pod "$(sh_app a 'pod-sd notify READY=1; touch /v/sent; exec sleep 600' '' "$MNT"),$(sh_app b 'exec sleep 600')" "$VOL"
systemd-run --quiet --no-block --unit="$unit" -p Type=notify -p WorkingDirectory="$PODDIR" \
        /bin/bash -c "$STAGE1_CMD"
wait_for 120 test -e "$PODDIR/volumes/v/sent" || true
tap_check "app a said READY=1" "$([ -e "$PODDIR/volumes/v/sent" ]; echo $?)" "$(systemctl status "$unit" 2>&1)"
sleep 2
assert_match "app b never does: the unit stays activating" "$(state "$unit")" "^activating$"
systemctl stop "$unit" || true

# ---- Type=notify, the apps cannot say it: READY=1 once they started --------------------------
unit=pod-notify-$$-c
UNITS+=("$unit")
new_pod a
write_pod "$(sh_app a 'echo env=${NOTIFY_SOCKET:-none}; exec sleep 600')"
tap_ok "systemd-run -p Type=notify returns once the app started" -- \
        timeout 300 systemd-run --quiet --unit="$unit" -p Type=notify -p WorkingDirectory="$PODDIR" \
        /bin/bash -c "$STAGE1_CMD"
assert_match "the unit is active" "$(state "$unit")" "^active$"
systemctl stop "$unit" || true

# ---- socket activation: a .socket unit's socket reaches the app as fd 3 ------------------
name=pod-sock-$$
port=$((20000 + $$ % 20000))
new_pod a
write_pod "$(app_json a '["/bin/pod-sd","serve","0"]')"
cat >"/run/systemd/system/$name.socket" <<EOF
[Socket]
ListenStream=127.0.0.1:$port
FileDescriptorName=web
EOF
cat >"/run/systemd/system/$name.service" <<EOF
[Service]
WorkingDirectory=$PODDIR
ExecStart=/bin/bash -c '$STAGE1_CMD'
EOF
UNITS+=("$name.socket" "$name.service")
systemctl daemon-reload
systemctl start "$name.socket"
reply=$(timeout 300 bash -c "exec 5<>/dev/tcp/127.0.0.1/$port; cat <&5" 2>&1 || true)
assert_match "the app answers on the socket with LISTEN_FDS/LISTEN_FDNAMES/LISTEN_PID" "$reply" \
        "^pid=[0-9]+ fds=1 names=web fd4=closed$"
assert_match "the service was started by the socket" "$(state "$name.service")" "^active$"
reply=$(timeout 120 bash -c "exec 5<>/dev/tcp/127.0.0.1/$port; cat <&5" 2>&1 || true)
assert_match "and keeps answering" "$reply" "^pid=[0-9]+ fds=1 names=web"
systemctl stop "$name.socket" "$name.service" || true

# ---- per-app sub-cgroups ------------------------------------------------------------------
new_pod a b
write_pod "$(sh_app a 'while [ ! -e /v/go ]; do sleep 0.2; done; exec pod-sd hog 256' ',"isolators":[{"name":"resource/memory","value":{"limit":"32Mi"}},{"name":"resource/cpu","value":{"limit":"250m"}}]' "$MNT"),$(app_json b '["/bin/pod-probe","wait-term","/dev/null","42"]')" "$VOL"
(
        cd "$PODDIR" || exit 99
        exec 9<.
        flock -x 9
        POD_LOCK_FD=9 exec "$POD_STAGE1" "$UUID"
) >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr" &
S1=$!
CG=/sys/fs/cgroup/machine.slice/pod-$UUID.scope
wait_for 120 test -e "$CG/app-b/memory.max" || true
assert_match "app a's sub-cgroup has memory.max = 32Mi" "$(cat "$CG/app-a/memory.max" 2>&1)" "^33554432$"
assert_match "app a's sub-cgroup has cpu.max for 250m" "$(cat "$CG/app-a/cpu.max" 2>&1)" "^25000 100000$"
assert_match "app b's sub-cgroup is unlimited" "$(cat "$CG/app-b/memory.max" 2>&1)" "^max$"
assert_match "controllers handed down" "$(cat "$CG/cgroup.subtree_control" 2>&1)" "memory"
wait_for 60 grep -q waiting "$TAP_TMP/stdout" || true
assert_match "stage1 lives in the pod/ leaf" "$(cat "$CG/pod/cgroup.procs" 2>&1)" "^$S1$"
tap_check "app b runs in app-b" "$([ -n "$(cat "$CG/app-b/cgroup.procs" 2>/dev/null)" ]; echo $?)"
touch "$PODDIR/volumes/v/go"
wait_for 120 test -e "$PODDIR/status/a" || true
assert_match "the hog in app a is OOM-killed (128+9)" "$(cat "$PODDIR/status/a" 2>&1)" "^137$"
assert_no_match "it never got near 256 MiB" "$(grep -E '^[0-9]+$' "$TAP_TMP/stdout" | tail -n 1)" \
        "^(6[4-9]|[7-9][0-9]|[1-2][0-9][0-9])$"
tap_check "app b lives on" "$([ ! -e "$PODDIR/status/b" ] && kill -0 "$S1" 2>/dev/null; echo $?)"
kill -TERM "$S1"
set +e
wait "$S1"
STATUS=$?
set -e
assert_match "app b stops on SIGTERM" "$(cat "$PODDIR/status/b" 2>&1)" "^42$"
assert_status "the pod's status is the first failure: a's 137" 137

# A kept service without Delegate=yes cannot have sub-cgroups: refused.
unit=pod-notify-$$-d
new_pod a b
write_pod "$(sh_app a 'true' ',"isolators":[{"name":"resource/memory","value":{"limit":"32Mi"}}]'),$(sh_app b 'true')"
set +e
timeout 300 systemd-run --quiet --wait --unit="$unit" -p WorkingDirectory="$PODDIR" \
        -p StandardError=file:"$TAP_TMP/kept-err" /bin/bash -c "$STAGE1_CMD"
STATUS=$?
set -e
tap_check "per-app limits in a kept unit without Delegate=yes fail the pod" "$([ "$STATUS" != 0 ]; echo $?)"
assert_match "saying why" "$(cat "$TAP_TMP/kept-err" 2>&1)" "Delegate=yes"
new_pod a b
write_pod "$(sh_app a 'cat /proc/self/cgroup' ',"isolators":[{"name":"resource/memory","value":{"limit":"32Mi"}}]'),$(sh_app b 'true')"
tap_ok "with Delegate=yes it runs" -- timeout 300 systemd-run --quiet --wait \
        --unit="$unit-delegated" -p Delegate=yes -p WorkingDirectory="$PODDIR" \
        -p StandardOutput=file:"$TAP_TMP/kept-out" /bin/bash -c "$STAGE1_CMD"
assert_match "app a ran in the service's app-a sub-cgroup" "$(cat "$TAP_TMP/kept-out" 2>&1)" \
        "/$unit-delegated\.service/app-a$"

# ---- pod run under systemd-run -p Type=notify ---------------------------------------------
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
IMG=$TAP_TMP/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc" "$TAP_TMP/flags"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh sleep touch; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
cp "$SD" "$IMG/rootfs/bin/pod-sd"
echo 'root:x:0:0:root:/root:/bin/sh' >"$IMG/rootfs/etc/passwd"
echo 'root:x:0:' >"$IMG/rootfs/etc/group"
cat >"$IMG/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/notify",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "annotations":[{"name":"appc.io/executor/supports-systemd-notify","value":"true"}],
 "app":{"exec":["/bin/sh","-c","touch /v/started; while [ ! -e /v/go ]; do sleep 0.2; done; pod-sd notify READY=1; exec sleep 600"],
        "user":"0","group":"0"}}
JSON
"$POD" image build "$IMG" "$TAP_TMP/notify.aci" >/dev/null
# By ID: a name asks for a verified image, and this one was fetched unverified.
NID=$("$POD" --dir="$TAP_TMP/data" --insecure-options=image fetch --quiet "$TAP_TMP/notify.aci")
unit=pod-notify-$$-run
UNITS+=("$unit")
systemd-run --quiet --no-block --unit="$unit" -p Type=notify -E POD_STAGE1="$POD_STAGE1" \
        "$POD" --dir="$TAP_TMP/data" run --volume=v,kind=host,source="$TAP_TMP/flags" \
        --mount=volume=v,target=/v "$NID"
wait_for 120 test -e "$TAP_TMP/flags/started" || true
tap_check "pod run: the app runs" "$([ -e "$TAP_TMP/flags/started" ]; echo $?)" \
        "$(systemctl status "$unit" 2>&1)"
sleep 1
assert_match "pod run: activating until the app is ready" "$(state "$unit")" "^activating$"
touch "$TAP_TMP/flags/go"
wait_for 60 eval '[ "$(state "$unit")" = active ]' || true
assert_match "pod run: active once the app said READY=1" "$(state "$unit")" "^active$"
systemctl stop "$unit" || true

tap_done
