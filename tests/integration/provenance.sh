#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Provenance users can see (pod-image(1) "image status", pod-status(1)): a signed image
# fetched over HTTPS discovery records its URL, the signer's fingerprint and user ID, the
# trusted prefix (or root key) and key file that matched, and the signature time; an
# insecure fetch records the option that skipped the check; `pod image import` the file.
# Shown by `pod image status` (text, JSON), `image list --full` and `--format=json`, and
# `pod status` for each app; a store made before provenance was recorded still lists, its
# images as unknown.

# shellcheck source=tests/integration/lib-https.sh
. "$(dirname "$0")/lib-https.sh"

STORE=$W/store
P=("--dir=$STORE" "--local-config=$W/etc" "--system-config=$W/vendor")
FPR=$(tr 'A-F' 'a-f' <<<"$SIGNER_FPR")

mkimage() { # mkimage NAME VERSION OUT
        local d=$W/build.$RANDOM
        mkdir -p "$d/rootfs/bin"
        printf '#!/bin/sh\necho hi\n' >"$d/rootfs/bin/sh"
        chmod 755 "$d/rootfs/bin/sh"
        cat >"$d/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$1",
 "labels":[{"name":"version","value":"$2"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh"],"user":"0","group":"0"}}
JSON
        "$POD" image build "$d" "$3" >/dev/null
        rm -rf "$d"
}
json_get() { # json_get JSON PYTHON-EXPR-ON-d
        python3 -c 'import json, sys; d = json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}
check_eq() { # check_eq DESC GOT WANT
        tap_check "$1" "$([ "$2" = "$3" ] && echo 0 || echo 1)" "got '$2', want '$3'"
}

HELLO_URL="https://example.com/aci/example.com/hello-1.0-linux-$ARCH.aci"
mkimage example.com/hello 1.0 "$A/hello-1.0-linux-$ARCH.aci"
sign "$A/hello-1.0-linux-$ARCH.aci"
mkimage example.com/unsigned 1.0 "$A/unsigned-1.0-linux-$ARCH.aci"
mkimage example.com/local 1.0 "$W/local.aci"

# ---- a signed image through discovery ----
run_pod "${P[@]}" trust --prefix example.com --skip-fingerprint-review "$W/signer.asc"
assert_status "trust the signer for example.com" 0
run_pod "${P[@]}" fetch --full example.com/hello:1.0
assert_status "fetch example.com/hello:1.0" 0
HELLO=$OUT

run_pod "${P[@]}" image status example.com/hello
assert_status "image status exits 0" 0
assert_match "status: ID" "$OUT" "^ID: $HELLO$"
assert_match "status: origin is the URL" "$OUT" "^Origin: $HELLO_URL$"
assert_match "status: signer fingerprint" "$OUT" "^Signed by: $FPR$"
assert_match "status: signer user ID" "$OUT" "^Signer user ID: Signer <signer@example.com>$"
assert_match "status: trusted prefix" "$OUT" "^Trusted as: key for prefix example.com$"
assert_match "status: trusted key file" "$OUT" \
        "^Trusted key file: $W/etc/trustedkeys/prefix.d/example.com/$FPR$"
assert_match "status: signature time" "$OUT" "^Signature time: 20[0-9]{2}-[0-9]{2}-[0-9]{2}T"
assert_match "status: no insecure option" "$OUT" "^Insecure options: none$"

run_pod "${P[@]}" image status --format=json "${HELLO:0:20}"
assert_status "image status --format=json exits 0" 0
check_eq "json: signerFingerprint" "$(json_get "$OUT" 'd["provenance"]["signerFingerprint"]')" "$FPR"
check_eq "json: signerUserID" "$(json_get "$OUT" 'd["provenance"]["signerUserID"]')" \
        "Signer <signer@example.com>"
check_eq "json: trustedPrefix" "$(json_get "$OUT" 'd["provenance"]["trustedPrefix"]')" example.com
check_eq "json: rootKey" "$(json_get "$OUT" 'd["provenance"]["rootKey"]')" False
check_eq "json: origin" "$(json_get "$OUT" 'd["provenance"]["origin"]')" "$HELLO_URL"
check_eq "json: insecureOptions" "$(json_get "$OUT" 'd["provenance"]["insecureOptions"]')" None
SIGTIME=$(json_get "$OUT" 'd["provenance"]["signatureTime"]')
GPGTIME=$(gpg --batch --status-fd 1 --verify "$A/hello-1.0-linux-$ARCH.aci.asc" \
        "$A/hello-1.0-linux-$ARCH.aci" 2>/dev/null | awk '/VALIDSIG/ { print $5; exit }')
check_eq "json: signatureTime is the signature's" "$SIGTIME" "$(date -u -d "@$GPGTIME" +%Y-%m-%dT%H:%M:%SZ)"

run_pod "${P[@]}" image list --full --no-legend
assert_match "list --full: provenance column" "$OUT" \
        "^$HELLO +example.com/hello:1\.0 .* signed ${FPR:0:16} \(example.com\)$"
run_pod "${P[@]}" image list
assert_no_match "plain list: no provenance column" "$OUT" "PROVENANCE|signed"
run_pod "${P[@]}" image list --format=json
check_eq "list json: provenance" \
        "$(json_get "$OUT" '[i["provenance"]["signerFingerprint"] for i in d if i["name"] == "example.com/hello:1.0"][0]')" \
        "$FPR"

# ---- insecure fetch: the option that skipped the check ----
run_pod "${P[@]}" fetch --insecure-options=image example.com/unsigned:1.0
assert_status "insecure fetch of an unsigned image" 0
run_pod "${P[@]}" image status example.com/unsigned
assert_match "insecure: origin" "$OUT" "^Origin: https://example.com/aci/example.com/unsigned-1.0-linux-$ARCH.aci$"
assert_match "insecure: nobody verified" "$OUT" "^Signed by: nobody verified"
assert_match "insecure: the option" "$OUT" "^Insecure options: image$"
run_pod "${P[@]}" image list --full --no-legend
assert_match "insecure: list --full" "$OUT" "example.com/unsigned:1\.0 .* insecure: image$"

# ---- pod image import: the file ----
run_pod "${P[@]}" image import --insecure-options=image "$W/local.aci"
assert_status "image import" 0
run_pod "${P[@]}" image status example.com/local
assert_match "import: origin is the absolute path" "$OUT" "^Origin: $W/local.aci$"
assert_match "import: insecure image" "$OUT" "^Insecure options: image$"

# ---- a root key ----
S2=("--dir=$W/store2" "--local-config=$W/etc2" "--system-config=$W/vendor")
run_pod "${S2[@]}" trust --root --skip-fingerprint-review "$W/signer.asc"
assert_status "trust the signer as a root key" 0
run_pod "${S2[@]}" fetch "$HELLO_URL"
assert_status "fetch by URL with a root key" 0
run_pod "${S2[@]}" image status example.com/hello
assert_match "root: trusted as root key" "$OUT" "^Trusted as: root key"
assert_match "root: key file in root.d" "$OUT" "^Trusted key file: $W/etc2/trustedkeys/root.d/$FPR$"

# ---- pod status: each app's image and its provenance ----
UUID=20000001-0000-4000-8000-000000000001
mkdir -p "$STORE/pods/prepared/$UUID"
printf '{"acKind":"PodManifest","acVersion":"0.8.11","apps":[{"name":"hello","image":{"name":"example.com/hello","id":"%s"}},{"name":"other","image":{"name":"example.com/gone","id":"sha512-%0128d"}}],"volumes":[]}\n' \
        "$HELLO" 0 >"$STORE/pods/prepared/$UUID/pod"
touch "$STORE/pods/prepared/$UUID/pod-created"
run_pod "--dir=$STORE" status "$UUID"
assert_status "pod status exits 0" 0
assert_match "pod status: app image" "$OUT" "^image-hello-id=$HELLO$"
assert_match "pod status: origin" "$OUT" "^image-hello-origin=$HELLO_URL$"
assert_match "pod status: signer" "$OUT" "^image-hello-signer=$FPR$"
assert_match "pod status: uid" "$OUT" "^image-hello-signer-uid=Signer <signer@example.com>$"
assert_match "pod status: prefix" "$OUT" "^image-hello-trusted-prefix=example.com$"
assert_match "pod status: an image not in the store is unknown" "$OUT" "^image-other-provenance=unknown$"
run_pod "--dir=$STORE" status --format=json "$UUID"
check_eq "pod status json: provenance" \
        "$(json_get "$OUT" '[a["provenance"]["signerFingerprint"] for a in d["apps"] if a["name"] == "hello"][0]')" \
        "$FPR"

# A pods dir without an image store: unknown, and status creates no store.
mkdir -p "$W/nostore/pods/prepared/$UUID"
cp "$STORE/pods/prepared/$UUID/pod" "$STORE/pods/prepared/$UUID/pod-created" \
        "$W/nostore/pods/prepared/$UUID/"
run_pod "--dir=$W/nostore" status "$UUID"
assert_match "no store: provenance unknown" "$OUT" "^image-hello-provenance=unknown$"
tap_check "no store: status created none" "$([ ! -e "$W/nostore/cas" ] && echo 0 || echo 1)"

# ---- a store from before provenance: lists, shows unknown, records new imports ----
OLD=("--dir=$W/old" "--local-config=$W/etc" "--system-config=$W/vendor")
run_pod "${OLD[@]}" image import --insecure-options=image "$W/local.aci"
python3 - "$W/old/cas/db/index.sqlite" <<'PY'
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.executescript("DROP TRIGGER provenance_drop; DROP TABLE provenance;")
db.commit()
PY
run_pod "${OLD[@]}" image list --full --no-legend
assert_status "old store: list --full exits 0" 0
assert_match "old store: unknown provenance" "$OUT" "example.com/local:1\.0 .* unknown$"
run_pod "${OLD[@]}" image status example.com/local
assert_match "old store: status says unknown" "$OUT" "^Provenance: unknown"
run_pod "${OLD[@]}" image list --format=json
check_eq "old store: json known=false" "$(json_get "$OUT" 'd[0]["provenance"]["known"]')" False
run_pod "${OLD[@]}" fetch example.com/hello:1.0
assert_status "old store: fetch after the migration" 0
run_pod "${OLD[@]}" image status example.com/hello
assert_match "old store: new import recorded" "$OUT" "^Signed by: $FPR$"
run_pod "${OLD[@]}" image rm example.com/hello
run_pod "${OLD[@]}" image status --format=json example.com/local
check_eq "old store: removing an image drops its record only" \
        "$(python3 -c 'import sqlite3, sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from provenance").fetchone()[0])' "$W/old/cas/db/index.sqlite")" 0

tap_done
