#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The appc metadata service (issue 15, pod-metadata(7)) on this host, without systemd: every
# endpoint read from inside a pod with busybox wget and nc and compared byte for byte with
# `pod cat-manifest` and `pod image cat-manifest`; content types and status codes; sign in
# pod A, verify in pod B, tampered content, UUID and signature refused; pod A cannot reach
# pod B's data by any path, header or port; --net=none, --net=host and the default network;
# the event handlers see AC_METADATA_URL; an ACE-validator-style two-app pod.  The systemd
# half is tests/vm/test-metadata.sh.  Runs in its own network and mount namespace (like
# net.sh), so --net=host and /etc/pod, /run/pod are ours.
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
set -euo pipefail

if [ -z "${POD_MDS_TEST_NETNS:-}" ]; then
        skip() {
                echo "1..0 # SKIP $1"
                exit 0
        }
        [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts)"
        BUSYBOX=$(command -v busybox || true)
        if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
                skip "needs a static busybox (apt-get install busybox-static)"
        fi
        grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "no overlayfs"
        unshare --mount --net --pid --fork true 2>/dev/null || skip "cannot create namespaces here"
        export POD_MDS_TEST_NETNS=1
        exec unshare --mount --net /bin/bash "$0" "$@"
fi

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
BUSYBOX=$(command -v busybox)
mkdir -p /run/pod /etc/pod
mount -t tmpfs -o mode=0755 pod-mds-test /run/pod
mount -t tmpfs -o mode=0755 pod-mds-test /etc/pod
mkdir -p /etc/pod/net.d
ip link set lo up

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --insecure-options=image)

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- the probe: one script, one mode per use -------------------------------------------
# probe MODE [ARGS]: talks to $AC_METADATA_URL and writes what it got to /out.
mkimage() { # mkimage DIR NAME MANIFEST-APP-AND-ANNOTATIONS
        mkdir -p "$1/rootfs/bin" "$1/rootfs/out" "$1/rootfs/db" "$1/rootfs/opt/acvalidator"
        cp "$BUSYBOX" "$1/rootfs/bin/busybox"
        for a in sh wget nc cat echo env sleep sed tr printf test touch pwd grep cut head \
                mkdir ls; do
                ln -s busybox "$1/rootfs/bin/$a"
        done
        cp "$W/probe" "$1/rootfs/bin/probe"
        cat >"$1/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$2",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 $3}
EOF
        "$POD" image build "$1" "$1.aci" >/dev/null
        "$POD" "${P[@]}" fetch "$1.aci" 2>/dev/null
}

