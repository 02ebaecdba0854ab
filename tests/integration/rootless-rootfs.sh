#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A rootless pod's root file system (issue 14, "Root file system"), end to end through stage0
# and stage1: run as root, this makes a throwaway user with a subuid/subgid range (UID in
# 42000-42499, its lines removed at exit) and runs pod as that user with setpriv.
#   - image-supplied user.overlay.* attributes (the markers a rootless overlay reads with
#     userxattr) never reach the store: an OCI layer's own opaque marker or xwhiteout, an
#     ACI's, cannot hide a file of the image from its app (the filter: src/xattr-util.c);
#   - --rootfs=copy|overlay|auto and rootfs.conf: the copy (a private tree) and the automatic
#     fallback to it when kernel overlayfs is refused in the user namespace: made real by
#     putting the user's pods on an overlayfs (not allowed as an upper dir), and forced with
#     POD_TEST_OVERLAY_PROBE=refuse (read by stage0's probe only, src/rootfs-mode.h: it can
#     only turn overlay off, never on).
# Skips without uidmap, a static busybox, or a pod-stage1 with the rootless mode.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (creates a throwaway user)"
for c in useradd userdel setpriv python3 newuidmap newgidmap; do
        command -v "$c" >/dev/null || tap_skip_all "$c is needed (newuidmap: Debian's uidmap)"
done
S1=${POD_STAGE1:-${top_builddir:-}/stage1/pod-stage1}
if ! [ -x "$S1" ] || ! "$S1" --help 2>&1 | grep -qi rootless; then
        tap_skip_all "pod-stage1 has no rootless mode"
fi
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

