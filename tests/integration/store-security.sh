#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The store and the trees pod writes are no door to root for other host users: an image with
# a set-uid-root binary and one with a file capability (cap_dac_read_search+ep), imported and
# run by root; an unprivileged host user must not reach them through --dir (0700 state dirs).
# xattrs that are not the image's to set (trusted.*, security.* but security.capability) never
# reach the store tree nor a pod's lower dir; `image extract`/`render` drop set-id bits and
# capabilities unless --keep-privileges; --no-overlay and `pod export` keep holes.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (set-uid root files, trusted.* xattrs, pods)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
[ -x "$PROBE" ] || tap_skip_all "tests/helpers/pod-probe not built"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
command -v python3 >/dev/null || tap_skip_all "needs python3 (xattrs)"
command -v setpriv >/dev/null || tap_skip_all "needs setpriv (util-linux)"
id nobody >/dev/null 2>&1 || tap_skip_all "needs the user nobody"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"

W=$TAP_TMP
# The state dir's parents are traversable, like /var/lib: only pod's own modes protect it.
chmod 0755 "$W"
D=$W/data
P=(--dir="$D" --insecure-options=image)
pod() { run_pod "${P[@]}" "$@"; }
# An unprivileged host user; the second one is also in group 0 (pods/ was 0750 root:root).
# Through sh: setpriv keeps root's capabilities until its own execve(), whose path lookup
# would bypass directory permissions; the shell's exec has none.
as_nobody() { setpriv --reuid=nobody --regid=nogroup --clear-groups -- /bin/sh -c 'exec "$@"' sh "$@"; }
as_nobody_g0() { setpriv --reuid=nobody --regid=nogroup --groups=0 -- /bin/sh -c 'exec "$@"' sh "$@"; }
pod_mounts() { awk -v w="$W/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort; }
cleanup() {
        local m
        for m in $(pod_mounts | sort -r); do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

# xattr NAME FILE: the value as Python sees it, or "absent"
xattr() {
        python3 -c 'import os, sys
try:
    print(os.getxattr(sys.argv[2], sys.argv[1], follow_symlinks=False))
except OSError:
    print("absent")' "$1" "$2"
}
xattr_names() { python3 -c 'import os, sys; print(" ".join(sorted(os.listxattr(sys.argv[1], follow_symlinks=False))))' "$1"; }
# cap_dac_read_search (2) permitted and effective, VFS_CAP_REVISION_2
setcap_blob() {
        python3 -c 'import os, struct, sys
os.setxattr(sys.argv[1], "security.capability", struct.pack("<IIIII", 0x02000001, 1 << 2, 0, 0, 0))' "$1"
}
setxa() { python3 -c 'import os, sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())' "$@"; }

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- the hostile image ---------------------------------------------------------------------
IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc" "$IMG/rootfs/opaque"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh true truncate; do ln -s busybox "$IMG/rootfs/bin/$a"; done
install -m 04755 -o 0 -g 0 "$PROBE" "$IMG/rootfs/bin/suid"
install -m 02755 -o 0 -g 0 "$PROBE" "$IMG/rootfs/bin/sgid"
install -m 0755 -o 0 -g 0 "$PROBE" "$IMG/rootfs/bin/capread"
setcap_blob "$IMG/rootfs/bin/capread"
echo opaque >"$IMG/rootfs/opaque/f"
echo x >"$IMG/rootfs/etc/xa"
setxa "$IMG/rootfs/etc/xa" trusted.overlay.opaque y
setxa "$IMG/rootfs/etc/xa" trusted.foo bar
setxa "$IMG/rootfs/etc/xa" security.selinux system_u:object_r:shadow_t:s0
setxa "$IMG/rootfs/etc/xa" user.keep ok
setxa "$IMG/rootfs/opaque" trusted.overlay.opaque y
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/sec",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/sec.aci" >/dev/null
pod image import "$W/sec.aci"
assert_status "import the image" 0
ID=$OUT
TREE=$D/cas/tree/$ID/rootfs
tap_check "the stored tree keeps the set-uid bit (usable inside pods)" \
        "$([ "$(stat -c %a "$TREE/bin/suid")" = 4755 ]; echo $?)"
tap_check "the stored tree keeps security.capability" \
        "$([ "$(xattr security.capability "$TREE/bin/capread")" != absent ]; echo $?)"

# ---- A: the store is not reachable by other host users -------------------------------------
set +e
OUT=$(as_nobody "$TREE/bin/suid" euid 2>&1)
set -e
assert_no_match "nobody cannot run the stored set-uid-root binary" "$OUT" "^euid=0"
set +e
OUT=$(as_nobody "$TREE/bin/sgid" euid 2>&1)
set -e
assert_no_match "nobody cannot run the stored set-gid-root binary" "$OUT" "egid=0$"
set +e
OUT=$(as_nobody "$TREE/bin/capread" read /etc/shadow 2>&1)
set -e
assert_no_match "nobody cannot use the stored cap_dac_read_search binary" "$OUT" "^ok$"
set +e
OUT=$(as_nobody cat "$D/cas/blob/sha512/${ID:7:2}/$ID" 2>/dev/null | head -c 100 | wc -c)
set -e
tap_check "nobody cannot read the stored blobs" "$([ "$OUT" = 0 ]; echo $?)"

pod run --net=none --uuid-file-save="$W/uuid" "$ID"
assert_status "run the image" 0
U=$(cat "$W/uuid")
PD=$D/pods/run/$U
# The pod's lower dir: the store tree itself (its lowers file), or a per-pod copy.
LOWER=$PD/stage1/rootfs/opt/stage2/sec/rootfs
[ -e "$PD/stage1/rootfs/opt/stage2/sec/lowers" ] && LOWER=$(head -n1 "$PD/stage1/rootfs/opt/stage2/sec/lowers")
tap_check "the pod's lower dir has the set-uid binary" "$([ -u "$LOWER/bin/suid" ]; echo $?)"
for d in "$D" "$D/cas" "$D/pods"; do
        tap_check "${d#"$W"/} is 0700" "$([ "$(stat -c %a "$d")" = 700 ]; echo $?)" \
                "$(stat -c '%a %U' "$d")"
done
set +e
OUT=$(as_nobody_g0 "$LOWER/bin/suid" euid 2>&1)
set -e
assert_no_match "nobody (group 0) cannot run the pod's set-uid-root binary" "$OUT" "^euid=0"
set +e
OUT=$(as_nobody_g0 "$LOWER/bin/capread" read /etc/shadow 2>&1)
set -e
assert_no_match "nobody (group 0) cannot use the pod's capability binary" "$OUT" "^ok$"
pod list --no-legend --full
assert_match "pod list by root still works" "$OUT" "^$U"
pod status "$U"
assert_match "pod status by root still works" "$OUT" "^state=exited$"

# A store from an earlier version (0755 dirs) is tightened when root opens it.
chmod 0755 "$D" "$D/cas" "$D/cas/tree" "$D/pods"
pod image list
assert_status "image list on an old 0755 store" 0
pod list
assert_status "list on an old 0755 store" 0
for d in "$D" "$D/cas" "$D/pods"; do
        tap_check "an old store's ${d#"$W"/} is tightened to 0700" \
                "$([ "$(stat -c %a "$d")" = 700 ]; echo $?)" "$(stat -c '%a' "$d")"
done
# An unprivileged user's own store works as before (the CI runs the tests as nobody).
mkdir -m 0755 "$W/nobody"
chown nobody "$W/nobody"
set +e
as_nobody "$POD" --dir="$W/nobody/data" --insecure-options=image image import "$W/sec.aci" >"$W/n.out" 2>&1
S=$?
set -e
tap_check "nobody can import into its own --dir" "$S" "$(cat "$W/n.out")"
tap_check "nobody's own state dir is 0700 too" \
        "$([ "$(stat -c '%a %U' "$W/nobody/data")" = "700 nobody" ]; echo $?)"
run_pod --dir="$W/nobody/data" image list
assert_status "root refuses a state dir another user owns" 254
assert_match "saying whose it is" "$ERR" "owned by uid 65534, not root"
run_pod --dir="$W/nobody/data" list
assert_status "pods too" 254

# ---- B: no trusted.*, no security.* but the capability -------------------------------------
for f in "$TREE/etc/xa" "$LOWER/etc/xa"; do
        where=${f#"$D"/}
        tap_check "${where%%/*}: user.* xattrs are kept" "$([ "$(xattr user.keep "$f")" = "b'ok'" ]; echo $?)"
        for x in trusted.overlay.opaque trusted.foo security.selinux; do
                tap_check "${where%%/*}: $x is dropped" "$([ "$(xattr "$x" "$f")" = absent ]; echo $?)" \
                        "$(xattr_names "$f")"
        done
done
tap_check "store: no trusted.overlay.opaque on a directory" \
        "$([ "$(xattr trusted.overlay.opaque "$TREE/opaque")" = absent ]; echo $?)"
tap_check "pod lower dir: no trusted.overlay.opaque on a directory" \
        "$([ "$(xattr trusted.overlay.opaque "$LOWER/opaque")" = absent ]; echo $?)"
tap_check "pod lower dir: the capability stays (usable inside the pod)" \
        "$([ "$(xattr security.capability "$LOWER/bin/capread")" != absent ]; echo $?)"
# A tree imported by an earlier version (no lower-ok marker) may still carry them: it is
# never a lower dir as it is, and the pod's copy must not carry them.
setxa "$TREE/etc/xa" trusted.overlay.redirect /etc
rm "$D/cas/tree/$ID/lower-ok"
pod run --net=none --uuid-file-save="$W/uuid2" "$ID"
L2=$D/pods/run/$(cat "$W/uuid2")/stage1/rootfs/opt/stage2/sec/rootfs
tap_check "an old tree's trusted.* xattr does not reach a new pod's lower dir" \
        "$([ "$(xattr trusted.overlay.redirect "$L2/etc/xa")" = absent ]; echo $?)" "$(xattr_names "$L2/etc/xa")"
tap_check "and the file is still there" "$([ -f "$L2/etc/xa" ]; echo $?)"
pod run --net=none --no-overlay --uuid-file-save="$W/uuid3" "$ID"
L3=$D/pods/run/$(cat "$W/uuid3")/stage1/rootfs/opt/stage2/sec/rootfs
tap_check "--no-overlay copy: no trusted.* xattr" \
        "$([ "$(xattr trusted.overlay.redirect "$L3/etc/xa")" = absent ]; echo $?)" "$(xattr_names "$L3/etc/xa")"
python3 -c 'import os, sys; os.removexattr(sys.argv[1], "trusted.overlay.redirect")' "$TREE/etc/xa"

# ---- C: extract and render drop set-id bits and capabilities by default -------------------
# A dependent image: its rendered tree is copied layer by layer (not unpacked).
mkdir -p "$W/dep/rootfs"
echo dep >"$W/dep/rootfs/dep-file"
cat >"$W/dep/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/sec-dep",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "dependencies":[{"imageName":"example.com/sec","imageID":"$ID"}]}
EOF
"$POD" image build "$W/dep" "$W/dep.aci" >/dev/null
pod image import "$W/dep.aci"
DEP=$OUT
check_tree() { # check_tree LABEL ROOTFS KEEP(0/1)
        local m
        m=$(stat -c %a "$2/bin/suid")
        if [ "$3" = 1 ]; then
                tap_check "$1: set-uid kept" "$([ "$m" = 4755 ]; echo $?)" "mode $m"
                tap_check "$1: set-gid kept" "$([ -g "$2/bin/sgid" ]; echo $?)"
                tap_check "$1: capability kept" \
                        "$([ "$(xattr security.capability "$2/bin/capread")" != absent ]; echo $?)"
        else
                tap_check "$1: no set-uid bit" "$([ "$m" = 755 ]; echo $?)" "mode $m"
                tap_check "$1: no set-gid bit" "$([ ! -g "$2/bin/sgid" ]; echo $?)"
                tap_check "$1: no capability" \
                        "$([ "$(xattr security.capability "$2/bin/capread")" = absent ]; echo $?)"
                set +e
                OUT=$(as_nobody "$2/bin/suid" euid 2>&1)
                set -e
                assert_match "$1: nobody runs it as nobody" "$OUT" "^euid=65534"
        fi
        tap_check "$1: no trusted.* xattr" "$([ "$(xattr trusted.foo "$2/etc/xa")" = absent ]; echo $?)"
}
pod image extract "$ID" "$W/ex"
assert_status "image extract" 0
check_tree "extract" "$W/ex/rootfs" 0
pod image extract --rootfs-only "$ID" "$W/ex-r"
check_tree "extract --rootfs-only" "$W/ex-r" 0
pod image render "$ID" "$W/re"
check_tree "render" "$W/re/rootfs" 0
pod image render "$DEP" "$W/re-dep"
assert_status "render an image with a dependency" 0
check_tree "render with dependencies" "$W/re-dep/rootfs" 0
tap_check "render with dependencies: both layers" "$([ -f "$W/re-dep/rootfs/dep-file" ]; echo $?)"
pod image extract --keep-privileges "$ID" "$W/ex-k"
assert_status "image extract --keep-privileges" 0
check_tree "extract --keep-privileges" "$W/ex-k/rootfs" 1
pod image render --keep-privileges "$DEP" "$W/re-k"
check_tree "render --keep-privileges (dependencies)" "$W/re-k/rootfs" 1

# ---- D: holes stay holes -------------------------------------------------------------------
SP=$W/sparse
mkdir -p "$SP/rootfs/bin"
cp "$BUSYBOX" "$SP/rootfs/bin/busybox"
ln -s busybox "$SP/rootfs/bin/sh"
truncate -s 1G "$SP/rootfs/hole"
sed 's|example.com/sec"|example.com/sparse"|; s|"/bin/true"|"/bin/sh","-c","true"|' \
        "$IMG/manifest" >"$SP/manifest"
tar -C "$SP" --sparse --format=posix -czf "$W/sparse.aci" manifest rootfs
pod image import "$W/sparse.aci"
assert_status "import a sparse image" 0
SID=$OUT
tap_check "the store keeps the hole" \
        "$([ "$(du -k "$D/cas/tree/$SID/rootfs/hole" | cut -f1)" -lt 1024 ]; echo $?)"
pod run --net=none --no-overlay --uuid-file-save="$W/uuid-sp" "$SID"
assert_status "run it with --no-overlay" 0
H=$D/pods/run/$(cat "$W/uuid-sp")/stage1/rootfs/opt/stage2/sparse/rootfs/hole
tap_check "--no-overlay: the copy has the size" "$([ "$(stat -c %s "$H")" = 1073741824 ]; echo $?)"
tap_check "--no-overlay: the copy keeps the hole" "$([ "$(du -k "$H" | cut -f1)" -lt 1024 ]; echo $?)" \
        "$(du -k "$H")"
pod image extract "$SID" "$W/sp-ex"
tap_check "extract keeps the hole" "$([ "$(du -k "$W/sp-ex/rootfs/hole" | cut -f1)" -lt 1024 ]; echo $?)"
# An ACI from a builder without sparse entries: 64 MiB of zeros in the tar (gzip: 64 KiB).
python3 - "$W/zeros.aci" "$SP/manifest" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w:gz") as t:
    t.add(sys.argv[2], "manifest")
    i = tarfile.TarInfo("rootfs"); i.type = tarfile.DIRTYPE; i.mode = 0o755; t.addfile(i)
    i = tarfile.TarInfo("rootfs/zeros"); i.size = 64 << 20
    t.addfile(i, io.BytesIO(bytes(64 << 20)))
EOF
# 1000 times expansion: a compression bomb by the default limits; allowed here on purpose.
mkdir -p "$W/noratio"
echo "image-max-expansion-ratio = 0" >"$W/noratio/limits.conf"
pod --local-config="$W/noratio" image import "$W/zeros.aci"
assert_status "import an ACI with zeros stored as data" 0
Z=$D/cas/tree/$OUT/rootfs/zeros
tap_check "the store makes holes of them" \
        "$([ "$(stat -c %s "$Z")" = 67108864 ] && [ "$(du -k "$Z" | cut -f1)" -lt 1024 ]; echo $?)" "$(du -k "$Z")"

pod run --net=none --uuid-file-save="$W/uuid-ex" "$SID" --exec=/bin/sh -- \
        -c 'busybox truncate -s 8G /big && echo data >/small && busybox truncate -s 1M /small'
assert_status "an app makes an 8 GiB sparse file" 0
pod export "$(cat "$W/uuid-ex")" "$W/exported.aci"
assert_status "export it" 0
EXID=$OUT
tap_check "the export holds no 8 GiB of zeros" \
        "$([ "$(stat -c %s "$W/exported.aci")" -lt $((4 << 20)) ]; echo $?)" "$(ls -l "$W/exported.aci")"
pod image import "$W/exported.aci"
assert_status "the export imports" 0
assert_match "with the ID export printed" "$OUT" "^$EXID$"
ET=$D/cas/tree/$EXID/rootfs
tap_check "round trip: the file's size" "$([ "$(stat -c %s "$ET/big")" = 8589934592 ]; echo $?)"
tap_check "round trip: still a hole" "$([ "$(du -k "$ET/big" | cut -f1)" -lt 1024 ]; echo $?)"
tap_check "round trip: data before a hole" \
        "$([ "$(head -c 5 "$ET/small")" = data ] && [ "$(stat -c %s "$ET/small")" = 1048576 ] &&
                [ "$(tail -c +6 "$ET/small" | tr -d '\0' | wc -c)" = 0 ]; echo $?)"

tap_done
