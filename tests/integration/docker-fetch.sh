#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod fetch docker://... end to end against real registries (Debian's docker-registry,
# tests/integration/lib-registry.sh) with images built from scratch by
# tests/helpers/oci-image.py: trust rules (tag vs digest), plain http, TLS with a test CA,
# Basic and token auth with credentials from auth.d, ~/.docker/config.json and
# $XDG_RUNTIME_DIR/containers/auth.json, multi-platform indexes, layer sharing, re-fetch
# cost, concurrent pulls, kill -9 mid-pull, and hostile answers (through
# tests/helpers/registry-proxy.py): each a clear error with nothing half-stored.  Also
# `pod image import` of docker save archives and OCI layouts, and image rm/gc of layers.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-registry.sh
. "$(dirname "$0")/lib-registry.sh"
registry_requirements
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
unset SSL_CERT_FILE SSL_CERT_DIR http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy \
        ALL_PROXY no_proxy NO_PROXY
W=$TAP_TMP
export HOME=$W/home XDG_RUNTIME_DIR=$W/xdg
mkdir -p "$HOME" "$XDG_RUNTIME_DIR"
ETC=$W/etc
mkdir -p "$ETC/auth.d" "$W/vendor"
N=0
newdir() { # a fresh store: $D and the pod flags $P
        N=$((N + 1))
        D=$W/data$N
        P=(--dir="$D" --local-config="$ETC" --system-config="$W/vendor")
}
newdir

# ---- images ------------------------------------------------------------------------------
BASE='{"busybox":["sh","ls","cat","echo"]}'
layer() { # layer NAME: a small layer with one file
        printf '{"entries":[{"path":"etc/%s","content":"%s\\n"}]}' "$1" "$1"
}
APP1='{"layers":['"$BASE,$(layer app1)"'],"config":{"Cmd":["/bin/sh"]}}'
APP2='{"layers":['"$BASE,$(layer app2)"'],"config":{"Cmd":["/bin/sh"]}}'

registry_start R
registry_start T tls
registry_start B tls basic
registry_start K token
registry_proxy X "$R"
push R test/app v1 "$APP1"
APP1_ID=$IMAGE_ID
APP1_DIGEST=$MANIFEST_DIGEST
APP1_CONFIG=$CONFIG_DIGEST
L0=$(sed -n 's/^layer\.0\.digest=//p' "$REG_DIR/last")
L0_DIFF=$(sed -n 's/^layer\.0\.diff_id=sha256://p' "$REG_DIR/last")
L1_APP1=$(sed -n 's/^layer\.1\.digest=//p' "$REG_DIR/last")
L1_APP1_DIFF=$(sed -n 's/^layer\.1\.diff_id=sha256://p' "$REG_DIR/last")
push R test/app2 v1 "$APP2"
APP2_ID=$IMAGE_ID
L1_APP2=$(sed -n 's/^layer\.1\.digest=//p' "$REG_DIR/last")
for v in T B K; do
        push "$v" test/app v1 "$APP1"
done
push K public/app v1 "$APP1"

ids_of() { # the image IDs in a store, sorted
        { "$POD" --dir="$1" image list --no-legend --full 2>/dev/null || true; } |
                { grep -Eo 'sha512-[0-9a-f]{128}' || true; } | sort -u
}
# check_clean DESC STORE BEFORE: the store lists exactly BEFORE and holds no partial layer
check_clean() {
        local now strays
        now=$(ids_of "$2")
        tap_check "$1: pod image list unchanged" "$([ "$now" = "$3" ]; echo $?)" \
                "before: $3; now: $now"
        strays=$(store_strays "$2")
        tap_check "$1: no partial layer or temp dir in the store" "$([ -z "$strays" ]; echo $?)" \
                "$strays"
}
assert_fails() { # assert_fails DESC: the last run_pod failed
        tap_check "$1" "$([ "$STATUS" != 0 ]; echo $?)" "status 0; stdout: $OUT"
}

