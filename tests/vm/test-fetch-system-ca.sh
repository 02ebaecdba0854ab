#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod fetch over https trusting a CA the admin added the Debian way
# (/usr/local/share/ca-certificates + update-ca-certificates), with no bundle override
# (no SSL_CERT_FILE, no bind mount): what issue 3 promises for the system CA store.
# Changes the machine's trust store and /etc/hosts, so it runs only in the VM testbed
# (tests/vm/suite, real systemd as PID 1) and puts both back on exit.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ -d /run/systemd/system ] || tap_skip_all "not under systemd (runs in the VM testbed)"
[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
for t in python3 openssl gpg update-ca-certificates; do
        command -v "$t" >/dev/null || tap_skip_all "$t not available"
done
[ -d /usr/local/share/ca-certificates ] || tap_skip_all "no /usr/local/share/ca-certificates"
if command -v ss >/dev/null && ss -Hltn 'sport = :443' | grep -q .; then
        tap_skip_all "port 443 is in use"
fi

SERVER="${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/test-server.py"
W=$TAP_TMP
HOST=ca-test.pod.example
CA_FILE=/usr/local/share/ca-certificates/pod-test-fetch-ca.crt
SERVER_PID=""
cp /etc/hosts "$W/hosts.orig"
cleanup() {
        [ -z "$SERVER_PID" ] || kill "$SERVER_PID" 2>/dev/null || true
        cat "$W/hosts.orig" >/etc/hosts
        if [ -e "$CA_FILE" ]; then
                rm -f "$CA_FILE"
                update-ca-certificates --fresh >/dev/null 2>&1 || true
        fi
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

unset SSL_CERT_FILE SSL_CERT_DIR CURL_CA_BUNDLE http_proxy https_proxy HTTP_PROXY HTTPS_PROXY \
        all_proxy ALL_PROXY
export GNUPGHOME="$W/gnupg"
mkdir -m 0700 "$GNUPGHOME"

case $(uname -m) in
x86_64) ARCH=amd64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$W/ca.key" \
        -out "$W/ca.pem" -days 2 -subj "/CN=pod fetch test CA" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$W/srv.key" \
        -out "$W/srv.csr" -subj "/CN=$HOST" 2>/dev/null
printf 'subjectAltName=DNS:%s\nextendedKeyUsage=serverAuth\n' "$HOST" >"$W/srv.ext"
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial \
        -days 2 -out "$W/srv.pem" -extfile "$W/srv.ext" 2>/dev/null
cat "$W/srv.pem" "$W/ca.pem" >"$W/srv.chain"

# An image, signed, and its discovery page.
WWW=$W/www
mkdir -p "$WWW/$HOST/aci/$HOST" "$W/img/rootfs/etc"
echo hello >"$W/img/rootfs/etc/hello"
cat >"$W/img/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$HOST/hello",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}]}
EOF
ACI=$WWW/$HOST/aci/$HOST/hello-1.0-linux-$ARCH.aci
"$POD" image build "$W/img" "$ACI" >/dev/null
gpg --batch --passphrase '' --quick-gen-key 'CA Test <ca-test@pod.example>' ed25519 sign never \
        2>/dev/null
gpg --batch --armor --export ca-test@pod.example >"$W/key.asc" 2>/dev/null
gpg --batch --yes --armor --local-user ca-test@pod.example --detach-sign -o "$ACI.asc" "$ACI" \
        2>/dev/null
echo "<meta name=\"ac-discovery\" content=\"$HOST https://$HOST/aci/{name}-{version}-{os}-{arch}.{ext}\">" \
        >"$WWW/$HOST/index.html"

echo "127.0.0.1 $HOST" >>/etc/hosts
python3 "$SERVER" --root "$WWW" --bind 127.0.0.1 --port 443 --cert "$W/srv.chain" \
        --key "$W/srv.key" --port-file "$W/port" &
SERVER_PID=$!
for _ in $(seq 100); do
        [ -f "$W/port" ] && break
        sleep 0.1
done
tap_check "test server listens on 127.0.0.1:443" "$([ -f "$W/port" ] && echo 0 || echo 1)"

P=("--dir=$W/store" "--local-config=$W/etc" "--system-config=$W/vendor")
run_pod "${P[@]}" trust --prefix "$HOST" --skip-fingerprint-review "$W/key.asc"
assert_status "trust the test key" 0

run_pod "${P[@]}" fetch "$HOST/hello:1.0"
assert_status "before the CA is installed: refused" 254
assert_match "as a TLS verification failure" "$ERR" "TLS certificate verification failed"

cp "$W/ca.pem" "$CA_FILE"
update-ca-certificates >/dev/null 2>&1
tap_check "update-ca-certificates added the CA to the system bundle" \
        "$(grep -qF "$(sed -n 2p "$W/ca.pem")" /etc/ssl/certs/ca-certificates.crt && echo 0 || echo 1)"

run_pod "${P[@]}" fetch "$HOST/hello:1.0"
assert_status "with the admin-added CA: fetched over https" 0
assert_match "prints the image ID" "$OUT" '^sha512-[0-9a-f]{64}$'
run_pod "${P[@]}" image list --no-legend
assert_match "image in the store" "$OUT" "$HOST/hello"

tap_done
