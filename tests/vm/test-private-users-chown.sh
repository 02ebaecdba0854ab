#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --private-users where the store's file system cannot be idmapped, under a real systemd (the
# VM testbed, tests/vm/suite): a store on tmpfs, which Linux before 6.3 cannot idmap, gets
# chown-shifted copies by itself (--private-users-ownership=auto), the pod runs under
# systemd-run with its output in the journal and the image's owners, and =map is refused with
# the reason.  On a kernel whose tmpfs can idmap, chown is asked for explicitly instead.
# tests/integration/private-users-chown.sh covers the copies themselves on the host.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

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
mkdir -p "$W/data"
mount -t tmpfs -o size=256m,mode=0700 pod-chown-test "$W/data" || tap_skip_all "cannot mount a tmpfs"
P=(--dir="$W/data" --local-config="$W/etc" --system-config="$W/vendor")
UNIT=pod-chown-test-$$-$RANDOM
cleanup() {
        systemctl stop "$UNIT.service" 2>/dev/null || true
        "$POD" "${P[@]}" gc --grace-period=0s >/dev/null 2>&1 || true
        umount -l "$W/data" 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc" "$IMG/rootfs/home/alice"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh echo cat stat id; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
chown 1000:1001 "$IMG/rootfs/home/alice"
echo 'root:x:0:0:root:/root:/bin/sh' >"$IMG/rootfs/etc/passwd"
echo 'root:x:0:' >"$IMG/rootfs/etc/group"
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/busybox",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","echo image-exec"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/bb.aci" >/dev/null
run_pod "${P[@]}" --insecure-options=image fetch --quiet "$W/bb.aci"
assert_status "the test image is in a store on tmpfs" 0
B=$OUT

# tmpfs can be idmapped from Linux 6.3 on: there auto means map, and chown is asked for.
read -r major minor _ < <(uname -r | tr '.-' '  ')
OWN=()
AUTO=1
if [ "$major" -gt 6 ] || { [ "$major" = 6 ] && [ "$minor" -ge 3 ]; }; then
        OWN=(--private-users-ownership=chown)
        AUTO=0
fi

marker="pod-chown-journal-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
systemd-run --quiet --unit="$UNIT" --wait -p StandardOutput=journal -p StandardError=journal \
        -E POD_STAGE1="$POD_STAGE1" "$POD" "${P[@]}" run --net=none --private-users "${OWN[@]}" \
        --uuid-file-save="$W/uuid" "$B" --exec=/bin/sh -- \
        -c "echo $marker; ls -dn /home/alice; id -u" >"$W/run.out" 2>&1
tap_check "a --private-users pod with its store on tmpfs runs under systemd-run" "$?" \
        "$(cat "$W/run.out")"
U=$(cat "$W/uuid" 2>/dev/null || true)
PD=$(ls -d "$W"/data/pods/*/"${U:-none}" 2>/dev/null | head -n1)
tap_check "its pod dir records chown ownership" \
        "$([ "$(cat "$PD/private-users-ownership" 2>&1)" = chown ]; echo $?)" \
        "kernel $(uname -r); $(ls "$PD" 2>&1 | tr '\n' ' ')"
LOWER=$(cat "$PD"/stage1/rootfs/opt/stage2/*/lowers 2>/dev/null || true)
assert_match "its lower dir is a shifted copy in the store" "$LOWER" "/cas/shifted/[0-9]+-65536/[0-9a-f]{32}/rootfs$"
J=""
for _ in $(seq 30); do
        J=$(journalctl --no-pager -o cat -u "$UNIT.service" 2>/dev/null || true)
        grep -q "$marker" <<<"$J" && break
        sleep 1
done
assert_match "journalctl -u shows the app's output" "$J" "$marker"
# (no stat -c: systemd-run would take its %u and %g for specifiers)
assert_match "... with /home/alice owned by 1000:1001 inside" "$J" "^d[rwx-]{9} +[0-9]+ 1000 +1001 .*/home/alice$"
if [ "$AUTO" = 1 ]; then
        assert_match "... and pod's note that idmapped mounts are missing" "$J" \
                "idmapped mounts.*chown-shifted copies"
        run_pod "${P[@]}" run --net=none --private-users --private-users-ownership=map "$B"
        assert_status "--private-users-ownership=map on that store fails" 254
        assert_match "... naming the reason" "$ERR" "needs idmapped mounts"
else
        tap_ok "# SKIP tmpfs can be idmapped on Linux $(uname -r): auto is map here" -- true
        tap_ok "# SKIP (the same)" -- true
        tap_ok "# SKIP (the same)" -- true
fi
run_pod "${P[@]}" rm "$U"
run_pod "${P[@]}" image gc --grace-period=0s
assert_match "pod image gc removes the copy once its range is released" "$OUT" "Removed shifted "
tap_check "no copy is left" "$([ -z "$(find "$W/data/cas/shifted" -mindepth 2 -maxdepth 2 2>/dev/null)" ]; echo $?)"

tap_done