# ---- trust: tag needs --insecure-options=image, a digest does not ------------------------
run_pod "${P[@]}" --insecure-options=http fetch "docker://$R/test/app:v1"
assert_fails "a tag reference without --insecure-options=image is refused"
assert_match "... saying it cannot be verified, pin a digest or pass --insecure-options=image" \
        "$ERR" "insecure-options=image"
assert_match "... naming the digest alternative" "$ERR" "digest"
tap_check "... and nothing is stored" "$([ -z "$(ids_of "$D")" ]; echo $?)"
run_pod "${P[@]}" --insecure-options=image,http fetch "docker://$R/test/app:v1"
assert_status "fetch by tag with --insecure-options=image,http" 0
tap_check "prints the image ID: sha512 of the config" "$(same_id "$OUT" "$APP1_ID"; echo $?)" \
        "got '$OUT', expected $APP1_ID"
run_pod "${P[@]}" image list --no-legend
assert_match "image list shows docker://REGISTRY/REPOSITORY:TAG" "$OUT" \
        "docker://${R//./\\.}/test/app:v1"
tap_check "the layers are stored by diff_id" \
        "$([ -e "$D/cas/layer/sha256-$L0_DIFF/rendered" ] &&
                [ -e "$D/cas/layer/sha256-$L1_APP1_DIFF/rendered" ]; echo $?)" \
        "$(ls "$D/cas/layer" 2>&1)"
newdir
run_pod "${P[@]}" --insecure-options=http fetch "docker://$R/test/app@$APP1_DIGEST"
assert_status "fetch by digest needs no --insecure-options=image" 0
tap_check "... same image ID" "$(same_id "$OUT" "$APP1_ID"; echo $?)" "got '$OUT'"
run_pod "${P[@]}" --insecure-options=image fetch "docker://$R/test/app@$APP1_DIGEST"
assert_fails "a plain http registry without --insecure-options=http is refused"
assert_match "... the message says http needs --insecure-options=http" "$ERR" "http"
run_pod "${P[@]}" --insecure-options=http fetch \
        "docker://$R/test/app@sha256:$(printf '0%.0s' $(seq 64))"
assert_fails "fetch of a digest the registry does not have fails"

# ---- TLS with a test CA ---------------------------------------------------------------------
newdir
run_pod "${P[@]}" --insecure-options=image fetch "docker://$T/test/app:v1"
assert_fails "a TLS registry whose CA is not trusted is refused"
assert_match "... a certificate error" "$ERR" "[Cc]ertificate|SSL|TLS|verif"
SSL_CERT_FILE=$REG_CA run_pod "${P[@]}" --insecure-options=image fetch "docker://$T/test/app:v1"
assert_status "TLS with the test CA in SSL_CERT_FILE" 0
tap_check "... the image ID" "$(same_id "$OUT" "$APP1_ID"; echo $?)" "got '$OUT'"
newdir
run_pod "${P[@]}" --insecure-options=image,tls fetch "docker://$T/test/app:v1"
assert_status "--insecure-options=tls accepts the unknown CA" 0

# ---- Basic auth (htpasswd) over TLS ------------------------------------------------------
export SSL_CERT_FILE=$REG_CA
newdir
run_pod "${P[@]}" --insecure-options=image fetch "docker://$B/test/app:v1"
assert_fails "Basic auth registry without credentials fails"
assert_match "... the message says so (401 / unauthorized / credentials)" "$ERR" \
        "401|[Uu]nauthori[sz]ed|[Cc]redentials|[Aa]uthenticat"
