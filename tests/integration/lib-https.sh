# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# An HTTPS world for the tests that fetch (hostile-output.sh, provenance.sh), as fetch.sh
# builds it: the script re-executes itself in private mount and network namespaces, with
# its own loopback, a test CA bind-mounted over the system bundle, /etc/hosts naming
# example.com, a throwaway GnuPG signing key, and tests/helpers/test-server.py on :443 and :80
# serving $WWW.  Source it first thing, before lib.sh.

if [ "${POD_HTTPS_TEST_NETNS:-}" != 1 ]; then
        https_skip() {
                echo "1..0 # SKIP $1"
                exit 0
        }
        [ "$(id -u)" = 0 ] || https_skip "needs root for mount and network namespaces"
        command -v unshare >/dev/null || https_skip "unshare not available"
        for t in python3 openssl gpg ip; do
                command -v "$t" >/dev/null || https_skip "$t not available"
        done
        [ -f /etc/ssl/certs/ca-certificates.crt ] || https_skip "no /etc/ssl/certs/ca-certificates.crt"
        unshare --mount --net true 2>/dev/null || https_skip "cannot create namespaces here"
        export POD_HTTPS_TEST_NETNS=1
        exec unshare --mount --net /bin/bash "$0" "$@"
fi

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SERVER="${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/test-server.py"
# shellcheck disable=SC2034 # used by the scripts that source this file
HELPERS="${top_srcdir:-$(dirname "$0")/../..}/tests/helpers"
W=$TAP_TMP
WWW=$W/www
PIDS=()
https_cleanup() {
        for p in "${PIDS[@]}"; do
                kill "$p" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap https_cleanup EXIT

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
export ARCH

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$W/ca.key" -out "$W/ca.pem" -days 2 -subj "/CN=pod test ca" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
        -keyout "$W/example.com.key" -out "$W/example.com.csr" -subj "/CN=example.com" 2>/dev/null
printf 'subjectAltName=DNS:example.com\nextendedKeyUsage=serverAuth\n' >"$W/example.com.ext"
openssl x509 -req -in "$W/example.com.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" \
        -CAcreateserial -days 2 -out "$W/example.com.pem" -extfile "$W/example.com.ext" 2>/dev/null
cat "$W/example.com.pem" "$W/ca.pem" >"$W/example.com.chain"
printf '127.0.0.1 localhost example.com\n' >"$W/hosts"
cp "$W/ca.pem" "$W/bundle.crt"
mount --bind "$W/hosts" /etc/hosts
mount --bind "$W/bundle.crt" /etc/ssl/certs/ca-certificates.crt

SIGNER_UID='Signer <signer@example.com>'
gpg --batch --passphrase '' --quick-gen-key "$SIGNER_UID" ed25519 sign never 2>/dev/null
gpg --batch --armor --export "$SIGNER_UID" >"$W/signer.asc" 2>/dev/null
# shellcheck disable=SC2034
SIGNER_FPR=$(gpg --batch --with-colons --show-keys "$W/signer.asc" 2>/dev/null |
        awk -F: '/^fpr/ { print $10; exit }')
A=$WWW/example.com/aci/example.com
mkdir -p "$A"
cat >"$WWW/example.com/index.html" <<'HTML'
<html><head>
<meta name="ac-discovery" content="example.com https://example.com/aci/{name}-{version}-{os}-{arch}.{ext}">
</head></html>
HTML

sign() { # sign FILE
        gpg --batch --yes --armor --local-user signer@example.com --detach-sign -o "$1.asc" "$1" \
                2>/dev/null
}

start_server() { # start_server PORT [CERT KEY]
        local pf="$W/port.$1"
        if [ -n "${2:-}" ]; then
                python3 "$SERVER" --root "$WWW" --bind 127.0.0.1 --port "$1" --cert "$2" \
                        --key "$3" --port-file "$pf" &
        else
                python3 "$SERVER" --root "$WWW" --bind 127.0.0.1 --port "$1" --port-file "$pf" &
        fi
        PIDS+=($!)
        for _ in $(seq 100); do
                [ -f "$pf" ] && return 0
                sleep 0.1
        done
        echo "server on port $1 did not start" >&2
        return 1
}
start_server 443 "$W/example.com.chain" "$W/example.com.key"
start_server 80
