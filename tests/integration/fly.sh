#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod fly and the --stage1-* flags (rkt's stage1 selection): the fly stage1 runs one app in
# the host's PID and network namespaces with every capability; --stage1-path and
# --stage1-from-dir take a binary (root's, not writable by others), --stage1-name, -hash
# and -url a stage1 image (an ACI naming its entry point with coreos.com/rkt/stage1/run),
# verified as images are; prepare records the choice for run-prepared.
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
FLY=$(dirname "$POD_STAGE1")/pod-stage1-fly
[ -x "$FLY" ] || tap_skip_all "no pod-stage1-fly next to $POD_STAGE1"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
command -v gpg >/dev/null || tap_skip_all "needs gpg"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        tap_skip_all "no overlayfs"

W=$TAP_TMP
chmod 0755 "$W"
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
export GNUPGHOME="$W/gnupg"
mkdir -m 0700 "$GNUPGHOME"
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh cat ls readlink grep echo sleep; do ln -s busybox "$IMG/rootfs/bin/$a"; done
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$IMG/rootfs/etc/passwd"
printf 'root:x:0:\n' >"$IMG/rootfs/etc/group"
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/fly",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","echo image-exec"],"user":"0","group":"0"}}
EOF
ACI=$W/fly.aci
"$POD" image build "$IMG" "$ACI" >/dev/null
gpg --batch --passphrase '' --quick-gen-key 'Test <test@example.com>' ed25519 sign never 2>/dev/null
gpg --batch --armor --export test@example.com >"$W/key.asc" 2>/dev/null
gpg --batch --yes --armor --local-user test@example.com --detach-sign -o "$ACI.asc" "$ACI" 2>/dev/null
run_pod "${P[@]}" trust --root --skip-fingerprint-review "$W/key.asc"
assert_status "trust the test key" 0
run_pod "${P[@]}" fetch "$ACI"
assert_status "fetch the signed image" 0
B=example.com/fly

# ---- pod fly: the host's namespaces, every capability --------------------------------------
HOST_NET=$(readlink /proc/self/ns/net)
HOST_PID=$(readlink /proc/self/ns/pid)
HOST_INIT=$(cat /proc/1/comm)
run_pod "${P[@]}" fly --uuid-file-save="$W/uuid" "$B" --exec=/bin/sh -- -c \
        'echo "pid=$$"; echo "net=$(readlink /proc/self/ns/net)"; echo "pidns=$(readlink /proc/self/ns/pid)"; echo "init=$(cat /proc/1/comm)"; grep CapEff /proc/self/status; echo "container=$container"; exit 5'
assert_status "pod fly: the app's exit status comes back" 5
assert_no_match "its pid is not 1" "$OUT" "^pid=1$"
assert_match "the host's network namespace" "$OUT" "^net=${HOST_NET//[\[\]]/.}$"
assert_match "the host's PID namespace" "$OUT" "^pidns=${HOST_PID//[\[\]]/.}$"
assert_match "/proc/1 is the host's init" "$OUT" "^init=$HOST_INIT$"
HOST_CAPS=$(awk '/^CapBnd/ { print $2 }' /proc/self/status)
assert_match "every capability (CapEff = the bounding set)" "$OUT" "^CapEff:[[:space:]]+$HOST_CAPS$"
assert_match "container=pod-fly" "$OUT" "^container=pod-fly$"
UUID=$(cat "$W/uuid")
run_pod "${P[@]}" status "$UUID"
assert_match "pod status: exited" "$OUT" "^state=exited$"
assert_match "pod status: the app's status" "$OUT" "^app-fly=5$"
run_pod "${P[@]}" list --full --no-legend
assert_match "pod list shows the fly pod" "$OUT" "^$UUID"
tap_check "the store's tree was not written (no /proc dir in it)" \
        "$(! find "$D" -path '*/cas/tree/*/rootfs/proc' | grep -q .; echo $?)"
tap_check "no mount left behind" "$(! grep -qF "$D" /proc/self/mountinfo; echo $?)"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "gc" 0
run_pod "${P[@]}" status "$UUID"
tap_check "gc removed the fly pod" "$([ "$STATUS" != 0 ]; echo $?)"

