#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Start-to-exit latency of /bin/true from one busybox rootfs: pod next to the raw syscall
# floor and its peers, side by side in ONE hyperfine run, with ratios to `pod run`
# (perf-targets.md; issue 4).  A benchmark, never a timed test: run it by hand.
#
#   bench/start.sh [--install] [--vm [--registration-only]] [--runs=N]   (from the build dir,
#                                                                     after `make all bench-programs`)
#
#   --install  apt-get install the peers first: hyperfine busybox-static crun runc bubblewrap
#              systemd-container podman (the benchmark's only setup; nothing else needs them)
#   --vm       run the comparison inside the VM testbed (tests/vm/run; real systemd PID 1,
#              cgroup2; POD_VM_CACHE as for make check-vm).  Adds `pod run` without a system
#              bus next to `pod run` registering its pod-<uuid>.scope (and machine): their
#              difference is the cost of the systemd registration, which is also timed
#              inside stage1 (its debug log) over --runs pods.  The guest may be emulated
#              (TCG): only the ratios of one run mean anything there.
#   --registration-only
#              with --vm: only the registration timing (no hyperfine run)
#   --runs=N   hyperfine --runs (default 30 on the host, 10 in the VM)
#
# Env: POD, POD_STAGE1, FLOOR (default: the build dir's stage0/pod, stage1/pod-stage1,
#      bench/floor), BENCH_DIR (work dir, default a new one under /var/tmp; deleted at exit),
#      POD_BASELINE (another pod binary, e.g. the branch point's build: "baseline: pod run"
#      in the same hyperfine run; its pod-stage1 from POD_STAGE1_BASELINE, default
#      BUILDDIR/stage1/pod-stage1 next to it).
#
# Contenders (each probed once first; one that cannot run here is skipped with its error):
#   true              busybox true, no isolation: the exec+wait floor (shows the load)
#   floor             bench/floor --net: clone(NEWNS|NEWPID|NEWUTS|NEWIPC|NEWNET), bind mount,
#                     pivot_root, mount /proc, exec (bench/floor.c)
#   floor overlay     the same over an overlayfs (fresh upper+work per run, volatile)
#   pod list (empty --dir), pod-stage1 --version
#                     each binary's start-up alone (dynamic loading): what every run pays
#   pod run           pod run --net=none of the image imported once (--insecure-options=image
#                     at import; the run takes the stored image by its ID)
#   pod run-prepared  only the run half: `pod prepare` happens in hyperfine's --prepare step
#                     (bench/floor --exec-file puts the UUID on the command line: one extra
#                     exec of a static binary, ~0.3 ms)
#   bwrap             bwrap --unshare-all --bind ROOTFS / --proc /proc --dev /dev
#   crun, runc        `crun run` / `runc run` of an OCI bundle of the same rootfs
#                     (config from `runc spec`/`crun spec`: namespaces incl. network)
#   nspawn            systemd-nspawn --register=no --private-network -q -D (its own copy of the
#                     rootfs: nspawn writes /etc/resolv.conf etc. into it)
#   podman            podman run --rm --network=none --rootfs ROOTFS
set -euo pipefail

ME=$(realpath "$0")
SRCDIR=$(dirname "$(dirname "$ME")")
VM=0
REG_ONLY=0
VM_ARGS=()
INSTALL=0
RUNS=
for a in "$@"; do
        case $a in
        --vm) VM=1 ;;
        --registration-only)
                REG_ONLY=1
                VM_ARGS+=("$a")
                ;;
        --install) INSTALL=1 ;;
        --runs=*) RUNS=${a#--runs=} ;;
        --in-vm) VM=2 ;; # internal: the script re-run inside the guest
        -h | --help)
                sed -n '3,/^set -euo/p' "$ME" | sed '$d; s/^# \{0,1\}//'
                exit 0
                ;;
        *)
                echo "start.sh: unknown argument '$a' (see --help)" >&2
                exit 2
                ;;
        esac
done

