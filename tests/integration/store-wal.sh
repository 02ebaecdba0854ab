#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The store index's write-ahead log stays small over many pods (issue 16).  Every pod
# command is the first connection to the index, and the first connection rebuilds the WAL's
# index from the whole WAL: a WAL left to SQLite's default 1000 pages cost every `pod run`
# up to 4 MiB of reading and hashing (5.5 of its 9 M instructions at 3 MiB).  Each `pod
# prepare` of a stored image commits its last-use time (a few pages): after 80 of them the
# WAL must still be below 256 KiB, and the index must stay intact (images and pods listed,
# integrity_check ok when sqlite3(1) is there).  No timing: sizes only.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (pod prepare renders owned trees)"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
N=${POD_WAL_PODS:-80}
LIMIT=$((256 * 1024))

IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$W/etc" "$W/vendor"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
ln -s busybox "$IMG/rootfs/bin/true"
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
cat >"$IMG/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/wal",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
JSON
run_pod image build "$IMG" "$W/wal.aci"
assert_status "image build" 0
run_pod "${P[@]}" --insecure-options=image image import "$W/wal.aci"
assert_status "image import" 0
ID=$OUT

fails=0
for _ in $(seq "$N"); do
        "$POD" "${P[@]}" prepare --quiet "$ID" >/dev/null 2>>"$W/prepare.err" || fails=$((fails + 1))
done
tap_check "$N pods prepared from the image by ID" "$([ "$fails" = 0 ] && echo 0 || echo 1)" \
        "$fails failed: $(head -3 "$W/prepare.err")"

WAL=$D/cas/db/index.sqlite-wal
size=$(stat -c %s "$WAL" 2>/dev/null || echo 0)
tap_check "the WAL stays under $LIMIT bytes after $N commits ($size)" \
        "$([ "$size" -lt "$LIMIT" ] && echo 0 || echo 1)" "WAL: $size bytes"

run_pod "${P[@]}" image list --no-legend
assert_match "the index still lists the image" "$OUT" "sha512-"
run_pod "${P[@]}" list --no-legend
n=$(printf '%s\n' "$OUT" | grep -c prepared || true)
tap_check "all $N prepared pods listed" "$([ "$n" = "$N" ] && echo 0 || echo 1)" "listed: $n"
if command -v sqlite3 >/dev/null; then
        r=$(sqlite3 "$D/cas/db/index.sqlite" 'PRAGMA integrity_check' 2>&1)
        assert_match "integrity_check after the checkpoints" "$r" "^ok$"
fi
tap_done
