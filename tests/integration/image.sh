#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod image: build, validate, import, list, cat-manifest, export, extract/render, rm, gc,
# verify (with a damaged blob), 4 concurrent imports, kill -9 during a large import.
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

command -v python3 >/dev/null || tap_skip_all "python3 is needed to check JSON and make hostile tars"

D=$TAP_TMP/store
IMG=$TAP_TMP/img
mkdir -p "$IMG/rootfs/bin"
if [ -x /bin/busybox ] && file -L /bin/busybox 2>/dev/null | grep -q static; then
        cp /bin/busybox "$IMG/rootfs/bin/busybox"
        ln -s busybox "$IMG/rootfs/bin/sh"
else
        printf '#!/bin/sh\necho hi\n' >"$IMG/rootfs/bin/sh"
        chmod 755 "$IMG/rootfs/bin/sh"
fi
mkdir -p "$IMG/rootfs/etc"
echo pod-test >"$IMG/rootfs/etc/hostname"
cat >"$IMG/manifest" <<'EOF'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/busybox",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"amd64"}],
 "app":{"exec":["/bin/sh"],"user":"0","group":"0"}}
EOF

# ---- build / validate ----
run_pod image build "$IMG" "$TAP_TMP/a.aci"
assert_status "image build" 0
ID=$OUT
assert_match "build prints the image ID" "$ID" '^sha512-[0-9a-f]{128}$'
tap_check "build output is gzip by default" "$(head -c2 "$TAP_TMP/a.aci" | od -An -tx1 | tr -d ' ' | grep -qx 1f8b; echo $?)"

SOURCE_DATE_EPOCH=1700000000 "$POD" image build --reproducible --compression=zstd "$IMG" "$TAP_TMP/r1.aci" >/dev/null
sleep 1
touch "$IMG/rootfs/etc/hostname"
SOURCE_DATE_EPOCH=1700000000 "$POD" image build --reproducible --compression=zstd "$IMG" "$TAP_TMP/r2.aci" >/dev/null
tap_ok "--reproducible builds are byte-identical" -- cmp "$TAP_TMP/r1.aci" "$TAP_TMP/r2.aci"
tap_check "--reproducible uses SOURCE_DATE_EPOCH" "$(zstd -dc "$TAP_TMP/r1.aci" | tar -tvf - 2>/dev/null | grep -c 2023-11-14 | grep -qv '^0$'; echo $?)"

run_pod image validate "$TAP_TMP/a.aci"
assert_status "validate a good ACI" 0
assert_match "validate names image and ID" "$OUT" "example.com/busybox.*$ID"

python3 - "$TAP_TMP/evil.aci" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w") as t:
    m = b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/evil"}'
    i = tarfile.TarInfo("manifest"); i.size = len(m); t.addfile(i, io.BytesIO(m))
    i = tarfile.TarInfo("rootfs/../../evil"); i.size = 1; t.addfile(i, io.BytesIO(b"x"))
EOF
run_pod image validate "$TAP_TMP/evil.aci"
assert_status "validate refuses a hostile ACI" 254
assert_match "validate names the entry" "$ERR" "rootfs/\.\./\.\./evil.*'\.\.'"
tap_check "validate wrote nothing" "$([ ! -e "$TAP_TMP/../evil" ]; echo $?)"

# ---- import ----
run_pod --dir="$D" image import "$TAP_TMP/a.aci"
assert_status "import without --insecure-options=image is refused" 254
assert_match "refusal explains signature verification" "$ERR" "signature verification.*--insecure-options=image"

run_pod --dir="$D" --insecure-options=image image import "$TAP_TMP/a.aci"
assert_status "import with --insecure-options=image" 0
assert_match "import prints the same ID as build" "$OUT" "^$ID\$"

run_pod --dir="$D" image import --insecure-options=image "$TAP_TMP/evil.aci"
assert_status "hostile import refused" 254
assert_match "hostile import names the entry" "$ERR" "evil.aci.*rootfs/\.\./\.\./evil"
tap_check "hostile import left no temp dir" "$(find "$D/cas/tmp" -mindepth 1 | grep -q .; [ $? = 1 ]; echo $?)"

# ---- list ----
run_pod --dir="$D" image list
assert_status "list" 0
assert_match "list has a legend" "$OUT" '^ID +NAME +SIZE +IMPORT TIME +LAST USED +LATEST'
assert_match "list shows the short ID and NAME:VERSION" "$OUT" "^${ID:0:19}  example.com/busybox:1\.0 "
run_pod --dir="$D" image list --no-legend --full
assert_match "--full shows the whole ID, --no-legend drops the header" "$OUT" "^$ID "
run_pod --dir="$D" image list --format=json
assert_status "list json" 0
tap_check "json parses and has the image" "$(python3 -c '
import json, sys
l = json.loads(sys.argv[1]); i = l[0]
assert len(l) == 1 and i["id"] == sys.argv[2]
assert i["labels"]["version"] == "1.0" and i["size"] > 0 and i["latest"] is False
assert i["name"] == "example.com/busybox:1.0"
' "$OUT" "$ID" 2>&1; echo $?)"
run_pod --dir="$D" image list --format=json-pretty
assert_match "json-pretty is indented with tabs, as rkt's" "$OUT" $'^\t\\{'

