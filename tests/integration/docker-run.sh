#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod run of Docker/OCI images pulled from a real registry (Debian's docker-registry,
# tests/integration/lib-registry.sh; images built by tests/helpers/oci-image.py on the host's
# static busybox): the layers as the app sees them (whiteouts, opaque dirs, hard links,
# symlinks), Entrypoint/Cmd with --exec and -- ARGS (docker run's rule), Env, WorkingDir,
# User (name, uid, uid:gid), Volumes as mount points, ExposedPorts and Labels in the converted
# manifest, StopSignal honoured by pod stop, and a pod mixing an ACI and a Docker image.
# Runs on this host (root, no systemd); tests/vm/test-docker.sh covers systemd.
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
# shellcheck source=tests/integration/lib-registry.sh
. "$(dirname "$0")/lib-registry.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
registry_requirements
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"
unset SSL_CERT_FILE SSL_CERT_DIR http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy \
        ALL_PROXY no_proxy NO_PROXY

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
F=("--insecure-options=image,http")
PIDS=()
run_cleanup() {
        for p in "${PIDS[@]}"; do
                kill "$p" 2>/dev/null || true
        done
}
trap 'run_cleanup; registry_cleanup; rm -rf "$TAP_TMP"' EXIT

registry_start R
BASE='{"busybox":["sh","ls","cat","echo","id","pwd","env","stat","grep","readlink","sleep","find","true"]}'
FS_L1='{"entries":[{"path":"etc/gone","content":"gone\n"},{"path":"opt/old","content":"old\n"},
 {"path":"opt/sub/keep","content":"old\n"},{"path":"data/f","content":"hard\n"},
 {"path":"data/hl","type":"hardlink","target":"data/f"},
 {"path":"lnk","type":"symlink","target":"/etc/hello"},{"path":"etc/hello","content":"hi\n"},
 {"path":"keep/a","content":"a\n"},{"path":"keep/b","content":"b\n"}]}'
FS_L2='{"compression":"zstd","entries":[{"path":"etc/gone","type":"whiteout"},
 {"path":"opt","type":"opaque"},{"path":"opt/new","content":"new\n"},
 {"path":"keep/a","type":"whiteout"},{"path":"keep/c","content":"c\n"}]}'
# pull REPO SPEC: pushes SPEC as REPO:v1, fetches it, sets ID
pull() {
        push R "$1" v1 "$2"
        run_pod "${P[@]}" "${F[@]}" fetch --quiet "docker://$R/$1:v1"
        ID=$OUT
        [ "$STATUS" = 0 ] && same_id "$ID" "$IMAGE_ID" && return 0
        tap_check "fetch of $1 for the run tests" 1 "status $STATUS: $ERR"
        return 0
}
podrun() { # podrun [FLAGS...] IMAGE [APP ARGS...]: pod run --net=none
        run_pod "${P[@]}" run --net=none "$@"
}

# ---- the layers as the app sees them -------------------------------------------------------
pull test/fs '{"media":"oci","layers":['"$BASE,$FS_L1,$FS_L2"'],"config":{"Cmd":["/bin/sh"]}}'
FS=$ID
podrun "${F[@]}" "docker://$R/test/fs:v1" --exec=/bin/echo -- ran-by-reference
assert_status "pod run docker://REGISTRY/NAME:TAG" 0
assert_match "... the app ran" "$OUT" "^ran-by-reference$"
podrun "$FS" --exec=/bin/sh -- -c 'cat /etc/gone; echo "status=$?"'
assert_match "a whiteout deletes the lower layer's file" "$OUT" "^status=1$"
podrun "$FS" --exec=/bin/sh -- -c 'ls -A /opt'
assert_status "ls /opt" 0
tap_check "an opaque dir hides the lower layer's entries (/opt holds only new)" \
        "$([ "$OUT" = new ]; echo $?)" "ls -A /opt: $OUT"
podrun "$FS" --exec=/bin/sh -- -c 'ls -A /keep'
tap_check "a whiteout removes one entry, the rest stays (/keep: b c)" \
        "$([ "$(tr "\n" " " <<<"$OUT")" = "b c " ]; echo $?)" "ls -A /keep: $OUT"