run_pod "${P[@]}" fly "$B" --- "$B"
assert_status "a second app is refused" 254
assert_match "saying why" "$ERR" "exactly one app"
for bad in --net=default --port=http:80 --dns=1.1.1.1 --hostname=x --stage1-path=/bin/true; do
        run_pod "${P[@]}" fly "$bad" "$B"
        assert_status "pod fly $bad is refused" 254
done
run_pod "${P[@]}" fly "$B" --memory=1G
assert_status "pod fly with --memory is refused" 254
run_pod "${P[@]}" --insecure-options=image fly "$ACI" --exec=/bin/echo -- unsigned
assert_status "fly of a file ACI verifies it (signed)" 0
cp "$ACI" "$W/unsigned.aci"
run_pod "${P[@]}" fly "$W/unsigned.aci"
assert_status "fly of an unsigned image is refused" 254
run_pod "${P[@]}" fly --net=host "$B" --exec=/bin/echo -- explicit-host
assert_match "--net=host is accepted" "$OUT" "^explicit-host$"

# ---- --stage1-from-dir, --stage1-path --------------------------------------------------------
run_pod "${P[@]}" run --stage1-from-dir=pod-stage1-fly "$B" --exec=/bin/sh -- -c 'readlink /proc/self/ns/net'
assert_status "run --stage1-from-dir=pod-stage1-fly" 0
assert_match "  runs in the host's network namespace" "$OUT" "^${HOST_NET//[\[\]]/.}$"
run_pod "${P[@]}" run --stage1-from-dir=../pod-stage1 "$B"
assert_status "--stage1-from-dir with a path is refused" 254
run_pod "${P[@]}" run --stage1-from-dir=no-such-stage1 "$B"
assert_status "--stage1-from-dir with a missing stage1 fails" 254

S1=$W/s1
mkdir -m 0755 "$S1"
cp "$POD_STAGE1" "$S1/my-stage1"
cp "$(dirname "$POD_STAGE1")/pod-stage1-supervise" "$S1/" 2>/dev/null || true
chown 0:0 "$S1/my-stage1"
chmod 0755 "$S1/my-stage1"
PODNS='echo "pidns=$(readlink /proc/self/ns/pid)"'
run_pod "${P[@]}" run --net=none --stage1-path="$S1/my-stage1" "$B" --exec=/bin/sh -- -c "$PODNS"
assert_status "--stage1-path with a copy of pod-stage1" 0
assert_no_match "  a pod: its own PID namespace" "$OUT" "^pidns=${HOST_PID//[\[\]]/.}$"
assert_match "  (it ran)" "$OUT" "^pidns="
run_pod "${P[@]}" run --stage1-path="$S1/my-stage1" --stage1-from-dir=pod-stage1-fly "$B"
assert_status "two --stage1-* flags are refused" 254
chmod 0757 "$S1/my-stage1"
run_pod "${P[@]}" run --net=none --stage1-path="$S1/my-stage1" "$B"
assert_status "a world-writable stage1 is refused" 254
assert_match "  saying why" "$ERR" "writable"
chmod 0755 "$S1/my-stage1"
chown 65534 "$S1/my-stage1"
run_pod "${P[@]}" run --net=none --stage1-path="$S1/my-stage1" "$B"
assert_status "a stage1 not owned by root is refused" 254
assert_match "  saying why" "$ERR" "not root"
chown 0 "$S1/my-stage1"

# ---- prepare records the stage1 -------------------------------------------------------------
run_pod "${P[@]}" prepare --stage1-from-dir=pod-stage1-fly "$B" --exec=/bin/sh -- -c 'readlink /proc/self/ns/net'
assert_status "prepare --stage1-from-dir=pod-stage1-fly" 0
PU=$OUT
run_pod "${P[@]}" run-prepared "$PU"
assert_status "run-prepared uses the recorded fly stage1" 0
assert_match "  the host's network namespace" "$OUT" "^${HOST_NET//[\[\]]/.}$"
run_pod "${P[@]}" prepare --stage1-path="$S1/my-stage1" "$B" --exec=/bin/sh -- -c "$PODNS"
PU=$OUT
chmod 0757 "$S1/my-stage1"
run_pod "${P[@]}" run-prepared --net=none "$PU"
assert_status "run-prepared checks the recorded stage1 again" 254
chmod 0755 "$S1/my-stage1"
run_pod "${P[@]}" run-prepared --net=none "$PU"
assert_status "run-prepared with the recorded --stage1-path" 0
assert_match "  ran the pod" "$OUT" "^pidns="
assert_no_match "  in its own PID namespace" "$OUT" "^pidns=${HOST_PID//[\[\]]/.}$"