cat >"$W/probe" <<'EOF'
#!/bin/sh
# probe MODE ...: the metadata client inside the pods.
H='Metadata-Flavor: AppContainer'
M=$AC_METADATA_URL/acMetadata/v1
hp=${AC_METADATA_URL#http://}
port=${hp#*:}
port=${port%%/*}
tok=/${hp#*/}
urlenc() { printf '%s' "$1" | sed 's/%/%25/g; s/+/%2B/g; s/\//%2F/g; s/=/%3D/g; s/&/%26/g; s/ /+/g'; }
# raw FILE METHOD PATH [HEADER-LINE [BODY]]: the whole response, headers and all.
raw() {
        if [ -n "${5:-}" ]; then
                printf '%s %s HTTP/1.1\r\nHost: x\r\n%s\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: %s\r\n\r\n%s' \
                        "$2" "$3" "$4" "${#5}" "$5"
        else
                printf '%s %s HTTP/1.1\r\nHost: x\r\n%s\r\n\r\n' "$2" "$3" "${4:-X-None: 1}"
        fi | nc -w 5 127.0.0.1 "$port" >"/out/$1" 2>/dev/null || true
}
mode=$1
shift
case $mode in
endpoints)
        echo "$AC_METADATA_URL" >/out/url
        echo "$AC_APP_NAME" >/out/app-name
        wget -q -O /out/uuid --header "$H" "$M/pod/uuid"
        wget -q -O /out/pod-manifest --header "$H" "$M/pod/manifest"
        wget -q -O /out/image-manifest --header "$H" "$M/apps/$AC_APP_NAME/image/manifest"
        wget -q -O /out/image-id --header "$H" "$M/apps/$AC_APP_NAME/image/id"
        wget -q -O /out/pod-annotations --header "$H" "$M/pod/annotations"
        wget -q -O /out/pod-annotation-list --header "$H" "$M/pod/annotations/"
        wget -q -O /out/pod-annotation-one --header "$H" "$M/pod/annotations/pod-note"
        wget -q -O /out/app-annotations --header "$H" "$M/apps/$AC_APP_NAME/annotations"
        wget -q -O /out/app-annotation-list --header "$H" "$M/apps/$AC_APP_NAME/annotations/"
        wget -q -O /out/app-annotation-shared --header "$H" \
                "$M/apps/$AC_APP_NAME/annotations/shared"
        wget -q -O /out/app-annotation-img --header "$H" \
                "$M/apps/$AC_APP_NAME/annotations/img-note"
        wget -q -O /out/sig --header "$H" --post-data "content=$(urlenc "$1")" \
                "$M/pod/hmac/sign"
        for e in pod/uuid pod/manifest pod/annotations pod/annotations/ pod/annotations/pod-note \
                "apps/$AC_APP_NAME/annotations" "apps/$AC_APP_NAME/annotations/" \
                "apps/$AC_APP_NAME/annotations/shared" "apps/$AC_APP_NAME/image/manifest" \
                "apps/$AC_APP_NAME/image/id"; do
                raw "raw-$(echo "$e" | tr / _)" GET "$tok/acMetadata/v1/$e" "$H"
        done
        raw raw-sign POST "$tok/acMetadata/v1/pod/hmac/sign" "$H" "content=$(urlenc "$1")"
        raw raw-missing-annotation GET "$tok/acMetadata/v1/pod/annotations/nope" "$H"
        raw raw-missing-app GET "$tok/acMetadata/v1/apps/nope/image/id" "$H"
        raw raw-unknown GET "$tok/acMetadata/v1/pod/nothing" "$H"
        raw raw-no-flavor GET "$tok/acMetadata/v1/pod/uuid"
        raw raw-no-token GET "/acMetadata/v1/pod/uuid" "$H"
        raw raw-bad-token GET "/00000000000000000000000000000000/acMetadata/v1/pod/uuid" "$H"
        raw raw-get-sign GET "$tok/acMetadata/v1/pod/hmac/sign" "$H"
        raw raw-put PUT "$tok/acMetadata/v1/pod/uuid" "$H"
        raw raw-garbage GET 'no-slash'
        ;;
verify) # verify UUID SIGNATURE CONTENT: the status of each of: as given, tampered
        # content, UUID, signature, signature missing
        st() {
                if wget -q -O /dev/null --header "$H" --post-data "$1" "$M/pod/hmac/verify" \
                        2>/dev/null; then
                        echo 200
                else
                        echo fail
                fi
        }
        u=$1 s=$2 c=$3
        other=00000000-0000-4000-8000-000000000000
        bad=$(printf '%s' "$s" | sed 's/^./A/; t; s/^/A/')
        [ "$bad" = "$s" ] && bad=$(printf '%s' "$s" | sed 's/^./B/')
        {
                echo "good $(st "content=$(urlenc "$c")&uuid=$u&signature=$(urlenc "$s")")"
                echo "rkt-uid $(st "content=$(urlenc "$c")&uid=$u&signature=$(urlenc "$s")")"
                echo "content $(st "content=$(urlenc "$c.")&uuid=$u&signature=$(urlenc "$s")")"
                echo "uuid $(st "content=$(urlenc "$c")&uuid=$other&signature=$(urlenc "$s")")"
                echo "signature $(st "content=$(urlenc "$c")&uuid=$u&signature=$(urlenc "$bad")")"
                echo "nosig $(st "content=$(urlenc "$c")&uuid=$u")"
        } >/out/verify
        raw raw-verify-bad POST "$tok/acMetadata/v1/pod/hmac/verify" "$H" \
                "content=x&uuid=$other&signature=$(urlenc "$s")"
        ;;
wait) # wait: stays up until /out/stop appears (at most 60 s)
        echo "$AC_METADATA_URL" >/out/url
        wget -q -O /out/uuid --header "$H" "$M/pod/uuid"
        i=0
        while [ ! -e /out/stop ] && [ $i -lt 600 ]; do
                sleep 0.1
                i=$((i + 1))
        done
        ;;
