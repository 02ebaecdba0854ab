#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod trust and meta discovery against real components: a real HTTPS server (python3
# http.server + ssl) on 127.0.0.1:443 with a test CA, real GnuPG keys, libcurl resolving
# example.com through /etc/hosts.  The script re-executes itself in private mount and
# network namespaces: a loopback of its own, and /etc/hosts plus the system CA bundle
# replaced by bind mounts that vanish with the namespace.

if [ "${POD_TRUST_TEST_NETNS:-}" != 1 ]; then
        skip() {
                echo "1..0 # SKIP $1"
                exit 0
        }
        [ "$(id -u)" = 0 ] || skip "needs root for mount and network namespaces"
        command -v unshare >/dev/null || skip "unshare not available"
        for t in python3 openssl gpg ip; do
                command -v "$t" >/dev/null || skip "$t not available"
        done
        [ -f /etc/ssl/certs/ca-certificates.crt ] || skip "no /etc/ssl/certs/ca-certificates.crt"
        unshare --mount --net true 2>/dev/null || skip "cannot create namespaces here"
        export POD_TRUST_TEST_NETNS=1
        exec unshare --mount --net /bin/bash "$0" "$@"
fi

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SERVER="${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/test-server.py"
DISCOVER="${top_builddir:-$(dirname "$POD")/..}/tests/helpers/pod-discover"
W=$TAP_TMP
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do
                kill "$p" 2>/dev/null || true
        done
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

unset SSL_CERT_FILE SSL_CERT_DIR http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy \
        ALL_PROXY no_proxy NO_PROXY
export GNUPGHOME="$W/gnupg"
mkdir -m 0700 "$GNUPGHOME"
ip link set lo up
ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true

# ---- a test CA the system store will trust, and a rogue CA it will not ----
mkcert() { # mkcert CA-NAME CN SAN...
        local ca=$1 cn=$2 san
        shift 2
        san=$(printf 'DNS:%s,' "$@")
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout "$W/$cn.key" -out "$W/$cn.csr" -subj "/CN=$cn" 2>/dev/null
        printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "${san%,}" >"$W/$cn.ext"
        openssl x509 -req -in "$W/$cn.csr" -CA "$W/$ca.pem" -CAkey "$W/$ca.key" \
                -CAcreateserial -days 2 -out "$W/$cn.pem" -extfile "$W/$cn.ext" 2>/dev/null
}
for ca in ca rogue-ca; do
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout "$W/$ca.key" -out "$W/$ca.pem" -days 2 -subj "/CN=pod test $ca" \
                -addext basicConstraints=critical,CA:TRUE \
                -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
done
mkcert ca example.com example.com keys.example.com
mkcert rogue-ca rogue.example.com rogue.example.com

printf '127.0.0.1 localhost example.com keys.example.com plain.example.com\n127.0.0.2 rogue.example.com\n' \
        >"$W/hosts"
cp "$W/ca.pem" "$W/bundle.crt"
mount --bind "$W/hosts" /etc/hosts
mount --bind "$W/bundle.crt" /etc/ssl/certs/ca-certificates.crt

# ---- real signing keys ----
genkey() { # genkey UID OUT.asc -> prints the fingerprint
        gpg --batch --passphrase '' --quick-gen-key "$1" ed25519 sign never 2>/dev/null
        gpg --batch --armor --export "$1" >"$2" 2>/dev/null
        gpg --batch --with-colons --show-keys "$2" 2>/dev/null | awk -F: '/^fpr/ { print tolower($10); exit }'
}
WWW=$W/www
mkdir -p "$WWW/example.com/team" "$WWW/keys.example.com" "$WWW/rogue.example.com" \
        "$WWW/plain.example.com" \
        "$WWW/example.com/images/example.com"
FPR=$(genkey 'Example Signer <signer@example.com>' "$WWW/keys.example.com/example.asc")
TEAM_FPR=$(genkey 'Team Signer <team@example.com>' "$WWW/keys.example.com/team.asc")
ROGUE_FPR=$(genkey 'Rogue <rogue@example.com>' "$WWW/rogue.example.com/rogue.asc")

