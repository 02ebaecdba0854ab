#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Resident memory of the runtime's own long-lived processes while a pod (or a peer's
# container) runs `sleep`: VmRSS from /proc/PID/status, Rss/Pss/private from
# /proc/PID/smaps_rollup, per process and in total, the app itself left out.  Target
# (perf-targets.md): each stage1 process of a running pod <= 1 MiB resident.
# A benchmark, not a test: run it by hand as root from the build dir.
#
#   bench/rss.sh            Env: POD, POD_STAGE1 (default: ./stage0/pod, ./stage1/pod-stage1),
#                                BENCH_DIR (default a new dir under /var/tmp, deleted at exit)
#
# Peers measured the same way when installed (nothing else is needed from them): bwrap
# --unshare-all, systemd-nspawn --register=no.  crun/runc run keep no process of their own
# (conmon does that for podman).
set -euo pipefail

POD=$(realpath "${POD:-./stage0/pod}")
POD_STAGE1=$(realpath "${POD_STAGE1:-./stage1/pod-stage1}")
export POD_STAGE1
if [ ! -x "$POD" ] || [ ! -x "$POD_STAGE1" ]; then
        echo "rss.sh: run from the build dir (or set POD, POD_STAGE1)" >&2
        exit 1
fi
[ "$(id -u)" = 0 ] || {
        echo "rss.sh: needs root" >&2
        exit 1
}
BUSYBOX=$(command -v busybox) || {
        echo "rss.sh: needs busybox-static" >&2
        exit 1
}
W=${BENCH_DIR:-$(mktemp -d /var/tmp/pod-bench-rss.XXXXXX)}
mkdir -p "$W"
W=$(realpath "$W")
BG=()
cleanup() {
        for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$W"
}
trap cleanup EXIT

R=$W/rootfs
mkdir -p "$R/bin" "$R/etc" "$R/proc" "$R/sys" "$R/dev" "$R/tmp" "$R/usr/lib"
cp "$BUSYBOX" "$R/bin/busybox"
for a in sh true sleep; do ln -s busybox "$R/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
printf 'ID=busybox\nNAME=busybox\n' >"$R/usr/lib/os-release"
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
mkdir -p "$W/img"
cp -a "$R" "$W/img/rootfs"
cat >"$W/img/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/bench-sleep",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sleep","100000"],"user":"0","group":"0"}}
EOF
"$POD" image build "$W/img" "$W/sleep.aci" >/dev/null
"$POD" --dir="$W/pod" --insecure-options=image image import "$W/sleep.aci" >/dev/null