steal) # steal URL-OF-B UUID-OF-B: pod A asks for B's data every way it can
        b=$1
        bhp=${b#http://}
        bport=${bhp#*:}
        bport=${bport%%/*}
        btok=/${bhp#*/}
        raw steal-own-other-uuid GET "$tok/acMetadata/v1/pods/$2/manifest" "$H"
        raw steal-dotdot GET "$tok/acMetadata/v1/../../$btok/acMetadata/v1/pod/manifest" "$H"
        raw steal-btoken GET "$btok/acMetadata/v1/pod/manifest" "$H"
        raw steal-host GET "$tok/acMetadata/v1/pod/manifest" "$H
Host: $bhp
X-Pod-UUID: $2"
        # B's own address and port, with our token, B's token, and no token.
        port=$bport
        raw steal-bport-own GET "$tok/acMetadata/v1/pod/manifest" "$H"
        raw steal-bport-b GET "$btok/acMetadata/v1/pod/manifest" "$H"
        raw steal-bport-none GET "/acMetadata/v1/pod/manifest" "$H"
        # Not steal-bport-b: with --net=host, B's token (which A cannot know; the test hands
        # it over) is what opens B's service.
        for f in /out/steal-*; do [ "$f" = /out/steal-bport-b ] || cat "$f"; done >/out/steal-all
        ;;
handler)
        echo "$1 AC_METADATA_URL=$AC_METADATA_URL AC_APP_NAME=$AC_APP_NAME" >>/out/handlers
        wget -q -O - --header "$H" "$M/pod/uuid" >>/out/handlers && echo >>/out/handlers
        ;;
esac
EOF
chmod +x "$W/probe"

A=$W/a
ID_A=$(mkimage "$A" example.com/mds-a '"annotations":[{"name":"img-note","value":"from-image"},
  {"name":"shared","value":"image"}],
 "app":{"exec":["/bin/probe","endpoints","hello world+/=&"],"user":"0","group":"0",
        "mountPoints":[{"name":"out","path":"/out"}],
        "eventHandlers":[{"name":"pre-start","exec":["/bin/probe","handler","pre-start"]},
                         {"name":"post-stop","exec":["/bin/probe","handler","post-stop"]}]}')

# ---- every endpoint, --net=none --------------------------------------------------------
O=$W/out-none
mkdir -p "$O"
run_pod "${P[@]}" run --net=none --uuid-file-save="$W/uuid-none" \
        --annotation=pod-note=from-pod --volume=out,kind=host,source="$O" "$ID_A" \
        --annotation=shared=pod-app --user-annotation=user-only=x
assert_status "a pod reading its metadata (--net=none) runs" 0
UUID=$(cat "$W/uuid-none")
tap_check "AC_METADATA_URL is http://127.0.0.1:PORT/ and a 128-bit token" \
        "$(grep -Eqx 'http://127\.0\.0\.1:[0-9]+/[0-9a-f]{32}' "$O/url"; echo $?)" "$(cat "$O/url")"
tap_check "AC_APP_NAME" "$(grep -qx mds-a "$O/app-name"; echo $?)"
tap_check "pod/uuid is the pod's UUID, no newline" "$(printf '%s' "$UUID" | cmp -s - "$O/uuid"; echo $?)"
"$POD" "${P[@]}" cat-manifest --pretty-print=false "$UUID" >"$W/cat-manifest"
tap_check "pod/manifest is what pod cat-manifest --pretty-print=false shows" \
        "$([ "$(cat "$W/cat-manifest")" = "$(cat "$O/pod-manifest")" ]; echo $?)"
tap_check "pod/manifest is byte for byte the pod dir's manifest" \
        "$(cmp -s "$D"/pods/*/"$UUID"/pod "$O/pod-manifest"; echo $?)"
"$POD" "${P[@]}" image cat-manifest --pretty-print=false "$ID_A" >"$W/image-manifest"
tap_check "apps/NAME/image/manifest is byte for byte pod image cat-manifest's" \
        "$(cmp -s "$W/image-manifest" "$O/image-manifest"; echo $?)" \
        "$(diff "$W/image-manifest" "$O/image-manifest" | head -5)"
tap_check "apps/NAME/image/id is the pod manifest's image ID (the full one of the fetched image)" \
        "$(FULL=$(grep -o '"id": *"sha512-[0-9a-f]*"' "$O/pod-manifest" | grep -o 'sha512-[0-9a-f]*')
                printf '%s' "$FULL" | cmp -s - "$O/image-id" && [ "${FULL#"$ID_A"}" != "$FULL" ]; echo $?)" \
        "$(cat "$O/image-id") vs $ID_A"