podrun "$FS" --exec=/bin/sh -- -c 'find / -xdev -name ".wh.*" | head -n 5; echo end'
assert_match "no .wh. name is visible in the app" "$OUT" "^end$"
assert_no_match "... none at all" "$OUT" "\.wh\."
podrun "$FS" --exec=/bin/sh -- -c 'stat -c "%i %h" /data/f /data/hl'
tap_check "a hard link in a layer: one inode, two links" \
        "$(a=$(sed -n 1p <<<"$OUT"); b=$(sed -n 2p <<<"$OUT"); [ -n "$a" ] && [ "$a" = "$b" ] &&
                [ "${a#* }" = 2 ]; echo $?)" "$OUT $ERR"
podrun "$FS" --exec=/bin/sh -- -c 'readlink /lnk; cat /lnk'
assert_match "a symlink keeps its target" "$OUT" "^/etc/hello$"
assert_match "... and resolves inside the image" "$OUT" "^hi$"
podrun "$FS" --exec=/bin/sh -- -c 'echo x > /opt/written && cat /opt/written'
assert_match "the app's root is writable (overlay upper dir)" "$OUT" "^x$"
tap_check "... and the stored layers are untouched" \
        "$([ -z "$(find "$D/cas/layer" -name written)" ]; echo $?)"

# ---- Entrypoint, Cmd, --exec, -- ARGS (docker run's rule) ----------------------------------
pull test/entry '{"layers":['"$BASE"'],"config":{"Entrypoint":["/bin/echo","entry"],"Cmd":["cmd1","cmd2"]}}'
E=$ID
podrun "$E"
assert_status "Entrypoint + Cmd" 0
assert_match "... run as Entrypoint then Cmd" "$OUT" "^entry cmd1 cmd2$"
podrun "$E" -- a b
assert_match "-- ARGS replace the Cmd, the Entrypoint stays" "$OUT" "^entry a b$"
podrun "$E" --exec=/bin/echo -- x y
assert_match "--exec replaces the Entrypoint, -- ARGS follow" "$OUT" "^x y$"
podrun "$E" --exec=/bin/echo
assert_status "--exec alone" 0
assert_no_match "--exec alone drops the image's Cmd (as docker run --entrypoint)" "$OUT" "cmd1"
pull test/cmd '{"layers":['"$BASE"'],"config":{"Cmd":["/bin/echo","cmd-only"]}}'
C=$ID
podrun "$C"
assert_match "Cmd without an Entrypoint runs" "$OUT" "^cmd-only$"
podrun "$C" -- /bin/echo replaced
assert_match "-- ARGS replace the whole Cmd" "$OUT" "^replaced$"
# Neither Entrypoint nor Cmd: there is nothing to run (oci.h refuses to convert such a config),
# so the fetch or the run fails, saying why.
push R test/noexec v1 '{"layers":['"$BASE"'],"config":{}}'
run_pod "${P[@]}" "${F[@]}" fetch --quiet "docker://$R/test/noexec:v1"
[ "$STATUS" = 0 ] && podrun "$OUT"
tap_check "an image with neither Entrypoint nor Cmd fails" "$([ "$STATUS" != 0 ]; echo $?)"
assert_match "... saying the image has no Entrypoint or Cmd" "$ERR" "Entrypoint|Cmd"

# ---- Env, WorkingDir, User ---------------------------------------------------------------
pull test/env '{"layers":['"$BASE"',{"entries":[{"path":"work/here","content":""}]}],"config":{"Env":["FOO=bar","PATH=/custom:/bin"],"WorkingDir":"/work","Cmd":["/bin/sh"]}}'
podrun "$ID" --exec=/bin/sh -- -c 'echo "FOO=$FOO"; echo "PATH=$PATH"; pwd'
assert_match "Env: FOO" "$OUT" "^FOO=bar$"
assert_match "Env: PATH as the image gives it" "$OUT" "^PATH=/custom:/bin$"
assert_match "WorkingDir" "$OUT" "^/work$"
podrun --set-env=FOO=over "$ID" --exec=/bin/sh -- -c 'echo "FOO=$FOO"'
assert_match "--set-env overrides the image's Env" "$OUT" "^FOO=over$"
user_case() { # user_case USER EXPECTED-"uid gid"
        pull "test/user-${1//:/-}" '{"layers":['"$BASE"'],"config":{"User":"'"$1"'","Cmd":["/bin/sh"]}}'
        podrun "$ID" --exec=/bin/sh -- -c 'echo "$(id -u) $(id -g)"'
        assert_match "User \"$1\" runs as uid:gid $2" "$OUT" "^$2$"
}
user_case nobody "65534 65534"
user_case 1000 "1000 0"
user_case 1000:1001 "1000 1001"
user_case nobody:root "65534 0"
user_case 65534 "65534 65534"

