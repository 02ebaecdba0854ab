# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Real registries for the Docker/OCI tests: Debian's docker-registry (distribution 2.8) on a
# free loopback port in the test's temp dir, plain http or TLS with a test CA, with htpasswd
# Basic auth or token auth (tests/helpers/registry-token-server.py), and a hostile front
# (tests/helpers/registry-proxy.py).  Images come from tests/helpers/oci-image.py.  Source
# it after lib.sh; everything started here is stopped at exit.  No fixed ports or paths.
#
#   registry_start VAR [tls] [basic] [token]   starts one; VAR=127.0.0.1:PORT.  Files in
#                      $REG_DIR/VAR/: access.log (the registry's log: one line per request),
#                      token.log (token requests).  Users: alice/wonderland (Basic and token).
#                      With token, anonymous clients may pull repositories named public/*.
#   registry_proxy VAR UPSTREAM-ADDR           a hostile front for a plain registry:
#                      VAR=127.0.0.1:PORT; $REG_DIR/VAR.rules (JSON, see the helper), and
#                      $REG_DIR/VAR.log ("METHOD PATH STATUS" per request).
#   proxy_rules VAR JSON                       sets the rules (empty: "[]")
#   proxy_count VAR REGEX                      requests in VAR's log matching REGEX
#   blob_gets ADDR-VAR                         GETs of blobs in VAR's registry access log
#   oci_image CMD SPEC ARGS...                 runs the image builder (see oci-image.py)
#   push VAR REPO TAG SPEC                     pushes SPEC as VAR's REPO:TAG (credentials and
#                      CA as VAR needs); its key=value report lands in $REG_DIR/last and in
#                      the variables MANIFEST_DIGEST, IMAGE_ID, CONFIG_DIGEST
#   skopeo_flags VAR                           skopeo's flags to reach VAR
# $REG_CA is the test CA (use SSL_CERT_FILE=$REG_CA for TLS registries).

# Run on its own (tools/test-all runs every tests/integration/*.sh unprivileged): not a test.
if [ "${BASH_SOURCE[0]}" = "$0" ]; then
        echo "1..0 # SKIP a library of the registry tests, sourced by them"
        exit 0
fi
: "${TAP_TMP:?source lib.sh first}"
REG_HELPERS="${top_srcdir:-$(dirname "$0")/../..}/tests/helpers"
REG_DIR=$TAP_TMP/registries
REG_PIDS=()
REG_USER=alice
REG_PASSWORD=wonderland
mkdir -p "$REG_DIR"

registry_cleanup() {
        local p
        for p in "${REG_PIDS[@]}"; do
                kill "$p" 2>/dev/null || true
        done
        for p in "${REG_PIDS[@]}"; do
                wait "$p" 2>/dev/null || true
        done
}
trap 'registry_cleanup; rm -rf "$TAP_TMP"' EXIT

registry_requirements() { # skips the test unless the tools are here
        local t
        for t in docker-registry python3 openssl htpasswd; do
                command -v "$t" >/dev/null ||
                        tap_skip_all "needs $t (tools/install-deps: docker-registry apache2-utils)"
        done
}

# ---- the test CA and certificates --------------------------------------------------------
REG_CA=$REG_DIR/ca.pem
reg_ca() {
        [ -f "$REG_CA" ] && return 0
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout "$REG_DIR/ca.key" -out "$REG_CA" -days 2 -subj "/CN=pod registry test ca" \
                -addext basicConstraints=critical,CA:TRUE \
                -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
        openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
                -keyout "$REG_DIR/server.key" -out "$REG_DIR/server.csr" -subj "/CN=127.0.0.1" \
                2>/dev/null
        printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n' \
                >"$REG_DIR/server.ext"
        openssl x509 -req -in "$REG_DIR/server.csr" -CA "$REG_CA" -CAkey "$REG_DIR/ca.key" \
                -CAcreateserial -days 2 -out "$REG_DIR/server.pem" -extfile "$REG_DIR/server.ext" \
                2>/dev/null
        # skopeo's --cert-dir wants *.crt CAs
        mkdir -p "$REG_DIR/certs.d"
        cp "$REG_CA" "$REG_DIR/certs.d/ca.crt"
}

