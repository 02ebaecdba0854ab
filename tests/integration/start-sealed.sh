#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stage0 executes pod's own pod-stage1 from a sealed memfd copy (src/sealed-exec.h, issue
# 16: one exec and one dynamic loading of pod-stage1 less per pod).  The guarantee of ABI.md
# "Sealed binaries" must hold on this path too: an app with every capability that opens
# /proc/1/exe (the pod init, still pod-stage1 while a post-stop handler is pending) finds a
# memfd sealed against writes, not the host's pod-stage1.  A stage1 that is not an ELF file
# (a script, as --stage1-path allows) is still executed as before.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
[ -x "$PROBE" ] || tap_skip_all "tests/helpers/pod-probe not built"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || tap_skip_all "no overlayfs"

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
mkdir -p "$W/etc" "$W/vendor"
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
IMG=$W/img
mkdir -p "$IMG/rootfs/bin"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
cp "$PROBE" "$IMG/rootfs/bin/pod-probe"
for a in sh true cat; do ln -s busybox "$IMG/rootfs/bin/$a"; done
cat >"$IMG/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/sealed",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","/bin/pod-probe seals /proc/1/exe; cat /proc/1/comm"],
        "user":"0","group":"0",
        "eventHandlers":[{"name":"post-stop","exec":["/bin/true"]}]}}
JSON
run_pod image build "$IMG" "$W/sealed.aci"
assert_status "image build" 0
run_pod "${P[@]}" --insecure-options=image image import "$W/sealed.aci"
assert_status "image import" 0
ID=$OUT

host_s1=$(stat -L -c '%d:%i' "$POD_STAGE1")
run_pod "${P[@]}" --insecure-options=capabilities run --net=none "$ID"
assert_status "pod run (every capability)" 0
assert_match "the pod init runs from a memfd sealed against writes (seals 0xf)" "$OUT" " seals=0xf$"
tap_check "... not from the host's pod-stage1 ($host_s1)" \
        "$(grep -q "^$host_s1 " <<<"$OUT" && echo 1 || echo 0)" "$OUT $ERR"
assert_match "... and calls itself pod-stage1" "$OUT" "^pod-stage1$"

# A script as stage1 (rkt's --stage1-path allows any executable): executed as a file.
cat >"$W/stub-stage1" <<'SH'
#!/bin/sh
echo "stub stage1: $*"
SH
chmod 0755 "$W/stub-stage1"
run_pod "${P[@]}" run --net=none --stage1-path="$W/stub-stage1" "$ID"
assert_status "a script stage1 still runs" 0
assert_match "... with stage1's arguments" "$OUT" "^stub stage1: .*--net=none"
tap_done
