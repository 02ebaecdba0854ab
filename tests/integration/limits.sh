#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --memory and --cpu without systemd (issue 13, "Limits without systemd"): stage1 enforces
# them through the cgroup file system (stage1/limits.c): cgroup v1 controllers (the hybrid
# layout of the development machines) or a cgroup2 hierarchy that can hand them down.  A
# memory hog is killed at its limit while the host lives on; per-app limits hold in a
# two-app pod; the cgroups are gone after the pod.  Under systemd the unit carries the
# limits: tests/vm/test-run-systemd.sh.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts, cgroups)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
[ ! -d /run/systemd/system ] || tap_skip_all "systemd is PID 1: the unit carries the limits"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

# Where this host keeps each controller: a v1 hierarchy (the "N:memory:/path" line of
# /proc/self/cgroup) or cgroup2.
v1_dir() { # v1_dir CONTROLLER: our cgroup in its v1 hierarchy, or nothing
        local line ctrls path
        while IFS= read -r line; do
                ctrls=${line#*:}
                path=${ctrls#*:}
                ctrls=${ctrls%%:*}
                case ",$ctrls," in *",$1,"*)
                        [ -d "/sys/fs/cgroup/$1" ] && echo "/sys/fs/cgroup/$1${path%/}"
                        return
                        ;;
                esac
        done </proc/self/cgroup
}
MEM_V1=$(v1_dir memory)
CPU_V1=$(v1_dir cpu)

IMG=$W/img
mkdir -p "$IMG/rootfs/bin"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh dd cat sleep true head; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/limits",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/img.aci" >/dev/null
run_pod "${P[@]}" --insecure-options=image fetch --quiet "$W/img.aci"
assert_status "the test image is in the store" 0
B=$OUT
# 64 MiB in one buffer, every page written (dd reads /dev/zero into it).
HOG='dd if=/dev/zero of=/dev/null bs=64M count=1 2>/dev/null && echo survived'

if [ -z "$MEM_V1" ] && ! grep -qw memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null &&
        ! grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
        run_pod "${P[@]}" run --net=none "$B" --memory=32M
        assert_status "no memory controller anywhere: the limit is refused" 254
        assert_match "naming the controller" "$ERR" "memory controller"
        tap_done
fi

# ---- the pod-wide memory limit -------------------------------------------------------------
run_pod "${P[@]}" run --net=none "$B" --memory=128M --exec=/bin/sh -- -c "$HOG"
if [ "$STATUS" = 254 ] && [ -z "$MEM_V1" ]; then
        # cgroup2 without systemd: only a cgroup that may hand the controller down works.
        assert_match "cgroup2 that cannot delegate memory: a clear refusal" "$ERR" \
                "cannot hand the memory controller down"
        tap_done
fi
assert_status "64 MiB under a 128 MiB limit: the app runs" 0
assert_match "and finishes" "$OUT" "^survived$"
run_pod "${P[@]}" run --net=none "$B" --memory=32M --exec=/bin/sh -- -c "$HOG"
assert_status "64 MiB under a 32 MiB limit: the OOM killer ends the app (137)" 137
assert_no_match "it did not finish" "$OUT" "survived"

# The cgroup while the pod runs, and nothing left after it.
"$POD" "${P[@]}" run --net=none --uuid-file-save="$W/uuid" "$B" --memory=48Mi --cpu=250m \
        --exec=/bin/sh -- -c 'sleep 30' >/dev/null 2>"$W/bg.err" &
BG=$!
for _ in $(seq 100); do
        [ -s "$W/uuid" ] && [ -e "$D/pods/run/$(cat "$W/uuid")/pid" ] && break
        sleep 0.1
done
U=$(cat "$W/uuid")
INIT=$(cat "$D/pods/run/$U/pid" 2>/dev/null || true)
if [ -n "$MEM_V1" ]; then
        CG=$MEM_V1/pod-$U
        tap_check "the memory cgroup is $CG" "$([ -d "$CG" ]; echo $?)"
        tap_check "its limit is 48 MiB" \
                "$([ "$(cat "$CG/memory.limit_in_bytes" 2>/dev/null)" = 50331648 ]; echo $?)" \
                "$(cat "$CG/memory.limit_in_bytes" 2>&1)"
        tap_check "the pod init is in it" "$(grep -qx "$INIT" "$CG/cgroup.procs"; echo $?)"
fi
if [ -n "$CPU_V1" ]; then
        CC=$CPU_V1/pod-$U
        tap_check "--cpu=250m: a quarter of each period" "$([ "$(cat "$CC/cpu.cfs_quota_us" 2>/dev/null)" = 25000 ] &&
                [ "$(cat "$CC/cpu.cfs_period_us")" = 100000 ]
                echo $?)"
fi
tap_check "the pod dir records its cgroups" "$([ -s "$D/pods/run/$U/limits-cgroups" ]; echo $?)"
run_pod "${P[@]}" stop "$U"
wait "$BG" || true
run_pod "${P[@]}" gc --grace-period=0s
assert_status "gc after the pod" 0
if [ -n "$MEM_V1" ]; then
        tap_check "the memory cgroup is gone" "$([ ! -e "$MEM_V1/pod-$U" ]; echo $?)"
fi
if [ -n "$CPU_V1" ]; then
        tap_check "the cpu cgroup is gone" "$([ ! -e "$CPU_V1/pod-$U" ]; echo $?)"
fi

# ---- per-app limits: two apps, only the limited one is killed ------------------------------
if [ -n "$MEM_V1" ]; then
        run_pod "${P[@]}" run --net=none --volume=out,kind=empty,mode=0777 \
                "$B" --name=free --mount=volume=out,target=/out --exec=/bin/sh -- \
                -c "$HOG > /out/free" \
                --- "$B" --name=tight --memory=32M --mount=volume=out,target=/out \
                --exec=/bin/sh -- -c "$HOG > /out/tight"
        PD=$(find "$D/pods" -mindepth 2 -maxdepth 2 -type d | head -n1)
        U2=$(basename "$PD")
        tap_check "the unlimited app finished" \
                "$(grep -qx survived "$PD/volumes/out/free" 2>/dev/null; echo $?)"
        tap_check "the limited app was killed" \
                "$([ "$(cat "$PD/status/tight" 2>/dev/null)" = 137 ]; echo $?)" \
                "status: $(cat "$PD/status/tight" 2>&1)"
        tap_check "the free app exited 0" "$([ "$(cat "$PD/status/free" 2>/dev/null)" = 0 ]; echo $?)"
        run_pod "${P[@]}" gc --grace-period=0s
        assert_status "gc after the two-app pod" 0
        tap_check "its cgroups are gone" "$([ ! -e "$MEM_V1/pod-$U2" ]; echo $?)"
fi
tap_done