# ---- Volumes, ExposedPorts, Labels -----------------------------------------------------------
pull test/meta '{"layers":['"$BASE"'],"config":{"Cmd":["/bin/sh"],"Volumes":{"/vol":{}},"ExposedPorts":{"8080/tcp":{},"53/udp":{}},"Labels":{"org.example.label":"labelled"}}}'
M=$ID
podrun "$M" --exec=/bin/sh -- -c 'grep -c " /vol " /proc/self/mountinfo; ls -A /vol | wc -l; echo ok > /vol/f && cat /vol/f'
assert_status "Volumes: the app runs" 0
tap_check "a Volume is a mount point, empty, writable" \
        "$([ "$(tr "\n" " " <<<"$OUT")" = "1 0 ok " ]; echo $?)" "$OUT $ERR"
mkdir -p "$W/hostvol"
echo from-host >"$W/hostvol/h"
podrun --volume=volume-vol,kind=host,source="$W/hostvol" "$M" --exec=/bin/cat -- /vol/h
tap_check "a Volume is overridable with --volume" "$([ "$OUT" = from-host ]; echo $?)" \
        "$OUT $ERR"
run_pod "${P[@]}" image cat-manifest --pretty-print=false "$M"
assert_status "image cat-manifest of a Docker image" 0
M_JSON=$(tr -d ' \n' <<<"$OUT")
assert_match "ExposedPorts become ports named PORT-PROTO (tcp)" "$M_JSON" \
        '\{"name":"8080-tcp","protocol":"tcp","port":8080'
assert_match "ExposedPorts become ports named PORT-PROTO (udp)" "$M_JSON" \
        '\{"name":"53-udp","protocol":"udp","port":53'
assert_match "Labels become annotations" "$M_JSON" \
        '\{"name":"org.example.label","value":"labelled"\}'
assert_match "Volumes become mount points" "$M_JSON" '"path":"/vol"'

# ---- StopSignal honoured by pod stop -----------------------------------------------------
pull test/stop '{"layers":['"$BASE"'],"config":{"StopSignal":"SIGUSR1","Entrypoint":["/bin/sh","-c","trap \"exit 42\" USR1; trap \"exit 7\" TERM; echo waiting; while :; do sleep 0.1; done"]}}'
"$POD" "${P[@]}" run --net=none --uuid-file-save="$W/stop.uuid" "$ID" >"$W/stop.out" 2>&1 &
SPID=$!
PIDS+=("$SPID")
for _ in $(seq 200); do
        grep -q waiting "$W/stop.out" 2>/dev/null && break
        sleep 0.05
done
run_pod "${P[@]}" stop "$(cat "$W/stop.uuid" 2>/dev/null)"
st=0
for _ in $(seq 200); do
        kill -0 "$SPID" 2>/dev/null || break
        sleep 0.05
done
kill -9 "$SPID" 2>/dev/null || true
wait "$SPID" || st=$?
tap_check "pod stop sends the image's StopSignal (SIGUSR1: the app exits 42)" \
        "$([ "$st" = 42 ]; echo $?)" "status $st; $(cat "$W/stop.out")"

# ---- a pod mixing an ACI and a Docker image ----------------------------------------------
IMG=$W/aci
mkdir -p "$IMG/rootfs/bin"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
ln -s busybox "$IMG/rootfs/bin/sh"
ln -s busybox "$IMG/rootfs/bin/echo"
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/mixed",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/echo","from-aci"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/mixed.aci" >/dev/null
run_pod "${P[@]}" --insecure-options=image fetch --quiet "$W/mixed.aci"
ACI_ID=$OUT
podrun "$ACI_ID" --- "$C"
assert_status "a pod of an ACI and a Docker image" 0
assert_match "... the ACI's app ran" "$OUT" "from-aci"
assert_match "... the Docker image's app ran" "$OUT" "cmd-only"

tap_done