if [ "$INSTALL" = 1 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q hyperfine busybox-static crun runc \
                bubblewrap systemd-container podman
fi

POD=$(realpath "${POD:-./stage0/pod}")
POD_STAGE1=$(realpath "${POD_STAGE1:-./stage1/pod-stage1}")
FLOOR=$(realpath "${FLOOR:-./bench/floor}")
export POD_STAGE1
for f in "$POD" "$POD_STAGE1" "$FLOOR"; do
        [ -x "$f" ] || {
                echo "start.sh: '$f' is missing: run from the build dir after" \
                        "'make all bench-programs' (or set POD, POD_STAGE1, FLOOR)" >&2
                exit 1
        }
done

if [ "$VM" = 1 ]; then
        # The guest has no hyperfine: the host's (libc, libm, libgcc_s only) goes along in a
        # shared directory.  Work files stay on the guest's own disk.
        BUILDDIR=$(dirname "$(dirname "$POD")")
        HF=$(command -v hyperfine) || {
                echo "start.sh: --vm needs hyperfine on the host" >&2
                exit 1
        }
        mkdir -p "$BUILDDIR/bench/.vm-bin"
        cp "$HF" "$BUILDDIR/bench/.vm-bin/hyperfine"
        echo "host load before the VM run: $(cut -d' ' -f1-3 /proc/loadavg)"
        rc=0
        (cd "$BUILDDIR" && "$SRCDIR/tests/vm/run" --timeout 3000 --share "$SRCDIR" \
                --share "$BUILDDIR" --env POD="$POD" --env POD_STAGE1="$POD_STAGE1" \
                --env FLOOR="$FLOOR" --env PATH="$BUILDDIR/bench/.vm-bin:/usr/sbin:/usr/bin:/sbin:/bin" \
                -- "$ME" --in-vm ${RUNS:+"--runs=$RUNS"} "${VM_ARGS[@]}") || rc=$?
        echo "host load after the VM run: $(cut -d' ' -f1-3 /proc/loadavg)"
        rm -rf "$BUILDDIR/bench/.vm-bin"
        exit "$rc"
fi

[ "$(id -u)" = 0 ] || {
        echo "start.sh: needs root (namespaces, mounts)" >&2
        exit 1
}
for t in hyperfine python3 busybox; do
        command -v "$t" >/dev/null || {
                echo "start.sh: '$t' is needed (--install)" >&2
                exit 1
        }
done
BUSYBOX=$(command -v busybox)
if ldd "$BUSYBOX" >/dev/null 2>&1; then
        echo "start.sh: busybox must be static (busybox-static)" >&2
        exit 1
fi
: "${RUNS:=$([ "$VM" = 2 ] && echo 10 || echo 30)}"

W=${BENCH_DIR:-$(mktemp -d /var/tmp/pod-bench-start.XXXXXX)}
mkdir -p "$W"
W=$(realpath "$W")
NS_MOUNTED=0
cleanup() {
        # Exited pods hold no mounts; the floor's and the peers' mounts die with their
        # namespaces.  Only the saved mount namespace (crun, podman) is mounted.
        if [ "$NS_MOUNTED" = 1 ]; then
                umount "$W/mntns" 2>/dev/null || true
                umount "$W" 2>/dev/null || true
        fi
        rm -rf "$W"
}
trap cleanup EXIT

# ---- the rootfs: static busybox, /bin/true ----
R=$W/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/root" "$R/usr/lib"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh true sleep; do ln -s busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf 'ID=busybox\nNAME=busybox\n' >"$R/usr/lib/os-release" # nspawn wants an OS tree
cp -a "$R" "$W/rootfs-nspawn"
mkdir -p "$W/ovl/mnt"

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- pod: the image, imported once ----
D=$W/pod
mkdir -p "$W/img"
cp -a "$R" "$W/img/rootfs"
cat >"$W/img/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/bench-true",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
"$POD" image build "$W/img" "$W/true.aci" >/dev/null
# The stored image by its ID: an image imported without a signature check is not taken by
# name without --insecure-options=image (which would warn on every run).
IMAGE=$("$POD" --dir="$D" --insecure-options=image image import "$W/true.aci")

registration() {
        # The registration itself, timed inside stage1 (its debug log): "unit" = connecting to
        # the bus and StartTransientUnit up to the job's JobRemoved, "machine" =
        # RegisterMachine with systemd-machined.  Hyperfine's difference above is
        # too noisy under TCG to resolve a few milliseconds.
        for _ in $(seq "$RUNS"); do
                POD_LOG_LEVEL=debug "$POD" --dir="$D" run --net=none --no-keep-unit "$IMAGE" 2>&1 |
                        sed -n 's/.*systemd registration (unit, machine) took \([0-9]*\) us (unit \([0-9]*\) us, machine \([0-9]*\) us).*/\1 \2 \3/p'
        done >"$W/reg"
        echo "systemd registration inside stage1, $(wc -l <"$W/reg") of $RUNS runs logged (ms):"
        for col in 1 2 3; do
                name=$(echo "total unit machine" | cut -d' ' -f"$col")
                cut -d' ' -f"$col" "$W/reg" | sort -n | awk -v name="$name" '{ a[NR] = $1 } END {
                        if (NR) printf "  %-8s median %7.1f  min %7.1f  max %7.1f\n", name,
                                a[int((NR + 1) / 2)] / 1000, a[1] / 1000, a[NR] / 1000 }'
        done
}
if [ "$REG_ONLY" = 1 ]; then
        registration
        exit 0
