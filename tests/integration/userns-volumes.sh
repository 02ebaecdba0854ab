#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Host volumes of --private-users pods (issue 14): the default (a plain bind mount: the pod's
# root writes as host BASE, host IDs outside the range are nobody) and the volume option
# idmap=true / "idmap": true (an idmapped bind mount through the pod's user namespace: host ID
# N is N inside, what the pod's root writes is host root's).  Refusals: without
# --private-users (stage0, and stage1 for a manifest that stage0 did not write), on an empty
# volume, and an idmap volume cannot reach beyond its own directory.  pod-run(1) "--volume",
# stage1/ABI.md "User namespace".
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"
unshare --user true 2>/dev/null || tap_skip_all "cannot create user namespaces here"

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
# Under /var/tmp (a disk file system that can be idmapped), not in $TAP_TMP, whose parent
# may be a tmpfs of a kernel that cannot idmap it; 0755 so the pods' IDs can reach it.
V=$(mktemp -d /var/tmp/pod-userns-volumes.XXXXXX)
chmod 0755 "$V"
cleanup() {
        umount -R "$V/nest/sub" 2>/dev/null || true
        rm -rf "$TAP_TMP" "$V"
}
trap cleanup EXIT

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/mnt"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh echo cat id ls stat touch chmod chown mkdir; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/busybox",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","echo image-exec"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/busybox.aci" >/dev/null
run_pod "${P[@]}" --insecure-options=image image import "$W/busybox.aci"
B=$OUT
if [ "$STATUS" != 0 ] || ! grep -Eq '^sha512-[0-9a-f]+$' <<<"$B"; then
        echo "Bail out! cannot import the test image: $ERR"
        exit 1
fi

