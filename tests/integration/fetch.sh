#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod fetch end to end against real components: images made with `pod image build`, signed
# with a throwaway GnuPG key, served with their discovery pages by a real HTTPS server
# (tests/helpers/test-server.py) on 127.0.0.1:443 with a test CA.  As trust-discovery.sh,
# the script re-executes itself in private mount and network namespaces: its own loopback,
# and /etc/hosts plus the system CA bundle replaced by bind mounts that vanish with it.

if [ "${POD_FETCH_TEST_NETNS:-}" != 1 ]; then
        skip() {
                echo "1..0 # SKIP $1"
                exit 0
        }
        [ "$(id -u)" = 0 ] || skip "needs root for mount and network namespaces"
        command -v unshare >/dev/null || skip "unshare not available"
        for t in python3 openssl gpg ip bzip2; do
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
ip addr add 127.0.0.2/8 dev lo 2>/dev/null || true

case $(uname -m) in
x86_64) ARCH=amd64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- a test CA the system store trusts, a rogue CA it does not ----
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
mkcert ca example.com example.com
mkcert rogue-ca rogue.example.com rogue.example.com
printf '127.0.0.1 localhost example.com plain.example.com\n127.0.0.2 rogue.example.com\n' \
        >"$W/hosts"
cp "$W/ca.pem" "$W/bundle.crt"
mount --bind "$W/hosts" /etc/hosts
mount --bind "$W/bundle.crt" /etc/ssl/certs/ca-certificates.crt

# ---- signing keys: one we will trust, one we never trust ----
genkey() { # genkey UID OUT.asc
        gpg --batch --passphrase '' --quick-gen-key "$1" ed25519 sign never 2>/dev/null
        gpg --batch --armor --export "$1" >"$2" 2>/dev/null
}
WWW=$W/www
mkdir -p "$WWW/example.com/aci/example.com" "$WWW/rogue.example.com/aci/rogue.example.com" \
        "$WWW/plain.example.com/aci/plain.example.com"
genkey 'Signer <signer@example.com>' "$W/signer.asc"
genkey 'Stranger <stranger@example.com>' "$W/stranger.asc"
STRANGER_ID=$(gpg --batch --with-colons --show-keys "$W/stranger.asc" 2>/dev/null |
        awk -F: '/^fpr/ { print $10; exit }')

cat >"$WWW/example.com/index.html" <<'EOF'
<html><head>
<meta name="ac-discovery" content="example.com https://example.com/aci/{name}-{version}-{channel}-{os}-{arch}.{ext}">
<meta name="ac-discovery" content="example.com https://example.com/aci/{name}-{version}-{os}-{arch}.{ext}">
</head></html>
EOF
echo '<meta name="ac-discovery" content="rogue.example.com https://rogue.example.com/aci/{name}-{version}-{os}-{arch}.{ext}">' \
        >"$WWW/rogue.example.com/index.html"
echo '<meta name="ac-discovery" content="plain.example.com http://plain.example.com/aci/{name}-{version}-{os}-{arch}.{ext}">' \
        >"$WWW/plain.example.com/index.html"