assert_match "pod/annotations: the pod manifest's annotations as JSON" "$(cat "$O/pod-annotations")" \
        '^\[.*\{"name":"pod-note","value":"from-pod"\}.*\]$'
tap_check "pod/annotations/: the names" "$(grep -qx pod-note "$O/pod-annotation-list"; echo $?)"
tap_check "pod/annotations/NAME: the value" \
        "$(printf from-pod | cmp -s - "$O/pod-annotation-one"; echo $?)"
tap_check "apps/NAME/annotations: image annotations overlaid by the pod's app annotations" \
        "$(grep -qxF '[{"name":"img-note","value":"from-image"},{"name":"shared","value":"pod-app"}]' \
                "$O/app-annotations"; echo $?)" "$(cat "$O/app-annotations")"
tap_check "apps/NAME/annotations/: the names, once each" \
        "$(printf 'img-note\nshared\n' | cmp -s - "$O/app-annotation-list"; echo $?)"
tap_check "apps/NAME/annotations/NAME: the pod's value wins" \
        "$(printf pod-app | cmp -s - "$O/app-annotation-shared"; echo $?)"
tap_check "apps/NAME/annotations/NAME: the image's" \
        "$(printf from-image | cmp -s - "$O/app-annotation-img"; echo $?)"
tap_check "pod/hmac/sign: base64 of 64 bytes" \
        "$(grep -Eqx '[A-Za-z0-9+/]{86}==' "$O/sig"; echo $?)" "$(cat "$O/sig")"

ct() { sed -n 's/\r$//; s/^Content-Type: //p' "$O/$1"; }
status() { head -n1 "$O/$1" | tr -d '\r'; }
for e in pod_uuid pod_annotations_ pod_annotations_pod-note apps_mds-a_annotations_ \
        apps_mds-a_annotations_shared apps_mds-a_image_id; do
        tap_check "GET ${e//_//}: 200, text/plain; charset=us-ascii" \
                "$([ "$(status "raw-$e")" = "HTTP/1.1 200 OK" ] &&
                        [ "$(ct "raw-$e")" = "text/plain; charset=us-ascii" ]; echo $?)" \
                "$(head -c 300 "$O/raw-$e")"
done
for e in pod_manifest pod_annotations apps_mds-a_annotations apps_mds-a_image_manifest; do
        tap_check "GET ${e//_//}: 200, application/json" \
                "$([ "$(status "raw-$e")" = "HTTP/1.1 200 OK" ] &&
                        [ "$(ct "raw-$e")" = "application/json" ]; echo $?)" \
                "$(head -c 300 "$O/raw-$e")"
done
tap_check "POST pod/hmac/sign: 200, text/plain; charset=us-ascii, the same signature" \
        "$([ "$(status raw-sign)" = "HTTP/1.1 200 OK" ] &&
                [ "$(ct raw-sign)" = "text/plain; charset=us-ascii" ] &&
                [ "$(sed '1,/^\r$/d' "$O/raw-sign")" = "$(cat "$O/sig")" ]; echo $?)" \
        "$(cat "$O/raw-sign")"
tap_check "Content-Length is the body's length" \
        "$([ "$(sed -n 's/\r$//; s/^Content-Length: //p' "$O/raw-pod_uuid")" = 36 ]; echo $?)"
