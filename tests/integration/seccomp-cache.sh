#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The cache of compiled seccomp filters (stage1/seccomp-cache.c, ABI.md "Seccomp"): a pod
# whose filter comes from /run/pod/seccomp blocks what a freshly compiled one blocks, and an
# entry that is corrupted, made for other inputs, owned by someone else or writable by others
# (or a cache directory others can write) is never loaded: the filter is compiled instead and
# the entry replaced.  Each case checks the app's view (pod-probe: unshare(CLONE_NEWUSER) and
# io_uring_setup fail with EPERM, mkdir works) and stage1's debug line saying where the
# filter came from.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts, /run/pod)"
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
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor" --insecure-options=image)
mkdir -p "$W/etc" "$W/vendor"
C=/run/pod/seccomp
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

# build NAME ISOLATORS: a busybox + pod-probe image running the three probes.
build() {
        local img=$W/img-$1
        mkdir -p "$img/rootfs/bin" "$img/rootfs/tmp"
        cp "$BUSYBOX" "$img/rootfs/bin/busybox"
        cp "$PROBE" "$img/rootfs/bin/pod-probe"
        ln -s busybox "$img/rootfs/bin/sh"
        cat >"$img/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/$1",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c",
        "echo u=\$(/bin/pod-probe unshare-user) i=\$(/bin/pod-probe syscall io_uring_setup) m=\$(/bin/pod-probe mkdir /tmp/x)"],
        "user":"0","group":"0","isolators":[$2]}}
JSON
        run_pod image build "$img" "$W/$1.aci"
        assert_status "image build $1" 0
        run_pod "${P[@]}" image import "$W/$1.aci"
        assert_status "image import $1" 0
}
build default ''
DEF=$OUT
build retain '{"name":"os/linux/seccomp-retain-set","value":{"set":["@rkt/default-whitelist"]}}'
RET=$OUT

# go DESC ID WHERE [VIEW]: runs the pod with stage1's debug log; checks the app's view (VIEW,
# default the denylist's: unshare(CLONE_NEWUSER) and io_uring_setup fail with EPERM, mkdir
# works) and that the filter was "compiled" or taken "from the cache"; sets ENTRY to the
# cache entry's name.
ENTRY=
go() {
        local view=${4:-u=1 i=1 m=ok}
        POD_LOG_LEVEL=debug run_pod "${P[@]}" run --net=none "$2"
        assert_status "$1: pod runs" 0
        assert_match "$1: the app sees '$view'" "$OUT" "^$view$"
        assert_match "$1: filter $3" "$ERR" "seccomp filter of [0-9]+ instructions $3 \(cache entry [0-9a-f]{64}\)"
        ENTRY=$(sed -n 's/.*seccomp filter of [0-9]* instructions .* (cache entry \([0-9a-f]*\)).*/\1/p' <<<"$ERR" | head -n 1)
}

# Cold: whatever an earlier run left for these inputs goes first.
go "first run" "$DEF" "(compiled|from the cache)"
E=$ENTRY
rm -f "${C:?}/$E"
go "cold cache" "$DEF" compiled
tap_check "the entry is named after the inputs' hash" "$([ "$ENTRY" = "$E" ] && echo 0 || echo 1)" "$ENTRY vs $E"
st=$(stat -c '%u %a %F' "$C/$E")
tap_check "entry is root's, 0600, a regular file ($st)" \
        "$([ "$st" = "0 600 regular file" ] && echo 0 || echo 1)"
st=$(stat -c '%u %a' "$C")
tap_check "$C is root's and 0700 ($st)" "$([ "$st" = "0 700" ] && echo 0 || echo 1)"
ino=$(stat -c %i "$C/$E")
go "warm cache" "$DEF" "from the cache"
tap_check "a hit does not rewrite the entry" "$([ "$(stat -c %i "$C/$E")" = "$ino" ] && echo 0 || echo 1)"

# Corrupted: the program's first instruction (after the 16-byte header and the key, whose
# size is the header's third 32-bit word) becomes "return ALLOW" (BPF_RET|BPF_K,
# k=0x7fff0000): loaded, it would allow every call.
size=$(stat -c %s "$C/$E")
keysize=$(od -An -tu4 -j8 -N4 "$C/$E" | tr -d ' ')
printf '\006\000\000\000\000\000\377\177' |
        dd of="$C/$E" bs=1 seek=$((16 + keysize)) conv=notrunc status=none
go "corrupted entry" "$DEF" compiled
go "... replaced by a good one" "$DEF" "from the cache"

# Cut short (a crash while writing a new entry cannot leave one, but a full disk could).
truncate -s $((size / 2)) "$C/$E"
go "truncated entry" "$DEF" compiled

# A valid entry of other inputs (the retain set's filter) under this name.
# (The retain set kills a process that calls outside it: the probes die of SIGSYS.)
go "retain-set pod" "$RET" "(compiled|from the cache)" "u= i= m=ok"
R=$ENTRY
tap_check "other inputs, other entry" "$([ "$R" != "$E" ] && echo 0 || echo 1)"
cp -p "$C/$R" "$C/$E"
go "an entry made for other inputs" "$DEF" compiled

# Owned by someone else, or writable by others: not trusted, replaced.
chown 65534 "$C/$E"
go "entry owned by nobody" "$DEF" compiled
tap_check "... replaced by root's" "$([ "$(stat -c %u "$C/$E")" = 0 ] && echo 0 || echo 1)"
chmod 0666 "$C/$E"
go "entry writable by others" "$DEF" compiled
go "... replaced" "$DEF" "from the cache"

# A cache directory that others could write: not used at all (no entry name in the log).
chmod 0777 "$C"
POD_LOG_LEVEL=debug run_pod "${P[@]}" run --net=none "$DEF"
chmod 0700 "$C"
assert_status "cache dir 0777: pod runs" 0
assert_match "cache dir 0777: the filter still holds" "$OUT" "^u=1 i=1 m=ok$"
assert_match "cache dir 0777: compiled, no cache" "$ERR" \
        "seccomp filter of [0-9]+ instructions compiled \(cache entry none\)"

# --disable-seccomp still means no filter, whatever the cache holds.
run_pod "${P[@]}" --insecure-options=image,seccomp run --net=none "$DEF"
assert_status "--insecure-options=seccomp: pod runs" 0
assert_match "--insecure-options=seccomp: no filter (unshare works)" "$OUT" "^u=ok "
tap_done
