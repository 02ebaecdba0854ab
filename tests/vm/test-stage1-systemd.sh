#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod-stage1 under a real systemd (runs in the VM testbed, tests/vm/suite): the transient
# scope, machined registration, MemoryMax enforced, keep-unit mode with limits set on the
# service, one journal stream per app, and systemctl stop reaching the apps.
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

wait_for() { # wait_for SECONDS COMMAND...: polls every 0.1 s
        local i
        for ((i = 0; i < $1 * 10; i++)); do
                "${@:2}" && return 0
                sleep 0.1
        done
        return 1
}

journal_has() { # journal_has UNIT TEXT
        journalctl --sync 2>/dev/null || true
        journalctl --no-pager -o cat _SYSTEMD_UNIT="$1" 2>/dev/null | grep -q -- "$2"
}

# start_stage1: runs the pod in $PODDIR in the background, holding its lock.
S1=
start_stage1() {
        (
                cd "$PODDIR" || exit 99
                exec 9<.
                flock -x 9
                POD_LOCK_FD=9 exec "$POD_STAGE1" "$UUID"
        ) >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr" &
        S1=$!
}

finish_stage1() {
        set +e
        wait "$S1"
        STATUS=$?
        set -e
        ERR=$(cat "$TAP_TMP/stderr")
}

# ---- scope and machined ----------------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/sh","-c","cat /proc/self/cgroup; exec /bin/pod-probe wait-term /dev/null 42"]')" \
        ',"isolators":[{"name":"resource/memory","value":{"limit":"64Mi"}},{"name":"resource/cpu","value":{"limit":"500m"}}]'
start_stage1
wait_for 30 grep -q waiting "$TAP_TMP/stdout" || true
tap_check "the pod is running" "$(grep -q waiting "$TAP_TMP/stdout"; echo $?)" "$(cat "$TAP_TMP/stderr")"
tap_check "the unit file names the scope" "$([ "$(cat "$PODDIR/unit" 2>/dev/null)" = "$SCOPE" ]; echo $?)"
assert_match "the app runs in the scope, in machine.slice" "$(cat "$TAP_TMP/stdout")" "machine\.slice/$SCOPE"
assert_match "the scope is active" "$(systemctl is-active "$SCOPE" 2>&1)" "^active$"
assert_match "MemoryMax from resource/memory" "$(systemctl show -P MemoryMax "$SCOPE")" "^67108864$"
assert_match "CPUQuota from resource/cpu" "$(systemctl show -P CPUQuotaPerSecUSec "$SCOPE")" "^500ms$"
assert_match "Delegate=yes" "$(systemctl show -P Delegate "$SCOPE")" "^yes$"
assert_match "CollectMode=inactive-or-failed" "$(systemctl show -P CollectMode "$SCOPE")" "^inactive-or-failed$"
if busctl status org.freedesktop.machine1 >/dev/null 2>&1; then
        assert_match "registered with machined as a container" \
                "$(machinectl show -p Class --value "pod-$UUID" 2>&1)" "^container$"
        assert_match "machined's leader is the pod init (pid file)" \
                "$(machinectl show -p Leader --value "pod-$UUID" 2>&1)" "^$(cat "$PODDIR/pid")$"
        assert_match "machined uses the pod's scope" \
                "$(machinectl show -p Unit --value "pod-$UUID" 2>&1)" "^$SCOPE$"
else
        tap_check "systemd-machined is installed in the testbed" 1
fi
# systemctl stop: SIGTERM reaches the app, which records its status.
systemctl stop "$SCOPE" || true
finish_stage1
tap_check "systemctl stop of the scope stops the app with SIGTERM" \
        "$([ "$(cat "$PODDIR/status/a" 2>/dev/null)" = 42 ]; echo $?)" "status $STATUS; $ERR"

# ---- MemoryMax is enforced --------------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/dd","if=/dev/zero","of=/dev/null","bs=200M","count=1"]')" \
        ',"isolators":[{"name":"resource/memory","value":{"limit":"64Mi"}}]'
start_stage1
finish_stage1
assert_status "an app allocating 200M in a 64Mi pod is OOM-killed (128+9)" 137

# ---- keep-unit: stage1 as a service's main process ----------------------------------------
unit=pod-keep-$$-$RANDOM
new_pod a
write_pod "$(app_json a '["/bin/sh","-c","cat /proc/self/cgroup; exec /bin/pod-probe wait-term /dev/null 42"]')" \
        ',"isolators":[{"name":"resource/memory","value":{"limit":"96Mi"}}]'
systemd-run --quiet --unit="$unit" -p WorkingDirectory="$PODDIR" \
        /bin/bash -c "exec 9<.; flock -x 9; POD_LOCK_FD=9 exec $POD_STAGE1 $UUID"
wait_for 30 test -e "$PODDIR/unit" || true
tap_check "keep-unit: the service is the pod's unit" \
        "$([ "$(cat "$PODDIR/unit" 2>/dev/null)" = "$unit.service" ]; echo $?)"
tap_check "keep-unit: no scope was created" "$(if systemctl is-active --quiet "$SCOPE"; then echo 1; else echo 0; fi)"
assert_match "keep-unit: limits set on the service" "$(systemctl show -P MemoryMax "$unit.service")" "^100663296$"
# The probe says "waiting" (into the journal) once its SIGTERM handler is in place.
wait_for 60 journal_has "$unit.service" waiting || true
systemctl stop "$unit.service" || true
tap_check "keep-unit: systemctl stop reaches the app" \
        "$([ "$(cat "$PODDIR/status/a" 2>/dev/null)" = 42 ]; echo $?)"

# ---- one journal stream per app ---------------------------------------------------------
marker="pod-stage1-journal-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
new_pod jtesta jtestb
write_pod "$(sh_app jtesta "echo $marker-a"),$(sh_app jtestb "echo $marker-b")"
tap_ok "stage1 runs as a service with its output in the journal" -- \
        systemd-run --quiet --wait -p WorkingDirectory="$PODDIR" -p StandardOutput=journal \
        /bin/bash -c "exec 9<.; flock -x 9; POD_LOCK_FD=9 exec $POD_STAGE1 $UUID"
journal_a="" journal_b=""
for _ in $(seq 1 20); do
        journalctl --sync 2>/dev/null || true
        journal_a=$(journalctl --no-pager -o cat -t jtesta 2>&1)
        journal_b=$(journalctl --no-pager -o cat -t jtestb 2>&1)
        grep -q -- "$marker-b" <<<"$journal_b" && break
        sleep 0.5
done
assert_match "journalctl -t <app> shows app a's output" "$journal_a" "^$marker-a\$"
assert_match "journalctl -t <app> shows app b's output" "$journal_b" "^$marker-b\$"
assert_no_match "each app has its own stream" "$journal_a" "$marker-b"

tap_done