# Discovery pages as found in the wild: comments, upper case, odd quoting, entities.
cat >"$WWW/example.com/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>example.com <meta name="ac-discovery-pubkeys" content="example.com https://keys.example.com/title.asc"></title>
<!-- <meta name="ac-discovery-pubkeys" content="example.com https://keys.example.com/team.asc"> -->
<META content='example.com https://keys.example.com/example.asc' NAME=ac-discovery-pubkeys />
<meta name=ac-discovery content="example.com https://example.com/images/{name}-{version}-{os}-{arch}.{ext}?from=meta&amp;x=1">
</head><body>nothing here</body></html>
EOF
cat >"$WWW/example.com/team/index.html" <<'EOF'
<html><body>
<meta content="example.com/team https://keys.example.com/team.asc" name="ac-discovery-pubkeys">
</body></html>
EOF
cat >"$WWW/rogue.example.com/index.html" <<'EOF'
<meta name="ac-discovery-pubkeys" content="rogue.example.com https://rogue.example.com/rogue.asc">
EOF

# plain.example.com has no certificate of its own (the https server's is for example.com):
# its page is only usable over http.
cat >"$WWW/plain.example.com/index.html" <<'EOF'
<meta name="ac-discovery-pubkeys" content="plain.example.com https://keys.example.com/example.asc">
EOF

start_server() { # start_server BIND PORT [CERT KEY]
        local pf="$W/port.$1.$2"
        if [ -n "${3:-}" ]; then
                python3 "$SERVER" --root "$WWW" --bind "$1" --port "$2" --cert "$3" --key "$4" \
                        --port-file "$pf" &
        else
                python3 "$SERVER" --root "$WWW" --bind "$1" --port "$2" --port-file "$pf" &
        fi
        PIDS+=($!)
        for _ in $(seq 100); do
                [ -f "$pf" ] && return 0
                sleep 0.1
        done
        echo "server on $1:$2 did not start" >&2
        return 1
}
cat "$W/example.com.pem" "$W/ca.pem" >"$W/example.com.chain"
start_server 127.0.0.1 443 "$W/example.com.chain" "$W/example.com.key"
start_server 127.0.0.2 443 "$W/rogue.example.com.pem" "$W/rogue.example.com.key"
start_server 127.0.0.1 80

ETC=$W/etc
VENDOR=$W/vendor
P=("--local-config=$ETC" "--system-config=$VENDOR")
keyfile() { # keyfile PREFIX FPR
        echo "$ETC/trustedkeys/prefix.d/$1/$2"
}
file_fpr() { # the fingerprint of the key stored in a file
        gpg --batch --with-colons --show-keys "$1" 2>/dev/null |
                awk -F: '/^fpr/ { print tolower($10); exit }'
}

# ---- discovery of the prefix's key, review refused without a terminal ----
run_pod "${P[@]}" trust --prefix example.com </dev/null
assert_status "no TTY and no --skip-fingerprint-review: refused" 254
assert_match "refusal explains why" "$ERR" "standard input is not a terminal"
assert_match "refusal prints the exact command" "$ERR" \
        "run: pod --local-config=$ETC trust --skip-fingerprint-review --prefix=example.com https://keys.example.com/example.asc"
assert_match "fingerprint shown as ten groups" "$OUT" \
        "Key fingerprint: ([0-9A-F]{4} ){9}[0-9A-F]{4}$"
assert_match "uid shown" "$OUT" "uid: Example Signer <signer@example.com>"
tap_check "nothing written when refused" "$([ ! -e "$ETC/trustedkeys" ] && echo 0 || echo 1)"

# The command printed in the refusal works as given.
cmd=$(sed -n 's/.*then run: //p' <<<"$ERR")
set +e
eval "\"\$POD\" ${cmd#pod }" >"$W/out" 2>&1
st=$?
set -e
tap_check "the printed command succeeds" "$st" "$(cat "$W/out")"

run_pod "${P[@]}" trust --prefix example.com --skip-fingerprint-review
assert_status "trust --prefix example.com (discovered key)" 0
assert_match "found the key URL through discovery, not the commented-out or <title> ones" "$ERR" \
        "Found key URL 'https://keys.example.com/example.asc'"
f=$(keyfile example.com "$FPR")
tap_check "key stored as prefix.d/example.com/<fingerprint>" \
        "$([ -s "$f" ] && echo 0 || echo 1)" "$(find "$ETC" 2>&1)"
tap_check "stored file holds the key its name says" \
        "$([ "$(file_fpr "$f")" = "$FPR" ] && echo 0 || echo 1)"
n=$(find "$ETC/trustedkeys" -type f | wc -l)
tap_check "exactly one key file written" "$([ "$n" = 1 ] && echo 0 || echo 1)" "$n files"
assert_match "User-Agent is pod/VERSION" "$(cat "$WWW/requests.log")" \
        "example.com /\?ac-discovery=1 pod/[0-9]+\.[0-9]+"