dockerauth() { # dockerauth FILE HOST USER PASSWORD
        printf '{"rktKind":"dockerAuth","rktVersion":"v1","registries":["%s"],"credentials":{"user":"%s","password":"%s"}}\n' \
                "$2" "$3" "$4" >"$1"
}
dockerauth "$ETC/auth.d/50-reg.json" "$B" "$REG_USER" wrong
run_pod "${P[@]}" --insecure-options=image fetch "docker://$B/test/app:v1"
assert_fails "wrong credentials from auth.d fail"
assert_match "... a clear error" "$ERR" "401|[Uu]nauthori[sz]ed|[Cc]redentials|[Aa]uthenticat"
check_clean "wrong credentials" "$D" ""
dockerauth "$ETC/auth.d/50-reg.json" "$B" "$REG_USER" "$REG_PASSWORD"
run_pod "${P[@]}" --insecure-options=image fetch "docker://$B/test/app:v1"
assert_status "Basic credentials from auth.d dockerAuth" 0
tap_check "... the image ID" "$(same_id "$OUT" "$APP1_ID"; echo $?)" "got '$OUT'"
rm "$ETC/auth.d/50-reg.json"
b64=$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)
newdir
mkdir -p "$HOME/.docker"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$B" "$b64" >"$HOME/.docker/config.json"
run_pod "${P[@]}" --insecure-options=image fetch "docker://$B/test/app:v1"
assert_status "Basic credentials from ~/.docker/config.json" 0
rm "$HOME/.docker/config.json"
newdir
mkdir -p "$XDG_RUNTIME_DIR/containers"
printf '{"auths":{"%s":{"auth":"%s"}}}\n' "$B" "$b64" >"$XDG_RUNTIME_DIR/containers/auth.json"
run_pod "${P[@]}" --insecure-options=image fetch "docker://$B/test/app:v1"
assert_status "Basic credentials from \$XDG_RUNTIME_DIR/containers/auth.json" 0
rm "$XDG_RUNTIME_DIR/containers/auth.json"
unset SSL_CERT_FILE

# ---- token auth ------------------------------------------------------------------------------
newdir
run_pod "${P[@]}" --insecure-options=image,http fetch "docker://$K/public/app:v1"
assert_status "token auth: an anonymous token pulls a public repository" 0
assert_match "... the token server was asked anonymously" "$(cat "$REG_DIR/K/token.log")" \
        "scope=repository(%3A|:)public(%2F|/)app(%3A|:)pull.* user=-$"
run_pod "${P[@]}" --insecure-options=image,http fetch "docker://$K/test/app:v1"
assert_fails "token auth: a private repository without credentials fails"
assert_match "... a clear error" "$ERR" "401|[Uu]nauthori[sz]ed|[Cc]redentials|denied|[Aa]uthenticat"
dockerauth "$ETC/auth.d/50-reg.json" "$K" "$REG_USER" wrong
run_pod "${P[@]}" --insecure-options=image,http fetch "docker://$K/test/app:v1"
assert_fails "token auth: wrong credentials fail"
assert_match "... a clear error" "$ERR" "401|[Uu]nauthori[sz]ed|[Cc]redentials|denied|[Aa]uthenticat"
dockerauth "$ETC/auth.d/50-reg.json" "$K" "$REG_USER" "$REG_PASSWORD"
run_pod "${P[@]}" --insecure-options=image,http fetch "docker://$K/test/app:v1"
assert_status "token auth with credentials from auth.d" 0
assert_match "... the token was asked for as alice" "$(tail -n 3 "$REG_DIR/K/token.log")" \
        "user=$REG_USER$"
rm "$ETC/auth.d/50-reg.json"

# ---- layer sharing, re-fetch cost (through the proxy, which counts requests) ---------------
newdir
F=("--insecure-options=image,http")
run_pod "${P[@]}" "${F[@]}" fetch "docker://$X/test/app:v1"
assert_status "fetch through the proxy" 0
proxy_log_reset X
run_pod "${P[@]}" "${F[@]}" fetch "docker://$X/test/app2:v1"
assert_status "fetch of a second image sharing the base layer" 0
tap_check "... the shared layer is not downloaded again" \
        "$([ "$STATUS" = 0 ] && [ "$(proxy_count X "^GET /v2/test/app2/blobs/$L0 ")" = 0 ]; echo $?)" \
        "$(cat "$REG_DIR/X.log")"
tap_check "... its own layer is downloaded once" \
        "$([ "$(proxy_count X "^GET /v2/test/app2/blobs/$L1_APP2 200")" = 1 ]; echo $?)" \
        "$(cat "$REG_DIR/X.log")"