# ---- cat-manifest ----
run_pod --dir="$D" image cat-manifest --pretty-print=false example.com/busybox:1.0
assert_status "cat-manifest by name:version" 0
tap_check "cat-manifest --pretty-print=false prints the manifest bytes" "$(diff <(printf '%s\n' "$OUT") "$IMG/manifest" >/dev/null; echo $?)"
run_pod --dir="$D" image cat-manifest "${ID:0:20}"
assert_match "cat-manifest by ID prefix is pretty by default" "$OUT" $'^\t"name": "example.com/busybox"'
run_pod --dir="$D" image cat-manifest example.com/nothere
assert_status "unknown name fails" 254
assert_match "unknown name is named" "$ERR" "example.com/nothere"

# ---- export ----
run_pod --dir="$D" image export "${ID:0:71}" "$TAP_TMP/exported.aci"
assert_status "export by 64-hex ID" 0
tap_ok "export gives the imported bytes" -- cmp "$TAP_TMP/a.aci" "$TAP_TMP/exported.aci"
run_pod image validate "$TAP_TMP/exported.aci"
assert_match "exported ACI has the same ID" "$OUT" "$ID"
echo precious >"$TAP_TMP/precious"
run_pod --dir="$D" image export "$ID" "$TAP_TMP/precious"
assert_status "export refuses to overwrite an existing file" 254
assert_match "saying how to" "$ERR" "exists \\(use --overwrite\\)"
tap_check "and leaves it as it was" "$([ "$(cat "$TAP_TMP/precious")" = precious ]; echo $?)"
run_pod --dir="$D" image export --overwrite "$ID" "$TAP_TMP/precious"
assert_status "export --overwrite replaces it" 0
tap_ok "with the image" -- cmp "$TAP_TMP/a.aci" "$TAP_TMP/precious"

