#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Attacks on the fetch path, each against the real binaries, a real HTTPS server
# (tests/helpers/test-server.py) with a test CA and real GnuPG keys, as fetch.sh sets them up:
# the download cache handing out images that never passed the checks for the requested name
# (an insecurely fetched image, a rollback), discovery naming local files, plain http image
# URLs, compression bombs, weak keys and digests, revocations and trickling servers.
# Re-executes itself in private mount and network namespaces (its own loopback, /etc/hosts
# and the CA bundle bind-mounted).

if [ "${POD_FETCH_TEST_NETNS:-}" != 1 ]; then
        skip() {
                echo "1..0 # SKIP $1"
                exit 0
        }
        [ "$(id -u)" = 0 ] || skip "needs root for mount and network namespaces"
        command -v unshare >/dev/null || skip "unshare not available"
        for t in python3 openssl gpg ip gzip; do
                command -v "$t" >/dev/null || skip "$t not available"
        done
        [ -f /etc/ssl/certs/ca-certificates.crt ] || skip "no /etc/ssl/certs/ca-certificates.crt"
        unshare --mount --net true 2>/dev/null || skip "cannot create namespaces here"
        export POD_FETCH_TEST_NETNS=1
        exec unshare --mount --net /bin/bash "$0" "$@"
fi

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SERVER="${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/test-server.py"
W=$TAP_TMP
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do
                kill "$p" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

unset SSL_CERT_FILE SSL_CERT_DIR http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy \
        ALL_PROXY no_proxy NO_PROXY
export GNUPGHOME="$W/gnupg"
mkdir -m 0700 "$GNUPGHOME"
ip link set lo up

case $(uname -m) in
x86_64) ARCH=amd64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- a test CA the system store trusts; one certificate for both hosts ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$W/ca.key" -out "$W/ca.pem" -days 2 -subj "/CN=pod test ca" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$W/srv.key" -out "$W/srv.csr" -subj "/CN=example.com" 2>/dev/null
printf 'subjectAltName=DNS:example.com,DNS:evil.test\nextendedKeyUsage=serverAuth\n' >"$W/srv.ext"
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
        -days 2 -out "$W/srv.pem" -extfile "$W/srv.ext" 2>/dev/null
cat "$W/srv.pem" "$W/ca.pem" >"$W/srv.chain"
printf '127.0.0.1 localhost example.com evil.test\n' >"$W/hosts"
cp "$W/ca.pem" "$W/bundle.crt"
mount --bind "$W/hosts" /etc/hosts
mount --bind "$W/bundle.crt" /etc/ssl/certs/ca-certificates.crt

genkey() { # genkey UID ALGO OUT.asc -> prints the fingerprint
        gpg --batch --passphrase '' --quick-gen-key "$1" "$2" sign never 2>/dev/null
        gpg --batch --armor --export "$1" >"$3" 2>/dev/null
        gpg --batch --with-colons --show-keys "$3" 2>/dev/null |
                awk -F: '/^fpr/ { print tolower($10); exit }'
}
WWW=$W/www
A=$WWW/example.com/aci
mkdir -p "$A" "$WWW/evil.test/aci" "$WWW/example.com/app" "$WWW/example.com/roll" \
        "$WWW/example.com/lp" "$WWW/example.com/fifo"
genkey 'Signer <signer@example.com>' ed25519 "$W/signer.asc" >/dev/null