# ---- the walk: example.com/sub/app has no page, example.com does ----
run_pod "${P[@]}" trust --prefix example.com/sub/app --skip-fingerprint-review
assert_status "trust --prefix example.com/sub/app walks up to example.com" 0
tap_check "stored under the requested prefix as nested dirs" \
        "$([ -s "$(keyfile example.com/sub/app "$FPR")" ] && echo 0 || echo 1)"
assert_match "tried the longest prefix first" "$(cat "$WWW/requests.log")" \
        "/sub/app\?ac-discovery=1"

# ---- the nearest page wins, reached through a redirect (team -> team/) ----
run_pod "${P[@]}" trust --prefix example.com/team/app --skip-fingerprint-review
assert_status "trust --prefix example.com/team/app" 0
tap_check "nearest prefix's key (team) is used" \
        "$([ -s "$(keyfile example.com/team/app "$TEAM_FPR")" ] && echo 0 || echo 1)" \
        "$(find "$ETC/trustedkeys" -type f)"

# ---- key URLs over plain http ----
run_pod "${P[@]}" trust --prefix example.com --skip-fingerprint-review \
        http://keys.example.com/team.asc
assert_status "http key URL refused without --insecure-options=pubkey" 254
assert_match "refusal names the option" "$ERR" "insecure-options=pubkey"
run_pod "${P[@]}" trust --prefix example.com --skip-fingerprint-review \
        "https://keys.example.com/_redirect?to=http://keys.example.com/team.asc"
assert_status "https->http redirect for a key refused" 254
assert_match "redirect refusal names both URLs" "$ERR" \
        "Refusing redirect from 'https://keys.example.com/_redirect.*' to plain http 'http://keys.example.com/team.asc'"
run_pod "${P[@]}" --insecure-options=pubkey trust --prefix example.com --skip-fingerprint-review \
        http://keys.example.com/team.asc
assert_status "http key URL accepted with --insecure-options=pubkey" 0
tap_check "http key stored" "$([ -s "$(keyfile example.com "$TEAM_FPR")" ] && echo 0 || echo 1)"
run_pod "${P[@]}" trust --insecure-allow-http=false --prefix example.com/rkt-flag \
        --skip-fingerprint-review http://keys.example.com/team.asc
assert_status "trust --insecure-allow-http=false: http still refused" 254
run_pod "${P[@]}" trust --insecure-allow-http --prefix example.com/rkt-flag \
        --skip-fingerprint-review http://keys.example.com/team.asc
assert_status "rkt's trust --insecure-allow-http accepts an http key URL" 0
tap_check "and stores it" "$([ -s "$(keyfile example.com/rkt-flag "$TEAM_FPR")" ] && echo 0 || echo 1)"

# ---- TLS ----
run_pod "${P[@]}" trust --prefix rogue.example.com --skip-fingerprint-review
assert_status "certificate from an untrusted CA: refused" 254
assert_match "TLS error names the URL and the cause" "$ERR" \
        "https://rogue.example.com\?ac-discovery=1.*TLS certificate verification failed"
tap_check "nothing stored for the rogue prefix" \
        "$([ ! -e "$ETC/trustedkeys/prefix.d/rogue.example.com" ] && echo 0 || echo 1)"
SSL_CERT_FILE=$W/rogue-ca.pem run_pod "${P[@]}" trust --prefix rogue.example.com \
        --skip-fingerprint-review
assert_status "SSL_CERT_FILE naming the CA is honoured" 0
rm -rf "$ETC/trustedkeys/prefix.d/rogue.example.com"
run_pod "${P[@]}" --insecure-options=tls trust --prefix rogue.example.com \
        --skip-fingerprint-review
assert_status "--insecure-options=tls accepts it" 0
assert_match "and warns" "$ERR" "TLS certificate verification is off"
tap_check "rogue key stored" \
        "$([ -s "$(keyfile rogue.example.com "$ROGUE_FPR")" ] && echo 0 || echo 1)"

run_pod "${P[@]}" trust --root --skip-fingerprint-review https://keys.example.com/_status/202
assert_status "key URL answering 202 fails" 254
assert_match "and says so" "$ERR" "HTTP 202"
run_pod "${P[@]}" trust --root --skip-fingerprint-review https://keys.example.com/missing.asc
assert_status "key URL answering 404 fails" 254
assert_match "naming URL and status" "$ERR" "https://keys.example.com/missing.asc.*HTTP 404"

