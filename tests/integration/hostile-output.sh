#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Terminal control sequences from images and from the network never reach the operator raw
# (pod-security(7), "Terminal output").  Archives whose entry names, symlink targets and
# manifest strings carry ESC[2J, an OSC title (ESC ]0;pwned BEL), DEL, invalid UTF-8 and a
# newline that forges an "Imported sha512-..." line go through `pod image import`, `pod fetch`
# over HTTPS, and the listing verbs; no output may hold a raw control byte, and errors still
# name the entry, escaped as \xNN.

# shellcheck source=tests/integration/lib-https.sh
. "$(dirname "$0")/lib-https.sh"

MK=$HELPERS/make-hostile-aci.py
STORE=$W/store
P=("--dir=$STORE" "--local-config=$W/etc" "--system-config=$W/vendor")

# safe FILE...: no C0 control but newline (and tabs that indent a line: pretty JSON, as
# rkt's), no DEL, valid UTF-8, no C1 control.
safe() {
        python3 - "$@" <<'PY'
import sys
for f in sys.argv[1:]:
    b = open(f, "rb").read()
    body = b"\n".join(l.lstrip(b"\t") for l in b.split(b"\n"))
    bad = [c for c in body if (c < 0x20 and c != 0x0a) or c == 0x7f]
    try:
        t = b.decode("utf-8")
    except UnicodeDecodeError as e:
        sys.exit("%s: invalid UTF-8 at %d" % (f, e.start))
    if bad or any(0x80 <= ord(ch) <= 0x9f for ch in t):
        sys.exit("%s: raw control bytes %r" % (f, bytes(bad[:8])))
PY
}
# check_output DESC: the last run_pod's stdout and stderr are terminal-safe, forge nothing.
check_output() {
        local r=0 why
        why=$(safe "$TAP_TMP/stdout" "$TAP_TMP/stderr" 2>&1) || r=1
        tap_check "$1: no raw control byte on stdout/stderr" "$r" "$why"
        r=0
        grep -q '^Imported' "$TAP_TMP/stdout" "$TAP_TMP/stderr" && r=1
        tap_check "$1: no forged 'Imported' line" "$r" "$(cat "$TAP_TMP/stderr")"
}

for k in dotdot symlink badname labels; do
        python3 "$MK" "$k" "$W/$k.aci"
done
# A manifest with a raw ESC inside a JSON string (RFC 8259 forbids it; json-c lets it pass).
python3 - "$W/raw.aci" <<'PY'
import gzip, io, json, sys, tarfile
m = json.dumps({"acKind": "ImageManifest", "acVersion": "0.8.11", "name": "example.com/raw",
                "labels": [{"name": "version", "value": "1"}],
                "annotations": [{"name": "x", "value": "@@"}]}).replace("@@", "\x1b]0;pwned\x07\n")
buf = io.BytesIO()
with tarfile.open(fileobj=buf, mode="w") as t:
    ti = tarfile.TarInfo("manifest"); d = m.encode(); ti.size = len(d); t.addfile(ti, io.BytesIO(d))
    ti = tarfile.TarInfo("rootfs"); ti.type = tarfile.DIRTYPE; t.addfile(ti)
open(sys.argv[1], "wb").write(gzip.compress(buf.getvalue()))
PY

# ---- pod image import ----
run_pod "${P[@]}" image import --insecure-options=image "$W/dotdot.aci"
assert_status "import: entry with '..' refused" 254
check_output "import dotdot"
assert_match "import: error names the entry, escaped" "$ERR" \
        "Refusing archive entry 'rootfs/\\\\x1b\[2J\\\\x1b\]0;pwned\\\\x07\\\\x0aImported sha512-0+\\\\x0a\\\\x7f\\\\xff/\.\./x': path contains '\.\.'"

run_pod "${P[@]}" image import --insecure-options=image "$W/symlink.aci"
assert_status "import: climbing symlink refused" 254
check_output "import symlink"
assert_match "import: error names link and target, escaped" "$ERR" \
        "entry 'rootfs/l\\\\x1b\[2J.*symlink target '\.\./\.\./\\\\x1b\[2J\\\\x1b\]0;pwned\\\\x07\\\\x0aImported"

run_pod "${P[@]}" image import --insecure-options=image "$W/badname.aci"
assert_status "import: invalid image name refused" 254
check_output "import badname"
assert_match "import: error names the name, escaped" "$ERR" "'example.com/\\\\x1b\[2J\\\\x1b\]0;pwned"