# ---- stage1 images -------------------------------------------------------------------------
SI=$W/s1img
mkdir -p "$SI/rootfs/usr/lib/pod"
cp "$POD_STAGE1" "$SI/rootfs/usr/lib/pod/pod-stage1"
cp "$(dirname "$POD_STAGE1")/pod-stage1-supervise" "$SI/rootfs/usr/lib/pod/" 2>/dev/null || true
cat >"$SI/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/stage1-test",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "annotations":[{"name":"coreos.com/rkt/stage1/run","value":"/usr/lib/pod/pod-stage1"}]}
EOF
SACI=$W/stage1.aci
"$POD" image build "$SI" "$SACI" >/dev/null
run_pod "${P[@]}" run --net=none --stage1-url="file://$SACI" "$B" --exec=/bin/echo -- s1
assert_status "an unsigned stage1 image is refused" 254
run_pod "${P[@]}" --insecure-options=image run --net=none --stage1-url="file://$SACI" "$B" --exec=/bin/echo -- s1-insecure
assert_status "--stage1-url with --insecure-options=image" 0
assert_match "  ran the app" "$OUT" "^s1-insecure$"
SID=$("$POD" "${P[@]}" image list --no-legend --full | awk '$2 ~ /stage1-test/ { print $1 }')
run_pod "${P[@]}" run --net=none --stage1-hash="$SID" "$B" --exec=/bin/echo -- s1
assert_status "--stage1-hash of an unverified stored image is refused" 254
run_pod "${P[@]}" --insecure-options=image run --net=none --stage1-hash="$SID" "$B" --exec=/bin/echo -- s1-hash
assert_status "--stage1-hash with --insecure-options=image" 0
"$POD" "${P[@]}" image rm "$SID" >/dev/null 2>&1 || true
gpg --batch --yes --armor --local-user test@example.com --detach-sign -o "$SACI.asc" "$SACI" 2>/dev/null
run_pod "${P[@]}" run --net=none --stage1-url="file://$SACI" "$B" --exec=/bin/echo -- s1-signed
assert_status "--stage1-url of a signed stage1 image" 0
assert_match "  ran the app" "$OUT" "^s1-signed$"
run_pod "${P[@]}" run --net=none --stage1-name=example.com/stage1-test:1.0 "$B" --exec=/bin/echo -- s1-name
assert_status "--stage1-name of the stored signed image" 0
SID=$("$POD" "${P[@]}" image list --no-legend --full | awk '$2 ~ /stage1-test/ { print $1 }')
run_pod "${P[@]}" run --net=none --stage1-hash="$SID" "$B" --exec=/bin/echo -- s1-hash
assert_status "--stage1-hash of the signed image" 0
run_pod "${P[@]}" prepare --stage1-hash="$SID" "$B" --exec=/bin/echo -- s1-prepared
PU=$OUT
run_pod "${P[@]}" image rm "$SID"
tap_check "the stage1 image of a prepared pod is in use" "$([ "$STATUS" != 0 ]; echo $?)"
run_pod "${P[@]}" run-prepared --net=none "$PU"
assert_status "run-prepared with the recorded stage1 image" 0
assert_match "  ran the app" "$OUT" "^s1-prepared$"
run_pod "${P[@]}" run --net=none --stage1-url="file://$ACI" "$B"
assert_status "an image without the stage1 annotation is refused" 254
assert_match "  saying why" "$ERR" "coreos.com/rkt/stage1/run"

"$POD" "${P[@]}" gc --grace-period=0s >/dev/null 2>&1 || true
tap_done
