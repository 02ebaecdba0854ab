#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Latency of `pod list` and `pod status` with 1,000 exited pods in the store and 50 running
# ones (issue 5; target in perf-targets.md: pod list <= 50 ms), side by side with floors run
# in the same hyperfine session, so that ratios survive a loaded machine:
#   - `pod list` on an empty store: the process start-up floor every verb pays;
#   - list-floor: a C program doing only the directory walk and per-pod open + flock probe
#     that `pod list` cannot avoid (no reading, no parsing, no output);
#   - `ls -R` of the pods dir without the rootfs trees (`find -maxdepth 3`).
#
# The running pods are real: `pod run --net=none` of a busybox image running `sleep`, in the
# background (root, no systemd needed).  The exited ones are copies of the directory of one
# real exited pod (its manifest, status files and timestamps; not its rootfs), renamed to new
# UUIDs: creating 1,000 real ones would take minutes and measure pod run, not pod list.
#
# Usage: bench/list.sh [BUILD-DIR]   (default: the current directory; needs stage0/pod and
#        stage1/pod-stage1 built there, busybox-static, cc, hyperfine)
# Env:   EXITED (1000), RUNNING (50), RUNS (hyperfine --runs, default 40),
#        BENCH_DIR (work directory; default a new one under ${TMPDIR:-/var/tmp}),
#        POD_BASELINE (another pod binary, e.g. an older build: timed on the same pods, and
#        its output compared with this build's).
# Prints hyperfine's table, then every command's wall and CPU time as ratios to list-floor
# with the load average before and after (python3), then callgrind instruction counts of
# each pod command (valgrind), which do not depend on the load.
# Run it in a private mount namespace (`unshare -m bench/list.sh`) on a shared machine: the
# pods' overlay mounts then stay invisible to other test runs checking for leaked mounts.
set -euo pipefail

B=$(realpath "${1:-.}")
POD=$B/stage0/pod
export POD_STAGE1=$B/stage1/pod-stage1
EXITED=${EXITED:-1000}
RUNNING=${RUNNING:-50}
RUNS=${RUNS:-40}
SRC=$(cd "$(dirname "$0")/.." && pwd)

[ "$(id -u)" = 0 ] || { echo "run as root (pod run)" >&2; exit 1; }
[ -x "$POD" ] && [ -x "$POD_STAGE1" ] || { echo "no pod build in $B" >&2; exit 1; }
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        echo "needs a static busybox (apt-get install busybox-static)" >&2
        exit 1
fi
command -v hyperfine >/dev/null || { echo "needs hyperfine" >&2; exit 1; }

W=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/var/tmp}/pod-bench-list.XXXXXX")}
D=$W/data
P=(--dir="$D" --insecure-options=image)
PIDS=()
cleanup() {
        local u
        for u in "$W"/run-*; do
                [ -s "$u" ] && "$POD" --dir="$D" stop --force "$(cat "$u")" >/dev/null 2>&1
        done
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
        for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
        "$POD" "${P[@]}" gc --grace-period=0s >/dev/null 2>&1 || true
        rm -rf "$W"
}
trap cleanup EXIT

# ---- the image: busybox with sleep and true ----
mkdir -p "$W/img/rootfs/bin" "$W/empty"
cp "$BUSYBOX" "$W/img/rootfs/bin/busybox"
for a in sh sleep true; do ln -s busybox "$W/img/rootfs/bin/$a"; done
printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/bench","app":{"exec":["/bin/true"],"user":"0","group":"0"}}\n' \
        >"$W/img/manifest"
"$POD" image build "$W/img" "$W/bench.aci" >/dev/null
"$POD" "${P[@]}" fetch --quiet "$W/bench.aci" >/dev/null

# ---- exited pods: one real one, copied ----
"$POD" "${P[@]}" run --net=none --uuid-file-save="$W/uuid" "$W/bench.aci" >/dev/null
TEMPLATE=$D/pods/run/$(cat "$W/uuid")
echo "Creating $EXITED exited pods from $TEMPLATE ..." >&2
# Its regular files and status/ (not appsinfo/, overlay/, stage1/: the list never reads
# them), written with shell builtins: a fork per pod costs seconds on a loaded machine.
names=() dirs=()
for i in $(seq 1 "$EXITED"); do
        printf -v u 'aaaa%04d-0000-4000-8000-%012d' "$i" "$i"
        names+=("$u")
        dirs+=("$D/pods/run/$u/status")
done
mkdir -p "${dirs[@]}"
files=() contents=()
while IFS= read -r -d '' f; do
        files+=("$f")
        contents+=("$(cat "$TEMPLATE/$f"; echo x)") # the x keeps trailing newlines
done < <(cd "$TEMPLATE" && find . -maxdepth 1 -type f -printf '%P\0' &&
        find status -maxdepth 1 -type f -print0 2>/dev/null)
for u in "${names[@]}"; do
        for k in "${!files[@]}"; do
                printf '%s' "${contents[$k]%x}" >"$D/pods/run/$u/${files[$k]}"
        done
