#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pods use the store's trees directly as their overlay lower dirs (issue 16; stage1 ABI 4),
# so the store guarantees what that needs, each checked here:
#   - a pod creates nothing per image file: an empty rootfs/ mount point and a `lowers` file
#     naming the store tree (its real path);
#   - the lower tree is never written: a pod that writes, deletes and chmods files in its
#     root leaves the tree byte for byte as it was;
#   - the store is not reachable by other users (cas/ is 0700);
#   - a tree from an older pod (no lower-ok marker; it may carry trusted.* attributes) is
#     copied per pod with the attribute filter, never mounted as it is;
#   - the in-use rule: `pod image rm` refuses an image a prepared, a running or an exited pod
#     was made from (naming the pod), `pod image gc` keeps it, a running pod keeps working
#     meanwhile, and `pod rm` of the last such pod frees it.
# A Docker/OCI image (an OCI layout imported): its layers are the pod's lower dirs, merged
# by overlayfs (opaque dirs, whiteouts), flattened by layer-merge.h for --no-overlay, merged
# again by pod export, kept while pods use them and collected by gc after.
# Also stage1's Docker rules: the image's stop signal annotation (Docker's StopSignal) is
# what `pod stop` sends; the primary-group annotation gives a user its /etc/passwd group.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (pods)"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --insecure-options=image)
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

# image NAME [ANNOTATIONS-JSON]: a busybox image, imported; prints its ID
image() {
        local img=$W/img-$1
        mkdir -p "$img/rootfs/bin" "$img/rootfs/etc" "$img/rootfs/data/sub"
        cp "$BUSYBOX" "$img/rootfs/bin/busybox"
        ln -sf busybox "$img/rootfs/bin/sh"
        printf 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1234:app:/home/app:/bin/sh\n' \
                >"$img/rootfs/etc/passwd"
        echo 'root:x:0:' >"$img/rootfs/etc/group"
        echo data >"$img/rootfs/data/file"
        echo sub >"$img/rootfs/data/sub/file"
        cat >"$img/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/$1",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","true"],"user":"0","group":"0"}${2:+,\"annotations\":$2}}
JSON
        "$POD" image build "$img" "$W/$1.aci" >/dev/null
        "$POD" "${P[@]}" image import "$W/$1.aci" 2>/dev/null
}
tree_sum() { # contents, types, modes, owners, times and xattrs of a tree
        python3 - "$1" <<'PY'
import hashlib, os, sys
h = hashlib.sha256()
for d, dirs, files in sorted(os.walk(sys.argv[1])):
    for n in sorted(dirs + files) + ["."]:
        p = os.path.join(d, n)
        st = os.lstat(p)
        h.update(repr((os.path.relpath(p, sys.argv[1]), st.st_mode, st.st_uid, st.st_gid,
                       st.st_size, st.st_mtime_ns, st.st_ino)).encode())
        for x in sorted(os.listxattr(p, follow_symlinks=False)):
            h.update(x.encode() + os.getxattr(p, x, follow_symlinks=False))
        if os.path.islink(p):
            h.update(os.readlink(p).encode())
        elif os.path.isfile(p):
            h.update(open(p, "rb").read())
print(h.hexdigest())
PY
}
trusted_xattrs() { # names of trusted.* attributes anywhere in a tree
        python3 - "$1" <<'PY'
import os, sys
for d, dirs, files in os.walk(sys.argv[1]):
    for n in dirs + files + ["."]:
        p = os.path.join(d, n)
        for x in os.listxattr(p, follow_symlinks=False):
            if x.startswith("trusted."):
                print(p, x)
PY
}
setxattr() { python3 -c 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode())' "$@"; }
pod_dir() { find "$D/pods" -mindepth 2 -maxdepth 2 -name "$1" | head -n1; }

ID=$(image inuse)
B=example.com/inuse:1
TREE=$(realpath "$D/cas/tree/$ID")
BEFORE=$(tree_sum "$TREE/rootfs")

# ---- the pod's root is the store's tree -------------------------------------------------
run_pod "${P[@]}" prepare --pull-policy=never "$B"
assert_status "prepare" 0
PREP=$(tail -n1 <<<"$OUT")
PD=$(pod_dir "$PREP")
tap_check "the pod's lowers file names the store tree" \
        "$([ "$(cat "$PD/stage1/rootfs/opt/stage2/inuse/lowers")" = "$TREE/rootfs" ]; echo $?)" \
        "$(cat "$PD/stage1/rootfs/opt/stage2/inuse/lowers")"
tap_check "the pod's rootfs/ is an empty mount point: nothing made per file" \
        "$([ "$(find "$PD/stage1/rootfs/opt/stage2/inuse/rootfs" | wc -l)" = 1 ]; echo $?)"
