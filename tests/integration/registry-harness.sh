#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The Docker/OCI test harness checked with an independent client (Debian's skopeo), no pod
# involved: every registry flavour of lib-registry.sh (plain http, TLS with the test CA,
# htpasswd Basic, token auth) takes an image pushed by tests/helpers/oci-image.py and gives it
# back; credentials are enforced; the layers hold the entries asked for (whiteouts, opaque
# dirs, hard links, symlinks); indexes carry their platforms; the OCI layout and docker save
# outputs are readable; the hostile proxy corrupts, truncates and answers what it is told.
# When this fails, the docker-*.sh results mean nothing.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-registry.sh
. "$(dirname "$0")/lib-registry.sh"
registry_requirements
command -v skopeo >/dev/null || tap_skip_all "needs skopeo (tools/install-deps)"
command -v zstd >/dev/null || tap_skip_all "needs zstd"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
W=$TAP_TMP
export HOME=$W/home # skopeo's own credential files stay out of it
mkdir -p "$HOME"
unset REGISTRY_AUTH_FILE

BASE='{"busybox":["sh","ls"]}'
TREE='{"compression":"zstd","entries":[{"path":"etc/hello","content":"hi\n"},
 {"path":"etc/hl","type":"hardlink","target":"etc/hello"},{"path":"etc/passwd","type":"whiteout"},
 {"path":"opt","type":"opaque"},{"path":"lnk","type":"symlink","target":"/etc/hello"}]}'
SPEC='{"media":"oci","layers":['"$BASE,$TREE"'],"config":{"Cmd":["/bin/sh"],"Env":["A=b"]}}'

sk() { # sk VAR ARGS...: skopeo with VAR's flags (inspect)
        local v=$1
        shift
        mapfile -t fl < <(skopeo_flags "$v")
        skopeo inspect "${fl[@]}" "$@"
}
anon_flags() { # anon_flags VAR: VAR's TLS flags without credentials
        skopeo_flags "$1" | grep -v -- --creds || true
}

for flavour in "" tls basic "tls basic" token "tls token"; do
        v=R$RANDOM
        # shellcheck disable=SC2086 # the flavour words are separate arguments
        registry_start "$v" $flavour
        name=${flavour:-plain}
        tap_ok "$name: oci-image.py pushes an image" -- push "$v" test/img v1 "$SPEC"
        got=$(sk "$v" "docker://${!v}/test/img:v1" 2>&1 | jq -r .Digest 2>&1 || true)
        tap_check "$name: skopeo reads it back by tag, same manifest digest" \
                "$([ "$got" = "$MANIFEST_DIGEST" ]; echo $?)" "got $got, pushed $MANIFEST_DIGEST"
        mapfile -t fl < <(skopeo_flags "$v")
        tap_ok "$name: skopeo copies it by digest (every blob verified)" -- \
                skopeo copy "${fl[@]/#--/--src-}" "docker://${!v}/test/img@$MANIFEST_DIGEST" \
                "oci:$W/copy-$v:x"
        case $flavour in
        *basic* | *token*)
                mapfile -t fl < <(anon_flags "$v")
                tap_check "$name: anonymous access is refused" \
                        "$(! skopeo inspect "${fl[@]}" "docker://${!v}/test/img:v1" >/dev/null 2>&1; echo $?)"
                tap_check "$name: wrong credentials are refused" \
                        "$(! skopeo inspect "${fl[@]}" --creds="$REG_USER:wrong" \
                                "docker://${!v}/test/img:v1" >/dev/null 2>&1; echo $?)"
                ;;
        esac
        if [[ $flavour == *token* ]]; then
                push "$v" public/img v1 "$SPEC"
                mapfile -t fl < <(anon_flags "$v")
                tap_ok "$name: an anonymous token pulls public/*" -- \
                        skopeo inspect "${fl[@]}" "docker://${!v}/public/img:v1"
                assert_match "$name: the token server saw alice's pushes" \
                        "$(cat "$REG_DIR/$v/token.log")" "user=$REG_USER$"
        fi
done

# ---- what the layers hold ------------------------------------------------------------------
L1=$(sed -n 's/^layer\.1\.digest=sha256://p' "$REG_DIR/last")
listing=$(zstd -dc "$W/copy-$v/blobs/sha256/$L1" | tar tvf - 2>&1)
assert_match "zstd layer: a hard link" "$listing" "^h.* etc/hl link to etc/hello$"
assert_match "zstd layer: a whiteout" "$listing" " etc/\.wh\.passwd$"
assert_match "zstd layer: an opaque dir" "$listing" " opt/\.wh\.\.wh\.\.opq$"
assert_match "zstd layer: a symlink" "$listing" "^l.* lnk -> /etc/hello$"
DIFF1=$(sed -n 's/^layer\.1\.diff_id=//p' "$REG_DIR/last")
tap_check "the config's diff_id is the sha256 of the uncompressed layer" \
        "$([ "sha256:$(zstd -dc "$W/copy-$v/blobs/sha256/$L1" | sha256sum | cut -d' ' -f1)" = "$DIFF1" ]
                echo $?)"

