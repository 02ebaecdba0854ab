#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Rootless pod, stage0 side (issue 14): run as root, this makes two throwaway users, A with a
# subuid/subgid range (appended to /etc/subuid and /etc/subgid, removed at exit) and B
# without one, and runs pod as each with setpriv: per-user paths, the user namespace (range
# and single-ID fallback with its note), the store (owners shifted into the range; an owner
# outside it refused by name; OCI whiteouts and user.overlay.opaque), prepare/list/status/
# rm/gc, and that neither user sees the other's pods or images.  `pod run` end to end needs
# stage1's rootless mode: skipped with a reason while pod-stage1 lacks it.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (creates throwaway users)"
for c in useradd userdel setpriv python3; do
        command -v "$c" >/dev/null || tap_skip_all "$c is needed"
done

UA=prla$$
UB=prlb$$
START=1900000000 # far from useradd's automatic ranges (100000 + n * 65536) and above
# --private-users' pick window (0x80000 ... 0x6FFF0000)
COUNT=65536
cleanup() {
        for u in "$UA" "$UB"; do
                if id "$u" >/dev/null 2>&1; then
                        # the user's store holds files of its range: remove them as root
                        pkill -KILL -u "$u" 2>/dev/null || true
                        userdel -r "$u" >/dev/null 2>&1 || true
                fi
                sed -i "/^$u:/d" /etc/subuid /etc/subgid 2>/dev/null || true
        done
        [ -n "${UIDA:-}" ] && rm -rf "/run/user/$UIDA"
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

# No automatic ranges: A gets exactly ours, B none.
# UIDs no other test's pods run as (their apps run as 0, 1000, 1001, ...: a throwaway user
# with such a UID would share them, and the cleanup's pkill -u would kill them).
free_uid() {
        local u
        for u in $(seq "$1" "$2"); do
                getent passwd "$u" >/dev/null || getent group "$u" >/dev/null ||
                        pgrep -U "$u" >/dev/null || {
                        echo "$u"
                        return 0
                }
        done
        return 1
}
ua=$(free_uid 41000 41249) || tap_skip_all "no free UID in 41000-41249"
useradd -m -u "$ua" -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$UA" || tap_skip_all "useradd failed"
ub=$(free_uid 41250 41499) || tap_skip_all "no free UID in 41250-41499"
useradd -m -u "$ub" -K SUB_UID_COUNT=0 -K SUB_GID_COUNT=0 "$UB" || tap_skip_all "useradd failed"
echo "$UA:$START:$COUNT" >>/etc/subuid
echo "$UA:$START:$COUNT" >>/etc/subgid
UIDA=$(id -u "$UA")
UIDB=$(id -u "$UB")
chmod 755 "$TAP_TMP"

AS_ENV=() # VAR=VALUE words added to the user's environment
as() { # as USER CMD...: runs CMD as USER with a clean environment and the user's HOME
        local u=$1
        shift
        setpriv --reuid="$u" --regid="$u" --init-groups --reset-env \
                env HOME="/home/$u" PATH=/usr/sbin:/usr/bin:/sbin:/bin \
                ${POD_STAGE1:+POD_STAGE1="$POD_STAGE1"} "${AS_ENV[@]}" "$@"
}
# run_as USER ARGS...: as run_pod, as USER
run_as() {
        local u=$1
        shift
        set +e
        as "$u" "$POD" --local-config="$TAP_TMP/etc" --system-config="$TAP_TMP/vendor" "$@" \
                >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr"
        STATUS=$?
        set -e
        OUT=$(cat "$TAP_TMP/stdout")
        ERR=$(cat "$TAP_TMP/stderr")
}

as "$UA" test -x "$POD" || tap_skip_all "'$POD' is not executable by a throwaway user (a 0700 directory on its path?)"
as "$UA" unshare --user true 2>/dev/null || tap_skip_all "unprivileged user namespaces are disabled here"
HAVE_UIDMAP=0
command -v newuidmap >/dev/null && command -v newgidmap >/dev/null && HAVE_UIDMAP=1

# ---- images (root-owned, user-owned, out of range) ----
python3 - "$TAP_TMP" <<'EOF'
import io, json, hashlib, sys, tarfile
d = sys.argv[1]
def f(name, uid=0, gid=0, data=b"x", mode=0o644):
    i = tarfile.TarInfo(name); i.size = len(data); i.uid = uid; i.gid = gid; i.mode = mode
    i.mtime = 1700000000
    return (i, io.BytesIO(data))
def dr(name, uid=0, gid=0):
    i = tarfile.TarInfo(name); i.type = tarfile.DIRTYPE; i.mode = 0o755; i.uid = uid; i.gid = gid
    i.mtime = 1700000000
    return (i,)
def aci(path, name, entries):
    with tarfile.open(path, "w:gz") as t:
        m = json.dumps({"acKind": "ImageManifest", "acVersion": "0.8.11", "name": name,
                        "labels": [{"name": "os", "value": "linux"}],
                        "app": {"exec": ["/bin/x"], "user": "0", "group": "0"}}).encode()
        t.addfile(*f("manifest", data=m))
        t.addfile(*dr("rootfs"))
        for e in entries:
            t.addfile(*e)
aci(d + "/root.aci", "example.com/rl-root", [f("rootfs/root-file")])
aci(d + "/user.aci", "example.com/rl-user",
    [f("rootfs/root-file"), dr("rootfs/home", 1000, 1000), f("rootfs/home/user-file", 1000, 1001)])
aci(d + "/far.aci", "example.com/rl-far", [f("rootfs/root-file"), f("rootfs/far-file", 70000, 70000)])
with tarfile.open(d + "/farman.aci", "w:gz") as t:
    m = json.dumps({"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/rl-farman"}).encode()
    t.addfile(*f("manifest", 70000, 70000, data=m))
    t.addfile(*dr("rootfs"))
aci(d + "/fargid.aci", "example.com/rl-fargid", [f("rootfs/root-file"), f("rootfs/fargid", 0, 65537)])

# A docker-save archive of two layers: the upper one whites out a file and makes a directory
# opaque.
def layer(entries):
    b = io.BytesIO()
    with tarfile.open(fileobj=b, mode="w") as t:
        for e in entries:
            t.addfile(*e)
    return b.getvalue()
l1 = layer([dr("etc"), f("etc/gone"), f("etc/kept"), dr("opq"), f("opq/old"), f("root-file")])
l2 = layer([dr("etc"), f("etc/.wh.gone", data=b""), dr("opq"), f("opq/.wh..wh..opq", data=b""),
            f("opq/new")])
sha = lambda b: "sha256:" + hashlib.sha256(b).hexdigest()
cfg = json.dumps({"architecture": "amd64", "os": "linux", "created": "2023-11-14T22:13:20Z",
                  "config": {"Cmd": ["/bin/x"]},
                  "rootfs": {"type": "layers", "diff_ids": [sha(l1), sha(l2)]}}).encode()
ch = hashlib.sha256(cfg).hexdigest()
with tarfile.open(d + "/layers.tar", "w") as t:
    t.addfile(*f(ch + ".json", data=cfg))
    t.addfile(*f("aaaa/layer.tar", data=l1))
    t.addfile(*f("bbbb/layer.tar", data=l2))
    m = [{"Config": ch + ".json", "RepoTags": ["example.com/rl-layers:1"],
          "Layers": ["aaaa/layer.tar", "bbbb/layer.tar"]}]
    t.addfile(*f("manifest.json", data=json.dumps(m).encode()))
EOF
chmod 644 "$TAP_TMP"/*.aci "$TAP_TMP"/layers.tar

# ---- root: unchanged ----
run_pod config --format=paths
assert_match "root: --dir default unchanged" "$OUT" '^data-dir=/.*/lib/pod$'
assert_no_match "root: no rootless lines" "$OUT" '^(runtime-dir|rootless-uid)='

# ---- user A: paths ----
run_as "$UA" config --format=paths
assert_status "A: pod config as a user" 0
assert_match "A: data dir is ~/.local/share/pod" "$OUT" "^data-dir=/home/$UA/\\.local/share/pod\$"
assert_match "A: user config is ~/.config/pod" "$OUT" "^user-config=/home/$UA/\\.config/pod\$"
assert_match "A: rootless-uid is the host UID" "$OUT" "^rootless-uid=$UIDA\$"
assert_match "A: no \$XDG_RUNTIME_DIR: no runtime dir" "$OUT" '^runtime-dir=$'
mkdir -p "/run/user/$UIDA"
chown "$UA:" "/run/user/$UIDA"
chmod 700 "/run/user/$UIDA"
AS_ENV=(XDG_DATA_HOME="/home/$UA/xdg" XDG_RUNTIME_DIR="/run/user/$UIDA")
run_as "$UA" config --format=paths
AS_ENV=()
assert_match "A: \$XDG_DATA_HOME/pod" "$OUT" "^data-dir=/home/$UA/xdg/pod\$"
assert_match "A: \$XDG_RUNTIME_DIR/pod" "$OUT" "^runtime-dir=/run/user/$UIDA/pod\$"
tap_check "A: the runtime dir is made 0700 and A's" \
        "$([ "$(stat -c %a:%U "/run/user/$UIDA/pod" 2>/dev/null)" = "700:$UA" ]; echo $?)"
rm -rf "/run/user/$UIDA"

# ---- trust: the user's own keys, never the admin's ----
mkdir -p "$TAP_TMP/etc" "$TAP_TMP/vendor"
if command -v gpg >/dev/null; then
        export GNUPGHOME=$TAP_TMP/gnupg
        mkdir -m 700 "$GNUPGHOME"
        gpg --batch --passphrase '' --quick-gen-key 'Signer <signer@example.com>' ed25519 sign never \
                >/dev/null 2>&1
        gpg --batch --armor --export signer@example.com >"$TAP_TMP/signer.asc" 2>/dev/null
        chmod 644 "$TAP_TMP/signer.asc"
        FP=$(gpg --batch --with-colons --fingerprint signer@example.com | awk -F: '/^fpr/ {print tolower($10); exit}')
        run_as "$UA" trust --skip-fingerprint-review --root "$TAP_TMP/signer.asc"
        assert_status "A: pod trust (rootless)" 0
        tap_check "A: the key is in A's ~/.config/pod" \
                "$([ -s "/home/$UA/.config/pod/trustedkeys/root.d/$FP" ]; echo $?)" "$OUT $ERR"
        tap_check "A: the admin's directory is untouched" \
                "$([ ! -e "$TAP_TMP/etc/trustedkeys" ]; echo $?)"
        run_as "$UB" trust --list
        assert_no_match "B does not trust A's key" "$OUT" "$FP"
else
        for _ in 1 2 3 4; do tap_check "# SKIP gpg is needed for the trust checks" 0; done
fi

if [ "$HAVE_UIDMAP" = 1 ]; then
        # ---- A: the range ----
        run_as "$UA" --insecure-options=image fetch "$TAP_TMP/user.aci"
        assert_status "A: fetch an image with a file of uid 1000" 0
        assert_no_match "A: no single-ID note with a range" "$ERR" 'single ID'
        IDU=$(tail -n 1 <<<"$OUT")
        T=/home/$UA/.local/share/pod
        tap_check "A: the state dir is 0700 and A's" \
                "$([ "$(stat -c %a:%U "$T")" = "700:$UA" ]; echo $?)"
        UF=$(find "$T/cas/tree" -name user-file 2>/dev/null | head -1 || true)
        RF=$(find "$T/cas/tree" -name root-file 2>/dev/null | head -1 || true)
        tap_check "A: image uid 1000 is the range's start + 999 on the host" \
                "$([ "$(stat -c %u:%g "$UF" 2>/dev/null)" = "$((START + 999)):$((START + 1000))" ]; echo $?)" \
                "$(stat -c %u:%g "$UF" 2>&1)"
        tap_check "A: image root is A on the host" \
                "$([ "$(stat -c %u "$RF" 2>/dev/null)" = "$UIDA" ]; echo $?)"

        # the attack: an owner outside the range used to be stored silently as root's (A's)
        run_as "$UA" --insecure-options=image fetch "$TAP_TMP/far.aci"
        assert_status "A: an owner outside the range fails the import" 254
        assert_match "A: ... naming the file, the owner and the range" "$ERR" \
                "rootfs/far-file.*owner 70000:70000.*uids 0-65536"
        run_as "$UA" --insecure-options=image fetch "$TAP_TMP/fargid.aci"
        assert_status "A: a group outside the range fails too" 254
        assert_match "A: ... naming the group" "$ERR" "rootfs/fargid.*owner 0:65537"
        run_as "$UA" --insecure-options=image fetch "$TAP_TMP/farman.aci"
        assert_status "A: a manifest owned outside the range fails the import" 254
        assert_match "A: ... naming it" "$ERR" "'manifest'.*owner 70000:70000"
        run_as "$UA" image list
        assert_no_match "A: the refused images are not stored" "$OUT" 'rl-far'

        # OCI layers: whiteout (0/0 char device) and user.overlay.opaque in a user namespace
        run_as "$UA" --insecure-options=image image import "$TAP_TMP/layers.tar"
        assert_status "A: import a docker-save archive with a whiteout and an opaque dir" 0
        OPQ=$(find "$T/cas/layer" -type d -name opq 2>/dev/null | while read -r d; do [ -e "$d/new" ] && echo "$d"; done | head -1 || true)
        tap_check "A: the opaque dir carries user.overlay.opaque=y" \
                "$(python3 -c 'import os,sys; sys.exit(os.getxattr(sys.argv[1], "user.overlay.opaque", follow_symlinks=False) != b"y")' "$OPQ" 2>/dev/null; echo $?)"
        tap_check "A: ... and no trusted.overlay.opaque" \
                "$(python3 -c 'import os,sys; os.getxattr(sys.argv[1], "trusted.overlay.opaque", follow_symlinks=False)' "$OPQ" 2>/dev/null && echo 1 || echo 0)"
        WH=$(find "$T/cas/layer" -name gone -type c 2>/dev/null | head -1 || true)
        tap_check "A: the whiteout is a 0/0 character device" \
                "$([ -n "$WH" ] && [ "$(stat -c %t:%T "$WH")" = 0:0 ]; echo $?)"
        run_as "$UA" image extract example.com/rl-layers:1 "/home/$UA/ex"
        assert_status "A: image extract of the layered image" 0
        # the extract is A's (owned by the namespace's IDs): read it as A
        tap_check "A: the merge honours the opaque dir and the whiteout" \
                "$(as "$UA" sh -c "d=\$(find '/home/$UA/ex' -type d -name opq | head -1); [ -e \"\$d/new\" ] && [ ! -e \"\$d/old\" ] && ! find '/home/$UA/ex' -name gone | grep -q . && find '/home/$UA/ex' -name kept | grep -q ."; echo $?)"

        # ---- A: pods ----
        run_as "$UA" prepare --pull-policy=never "$IDU"
        assert_status "A: prepare" 0
        PA=$OUT
        run_as "$UA" list --no-legend
        assert_match "A: list shows A's pod" "$OUT" "^${PA:0:8} "
        run_as "$UA" status "$PA"
        assert_match "A: status of A's pod" "$OUT" '^state=prepared$'

        # ---- A: --private-users (a range nested in A's own) is refused, by stage0, up front ----
        run_as "$UA" list --no-legend --full
        PODS_BEFORE=$(sort <<<"$OUT" | awk '{ print $1 }')
        for f in --private-users --private-users=pick --private-users=100000:65536; do
                for verb in run prepare; do
                        run_as "$UA" "$verb" --pull-policy=never "$f" "$IDU"
                        tap_check "A: rootless pod $verb $f is refused" \
                                "$([ "$STATUS" != 0 ]; echo $?)" "status $STATUS: $OUT $ERR"
                        assert_match "A: ... saying why and what to use instead" "$ERR" \
                                "rootless.*your own user namespace.*without --private-users.*as root"
                done
        done
        run_as "$UA" list --no-legend --full
        tap_check "A: ... and no pod was made for them" \
                "$([ "$(sort <<<"$OUT" | awk '{ print $1 }')" = "$PODS_BEFORE" ]; echo $?)" \
                "before: $PODS_BEFORE; after: $OUT"
        tap_check "A: ... nor any range recorded" \
                "$([ -z "$(find "$T/userns" -mindepth 1 ! -name lock 2>/dev/null)" ]; echo $?)" \
                "$(ls "$T/userns" 2>&1)"
        mkdir -p "$TAP_TMP/etc"
        echo 'private-users=pick' >"$TAP_TMP/etc/userns.conf"
        run_as "$UA" run --pull-policy=never "$IDU"
        rm -f "$TAP_TMP/etc/userns.conf"
        tap_check "A: a configured private-users default is refused too (not silently dropped)" \
                "$([ "$STATUS" != 0 ]; echo $?)" "status $STATUS: $OUT $ERR"
        assert_match "A: ... naming the configuration" "$ERR" "userns.conf.*--private-users=no"
else
        for _ in 1 2 3 4; do tap_check "# SKIP newuidmap/newgidmap missing (Debian's uidmap)" 0; done
fi

# ---- user B: no range, the single-ID map ----
run_as "$UB" --insecure-options=image fetch "$TAP_TMP/root.aci"
assert_status "B: fetch an image owned by root only" 0
IDB=$(tail -n 1 <<<"$OUT")
assert_match "B: one note on the single-ID map" "$ERR" 'single ID.*no range for .'"$UB"'. in /etc/subuid'
tap_check "B: the note is said once" "$([ "$(grep -c 'single ID' <<<"$ERR")" = 1 ]; echo $?)"
run_as "$UB" --insecure-options=image fetch "$TAP_TMP/user.aci"
assert_status "B: an image with a file of uid 1000 fails" 254
assert_match "B: ... naming the file, owner and the single ID" "$ERR" \
        "rootfs/home.*owner 1000:1000.*uids 0, gids 0"
RB=$(find "/home/$UB/.local/share/pod/cas/tree" -name root-file 2>/dev/null | head -1 || true)
tap_check "B: image root is B on the host" \
        "$([ "$(stat -c %u "$RB" 2>/dev/null)" = "$UIDB" ]; echo $?)"
run_as "$UB" prepare --pull-policy=never "$IDB"
assert_status "B: prepare" 0
PB=$OUT

# ---- isolation ----
run_as "$UB" image list
assert_no_match "B does not see A's images" "$OUT" 'rl-user|rl-layers'
run_as "$UB" list --no-legend
assert_match "B sees its own pod" "$OUT" "^${PB:0:8} "
if [ "$HAVE_UIDMAP" = 1 ]; then
        assert_no_match "B does not see A's pod" "$OUT" "^${PA:0:8} "
        run_as "$UB" status "$PA"
        assert_status "B cannot name A's pod" 254
        run_as "$UB" --dir="/home/$UA/.local/share/pod" list
        assert_status "B cannot list A's state dir" 254
        run_as "$UA" image list
        assert_no_match "A does not see B's images" "$OUT" 'rl-root'
        run_as "$UA" list --no-legend
        assert_no_match "A does not see B's pod" "$OUT" "^${PB:0:8} "
fi

# ---- rm, gc ----
run_as "$UB" rm "$PB"
assert_status "B: rm" 0
run_as "$UB" gc --grace-period=0s
assert_status "B: gc" 0
run_as "$UB" image rm "$IDB"
assert_status "B: image rm" 0
if [ "$HAVE_UIDMAP" = 1 ]; then
        run_as "$UA" rm "$PA"
        assert_status "A: rm" 0
        run_as "$UA" list --no-legend
        tap_check "A: no pods left" "$([ -z "$OUT" ]; echo $?)" "$OUT"
        run_as "$UA" image rm example.com/rl-user example.com/rl-layers:1
        assert_status "A: image rm (files of the range included)" 0
        run_as "$UA" image gc
        assert_status "A: image gc" 0
        tap_check "A: no range-owned files left in the store" \
                "$([ -z "$(find "/home/$UA/.local/share/pod/cas/tree" "/home/$UA/.local/share/pod/cas/layer" -mindepth 1 -uid $((START + 999)) 2>/dev/null)" ]; echo $?)"
fi

# ---- pod run (needs stage1's rootless mode, branch rootless-stage1) ----
S1=${POD_STAGE1:-${top_builddir:-}/stage1/pod-stage1}
if [ "$HAVE_UIDMAP" = 1 ] && [ -x "$S1" ] && "$S1" --help 2>&1 | grep -qi rootless &&
        [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static; then
        IMG=$TAP_TMP/bb
        mkdir -p "$IMG/rootfs/bin"
        cp /bin/busybox "$IMG/rootfs/bin/busybox"
        ln -s busybox "$IMG/rootfs/bin/sh"
        cat >"$IMG/manifest" <<'EOF'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/rl-bb",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/sh","-c","id -u; echo x > /w && stat -c owner=%u /w"],"user":"0","group":"0"}}
