#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Images in use are pinned: `pod prepare` (and so `pod run`) running while `pod image rm` and
# `pod image gc` remove the same image never gets a half-removed tree.  Every prepare either
# renders the whole image or fails saying the image is gone; every rm either removes the
# image or keeps it saying a pod is being prepared from it.  Before pinning, prepares
# succeeded with trees that lacked files (and their pods failed inside: "'/bin/sh' in the
# image: No such file or directory").
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (pod prepare renders owned trees)"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --insecure-options=image)
SECONDS_CHURN=${POD_PIN_CHURN_SECONDS:-12}

# An image with enough entries that rendering it takes a while: the window removal hits.
IMG=$W/img
mkdir -p "$IMG/rootfs/bin"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
ln -s busybox "$IMG/rootfs/bin/sh"
for d in $(seq 40); do
        mkdir -p "$IMG/rootfs/data/d$d"
        for f in $(seq 50); do echo "$d/$f" >"$IMG/rootfs/data/d$d/f$f"; done
done
NFILES=$(find "$IMG/rootfs" | wc -l)
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
cat >"$IMG/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/pinned",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","true"],"user":"0","group":"0"}}
JSON
"$POD" image build "$IMG" "$W/pinned.aci" >/dev/null
"$POD" "${P[@]}" image import "$W/pinned.aci" >/dev/null
B=example.com/pinned:1

preparer() { # preparer N: prepares until the deadline; one result line per try
        local out uuid dir n
        while [ "$(date +%s)" -lt "$END" ]; do
                if out=$("$POD" "${P[@]}" prepare --pull-policy=never "$B" 2>"$W/prep$1.err"); then
                        uuid=$(tail -n1 <<<"$out")
                        dir=$(find "$D/pods" -mindepth 2 -maxdepth 2 -name "$uuid" | head -n1)
                        # The store's tree itself is the pod's lower dir (its lowers file).
                        n=$(find "$(head -n1 "$dir/stage1/rootfs/opt/stage2/pinned/lowers")" | wc -l)
                        echo "ok $n" >>"$W/prep$1.log"
                        "$POD" "${P[@]}" rm "$uuid" >/dev/null 2>&1 || true
                else
                        echo "failed $(tr '\n' ' ' <"$W/prep$1.err")" >>"$W/prep$1.log"
                        sleep 0.05
                fi
        done
}
remover() { # removes and re-imports until the deadline
        while [ "$(date +%s)" -lt "$END" ]; do
                sleep 0.$((RANDOM % 5))
                if "$POD" "${P[@]}" image rm "$B" >/dev/null 2>"$W/rm.err"; then
                        echo removed >>"$W/rm.log"
                else
                        echo "kept $(tr '\n' ' ' <"$W/rm.err")" >>"$W/rm.log"
                fi
                "$POD" "${P[@]}" image gc --grace-period=0s >>"$W/gc.log" 2>&1 ||
                        echo "gc failed" >>"$W/gc.log"
                "$POD" "${P[@]}" image import "$W/pinned.aci" >/dev/null 2>>"$W/import.err" ||
                        echo "import failed" >>"$W/import.err"
        done
}

END=$(($(date +%s) + SECONDS_CHURN))
preparer 1 &
P1=$!
preparer 2 &
P2=$!
remover &
R=$!
wait "$P1" "$P2" "$R"

cat "$W"/prep*.log >"$W/all.log"
ok=$(grep -c '^ok ' "$W/all.log" || true)
partial=$(grep '^ok ' "$W/all.log" | grep -vc "^ok $NFILES\$" || true)
failed=$(grep -c '^failed' "$W/all.log" || true)
unclear=$(grep '^failed' "$W/all.log" |
        grep -Evc "removed from the store|No image|not in the store|not found" || true)
echo "# $ok prepares rendered, $failed failed, $partial partial; rm: $(grep -c . "$W/rm.log" || true) tries"
tap_check "prepares ran while the image was removed and re-imported" \
        "$([ "$((ok + failed))" -gt 5 ]; echo $?)" "$(head -n 20 "$W/all.log")"
tap_check "no prepare ever rendered a partial tree ($NFILES entries expected)" \
        "$([ "$partial" = 0 ]; echo $?)" "$(grep '^ok ' "$W/all.log" | sort | uniq -c)"
tap_check "a prepare that lost its image says so" "$([ "$unclear" = 0 ]; echo $?)" \
        "$(grep '^failed' "$W/all.log" | sort | uniq -c | head)"
tap_check "image rm either removed the image or kept it as in use" \
        "$(! grep -v '^removed$' "$W/rm.log" | grep -Ev 'in use by a pod being prepared|is used by pod' | grep -q .; echo $?)" \
        "$(sort "$W/rm.log" | uniq -c)"
tap_check "image gc never failed" "$(! grep -q 'gc failed' "$W/gc.log"; echo $?)" "$(cat "$W/gc.log")"

# After the churn the store is consistent: a fresh import, a run, a verify.
"$POD" "${P[@]}" image import "$W/pinned.aci" >/dev/null 2>&1 || true
run_pod "${P[@]}" image verify "$B"
assert_status "the image verifies after the churn" 0

tap_done