run_pod "${P[@]}" trust --prefix plain.example.com --skip-fingerprint-review
assert_status "discovery page only over http: refused without --insecure-options=http" 254
assert_match "the https failure is reported" "$ERR" "https://plain.example.com\?ac-discovery=1"
run_pod "${P[@]}" --insecure-options=http trust --prefix plain.example.com \
        --skip-fingerprint-review
assert_status "with --insecure-options=http discovery falls back to http" 0
assert_match "page found over http" "$ERR" "at 'http://plain.example.com\?ac-discovery=1'"

run_pod "${P[@]}" trust --prefix nonexistent.invalid --skip-fingerprint-review
assert_status "unresolvable host fails" 254
assert_match "DNS failure is named" "$ERR" "DNS lookup failed"

# ---- root keys, listing ----
run_pod "${P[@]}" trust --root
assert_status "--root without key files is a usage error" 254
run_pod "${P[@]}" trust --root --skip-fingerprint-review "$WWW/keys.example.com/team.asc"
assert_status "trust --root KEYFILE" 0
tap_check "root key at root.d/<fingerprint>" \
        "$([ -s "$ETC/trustedkeys/root.d/$TEAM_FPR" ] && echo 0 || echo 1)"
run_pod "${P[@]}" trust --prefix 'Bad/../prefix' --skip-fingerprint-review "$WWW/keys.example.com/team.asc"
assert_status "invalid prefix refused" 254
run_pod "${P[@]}" trust --list
assert_status "trust --list" 0
assert_match "list shows prefix and fingerprint" "$OUT" "^example\.com/sub/app +$FPR +admin "
assert_match "list shows root keys as *" "$OUT" "^\* +$TEAM_FPR +admin "

# ---- a fingerprint review on a terminal ----
if command -v script >/dev/null; then
        rm -rf "$ETC/trustedkeys/prefix.d/example.com/tty"
        printf 'no\n' | script -qec "'$POD' ${P[*]} trust --prefix example.com/tty" /dev/null \
                >"$W/tty.out" 2>&1 || true
        assert_match "asks yes/no on a terminal" "$(cat "$W/tty.out")" \
                "trust this key \(yes/no\)"
        tap_check "answering no stores nothing" \
                "$([ ! -e "$(keyfile example.com/tty "$FPR")" ] && echo 0 || echo 1)"
        printf 'yes\n' | script -qec "'$POD' ${P[*]} trust --prefix example.com/tty" /dev/null \
                >"$W/tty.out" 2>&1 || true
        tap_check "answering yes stores the key" \
                "$([ -s "$(keyfile example.com/tty "$FPR")" ] && echo 0 || echo 1)" \
                "$(cat "$W/tty.out")"
fi

# ---- image discovery, download and verification: the chain pod fetch uses ----
ACI=$WWW/example.com/images/example.com/app-1.0-linux-amd64.aci
printf 'not really a tar, but bytes are bytes\n' >"$ACI"
gpg --batch --yes --armor --local-user signer@example.com --detach-sign -o "$ACI.asc" "$ACI" \
        2>/dev/null
"$DISCOVER" --verify "$ETC" "$VENDOR" example.com/app version=1.0 os=linux arch=amd64 \
        >"$W/d.out" 2>&1 || true
D=$(cat "$W/d.out")
assert_match "image endpoint rendered with labels and decoded entities" "$D" \
        "^aci https://example.com/images/example.com/app-1.0-linux-amd64.aci\?from=meta&x=1$"
assert_match "signature endpoint" "$D" \
        "^sig https://example.com/images/example.com/app-1.0-linux-amd64.aci.asc\?from=meta&x=1$"
assert_match "walked from example.com/app to example.com" "$D" \
        "^page https://example.com\?ac-discovery=1$"
assert_match "downloaded and verified with the prefix key" "$D" "^verified $FPR "
printf 'tampered\n' >>"$ACI"
"$DISCOVER" --verify "$ETC" "$VENDOR" example.com/app version=1.0 os=linux arch=amd64 \
        >"$W/d.out" 2>&1 || true
assert_match "tampered image: bad signature" "$(cat "$W/d.out")" "^error EBADMSG: .*BAD signature"
"$DISCOVER" --verify "$ETC" "$VENDOR" example.com/app version=2.0 os=linux arch=amd64 \
        >"$W/d.out" 2>&1 || true
assert_match "missing image: HTTP 404 named" "$(cat "$W/d.out")" "^error ENOENT: .*HTTP 404"
"$DISCOVER" example.com/app os=linux >"$W/d.out" 2>&1 || true
assert_match "template with unfilled {arch} is dropped" "$(cat "$W/d.out")" \
        "^error ENOENT: No ac-discovery meta tag"

tap_done