EOF
        "$POD" image build "$IMG" "$TAP_TMP/bb.aci" >/dev/null
        chmod 644 "$TAP_TMP/bb.aci"
        run_as "$UA" --insecure-options=image run --net=none "$TAP_TMP/bb.aci"
        assert_status "A: pod run --net=none, rootless" 0
        assert_match "A: the app is root in the pod" "$OUT" '^0$'
        assert_match "A: it writes its root file system (owner 0 in the pod)" "$OUT" '^owner=0$'
        run_as "$UA" --insecure-options=image run --net=none "$TAP_TMP/bb.aci" --user=1000 --group=1000 \
                --exec=/bin/sh -- -c 'id -u; cat /proc/self/uid_map'
        assert_status "A: an app as uid 1000" 0
        assert_match "A: ... is 1000 in the pod, in the range's map" "$OUT" "^1000\$"
        assert_match "A: ... whose map is A's range" "$OUT" "1 +$START +$COUNT"
        run_as "$UA" list --no-legend
        assert_match "A: the exited pod is listed" "$OUT" 'exited'
        run_as "$UA" gc --grace-period=0s
        assert_status "A: gc of the exited pods" 0
        run_as "$UA" list --no-legend
        tap_check "A: ... removes them" "$([ -z "$OUT" ]; echo $?)" "$OUT"
        # a running pod: enter (stage0 stays outside, stage1 joins), stop, export
        as "$UA" "$POD" --local-config="$TAP_TMP/etc" --system-config="$TAP_TMP/vendor" \
                --insecure-options=image run --net=none "$TAP_TMP/bb.aci" --exec=/bin/sh -- \
                -c 'sleep 120' >/dev/null 2>&1 &
        RUNNING=
        for _ in $(seq 50); do
                run_as "$UA" list --no-legend --full
                RUNNING=$(grep -w running <<<"$OUT" | awk '{ print $1 }' | head -1 || true)
                [ -n "$RUNNING" ] && break
                sleep 0.2
        done
        tap_check "A: a pod runs in the background" "$([ -n "$RUNNING" ]; echo $?)" "$OUT"
        run_as "$UA" enter "$RUNNING" /bin/sh -c 'id -u'
        assert_status "A: enter A's running pod" 0
        assert_match "A: ... as its root" "$OUT" '^0$'
        run_as "$UB" enter "$RUNNING" /bin/sh -c 'id -u'
        assert_status "B cannot enter A's pod" 254
        run_as "$UA" stop "$RUNNING"
        assert_status "A: stop" 0
        wait
        run_as "$UA" export "$RUNNING" "/home/$UA/out.aci"
        assert_status "A: export the stopped pod" 0
        run_as "$UA" gc --grace-period=0s
        run_as "$UB" --insecure-options=image run --net=none "$TAP_TMP/bb.aci"
        assert_status "B (single ID): pod run as root" 0
        assert_match "B: the app is root in the pod" "$OUT" '^0$'
        # The metadata server (pod-stage1-supervise --mds): with a range it becomes the
        # range's nobody, with a single ID (no setgroups) it keeps that ID without
        # capabilities; either way it answers.
        for u in "$UA" "$UB"; do
                # shellcheck disable=SC2016 # for the app's shell
                run_as "$u" --insecure-options=image run --net=none "$TAP_TMP/bb.aci" --exec=/bin/sh -- \
                        -c 'busybox wget -q -O - --header "Metadata-Flavor: AppContainer" \
                                "$AC_METADATA_URL/acMetadata/v1/pod/uuid"; echo
                            for d in /proc/[0-9]*; do
                                    [ "$(busybox cat "$d/comm")" = pod-stage1-mds ] || continue
                                    echo pod-stage1-mds
                                    busybox grep -E "^(CapPrm|CapEff|NoNewPrivs):" "$d/status"
                            done'
                assert_match "$u: the pod's metadata service answers" "$OUT" \
                        '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
                assert_match "$u: ... from the static binary" "$OUT" '^pod-stage1-mds$'
                assert_match "$u: ... with no capability" "$OUT" '^CapEff:[[:space:]]+0+$'
                assert_match "$u: ... none permitted" "$OUT" '^CapPrm:[[:space:]]+0+$'
                assert_match "$u: ... no_new_privs" "$OUT" '^NoNewPrivs:[[:space:]]+1$'
        done
else
        tap_check "# SKIP pod run rootless: pod-stage1 --help has no rootless mode yet (branch rootless-stage1), or no uidmap/static busybox" 0
fi

tap_done