tap_check "... two blob GETs in all (config and the new layer)" \
        "$([ "$(proxy_count X '^GET /v2/[^ ]*/blobs/')" = 2 ]; echo $?)" "$(cat "$REG_DIR/X.log")"
tap_check "the base layer is stored once" \
        "$([ "$(find "$D/cas/layer" -mindepth 1 -maxdepth 1 | wc -l)" = 3 ]; echo $?)" \
        "$(ls "$D/cas/layer" 2>&1)"
proxy_log_reset X
run_pod "${P[@]}" "${F[@]}" fetch --pull-policy=update "docker://$X/test/app:v1"
assert_status "re-fetch of a stored image by tag (--pull-policy=update)" 0
tap_check "... the same ID" "$(same_id "$OUT" "$APP1_ID"; echo $?)"
tap_check "... costs one manifest request" \
        "$([ "$(proxy_count X '^(GET|HEAD) /v2/test/app/manifests/')" = 1 ]; echo $?)" \
        "$(cat "$REG_DIR/X.log")"
tap_check "... and no blob request" "$([ "$STATUS" = 0 ] && [ "$(proxy_count X '^[A-Z]+ /v2/[^ ]*/blobs/')" = 0 ]; echo $?)" \
        "$(cat "$REG_DIR/X.log")"
proxy_log_reset X
run_pod "${P[@]}" "${F[@]}" fetch --pull-policy=new "docker://$X/test/app:v1"
assert_status "--pull-policy=new with the image stored" 0
tap_check "... asks the registry nothing" "$([ "$STATUS" = 0 ] && [ ! -s "$REG_DIR/X.log" ]; echo $?)" \
        "$(cat "$REG_DIR/X.log")"

# ---- hostile answers: each a clear error, nothing half-stored ------------------------------
newdir
run_pod "${P[@]}" "${F[@]}" fetch "docker://$X/test/app2:v1" # the base layer is stored
BEFORE=$(ids_of "$D")
hostile() { # hostile DESC REGEX RULES-JSON REF: fetch through the proxy with RULES, must fail
        proxy_rules X "$3"
        run_pod "${P[@]}" "${F[@]}" fetch "docker://$X/$4"
        proxy_rules X '[]'
        assert_fails "$1: fetch fails"
        assert_match "$1: the message names the cause" "$ERR" "$2"
        check_clean "$1" "$D" "$BEFORE"
}
hostile "a corrupted layer" "[Dd]igest|[Mm]ismatch|does not match" \
        '[{"match":"/blobs/'"$L1_APP1"'","method":"GET","action":"corrupt"}]' test/app:v1
hostile "a corrupted config" "[Dd]igest|[Mm]ismatch|does not match" \
        '[{"match":"/blobs/'"$APP1_CONFIG"'","method":"GET","action":"corrupt"}]' test/app:v1
hostile "a truncated layer download" "[Tt]runcat|short|[Pp]artial|size|transfer|EOF|closed|incomplete" \
        '[{"match":"/blobs/'"$L1_APP1"'","method":"GET","action":"truncate"}]' test/app:v1
# An uncompressed layer with one byte changed inside a file's data: still a valid tar, so only
# the digest check can catch it.
push R test/plain v1 '{"layers":['"$BASE"',{"compression":"none","entries":[{"path":"p","random":8192}]}],"config":{"Cmd":["/bin/sh"]}}'
PLAIN_L=$(sed -n 's/^layer\.1\.digest=//p' "$REG_DIR/last")
hostile "a corrupted uncompressed layer (a valid tar)" "[Dd]igest|[Mm]ismatch|does not match" \
        '[{"match":"/blobs/'"$PLAIN_L"'","method":"GET","action":"corrupt"}]' test/plain:v1