for x in missing-annotation:404 missing-app:404 unknown:404 no-token:404 bad-token:404 \
        no-flavor:403 get-sign:405 put:501 garbage:400; do
        tap_check "${x%%:*}: ${x#*:}" "$(status "raw-${x%%:*}" | grep -q "^HTTP/1.1 ${x#*:} "; echo $?)" \
                "$(head -c 200 "$O/raw-${x%%:*}")"
done
tap_check "the pre-start and post-stop handlers got AC_METADATA_URL and reached the service" \
        "$(grep -c "^pre-start AC_METADATA_URL=$(cat "$O/url") AC_APP_NAME=mds-a$" "$O/handlers" |
                grep -qx 1 && grep -q "^post-stop AC_METADATA_URL=$(cat "$O/url") " "$O/handlers" &&
                [ "$(grep -cx "$UUID" "$O/handlers")" = 2 ]; echo $?)" "$(cat "$O/handlers")"
KEY=$D/mds-hmac-key
tap_check "the signing key: in --dir, 64 bytes, 0600, root's" \
        "$([ "$(stat -c '%s %a %u' "$KEY")" = "64 600 0" ]; echo $?)" "$(stat -c '%s %a %u' "$KEY")"
tap_check "no app process had the key's fd or its path" \
        "$(! grep -q mds-hmac-key "$O"/* ; echo $?)"

# ---- sign in A, verify in B (the default network), tampered input refused ---------------
SIG_A=$(cat "$O/sig")
OB=$W/out-verify
mkdir -p "$OB"
run_pod "${P[@]}" run --net=default --volume=out,kind=host,source="$OB" "$ID_A" \
        --exec=/bin/probe -- verify "$UUID" "$SIG_A" 'hello world+/=&'
assert_status "pod B on the default network runs" 0
tap_check "B verifies A's signature (spec field uuid, rkt's uid too)" \
        "$(grep -qx 'good 200' "$OB/verify" && grep -qx 'rkt-uid 200' "$OB/verify"; echo $?)" \
        "$(cat "$OB/verify" 2>/dev/null)"
for t in content uuid signature nosig; do
        tap_check "a changed $t fails" "$(grep -qx "$t fail" "$OB/verify"; echo $?)"
done
tap_check "verify of a bad signature: 403, text/plain; charset=us-ascii" \
        "$(head -n1 "$OB/raw-verify-bad" | grep -q '^HTTP/1.1 403 ' &&
                grep -q $'^Content-Type: text/plain; charset=us-ascii\r$' "$OB/raw-verify-bad"; echo $?)"

# ---- pod A cannot reach pod B's metadata ------------------------------------------------
for net in none host; do
        OB=$W/out-b-$net OA=$W/out-a-$net
        mkdir -p "$OB" "$OA"
        "$POD" "${P[@]}" run --net=$net --uuid-file-save="$W/uuid-b-$net" \
                --annotation=secret=pod-b-secret-$net \
                --volume=out,kind=host,source="$OB" "$ID_A" --exec=/bin/probe -- wait \
                >/dev/null 2>&1 &
        BPID=$!
        for _ in $(seq 100); do [ -s "$OB/uuid" ] && break; sleep 0.1; done
        UUID_B=$(cat "$W/uuid-b-$net")
        run_pod "${P[@]}" run --net=$net --volume=out,kind=host,source="$OA" "$ID_A" \
                --exec=/bin/probe -- steal "$(cat "$OB/url")" "$UUID_B"
        assert_status "pod A (--net=$net) trying to read pod B's data runs" 0
        tap_check "--net=$net: nothing pod A got is pod B's (its annotation)" \
                "$(! grep -q pod-b-secret "$OA/steal-all"; echo $?)" \
                "$(cat "$OA/steal-all")"
        tap_check "--net=$net: B's UUID, ../ or B's token in the path: 404" \
                "$(for f in own-other-uuid dotdot btoken; do
                        head -n1 "$OA/steal-$f" | grep -q '^HTTP/1.1 404 ' || exit 1; done; echo 0)"
        tap_check "--net=$net: B's Host and UUID headers: A's own manifest" \
                "$(head -n1 "$OA/steal-host" | grep -q '^HTTP/1.1 200 ' &&
                        grep -q '"mds-a"' "$OA/steal-host"; echo $?)"
        if [ $net = none ]; then
                tap_check "--net=none: B's port is not reachable from A" \
                        "$([ ! -s "$OA/steal-bport-b" ]; echo $?)" "$(cat "$OA/steal-bport-b")"
        else
                tap_check "--net=host: B's port without B's token: 404" \
                        "$(head -n1 "$OA/steal-bport-own" | grep -q '^HTTP/1.1 404 ' &&
                                head -n1 "$OA/steal-bport-none" | grep -q '^HTTP/1.1 404 '; echo $?)"
        fi
        touch "$OB/stop"
        wait "$BPID" || true