tap_check "the pod records the images it uses" "$(grep -qx "$ID" "$PD/images"; echo $?)"
tap_check "the store is 0700" "$([ "$(stat -c %a "$D/cas")" = 700 ]; echo $?)"

# ---- a prepared pod keeps its image ----------------------------------------------------
run_pod "${P[@]}" image rm "$B"
assert_status "image rm of an image a prepared pod uses is refused" 254
assert_match "... naming the pod" "$ERR" "used by pod $PREP"
run_pod "${P[@]}" image gc --grace-period=0s
assert_status "image gc with a pod using the image" 0
assert_match "image gc keeps it, as in use" "$OUT" "Kept image $ID: in use by a pod"
tap_check "the tree is still there" "$([ -d "$TREE/rootfs/bin" ]; echo $?)"

# ---- an exited pod: it wrote everywhere, the tree did not change --------------------------
run_pod "${P[@]}" run --pull-policy=never --net=none "$B" --exec=/bin/sh -- -c \
        'echo new >/bin/new && echo changed >/etc/passwd && rm /data/file && rm -r /data/sub &&
         chmod 700 /bin/busybox && echo ok'
assert_status "a pod writes, removes and chmods in its root" 0
assert_match "... and sees its writes" "$OUT" "^ok$"
EXITED=$(ls "$D/pods/run")
tap_check "the store tree is unchanged by the pod's writes" \
        "$([ "$(tree_sum "$TREE/rootfs")" = "$BEFORE" ]; echo $?)"
run_pod "${P[@]}" rm "$PREP"
assert_status "rm of the prepared pod" 0
run_pod "${P[@]}" image rm "$B"
assert_status "image rm of an image an exited pod uses is refused" 254
assert_match "... naming the exited pod" "$ERR" "used by pod $EXITED"

# ---- a running pod keeps working while rm is attempted -------------------------------------
mkdir -p "$W/vol"
"$POD" "${P[@]}" run --pull-policy=never --net=none \
        --volume=v,kind=host,source="$W/vol" --mount=volume=v,target=/vol "$B" \
        --exec=/bin/sh -- -c 'echo up >/vol/up; while [ ! -e /vol/go ]; do busybox sleep 0.1; done;
                busybox cat /data/sub/file >/vol/out' >"$W/run.out" 2>&1 &
RUNPID=$!
for _ in $(seq 100); do [ -e "$W/vol/up" ] && break; sleep 0.1; done
run_pod "${P[@]}" image rm "$B"
assert_status "image rm while a pod runs is refused" 254
run_pod "${P[@]}" image gc --grace-period=0s
assert_match "image gc keeps the running pod's image" "$OUT" "Kept image $ID"
touch "$W/vol/go"
wait "$RUNPID"
tap_check "the running pod kept working: its files are all there" \
        "$([ "$(cat "$W/vol/out" 2>/dev/null)" = sub ]; echo $?)" "$(cat "$W/run.out")"