push R test/lie v1 '{"layers":['"$BASE"',{"entries":[{"path":"lie","content":"x"}]}],"fault":{"layer":1,"kind":"lying-diff-id"}}'
hostile "a lying diff_id" "diff_id|diff-id|DiffID|uncompressed" '[]' test/lie:v1
push R test/tgz v1 '{"layers":['"$BASE"',{"entries":[{"path":"t","random":65536}]}],"fault":{"layer":1,"kind":"truncated-gzip"}}'
hostile "a truncated gzip stream (digest right)" "gzip|[Dd]ecompress|[Tt]runcat|EOF|[Cc]orrupt|unexpected end" \
        '[]' test/tgz:v1
hostile "HTTP 401 on the manifest" "401|[Uu]nauthori[sz]ed|[Aa]uthentication|[Cc]redentials" \
        '[{"match":"/manifests/","action":"status","status":401,"headers":{"WWW-Authenticate":"Basic realm=\"x\""},"body":"{\"errors\":[{\"code\":\"UNAUTHORIZED\",\"message\":\"authentication required\"}]}"}]' \
        test/app:v1
hostile "HTTP 404 on the manifest" "404|not found|[Uu]nknown" \
        '[{"match":"/manifests/","action":"status","status":404,"body":"{\"errors\":[{\"code\":\"MANIFEST_UNKNOWN\",\"message\":\"manifest unknown\"}]}"}]' \
        test/app:v1
hostile "HTTP 404 on a layer" "404|not found|[Uu]nknown" \
        '[{"match":"/blobs/'"$L1_APP1"'","action":"status","status":404,"body":"{\"errors\":[{\"code\":\"BLOB_UNKNOWN\",\"message\":\"blob unknown\"}]}"}]' \
        test/app:v1
hostile "HTTP 429 on a layer" "429|[Tt]oo [Mm]any|rate" \
        '[{"match":"/blobs/'"$L1_APP1"'","action":"status","status":429,"headers":{"Retry-After":"1"},"body":"{\"errors\":[{\"code\":\"TOOMANYREQUESTS\",\"message\":\"slow down\"}]}"}]' \
        test/app:v1
SCHEMA1=$(oci_image schema1 "$APP1" --repo test/app --tag v1)
hostile "a schema 1 manifest" "[Ss]chema ?1|schema version 1|v1" \
        "$(jq -cn --arg b "$SCHEMA1" '[{"match":"/manifests/","action":"body","content_type":"application/vnd.docker.distribution.manifest.v1+prettyjws","body":$b}]')" \
        test/app:v1

# ---- multi-platform indexes ------------------------------------------------------------------
case $(uname -m) in
x86_64) HOSTARCH=amd64 OTHER=arm64 ;;
*) HOSTARCH=$(uname -m) OTHER=amd64 ;;
esac
[ "$HOSTARCH" = aarch64 ] && HOSTARCH=arm64
plat() { # plat ARCH LAYER-NAME
        printf '{"platform":{"os":"linux","architecture":"%s"},"layers":[%s,%s],"config":{"Cmd":["/bin/sh"]}}' \
                "$1" "$BASE" "$(layer "$2")"
}
for media in docker oci; do
        push R "test/multi-$media" v1 \
                '{"media":"'$media'","attestation":true,"index":['"$(plat "$OTHER" other),$(plat "$HOSTARCH" host)"']}'
        HOST_ID=$(sed -n "s|^platform\.linux/$HOSTARCH\.image_id=||p" "$REG_DIR/last")
        OTHER_ID=$(sed -n "s|^platform\.linux/$OTHER\.image_id=||p" "$REG_DIR/last")
        newdir
        run_pod "${P[@]}" "${F[@]}" fetch "docker://$R/test/multi-$media:v1"
        assert_status "$media index: fetch picks the host's platform" 0
        tap_check "$media index: ... the host platform's image (not the first entry, not the attestation)" \
                "$(same_id "$OUT" "$HOST_ID"; echo $?)" "got '$OUT', expected $HOST_ID"
        run_pod "${P[@]}" "${F[@]}" fetch --platform="linux/$OTHER" "docker://$R/test/multi-$media:v1"
        assert_status "$media index: --platform=linux/$OTHER" 0
        tap_check "$media index: ... gets the $OTHER image" "$(same_id "$OUT" "$OTHER_ID"; echo $?)" \
                "got '$OUT', expected $OTHER_ID"