done

# ---- --mds-register -----------------------------------------------------------------------
run_pod "${P[@]}" run --net=none --mds-register "$ID_A" --exec=/bin/sh -- -c 'echo "${AC_METADATA_URL:+set}"'
assert_status "--mds-register=true is accepted" 0
assert_match "and AC_METADATA_URL is set either way" "$OUT" "^set$"
run_pod "${P[@]}" run --net=none --mds-register=false "$ID_A" --exec=/bin/sh -- -c 'echo "${AC_METADATA_URL:+set}"'
assert_match "--mds-register=false: set too (the service is always there)" "$OUT" "^set$"
run_pod "${P[@]}" run --net=none --set-env=AC_METADATA_URL=http://evil/ "$ID_A" \
        --exec=/bin/sh -- -c 'echo "$AC_METADATA_URL"'
assert_no_match "--set-env cannot redirect AC_METADATA_URL" "$OUT" "evil"

# ---- an ACE-validator-style pod: two apps, an empty volume, handlers, the environment -----
cat >"$W/main.sh" <<'EOF'
#!/bin/sh
# main: the ACE environment and the metadata service, then the handshake with sidekick.
fail() { echo "main FAIL: $*"; exit 1; }
[ -e /prestart ] || fail "/prestart missing"
[ ! -e /poststop ] || fail "/poststop exists"
touch /main
[ "$PATH" = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ] || fail "PATH=$PATH"
[ "$(pwd)" = /opt/acvalidator ] || fail "cwd $(pwd)"
[ "$IN_ACE_VALIDATOR" = correct ] || fail "IN_ACE_VALIDATOR"
[ "$AC_APP_NAME" = ace-validator-main ] || fail "AC_APP_NAME=$AC_APP_NAME"
grep -q ' /db ' /proc/self/mountinfo || fail "/db is not a mount point"
H='Metadata-Flavor: AppContainer'
M=$AC_METADATA_URL/acMetadata/v1
u=$(wget -q -O - --header "$H" "$M/pod/uuid") || fail "pod/uuid"
wget -q -O - --header "$H" "$M/pod/manifest" | grep -q '"ace-validator-sidekick"' || fail "manifest"
for a in ace-validator-main ace-validator-sidekick; do
        wget -q -O - --header "$H" "$M/apps/$a/image/id" | grep -q '^sha512-' || fail "$a id"
        wget -q -O /dev/null --header "$H" "$M/apps/$a/image/manifest" || fail "$a manifest"
        wget -q -O /dev/null --header "$H" "$M/apps/$a/annotations" || fail "$a annotations"
done
s=$(wget -q -O - --header "$H" --post-data 'content=Old+MacDonald+Had+A+Farm' "$M/pod/hmac/sign") ||
        fail sign
s=$(printf '%s' "$s" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
wget -q -O /dev/null --header "$H" \
        --post-data "content=Old+MacDonald+Had+A+Farm&uuid=$u&signature=$s" "$M/pod/hmac/verify" ||
        fail verify
i=0
while [ ! -e /db/sidekick ]; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "no /db/sidekick"; sleep 0.1
done
[ -e /db/prestart-main ] || fail "no /db/prestart-main"
touch /db/main
echo "main OK"
EOF
cat >"$W/handlers.sh" <<'EOF'
#!/bin/sh
case $1 in
prestart)
        [ ! -e /main ] && [ ! -e /poststop ] || { echo "prestart FAIL"; exit 1; }
        [ -n "$AC_METADATA_URL" ] && [ "$AC_APP_NAME" = ace-validator-main ] &&
                [ "$PATH" = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ] ||
                { echo "prestart FAIL env"; exit 1; }
        touch /prestart /db/prestart-main
        echo "prestart OK" ;;
poststop)
        [ -e /prestart ] && [ -e /main ] || { echo "poststop FAIL"; exit 1; }
        [ -n "$AC_METADATA_URL" ] || { echo "poststop FAIL env"; exit 1; }
        touch /poststop /db/poststop-main
        echo "poststop OK" ;;