U=prrf$$
# A range no other test uses (rootless.sh: 1900000000; private-users.sh's explicit ranges:
# 1900000000-1900265535, refused while in /etc/subuid; userns-alloc.sh: 2000000000).
START=1950000000
COUNT=65536
cleanup() {
        if id "$U" >/dev/null 2>&1; then
                pkill -KILL -u "$U" 2>/dev/null || true
                userdel -r "$U" >/dev/null 2>&1 || true
        fi
        sed -i "/^$U:/d" /etc/subuid /etc/subgid 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT
uid=
for u in $(seq 42000 42499); do
        if ! getent passwd "$u" >/dev/null && ! getent group "$u" >/dev/null &&
                ! pgrep -U "$u" >/dev/null; then
                uid=$u
                break
        fi
done
[ -n "$uid" ] || tap_skip_all "no free UID in 42000-42499"
useradd -m -u "$uid" -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$U" || tap_skip_all "useradd failed"
echo "$U:$START:$COUNT" >>/etc/subuid
echo "$U:$START:$COUNT" >>/etc/subgid
chmod 755 "$TAP_TMP"
mkdir -p "$TAP_TMP/etc" "$TAP_TMP/vendor"

AS_ENV=() # VAR=VALUE words added to the user's environment
as() {
        setpriv --reuid="$U" --regid="$U" --init-groups --reset-env \
                env HOME="/home/$U" PATH=/usr/sbin:/usr/bin:/sbin:/bin POD_STAGE1="$S1" \
                "${AS_ENV[@]}" "$@"
}
run_as() { # run_as ARGS...: as run_pod, as the user
        set +e
        as "$POD" --local-config="$TAP_TMP/etc" --system-config="$TAP_TMP/vendor" "$@" \
                >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr"
        STATUS=$?
        set -e
        OUT=$(cat "$TAP_TMP/stdout")
        ERR=$(cat "$TAP_TMP/stderr")
}
as test -x "$POD" || tap_skip_all "'$POD' is not executable by a throwaway user (a 0700 directory on its path?)"
as unshare --user true 2>/dev/null || tap_skip_all "unprivileged user namespaces are disabled here"
T=/home/$U/.local/share/pod

# ---- images ----
# bb.aci: busybox; xattr.aci: busybox and /data, whose directory and file carry
# user.overlay.* markers (an opaque "x" dir with an xwhiteout: Linux 6.7+ hides such a
# file); layers.tar (docker save): layer 1 busybox, /opq/old, /data/secret; layer 2 /opq
# marked opaque and /data/secret marked an xwhiteout by the image's own PAX attributes,
# not by overlay's .wh. names.
python3 - "$TAP_TMP" "$BUSYBOX" <<'EOF'
import io, json, hashlib, sys, tarfile
d, bb = sys.argv[1], open(sys.argv[2], "rb").read()
def f(name, data=b"x", mode=0o644, x=None):
    i = tarfile.TarInfo(name); i.size = len(data); i.mode = mode; i.mtime = 1700000000
    if x: i.pax_headers = {"SCHILY.xattr." + k: v for k, v in x.items()}
    return (i, io.BytesIO(data))
def dr(name, x=None):
    i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; i.mtime = 1700000000
    if x: i.pax_headers = {"SCHILY.xattr." + k: v for k, v in x.items()}
    return (i,)
def ln(name, target):
    i = tarfile.TarInfo(name); i.type = tarfile.SYMTYPE; i.linkname = target; i.mtime = 1700000000
    return (i,)
def aci(path, name, entries):
    with tarfile.open(path, "w:gz", format=tarfile.PAX_FORMAT) as t:
        m = json.dumps({"acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
                        "labels": [{"name": "os", "value": "linux"}, {"name": "arch", "value": "amd64"}],
                        "app": {"exec": ["/bin/sh", "-c", "echo ran"], "user": "0", "group": "0"}}).encode()
        t.addfile(*f("manifest", data=m))
        t.addfile(*dr("rootfs"))
        t.addfile(*dr("rootfs/bin"))
        t.addfile(*f("rootfs/bin/busybox", data=bb, mode=0o755))
        t.addfile(*ln("rootfs/bin/sh", "busybox"))
        for e in entries:
            t.addfile(*e)
aci(d + "/bb.aci", "example.com/rf-bb", [dr("rootfs/data"), f("rootfs/data/old", b"old\n")])
aci(d + "/xattr.aci", "example.com/rf-xattr",
    [dr("rootfs/data", {"user.overlay.opaque": "x"}),
     f("rootfs/data/secret", b"", x={"user.overlay.whiteout": ""}),
     f("rootfs/data/old", b"old\n")])
def layer(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w", format=tarfile.PAX_FORMAT) as t:
        for e in entries:
            t.addfile(*e)
    return b.getvalue()
l1 = layer([dr("bin"), f("bin/busybox", data=bb, mode=0o755), ln("bin/sh", "busybox"),
            dr("opq"), f("opq/old", b"old\n"), dr("data"), f("data/secret", b"secret\n")])
l2 = layer([dr("opq", {"user.overlay.opaque": "y"}), f("opq/new", b"new\n"),
            dr("data", {"user.overlay.opaque": "x"}),
            f("data/secret", b"", x={"user.overlay.whiteout": ""})])
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
                  "config": {"Cmd": ["/bin/sh", "-c", "echo ran"]},
                  "rootfs": {"type": "layers", "diff_ids": [sha(l1), sha(l2)]}}).encode()
ch = hashlib.sha256(cfg).hexdigest()
with tarfile.open(d + "/layers.tar", "w") as t:
    t.addfile(*f(ch + ".json", data=cfg))
    t.addfile(*f("aaaa/layer.tar", data=l1))
    t.addfile(*f("bbbb/layer.tar", data=l2))
    m = [{"Config": ch + ".json", "RepoTags": ["example.com/rf-layers:1"],
          "Layers": ["aaaa/layer.tar", "bbbb/layer.tar"]}]
    t.addfile(*f("manifest.json", data=json.dumps(m).encode()))