# ---- extract / render ----
run_pod --dir="$D" image render "$ID" "$TAP_TMP/rendered"
assert_status "render" 0
tap_ok "rendered manifest and rootfs" -- test -f "$TAP_TMP/rendered/manifest" -a -f "$TAP_TMP/rendered/rootfs/etc/hostname"
run_pod --dir="$D" image extract "$ID" "$TAP_TMP/rendered"
assert_status "extract onto an existing dir is refused" 254
assert_match "refusal mentions --overwrite" "$ERR" "--overwrite"
run_pod --dir="$D" image extract --rootfs-only --overwrite "$ID" "$TAP_TMP/rendered"
assert_status "extract --rootfs-only --overwrite" 0
tap_ok "rootfs-only layout replaced the old one" -- test -f "$TAP_TMP/rendered/etc/hostname" -a ! -e "$TAP_TMP/rendered/manifest"
tap_check "no temp dirs next to the target" "$(compgen -G "$TAP_TMP/*pod-tmp*" >/dev/null; [ $? = 1 ]; echo $?)"

# ---- verify, damage ----
run_pod --dir="$D" image verify
assert_status "verify a healthy store" 0
assert_match "verify reports OK" "$OUT" "$ID: OK"
BLOB=$D/cas/blob/sha512/${ID:7:2}/$ID
cp "$BLOB" "$TAP_TMP/blob.bak"
chmod u+w "$BLOB"
printf 'XXXXXXXX' | dd of="$BLOB" bs=1 seek=2000 conv=notrunc 2>/dev/null
run_pod --dir="$D" image verify "$ID"
assert_status "verify detects a damaged blob" 254
assert_match "verify says DAMAGED" "$OUT" "$ID: DAMAGED"
assert_match "verify names the image" "$ERR" "$ID"
cp "$TAP_TMP/blob.bak" "$BLOB"
# Bytes after the compressed stream change neither the tar nor the ID: the blob's own hash
# and size (recorded at import) catch them.
printf 'trailing-garbage' >>"$BLOB"
run_pod --dir="$D" image verify "$ID"
assert_status "verify detects bytes appended to the blob" 254
assert_match "... naming the image and the damage" "$ERR" \
        "Blob of 'example.com/busybox' \($ID\) is damaged: it has [0-9]+ bytes, [0-9]+ were imported"
cp "$TAP_TMP/blob.bak" "$BLOB"
chmod u+w "$BLOB"
# Same size, damage in the gzip header's mtime field: decompression cannot see it.
printf '\x01' | dd of="$BLOB" bs=1 seek=5 conv=notrunc 2>/dev/null
run_pod --dir="$D" image verify "$ID"
assert_status "verify detects a changed gzip header" 254
assert_match "... by the blob's hash" "$ERR" "its bytes hash to sha512-"
cp "$TAP_TMP/blob.bak" "$BLOB"
run_pod --dir="$D" image verify "$ID"
assert_status "the restored blob verifies" 0
rm "$D/cas/tree/$ID/rootfs/etc/hostname"
run_pod --dir="$D" image verify "$ID"
assert_status "verify detects a damaged tree" 254
assert_match "damaged tree names the file" "$ERR" "rootfs/etc/hostname"

# ---- rm, gc ----
run_pod --dir="$D" image rm example.com/busybox
assert_status "rm by name" 0
run_pod --dir="$D" image list --no-legend
tap_check "store is empty after rm" "$([ -z "$OUT" ]; echo $?)"
tap_check "tree and blob are gone" "$([ ! -e "$D/cas/tree/$ID" ] && [ ! -e "$BLOB" ]; echo $?)"

"$POD" --dir="$D" --insecure-options=image image import "$TAP_TMP/a.aci" >/dev/null
mkdir -p "$D/cas/tree/sha512-$(printf 'b%.0s' $(seq 128))" "$D/cas/tmp/1-stale"
run_pod --dir="$D" image gc
assert_status "gc" 0
assert_match "gc removes the orphan tree" "$OUT" "Removed tree sha512-bbbb"
assert_no_match "gc keeps a recently used image" "$OUT" "Removed image"
run_pod --dir="$D" image gc --grace-period=0s
assert_match "gc --grace-period=0s removes the unused image" "$OUT" "Removed image $ID"
run_pod --dir="$D" image gc --grace-period=soon
assert_status "bad grace period is a usage error" 254
run_pod --dir="$D" image rm --full "$ID"
assert_status "an option of another subcommand is a usage error" 254
assert_match "... naming it" "$ERR" "'--full' is not an option of 'image rm'"

# ---- concurrency: 4 parallel imports of one file ----
pids=()
for i in 1 2 3 4; do
        "$POD" --dir="$D" --insecure-options=image image import "$TAP_TMP/a.aci" >"$TAP_TMP/par$i.out" 2>&1 &
        pids+=($!)
done
fails=0
for p in "${pids[@]}"; do wait "$p" || fails=$((fails + 1)); done
tap_check "4 parallel imports all succeed" "$([ "$fails" = 0 ]; echo $?)" "$(cat "$TAP_TMP"/par*.out)"
run_pod --dir="$D" image list --no-legend --full
tap_check "... and yield one image" "$([ "$(printf '%s\n' "$OUT" | grep -c .)" = 1 ]; echo $?)" "$OUT"
tap_check "... with no temp dirs left" "$([ -z "$(ls -A "$D/cas/tmp")" ]; echo $?)"

# ---- kill -9 during a large import ----
BIG=$TAP_TMP/big
mkdir -p "$BIG/rootfs"
cp "$IMG/manifest" "$BIG/manifest"
sed -i 's/example.com\/busybox/example.com\/big/' "$BIG/manifest"
for i in $(seq 1 40); do head -c 4000000 /dev/urandom >"$BIG/rootfs/f$i"; done
"$POD" image build --compression=none "$BIG" "$TAP_TMP/big.aci" >/dev/null
rm -rf "$BIG"
for delay in 0.05 0.3; do
        "$POD" --dir="$D" --insecure-options=image image import "$TAP_TMP/big.aci" >/dev/null 2>&1 &
        p=$!
        sleep "$delay"
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
        run_pod --dir="$D" image list --no-legend
        n=$(printf '%s\n' "$OUT" | grep -c example.com/big || true)
        tap_check "after kill -9 (${delay}s) the big image is absent or whole" "$([ "$n" -le 1 ]; echo $?)"
        run_pod --dir="$D" image verify
        assert_status "after kill -9 (${delay}s) verify is clean" 0
        tap_check "after kill -9 (${delay}s) temp files are cleaned" "$([ -z "$(ls -A "$D/cas/tmp")" ]; echo $?)" "$(ls -A "$D/cas/tmp")"
done
run_pod --dir="$D" image gc --grace-period=0
tap_check "gc leaves no trees, blobs or temp files" "$([ -z "$(find "$D/cas/tree" "$D/cas/tmp" -mindepth 1)" ] && [ -z "$(find "$D/cas/blob" -type f)" ]; echo $?)"

tap_done
