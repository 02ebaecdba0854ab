#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The device allow-list under a real systemd (VM testbed, tests/vm/suite; stage1/ABI.md
# "Devices"): DevicePolicy=closed and DeviceAllow= on the pod's scope and on a kept unit,
# enforced by the kernel (systemd's BPF device program on cgroup v2): mknod and open of a
# device not on the list fail even where nodev cannot help, the listed ones work.  The host
# (no systemd) side is tests/integration/devices.sh.
# App scripts are JSON strings in single quotes: $ is for the app's shell, not ours.
# shellcheck disable=SC2016
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -d /run/systemd/system ]; then
        tap_skip_all "needs systemd as PID 1 (run it in the VM: make check-vm)"
fi
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
[ -x "$PROBE" ] || tap_skip_all "tests/helpers/pod-probe not built"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

# shellcheck source=tests/helpers/pod-dir.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/pod-dir.sh"

SCOPE=pod-$UUID.scope
EPERM=1

wait_for() { # wait_for SECONDS COMMAND...: polls every 0.1 s
        local i
        for ((i = 0; i < $1 * 10; i++)); do
                "${@:2}" && return 0
                sleep 0.1
        done
        return 1
}

# ---- the scope's properties --------------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","wait-term","/dev/null","0"]')"
(
        cd "$PODDIR" || exit 99
        exec 9<.
        flock -x 9
        POD_LOCK_FD=9 exec "$POD_STAGE1" "$UUID"
) >"$TAP_TMP/bg.out" 2>&1 &
bg=$!
wait_for 60 grep -q waiting "$TAP_TMP/bg.out" || true
tap_check "the pod is running" "$(grep -q waiting "$TAP_TMP/bg.out"; echo $?)" "$(cat "$TAP_TMP/bg.out")"
props=$(systemctl show -p DevicePolicy -p DeviceAllow "$SCOPE" 2>&1)
assert_match "the scope has DevicePolicy=closed" "$props" "^DevicePolicy=closed$"
for d in "/dev/null rwm" "/dev/zero rwm" "/dev/full rwm" "/dev/random rwm" "/dev/urandom rwm" \
        "/dev/tty rwm" "/dev/ptmx rwm" "char-pts rw"; do
        assert_match "DeviceAllow=$d" "$props" "^DeviceAllow=.*$d"
done
tap_check "no device cgroup of stage1's own under systemd" \
        "$([ ! -e "$PODDIR/devices-cgroup" ]; echo $?)"
kill -TERM "$bg"
wait "$bg" 2>/dev/null || true

# ---- enforced: an app's mknod and open --------------------------------------------------
new_pod a
write_pod "$(sh_app a 'echo kmsg=$(/bin/pod-probe mknod /tmp/kmsg c 1 11) sda=$(/bin/pod-probe mknod /tmp/sda b 8 0); for d in null:w zero:r full:w random:r urandom:r ptmx:w tty:w; do echo ${d%:*}=$(/bin/pod-probe open /dev/${d%:*} ${d#*:}); done')"
run_stage1
assert_status "allow-list pod runs" 0
assert_match "mknod of a device not on the list fails (EPERM)" "$OUT" "^kmsg=$EPERM sda=$EPERM$"
for d in null zero full random urandom ptmx; do
        assert_match "/dev/$d opens" "$OUT" "^$d=ok$"
done
assert_no_match "/dev/tty is not refused by the list (ENXIO without a terminal)" "$OUT" \
        "^tty=$EPERM$"

# An app with every capability and no seccomp filter mounts a tmpfs without nodev: only the
# list is left between it and /dev/kmsg (1:11; only opened, never written).
escape='mkdir -p /mnt/dev && mount -t tmpfs dev /mnt/dev && echo kmsg=$(/bin/pod-probe mknod /mnt/dev/kmsg c 1 11) kmsgopen=$(/bin/pod-probe open /mnt/dev/kmsg w) null=$(/bin/pod-probe mknod /mnt/dev/null c 1 3) nullopen=$(/bin/pod-probe open /mnt/dev/null w)'
new_pod a
write_pod "$(sh_app a "$escape")"
run_stage1 --disable-capabilities-restriction --disable-seccomp --disable-device-policy
assert_match "without the list (--disable-device-policy), a privileged app opens /dev/kmsg" \
        "$OUT" "^kmsg=ok kmsgopen=ok null=ok nullopen=ok$"
