#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The appc metadata service under a real systemd (runs in the VM testbed, tests/vm/suite; the
# host half is tests/integration/metadata.sh): a pod in its pod-<uuid>.scope and one kept in
# a systemd-run service read their metadata and sign/verify across pods; an ACE-validator
# style two-app pod (an empty volume, pre-start/post-stop markers, PATH, cwd, AC_APP_NAME,
# the metadata service) with a memory limit that systemd enforces.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
# App scripts are for the app's shell.
# shellcheck disable=SC2016

[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -d /run/systemd/system ]; then
        tap_skip_all "needs systemd as PID 1 (run it in the VM: make check-vm)"
fi
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

W=$TAP_TMP
P=(--dir="$W/data" --insecure-options=image)
UNITS=()
cleanup() {
        for u in "${UNITS[@]}"; do
                systemctl stop "$u" 2>/dev/null || true
        done
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/out" "$IMG/rootfs/db" "$IMG/rootfs/opt/acvalidator"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh wget cat echo sed grep sleep touch pwd test printf; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
cat >"$IMG/rootfs/bin/probe" <<'EOF2'
#!/bin/sh
# probe: the endpoints, to /out; then sign "vm".
H='Metadata-Flavor: AppContainer'
M=$AC_METADATA_URL/acMetadata/v1
wget -q -O /out/uuid --header "$H" "$M/pod/uuid" || exit 1
wget -q -O /out/manifest --header "$H" "$M/pod/manifest" || exit 1
wget -q -O /out/id --header "$H" "$M/apps/$AC_APP_NAME/image/id" || exit 1
wget -q -O /out/sig --header "$H" --post-data content=vm "$M/pod/hmac/sign" || exit 1
if [ -n "${1:-}" ]; then
        s=$(printf '%s' "$2" | sed 's/+/%2B/g; s/\//%2F/g; s/=/%3D/g')
        wget -q -O /dev/null --header "$H" --post-data "content=vm&uuid=$1&signature=$s" \
                "$M/pod/hmac/verify" && echo verified >/out/verify
fi
echo "$AC_METADATA_URL" >/out/url
EOF2
chmod +x "$IMG/rootfs/bin/probe"
cat >"$IMG/manifest" <<EOF2
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/mds-vm",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/probe"],"user":"0","group":"0","mountPoints":[{"name":"out","path":"/out"}]}}
EOF2
"$POD" image build "$IMG" "$W/img.aci" >/dev/null
ID=$("$POD" "${P[@]}" fetch "$W/img.aci" 2>/dev/null)

# ---- a pod in its own scope -------------------------------------------------------------
mkdir -p "$W/o1" "$W/o2"
run_pod "${P[@]}" run --net=none --uuid-file-save="$W/u1" --volume=out,kind=host,source="$W/o1" "$ID"
assert_status "a pod in pod-<uuid>.scope reads its metadata" 0
U1=$(cat "$W/u1")
tap_check "pod/uuid is the pod's" "$([ "$(cat "$W/o1/uuid")" = "$U1" ]; echo $?)"
"$POD" "${P[@]}" cat-manifest --pretty-print=false "$U1" >"$W/m1"
tap_check "pod/manifest is pod cat-manifest's" "$([ "$(cat "$W/m1")" = "$(cat "$W/o1/manifest")" ]; echo $?)"

# ---- a pod kept in a systemd-run service verifies the first pod's signature -----------
UNIT=pod-mds-vm-$$.service
UNITS+=("$UNIT")
systemd-run --unit="$UNIT" --wait --collect -p Type=simple --setenv=POD_STAGE1="$POD_STAGE1" \
        "$POD" "${P[@]}" run --net=default --volume=out,kind=host,source="$W/o2" "$ID" \
        --exec=/bin/probe -- "$U1" "$(cat "$W/o1/sig")" >/dev/null 2>&1
tap_check "a pod in a systemd-run service (default network) verifies the other's signature" \
        "$(grep -qx verified "$W/o2/verify" 2>/dev/null; echo $?)"
tap_check "and got its own URL" "$(grep -Eq '^http://127\.0\.0\.1:[0-9]+/[0-9a-f]{32}$' "$W/o2/url"; echo $?)"