done
push R test/foreign v1 '{"media":"oci","attestation":true,"index":['"$(plat "$OTHER" other)"']}'
newdir
BEFORE=
run_pod "${P[@]}" "${F[@]}" fetch "docker://$R/test/foreign:v1"
assert_fails "an index without the host's platform: fetch fails"
assert_match "... the message names the platform" "$ERR" "[Pp]latform|linux/$HOSTARCH"
check_clean "wrong platform" "$D" ""

# ---- kill -9 during a pull, then a clean re-pull -------------------------------------------
push R test/big v1 '{"layers":['"$BASE"',{"compression":"none","entries":[{"path":"big","random":2097152}]}],"config":{"Cmd":["/bin/sh"]}}'
BIG_ID=$IMAGE_ID
BIG_L=$(sed -n 's/^layer\.1\.digest=//p' "$REG_DIR/last")
newdir
proxy_log_reset X
proxy_rules X '[{"match":"/blobs/'"$BIG_L"'","method":"GET","action":"slow","rate":65536}]'
"$POD" "${P[@]}" "${F[@]}" fetch --quiet "docker://$X/test/big:v1" >"$W/kill.out" 2>&1 &
KPID=$!
for _ in $(seq 200); do
        grep -q "^> GET /v2/test/big/blobs/$BIG_L" "$REG_DIR/X.log" && break
        sleep 0.05
done
sleep 1
kill -9 "$KPID" 2>/dev/null || true
wait "$KPID" 2>/dev/null || true
proxy_rules X '[]'
tap_check "kill -9 hit the pull mid-download" \
        "$(grep -q "^> GET /v2/test/big/blobs/$BIG_L" "$REG_DIR/X.log"; echo $?)" "$(cat "$W/kill.out")"
tap_check "after kill -9 the image is not listed" "$([ -z "$(ids_of "$D")" ]; echo $?)"
tap_check "after kill -9 the half-downloaded layer is not a stored layer" \
        "$([ ! -e "$D/cas/layer/$(sed -n 's/^layer\.1\.diff_id=sha256:/sha256-/p' "$REG_DIR/last")" ]; echo $?)"
run_pod "${P[@]}" "${F[@]}" fetch "docker://$X/test/big:v1"
assert_status "a re-pull after kill -9 succeeds" 0
tap_check "... with the right ID" "$(same_id "$OUT" "$BIG_ID"; echo $?)" "got '$OUT'"
run_pod "${P[@]}" image gc
strays=$(store_strays "$D")
tap_check "... and after gc no temp dir of the killed pull is left" "$([ -z "$strays" ]; echo $?)" \
        "$strays"
run_pod "${P[@]}" image verify "$BIG_ID"
assert_status "... the re-pulled image verifies" 0

# ---- concurrent pulls of images sharing layers ---------------------------------------------
newdir
proxy_rules X '[{"match":"/blobs/","method":"GET","action":"slow","rate":2000000}]'
"$POD" "${P[@]}" "${F[@]}" fetch --quiet "docker://$X/test/app:v1" >"$W/c1.out" 2>"$W/c1.err" &
C1=$!
"$POD" "${P[@]}" "${F[@]}" fetch --quiet "docker://$X/test/app2:v1" >"$W/c2.out" 2>"$W/c2.err" &
C2=$!
set +e
wait "$C1"
S1=$?
wait "$C2"
S2=$?
set -e
proxy_rules X '[]'
tap_check "concurrent pulls sharing a layer: the first succeeds" \
        "$([ "$S1" = 0 ] && same_id "$(cat "$W/c1.out")" "$APP1_ID"; echo $?)" "status $S1: $(cat "$W/c1.err")"
tap_check "concurrent pulls sharing a layer: the second succeeds" \
        "$([ "$S2" = 0 ] && same_id "$(cat "$W/c2.out")" "$APP2_ID"; echo $?)" "status $S2: $(cat "$W/c2.err")"
