#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The pod summary's run line (issue 16; src/podsummary.h) under a real systemd and a CNI
# network: stage1 writes "unit" and "net-info.json" before "pid", so the run line it adds
# right after "pid" says both exist, and `pod list` / `pod status` show the unit and the
# network exactly as they do with the summary removed (when they read the files).
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
# shellcheck source=tests/vm/net-lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vm/net-lib.sh"

net_prereqs
net_image

start_pod A "$B"
skip_unless_cni "$(cat "$W/err.A")"
tap_check "a pod runs on the default network" "$(pod_state_is "$UUID_A" running; echo $?)" \
        "$(tail -5 "$W/err.A")"
PD=$D/pods/run/$UUID_A
tap_check "stage1 registered a unit (the unit file)" "$([ -s "$PD/unit" ]; echo $?)"
tap_check "the run line: the pid, and unit and net-info.json present" \
        "$(grep -qP "^run\t$(cat "$PD/pid")\t[0-9]+\t[0-9]+\t1\t1\$" "$PD/pod-summary"; echo $?)" \
        "$(cat "$PD/pod-summary" 2>&1)"

snap() {
        local f
        for f in "list --full --no-legend" "list --format=json" "status $UUID_A" \
                "status --format=json $UUID_A"; do
                # shellcheck disable=SC2086 # $f is words
                run_pod "${P[@]}" $f
                printf '== %s (%s)\n%s\n' "$f" "$STATUS" "$OUT"
        done
}
with=$(snap)
mv "$PD/pod-summary" "$W/summary"
without=$(snap)
mv "$W/summary" "$PD/pod-summary"
tap_check "list and status: the same with and without the summary" \
        "$([ "$with" = "$without" ]; echo $?)" "$(diff <(echo "$with") <(echo "$without"))"
assert_match "list shows the unit and the network" "$with" \
        "default:ip4=172\.16\.28\.[0-9]+ +$(cat "$PD/unit")"

run_pod "${P[@]}" stop "$UUID_A"
wait_pod_exit A
with=$(snap)
mv "$PD/pod-summary" "$W/summary"
without=$(snap)
tap_check "after the pod exited: the same with and without the summary" \
        "$([ "$with" = "$without" ]; echo $?)" "$(diff <(echo "$with") <(echo "$without"))"
tap_done