kib() { # kib PID FILE FIELD: the field's value in kB, 0 if absent
        awk -v f="$3:" '$1 == f { v = $2 } END { print v + 0 }' "/proc/$1/$2" 2>/dev/null || echo 0
}
is_app() { # is_app PID: the `sleep` app (its comm may be busybox: the app is exec'd by fd)
        local a
        a=$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null) || return 1
        case $a in
        "/bin/sleep "* | "sleep "*) return 0 ;;
        esac
        return 1
}
descendants() { # the PID and every process below it
        local p
        echo "$1"
        for p in $(ps -o pid= --ppid "$1"); do descendants "$p"; done
}
# report NAME PID: every process of the tree except the `sleep` app
report() {
        local p comm rss pss priv files trss=0 tpss=0 n=0
        echo "$1 (load $(cut -d' ' -f1-3 /proc/loadavg)):"
        printf '  %-8s %-16s %8s %8s %8s %6s  %s\n' PID COMM VmRSS Pss Private maps "mapped files"
        for p in $(descendants "$2"); do
                comm=$(cat "/proc/$p/comm" 2>/dev/null) || continue
                is_app "$p" && continue
                rss=$(kib "$p" status VmRSS)
                pss=$(kib "$p" smaps_rollup Pss)
                priv=$(($(kib "$p" smaps_rollup Private_Clean) + $(kib "$p" smaps_rollup Private_Dirty)))
                files=$(awk '$6 ~ /^\// { print $6 }' "/proc/$p/maps" | sort -u | xargs -r -n1 basename | tr '\n' ' ')
                printf '  %-8s %-16s %5d kB %5d kB %5d kB %6d  %s\n' "$p" "$comm" "$rss" "$pss" "$priv" \
                        "$(wc -l <"/proc/$p/maps")" "$files"
                trss=$((trss + rss))
                tpss=$((tpss + pss))
                n=$((n + 1))
        done
        printf '  total of %d runtime processes: VmRSS %d kB, Pss %d kB\n' "$n" "$trss" "$tpss"
        if [ "$DETAIL" = 1 ]; then
                p=$2
                echo "  resident mappings of $p (kB; file-backed pages are shared by every process mapping the file):"
                awk '/^[0-9a-f]+-[0-9a-f]+ / { name = ($6 == "" ? "[anon]" : $6); perm = $2 }
                     $1 == "Rss:" { rss = $2 } $1 == "Pss:" { pss = $2 }
                     $1 == "Private_Dirty:" { if (rss > 0) printf "    %-5s %-60s Rss %4d Pss %4d dirty %4d\n", perm, name, rss, pss, $2 }' \
                        "/proc/$p/smaps"
        fi
}
DETAIL=0
# root PID: the process whose tree is measured.  A pod's stage1 leaves the `pod run`
# process's tree (the supervisor is reparented): for a pod (uuid file written), the parent
# of the pod's init (pid file) when that is pod-stage1-supervise, else the init.
root() {
        local init sup
        if [ -s "$W/uuid" ] && [ -s "$W/pod/pods/run/$(cat "$W/uuid")/pid" ]; then
                init=$(cat "$W/pod/pods/run/$(cat "$W/uuid")/pid")
                sup=$(ps -o ppid= -p "$init" | tr -d ' ')
                if [ -n "$sup" ] && [ "$(cat "/proc/$sup/comm" 2>/dev/null)" = pod-stage1-supe ]; then
                        echo "$sup"
                else
                        echo "$init"
                fi
                return
        fi
        echo "$1"
}
# start NAME COMMAND...: runs it in the background, waits until a `sleep` runs below it
start() {
        local name=$1 pid i r
        shift
        rm -f "$W/uuid"
        "$@" </dev/null >"$W/out" 2>&1 &
        pid=$!
        BG+=("$pid")
        for ((i = 0; i < 200; i++)); do
                r=$(root "$pid")
                if descendants "$r" | while read -r p; do
                        is_app "$p" && echo yes
                done | grep -q yes; then
                        sleep 0.5 # let the setup settle (exec of the supervisor)
                        report "$name" "$(root "$pid")"
                        if [ -s "$W/uuid" ]; then
                                "$POD" --dir="$W/pod" stop --force "$(cat "$W/uuid")" >/dev/null 2>&1 || true
                        fi
                        kill "$pid" 2>/dev/null || true
                        wait "$pid" 2>/dev/null || true
                        return 0
                fi
                sleep 0.1
        done
        echo "$name: no sleep started: $(head -c 300 "$W/out")"
        kill "$pid" 2>/dev/null || true
        return 0
}

echo "pod-stage1-supervise: $(file -b "$(dirname "$POD_STAGE1")/pod-stage1-supervise" | cut -d, -f1-4)"
size "$(dirname "$POD_STAGE1")/pod-stage1-supervise" "$POD_STAGE1" 2>/dev/null | sed 's/^/  /' || true
DETAIL=1
start "pod run --net=none (stage1 after its exec of pod-stage1-supervise)" \
        "$POD" --dir="$W/pod" --insecure-options=image run --net=none --pull-policy=never --uuid-file-save="$W/uuid" example.com/bench-sleep
# For comparison: a pod-stage1 without pod-stage1-supervise next to it supervises in place
# (ABI.md), keeping its libraries (libsystemd, libseccomp, json-c, ...) mapped.
mkdir -p "$W/nosup"
cp "$POD_STAGE1" "$W/nosup/pod-stage1"
DETAIL=0
POD_STAGE1=$W/nosup/pod-stage1 start "pod run --net=none, no pod-stage1-supervise (in place)" \
        "$POD" --dir="$W/pod" --insecure-options=image run --net=none --pull-policy=never --uuid-file-save="$W/uuid" example.com/bench-sleep
if command -v bwrap >/dev/null; then
        start "bwrap --unshare-all" bwrap --unshare-all --bind "$R" / --proc /proc --dev /dev /bin/sleep 100000
fi
if command -v systemd-nspawn >/dev/null; then
        cp -a "$R" "$W/rootfs-nspawn"
        # --keep-unit: without a system bus nspawn cannot allocate a scope.
        start "systemd-nspawn --register=no" systemd-nspawn --register=no --keep-unit --private-network -q \
                -D "$W/rootfs-nspawn" /bin/sleep 100000
fi