tap_check "... the shared layer is stored once, complete" \
        "$([ -e "$D/cas/layer/sha256-$L0_DIFF/rendered" ] &&
                [ "$(find "$D/cas/layer" -mindepth 1 -maxdepth 1 | wc -l)" = 3 ]; echo $?)" \
        "$(ls "$D/cas/layer" 2>&1)"

# ---- image rm / gc remove the layers no image uses -----------------------------------------
LAYERS_BEFORE=$(find "$D/cas/layer" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)
run_pod "${P[@]}" image rm "$APP1_ID"
assert_status "image rm of the first image" 0
run_pod "${P[@]}" image gc
assert_status "image gc" 0
tap_check "its own layer is gone" "$([ "$LAYERS_BEFORE" = 3 ] && [ ! -e "$D/cas/layer/sha256-$L1_APP1_DIFF" ]; echo $?)" \
        "$(ls "$D/cas/layer")"
tap_check "the shared layer stays (the second image uses it)" \
        "$([ -e "$D/cas/layer/sha256-$L0_DIFF/rendered" ]; echo $?)"
run_pod "${P[@]}" image rm "$APP2_ID"
run_pod "${P[@]}" image gc
tap_check "after rm of both and gc no layer is left" \
        "$([ "$LAYERS_BEFORE" = 3 ] && [ -z "$(find "$D/cas/layer" -mindepth 1 -maxdepth 1 2>/dev/null)" ]; echo $?)" \
        "$(ls "$D/cas/layer" 2>&1)"
tap_check "... and no layer blob" \
        "$([ "$LAYERS_BEFORE" = 3 ] && [ -z "$(find "$D/cas/blob/sha256" -type f 2>/dev/null)" ]; echo $?)"

# ---- pod image import: docker save, OCI layout dir and tar ---------------------------------
newdir
oci_image save "$APP1" --out "$W/save.tar" --tag example.com/saved:v1 \
        --tag example.com/saved:latest >/dev/null
run_pod "${P[@]}" --insecure-options=image image import "$W/save.tar"
assert_status "image import of a docker save tar" 0
tap_check "... prints the image ID once" "$(same_id "$OUT" "$APP1_ID"; echo $?)" "got '$OUT'"
run_pod "${P[@]}" image list --no-legend
assert_match "... both tags are recorded (v1)" "$OUT" "example\.com/saved:v1"
assert_match "... both tags are recorded (latest)" "$OUT" "example\.com/saved:latest"
newdir
oci_image layout "$APP2" --out "$W/layout" --tag v2 >/dev/null
run_pod "${P[@]}" --insecure-options=image image import "$W/layout"
assert_status "image import of an OCI layout directory" 0
tap_check "... prints the image ID" "$(same_id "$OUT" "$APP2_ID"; echo $?)" "got '$OUT'"
newdir
tar -C "$W/layout" -cf "$W/layout.tar" .
run_pod "${P[@]}" --insecure-options=image image import "$W/layout.tar"
assert_status "image import of an OCI layout tar" 0
tap_check "... prints the image ID" "$(same_id "$OUT" "$APP2_ID"; echo $?)" "got '$OUT'"
for fault in bad-digest truncate lying-diff-id; do
        newdir
        spec='{"layers":['"$BASE,$(layer "$fault")"'],"fault":{"layer":1,"kind":"'$fault'"},"config":{"Cmd":["/bin/sh"]}}'
        oci_image layout "$spec" --out "$W/bad-$fault" --tag v1 >/dev/null
        run_pod "${P[@]}" --insecure-options=image image import "$W/bad-$fault"
        assert_fails "OCI layout with a $fault layer: import fails"
        check_clean "OCI layout, $fault" "$D" ""
        oci_image save "$spec" --out "$W/bad-$fault.tar" --tag example.com/bad:v1 >/dev/null
        run_pod "${P[@]}" --insecure-options=image image import "$W/bad-$fault.tar"
        assert_fails "docker save with a $fault layer: import fails"
        check_clean "docker save, $fault" "$D" ""
done

tap_done