fi

# ---- the contenders: NAME, PREPARE, COMMAND (one string each, split by hyperfine -N) ----
NAMES=()
PREPS=()
CMDS=()
SKIPPED=()
# try NAME PREPARE COMMAND: probe once (60 s limit); keep it if it exits 0, else skip it
# with the first lines of its error.
try() {
        local err
        bash -c "$2" >/dev/null 2>&1 || true
        # shellcheck disable=SC2086 # word splitting is the point: hyperfine -N does the same
        if err=$(timeout 60 $3 2>&1 >/dev/null </dev/null); then
                NAMES+=("$1")
                PREPS+=("$2")
                CMDS+=("$3")
                return 0
        fi
        SKIPPED+=("$1: $(printf '%s' "$err" | grep -v '^$' | head -n 2 | tr '\n' ' ' | cut -c1-160)")
        return 1
}
have() {
        command -v "$1" >/dev/null || {
                SKIPPED+=("$1: not installed (--install)")
                return 1
        }
}

# The process start-up floor without any isolation: how loaded the machine is.
try "true (no isolation)" true "$R/bin/busybox true"
try "floor" true "$FLOOR --net $R /bin/true"
try "floor overlay" true "$FLOOR --net --overlay=$W/ovl $R /bin/true"
# Where pod's time goes: stage0's and stage1's process start-up alone (dynamic linking).
# (`pod --version` is no longer that: it loads every on-demand library to print versions.)
mkdir -p "$W/empty"
try "pod list, empty --dir" true "$POD --dir=$W/empty list"
try "pod-stage1 --version" true "$POD_STAGE1 --version"
try "pod run" true "$POD --dir=$D run --net=none $IMAGE"
POD_REF="pod run"
if [ -n "${POD_BASELINE:-}" ]; then
        # Another build (e.g. the branch point), in the same hyperfine run: its own store in
        # a --dir of its own, the same image (same ID), its own pod-stage1.
        BASE_S1=$(realpath "${POD_STAGE1_BASELINE:-$(dirname "$(dirname "$POD_BASELINE")")/stage1/pod-stage1}")
        POD_STAGE1="$BASE_S1" "$POD_BASELINE" --dir="$W/pod-baseline" --insecure-options=image \
                image import "$W/true.aci" >/dev/null
        try "baseline: pod run" true \
                "env POD_STAGE1=$BASE_S1 $POD_BASELINE --dir=$W/pod-baseline run --net=none $IMAGE" || true
fi
if [ "$VM" = 2 ]; then
        # In the VM, `pod run` registers pod-<uuid>.scope and the machine.  The same without
        # a reachable system bus runs unregistered; both through env(1), so they differ only
        # in the registration.  --no-keep-unit: a scope even if this shell were a service.
        try "pod run (scope+machine)" true \
                "env POD_BENCH=1 $POD --dir=$D run --net=none --no-keep-unit $IMAGE"
        try "pod run (no bus)" true \
                "env DBUS_SYSTEM_BUS_ADDRESS=unix:path=/nonexistent $POD --dir=$D run --net=none $IMAGE"
fi
try "pod run-prepared" "bash -c '$POD --dir=$D prepare --quiet $IMAGE >$W/uuid'" \
        "$FLOOR --exec-file $W/uuid $POD --dir=$D run-prepared --net=none {}" || true
if have bwrap; then
        try "bwrap" true "bwrap --unshare-all --bind $R / --proc /proc --dev /dev /bin/true" || true
fi
OCI=$W/oci
if command -v runc >/dev/null || command -v crun >/dev/null; then
        mkdir -p "$OCI"
        (cd "$OCI" && { runc spec 2>/dev/null || crun spec; })
        python3 - "$OCI/config.json" "$R" <<'EOF'