# The token signing key: RSA (RS256), a self-signed certificate the registry trusts.
reg_token_key() {
        [ -f "$REG_DIR/token.pem" ] && return 0
        openssl req -x509 -newkey rsa:2048 -nodes -keyout "$REG_DIR/token.key" \
                -out "$REG_DIR/token.pem" -days 2 -subj "/CN=pod test token issuer" 2>/dev/null
}

wait_file() { # wait_file FILE [PID]: up to 10 s
        for _ in $(seq 100); do
                [ -s "$1" ] && return 0
                if [ -n "${2:-}" ] && ! kill -0 "$2" 2>/dev/null; then
                        return 1
                fi
                sleep 0.1
        done
        return 1
}

registry_start() { # registry_start VAR [tls] [basic] [token]
        local var=$1 tls=0 basic=0 token=0 d scheme=http port pid
        shift
        for a in "$@"; do
                case $a in
                tls) tls=1 ;;
                basic) basic=1 ;;
                token) token=1 ;;
                *)
                        echo "registry_start: unknown flavour $a" >&2
                        return 1
                        ;;
                esac
        done
        d=$REG_DIR/$var
        mkdir -p "$d/storage"
        {
                echo "version: 0.1"
                echo "log:"
                echo "  level: info"
                echo "  formatter: text"
                echo "  accesslog:"
                echo "    disabled: false"
                echo "storage:"
                echo "  filesystem:"
                echo "    rootdirectory: $d/storage"
                echo "  delete:"
                echo "    enabled: true"
                echo "http:"
                echo "  addr: 127.0.0.1:0"
                echo "  secret: pod-test-$RANDOM$RANDOM"
        } >"$d/config.yml"
        if [ "$tls" = 1 ]; then
                reg_ca
                scheme=https
                printf '  tls:\n    certificate: %s\n    key: %s\n' "$REG_DIR/server.pem" \
                        "$REG_DIR/server.key" >>"$d/config.yml"
        fi
        if [ "$basic" = 1 ]; then
                htpasswd -Bbn "$REG_USER" "$REG_PASSWORD" >"$d/htpasswd" 2>/dev/null
                printf 'auth:\n  htpasswd:\n    realm: pod-test\n    path: %s\n' "$d/htpasswd" \
                        >>"$d/config.yml"
        elif [ "$token" = 1 ]; then
                reg_token_key
                printf '%s:%s\n' "$REG_USER" "$REG_PASSWORD" >"$d/token-users"
                python3 "$REG_HELPERS/registry-token-server.py" --port-file "$d/token.port" \
                        --key "$REG_DIR/token.key" --cert "$REG_DIR/token.pem" \
                        --users "$d/token-users" --log "$d/token.log" 2>"$d/token.err" &
                pid=$!
                REG_PIDS+=("$pid")
                wait_file "$d/token.port" "$pid" || {
                        echo "the token server did not start: $(cat "$d/token.err")" >&2
                        return 1
                }
                : >>"$d/token.log"
                printf 'auth:\n  token:\n    realm: http://127.0.0.1:%s/token\n    service: %s\n    issuer: pod-test-issuer\n    rootcertbundle: %s\n' \
                        "$(cat "$d/token.port")" "pod-test-registry" "$REG_DIR/token.pem" \
                        >>"$d/config.yml"
        fi
        : >"$d/access.log"
        docker-registry serve "$d/config.yml" >>"$d/access.log" 2>&1 &
        pid=$!
        REG_PIDS+=("$pid")
        for _ in $(seq 100); do
                port=$(sed -n 's/.*msg="listening on 127\.0\.0\.1:\([0-9]*\)[",].*/\1/p' "$d/access.log" |
                        head -n1 || true)
                [ -n "$port" ] && break
                kill -0 "$pid" 2>/dev/null || break
                sleep 0.1
        done
        if [ -z "$port" ]; then
                echo "docker-registry did not start:" >&2
                tail -n 20 "$d/access.log" >&2
                return 1
        fi
        printf -v "$var" '127.0.0.1:%s' "$port"
        echo "$scheme" >"$d/scheme"
        echo "$basic$token" >"$d/auth"
}