run_pod "${P[@]}" image import --insecure-options=image "$W/raw.aci"
assert_status "import: raw control character in a JSON string refused" 254
check_output "import raw-json"
assert_match "import: says why" "$ERR" "raw control character \(0x1b\)"

# A valid image whose version label, annotation and a file name carry the sequences.
run_pod "${P[@]}" image import --insecure-options=image "$W/labels.aci"
assert_status "import: valid image with hostile label values" 0
check_output "import labels"
for v in "image list" "image list --full" "image list --format=json" \
        "image cat-manifest example.com/hostile" "image cat-manifest --pretty example.com/hostile"; do
        # shellcheck disable=SC2086 # word splitting wanted
        run_pod "${P[@]}" $v
        assert_status "$v" 0
        check_output "$v"
done
run_pod "${P[@]}" image list --format=json
assert_match "json keeps the label, escaped" "$OUT" '\\u001b\]0;pwned\\u0007'

# ---- pod fetch of the same archives over HTTPS, signed by a trusted key ----
run_pod "${P[@]}" trust --prefix example.com --skip-fingerprint-review "$W/signer.asc"
assert_status "trust the signer" 0
for k in dotdot symlink; do
        cp "$W/$k.aci" "$A/$k.aci"
        sign "$A/$k.aci"
        run_pod "${P[@]}" fetch "https://example.com/aci/example.com/$k.aci"
        tap_check "fetch $k: refused" "$([ "$STATUS" != 0 ] && echo 0 || echo 1)" "$ERR"
        check_output "fetch $k"
        assert_match "fetch $k: error names the entry, escaped" "$ERR" \
                "Refusing archive entry 'rootfs/(l)?\\\\x1b\[2J\\\\x1b\]0;pwned\\\\x07\\\\x0aImported"
done

# A key whose user ID carries an OSC title: shown for review by pod trust, recorded as the
# signer of an image it signed (pod image status, pod-image(1)).
EVIL_UID=$(printf 'Evil \033]0;pwned\007 <evil@example.com>')
gpg --batch --passphrase '' --quick-gen-key "$EVIL_UID" ed25519 sign never 2>/dev/null
gpg --batch --armor --export evil@example.com >"$W/evil.asc" 2>/dev/null
set +e
echo no | "$POD" "${P[@]}" trust --prefix example.com/evilkey "$W/evil.asc" \
        >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr"
set -e
check_output "trust review of a hostile user ID"
assert_match "trust review shows the user ID escaped" "$(cat "$TAP_TMP/stdout" "$TAP_TMP/stderr")" \
        'uid: Evil \\x1b\]0;pwned\\x07 <evil@example.com>'
run_pod "${P[@]}" trust --prefix example.com/evilkey --skip-fingerprint-review "$W/evil.asc"
assert_status "trust the hostile-uid key for example.com/evilkey" 0
python3 "$MK" ok "$A/evilkey.aci" example.com/evilkey
gpg --batch --yes --armor --local-user evil@example.com --detach-sign -o "$A/evilkey.aci.asc" \
        "$A/evilkey.aci" 2>/dev/null
run_pod "${P[@]}" fetch "https://example.com/aci/example.com/evilkey.aci"
assert_status "fetch an image signed by the hostile-uid key" 0
for v in "image status example.com/evilkey" "image status --format=json example.com/evilkey" \
        "image list --full"; do
        # shellcheck disable=SC2086 # word splitting wanted
        run_pod "${P[@]}" $v
        check_output "$v"
done
run_pod "${P[@]}" image status example.com/evilkey
assert_match "image status names the signer, escaped" "$OUT" \
        '^Signer user ID: Evil \\x1b\]0;pwned\\x07 <evil@example.com>$'

# A discovery page whose template carries the sequences: the failing URL is escaped.
mkdir -p "$WWW/example.com/evil"
printf '<meta name="ac-discovery" content="example.com/evil https://example.com/\033]0;pwned\007\n/{name}.{ext}">\n' \
        >"$WWW/example.com/evil/index.html"
run_pod "${P[@]}" fetch example.com/evil:1.0
tap_check "fetch through a hostile discovery page fails" \
        "$([ "$STATUS" != 0 ] && echo 0 || echo 1)" "$ERR"
check_output "discovery"

tap_done