import json, sys
p, root = sys.argv[1], sys.argv[2]
c = json.load(open(p))
c["root"] = {"path": root, "readonly": True}
c["process"]["args"] = ["/bin/true"]
c["process"]["terminal"] = False
json.dump(c, open(p, "w"), indent=1)
EOF
fi
# crun refuses the hybrid cgroup layout of hosts whose cgroup2 mount holds a controller
# ("cgroups in hybrid mode not supported"), even with --cgroup-manager=disabled.  When it does,
# crun (and podman, which runs crun) are measured in a mount namespace made once, in which
# the cgroup2 mount (/sys/fs/cgroup/unified) is detached: `nsenter --mount=NS` adds one exec
# and a setns(), measured alone as "nsenter (overhead)".
NSENTER=()
if command -v crun >/dev/null && ! err=$(crun run --bundle="$OCI" pod-bench-crun 2>&1 >/dev/null) &&
        grep -q 'hybrid mode' <<<"$err" && mountpoint -q /sys/fs/cgroup/unified; then
        mount --bind "$W" "$W"
        mount --make-private "$W"
        NS_MOUNTED=1
        : >"$W/mntns"
        unshare --mount="$W/mntns" --propagation=private umount -l /sys/fs/cgroup/unified
        NSENTER=(nsenter "--mount=$W/mntns")
        SKIPPED+=("crun (as is): $err: measured with the cgroup2 mount detached (nsenter)")
        try "nsenter (overhead)" true "${NSENTER[*]} /bin/true" || true
fi
if have crun; then
        try "crun" true "${NSENTER[*]} crun run --bundle=$OCI pod-bench-crun" || true
        try "crun --cgroup-manager=disabled" true \
                "${NSENTER[*]} crun --cgroup-manager=disabled run --bundle=$OCI pod-bench-crun" || true
fi
if have runc; then
        try "runc" true "runc run --bundle=$OCI pod-bench-runc" || true
fi
if have systemd-nspawn; then
        # --keep-unit: without a system bus (no systemd PID 1) nspawn cannot allocate a scope.
        try "nspawn" true "systemd-nspawn --register=no --keep-unit --private-network -q -D $W/rootfs-nspawn /bin/true" ||
                true
fi
if have podman; then
        # podman's default rlimits (nofile, nproc) exceed the hard limits here and raising
        # them needs CAP_SYS_RESOURCE, which these hosts' root lacks: ask for values within.
        try "podman" true "${NSENTER[*]} podman run --rm --network=none --ulimit=nofile=1024:$(ulimit -Hn) --ulimit=nproc=1024:1024 --rootfs $R /bin/true" ||
                true
fi

for s in "${SKIPPED[@]}"; do echo "skipped: $s"; done
args=()
for i in "${!NAMES[@]}"; do
        args+=(-n "${NAMES[$i]}" --prepare "${PREPS[$i]}" "${CMDS[$i]}")
done
echo "kernel $(uname -r), $(nproc) CPUs, load before: $(cut -d' ' -f1-3 /proc/loadavg)"
hyperfine -N --warmup 3 --runs "$RUNS" --style basic --export-json "$W/hf.json" "${args[@]}" \
        >"$W/hf.out" 2>&1 || {
        cat "$W/hf.out"
        exit 1
}
echo "load after: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$W/hf.json" "$POD_REF" "$RUNS" <<'EOF'
import json, sys
res = json.load(open(sys.argv[1]))["results"]
ref = next((r for r in res if r["command"] == sys.argv[2]), None)
print(f"start-to-exit of /bin/true, hyperfine -N, {sys.argv[3]} runs each; times in ms;")
print("cpu = user+system of the process tree (does not depend on the load as wall time does);")
print("ratios: each / pod run (so crun 0.33 = crun takes a third of pod's time)")
print(f"  {'':34} {'mean':>7} {'±sd':>6} {'median':>7} {'min':>7} {'cpu':>7}  "
      f"{'median ratio':>12} {'cpu ratio':>9}")
for r in res:
    ms = lambda k: r[k] * 1000
    cpu = r["user"] + r["system"]
    ratio = f"{r['median'] / ref['median']:.2f}" if ref else "-"
    cratio = f"{cpu / (ref['user'] + ref['system']):.2f}" if ref else "-"
    print(f"  {r['command']:34} {ms('mean'):7.2f} {ms('stddev'):6.2f} {ms('median'):7.2f} "
          f"{ms('min'):7.2f} {cpu * 1000:7.2f}  {ratio:>12} {cratio:>9}")
EOF
if [ "$VM" = 2 ]; then
        registration
fi