registry_proxy() { # registry_proxy VAR UPSTREAM-ADDR
        local var=$1 pid
        echo '[]' >"$REG_DIR/$var.rules"
        : >"$REG_DIR/$var.log"
        python3 "$REG_HELPERS/registry-proxy.py" --port-file "$REG_DIR/$var.port" \
                --upstream "$2" --rules "$REG_DIR/$var.rules" --log "$REG_DIR/$var.log" \
                2>"$REG_DIR/$var.err" &
        pid=$!
        REG_PIDS+=("$pid")
        wait_file "$REG_DIR/$var.port" "$pid" || {
                echo "the proxy did not start: $(cat "$REG_DIR/$var.err")" >&2
                return 1
        }
        printf -v "$var" '127.0.0.1:%s' "$(cat "$REG_DIR/$var.port")"
}

proxy_rules() { # proxy_rules VAR JSON
        printf '%s\n' "$2" >"$REG_DIR/$1.rules.tmp"
        mv "$REG_DIR/$1.rules.tmp" "$REG_DIR/$1.rules"
}

proxy_count() { # proxy_count VAR REGEX
        grep -cE -- "$2" "$REG_DIR/$1.log" || true
}

proxy_log_reset() { # proxy_log_reset VAR
        : >"$REG_DIR/$1.log"
}

blob_gets() { # blob_gets VAR: GETs of blobs the registry served (its access log)
        grep -cE '"GET /v2/[^ ]*/blobs/sha256:[0-9a-f]{64} HTTP' "$REG_DIR/$1/access.log" || true
}

manifest_gets() { # manifest_gets VAR: GETs and HEADs of manifests in the access log
        grep -cE '"(GET|HEAD) /v2/[^ ]*/manifests/[^ ]* HTTP' "$REG_DIR/$1/access.log" || true
}

oci_image() {
        python3 "$REG_HELPERS/oci-image.py" "$@"
}

registry_url() { # registry_url VAR
        local d=$REG_DIR/$1
        if [ -f "$d/scheme" ]; then
                echo "$(cat "$d/scheme")://${!1}"
        else
                echo "http://${!1}" # a proxy
        fi
}

push() { # push VAR REPO TAG SPEC [oci-image.py flags]
        local var=$1 repo=$2 tag=$3 spec=$4 d=$REG_DIR/$1
        shift 4
        local args=(push "$spec" --registry "$(registry_url "$var")" --repo "$repo")
        [ -n "$tag" ] && args+=(--tag "$tag")
        if [ -f "$d/auth" ] && [ "$(cat "$d/auth")" != 00 ]; then
                args+=(--user "$REG_USER" --password "$REG_PASSWORD")
        fi
        [ "$(cat "$d/scheme" 2>/dev/null)" = https ] && args+=(--cacert "$REG_CA")
        oci_image "${args[@]}" "$@" >"$REG_DIR/last" || return 1
        # shellcheck disable=SC2034 # read by the scripts that source this file
        MANIFEST_DIGEST=$(sed -n 's/^manifest_digest=//p' "$REG_DIR/last")
        # shellcheck disable=SC2034
        IMAGE_ID=$(sed -n 's/^image_id=//p' "$REG_DIR/last")
        # shellcheck disable=SC2034
        CONFIG_DIGEST=$(sed -n 's/^config_digest=//p' "$REG_DIR/last")
}

skopeo_flags() { # skopeo_flags VAR
        local d=$REG_DIR/$1
        if [ "$(cat "$d/scheme" 2>/dev/null)" = https ]; then
                echo "--cert-dir=$REG_DIR/certs.d"
        else
                echo "--tls-verify=false"
        fi
        if [ -f "$d/auth" ] && [ "$(cat "$d/auth")" != 00 ]; then
                echo "--creds=$REG_USER:$REG_PASSWORD"
        fi
}

# same_id GOT WANT: GOT is image ID WANT as pod prints it: in full, or abbreviated (pod fetch
# without --full prints "sha512-" and 64 hex digits, as rkt does).
same_id() {
        [[ $1 =~ ^sha512-[0-9a-f]{64}([0-9a-f]{64})?$ ]] && [[ $2 == "$1"* ]]
}

# Pod's store must hold no layer or temp dir of a failed pull: prints what is there.
store_strays() { # store_strays DIR
        find "$1/cas/tmp" -mindepth 1 -maxdepth 1 2>/dev/null || true
        find "$1/cas/layer" -mindepth 1 -maxdepth 1 ! -exec test -e '{}/rendered' \; -print \
                2>/dev/null || true
}