done
# ...with the template's mtimes (pod-created is the creation time, pid the start time, and
# the summary's run line notes the latter): one touch per file name, not per file.
for k in "${!files[@]}"; do
        paths=()
        for u in "${names[@]}"; do paths+=("$D/pods/run/$u/${files[$k]}"); done
        touch -d "@$(stat -c %.9Y "$TEMPLATE/${files[$k]}")" "${paths[@]}"
done
"$POD" "${P[@]}" rm "$(cat "$W/uuid")" >/dev/null

# ---- running pods: real ones, sleeping ----
echo "Starting $RUNNING running pods ..." >&2
for i in $(seq 1 "$RUNNING"); do
        "$POD" "${P[@]}" run --net=none --uuid-file-save="$W/run-$i" "$W/bench.aci" \
                --exec=/bin/sleep -- 100000 </dev/null >/dev/null 2>&1 &
        PIDS+=($!)
done
for _ in $(seq 600); do
        n=$("$POD" "${P[@]}" list --no-legend | grep -c ' running ' || true)
        [ "$n" = "$RUNNING" ] && break
        sleep 0.2
done
running=$("$POD" "${P[@]}" list --no-legend | grep -c ' running ' || true)
exited=$("$POD" "${P[@]}" list --no-legend | grep -c ' exited ' || true)
echo "pod list sees $exited exited and $running running pods" >&2
if [ "$running" != "$RUNNING" ] || [ "$exited" != "$EXITED" ]; then
        echo "unexpected pod count" >&2
        exit 1
fi

# ---- the floor: the walk and lock probes, nothing else ----
cc -O2 -o "$W/list-floor" "$SRC/bench/list-floor.c"

RUN_UUID=$(cat "$W/run-1")
EXITED_UUID=aaaa0001
baseline=()
if [ -n "${POD_BASELINE:-}" ]; then
        baseline=(-n "baseline: pod list (empty store)" "$POD_BASELINE --dir=$W/empty list"
                -n "baseline: pod list" "$POD_BASELINE --dir=$D list"
                -n "baseline: pod list --format=json" "$POD_BASELINE --dir=$D list --format=json"
                -n "baseline: pod status (running)" "$POD_BASELINE --dir=$D status $RUN_UUID")
        # A faster listing is worth nothing if it shows something else.
        for f in "list --full" "list --format=json" "status $RUN_UUID" "status $EXITED_UUID"; do
                # shellcheck disable=SC2086 # $f is words
                if cmp -s <("$POD" --dir="$D" $f 2>&1) <("$POD_BASELINE" --dir="$D" $f 2>&1); then
                        echo "same output as the baseline: pod $f" >&2
                else
                        echo "DIFFERENT output from the baseline: pod $f" >&2
                fi
        done
fi
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average: $load_before" >&2
hyperfine -N --warmup 3 --runs "$RUNS" --export-markdown "$W/result.md" \
        --export-json "$W/result.json" "${baseline[@]}" \
        -n "pod list (empty store)" "$POD --dir=$W/empty list" \
        -n "list-floor (walk + flock)" "$W/list-floor $D/pods" \
        -n "find -maxdepth 3 (ls -R)" "find $D/pods -maxdepth 3" \
        -n "pod list" "$POD --dir=$D list" \
        -n "pod list --format=json" "$POD --dir=$D list --format=json" \
        -n "pod status (running)" "$POD --dir=$D status $RUN_UUID" \
        -n "pod status (exited)" "$POD --dir=$D status $EXITED_UUID"
load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo "load average: $load_after" >&2
cat "$W/result.md"

# Ratios to list-floor, measured in the same run: wall (mean) and CPU (user + system).
if command -v python3 >/dev/null; then
        python3 - "$W/result.json" "$load_before" "$load_after" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))["results"]
by = {x["command"]: x for x in r}
floor = by["list-floor (walk + flock)"]
fw, fc = floor["mean"], floor["user"] + floor["system"]
print()
print(f"load average: {sys.argv[2]} before, {sys.argv[3]} after")
print()
print("| command | wall mean ms | cpu ms | wall / list-floor | cpu / list-floor |")
print("|---|---|---|---|---|")
for x in r:
    c = x["user"] + x["system"]
    print(f"| {x['command']} | {x['mean'] * 1e3:.1f} | {c * 1e3:.1f} | {x['mean'] / fw:.2f} | {c / fc:.2f} |")
PY
fi

# Instruction counts: callgrind counts what the process executes, whatever the load.
if command -v valgrind >/dev/null; then
        echo
        echo "| callgrind, instructions | pod${POD_BASELINE:+ | baseline} |"
        echo "|---|---|${POD_BASELINE:+---|}"
        ir() {
                valgrind --tool=callgrind --callgrind-out-file=/dev/null "$@" 2>&1 >/dev/null |
                        sed -n 's/.*refs: *//p' | tr -d ,
        }
        for c in "list" "list --format=json" "status $RUN_UUID" "status $EXITED_UUID"; do
                # shellcheck disable=SC2086 # $c is words
                line="| pod $c | $(ir "$POD" --dir="$D" $c)"
                # shellcheck disable=SC2086
                [ -n "${POD_BASELINE:-}" ] && line+=" | $(ir "$POD_BASELINE" --dir="$D" $c)"
                echo "$line |"
        done
fi