pod_sh() { # pod_sh [POD RUN FLAGS...] SCRIPT: a pod of the image running /bin/sh -c SCRIPT
        local script=${*: -1}
        run_pod "${P[@]}" run --net=none --uuid-file-save="$W/uuid" "${@:1:$#-1}" "$B" \
                --exec=/bin/sh -- -c "$script"
        UUID=$(cat "$W/uuid" 2>/dev/null || true)
        rm -f "$W/uuid"
}
base_of() { # base_of UUID: BASE of the pod's range, from its pod dir
        local d
        for d in "$D"/pods/*/"$1"; do
                [ -f "$d/private-users" ] && cut -d' ' -f1 "$d/private-users" && return 0
        done
        echo none
}
fresh_vol() { # fresh_vol DIR: a 0755 root-owned directory with a file of host uid 1234
        rm -rf "$1"
        mkdir -m 0755 "$1"
        echo data >"$1/by-1234"
        chown 1234:1234 "$1/by-1234"
        chmod 0600 "$1/by-1234"
}
diag() { printf '%s\n' "$1" | sed 's/^/# /'; } # diag TEXT: TAP comment lines
PROBE_SCRIPT='stat -c "file=%u:%g" /mnt/by-1234; stat -c "dir=%u:%g" /mnt;
        cat /mnt/by-1234 >/dev/null 2>&1; echo "read=$?"; touch /mnt/by-root; echo "write=$?"'

# ---- 1. the default: a plain bind mount --------------------------------------------------------
fresh_vol "$V/plain"
chmod 1777 "$V/plain"
pod_sh --private-users --volume=v,kind=host,source="$V/plain" --mount=volume=v,target=/mnt \
        "$PROBE_SCRIPT"
assert_status "default: a --private-users pod with a host volume runs" 0
BASE=$(base_of "$UUID")
assert_match "default: a host file of uid 1234 shows as nobody (65534) inside" "$OUT" \
        "^file=65534:65534$"
assert_match "default: ... and the pod's root cannot read it (0600)" "$OUT" "^read=[1-9]"
assert_match "default: the pod's root writes into the (1777) volume" "$OUT" "^write=0$"
tap_check "default: ... as host BASE:BASE ($BASE)" \
        "$([ "$(stat -c %u:%g "$V/plain/by-root" 2>&1)" = "$BASE:$BASE" ]; echo $?)" \
        "$(stat -c %u:%g "$V/plain/by-root" 2>&1)"

# ---- 2. idmap=true -----------------------------------------------------------------------------
fresh_vol "$V/idm"
pod_sh --private-users --volume=v,kind=host,source="$V/idm",idmap=true \
        --mount=volume=v,target=/mnt "$PROBE_SCRIPT"
assert_status "idmap=true: the pod runs" 0
assert_match "idmap=true: a host file of uid 1234 shows as 1234 inside" "$OUT" \
        "^file=1234:1234$"
assert_match "idmap=true: the host's root-owned volume dir shows as 0:0 inside" "$OUT" \
        "^dir=0:0$"
assert_match "idmap=true: the pod's root reads the 0600 file of 1234 (CAP_DAC_OVERRIDE)" \
        "$OUT" "^read=0$"
assert_match "idmap=true: the pod's root writes into the 0755 root-owned dir" "$OUT" \
        "^write=0$"
tap_check "idmap=true: ... and the host sees the file owned by host root (0:0)" \
        "$([ "$(stat -c %u:%g "$V/idm/by-root" 2>&1)" = 0:0 ]; echo $?)" \
        "$(stat -c %u:%g "$V/idm/by-root" 2>&1)"
run_pod "${P[@]}" cat-manifest "$UUID"
assert_match "idmap=true: recorded as the volume's \"idmap\": true in the pod manifest" \
        "$(tr -d ' \t\n' <<<"$OUT")" '"kind":"host","source":"[^"]*","readOnly":false,"recursive":true,"idmap":true'

# A pod uid N writes as host N; a host ID beyond the range (65536) is nobody inside.
fresh_vol "$V/idm2"
chmod 1777 "$V/idm2"
echo x >"$V/idm2/far"
chown 70000:70000 "$V/idm2/far"
run_pod "${P[@]}" run --net=none --private-users --volume=v,kind=host,source="$V/idm2",idmap=true \
        "$B" --user=1000 --group=1001 --mount=volume=v,target=/mnt --exec=/bin/sh -- \
        -c 'touch /mnt/by-1000 && echo ok; stat -c "far=%u:%g" /mnt/far'
assert_match "idmap=true: pod uid 1000 writes into the volume" "$OUT" "^ok$"
tap_check "idmap=true: ... as host 1000:1001" \
        "$([ "$(stat -c %u:%g "$V/idm2/by-1000" 2>&1)" = 1000:1001 ]; echo $?)" \
        "$(stat -c %u:%g "$V/idm2/by-1000" 2>&1)"
assert_match "idmap=true: a host ID beyond the range's count (70000) is nobody inside" "$OUT" \
        "^far=65534:65534$"

# readOnly still applies on the idmapped mount.
fresh_vol "$V/idm3"
pod_sh --private-users --volume=v,kind=host,source="$V/idm3",idmap=true,readOnly=true \
        --mount=volume=v,target=/mnt 'touch /mnt/x; echo "write=$?"; stat -c "file=%u" /mnt/by-1234'
assert_match "idmap=true,readOnly=true: not writable" "$OUT" "^write=[1-9]"
assert_match "idmap=true,readOnly=true: ... and still idmapped" "$OUT" "^file=1234$"

# A submount of the source is idmapped too (recursive, the default), or not there at all
# (recursive=false): never a plain bind of it, where IDs would differ.
fresh_vol "$V/nest"
mkdir -p "$V/nest/sub" "$V/subsrc"
echo s >"$V/subsrc/f"
chown 1234:1234 "$V/subsrc/f"
mount --bind "$V/subsrc" "$V/nest/sub"
pod_sh --private-users --volume=v,kind=host,source="$V/nest",idmap=true \
        --mount=volume=v,target=/mnt 'stat -c "sub=%u" /mnt/sub/f'
assert_match "idmap=true: a submount of the source is idmapped too" "$OUT" "^sub=1234$"
umount "$V/nest/sub"
rm -rf "$V/subsrc"

# ---- 3. refusals -------------------------------------------------------------------------------
fresh_vol "$V/ref"
pod_sh --volume=v,kind=host,source="$V/ref",idmap=true --mount=volume=v,target=/mnt \
        'touch /mnt/by-root'
assert_status "idmap=true without --private-users is refused" 254
assert_match "... saying which volume and why" "$ERR" "'v'.*idmap.*--private-users"
diag "$ERR"
tap_check "... and the pod wrote nothing" "$([ ! -e "$V/ref/by-root" ]; echo $?)"
pod_sh --private-users --volume=e,kind=empty,idmap=true --mount=volume=e,target=/mnt 'true'
assert_status "idmap=true on an empty volume is refused" 254
assert_match "... saying it is for host volumes" "$ERR" "idmap.*kind=host"
pod_sh --private-users --volume=v,kind=host,source="$V/ref",idmap=maybe \
        --mount=volume=v,target=/mnt 'true'
assert_status "idmap=maybe is refused" 254

# stage1 itself refuses a manifest asking for it without a user namespace (a pod manifest
# that stage0 did not check): a prepared pod whose manifest is changed afterwards.
run_pod "${P[@]}" prepare --volume=v,kind=host,source="$V/ref" --mount=volume=v,target=/mnt \
        "$B" --exec=/bin/sh -- -c 'touch /mnt/by-root'
PU=$OUT
PM=$(ls -d "$D"/pods/prepared/"$PU" 2>/dev/null || true)
if [ -n "$PM" ] && [ -f "$PM/pod" ]; then
        sed -i 's/"recursive":true/"recursive":true,"idmap":true/; s/"recursive": true/"recursive": true, "idmap": true/' "$PM/pod"
        run_pod "${P[@]}" run-prepared --net=none "$PU"
        tap_check "stage1 refuses an \"idmap\": true volume without a user namespace" \
                "$([ "$STATUS" != 0 ] && grep -q "idmap" <<<"$ERR"; echo $?)" \
                "status $STATUS: $ERR $(grep -o '"idmap"[^,}]*' "$PM/pod")"
        diag "$ERR"
        tap_check "... and the pod wrote nothing" "$([ ! -e "$V/ref/by-root" ]; echo $?)"
else
        tap_check "pod prepare of the stage1 refusal case" 1 "$ERR"
fi

# A file system that cannot be idmapped fails the pod, naming the volume.
if grep -qw ramfs /proc/filesystems && mkdir -p "$V/ramfs" && mount -t ramfs none "$V/ramfs"; then
        chmod 0755 "$V/ramfs"
        pod_sh --private-users --volume=r,kind=host,source="$V/ramfs",idmap=true \
                --mount=volume=r,target=/mnt 'touch /mnt/x'
        umount "$V/ramfs"
        assert_status "idmap=true on a file system without idmapped mounts (ramfs) fails" 254
        assert_match "... naming the volume and the file system" "$ERR" "'r'.*idmap.*file system"
        diag "$ERR"
else
        tap_check "# SKIP no ramfs to test a file system that cannot be idmapped" 0
fi

run_pod "${P[@]}" gc --grace-period=0s
tap_done