EOF
chmod 644 "$TAP_TMP"/*.aci "$TAP_TMP"/layers.tar

# has_overlay_xattr DIR: 0 when some file under DIR carries a user.overlay.* attribute
has_overlay_xattr() {
        python3 - "$1" <<'EOF'
import os, sys
for root, dirs, files in os.walk(sys.argv[1]):
    for n in dirs + files:
        p = os.path.join(root, n)
        try:
            names = os.listxattr(p, follow_symlinks=False)
        except OSError:
            continue
        if any(x.startswith("user.overlay.") for x in names):
            print(p, names)
            sys.exit(0)
sys.exit(1)
EOF
}

# ---- 1. image-supplied user.overlay.* markers --------------------------------------------
run_as --insecure-options=image fetch "$TAP_TMP/xattr.aci"
assert_status "an ACI with user.overlay.* attributes is imported" 0
IDX=$(tail -n 1 <<<"$OUT")
TREE=$(find "$T/cas/tree" -type d -name data 2>/dev/null | while read -r d; do [ -e "$d/secret" ] && echo "$d"; done | head -1 || true)
tap_check "... its stored tree has the files" "$([ -n "$TREE" ]; echo $?)"
tap_check "... and no user.overlay.* attribute" "$(has_overlay_xattr "$T/cas/tree" >"$TAP_TMP/x" && echo 1 || echo 0)" "$(cat "$TAP_TMP/x")"
run_as run --net=none "$IDX" --exec=/bin/sh -- -c 'ls /data; cat /data/secret && echo secret-read'
assert_status "a rootless overlay pod of that ACI runs" 0
assert_match "... the image's file marked an xwhiteout is not hidden from its app" "$OUT" '^secret-read$'

run_as --insecure-options=image image import "$TAP_TMP/layers.tar"
assert_status "layers with their own user.overlay.* attributes are imported" 0
IDL=$(tail -n 1 <<<"$OUT")
tap_check "... no user.overlay.* but the store's own opaque marker reaches the layers" \
        "$(has_overlay_xattr "$T/cas/layer" >"$TAP_TMP/x" && echo 1 || echo 0)" "$(cat "$TAP_TMP/x")"
run_as run --net=none "$IDL" --exec=/bin/sh -- -c 'ls /opq; cat /data/secret && echo secret-read'
assert_status "a rootless overlay pod of those layers runs" 0
assert_match "... a layer's own opaque attribute does not hide the lower layer's /opq/old" "$OUT" '^old$'
assert_match "... the upper layer's file is there" "$OUT" '^new$'
assert_match "... a layer's own xwhiteout does not hide the lower layer's /data/secret" "$OUT" '^secret-read$'
run_as run --net=none --rootfs=copy "$IDL" --exec=/bin/sh -- -c 'ls /opq; cat /data/secret && echo secret-read'
assert_status "the same layers flattened into a private copy (--rootfs=copy)" 0
assert_match "... /opq/old is there" "$OUT" '^old$'
assert_match "... /opq/new too" "$OUT" '^new$'
assert_match "... and /data/secret" "$OUT" '^secret-read$'
run_as gc --grace-period=0s

# ---- 2. --rootfs=overlay|copy|auto -------------------------------------------------------
run_as --insecure-options=image fetch "$TAP_TMP/bb.aci"
assert_status "fetch the busybox ACI" 0
IDB=$(tail -n 1 <<<"$OUT")
W='echo changed >/data/old; cat /data/old'
# pod_dir UUID: the pod's directory (pods/<state>/UUID); app_tree UUID: the app's tree in it
# (the copy, or the empty overlay mount point); upper UUID: the overlay's upper dir
pod_dir() { find "$T/pods" -mindepth 2 -maxdepth 2 -name "$1" | head -1; }
app_tree() { echo "$(pod_dir "$1")/stage1/rootfs/opt/stage2/rf-bb/rootfs"; }
upper() { echo "$(pod_dir "$1")/overlay/rf-bb/upper"; }

run_as run --net=none --uuid-file-save="/home/$U/uuid" "$IDB" --exec=/bin/sh -- -c "$W"
assert_status "auto, kernel overlayfs allowed: the pod runs" 0
assert_match "... and writes its root" "$OUT" '^changed$'
assert_no_match "... without a note" "$ERR" 'private copy'
P=$(cat "/home/$U/uuid")
tap_check "... on an overlay (the app's write is in its upper dir)" \
        "$(grep -qx changed "$(upper "$P")/data/old" 2>/dev/null; echo $?)"

run_as run --net=none --rootfs=copy --uuid-file-save="/home/$U/uuid" "$IDB" --exec=/bin/sh -- -c "$W"
assert_status "--rootfs=copy: the pod runs" 0
assert_match "... and writes its root" "$OUT" '^changed$'
assert_no_match "... without a note (asked for)" "$ERR" 'private copy'
P=$(cat "/home/$U/uuid")
tap_check "... on its private copy (the write is in the copy, no upper dir)" \
        "$(grep -qx changed "$(app_tree "$P")/data/old" && [ ! -e "$(upper "$P")/data/old" ]; echo $?)"
ORIG=$(find "$T/cas/tree" -path '*/rootfs/data/old' 2>/dev/null | head -1 || true)
tap_check "... the store's tree is untouched" "$(grep -qx old "$ORIG"; echo $?)"