# ---- pod rm of the last user frees the image ---------------------------------------------
for u in "$D"/pods/run/*; do "$POD" "${P[@]}" rm "$(basename "$u")" >/dev/null; done
run_pod "${P[@]}" image rm "$B"
assert_status "image rm once no pod uses it" 0
tap_check "its tree is gone" "$([ ! -e "$TREE" ]; echo $?)"

# ---- an older tree (no lower-ok marker) is copied, with the attribute filter -----------------
ID2=$(image legacy)
T2=$D/cas/tree/$ID2
rm "$T2/lower-ok"
setxattr "$T2/rootfs/data" trusted.overlay.opaque y
setxattr "$T2/rootfs/data/file" trusted.pod-test x
tap_check "the old tree has trusted.* attributes (the case the marker guards)" \
        "$([ -n "$(trusted_xattrs "$T2/rootfs")" ]; echo $?)"
run_pod "${P[@]}" prepare --pull-policy=never example.com/legacy:1
assert_status "prepare from a tree without the marker" 0
LD=$(pod_dir "$(tail -n1 <<<"$OUT")")/stage1/rootfs/opt/stage2/legacy
tap_check "no lowers file: the tree is not mounted as it is" "$([ ! -e "$LD/lowers" ]; echo $?)"
tap_check "the tree is copied into rootfs/" "$([ -x "$LD/rootfs/bin/busybox" ]; echo $?)"
tap_check "the copy carries no trusted.* attribute" \
        "$([ -z "$(trusted_xattrs "$LD/rootfs")" ]; echo $?)" "$(trusted_xattrs "$LD/rootfs")"
run_pod "${P[@]}" run --pull-policy=never --net=none example.com/legacy:1 --exec=/bin/sh -- \
        -c 'busybox cat /data/file'
assert_match "a pod of the copied tree sees the directory's files (no opaque marker)" "$OUT" "^data$"

# ---- the image's stop signal ---------------------------------------------------------------
image stopsig '[{"name":"pod/docker-stop-signal","value":"SIGUSR1"}]' >/dev/null
rm -f "$W/vol/up"
"$POD" "${P[@]}" run --pull-policy=never --net=none --uuid-file-save="$W/stop.uuid" \
        --volume=v,kind=host,source="$W/vol" --mount=volume=v,target=/vol example.com/stopsig:1 \
        --exec=/bin/sh -- -c 'trap "echo usr1 >/vol/sig; exit 7" USR1; trap "echo term >/vol/sig; exit 9" TERM;
                echo up >/vol/up; while :; do busybox sleep 0.1; done' >"$W/stop.out" 2>&1 &
RUNPID=$!
for _ in $(seq 100); do [ -e "$W/vol/up" ] && break; sleep 0.1; done
for _ in $(seq 100); do [ -e "$D/pods/run/$(cat "$W/stop.uuid")/pid" ] && break; sleep 0.1; done
run_pod "${P[@]}" stop "$(cat "$W/stop.uuid")"
assert_status "pod stop" 0
set +e
for _ in $(seq 100); do kill -0 "$RUNPID" 2>/dev/null || break; sleep 0.1; done
kill -0 "$RUNPID" 2>/dev/null && "$POD" "${P[@]}" stop --force "$(cat "$W/stop.uuid")" >/dev/null
wait "$RUNPID"
RC=$?
set -e
tap_check "pod stop sends the image's stop signal (SIGUSR1), not SIGTERM" \
        "$([ "$(cat "$W/vol/sig" 2>/dev/null)" = usr1 ] && [ "$RC" = 7 ]; echo $?)" \
        "status $RC, signal file: $(cat "$W/vol/sig" 2>/dev/null); $(cat "$W/stop.out")"

# ---- a Docker/OCI image: its layers are the lower dirs ------------------------------------
HELPERS=$(dirname "$0")/../helpers
cat >"$W/oci.json" <<'JSON'
{"media": "oci",
 "layers": [{"busybox": ["sh", "cat", "ls"],
             "entries": [{"path": "opt/old", "type": "file", "content": "old"},
                         {"path": "gone", "type": "file", "content": "gone"},
                         {"path": "f", "type": "file", "content": "f0"}]},
            {"entries": [{"path": "opt", "type": "opaque"},
                         {"path": "opt/new", "type": "file", "content": "new"},
                         {"path": "gone", "type": "whiteout"},
                         {"path": "f", "type": "dir"}, {"path": "f/z", "type": "file", "content": "z"}]},
            {"entries": [{"path": "f", "type": "whiteout"},
                         {"path": "top", "type": "file", "content": "top"}]}],
 "config": {"Entrypoint": ["/bin/sh", "-c"], "Cmd": ["busybox ls /opt; busybox cat /top"]}}
JSON
python3 "$HELPERS/oci-image.py" layout "$W/oci.json" --out "$W/layout" --tag 1 >/dev/null
OCI=$("$POD" "${P[@]}" image import "$W/layout" 2>/dev/null | tail -n1)
run_pod "${P[@]}" prepare --pull-policy=never "$OCI"
assert_status "prepare a pod of an OCI image" 0
OPD=$(pod_dir "$(tail -n1 <<<"$OUT")")
OAPP=$(basename "$(dirname "$(find "$OPD/stage1/rootfs/opt/stage2" -name lowers | head -n1)")")
tap_check "its lowers are the image's 3 layers in the store, top first" \
        "$([ "$(grep -c "^$(realpath "$D")/cas/layer/sha256-[0-9a-f]\{64\}/rootfs\$" \
                "$OPD/stage1/rootfs/opt/stage2/$OAPP/lowers")" = 3 ] &&
                [ -e "$(sed -n 1p "$OPD/stage1/rootfs/opt/stage2/$OAPP/lowers")/top" ]; echo $?)" \
        "$(cat "$OPD/stage1/rootfs/opt/stage2/$OAPP/lowers")"
run_pod "${P[@]}" run-prepared --net=none "$(basename "$OPD")"
assert_status "the OCI pod runs" 0
tap_check "... seeing the layers merged (opaque /opt, whiteouts)" \
        "$([ "$(tr '\n' ' ' <<<"$OUT")" = "new top " ]; echo $?)" "$OUT"
run_pod "${P[@]}" run --pull-policy=never --net=none --no-overlay "$OCI" -- \
        'busybox ls /opt; busybox cat /top; [ -e /gone ] || [ -e /f ] || echo clean; echo w >/top; busybox cat /top'
tap_check "--no-overlay: the layers flattened into a private copy, written to" \
        "$([ "$(tr '\n' ' ' <<<"$OUT")" = "new topclean w " ]; echo $?)" "$OUT $ERR"
"$POD" "${P[@]}" run --pull-policy=never --net=none --uuid-file-save="$W/oci.uuid" "$OCI" -- \
        'echo added >/added; busybox rm /top' >/dev/null 2>&1
run_pod "${P[@]}" export "$(cat "$W/oci.uuid")" "$W/oci-pod.aci"
assert_status "pod export of an OCI pod" 0
tap_check "the export is the merged root with the pod's changes" \
        "$(tar -tzf "$W/oci-pod.aci" >"$W/oci-pod.list" 2>/dev/null || tar -tf "$W/oci-pod.aci" >"$W/oci-pod.list";
           grep -qx 'rootfs/added' "$W/oci-pod.list" && grep -qx 'rootfs/opt/new' "$W/oci-pod.list" &&
           ! grep -Eq '^rootfs/(top|gone|f|opt/old)$|\.wh\.' "$W/oci-pod.list"; echo $?)" \
        "$(grep -v bin/ "$W/oci-pod.list" | head -20)"
run_pod "${P[@]}" image rm "$OCI"
assert_status "image rm of an OCI image pods use is refused" 254
for u in "$D"/pods/*/*; do
        if grep -qx "$OCI" "$u/images" 2>/dev/null; then "$POD" "${P[@]}" rm "$(basename "$u")" >/dev/null; fi
