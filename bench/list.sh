#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Latency of `pod list` and `pod status` over 1,000 exited pods plus 50 running ones (their
# locks held by one flock(1)-style holder process).  Target (perf-targets.md): pod list
# <= 50 ms.  `pod list` on an empty tree is measured too: it is the process start-up floor
# (dynamic linking of libsystemd, gpgme, curl, ...) that every verb pays.
#
# Usage: bench/list.sh [POD-BINARY]   (default: ./stage0/pod of the current build dir)
# Env:   BENCH_DIR (where to create the pods; default a new dir under ${TMPDIR:-/tmp}),
#        EXITED (1000), RUNNING (50), RUNS (hyperfine --runs, default 30).
set -euo pipefail

POD=${1:-./stage0/pod}
POD=$(realpath "$POD")
EXITED=${EXITED:-1000}
RUNNING=${RUNNING:-50}
RUNS=${RUNS:-30}
command -v flock >/dev/null || { echo "flock(1) is needed" >&2; exit 1; }

WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/pod-bench-list.XXXXXX")}
HOLDER=
cleanup() {
        [ -n "$HOLDER" ] && kill "$HOLDER" 2>/dev/null
        rm -rf "$WORK"
}
trap cleanup EXIT

D=$WORK/data
EMPTY=$WORK/empty
mkdir -p "$D/pods"/{embryo,prepare,prepared,run,exited-garbage,garbage} "$EMPTY"

mkpod() { # mkpod UUID APP
        local dir=$D/pods/run/$1
        mkdir -p "$dir/status"
        printf '{"acKind":"PodManifest","acVersion":"0.8.11","apps":[{"name":"%s","image":{"name":"example.com/%s","id":"sha512-%0128d","labels":[{"name":"version","value":"1.0"}]},"app":{"exec":["/bin/true"],"user":"0","group":"0"}}],"volumes":[],"isolators":[],"annotations":[],"ports":[]}\n' \
                "$2" "$2" 0 >"$dir/pod"
        : >"$dir/pod-created"
        echo $((100000 + ${1:0:4})) >"$dir/pid"
        echo "pod-$1.scope" >"$dir/unit"
        echo 0 >"$dir/status/$2"
}

echo "Creating $EXITED exited and $RUNNING running pods in $D ..." >&2
for i in $(seq 1 $((EXITED + RUNNING))); do
        mkpod "$(printf '%08d-0000-4000-8000-%012d' "$i" "$i")" "app$((i % 97))"
done

# One process holds the locks of the RUNNING last pods, like 50 stage1 inits would.
locks=()
for i in $(seq $((EXITED + 1)) $((EXITED + RUNNING))); do
        locks+=("$D/pods/run/$(printf '%08d-0000-4000-8000-%012d' "$i" "$i")")
done
# shellcheck disable=SC2016
bash -c 'for d in "$@"; do exec {fd}<"$d"; flock -x "$fd"; done; exec sleep 100000' holder \
        "${locks[@]}" </dev/null >/dev/null 2>&1 &
HOLDER=$!
for _ in $(seq 500); do
        flock -n -s "${locks[-1]}" true 2>/dev/null || break
        sleep 0.01
done

running=$("$POD" --dir="$D" list --no-legend | grep -c ' running ' || true)
exited=$("$POD" --dir="$D" list --no-legend | grep -c ' exited ' || true)
echo "pod list sees $exited exited and $running running pods" >&2
if [ "$running" != "$RUNNING" ] || [ "$exited" != "$EXITED" ]; then
        echo "unexpected pod count" >&2
        exit 1
fi

STATUS_UUID=$(printf '%08d' $((EXITED + 1)))
cmds=("$POD --dir=$EMPTY list"
        "$POD --dir=$D list"
        "$POD --dir=$D list --full --format=json"
        "$POD --dir=$D status $STATUS_UUID"
        "$POD --dir=$D status $(printf '%08d' 1)")

if command -v hyperfine >/dev/null; then
        hyperfine -N --warmup 3 --runs "$RUNS" "${cmds[@]}"
else
        for c in "${cmds[@]}"; do
                start=$(date +%s%N)
                for _ in $(seq "$RUNS"); do $c >/dev/null; done
                end=$(date +%s%N)
                printf '%-70s %8.2f ms mean\n' "$c" "$(echo "($end - $start) / $RUNS / 1000000" | bc -l)"
        done
fi