run_as prepare --rootfs=bogus "$IDB"
assert_status "--rootfs=bogus is a usage error" 254
assert_match "... naming the values" "$ERR" 'auto, overlay, copy or fuse-overlayfs'
run_as prepare --no-overlay --rootfs=overlay "$IDB"
assert_status "--no-overlay with --rootfs=overlay is refused" 254

# the refusal forced (POD_TEST_OVERLAY_PROBE, src/rootfs-mode.h); fuse-overlayfs off (section
# 3 has it), so that auto copies on a host where the user could use it too
echo "fuse-overlayfs = no" >"$TAP_TMP/vendor/rootfs.conf"
AS_ENV=(POD_TEST_OVERLAY_PROBE=refuse)
run_as run --net=none --uuid-file-save="/home/$U/uuid" "$IDB" --exec=/bin/sh -- -c "$W"
assert_status "auto, overlay refused (forced): the pod runs" 0
assert_match "... and writes its root" "$OUT" '^changed$'
assert_match "... saying once why, and how to choose" "$ERR" \
        'refuses overlayfs.*private copy.*--rootfs=copy.*--rootfs=overlay'
tap_check "... once" "$([ "$(grep -c 'private copy' <<<"$ERR")" = 1 ]; echo $?)" "$ERR"
P=$(cat "/home/$U/uuid")
tap_check "... on a private copy" "$(grep -qx changed "$(app_tree "$P")/data/old"; echo $?)"
run_as prepare "$IDB"
assert_status "pod prepare falls back the same way" 0
P=$(tail -n 1 <<<"$OUT")
AS_ENV=()
run_as run-prepared --net=none "$P"
assert_status "... and run-prepared runs that copy (the probe is not asked again)" 0
assert_match "... the image's app ran" "$OUT" '^ran$'
tap_check "... from the copy" "$([ -x "$(app_tree "$P")/bin/busybox" ]; echo $?)"
AS_ENV=(POD_TEST_OVERLAY_PROBE=refuse)
run_as run --net=none --rootfs=overlay "$IDB" --exec=/bin/sh -- -c "$W"
assert_status "--rootfs=overlay insists: the probe is not asked" 0
assert_no_match "... no note" "$ERR" 'private copy'
echo "rootfs = overlay" >"$TAP_TMP/vendor/rootfs.conf"
run_as run --net=none "$IDB" --exec=/bin/sh -- -c "$W"
assert_no_match "rootfs.conf's rootfs = overlay: no probe, no note" "$ERR" 'private copy'
echo "rootfs = copy" >"$TAP_TMP/etc/rootfs.conf"
run_as run --net=none --uuid-file-save="/home/$U/uuid" "$IDB" --exec=/bin/sh -- -c "$W"
assert_status "the admin's rootfs = copy wins over the vendor's" 0
P=$(cat "/home/$U/uuid")
tap_check "... a private copy" "$(grep -qx changed "$(app_tree "$P")/data/old"; echo $?)"
assert_no_match "... without a note" "$ERR" 'private copy'
echo "rootfs = sometimes" >"$TAP_TMP/etc/rootfs.conf"
run_as prepare "$IDB"
assert_status "a bad rootfs.conf value fails" 254
assert_match "... naming file and line" "$ERR" "rootfs.conf:1: .*sometimes"
rm -f "$TAP_TMP/etc/rootfs.conf" "$TAP_TMP/vendor/rootfs.conf"
AS_ENV=()
run_pod --dir="$TAP_TMP/rootstore" --local-config="$TAP_TMP/etc" --system-config="$TAP_TMP/vendor" \
        --insecure-options=image prepare --rootfs=bogus "$TAP_TMP/bb.aci"
assert_status "root: --rootfs is parsed the same" 254