# ---- indexes, layout, docker save --------------------------------------------------------
registry_start R
plat() { printf '{"platform":{"os":"linux","architecture":"%s"},"layers":[%s]}' "$1" "$BASE"; }
for media in docker oci; do
        push R "test/multi-$media" v1 \
                '{"media":"'$media'","attestation":true,"index":['"$(plat amd64),$(plat arm64)"']}'
        raw=$(sk R --raw "docker://$R/test/multi-$media:v1" 2>&1 || true)
        assert_match "$media index: its media type" "$(jq -r .mediaType <<<"$raw" 2>&1)" \
                "manifest\.list\.v2|image\.index\.v1"
        assert_match "$media index: amd64, arm64 and an attestation entry" \
                "$(jq -c '[.manifests[].platform.architecture]' <<<"$raw" 2>&1)" \
                '^\["amd64","arm64","unknown"\]$'
        got=$(sk R --override-arch arm64 "docker://$R/test/multi-$media:v1" 2>&1 |
                jq -r .Architecture 2>&1 || true)
        tap_check "$media index: skopeo resolves the arm64 entry" "$([ "$got" = arm64 ]; echo $?)" "$got"
done
oci_image layout "$SPEC" --out "$W/layout" --tag v1 >"$W/report"
got=$(skopeo inspect "oci:$W/layout:v1" 2>&1 | jq -r .Digest 2>&1 || true)
tap_check "OCI layout: skopeo reads it, same manifest digest" \
        "$([ "$got" = "$(sed -n 's/^manifest_digest=//p' "$W/report")" ]; echo $?)" "$got"
oci_image save '{"layers":['"$BASE"'],"config":{"Cmd":["/bin/sh"]}}' --out "$W/save.tar" \
        --tag example.com/a:v1 >"$W/report"
got=$(skopeo inspect "docker-archive:$W/save.tar" 2>&1 | jq -r '.Layers[0]' 2>&1 || true)
tap_check "docker save: skopeo reads it, the layer is named by its diff_id" \
        "$([ "$got" = "$(sed -n 's/^layer\.0\.diff_id=//p' "$W/report")" ]; echo $?)" "$got"

# ---- the hostile proxy ----------------------------------------------------------------------
registry_proxy X "$R"
push R test/img v1 "$SPEC"
tap_ok "proxy: passes a pull through untouched" -- \
        skopeo copy --src-tls-verify=false "docker://$X/test/img:v1" "oci:$W/p1:x"
proxy_rules X '[{"match":"/blobs/","method":"GET","action":"corrupt"}]'
out=$(skopeo copy --src-tls-verify=false "docker://$X/test/img:v1" "oci:$W/p2:x" 2>&1 || true)
assert_match "proxy: corrupt makes skopeo see a digest mismatch" "$out" "[Dd]igest did not match"
proxy_rules X '[{"match":"/blobs/","method":"GET","action":"truncate"}]'
out=$(skopeo copy --retry-times=0 --src-tls-verify=false "docker://$X/test/img:v1" "oci:$W/p3:x" \
        2>&1 || true)
assert_match "proxy: truncate cuts the body" "$out" "EOF|unexpected"
proxy_rules X '[{"match":"/manifests/","action":"status","status":404}]'
out=$(skopeo inspect --tls-verify=false "docker://$X/test/img:v1" 2>&1 || true)
assert_match "proxy: a 404 answer" "$out" "manifest unknown|404"
proxy_rules X '[{"match":"/manifests/","action":"status","status":429}]'
out=$(timeout 60 skopeo inspect --retry-times=0 --tls-verify=false "docker://$X/test/img:v1" 2>&1 ||
        true)
assert_match "proxy: a 429 answer" "$out" "429|[Tt]oo many"
proxy_rules X '[{"match":"/manifests/","times":1,"action":"status","status":404}]'
out=$(skopeo inspect --tls-verify=false "docker://$X/test/img:v1" 2>&1 || true)
assert_match "proxy: \"times\": 1 answers the first request" "$out" "manifest unknown|404"
out=$(skopeo inspect --tls-verify=false "docker://$X/test/img:v1" 2>&1 | jq -r .Digest 2>&1 || true)
tap_check "proxy: ... then passes through" \
        "$([ "$out" = "$MANIFEST_DIGEST" ]; echo $?)" "$out"
proxy_rules X "$(jq -cn --arg b "$(oci_image schema1 "$SPEC" --repo test/img --tag v1)" \
        '[{"match":"/manifests/","action":"body","content_type":"application/vnd.docker.distribution.manifest.v1+prettyjws","body":$b}]')"
out=$(skopeo inspect --raw --tls-verify=false "docker://$X/test/img:v1" 2>&1 || true)
assert_match "proxy: serves a schema 1 manifest" "$(jq -r .schemaVersion <<<"$out" 2>&1)" "^1$"
assert_match "proxy: its log has every request" "$(cat "$REG_DIR/X.log")" \
        "^GET /v2/test/img/manifests/v1 200$"

tap_done
