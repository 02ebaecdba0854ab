#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The registry client (src/registry.c, through tests/helpers/pod-registry-get) against a real
# docker-registry (distribution 2.8) on loopback: manifests by tag and digest, digest and size
# checks, blobs into memory and streamed into a pipe, 404s, plain http only when allowed,
# htpasswd Basic auth with dockerAuth and docker config.json credentials; and the docker://
# trust rule of `pod fetch`.
. "${top_srcdir:-.}/tests/integration/lib.sh"

GET="${top_builddir:-.}/tests/helpers/pod-registry-get"
PUSH="${top_srcdir:-.}/tests/helpers/registry-push.py"
if ! command -v docker-registry >/dev/null || ! command -v htpasswd >/dev/null ||
        ! command -v python3 >/dev/null; then
        echo "1..0 # SKIP docker-registry, htpasswd (apache2-utils) or python3 missing"
        exit 0
fi

W="$TAP_TMP"
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$W"
}
trap cleanup EXIT

free_port() {
        python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# start_registry NAME [htpasswd-file]: sets PORT_<NAME>
start_registry() {
        local name=$1 auth=${2:-} port dir="$W/reg-$1"
        mkdir -p "$dir/store"
        for _ in 1 2 3 4 5; do
                port=$(free_port)
                {
                        echo "version: 0.1"
                        echo "log: {level: error}"
                        echo "storage: {filesystem: {rootdirectory: $dir/store}, delete: {enabled: true}}"
                        echo "http: {addr: 127.0.0.1:$port, secret: test}"
                        if [ -n "$auth" ]; then
                                echo "auth: {htpasswd: {realm: test-realm, path: $auth}}"
                        fi
                } >"$dir/config.yml"
                docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
                PIDS+=($!)
                for _ in $(seq 1 100); do
                        if curl -s -o /dev/null "http://127.0.0.1:$port/v2/" 2>/dev/null; then
                                eval "PORT_$name=$port"
                                return 0
                        fi
                        kill -0 "${PIDS[-1]}" 2>/dev/null || break
                        sleep 0.1
                done
        done
        echo "registry $name did not start" >&2
        cat "$dir/log" >&2
        return 1
}

start_registry open
htpasswd -Bbn alice s3cret >"$W/htpasswd"
start_registry auth "$W/htpasswd"
# start_registry sets PORT_<name> with eval
R1="127.0.0.1:${PORT_open:?}"
R2="127.0.0.1:${PORT_auth:?}"

# An image: one gzip layer, its config, a Docker schema 2 manifest, and an OCI index.
mkdir -p "$W/root/etc"
echo hello >"$W/root/etc/hello"
tar -C "$W/root" -cf "$W/layer.tar" etc
DIFF_ID="sha256:$(sha256sum <"$W/layer.tar" | cut -d' ' -f1)"
gzip -n -c "$W/layer.tar" >"$W/layer.tar.gz"
cat >"$W/config.json" <<JSON
{"architecture":"amd64","os":"linux","config":{"Cmd":["/bin/sh"]},"rootfs":{"type":"layers","diff_ids":["$DIFF_ID"]}}
JSON
push_image() { # push_image BASE NAME [--user U:P]
        local base=$1 name=$2
        shift 2
        LAYER=$(python3 "$PUSH" "$base" "$@" blob "$name" "$W/layer.tar.gz")
        CONFIG=$(python3 "$PUSH" "$base" "$@" blob "$name" "$W/config.json")
        cat >"$W/manifest.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json","config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":$(stat -c %s "$W/config.json"),"digest":"$CONFIG"},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar.gzip","size":$(stat -c %s "$W/layer.tar.gz"),"digest":"$LAYER"}]}
JSON
        MANIFEST=$(python3 "$PUSH" "$base" "$@" manifest "$name" v1 \
                application/vnd.docker.distribution.manifest.v2+json "$W/manifest.json")
        cat >"$W/index.json" <<JSON
{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.docker.distribution.manifest.v2+json","size":$(stat -c %s "$W/manifest.json"),"digest":"$MANIFEST","platform":{"architecture":"amd64","os":"linux"}}]}
JSON
        python3 "$PUSH" "$base" "$@" manifest "$name" multi \
                application/vnd.oci.image.index.v1+json "$W/index.json" >/dev/null
}
push_image "http://$R1" test/app
CONFIG_SIZE=$(stat -c %s "$W/config.json")

expect() { # expect DESC WORD -- cmd...: the command fails and says WORD
        local desc=$1 word=$2 r=0
        shift 3
        if "$@" >"$W/out" 2>&1; then r=1; fi
        grep -q -- "$word" "$W/out" || r=1
        tap_check "$desc" "$r" "$(cat "$W/out")"
}

tap_ok "manifest by tag: the digest the registry stored" -- \
        bash -c "'$GET' --http '$R1' test/app manifest v1 | grep -qx 'digest=$MANIFEST'"
tap_ok "manifest by digest" -- \
        bash -c "'$GET' --http '$R1' test/app manifest '$MANIFEST' | grep -qx 'kind=0'"
tap_ok "an OCI index is classified as an index" -- \
        bash -c "'$GET' --http '$R1' test/app manifest multi | grep -qx 'kind=1'"
tap_ok "the manifest URL is plain http after the https attempt failed" -- \
        bash -c "'$GET' --http '$R1' test/app manifest v1 | grep -qx 'url=http://$R1/v2/test/app/manifests/v1'"
expect "unknown tag: manifest unknown" "Manifest unknown" -- \
        "$GET" --http "$R1" test/app manifest nope
expect "unknown digest: manifest unknown" "Manifest unknown" -- \
        "$GET" --http "$R1" test/app manifest "sha256:$(printf x | sha256sum | cut -d' ' -f1)"
expect "unknown repository: manifest unknown" "Manifest unknown" -- \
        "$GET" --http "$R1" test/none manifest v1
expect "plain http refused without --http" "TLS" -- "$GET" "$R1" test/app manifest v1
tap_ok "config blob into memory, verified" -- \
        bash -c "'$GET' --http '$R1' test/app blob '$CONFIG' '$CONFIG_SIZE' | grep -qx 'size=$CONFIG_SIZE'"
expect "a blob of another size than the manifest says" "Size mismatch" -- \
        "$GET" --http "$R1" test/app blob "$CONFIG" $((CONFIG_SIZE + 1))
expect "unknown blob: blob unknown" "Blob unknown" -- \
        "$GET" --http "$R1" test/app blob "sha256:$(printf y | sha256sum | cut -d' ' -f1)"
tap_ok "a layer streamed into a pipe has its digest" -- \
        bash -c "set -o pipefail; '$GET' --http '$R1' test/app stream '$LAYER' | sha256sum | grep -q '^${LAYER#sha256:} '"

# Basic auth (htpasswd).
push_image "http://$R2" priv/app --user alice:s3cret
expect "anonymous pull from a Basic registry: authentication required" \
        "Authentication required" -- "$GET" --http "$R2" priv/app manifest v1
mkdir -p "$W/conf/auth.d"
cat >"$W/conf/auth.d/reg.json" <<JSON
{"rktKind":"dockerAuth","rktVersion":"v1","registries":["$R2"],"credentials":{"user":"alice","password":"s3cret"}}
JSON
tap_ok "dockerAuth credentials from auth.d" -- \
        bash -c "'$GET' --http --auth-dir '$W/conf' '$R2' priv/app manifest v1 | grep -qx 'digest=$MANIFEST'"
tap_ok "a layer streamed with credentials" -- \
        bash -c "set -o pipefail; '$GET' --http --auth-dir '$W/conf' '$R2' priv/app stream '$LAYER' | sha256sum | grep -q '^${LAYER#sha256:} '"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$R2" "$(printf alice:s3cret | base64)" >"$W/docker.json"
tap_ok "credentials from a docker config.json" -- \
        bash -c "'$GET' --http --docker-config '$W/docker.json' '$R2' priv/app manifest v1 | grep -qx 'digest=$MANIFEST'"
printf '{"auths":{"127.0.0.1":{"auth":"%s"}}}' "$(printf alice:s3cret | base64)" >"$W/docker-host.json"
tap_ok "a host key in config.json matches any port" -- \
        bash -c "'$GET' --http --docker-config '$W/docker-host.json' '$R2' priv/app manifest v1 | grep -qx 'digest=$MANIFEST'"
printf '{"auths":{"%s":{"auth":"%s"}}}' "$R2" "$(printf alice:wrong | base64)" >"$W/docker-bad.json"
expect "wrong password: authentication failed" "Authentication failed" -- \
        "$GET" --http --docker-config "$W/docker-bad.json" "$R2" priv/app manifest v1
printf '{"auths":{"127.0.0.2:%s":{"auth":"%s"}}}' "$PORT_auth" "$(printf alice:s3cret | base64)" >"$W/docker-other.json"
expect "credentials of another registry are not used" "Authentication required" -- \
        "$GET" --http --docker-config "$W/docker-other.json" "$R2" priv/app manifest v1

# pod fetch docker://: the trust rule.
run_pod --dir="$W/store" fetch --insecure-options=http "docker://$R1/test/app:v1"
r=0
[ "$STATUS" != 0 ] && grep -q "cannot be verified" <<<"$ERR" && grep -q "insecure-options=image" <<<"$ERR" || r=1
tap_check "a tag needs --insecure-options=image" "$r" "$ERR"
run_pod --dir="$W/store" fetch --pull-policy=never "docker://$R1/test/app@$MANIFEST"
r=0
[ "$STATUS" != 0 ] && grep -q "not in the store" <<<"$ERR" || r=1
tap_check "a digest needs no insecure option; --pull-policy=never stays local" "$r" "$ERR"
run_pod --dir="$W/store" fetch "docker://Bad/Name"
r=0
[ "$STATUS" != 0 ] && grep -q "lower case" <<<"$ERR" || r=1
tap_check "an invalid docker reference is refused before anything else" "$r" "$ERR"

tap_done