# A real refusal: the user's pods on an overlayfs (root's), which the kernel does not take
# as an upper dir ("filesystem ... not supported as upperdir").
run_as gc --grace-period=0s
OVL=$TAP_TMP/ovl
mkdir -p "$OVL/lower" "$OVL/upper" "$OVL/work"
chown "$U:" "$OVL/upper"
mv "$T" "$T.real"
mkdir "$T"
chown "$U:" "$T"
if mount -t overlay overlay -o "lowerdir=$OVL/lower,upperdir=$OVL/upper,workdir=$OVL/work" "$T" 2>/dev/null; then
        cleanup_ovl() { umount "$T" 2>/dev/null || true; }
        trap 'cleanup_ovl; cleanup' EXIT
        chmod 700 "$T"
        echo "fuse-overlayfs = no" >"$TAP_TMP/vendor/rootfs.conf"
        run_as --insecure-options=image run --net=none --uuid-file-save="/home/$U/uuid" "$TAP_TMP/bb.aci" --exec=/bin/sh -- -c "$W"
        assert_status "auto, pods on an overlayfs (refused as upper): the pod runs" 0
        assert_match "... and writes its root" "$OUT" '^changed$'
        assert_match "... saying why (the kernel's EINVAL)" "$ERR" 'refuses overlayfs.*Invalid argument.*private copy'
        P=$(cat "/home/$U/uuid")
        tap_check "... on a private copy" "$(grep -qx changed "$(app_tree "$P")/data/old"; echo $?)"
        tap_check "... no probe directory is left" \
                "$([ -z "$(find "$T/pods" -maxdepth 1 -name '.overlay-probe-*')" ]; echo $?)"
        run_as run --net=none --rootfs=overlay "$IDB" --exec=/bin/sh -- -c "$W"
        tap_check "... --rootfs=overlay fails there, as before" "$([ "$STATUS" != 0 ]; echo $?)" "$OUT $ERR"
        run_as gc --grace-period=0s
        run_as image gc
        umount "$T"
else
        for _ in 1 2 3 4 5 6; do tap_check "# SKIP root cannot mount an overlayfs here" 0; done
fi
rmdir "$T" 2>/dev/null || true
mv "$T.real" "$T"
rm -f "$TAP_TMP/vendor/rootfs.conf"

# ---- 3. fuse-overlayfs ------------------------------------------------------------------------
# Usable where the program is installed and the user can open /dev/fuse (Debian's default
# 0666; some hosts keep it 0600: then the refusals are what is tested).
FUSE_OK=0
if command -v fuse-overlayfs >/dev/null && as sh -c 'exec 3<>/dev/fuse' 2>/dev/null; then
        FUSE_OK=1