# ---- ACE-validator style: two apps, an empty volume, handlers, a memory limit ----------
AM=$W/ace-main
AS=$W/ace-side
for d in "$AM" "$AS"; do
        mkdir -p "$d/rootfs/bin" "$d/rootfs/db" "$d/rootfs/opt/acvalidator"
        cp "$BUSYBOX" "$d/rootfs/bin/busybox"
        for a in sh wget cat sleep touch pwd test grep; do ln -s busybox "$d/rootfs/bin/$a"; done
done
cat >"$AM/rootfs/opt/acvalidator/main.sh" <<'EOF2'
#!/bin/sh
fail() { echo "main FAIL: $*"; exit 1; }
[ -e /prestart ] && [ ! -e /poststop ] || fail "fresh rootfs"
touch /main
[ "$PATH" = /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin ] || fail PATH
[ "$(pwd)" = /opt/acvalidator ] || fail cwd
[ "$AC_APP_NAME" = ace-validator-main ] || fail AC_APP_NAME
grep -q ' /db ' /proc/self/mountinfo || fail "/db"
H='Metadata-Flavor: AppContainer'
wget -q -O /dev/null --header "$H" "$AC_METADATA_URL/acMetadata/v1/pod/manifest" || fail mds
i=0; while [ ! -e /db/sidekick ]; do i=$((i + 1)); [ $i -lt 100 ] || fail sidekick; sleep 0.1; done
[ -e /db/prestart-main ] || fail prestart-marker
touch /db/main
echo "main OK"
EOF2
cat >"$AM/rootfs/opt/acvalidator/handler.sh" <<'EOF2'
#!/bin/sh
[ -n "$AC_METADATA_URL" ] || { echo "$1 FAIL"; exit 1; }
case $1 in
prestart) [ ! -e /main ] && touch /prestart /db/prestart-main && echo "prestart OK" ;;
poststop) [ -e /main ] && touch /poststop /db/poststop-main && echo "poststop OK" ;;
esac
EOF2
cat >"$AS/rootfs/opt/acvalidator/sidekick.sh" <<'EOF2'
#!/bin/sh
fail() { echo "sidekick FAIL: $*"; exit 1; }
i=0; while [ ! -e /db/prestart-main ]; do i=$((i + 1)); [ $i -lt 100 ] || fail pre; sleep 0.1; done
touch /db/sidekick
i=0; while [ ! -e /db/poststop-main ]; do i=$((i + 1)); [ $i -lt 100 ] || fail post; sleep 0.1; done
echo "sidekick OK"
EOF2
chmod +x "$AM"/rootfs/opt/acvalidator/*.sh "$AS"/rootfs/opt/acvalidator/*.sh
cat >"$AM/manifest" <<EOF2
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"coreos.com/ace-validator-main",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/opt/acvalidator/main.sh"],"user":"0","group":"0","workingDirectory":"/opt/acvalidator",
  "mountPoints":[{"name":"database","path":"/db"}],
  "eventHandlers":[{"name":"pre-start","exec":["/opt/acvalidator/handler.sh","prestart"]},
                   {"name":"post-stop","exec":["/opt/acvalidator/handler.sh","poststop"]}]}}
EOF2
cat >"$AS/manifest" <<EOF2
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"coreos.com/ace-validator-sidekick",
 "labels":[{"name":"version","value":"1"},{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/opt/acvalidator/sidekick.sh"],"user":"0","group":"0","workingDirectory":"/opt/acvalidator",
  "mountPoints":[{"name":"database","path":"/db"}]}}
EOF2
"$POD" image build "$AM" "$W/am.aci" >/dev/null
"$POD" image build "$AS" "$W/as.aci" >/dev/null
IM=$("$POD" "${P[@]}" fetch "$W/am.aci" 2>/dev/null)
IS=$("$POD" "${P[@]}" fetch "$W/as.aci" 2>/dev/null)
run_pod "${P[@]}" run --net=none --mds-register --volume=database,kind=empty \
        "$IM" --memory=64M "$IS"
assert_status "the ACE-style pod under systemd succeeds" 0
for l in "prestart OK" "main OK" "sidekick OK" "poststop OK"; do
        assert_match "$l" "$OUT" "^$l$"
done

tap_done