# mkimage NAME VERSION OUT [COMPRESSION] [EXTRA-LABELS-JSON] [DEPENDENCIES-JSON] [BIG-MIB]
# The rootfs is busybox-static for example.com/hello (when the host has it), else a small
# script: the fetch path does not care, and the host is slow enough as it is.
mkimage() {
        local name=$1 version=$2 out=$3 comp=${4:-gzip} extra=${5:-} deps=${6:-} big=${7:-0}
        local d=$W/build.$$.$RANDOM
        mkdir -p "$d/rootfs/bin" "$d/rootfs/etc"
        if [ "$name" = example.com/hello ] && [ -x /bin/busybox ] &&
                file -L /bin/busybox 2>/dev/null | grep -q static; then
                cp /bin/busybox "$d/rootfs/bin/busybox"
                ln -s busybox "$d/rootfs/bin/sh"
        else
                printf '#!/bin/sh\necho hi\n' >"$d/rootfs/bin/sh"
                chmod 755 "$d/rootfs/bin/sh"
        fi
        echo "$name $version" >"$d/rootfs/etc/image"
        [ "$big" = 0 ] || head -c "$((big * 1024 * 1024))" /dev/urandom >"$d/rootfs/big"
        cat >"$d/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$name",
 "labels":[{"name":"version","value":"$version"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}$extra],
 "app":{"exec":["/bin/sh"],"user":"0","group":"0"}${deps:+,\"dependencies\":$deps}}
EOF
        if [ "$comp" = bzip2 ]; then
                "$POD" image build --compression=none "$d" "$out.tar" >/dev/null
                bzip2 -c "$out.tar" >"$out"
                rm -f "$out.tar"
        else
                "$POD" image build --compression="$comp" "$d" "$out" >/dev/null
        fi
        rm -rf "$d"
}
sign() { # sign FILE [KEY-UID]
        gpg --batch --yes --armor --local-user "${2:-signer@example.com}" --detach-sign \
                -o "$1.asc" "$1" 2>/dev/null
}
A=$WWW/example.com/aci/example.com
aci() { # aci NAME VERSION -> path served for it
        echo "$A/$1-$2-linux-$ARCH.aci"
}

mkimage example.com/hello 1.0 "$(aci hello 1.0)"
sign "$(aci hello 1.0)"
mkimage example.com/hello 2.0-beta "$A/hello-latest-beta-linux-$ARCH.aci" gzip \
        ',{"name":"channel","value":"beta"}'
sign "$A/hello-latest-beta-linux-$ARCH.aci"
mkimage example.com/stranger 1.0 "$(aci stranger 1.0)"
sign "$(aci stranger 1.0)" stranger@example.com
mkimage example.com/tampered 1.0 "$(aci tampered 1.0)"
sign "$(aci tampered 1.0)"
printf 'x' >>"$(aci tampered 1.0)"
mkimage example.com/unsigned 1.0 "$(aci unsigned 1.0)"
mkimage example.com/other 1.0 "$(aci wrongname 1.0)"
sign "$(aci wrongname 1.0)"
mkimage example.com/cached 1.0 "$(aci cached 1.0)"
sign "$(aci cached 1.0)"
echo 'Cache-Control: max-age=300' >"$(aci cached 1.0).headers"
mkimage example.com/etag 1.0 "$(aci etag 1.0)"
sign "$(aci etag 1.0)"
echo 'Cache-Control: no-cache' >"$(aci etag 1.0).headers"
mkimage example.com/late 1.0 "$(aci late 1.0)"
sign "$(aci late 1.0)"
echo 'X-Test-Status-Once: 202' >"$(aci late 1.0).asc.headers"
mkimage example.com/conc 1.0 "$(aci conc 1.0)"
sign "$(aci conc 1.0)"
mkimage example.com/big 1.0 "$(aci big 1.0)" none "" "" 24
sign "$(aci big 1.0)"
for c in gzip xz zstd bzip2; do
        mkimage "example.com/comp-$c" 1.0 "$(aci "comp-$c" 1.0)" "$c"
        sign "$(aci "comp-$c" 1.0)"
done
mkimage example.com/base 1.0 "$(aci base 1.0)"
sign "$(aci base 1.0)"
mkimage example.com/withdep 1.0 "$(aci withdep 1.0)" gzip "" \
        '[{"imageName":"example.com/base","labels":[{"name":"version","value":"1.0"}]}]'
sign "$(aci withdep 1.0)"
mkimage example.com/cyc-a 1.0 "$(aci cyc-a 1.0)" gzip "" \
        '[{"imageName":"example.com/cyc-b","labels":[{"name":"version","value":"1.0"}]}]'
sign "$(aci cyc-a 1.0)"
mkimage example.com/cyc-b 1.0 "$(aci cyc-b 1.0)" gzip "" \
        '[{"imageName":"example.com/cyc-a","labels":[{"name":"version","value":"1.0"}]}]'
sign "$(aci cyc-b 1.0)"
mkimage example.com/badid 1.0 "$(aci badid 1.0)" gzip "" \
        "[{\"imageName\":\"example.com/base\",\"imageID\":\"sha512-$(printf '0%.0s' $(seq 64))\",\"labels\":[{\"name\":\"version\",\"value\":\"1.0\"}]}]"
sign "$(aci badid 1.0)"
mkimage example.com/badsize 1.0 "$(aci badsize 1.0)" gzip "" \
        '[{"imageName":"example.com/base","size":1,"labels":[{"name":"version","value":"1.0"}]}]'
sign "$(aci badsize 1.0)"
mkimage rogue.example.com/app 1.0 "$WWW/rogue.example.com/aci/rogue.example.com/app-1.0-linux-$ARCH.aci"
sign "$WWW/rogue.example.com/aci/rogue.example.com/app-1.0-linux-$ARCH.aci"
mkimage plain.example.com/app 1.0 "$WWW/plain.example.com/aci/plain.example.com/app-1.0-linux-$ARCH.aci"
sign "$WWW/plain.example.com/aci/plain.example.com/app-1.0-linux-$ARCH.aci"

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

LOG=$WWW/requests.log
STORE=$W/store
P=("--dir=$STORE" "--local-config=$W/etc" "--system-config=$W/vendor")
nreq() { # nreq REGEX: requests so far whose line matches
        grep -Ec -- "$1" "$LOG" 2>/dev/null || true
}
listed() { # listed NAME: how many stored images have that name (shown as NAME[:VERSION])
        "$POD" "${P[@]}" image list --no-legend --fields=name 2>/dev/null |
                awk -v n="$1" '$1 == n || index($1, n ":") == 1' | wc -l
}

# ---- unknown key, then trust, then the happy path ----
run_pod "${P[@]}" fetch example.com/hello:1.0
assert_status "no trusted key: refused" 254
assert_match "names the image" "$ERR" "'example.com/hello"
assert_match "names the key and the pod trust command" "$ERR" \
        "key [0-9A-F]{16,40}.*pod trust --prefix example.com/hello"
tap_check "nothing stored" "$([ "$(listed example.com/hello)" = 0 ] && echo 0 || echo 1)"

# --user-config (issue 13): a key the user trusts in their own directory (same layout; made
# here with pod trust pointed at it) verifies the image; without it, the same fetch fails.
UP=("--dir=$W/ustore" "--local-config=$W/uetc" "--system-config=$W/uvendor")
run_pod --dir="$W/ustore" --local-config="$W/userconf" trust --prefix example.com \
        --skip-fingerprint-review "$W/signer.asc"
run_pod "${UP[@]}" --user-config="$W/userconf" fetch example.com/hello:1.0
assert_status "a key under --user-config verifies the image" 0
run_pod "${UP[@]}" --user-config="$W/userconf" config
assert_match "pod config names the user's directory and its key" "$OUT" \
        "\"userConfig\": \"$W/userconf\""
assert_match "... as a user key" "$OUT" "\"source\": \"user\""
run_pod "${UP[@]}" --user-config="$W/nowhere" fetch --pull-policy=update example.com/hello:1.0
assert_status "without it the image is not trusted" 254

run_pod "${P[@]}" trust --prefix example.com --skip-fingerprint-review "$W/signer.asc"
assert_status "trust the signer for example.com" 0
run_pod "${P[@]}" trust --prefix plain.example.com --skip-fingerprint-review "$W/signer.asc"
run_pod "${P[@]}" trust --prefix rogue.example.com --skip-fingerprint-review "$W/signer.asc"

run_pod "${P[@]}" fetch example.com/hello:1.0
assert_status "fetch example.com/hello:1.0" 0
assert_match "prints the ID (sha512- + 64 hex)" "$OUT" '^sha512-[0-9a-f]{64}$'
tap_check "no progress output without a terminal" "$([ -z "$ERR" ] && echo 0 || echo 1)" "$ERR"
HELLO=$OUT
run_pod "${P[@]}" image list --no-legend --full
assert_match "image list shows it, as NAME:VERSION" "$OUT" "^${HELLO}[0-9a-f]{64} +example.com/hello:1\.0 "
HELLO_FULL=$(awk '$2 == "example.com/hello:1.0" { print $1 }' <<<"$OUT")
assert_match "walked from example.com/hello up to example.com" "$(cat "$LOG")" \
        "^example.com /hello\?ac-discovery=1 "
run_pod "${P[@]}" image verify
assert_status "image verify is clean" 0

n=$(wc -l <"$LOG")
run_pod "${P[@]}" fetch --pull-policy=new --full example.com/hello:1.0
assert_status "fetch again with --pull-policy=new" 0
tap_check "--full prints the full ID" "$([ "$OUT" = "$HELLO_FULL" ] && echo 0 || echo 1)" "$OUT"
tap_check "policy new with a stored match makes no request" \
        "$([ "$(wc -l <"$LOG")" = "$n" ] && echo 0 || echo 1)" "$(tail -n +"$((n + 1))" "$LOG")"
run_pod "${P[@]}" fetch --pull-policy=never example.com/hello:1.0
assert_status "policy never finds the stored image" 0
run_pod "${P[@]}" fetch --pull-policy=never example.com/hello:3.0
assert_status "policy never without a stored match fails" 254
assert_match "and says so" "$ERR" "not in the store"
tap_check "policy never made no request" "$([ "$(wc -l <"$LOG")" = "$n" ] && echo 0 || echo 1)"

run_pod "${P[@]}" fetch "https://example.com/aci/example.com/hello-1.0-linux-$ARCH.aci"
assert_status "explicit https URL" 0
tap_check "same image as by name" "$([ "$OUT" = "$HELLO" ] && echo 0 || echo 1)" "$OUT"

# ---- template with a custom label ----
run_pod "${P[@]}" fetch example.com/hello,channel=beta
assert_status "fetch example.com/hello,channel=beta (label in the template)" 0
assert_match "the {channel} template was used, version defaulting to latest" "$(cat "$LOG")" \
        "/aci/example.com/hello-latest-beta-linux-$ARCH.aci "
run_pod "${P[@]}" image list --format=json
assert_match "beta image stored, marked as fetched as latest" "$OUT" \
        '"name":"example.com/hello:2\.0-beta",[^}]*"labels":\{"version":"2.0-beta"[^}]*"channel":"beta"\}[^}]*"latest":true'
assert_match "1.0 is not latest" "$OUT" \
        '"name":"example.com/hello:1\.0",[^}]*"labels":\{"version":"1.0"[^}]*\}[^}]*"latest":false'

# ---- refusals ----
run_pod "${P[@]}" fetch example.com/stranger:1.0
assert_status "signed by an untrusted key: refused" 254
assert_match "message names the image, the key ID and pod trust" "$ERR" \
        "example.com/stranger.*${STRANGER_ID: -16}.*pod trust --prefix"
run_pod "${P[@]}" fetch example.com/tampered:1.0
assert_status "tampered image: refused" 254
assert_match "bad signature named" "$ERR" "example.com/tampered.*BAD signature"
run_pod "${P[@]}" fetch example.com/unsigned:1.0
assert_status "unsigned image (404 .asc): refused" 254
assert_match "unsigned named" "$ERR" "example.com/unsigned.*not signed"
tap_check "no refused image was stored" \
        "$([ "$(listed example.com/tampered)$(listed example.com/unsigned)$(listed example.com/stranger)" = 000 ] && echo 0 || echo 1)"
run_pod "${P[@]}" fetch --insecure-options=image example.com/unsigned:1.0
assert_status "--insecure-options=image after the verb accepts it" 0
assert_match "with a warning" "$ERR" "verification is off"
run_pod "${P[@]}" --insecure-options=image fetch example.com/stranger:1.0
assert_status "global --insecure-options=image accepts an unknown key" 0
run_pod "${P[@]}" fetch example.com/wrongname:1.0
assert_status "wrong name in the manifest: refused" 254
assert_match "names both names" "$ERR" "example.com/wrongname.*example.com/other"
tap_check "not stored" "$([ "$(listed example.com/other)" = 0 ] && echo 0 || echo 1)"
run_pod "${P[@]}" fetch example.com/missing:1.0
assert_status "404 image" 254
assert_match "names the URL and the status" "$ERR" "missing-1.0-linux-$ARCH.aci.*HTTP 404"
run_pod "${P[@]}" fetch example.com/hello:1.0,channel=gamma
assert_status "requested label missing from the image" 254
assert_match "names the label" "$ERR" "channel"
run_pod "${P[@]}" fetch --arch=aarch64 example.com/hello:1.0
assert_status "--arch=aarch64: discovery for that arch (nothing published)" 254
assert_match "the aarch64 URL was asked for" "$ERR" "hello-1.0-linux-aarch64.aci.*HTTP 404"
run_pod "${P[@]}" fetch --arch=aarch64 "example.com/hello:1.0,arch=$ARCH"
assert_status "an arch= label in the reference wins over --arch" 0

# ---- TLS and http ----
run_pod "${P[@]}" fetch rogue.example.com/app:1.0
assert_status "untrusted CA: refused" 254
assert_match "TLS failure named" "$ERR" "rogue.example.com.*TLS certificate verification failed"
run_pod "${P[@]}" --insecure-options=tls fetch rogue.example.com/app:1.0
assert_status "--insecure-options=tls accepts it (signature still checked)" 0
run_pod "${P[@]}" fetch plain.example.com/app:1.0
assert_status "discovery over http refused without --insecure-options=http" 254
assert_match "the https failure is reported" "$ERR" \
        "https://plain.example.com/app\?ac-discovery=1.*TLS certificate verification failed"
run_pod "${P[@]}" fetch --insecure-options=http plain.example.com/app:1.0
assert_status "with --insecure-options=http" 0
PLAIN=$OUT
run_pod "${P[@]}" fetch --full "http://plain.example.com/aci/plain.example.com/app-1.0-linux-$ARCH.aci"
assert_status "an explicit http:// URL needs --insecure-options=http" 254
assert_match "and says so" "$ERR" "plain http.*--insecure-options=http"
run_pod "${P[@]}" fetch --insecure-options=http --full "http://plain.example.com/aci/plain.example.com/app-1.0-linux-$ARCH.aci"
assert_status "an explicit http:// URL with --insecure-options=http" 0
assert_match "same image" "$OUT" "^$PLAIN"
gpg --batch --yes --armor --local-user stranger@example.com --detach-sign \
        -o "$W/stranger-sig" "$WWW/plain.example.com/aci/plain.example.com/app-1.0-linux-$ARCH.aci" 2>/dev/null
run_pod "--dir=$W/store-http" "${P[@]:1}" fetch --insecure-options=http \
        --signature="$W/stranger-sig" "http://plain.example.com/aci/plain.example.com/app-1.0-linux-$ARCH.aci"
assert_status "explicit http:// URL: signature still verified" 254
assert_match "untrusted signer named" "$ERR" "not trusted for 'plain.example.com/app'"

# ---- caching: max-age means no request, ETag means 304 ----
run_pod "${P[@]}" fetch example.com/cached:1.0
assert_status "fetch an image served with max-age=300" 0
CACHED=$OUT
run_pod "${P[@]}" fetch example.com/cached:1.0
assert_status "fetch it again (policy update)" 0
tap_check "same ID" "$([ "$OUT" = "$CACHED" ] && echo 0 || echo 1)"
tap_check "within max-age: the ACI was requested once" \
        "$([ "$(nreq "/cached-1.0-linux-$ARCH.aci ")" = 1 ] && echo 0 || echo 1)" "$(grep cached "$LOG")"
tap_check "and its signature once" \
        "$([ "$(nreq "/cached-1.0-linux-$ARCH.aci.asc ")" = 1 ] && echo 0 || echo 1)"

run_pod "${P[@]}" fetch example.com/etag:1.0
assert_status "fetch an image served with an ETag and no-cache" 0
ETAG=$OUT
run_pod "${P[@]}" fetch example.com/etag:1.0
assert_status "fetch it again" 0
tap_check "same ID" "$([ "$OUT" = "$ETAG" ] && echo 0 || echo 1)"
assert_match "revalidated with If-None-Match" "$(cat "$LOG")" \
        "/etag-1.0-linux-$ARCH.aci pod/[^ ]+ If-None-Match:\""
tap_check "304: the signature was not downloaded again" \
        "$([ "$(nreq "/etag-1.0-linux-$ARCH.aci.asc ")" = 1 ] && echo 0 || echo 1)" "$(grep etag "$LOG")"
tap_check "one etag image in the store" "$([ "$(listed example.com/etag)" = 1 ] && echo 0 || echo 1)"

run_pod "${P[@]}" fetch example.com/late:1.0
assert_status "signature answering 202 first: retried once after the download" 0
tap_check "signature requested twice" \
        "$([ "$(nreq "/late-1.0-linux-$ARCH.aci.asc ")" = 2 ] && echo 0 || echo 1)"

# ---- dependencies ----
run_pod "${P[@]}" fetch example.com/withdep:1.0
assert_status "image with a dependency" 0
tap_check "the dependency was fetched too" "$([ "$(listed example.com/base)" = 1 ] && echo 0 || echo 1)"
run_pod "${P[@]}" fetch example.com/cyc-a:1.0
assert_status "dependency cycle refused" 254
assert_match "cycle named" "$ERR" "cycle.*example.com/cyc-a"
run_pod "${P[@]}" fetch example.com/badid:1.0
assert_status "dependency with another image ID refused" 254
assert_match "ID mismatch named" "$ERR" "example.com/base.*sha512-0000"
run_pod "${P[@]}" fetch example.com/badsize:1.0
assert_status "dependency of another size refused" 254
assert_match "size mismatch named" "$ERR" "example.com/base.*bytes, but the manifest says 1$"

# ---- compressions ----
for c in gzip xz zstd bzip2; do
        run_pod "${P[@]}" fetch "example.com/comp-$c:1.0"
        assert_status "$c-compressed ACI" 0
done

# ---- progress: on a terminal only, and not with --quiet ----
if command -v script >/dev/null; then
        script -qec "'$POD' --dir='$W/store-tty' ${P[*]:1} fetch example.com/comp-xz:1.0" \
                /dev/null >"$W/tty.out" 2>&1 || true
        assert_match "progress bar on a terminal" "$(cat "$W/tty.out")" \
                "example.com/comp-xz: [0-9.]+ [KMG]?i?B / [0-9.]+ [KMG]?i?B"
        script -qec "'$POD' --dir='$W/store-tty2' ${P[*]:1} fetch --quiet example.com/comp-xz:1.0" \
                /dev/null >"$W/tty.out" 2>&1 || true
        assert_no_match "none with --quiet" "$(cat "$W/tty.out")" "example.com/comp-xz:"
        assert_match "--quiet still prints the ID" "$(cat "$W/tty.out")" "^sha512-"
fi

# ---- concurrent fetches of one name ----
for i in 1 2 3 4; do
        "$POD" "${P[@]}" fetch example.com/conc:1.0 >"$W/conc.$i" 2>&1 &
        PIDS+=($!)
done
st=0
for p in "${PIDS[@]: -4}"; do
        wait "$p" || st=1
done
tap_check "4 concurrent fetches all succeed" "$st" "$(cat "$W"/conc.*)"
tap_check "all print the same ID" "$(sort -u "$W"/conc.* | wc -l | grep -qx 1; echo $?)" \
        "$(cat "$W"/conc.*)"
tap_check "one image in the store" "$([ "$(listed example.com/conc)" = 1 ] && echo 0 || echo 1)"

# ---- kill -9 at random moments of a 24 MiB fetch ----
for delay in 0.2 0.4 0.6 0.8; do
        "$POD" "${P[@]}" fetch --pull-policy=update example.com/big:1.0 >/dev/null 2>&1 &
        p=$!
        sleep "$delay"
        kill -9 "$p" 2>/dev/null || true
        wait "$p" 2>/dev/null || true
done
run_pod "${P[@]}" image verify
assert_status "after kill -9: image verify is clean" 0
n=$(listed example.com/big)
tap_check "no half image listed" "$([ "$n" -le 1 ] && echo 0 || echo 1)" "$n"
run_pod "${P[@]}" fetch example.com/big:1.0
assert_status "the fetch then succeeds" 0
run_pod "${P[@]}" image verify "$OUT"
assert_status "and the image verifies" 0

# ---- local files ----
L=$W/local
mkdir -p "$L"
mkimage example.com/local 1.0 "$L/local.aci"
sign "$L/local.aci"
cp "$L/local.aci" "$L/nosig.aci"
run_pod "${P[@]}" fetch "file://$L/local.aci"
assert_status "file:// URL with .asc" 0
LOCAL=$OUT
set +e
(cd "$L" && "$POD" "${P[@]}" fetch ./local.aci >"$W/rel.out" 2>&1)
st=$?
set -e
tap_check "relative path with .asc" "$st" "$(cat "$W/rel.out")"
tap_check "same image" "$([ "$(cat "$W/rel.out")" = "$LOCAL" ] && echo 0 || echo 1)"
# The verified private copy becomes the stored blob (linked, not copied once more): it is
# still the file, byte for byte, with the blob hash image verify checks.
run_pod "${P[@]}" image export "$LOCAL" "$W/local-export.aci"
assert_status "export of the locally fetched image" 0
tap_check "its blob is the fetched file, byte for byte" \
        "$(cmp -s "$L/local.aci" "$W/local-export.aci" && echo 0 || echo 1)"
run_pod "${P[@]}" image verify "$LOCAL"
assert_status "and it verifies" 0
run_pod "${P[@]}" fetch "$L/nosig.aci"
assert_status "path without .asc: refused" 254
assert_match "unsigned named" "$ERR" "example.com/local.*not signed"
run_pod "${P[@]}" fetch --signature="$L/local.aci.asc" "$L/nosig.aci"
assert_status "--signature=FILE" 0
run_pod "${P[@]}" --insecure-options=image fetch "$L/nosig.aci"
assert_status "path without .asc with --insecure-options=image" 0
printf 'x' >>"$L/nosig.aci"
run_pod "${P[@]}" fetch --signature="$L/local.aci.asc" "$L/nosig.aci"
assert_status "modified local file: refused" 254
assert_match "bad signature" "$ERR" "BAD signature"

# ---- store IDs ----
run_pod "${P[@]}" fetch --full "${HELLO:0:19}"
assert_status "sha512- prefix lookup" 0
tap_check "resolves to the image" "$([ "$OUT" = "$HELLO_FULL" ] && echo 0 || echo 1)" "$OUT"
run_pod "${P[@]}" fetch sha512-ffffffffffffffffffff
assert_status "unknown ID" 254
# Two images whose IDs share two hex digits (the shortest prefix the store takes): python
# writes plain tars (the ID is the SHA-512 of the tar) until the birthday paradox hits.
python3 - "$W" <<'EOF'
import hashlib, io, sys, tarfile
seen = {}
for i in range(10000):
    m = ('{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/filler",'
         '"labels":[{"name":"version","value":"%d"}]}' % i).encode()
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo("manifest"); ti.size = len(m); ti.mtime = 0
        t.addfile(ti, io.BytesIO(m))
        ti = tarfile.TarInfo("rootfs"); ti.type = tarfile.DIRTYPE; ti.mode = 0o755; ti.mtime = 0
        t.addfile(ti)
    data = buf.getvalue()
    p = hashlib.sha512(data).hexdigest()[:2]
    if p in seen:
        open(sys.argv[1] + "/filler-a.aci", "wb").write(seen[p])
        open(sys.argv[1] + "/filler-b.aci", "wb").write(data)
        break
    seen[p] = data
EOF
ids=$("$POD" "${P[@]}" --insecure-options=image fetch --full "$W/filler-a.aci" "$W/filler-b.aci" 2>/dev/null)
a=$(head -n 1 <<<"$ids")
b=$(tail -n 1 <<<"$ids")
prefix=${a:0:9}
tap_check "two images sharing '$prefix' stored" \
        "$([ "${b:0:9}" = "$prefix" ] && [ "$a" != "$b" ] && echo 0 || echo 1)" "$ids"
run_pod "${P[@]}" fetch "$prefix"
assert_status "ambiguous prefix '$prefix'" 254
assert_match "lists the candidates" "$ERR" "ambiguous.*${prefix}[0-9a-f]+.*${prefix}[0-9a-f]+"

tap_done