fi
pgrep_fuse() { pgrep -u "$U" -x fuse-overlayfs || true; }
if [ "$FUSE_OK" = 1 ]; then
        PS='echo changed >/data/old; cat /data/old; for p in /proc/[0-9]*; do cat $p/comm; done'
        run_as run --net=none --rootfs=fuse-overlayfs --uuid-file-save="/home/$U/uuid" "$IDB" \
                --exec=/bin/sh -- -c "$PS"
        assert_status "--rootfs=fuse-overlayfs: the pod runs" 0
        assert_match "... and writes its root" "$OUT" '^changed$'
        assert_no_match "... no fuse-overlayfs among the pod's processes" "$OUT" 'fuse-overlayfs'
        P=$(cat "/home/$U/uuid")
        tap_check "... the write is in the pod's upper dir" \
                "$(grep -qx changed "$(upper "$P")/data/old" 2>/dev/null; echo $?)"
        ORIG=$(find "$T/cas/tree" -path '*/rootfs/data/old' 2>/dev/null | head -1 || true)
        tap_check "... the store's tree is untouched" "$(grep -qx old "$ORIG"; echo $?)"
        tap_check "... the pod dir names the program" \
                "$(grep -qx '/.*fuse-overlayfs' "$(pod_dir "$P")/stage0-fuse-overlayfs"; echo $?)"
        for _ in $(seq 50); do [ -z "$(pgrep_fuse)" ] && break; sleep 0.1; done
        tap_check "... no fuse-overlayfs is left once the pod is gone" "$([ -z "$(pgrep_fuse)" ]; echo $?)" \
                "$(pgrep -a -u "$U" fuse-overlayfs)"

        AS_ENV=(POD_TEST_OVERLAY_PROBE=refuse)
        run_as run --net=none --uuid-file-save="/home/$U/uuid" "$IDB" --exec=/bin/sh -- -c "$W"
        assert_status "auto, overlay refused (forced), fuse-overlayfs usable: the pod runs" 0
        assert_match "... saying it uses fuse-overlayfs, and how to choose" "$ERR" \
                'refuses overlayfs.*served by .*fuse-overlayfs.*--rootfs=fuse-overlayfs'
        P=$(cat "/home/$U/uuid")
        tap_check "... through fuse-overlayfs (its marker; the write in the upper dir)" \
                "$([ -e "$(pod_dir "$P")/stage0-fuse-overlayfs" ] && grep -qx changed "$(upper "$P")/data/old"; echo $?)"
        run_as prepare "$IDB"
        P=$(tail -n 1 <<<"$OUT")
        AS_ENV=()
        run_as run-prepared --net=none "$P"
        assert_status "prepare picks it too, and run-prepared runs it" 0
        assert_match "... the image's app ran" "$OUT" '^ran$'

        # A kill -9 of the supervisor takes the program with it.
        as "$POD" --local-config="$TAP_TMP/etc" --system-config="$TAP_TMP/vendor" run --net=none \
                --rootfs=fuse-overlayfs --uuid-file-save="/home/$U/uuid2" "$IDB" --exec=/bin/sh -- \
                -c 'echo up >/up; while :; do sleep 1; done' >/dev/null 2>&1 &
        for _ in $(seq 100); do
                P=$(cat "/home/$U/uuid2" 2>/dev/null || true)
                [ -n "$P" ] && [ -e "$(upper "$P")/up" ] && break
                sleep 0.1
        done
        INIT=$(cat "$(pod_dir "$P")/pid" 2>/dev/null || true)
        SUP=$(awk '{ print $4 }' "/proc/${INIT:-0}/stat" 2>/dev/null || true)
        tap_check "a long-running fuse-overlayfs pod is up, with its program" \
                "$([ -n "$SUP" ] && [ -n "$(pgrep_fuse)" ]; echo $?)" "init ${INIT:-?} supervisor ${SUP:-?}"
        [ -n "$SUP" ] && kill -KILL "$SUP" 2>/dev/null
        [ -n "$INIT" ] && kill -KILL "$INIT" 2>/dev/null
        for _ in $(seq 50); do [ -z "$(pgrep_fuse)" ] && break; sleep 0.1; done
        tap_check "... kill -9 of the supervisor leaves no fuse-overlayfs behind" \
                "$([ -z "$(pgrep_fuse)" ]; echo $?)" "$(pgrep -a -u "$U" fuse-overlayfs)"
        wait || true

        echo "fuse-overlayfs = no" >"$TAP_TMP/etc/rootfs.conf"
        AS_ENV=(POD_TEST_OVERLAY_PROBE=refuse)
        run_as run --net=none "$IDB" --exec=/bin/sh -- -c "$W"
        assert_match "rootfs.conf's fuse-overlayfs = no: auto copies, saying why" "$ERR" \
                'turned off.*private copy'
        AS_ENV=()
        rm -f "$TAP_TMP/etc/rootfs.conf"
else
        run_as run --net=none --rootfs=fuse-overlayfs "$IDB" --exec=/bin/sh -- -c "$W"
        assert_status "--rootfs=fuse-overlayfs without a usable FUSE fails" 254
        assert_match "... saying why" "$ERR" 'fuse-overlayfs (is not installed|needs /dev/fuse)'
        AS_ENV=(POD_TEST_OVERLAY_PROBE=refuse)
        run_as run --net=none "$IDB" --exec=/bin/sh -- -c "$W"
        assert_match "auto, overlay refused (forced): copies, saying why not fuse-overlayfs" "$ERR" \
                'refuses overlayfs.*fuse-overlayfs.*private copy'
        AS_ENV=()
        for _ in 1 2 3 4 5 6 7 8 9 10 11 12 13; do
                tap_check "# SKIP fuse-overlayfs is not usable by a user here (/dev/fuse $(stat -c %a /dev/fuse 2>&1))" 0
        done
fi
run_pod --dir="$TAP_TMP/rootstore" --local-config="$TAP_TMP/etc" --system-config="$TAP_TMP/vendor" \
        --insecure-options=image prepare --rootfs=fuse-overlayfs "$TAP_TMP/bb.aci"
assert_status "root: --rootfs=fuse-overlayfs is refused" 254
assert_match "... saying it is for rootless pods" "$ERR" 'for rootless pods'

tap_done