done
run_pod "${P[@]}" image rm "$OCI"
assert_status "image rm of the OCI image once its pods are gone" 0
run_pod "${P[@]}" image gc --grace-period=0s
tap_check "image gc then removes its layers" \
        "$([ -z "$(ls "$D/cas/layer" 2>/dev/null)" ]; echo $?)" "$(ls "$D/cas/layer")"

# ---- stage1 opens the lower dirs without following symlinks, in root's directories --------
lowers_run() { # PATH: run-prepared a pod whose lowers file names PATH
        local uuid
        uuid=$("$POD" "${P[@]}" prepare --pull-policy=never example.com/legacy:1 2>/dev/null | tail -n1)
        echo "$1" >"$(pod_dir "$uuid")/stage1/rootfs/opt/stage2/legacy/lowers"
        rm -rf "$(pod_dir "$uuid")/stage1/rootfs/opt/stage2/legacy/rootfs"
        mkdir "$(pod_dir "$uuid")/stage1/rootfs/opt/stage2/legacy/rootfs"
        run_pod "${P[@]}" run-prepared --net=none "$uuid"
}
mkdir -p "$W/real/tree/rootfs/bin"
cp "$BUSYBOX" "$W/real/tree/rootfs/bin/sh"
ln -s real "$W/link"
lowers_run "$W/link/tree/rootfs"
assert_status "a lower dir path with a symlink in it is refused" 254
assert_match "... saying so" "$ERR" "no symlink may be in its path"
chown 65534 "$W/real/tree"
lowers_run "$(realpath "$W/real/tree/rootfs")"
assert_status "a lower dir in a directory root does not own is refused" 254
assert_match "... saying so" "$ERR" "owned by uid 65534, not by root"

# ---- Docker's User rule in stage1: the primary group from the image's /etc/passwd ---------
image users >/dev/null
primary_group() { # USER ANNOTATE: the gid the app runs with
        local uuid pd
        uuid=$("$POD" "${P[@]}" prepare --pull-policy=never example.com/users:1 --user="$1" \
                --exec=/bin/busybox -- id -g 2>/dev/null | tail -n1)
        pd=$(pod_dir "$uuid")
        if [ "$2" = yes ]; then
                python3 - "$pd/pod" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
m["apps"][0]["annotations"] = [{"name": "pod/docker-primary-group", "value": "true"}]
json.dump(m, open(sys.argv[1], "w"))
PY
        fi
        "$POD" "${P[@]}" run-prepared --net=none "$uuid" 2>&1 | tail -n1
}
tap_check "without the annotation the app's group stays (0)" \
        "$([ "$(primary_group app no)" = 0 ]; echo $?)"
tap_check "with it, a named user gets its primary group from /etc/passwd" \
        "$([ "$(primary_group app yes)" = 1234 ]; echo $?)"
tap_check "... a uid with an entry too" "$([ "$(primary_group 1000 yes)" = 1234 ]; echo $?)"
tap_check "... a uid without an entry gets 0" "$([ "$(primary_group 4242 yes)" = 0 ]; echo $?)"

tap_done
