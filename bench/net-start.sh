#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Added start latency of pod networking: `pod run IMAGE --exec=/bin/true` with --net=none,
# --net=host and --net=default (CNI: bridge + host-local + portmap/masquerade, plus DEL at
# exit), side by side with hyperfine; prints the ratios and the added milliseconds.
#
# Where it runs: as root on the host, with or without systemd as PID 1 (pod runs without
# systemd; the CNI plugins only need root, the bridge and veth modules and iptables), which
# gives the real figures.  Under the VM testbed (tests/vm/run, TCG) the figures are 8-45x
# slower and only the ratios mean something.  It creates the bridge pod0 and leases in
# /var/lib/cni/networks/default like any pod, and removes its pods (pod gc) at the end.
# Needs: root, a static busybox, the CNI plugins (containernetworking-plugins), iptables,
# hyperfine (otherwise a plain loop).
#
# Figures (2026-11-29, cni 31a87fd, the 2-core development host as root without systemd,
# load average 30 from other builds and a TCG VM, RUNS=10; means): --net=none 1665 ms,
# --net=host 1627 ms, --net=default 3821 ms: default/host 2.35x, +2194 ms (bridge + host-local
# + ipMasq iptables at ADD, DEL at exit); none/host 1.02x.  Rerun on a quiet machine.
#
# Usage: bench/net-start.sh [POD-BINARY]   (default: ./stage0/pod of the current build dir)
# Env:   POD_STAGE1 (default: stage1/pod-stage1 next to the binary's stage0/),
#        BENCH_DIR (state directory; default a new dir under ${TMPDIR:-/tmp}),
#        RUNS (hyperfine --runs, default 20).
set -euo pipefail

POD=${1:-./stage0/pod}
POD=$(realpath "$POD")
: "${POD_STAGE1:=$(dirname "$POD")/../stage1/pod-stage1}"
POD_STAGE1=$(realpath "$POD_STAGE1")
export POD_STAGE1
RUNS=${RUNS:-20}
[ "$(id -u)" = 0 ] || { echo "needs root" >&2; exit 1; }
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        echo "needs a static busybox (busybox-static)" >&2
        exit 1
fi

WORK=${BENCH_DIR:-$(mktemp -d "${TMPDIR:-/tmp}/pod-bench-net.XXXXXX")}
D=$WORK/data
cleanup() {
        "$POD" --dir="$D" gc --grace-period=0s >/dev/null 2>&1 || true
        rm -rf "$WORK"
}
trap cleanup EXIT

case $(uname -m) in
x86_64) arch=amd64 ;;
aarch64) arch=arm64 ;;
*) arch=$(uname -m) ;;
esac
mkdir -p "$WORK/img/rootfs/bin"
cp "$BUSYBOX" "$WORK/img/rootfs/bin/busybox"
ln -s busybox "$WORK/img/rootfs/bin/true"
mkdir -p "$WORK/img/rootfs/etc"
echo "root:x:0:0:root:/root:/bin/sh" >"$WORK/img/rootfs/etc/passwd"
echo "root:x:0:" >"$WORK/img/rootfs/etc/group"
cat >"$WORK/img/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/nettrue",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$arch"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
"$POD" image build "$WORK/img" "$WORK/nettrue.aci" >/dev/null
"$POD" --dir="$D" --insecure-options=image fetch --quiet "$WORK/nettrue.aci" >/dev/null 2>&1

# Every mode must work before it is timed.
for net in none host default; do
        if ! "$POD" --dir="$D" run --net="$net" example.com/nettrue >/dev/null 2>"$WORK/err"; then
                echo "pod run --net=$net fails:" >&2
                cat "$WORK/err" >&2
                exit 1
        fi
done

cmds=()
for net in none host default; do
        cmds+=("$POD --dir=$D run --net=$net example.com/nettrue")
done

if command -v hyperfine >/dev/null; then
        hyperfine -N --warmup 2 --runs "$RUNS" --export-json "$WORK/result.json" "${cmds[@]}"
        python3 - "$WORK/result.json" <<'EOF'
import json, sys
r = {x["command"].split("--net=")[1].split()[0]: x for x in json.load(open(sys.argv[1]))["results"]}
def ms(n): return r[n]["mean"] * 1000
def sd(n): return r[n]["stddev"] * 1000
for n in ("none", "host", "default"):
    print(f"--net={n:8} {ms(n):8.1f} ms ± {sd(n):5.1f} (median {r[n]['median'] * 1000:.1f})")
print(f"default/host  {ms('default') / ms('host'):6.2f}x   added {ms('default') - ms('host'):7.1f} ms")
print(f"default/none  {ms('default') / ms('none'):6.2f}x   added {ms('default') - ms('none'):7.1f} ms")
print(f"none/host     {ms('none') / ms('host'):6.2f}x   added {ms('none') - ms('host'):7.1f} ms")
EOF
else
        for c in "${cmds[@]}"; do
                start=$(date +%s%N)
                for _ in $(seq "$RUNS"); do $c >/dev/null; done
                end=$(date +%s%N)
                printf '%-70s %8.2f ms mean\n' "$c" "$(echo "($end - $start) / $RUNS / 1000000" | bc -l)"
        done
fi