new_pod a
write_pod "$(sh_app a "$escape")"
run_stage1 --disable-capabilities-restriction --disable-seccomp
assert_match "with it, the same app cannot make the node, and /dev/null still works" \
        "$OUT" "^kmsg=$EPERM kmsgopen=2 null=ok nullopen=ok$"

# ---- no system bus: stage1's own cgroup2 BPF program, on a pure cgroup2 host -------------
# (sd_booted() but no bus: no unit, so the path a host without systemd takes.)
new_pod a
write_pod "$(sh_app a "$escape; cat /proc/self/cgroup")"
DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent run_stage1 --disable-capabilities-restriction --disable-seccomp
assert_match "no bus: the list holds, enforced by stage1's own program" "$OUT" \
        "^kmsg=$EPERM kmsgopen=2 null=ok nullopen=ok$"
assert_match "no bus: the app ran in /sys/fs/cgroup/.../pod-<uuid>" "$OUT" "^0::/.*/pod-$UUID$"
cg=$(sed -n "s|^0::\(/.*/pod-$UUID\)$|/sys/fs/cgroup\1|p" <<<"$OUT")
tap_check "no bus: the cgroup is gone when the pod has ended" \
        "$([ -n "$cg" ] && [ ! -e "$cg" ] && [ ! -e "$PODDIR/devices-cgroup" ]; echo $?)" "cg=$cg"

# ---- the terminal on stdout stays reachable through /proc/self/fd -----------------------
# A virtual console (4:N) is no pty: it needs its own DeviceAllow=/dev/char/4:N entry.
if [ -c /dev/tty1 ] && : >/dev/tty1 2>/dev/null; then
        new_pod a
        write_pod "$(sh_app a 'echo reopen=$(/bin/pod-probe open /proc/$$/fd/1 w) >/vol/r; exec /bin/pod-probe wait-term /dev/null 0' '' ',"mounts":[{"volume":"v","path":"/vol"}]')" \
                ',"volumes":[{"name":"v","kind":"empty"}]'
        (
                cd "$PODDIR" || exit 99
                exec 9<.
                flock -x 9
                POD_LOCK_FD=9 exec "$POD_STAGE1" "$UUID"
        ) >/dev/tty1 2>"$TAP_TMP/tty.err" &
        bg=$!
        wait_for 60 test -s "$PODDIR/volumes/v/r" || true
        assert_match "a terminal on stdout is on the scope's DeviceAllow=" \
                "$(systemctl show -p DeviceAllow "$SCOPE" 2>&1)" "/dev/char/$(stat -L -c '%t:%T' /dev/tty1 | { IFS=: read -r a b; echo "$((16#$a)):$((16#$b))"; }) rw"
        kill -TERM "$bg"
        wait "$bg" 2>/dev/null || true
        assert_match "an app reopens the terminal it holds as stdout" \
                "$(cat "$PODDIR/volumes/v/r" 2>/dev/null)" "^reopen=ok$"
fi

# ---- keep-unit: the list goes onto the service -------------------------------------------
unit=pod-devkeep-$$-$RANDOM
new_pod a
write_pod "$(sh_app a "$escape; exec /bin/pod-probe wait-term /dev/null 0")"
systemd-run --quiet --unit="$unit" -p WorkingDirectory="$PODDIR" -p StandardOutput=file:"$TAP_TMP/keep.out" \
        /bin/bash -c "exec 9<.; flock -x 9; POD_LOCK_FD=9 exec $POD_STAGE1 --disable-capabilities-restriction --disable-seccomp $UUID"
wait_for 60 grep -q waiting "$TAP_TMP/keep.out" || true
tap_check "keep-unit: the service is the pod's unit" \
        "$([ "$(cat "$PODDIR/unit" 2>/dev/null)" = "$unit.service" ]; echo $?)"
props=$(systemctl show -p DevicePolicy -p DeviceAllow "$unit.service" 2>&1)
assert_match "keep-unit: DevicePolicy=closed on the service" "$props" "^DevicePolicy=closed$"
assert_match "keep-unit: DeviceAllow= on the service" "$props" "^DeviceAllow=.*char-pts rw"
assert_match "keep-unit: enforced" "$(cat "$TAP_TMP/keep.out")" \
        "^kmsg=$EPERM kmsgopen=2 null=ok nullopen=ok$"
systemctl stop "$unit.service" 2>/dev/null || true

tap_done
