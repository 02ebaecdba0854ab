#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The testbed's own smoke tests: what pod relies on from a real systemd PID 1.  Runs in
# the VM (tests/vm/suite); on a host without systemd as PID 1 these fail by design.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

# (d) PID 1 and the cgroup v2 hierarchy with its memory controller.
pid1=$(cat /proc/1/comm)
tap_check "PID 1 is systemd" "$([ "$pid1" = systemd ] && echo 0 || echo 1)" "PID 1 is '$pid1'"
fstype=$(stat -f -c %T /sys/fs/cgroup)
tap_check "/sys/fs/cgroup is cgroup2" "$([ "$fstype" = cgroup2fs ] && echo 0 || echo 1)" \
        "filesystem type '$fstype'"
controllers=$(cat /sys/fs/cgroup/cgroup.controllers 2>&1)
assert_match "the memory controller is available" "$controllers" '(^| )memory( |$)'
assert_match "systemd reports itself running" \
        "$(systemctl is-system-running 2>&1)" '^(running|degraded)$'

# (a) MemoryMax= on a transient scope is enforced by the kernel: the hog is OOM-killed.
hog='
import sys
chunks = []
for step in range(1, 21):
    chunks.append(bytearray(10 * 1024 * 1024))
    print(step * 10, "MB", flush=True)
'
set +e
systemd-run --scope --quiet -p MemoryMax=64M -p MemorySwapMax=0 \
        python3 -c "$hog" >"$TAP_TMP/hog" 2>&1
status=$?
set -e
tap_check "a memory hog in a MemoryMax=64M scope is killed (status 137)" \
        "$([ "$status" = 137 ] && echo 0 || echo 1)" "status $status; $(tail -n 5 "$TAP_TMP/hog")"
reached=$(grep -c ' MB$' "$TAP_TMP/hog" || true)
tap_check "the hog allocated something before it was killed" \
        "$([ "$reached" -ge 1 ] && echo 0 || echo 1)" "$(cat "$TAP_TMP/hog")"
tap_check "the hog never reached 200 MB" \
        "$(grep -q '^200 MB$' "$TAP_TMP/hog" && echo 1 || echo 0)" "$(cat "$TAP_TMP/hog")"

# (b) The journal records a transient service's output under its unit name.
unit=pod-vm-smoke-$$-$RANDOM
marker="pod-vm-marker-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
tap_ok "systemd-run --unit=$unit --wait runs a service" -- \
        systemd-run --quiet --wait --unit="$unit" /bin/sh -c "echo $marker; echo $marker-err >&2"
journal=""
for _ in $(seq 1 20); do
        journalctl --sync 2>/dev/null || true
        journal=$(journalctl --no-pager -o cat -u "$unit" 2>&1)
        grep -q -- "$marker-err" <<<"$journal" && break
        sleep 0.5
done
assert_match "journalctl -u shows the service's stdout" "$journal" "^$marker\$"
assert_match "journalctl -u shows the service's stderr" "$journal" "^$marker-err\$"

# (c) systemd-machined answers on D-Bus.
tap_ok "machinectl list answers" -- machinectl list --no-pager

tap_done