# mkimage NAME VERSION OUT [ZEROS-MIB [RANDOM-KIB]]: a small image (plus a file of written
# zeros, a bomb: not sparse, or pod image build would store it as a hole; or of random
# bytes: a slow download)
mkimage() {
        local d=$W/build.$RANDOM
        mkdir -p "$d/rootfs/bin"
        printf '#!/bin/sh\necho hi\n' >"$d/rootfs/bin/sh"
        chmod 755 "$d/rootfs/bin/sh"
        [ "${4:-0}" = 0 ] || head -c "$4M" /dev/zero >"$d/rootfs/zeros"
        [ "${5:-0}" = 0 ] || head -c "$5K" /dev/urandom >"$d/rootfs/random"
        cat >"$d/manifest" <<EOT
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$1",
 "labels":[{"name":"version","value":"$2"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh"],"user":"0","group":"0"}}
EOT
        "$POD" image build --compression=gzip "$d" "$3" >/dev/null
        rm -rf "$d"
}
sign() { # sign FILE [KEY-UID [DIGEST]]
        gpg --batch --yes --armor --local-user "${2:-signer@example.com}" \
                ${3:+--digest-algo "$3"} --detach-sign -o "$1.asc" "$1" 2>/dev/null
}

start_server() { # start_server PORT [CERT KEY]
        local pf="$W/port.$1"
        python3 "$SERVER" --root "$WWW" --bind 127.0.0.1 --port "$1" ${2:+--cert "$2" --key "$3"} \
                --port-file "$pf" &
        PIDS+=($!)
        for _ in $(seq 100); do
                [ -f "$pf" ] && return 0
                sleep 0.1
        done
        echo "server on port $1 did not start" >&2
        return 1
}

ETC=$W/etc
STORE=$W/store
P=("--dir=$STORE" "--local-config=$ETC" "--system-config=$W/vendor")
listed() { # listed NAME: how many stored images have that name (shown as NAME[:VERSION])
        "$POD" "${P[@]}" image list --no-legend --fields=name 2>/dev/null |
                awk -v n="$1" '$1 == n || index($1, n ":") == 1' | wc -l
}

# ---- 11a: an image fetched insecurely once, offered through a trusted name's page ----
mkimage evil.test/tool 1.0 "$WWW/evil.test/aci/tool.aci"
mkimage example.com/app 3.0 "$WWW/evil.test/aci/app.aci" # unsigned, right name
echo 'Cache-Control: max-age=300' >"$WWW/evil.test/aci/tool.aci.headers"
cat >"$WWW/example.com/app/index.html" <<'EOF'
<meta name="ac-discovery" content="example.com/app https://evil.test/aci/tool.{ext}">
EOF
mkdir -p "$WWW/example.com/app2"
cat >"$WWW/example.com/app2/index.html" <<'EOF'
<meta name="ac-discovery" content="example.com/app2 https://evil.test/aci/app.{ext}">
EOF
# ---- 11b: rollback: 1.0 cached under a URL that later answers for 2.0 ----
mkimage example.com/roll 1.0 "$A/roll.aci"
sign "$A/roll.aci"
echo 'Cache-Control: max-age=300' >"$A/roll.aci.headers"
cat >"$WWW/example.com/roll/index.html" <<'EOF'
<meta name="ac-discovery" content="example.com/roll https://example.com/aci/roll.{ext}">
EOF
# ---- 12: pubkeys pages naming local files ----
PLANTED_FPR=$(genkey 'Planted <planted@example.com>' ed25519 "$W/planted.asc")
mkfifo "$W/fifo"
cat >"$WWW/example.com/lp/index.html" <<EOF
<meta name="ac-discovery-pubkeys" content="example.com/lp $W/planted.asc">
<meta name="ac-discovery-pubkeys" content="example.com/lp file://$W/planted.asc">
EOF
cat >"$WWW/example.com/fifo/index.html" <<EOF
<meta name="ac-discovery-pubkeys" content="example.com/fifo $W/fifo">
EOF
# ---- B: image locations on a page: URLs only ----
mkdir -p "$WWW/example.com/fileimg" "$WWW/example.com/httpimg"
cat >"$WWW/example.com/fileimg/index.html" <<'EOF'
<meta name="ac-discovery" content="example.com/fileimg file:///etc/{name}.{ext}">
EOF
cat >"$WWW/example.com/httpimg/index.html" <<'EOF'
<meta name="ac-discovery" content="example.com/httpimg http://example.com/aci/roll.{ext}">
EOF
# ---- 6: compression bombs (300 MiB of zeros, about 300 KiB gzipped) ----
mkimage example.com/bomb 1.0 "$A/bomb.aci" 300
cp "$A/bomb.aci" "$W/bomb.aci"
mkimage example.com/small 1.0 "$W/small.aci"

# ---- 13: revoked keys, weak digests and keys, slow servers ----
B=$WWW/example.com/aci/example.com
mkdir -p "$B"
cat >"$WWW/example.com/index.html" <<'EOF'
<meta name="ac-discovery" content="example.com https://example.com/aci/{name}-{version}.{ext}">
EOF
REV_FPR=$(genkey 'Revoked <rev@example.com>' ed25519 "$W/rev.asc")
mkimage example.com/rev 1.0 "$B/rev-1.0.aci"
sign "$B/rev-1.0.aci" rev@example.com
mkimage example.com/sha1 1.0 "$B/sha1-1.0.aci"
sign "$B/sha1-1.0.aci" signer@example.com SHA1
WEAK_FPR=$(genkey 'Weak <weak@example.com>' rsa1024 "$W/weak.asc")
mkimage example.com/weak 1.0 "$B/weak-1.0.aci"
sign "$B/weak-1.0.aci" weak@example.com
mkimage example.com/slow 1.0 "$B/slow-1.0.aci" 0 256
sign "$B/slow-1.0.aci"
echo 'X-Test-Rate: 4000' >"$B/slow-1.0.aci.headers"
mkdir -p "$WWW/example.com/keys"
genkey 'Slow <slow@example.com>' ed25519 "$WWW/example.com/keys/slow.asc" >/dev/null
echo 'X-Test-Rate: 100' >"$WWW/example.com/keys/slow.asc.headers"

start_server 443 "$W/srv.chain" "$W/srv.key"
start_server 80

run_pod "${P[@]}" trust --prefix example.com --skip-fingerprint-review "$W/signer.asc"
assert_status "trust the signer for example.com" 0

# 11a
run_pod "${P[@]}" fetch --insecure-options=image https://evil.test/aci/tool.aci
assert_status "the user fetches evil.test/tool insecurely once" 0
run_pod "${P[@]}" fetch example.com/app:3.0
assert_status "example.com/app whose page points at the cached unsigned image: refused" 254
assert_match "the refusal names the image" "$ERR" "example.com/app"
run_pod "${P[@]}" fetch --pull-policy=new example.com/app:3.0
assert_status "same under pull policy new" 254
run_pod "${P[@]}" fetch --insecure-options=image https://evil.test/aci/app.aci
assert_status "an unsigned example.com/app fetched insecurely" 0
run_pod "${P[@]}" fetch --pull-policy=new example.com/app2:3.0
assert_status "its URL through example.com/app2's page (policy new): refused" 254
run_pod "${P[@]}" fetch --pull-policy=new example.com/app:3.0
assert_status "the stored unsigned example.com/app does not answer a secure request" 254
assert_match "because it is not signed" "$ERR" "not signed"

# 11b
run_pod "${P[@]}" fetch example.com/roll:1.0
assert_status "example.com/roll:1.0 fetched and verified" 0
run_pod "${P[@]}" fetch example.com/roll:2.0
assert_status "2.0 answered by the cached 1.0 (max-age): refused" 254
assert_match "names the version label" "$ERR" "version"
run_pod "${P[@]}" fetch --pull-policy=new example.com/roll:2.0
assert_status "same under pull policy new" 254

# 12
run_pod "${P[@]}" trust --prefix example.com/lp --skip-fingerprint-review
assert_status "pubkeys naming a local path: refused" 254
assert_match "names the page and the value" "$ERR" "example.com/lp.*$W/planted.asc"
tap_check "the planted key is not trusted" \
        "$([ ! -e "$ETC/trustedkeys/prefix.d/example.com/lp/$PLANTED_FPR" ] && echo 0 || echo 1)" \
        "$(find "$ETC/trustedkeys" -type f 2>/dev/null)"
set +e
timeout 20 "$POD" "${P[@]}" trust --prefix example.com/fifo --skip-fingerprint-review \
        >"$W/fifo.out" 2>&1
st=$?
set -e
tap_check "a FIFO named by a page is never opened (no hang), refused" \
        "$([ "$st" = 254 ] && echo 0 || echo 1)" "status $st: $(cat "$W/fifo.out")"

# B: image locations named by a page
run_pod "${P[@]}" fetch example.com/fileimg:1.0
assert_status "a page naming a file:// image location: refused" 254
assert_match "naming the page and the value" "$ERR" \
        "https://example.com/fileimg\?ac-discovery=1.*file:///etc/example.com/fileimg.aci"
run_pod "${P[@]}" fetch example.com/httpimg:1.0
assert_status "a page naming an http:// image location without --insecure-options=http: refused" 254
assert_match "naming the option" "$ERR" "http://example.com/aci/roll.aci.*insecure-options=http"

# B: explicit http:// image URL
run_pod "${P[@]}" fetch --insecure-options=image http://example.com/aci/roll.aci
assert_status "an http:// image URL without --insecure-options=http: refused" 254
assert_match "says which option" "$ERR" "insecure-options=http"

# 6: bombs; disk use sampled while the fetch runs
bomb() { # bomb ARGS...: runs pod, sets STATUS/ERR, MAXKB = peak store KiB
        local p k
        "$POD" "${P[@]}" "$@" >"$W/bomb.out" 2>"$W/bomb.err" &
        p=$!
        MAXKB=0
        while kill -0 "$p" 2>/dev/null; do
                k=$(du -sk "$STORE" 2>/dev/null | cut -f1)
                [ "${k:-0}" -gt "$MAXKB" ] && MAXKB=$k
                sleep 0.1
        done
        set +e
        wait "$p"
        STATUS=$?
        set -e
        ERR=$(cat "$W/bomb.err")
}
bomb fetch "$W/bomb.aci"
assert_status "compression bomb from a file, unsigned, verification on: refused" 254
assert_match "as unsigned, before unpacking" "$ERR" "example.com/bomb.*not signed"
tap_check "nothing was unpacked (peak ${MAXKB} KiB < 8 MiB)" \
        "$([ "$MAXKB" -lt 8192 ] && echo 0 || echo 1)"
bomb fetch --insecure-options=image "$W/bomb.aci"
assert_status "compression bomb from a file, unsigned: refused" 254
assert_match "names the limit" "$ERR" "expansion|unpacked"
tap_check "the store stayed small while it ran (peak ${MAXKB} KiB < 64 MiB)" \
        "$([ "$MAXKB" -lt 65536 ] && echo 0 || echo 1)"
bomb fetch --insecure-options=image,http http://example.com/aci/bomb.aci
assert_status "compression bomb over http, unsigned: refused" 254
tap_check "the store stayed small while it ran (peak ${MAXKB} KiB < 64 MiB)" \
        "$([ "$MAXKB" -lt 65536 ] && echo 0 || echo 1)"
bomb --insecure-options=image image import "$W/bomb.aci"
assert_status "pod image import of the bomb: refused" 254
tap_check "the store stayed small while it ran (peak ${MAXKB} KiB < 64 MiB)" \
        "$([ "$MAXKB" -lt 65536 ] && echo 0 || echo 1)"
tap_check "after all that the store is small" \
        "$([ "$(du -sk "$STORE" | cut -f1)" -lt 65536 ] && echo 0 || echo 1)" "$(du -sh "$STORE")"

# 13: a revoked key can be updated, and then its signatures are refused
run_pod "${P[@]}" trust --prefix example.com/rev --skip-fingerprint-review "$W/rev.asc"
assert_status "trust the key for example.com/rev" 0
run_pod "${P[@]}" fetch example.com/rev:1.0
assert_status "an image it signed is fetched" 0
sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME/openpgp-revocs.d/${REV_FPR^^}.rev" |
        gpg --batch --import 2>/dev/null
gpg --batch --armor --export rev@example.com >"$W/rev-revoked.asc" 2>/dev/null
run_pod "${P[@]}" trust --prefix example.com/rev --skip-fingerprint-review "$W/rev-revoked.asc"
assert_status "pod trust takes the revoked copy of a trusted key" 0
assert_match "and says the key is revoked" "$ERR" "revoked"
tap_check "the trusted key file now holds the revocation" \
        "$(gpg --batch --with-colons --show-keys \
                "$ETC/trustedkeys/prefix.d/example.com/rev/$REV_FPR" 2>/dev/null |
                grep -q '^pub:r'; echo $?)"
run_pod "${P[@]}" fetch example.com/rev:1.0
assert_status "its signatures are then refused" 254
assert_match "as revoked" "$ERR" "example.com/rev.*revoked"
run_pod "${P[@]}" fetch --pull-policy=new example.com/rev:1.0
assert_status "also for the image already stored (pull policy new)" 254
GONE_FPR=$(genkey 'Gone <gone@example.com>' ed25519 "$W/gone.asc")
sed 's/^:-----BEGIN/-----BEGIN/' "$GNUPGHOME/openpgp-revocs.d/${GONE_FPR^^}.rev" |
        gpg --batch --import 2>/dev/null
gpg --batch --armor --export gone@example.com >"$W/gone-revoked.asc" 2>/dev/null
run_pod "${P[@]}" trust --prefix example.com/other --skip-fingerprint-review "$W/gone-revoked.asc"
assert_status "a revoked key not trusted before is still refused" 254
assert_match "as revoked" "$ERR" "Refusing to trust key $GONE_FPR: it has been revoked"
tap_check "and not written" "$(find "$ETC/trustedkeys" -name "$GONE_FPR" | grep -q . && echo 1 || echo 0)"

# 13: weak digests and keys
run_pod "${P[@]}" fetch example.com/sha1:1.0
assert_status "a SHA-1 signature by a trusted key: refused" 254
assert_match "naming the digest" "$ERR" "example.com/sha1.*SHA1"
run_pod "${P[@]}" trust --prefix example.com/weak --skip-fingerprint-review "$W/weak.asc"
assert_status "pod trust of an RSA-1024 key: refused" 254
assert_match "naming the size and the minimum" "$ERR" "1024.*2048"
mkdir -p "$ETC/trustedkeys/prefix.d/example.com/weak"
cp "$W/weak.asc" "$ETC/trustedkeys/prefix.d/example.com/weak/$WEAK_FPR"
run_pod "${P[@]}" fetch example.com/weak:1.0
assert_status "an image signed by an RSA-1024 key trusted before: refused" 254
assert_match "naming the key size" "$ERR" "example.com/weak.*1024"

# 13: transfer limits
mkdir -p "$ETC"
echo 'transfer-timeout = 3s' >"$ETC/limits.conf"
start=$(date +%s)
run_pod "${P[@]}" fetch example.com/slow:1.0
took=$(($(date +%s) - start))
assert_status "a server trickling 4 KB/s, transfer-timeout=3s: refused" 254
assert_match "naming the limit" "$ERR" "time limit of 3 s.*transfer-timeout"
tap_check "within the limit (${took}s)" "$([ "$took" -le 8 ] && echo 0 || echo 1)"
printf 'transfer-low-speed-limit = 64K\ntransfer-low-speed-time = 2s\n' >"$ETC/limits.conf"
start=$(date +%s)
run_pod "${P[@]}" fetch example.com/slow:1.0
took=$(($(date +%s) - start))
assert_status "below transfer-low-speed-limit for transfer-low-speed-time: refused" 254
assert_match "naming the limits" "$ERR" "timed out.*transfer-low-speed-limit"
tap_check "quickly (${took}s, three tries)" "$([ "$took" -le 20 ] && echo 0 || echo 1)"
echo 'transfer-timeout = 2s' >"$ETC/limits.conf"
run_pod "${P[@]}" trust --prefix example.com/slow --skip-fingerprint-review \
        https://example.com/keys/slow.asc
assert_status "pod trust from a key server trickling 100 B/s, transfer-timeout=2s: refused" 254
assert_match "naming the limit" "$ERR" "time limit of 2 s"
echo 'download-max-size = 4K' >"$ETC/limits.conf"
run_pod "${P[@]}" fetch example.com/slow:1.0
assert_status "download-max-size=4K: refused" 254
assert_match "naming the limit" "$ERR" "too large.*download-max-size"
rm -f "$ETC/limits.conf"

# limits.conf: a small unpacked-size limit refuses an ordinary image, naming the key
mkdir -p "$ETC"
echo 'image-max-unpacked-size = 2K # tiny' >"$ETC/limits.conf"
run_pod "${P[@]}" --insecure-options=image image import "$W/small.aci"
assert_status "image-max-unpacked-size=2K refuses a 10 KiB image" 254
assert_match "the error names the limit and the file" "$ERR" \
        "more than 2.0 KiB.*image-max-unpacked-size in limits.conf"
echo 'image-max-unpacked-size = lots' >"$ETC/limits.conf"
run_pod "${P[@]}" --insecure-options=image image import "$W/small.aci"
assert_status "an invalid limits.conf is an error" 254
assert_match "naming file, line and key" "$ERR" "limits.conf:1: invalid value 'lots'"
rm -f "$ETC/limits.conf"
run_pod "${P[@]}" --insecure-options=image image import "$W/small.aci"
assert_status "without it the image imports" 0

tap_done