esac
EOF
cat >"$W/sidekick.sh" <<'EOF'
#!/bin/sh
fail() { echo "sidekick FAIL: $*"; exit 1; }
[ "$AC_APP_NAME" = ace-validator-sidekick ] || fail "AC_APP_NAME"
i=0
while [ ! -e /db/prestart-main ]; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "no /db/prestart-main"; sleep 0.1
done
touch /db/sidekick
i=0
while [ ! -e /db/main ]; do i=$((i + 1)); [ $i -lt 50 ] || fail "no /db/main"; sleep 0.1; done
# main's post-stop runs once main has exited.
i=0
while [ ! -e /db/poststop-main ]; do
        i=$((i + 1)); [ $i -lt 50 ] || fail "no /db/poststop-main"; sleep 0.1
done
echo "sidekick OK"
EOF
chmod +x "$W/main.sh" "$W/handlers.sh" "$W/sidekick.sh"
AM=$W/ace-main
AS=$W/ace-sidekick
mkdir -p "$AM/rootfs/opt/acvalidator" "$AS/rootfs/opt/acvalidator"
cp "$W/main.sh" "$W/handlers.sh" "$AM/rootfs/opt/acvalidator/"
cp "$W/sidekick.sh" "$AS/rootfs/opt/acvalidator/"
ID_M=$(mkimage "$AM" coreos.com/ace-validator-main '"app":{"exec":["/opt/acvalidator/main.sh"],
  "user":"0","group":"0","workingDirectory":"/opt/acvalidator",
  "environment":[{"name":"IN_ACE_VALIDATOR","value":"correct"}],
  "mountPoints":[{"name":"database","path":"/db"}],
  "eventHandlers":[{"name":"pre-start","exec":["/opt/acvalidator/handlers.sh","prestart"]},
                   {"name":"post-stop","exec":["/opt/acvalidator/handlers.sh","poststop"]}]}')
ID_S=$(mkimage "$AS" coreos.com/ace-validator-sidekick '"app":{"exec":["/opt/acvalidator/sidekick.sh"],
  "user":"0","group":"0","workingDirectory":"/opt/acvalidator",
  "mountPoints":[{"name":"database","path":"/db"}]}')
run_pod "${P[@]}" run --net=none --mds-register --volume=database,kind=empty "$ID_M" "$ID_S"
assert_status "the two-app ACE pod succeeds" 0
for l in "prestart OK" "main OK" "sidekick OK" "poststop OK"; do
        assert_match "$l" "$OUT" "^$l$"
done


# ---- the server maps no libcrypto (issue 16) ----------------------------------------------
# It signs with its own HMAC-SHA-512 (src/hmac-sha512.c); loading libcrypto for it cost every
# pod a dlopen() at start.  Every process of a running pod but the app is a stage1 process:
# none may map libcrypto.
"$POD" "${P[@]}" run --net=none --uuid-file-save="$W/crypto-uuid" "$ID_A" \
        --exec=/bin/sh -- -c 'sleep 3' >/dev/null 2>&1 &
BG=$!
maps=""
for _ in $(seq 50); do
        u=$(cat "$W/crypto-uuid" 2>/dev/null || true)
        init=$(cat "$D/pods/run/$u/pid" 2>/dev/null || true)
        kids=""
        if [ -n "$init" ]; then
                kids=$(awk -v p="$init" '$4 == p { print $1 }' /proc/[0-9]*/stat 2>/dev/null | tr '\n' ' ' || true)
        fi
        [ "$(echo "$kids" | wc -w)" -ge 2 ] && break
        sleep 0.1
done
for k in $init $kids; do
        maps+="$k: $(grep -c libcrypto "/proc/$k/maps" 2>/dev/null || true) "
done
tap_check "no process of the pod maps libcrypto (pid: mappings)" \
        "$(echo "$maps" | grep -qE ': [1-9]' && echo 1 || echo 0)" "$maps (init $init, children: $kids)"
tap_check "... and the pod had its init and at least two children (server, app)" \
        "$([ "$(echo "$kids" | wc -w)" -ge 2 ] && echo 0 || echo 1)" "init '$init', children '$kids'"
wait "$BG" || true

tap_done
