#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --private-users-ownership=chown (issue 14: "else a one-time chown-shifted tree per range kept
# in the store", src/store-shift.h, pod-run(1)) on this host: what the pod sees of the image's
# owners and capabilities through a shifted copy, that the store's own tree stays host
# root's, that the copy is made once per range and reused, refused for IDs beyond the range
# (naming the file), pick preferring free ranges that have copies, auto falling back to it on
# a file system that cannot be idmapped (ramfs) and =map refusing there, export shifting back,
# and image gc removing copies of released ranges and of removed images.  The idmapped (map) mode is private-users.sh's.
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
command -v python3 >/dev/null || tap_skip_all "needs python3 (reads xattrs)"

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
RAMFS=""
cleanup() {
        [ -z "$RAMFS" ] || umount -l "$RAMFS" 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- the image: busybox, alice (1000:1001), a capability, a hard link ---------------
mkimage() { # mkimage DIR NAME
        local img=$1 a
        mkdir -p "$img/rootfs/bin" "$img/rootfs/etc" "$img/rootfs/home/alice" "$img/rootfs/srv"
        cp "$BUSYBOX" "$img/rootfs/bin/busybox"
        for a in sh echo cat id ls stat touch true sleep; do
                ln -s busybox "$img/rootfs/bin/$a"
        done
        chown 1000:1001 "$img/rootfs/home/alice"
        echo data >"$img/rootfs/srv/a"
        ln "$img/rootfs/srv/a" "$img/rootfs/srv/b"
        cp "$BUSYBOX" "$img/rootfs/bin/capped"
        # security.capability v2: cap_net_bind_service (bit 10), permitted + effective
        python3 -c 'import os,struct,sys; os.setxattr(sys.argv[1], "security.capability", struct.pack("<IIIII", 0x02000001, 1 << 10, 0, 0, 0))' \
                "$img/rootfs/bin/capped"
        printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001:Alice:/home/alice:/bin/sh\n' \
                >"$img/rootfs/etc/passwd"
        printf 'root:x:0:\nstaff:x:1001:\n' >"$img/rootfs/etc/group"
        cat >"$img/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/$2",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","echo image-exec"],"user":"0","group":"0"}}
EOF
}
import() { # import ACI: the image ID in $IMPORTED
        run_pod "${P[@]}" --insecure-options=image image import "$1"
        IMPORTED=$OUT
        if [ "$STATUS" != 0 ] || ! grep -Eq '^sha512-[0-9a-f]+$' <<<"$IMPORTED"; then
                echo "Bail out! cannot import $1: $ERR"
                exit 1
        fi
}
mkimage "$W/img" busybox
"$POD" image build "$W/img" "$W/busybox.aci" >/dev/null
import "$W/busybox.aci"
B=$IMPORTED

pod_sh() { # pod_sh [POD RUN FLAGS...] SCRIPT
        local script=${*: -1}
        run_pod "${P[@]}" run --net=none --uuid-file-save="$W/uuid" "${@:1:$#-1}" "${IMAGE:-$B}" \
                --exec=/bin/sh -- -c "$script"
        UUID=$(cat "$W/uuid" 2>/dev/null || true)
        rm -f "$W/uuid"
}
poddir() {
        local d
        for d in "$D"/pods/*/"$1"; do
                [ -d "$d" ] && echo "$d" && return 0
        done
        echo "$D/pods/none/$1"
}
copies() { find "$D/cas/shifted" -mindepth 2 -maxdepth 2 -type d 2>/dev/null | sort; }
xattr_hex() { # xattr_hex FILE NAME
        python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).hex())' "$1" "$2" 2>&1 || true
}
le32() { printf '%02x%02x%02x%02x' $(($1 & 255)) $((($1 >> 8) & 255)) $((($1 >> 16) & 255)) $((($1 >> 24) & 255)); }

# ---- 1. option handling -------------------------------------------------------------------------
pod_sh --private-users --private-users-ownership=bogus 'true'
assert_status "--private-users-ownership=bogus is a usage error" 254
assert_match "... naming the values" "$ERR" "auto, map or chown"
pod_sh --private-users-ownership=chown 'true'
assert_status "--private-users-ownership without --private-users is refused" 254
assert_match "... saying it needs --private-users" "$ERR" "needs --private-users"

# ---- 2. a pod through a shifted copy ---------------------------------------------------------------
BASE=3000000000 # no subuid range (useradd: 100000 + n * 65536; rootless*.sh: 1900000000...) or pick reaches it
pod_sh --private-users=$BASE --private-users-ownership=chown \
        'stat -c "%n=%u:%g" /bin/busybox /home/alice /srv/a; id -u; touch /root-wrote; cat /srv/b'
assert_status "a pod with --private-users-ownership=chown runs" 0
assert_match "/bin/busybox is 0:0 inside" "$OUT" "^/bin/busybox=0:0$"
assert_match "/home/alice is 1000:1001 inside" "$OUT" "^/home/alice=1000:1001$"
assert_match "the app is root inside" "$OUT" "^0$"
assert_match "hard-linked /srv/b reads" "$OUT" "^data$"
PD=$(poddir "$UUID")
tap_check "the pod dir records the ownership as chown" \
        "$([ "$(cat "$PD/private-users-ownership" 2>&1)" = chown ]; echo $?)"
LOWER=$(cat "$PD"/stage1/rootfs/opt/stage2/*/lowers 2>/dev/null || true)
assert_match "the lower dir is a shifted copy in the store" "$LOWER" "^$D/cas/shifted/$BASE-65536/[0-9a-f]{32}/rootfs$"
tap_check "the copy's busybox is owned by BASE:BASE on the host" \
        "$([ "$(stat -c %u:%g "$LOWER/bin/busybox" 2>&1)" = "$BASE:$BASE" ]; echo $?)" \
        "$(stat -c %u:%g "$LOWER/bin/busybox" 2>&1)"
tap_check "the copy's /home/alice is BASE+1000:BASE+1001" \
        "$([ "$(stat -c %u:%g "$LOWER/home/alice" 2>&1)" = "$((BASE + 1000)):$((BASE + 1001))" ]; echo $?)"
tap_check "the copy's symlinks are owned by BASE too" \
        "$([ "$(stat -c %u:%g "$LOWER/bin/sh" 2>&1)" = "$BASE:$BASE" ]; echo $?)"
tap_check "hard links stay hard links in the copy" \
        "$([ "$(stat -c %i "$LOWER/srv/a")" = "$(stat -c %i "$LOWER/srv/b")" ]; echo $?)"
CAP=$(xattr_hex "$LOWER/bin/capped" security.capability)
assert_match "a v2 file capability becomes v3 with root ID BASE" "$CAP" \
        "^0100000300040000000000000000000000000000$(le32 $BASE)$"
STORE_BB=$(find "$D/cas/tree" -path '*/rootfs/bin/busybox' -type f | head -n1)
tap_check "the store's own tree stays host root's" \
        "$([ -n "$STORE_BB" ] && [ "$(stat -c %u:%g "$STORE_BB")" = 0:0 ]; echo $?)"
tap_check "the store's tree keeps its v2 capability" \
        "$(xattr_hex "$(dirname "$STORE_BB")/capped" security.capability | grep -q '^01000002'; echo $?)"
tap_check "a file root wrote is BASE:BASE in the upper dir" \
        "$([ "$(stat -c %u:%g "$PD/overlay/busybox/upper/root-wrote" 2>&1)" = "$BASE:$BASE" ]; echo $?)"
tap_check "cas/shifted is not reachable by other users (0700)" \
        "$([ "$(stat -c %a "$D/cas/shifted")" = 700 ]; echo $?)"
U1=$UUID

# ---- 3. export shifts back ------------------------------------------------------------------------
run_pod "${P[@]}" export "$U1" "$W/export.aci"
assert_status "pod export of a chown pod" 0
LIST=$(tar --numeric-owner -tvzf "$W/export.aci" 2>&1 || true)
assert_match "export: busybox is 0/0" "$LIST" "^-[rwx-]{9} 0/0 .* rootfs/bin/busybox$"
assert_match "export: /home/alice is 1000/1001" "$LIST" "^d[rwx-]{9} 1000/1001 .* rootfs/home/alice/?$"
assert_match "export: the file root wrote is 0/0" "$LIST" "^-[rwx-]{9} 0/0 .* rootfs/root-wrote$"

# ---- 4. made once per range, reused --------------------------------------------------------------
INO=$(stat -c %i "$LOWER")
run_pod "${P[@]}" rm "$U1" # a range is one pod's until it is removed
pod_sh --private-users=$BASE --private-users-ownership=chown 'echo again'
assert_match "a second pod of the range runs" "$OUT" "^again$"
NEW=$(cat "$(poddir "$UUID")"/stage1/rootfs/opt/stage2/*/lowers 2>/dev/null || true)
tap_check "... on the same copy (same path, same inode)" \
        "$([ "$NEW" = "$LOWER" ] && [ "$(stat -c %i "$NEW")" = "$INO" ]; echo $?)" "$NEW"
U2=$UUID
tap_check "one copy in the store" "$([ "$(copies | wc -l)" = 1 ]; echo $?)" "$(copies)"

# A crash while copying: an incomplete copy (no 'shifted' marker) is replaced.
run_pod "${P[@]}" rm "$U2"
rm -f "$LOWER/../shifted"
pod_sh --private-users=$BASE --private-users-ownership=chown 'echo rebuilt'
assert_match "a pod after a copy lost its marker runs" "$OUT" "^rebuilt$"
tap_check "... on a rebuilt, complete copy" \
        "$([ -e "$LOWER/../shifted" ] && [ "$(stat -c %i "$LOWER")" != "$INO" ]; echo $?)"
U2=$UUID

# ---- 5. IDs beyond the range -----------------------------------------------------------------------
mkimage "$W/big" bigids
chown 70000:70000 "$W/big/rootfs/srv/a"
"$POD" image build "$W/big" "$W/big.aci" >/dev/null
import "$W/big.aci"
BIG=$IMPORTED
IMAGE=$BIG pod_sh --private-users=$((BASE + 65536)) --private-users-ownership=chown 'true'
assert_status "an image with uid 70000 is refused in chown mode" 254
assert_match "... naming the file and the owner" "$ERR" "'/srv/[ab]' is owned by 70000:70000, outside the 65536 IDs"
tap_check "... and leaves no copy of that range behind" \
        "$(copies | grep -q "/$((BASE + 65536))-65536/" && echo 1 || echo 0)" "$(copies)"
IMAGE=$BIG pod_sh --private-users=$((BASE + 2 * 65536)) --private-users-ownership=map 'stat -c %u /srv/a'
assert_match "map mode shows it as the overflow ID instead" "$OUT" "^65534$"

# ---- 6. pick reuses ranges that have copies; image gc ----------------------------------------
range_of() { cat "$(poddir "$1")/private-users" 2>/dev/null | cut -d' ' -f1; }
lower_of() { cat "$(poddir "$1")"/stage1/rootfs/opt/stage2/*/lowers 2>/dev/null || true; }
run_pod "${P[@]}" rm "$U2"
run_pod "${P[@]}" gc --grace=0s
tap_check "pod gc keeps the copy of a range no pod holds" \
        "$(copies | grep -q "/$BASE-65536/"; echo $?)" "$(copies)"
pod_sh --private-users --private-users-ownership=chown 'true'
assert_status "a pod with a picked range, chown" 0
R1=$(range_of "$UUID")
L1=$(lower_of "$UUID")
I1=$(stat -c %i "$L1" 2>/dev/null || true)
run_pod "${P[@]}" rm "$UUID"
pod_sh --private-users --private-users-ownership=chown 'true'
R2=$(range_of "$UUID")
tap_check "the next pick takes the free range that has a copy ($R1)" \
        "$([ -n "$R1" ] && [ "$R2" = "$R1" ]; echo $?)" "first $R1, then $R2"
tap_check "... and runs on that very copy (same inode)" \
        "$([ -n "$I1" ] && [ "$(stat -c %i "$(lower_of "$UUID")" 2>/dev/null)" = "$I1" ]; echo $?)"
U3=$UUID
pod_sh --private-users --private-users-ownership=chown 'true'
tap_check "while that range is held, another pick gets another range" \
        "$([ "$(range_of "$UUID")" != "$R1" ]; echo $?)"
U4=$UUID
pod_sh --private-users --private-users-ownership=map 'true'
tap_check "map pods do not prefer ranges with copies" \
        "$(copies | grep -q "/$(range_of "$UUID")-65536/" && echo 1 || echo 0)"
run_pod "${P[@]}" image gc --grace=0s
tap_check "image gc keeps the copies of ranges pods hold" \
        "$(copies | grep -q "/$R1-65536/"; echo $?)" "$(copies)"
tap_check "... and removes those of ranges no pod holds" \
        "$([ -z "$(copies | grep "/$BASE-65536/")" ]; echo $?)" "$(copies)"
assert_match "... saying so" "$OUT" "Removed shifted $BASE-65536/"
run_pod "${P[@]}" rm "$U3" "$U4" "$UUID"
run_pod "${P[@]}" image rm "$B"
assert_status "image rm of the image once its pods are gone" 0
IMAGE=$BIG pod_sh --private-users="$R1" --private-users-ownership=map 'true' # holds R1 again
run_pod "${P[@]}" image gc --grace=0s
tap_check "image gc removes the copy of a removed image, range held or not" \
        "$([ -z "$(copies | grep "/$R1-65536/")" ]; echo $?)" "$(copies)"

# ---- 7. auto on a file system without idmapped mounts ------------------------------------------
# ramfs cannot be idmapped: a store there gets shifted copies by itself, map is refused.
D2=$W/ram
mkdir -p "$D2/cas"
if mount -t ramfs ramfs "$D2/cas" 2>/dev/null; then
        RAMFS=$D2/cas
        P=(--dir="$D2" --local-config="$W/etc" --system-config="$W/vendor")
        D=$D2
        import "$W/busybox.aci"
        B=$IMPORTED
        pod_sh --private-users=$BASE 'stat -c "%n=%u:%g" /home/alice'
        assert_status "auto: a pod whose store cannot be idmapped runs" 0
        assert_match "... with the image's owners" "$OUT" "^/home/alice=1000:1001$"
        assert_match "... saying it uses shifted copies, and why" "$ERR" "idmapped mounts.*chown-shifted copies"
        tap_check "... and records chown" \
                "$([ "$(cat "$(poddir "$UUID")/private-users-ownership" 2>&1)" = chown ]; echo $?)"
        pod_sh --private-users=$((BASE + 65536)) --private-users-ownership=map 'true'
        assert_status "map on that store fails" 254
        assert_match "... saying idmapped mounts are missing" "$ERR" "needs idmapped mounts"
else
        tap_ok "# SKIP cannot mount a ramfs here" -- true
fi

tap_done
