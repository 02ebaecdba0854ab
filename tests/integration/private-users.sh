#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod run --private-users (issue 14 part 1, the design in stage1/ABI.md "User namespace" and
# pod-run(1)) end to end on this host (root, no systemd): the maps the app sees, who owns what
# it writes (volumes, its root), the attack (a pod's root with every capability against a
# host root-only file in a volume, with the same pod without --private-users as the control
# that proves the check can fail), range allocation and release, explicit ranges, pod enter
# next to a hostile app that sits in a nested user namespace, capabilities that the pod's
# root holds only over its own namespaces, pod export shifting IDs back, a Docker image with
# whiteouts, and signals/ptrace against the pod's init.  tests/vm/test-private-users.sh
# covers systemd.
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
[ -x "$PROBE" ] || tap_skip_all "tests/helpers/pod-probe not built"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"
unshare --user true 2>/dev/null || tap_skip_all "cannot create user namespaces here"
HELPERS=${top_srcdir:-$(dirname "$0")/../..}/tests/helpers

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
# The host directories the pods get as volumes: under /var/tmp, not in $TAP_TMP, whose
# parent may be a tmpfs with its own rules; 0755 so the pods' IDs can reach them.
V=$(mktemp -d /var/tmp/pod-private-users.XXXXXX)
chmod 0755 "$V"
BG_PIDS=()
cleanup() {
        local p
        for p in "${BG_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
        for p in "${BG_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
        rm -rf "$TAP_TMP" "$V"
}
trap cleanup EXIT

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- the image: busybox, pod-probe, a user alice (1000:1001) ---------------------------------
IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc" "$IMG/rootfs/home/alice" "$IMG/rootfs/mnt"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
cp "$PROBE" "$IMG/rootfs/bin/pod-probe"
for a in sh echo cat id ls stat touch chmod chown mount hostname kill sleep grep tr \
        find sort httpd true; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
chown 1000:1001 "$IMG/rootfs/home/alice"
printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001:Alice:/home/alice:/bin/sh\n' \
        >"$IMG/rootfs/etc/passwd"
printf 'root:x:0:\nstaff:x:1001:\n' >"$IMG/rootfs/etc/group"
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

# Every capability and no syscall filter: what the pod's root can do is then only what its
# user namespace allows, which is what these tests are about.
# shellcheck disable=SC2054 # commas inside one flag
ALLCAPS=(--insecure-options=capabilities,seccomp)
pod_sh() { # pod_sh [POD RUN FLAGS...] SCRIPT: a pod of the image running /bin/sh -c SCRIPT
        local script=${*: -1}
        run_pod "${P[@]}" run --net=none --uuid-file-save="$W/uuid" "${@:1:$#-1}" "$B" \
                --exec=/bin/sh -- -c "$script"
        UUID=$(cat "$W/uuid" 2>/dev/null || true)
        rm -f "$W/uuid"
}
poddir() { # poddir UUID: the pod's directory, whatever its state
        local d
        for d in "$D"/pods/*/"$1"; do
                [ -d "$d" ] && echo "$d" && return 0
        done
        echo "$D/pods/none/$1"
}
# range UUID: "BASE COUNT" from the pod directory's private-users, or nothing
range() { cat "$(poddir "$1")/private-users" 2>/dev/null || true; }
# squash: the kernel's uid_map spacing as single spaces
squash() { tr -s ' \t' ' ' | sed 's/^ //; s/ $//'; }
# bg_pod NAME [POD RUN FLAGS...] SCRIPT: a pod in the background; the script must create
# /NAME-ready when it is ready; sets BG_UUID and BG_DIR once it is.  App flags (after the
# image) in the array BG_APP; the image is $BG_IMAGE, else $B.
BG_APP=()
bg_pod() {
        local name=$1 script=${*: -1} i
        shift
        rm -f "$W/$name.uuid"
        "$POD" "${P[@]}" run --net=none --uuid-file-save="$W/$name.uuid" "${@:1:$#-1}" "${BG_IMAGE:-$B}" \
                "${BG_APP[@]}" --exec=/bin/sh -- -c "$script" >"$W/$name.out" 2>"$W/$name.err" &
        BG_PIDS+=("$!")
        BG_UUID=""
        BG_DIR=""
        for i in $(seq 400); do
                if [ -z "$BG_UUID" ] && [ -s "$W/$name.uuid" ]; then
                        BG_UUID=$(cat "$W/$name.uuid")
                fi
                if [ -n "$BG_UUID" ]; then
                        BG_DIR=$(poddir "$BG_UUID")
                        [ -e "$BG_DIR/overlay/busybox/upper/$name-ready" ] && return 0
                fi
                kill -0 "${BG_PIDS[-1]}" 2>/dev/null || break
                sleep 0.1
        done
        echo "# pod $name did not start ($i):"
        sed 's/^/#   /' "$W/$name.err" | head -n 20
        return 0
}
refused() { # refused DESC REGEX: the last pod_sh failed with 254, saying REGEX, by the
        # option's own check (not as an unknown option)
        assert_status "$1" 254
        assert_match "... saying /$2/" "$ERR" "$2"
        assert_no_match "... as a known option" "$ERR" "Unknown option"
}
stop_pod() { # stop_pod UUID: pod stop, then wait for its pod run
        "$POD" "${P[@]}" stop "$1" >/dev/null 2>&1 || true
        for _ in $(seq 200); do
                [ "$(cat "$(poddir "$1")/pid" 2>/dev/null)" = "" ] && break
                kill -0 "$(cat "$(poddir "$1")/pid")" 2>/dev/null || break
                sleep 0.1
        done
}

# ---- 1. the maps, the app's uid, the image's owners ------------------------------------------
pod_sh --private-users 'cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g;
        stat -c "busybox=%u:%g" /bin/busybox; touch /root-wrote'
assert_status "a pod with --private-users runs" 0
RANGE=$(range "$UUID")
BASE=${RANGE% *}
tap_check "the pod dir's private-users reads 'BASE 65536' (got '$RANGE')" \
        "$(grep -Eqx '[1-9][0-9]* 65536' <<<"$RANGE"; echo $?)"
BASE=${BASE:-999999999}
tap_check "BASE is 65536-aligned and in [0x80000, 0x6fff0000] (pick)" \
        "$([ $((BASE % 65536)) = 0 ] && [ "$BASE" -ge 524288 ] && [ "$BASE" -le 1879048192 ]; echo $?)" \
        "BASE=$BASE"
MAPS=$(sed -n 1,2p <<<"$OUT" | squash)
tap_check "uid_map and gid_map read '0 $BASE 65536'" \
        "$([ "$MAPS" = "$(printf '0 %s 65536\n0 %s 65536' "$BASE" "$BASE")" ]; echo $?)" "$OUT"
assert_match "id -u is 0 inside" "$(sed -n 3p <<<"$OUT")" "^0$"
assert_match "id -g is 0 inside" "$(sed -n 4p <<<"$OUT")" "^0$"
assert_match "/bin/busybox is owned by 0:0 inside (idmapped lower dir)" "$OUT" "^busybox=0:0$"
STORE_BB=$(find "$D/cas" -path '*/rootfs/bin/busybox' -type f 2>/dev/null || true)
tap_check "the store's tree is still owned by host 0 on the host" \
        "$([ -n "$STORE_BB" ] && ! xargs stat -c %u:%g <<<"$STORE_BB" | grep -vqx 0:0; echo $?)" \
        "$(for f in $STORE_BB; do stat -c '%n %u:%g' "$f"; done)"
UP=$(poddir "$UUID")/overlay/busybox/upper/root-wrote
tap_check "a file root wrote in the pod's root is owned by BASE:BASE in the upper dir" \
        "$([ "$(stat -c %u:%g "$UP" 2>&1)" = "$BASE:$BASE" ]; echo $?)" "$(stat -c '%n %u:%g' "$UP" 2>&1)"

# The files stage1 generates in the app's /etc (hosts) are the pod root's to change.
pod_sh --private-users 'stat -c "hosts=%u:%g" /etc/hosts; echo "127.0.0.2 extra" >>/etc/hosts && echo hosts-ok'
assert_match "the generated /etc/hosts is owned by the pod's root" "$OUT" "^hosts=0:0$"
assert_match "... which may change it" "$OUT" "^hosts-ok$"

# ---- 2. volumes: root's and alice's writes -----------------------------------------------------
mkdir -m 1777 "$V/rw"
pod_sh --private-users --volume=v,kind=host,source="$V/rw" --mount=volume=v,target=/mnt \
        'touch /mnt/by-root && echo ok'
assert_match "root in the pod writes into a host volume" "$OUT" "^ok$"
R2=$(range "$UUID")
R2=${R2% *}
tap_check "the host sees the file owned by BASE:BASE ($R2)" \
        "$([ -n "$R2" ] && [ "$(stat -c %u:%g "$V/rw/by-root" 2>&1)" = "$R2:$R2" ]; echo $?)" \
        "$(stat -c '%u:%g' "$V/rw/by-root" 2>&1)"
run_pod "${P[@]}" run --net=none --uuid-file-save="$W/uuid" --private-users \
        --volume=v,kind=host,source="$V/rw" "$B" --user=1000 --group=1001 \
        --mount=volume=v,target=/mnt --exec=/bin/sh -- -c 'id -u; touch /mnt/by-alice /home/alice/by-alice && echo ok'
UUID=$(cat "$W/uuid" 2>/dev/null || true)
assert_match "uid 1000 in the pod writes into the volume and its root" "$OUT" "^ok$"
R2=$(range "$UUID")
R2=${R2% *}
R2=${R2:-0}
tap_check "the host sees uid 1000's volume file as BASE+1000:BASE+1001" \
        "$([ "$(stat -c %u:%g "$V/rw/by-alice" 2>&1)" = "$((R2 + 1000)):$((R2 + 1001))" ]; echo $?)" \
        "BASE=$R2: $(stat -c '%u:%g' "$V/rw/by-alice" 2>&1)"
UP=$(poddir "$UUID")/overlay/busybox/upper/home/alice/by-alice
tap_check "... and its file in the pod's root as BASE+1000:BASE+1001 in the upper dir" \
        "$([ "$(stat -c %u:%g "$UP" 2>&1)" = "$((R2 + 1000)):$((R2 + 1001))" ]; echo $?)" \
        "BASE=$R2: $(stat -c '%u:%g' "$UP" 2>&1)"
pod_sh --private-users --volume=e,kind=empty --mount=volume=e,target=/empty \
        'stat -c "empty=%u:%g" /empty; touch /empty/f && echo ok'
assert_match "an empty volume is owned by the pod's root inside" "$OUT" "^empty=0:0$"
assert_match "... and writable by it" "$OUT" "^ok$"

# ---- 3. THE attack: a host root-only file in a volume ----------------------------------------
mkdir -m 0755 "$V/secret"
echo "host-secret-$RANDOM$RANDOM" >"$V/secret/shadow"
chmod 0600 "$V/secret/shadow"
echo host-owned >"$V/secret/owned"
chmod 0644 "$V/secret/owned"
chown 0:0 "$V/secret" "$V/secret/shadow" "$V/secret/owned"
SECRET=$(cat "$V/secret/shadow")
# shellcheck disable=SC2054 # commas inside one flag
VOL=(--volume=s,kind=host,source="$V/secret" --mount=volume=s,target=/mnt)
ATTACK='cat /mnt/shadow; echo "read=$?"; chmod 0644 /mnt/shadow; echo "chmod=$?";
        chown 0:0 /mnt/shadow; echo "chown=$?"; echo pwned >>/mnt/owned; echo "write=$?";
        stat -c "owner=%u:%g" /mnt/shadow'
# The control first: the same pod without a user namespace reads it (the test can fail).
pod_sh "${ALLCAPS[@]}" "${VOL[@]}" "$ATTACK"
assert_match "control: without --private-users, every capability reads the root-only file" \
        "$OUT" "^$SECRET$"
assert_match "control: ... and may write a root-owned file" "$OUT" "^write=0$"
chmod 0600 "$V/secret/shadow"
chown 0:0 "$V/secret/shadow"
echo host-owned >"$V/secret/owned"
pod_sh "${ALLCAPS[@]}" --private-users "${VOL[@]}" "$ATTACK"
assert_status "the attacking pod (--private-users, every capability) runs" 0
tap_check "with --private-users and every capability, the root-only file stays unread" \
        "$(! grep -q "$SECRET" <<<"$OUT$ERR"; echo $?)" "$OUT $ERR"
assert_match "... cat fails" "$OUT" "^read=[1-9]"
assert_match "... chmod fails" "$OUT" "^chmod=[1-9]"
assert_match "... chown fails" "$OUT" "^chown=[1-9]"
assert_match "... writing a root-owned 0644 host file fails" "$OUT" "^write=[1-9]"
assert_match "... host root's files show as nobody (65534) inside" "$OUT" "^owner=65534:65534$"
tap_check "the host file is unchanged (0600 root:root, content)" \
        "$([ "$(stat -c %a:%u:%g "$V/secret/shadow")" = 600:0:0 ] &&
                [ "$(cat "$V/secret/owned")" = host-owned ]; echo $?)" \
        "$(stat -c '%a:%u:%g' "$V/secret/shadow"): $(cat "$V/secret/owned")"
# The probe's open(2) says which errno: EACCES (13), not a missing file.
pod_sh "${ALLCAPS[@]}" --private-users "${VOL[@]}" '/bin/pod-probe read /mnt/shadow'
assert_match "open(2) of the root-only file fails with EACCES" "$OUT" "^13$"

# ---- 4. two pods at once: disjoint ranges; release on rm and gc ------------------------------
bg_pod p1 --private-users 'touch /p1-ready; exec sleep 1000'
U1=$BG_UUID
bg_pod p2 --private-users 'touch /p2-ready; exec sleep 1000'
U2=$BG_UUID
R1=$(range "$U1")
R2=$(range "$U2")
B1=${R1% *}
C1=${R1#* }
B2=${R2% *}
C2=${R2#* }
tap_check "two running pods have disjoint ranges ($R1 / $R2)" \
        "$([ -n "$R1" ] && [ -n "$R2" ] && { [ $((B1 + C1)) -le "$B2" ] || [ $((B2 + C2)) -le "$B1" ]; }; echo $?)"
tap_check "each has its allocation file \$dir/userns/BASE naming it" \
        "$(grep -q "^$U1 $C1$" "$D/userns/$B1" && grep -q "^$U2 $C2$" "$D/userns/$B2"; echo $?)" \
        "$(ls -l "$D/userns" 2>&1; head "$D/userns"/[0-9]* 2>&1)"
tap_check "\$dir/userns is 0700" "$([ "$(stat -c %a "$D/userns" 2>&1)" = 700 ]; echo $?)" \
        "$(stat -c %a "$D/userns" 2>&1)"

# ---- 5. explicit ranges -------------------------------------------------------------------------
# A base that no pick takes (above 0x6fff0000), in no /etc/subuid range, no host user's.
XB=2600000000 # not rootless.sh's and rootless-stage1.sh's subuid ranges (1900000000...), which make check -j may add meanwhile
pod_sh --private-users=$XB:100000 'cat /proc/self/uid_map'
assert_status "--private-users=UID:COUNT runs" 0
assert_match "... with the map given" "$(squash <<<"$OUT")" "^0 $XB 100000$"
tap_check "... recorded as given" "$([ "$(range "$UUID")" = "$XB 100000" ]; echo $?)" "$(range "$UUID")"
pod_sh --private-users=$((XB + 200000)) 'cat /proc/self/uid_map'
assert_match "--private-users=UID is UID:65536" "$(squash <<<"$OUT")" "^0 $((XB + 200000)) 65536$"
pod_sh --private-users="${B1:-1}:10" 'true'
refused "a range overlapping a running pod's is refused" "${U1:-no-first-pod}"
pod_sh --private-users=$((${B2:-1} + 65535)):2 'true'
refused "a range overlapping the last ID of another pod's is refused" "${U2:-no-second-pod}"
pod_sh --private-users=0:65536 'true'
refused "base 0 is refused" "host root"
pod_sh --private-users=0 'true'
refused "--private-users=0 is refused" "host root"
for junk in abc 12x 5:0 5: :5 4294967295:2 -5 1:-1 yes:1; do
        pod_sh --private-users="$junk" 'true'
        refused "--private-users=$junk is refused" "--private-users"
done
pod_sh --private-users=no 'cat /proc/self/uid_map; id -u'
assert_status "--private-users=no runs" 0
assert_match "--private-users=no: the host's identity map" "$(squash <<<"$OUT")" "^0 0 4294967295$"
tap_check "... and no private-users file" "$([ ! -e "$(poddir "$UUID")/private-users" ]; echo $?)"
pod_sh --private-users=false 'cat /proc/self/uid_map'
assert_match "--private-users=false too" "$(squash <<<"$OUT")" "^0 0 4294967295$"
for v in pick yes true; do
        pod_sh --private-users=$v 'cat /proc/self/uid_map'
        assert_match "--private-users=$v picks a range" "$(squash <<<"$OUT")" "^0 [1-9][0-9]* 65536$"
done

# A refused range leaves no pod behind.
NPODS=$(find "$D/pods" -mindepth 2 -maxdepth 2 | wc -l)
pod_sh --private-users="${B1:-1}:10" 'true'
tap_check "a pod refused its range leaves no pod directory" \
        "$([ "$STATUS" = 254 ] && [ "$(find "$D/pods" -mindepth 2 -maxdepth 2 | wc -l)" = "$NPODS" ]; echo $?)" \
        "status $STATUS; $NPODS pod dirs before, $(find "$D/pods" -mindepth 2 -maxdepth 2 | wc -l) after"
# pod status shows the range.
run_pod "${P[@]}" status "${U1:-none}"
assert_match "pod status shows private-users=BASE:COUNT" "$OUT" "^private-users=${B1:-x}:65536$"
# prepare records the range; run-prepared runs in it.
run_pod "${P[@]}" prepare --private-users "$B" --exec=/bin/sh -- -c 'cat /proc/self/uid_map'
UP1=$(tail -n 1 <<<"$OUT")
RP=$(range "$UP1")
tap_check "pod prepare --private-users records the range in the pod dir" \
        "$(grep -Eqx '[1-9][0-9]* 65536' <<<"$RP"; echo $?)" "'$RP' status $STATUS $ERR"
run_pod "${P[@]}" run-prepared --net=none "$UP1"
assert_match "pod run-prepared runs the pod in that range" "$(squash <<<"$OUT")" "^0 ${RP% *} 65536$"
# The configured default (userns.conf, admin's directory): every pod gets a range, the flag
# =no overrides it, a bad value fails every pod naming the file.
mkdir -p "$W/etc"
echo 'private-users = pick' >"$W/etc/userns.conf"
pod_sh 'cat /proc/self/uid_map'
assert_match "userns.conf private-users = pick: a pod without the flag gets a range" \
        "$(squash <<<"$OUT")" "^0 [1-9][0-9]* 65536$"
pod_sh --private-users=no 'cat /proc/self/uid_map'
assert_match "... --private-users=no overrides it" "$(squash <<<"$OUT")" "^0 0 4294967295$"
echo 'private-users = sometimes' >"$W/etc/userns.conf"
pod_sh 'true'
refused "a bad userns.conf value fails the pod" "userns.conf"
rm -f "$W/etc/userns.conf"

# release: rm of one, gc of the other
stop_pod "$U1"
stop_pod "$U2"
run_pod "${P[@]}" rm "$U1"
assert_status "pod rm of the first pod" 0
tap_check "pod rm releases its range (\$dir/userns/$B1 is gone)" \
        "$([ -n "$B1" ] && [ ! -e "$D/userns/$B1" ]; echo $?)" "$(ls "$D/userns" 2>&1)"
tap_check "... and leaves the other's" "$([ -e "$D/userns/$B2" ]; echo $?)" "$(ls "$D/userns" 2>&1)"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "pod gc" 0
LEFT=$(find "$D/userns" -mindepth 1 ! -name lock 2>&1 || true)
tap_check "pod gc of every exited pod removes every allocation file" \
        "$([ -d "$D/userns" ] && [ -z "$LEFT" ]; echo $?)" "$LEFT"
# A record whose pod is gone (a crash between the pod's removal and the release) is swept.
if [ -d "$D/userns" ]; then
        printf '%s 65536\n' 0badc0de-0000-4000-8000-000000000000 >"$D/userns/1048576"
        run_pod "${P[@]}" gc --grace-period=0s
        tap_check "pod gc sweeps an allocation file whose pod does not exist" \
                "$([ ! -e "$D/userns/1048576" ]; echo $?)"
fi

# ---- 6. pod enter, next to a hostile app in a nested user namespace --------------------------
# The app's main process (the first child of the pod's init: the one enter takes the app's
# credentials from) leaves for a user namespace of its own, where it holds every capability
# (unshare(2) gives the new namespace's owner the full sets, bounding set included).  It
# needs no capability for that, only a filter that allows CLONE_NEWUSER (the default one
# blocks it).  pod enter must still run its command in the pod's own user namespace, with
# the app's real capabilities (those of the app's other processes), never the nested
# namespace's full sets, which in the host's or the pod's namespace would be capabilities
# the pod was never given.
# enter_hostile NAME [POD RUN FLAGS...]: starts the hostile pod; sets HU (UUID), HDIR and
# HCAPS (the CapEff the app had before it left)
enter_hostile() {
        local name=$1
        shift
        # shellcheck disable=SC2054 # commas inside one flag
        BG_APP=(--caps-retain=CAP_SYS_ADMIN,CAP_NET_BIND_SERVICE)
        bg_pod "$name" --insecure-options=seccomp "$@" \
                "grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status >/caps; touch /$name-ready;
                 exec /bin/pod-probe userns-hold >/held-main"
        BG_APP=()
        HU=$BG_UUID
        HDIR=$BG_DIR
        for _ in $(seq 100); do
                grep -q ok "$HDIR/overlay/busybox/upper/held-main" 2>/dev/null && break
                sleep 0.1
        done
        tap_check "$name: the hostile app's main process sits in a nested user namespace" \
                "$(grep -qx ok "$HDIR/overlay/busybox/upper/held-main" 2>/dev/null; echo $?)" \
                "$(cat "$HDIR/overlay/busybox/upper/held-main" 2>&1) $(cat "$W/$name.err")"
        HCAPS=$(squash <"$HDIR/overlay/busybox/upper/caps" 2>/dev/null || true)
}
# enter_caps DESC: the entered command's capability sets are the app's, as it had them
enter_caps() {
        local got
        run_pod "${P[@]}" enter "$HU" /bin/sh -c 'grep -E "^Cap(Eff|Prm|Bnd):" /proc/self/status'
        got=$(squash <<<"$OUT")
        tap_check "$1" "$([ "$STATUS" = 0 ] && [ -n "$HCAPS" ] && [ "$got" = "$HCAPS" ]; echo $?)" \
                "status $STATUS; the app had: $HCAPS; the entered command got: $got; $ERR"
}
enter_hostile hold --private-users
BH=$(range "$HU")
BH=${BH% *}
run_pod "${P[@]}" enter "$HU" /bin/sh -c 'cat /proc/self/uid_map; id -u'
assert_status "pod enter into the pod" 0
assert_match "enter lands in the pod's own user namespace (uid_map 0 BASE 65536)" \
        "$(squash <<<"$OUT")" "^0 ${BH:-x} 65536$"
assert_match "enter: id -u is 0" "$OUT" "^0$"
run_pod "${P[@]}" enter "$HU" /bin/pod-probe ids
assert_match "enter: the probe's uid and gid are 0" "$OUT" "^uid=0 gid=0"
enter_caps "enter: the app's capabilities (CAP_SYS_ADMIN, CAP_NET_BIND_SERVICE), not the nested namespace's"
stop_pod "$HU"
# The same without --private-users: there the nested namespace's full sets would be every
# capability in the host's user namespace.
enter_hostile hold2
enter_caps "no --private-users: enter gives the app's capabilities, not every capability"
stop_pod "$HU"
# A hostile image needs no insecure flag from the operator: its own seccomp-retain-set may
# allow everything (unshare(CLONE_NEWUSER) included), and it keeps only CAP_NET_BIND_SERVICE.
HIMG=$W/himg
mkdir -p "$HIMG"
cp -a "$IMG/rootfs" "$HIMG/"
sed 's|"example.com/busybox"|"example.com/hostile"|; s|"user":"0","group":"0"}}|"user":"0","group":"0","isolators":[{"name":"os/linux/seccomp-retain-set","value":{"set":["@appc.io/all"]}},{"name":"os/linux/capabilities-retain-set","value":{"set":["CAP_NET_BIND_SERVICE"]}}]}}|' \
        "$IMG/manifest" >"$HIMG/manifest"
"$POD" image build "$HIMG" "$W/hostile.aci" >/dev/null
run_pod "${P[@]}" --insecure-options=image image import "$W/hostile.aci"
BG_IMAGE=$OUT
hostile_image() { # hostile_image NAME [POD RUN FLAGS...]: as enter_hostile, the image's isolators
        local name=$1
        shift
        BG_APP=(--name=busybox) # the app dir bg_pod looks in
        bg_pod "$name" "$@" \
                "grep -E '^Cap(Eff|Prm|Bnd):' /proc/self/status >/caps; touch /$name-ready;
                 exec /bin/pod-probe userns-hold >/held-main"
        BG_APP=()
        HU=$BG_UUID
        HDIR=$BG_DIR
        for _ in $(seq 100); do
                grep -q ok "$HDIR/overlay/busybox/upper/held-main" 2>/dev/null && break
                sleep 0.1
        done
        tap_check "$name: the hostile image's app sits in a nested user namespace (no insecure flag)" \
                "$(grep -qx ok "$HDIR/overlay/busybox/upper/held-main" 2>/dev/null; echo $?)" \
                "$(cat "$HDIR/overlay/busybox/upper/held-main" 2>&1) $(cat "$W/$name.err")"
        HCAPS=$(squash <"$HDIR/overlay/busybox/upper/caps" 2>/dev/null || true)
}
hostile_image himg1 --private-users
enter_caps "hostile image, --private-users: enter gives the app's capabilities"
stop_pod "$HU"
hostile_image himg2
enter_caps "hostile image: enter gives the app's capabilities, not every capability of the host"
stop_pod "$HU"
BG_IMAGE=""

# ---- 7. capabilities over the pod's own namespaces only ------------------------------------
CAPS='mount -t tmpfs none /mnt && echo mounted || echo "mount=$?";
        hostname evil && echo renamed || echo "hostname=$?";
        /bin/pod-probe bind 80'
pod_sh "${ALLCAPS[@]}" "$CAPS"
assert_match "control: without --private-users, mount works with every capability" "$OUT" "^mounted$"
assert_match "control: ... and sethostname" "$OUT" "^renamed$"
pod_sh "${ALLCAPS[@]}" --private-users "$CAPS"
assert_status "a pod with --private-users and every capability runs" 0
assert_no_match "with --private-users, mount -t tmpfs fails even with CAP_SYS_ADMIN" "$OUT" "^mounted$"
assert_no_match "... sethostname fails" "$OUT" "^renamed$"
assert_match "... binding port 80 works (the pod's own network namespace)" "$OUT" "^ok$"
pod_sh --private-users '/bin/pod-probe bind 80'
assert_match "binding port 80 with the default capabilities too" "$OUT" "^ok$"
if [ "$(sysctl -n net.ipv4.ip_unprivileged_port_start 2>/dev/null || echo 1024)" -gt 79 ]; then
        run_pod "${P[@]}" run --net=host "${ALLCAPS[@]}" --private-users "$B" \
                --exec=/bin/pod-probe -- bind 80
        assert_match "--net=host: binding the host's port 80 fails with EACCES" "$OUT" "^13$"
fi

# ---- 8. pod export shifts the pod's IDs back --------------------------------------------------
pod_sh --private-users 'echo x >/by-root; echo y >/by-alice; chown 1000:1001 /by-alice'
UE=$UUID
RE=$(range "$UE")
RE=${RE% *}
RE=${RE:-x}
run_pod "${P[@]}" export "$UE" "$W/export.aci"
assert_status "pod export of a --private-users pod" 0
LIST=$(tar --numeric-owner -tvzf "$W/export.aci" 2>&1 || true)
assert_match "export: a file the pod's root wrote is 0/0 in the tar" "$LIST" \
        "^-[rwx-]{9} 0/0 .* rootfs/by-root$"
assert_match "export: a file chowned to 1000:1001 is 1000/1001" "$LIST" \
        "^-[rwx-]{9} 1000/1001 .* rootfs/by-alice$"
assert_match "export: the image's busybox stays 0/0" "$LIST" "^-[rwx-]{9} 0/0 .* rootfs/bin/busybox$"
HIGH=$(awk '{ split($2, id, "/"); if (id[1] >= 65536 || id[2] >= 65536) print }' <<<"$LIST")
tap_check "export: no ID of the range (BASE $RE) is left: every owner < 65536" \
        "$([ -n "$LIST" ] && [ -z "$HIGH" ]; echo $?)" "$HIGH"

# ---- 9. a Docker image with a whiteout and an opaque dir --------------------------------------
OSPEC='{"media":"oci","layers":[{"busybox":["sh","ls","cat","echo","stat","find","sort"]},
 {"entries":[{"path":"etc/gone","content":"gone\n"},{"path":"opt/old","content":"old\n"},
  {"path":"opt/sub/keep","content":"old\n"},{"path":"keep/a","content":"a\n"},
  {"path":"keep/b","content":"b\n","uid":1000,"gid":1001},{"path":"data/f","content":"f\n"},
  {"path":"data/hl","type":"hardlink","target":"data/f"}]},
 {"entries":[{"path":"etc/gone","type":"whiteout"},{"path":"opt","type":"opaque"},
  {"path":"opt/new","content":"new\n"},{"path":"keep/a","type":"whiteout"},
  {"path":"keep/c","content":"c\n"}]}],"config":{"Cmd":["/bin/sh"]}}'
if python3 "$HELPERS/oci-image.py" save "$OSPEC" --out "$W/oci.tar" >/dev/null 2>"$W/oci.err"; then
        run_pod "${P[@]}" --insecure-options=image image import "$W/oci.tar"
        O=$(tail -n 1 <<<"$OUT")
        TREE='cat /etc/gone 2>/dev/null; echo "gone=$?"; ls -A /opt /keep;
                find /opt /keep /data /bin /etc/passwd -xdev -exec stat -c "%n %u:%g %a %h" {} + | sort'
        run_pod "${P[@]}" run --net=none "$O" --exec=/bin/sh -- -c "$TREE"
        PLAIN=$OUT
        run_pod "${P[@]}" run --net=none --private-users "$O" --exec=/bin/sh -- -c "$TREE"
        assert_status "a Docker image runs with --private-users" 0
        tap_check "it shows the same tree (whiteouts, opaque dir, owners, links) as without" \
                "$([ -n "$PLAIN" ] && [ "$OUT" = "$PLAIN" ]; echo $?)" \
                "$(diff <(echo "$PLAIN") <(echo "$OUT"))"
        assert_match "... the whiteout hides the file" "$OUT" "^gone=1$"
        assert_match "... the layer's 1000:1001 file keeps its owner" "$OUT" "^/keep/b 1000:1001 "
        assert_no_match "... the opaque dir hides the lower layer" "$OUT" "^/opt/(old|sub)"
        run_pod "${P[@]}" run --net=none --private-users --private-users-ownership=chown "$O" \
                --exec=/bin/sh -- -c "$TREE"
        assert_status "a Docker image runs with chown-shifted layers" 0
        tap_check "... showing the same tree (whiteouts, opaque dir, owners, links)" \
                "$([ -n "$PLAIN" ] && [ "$OUT" = "$PLAIN" ]; echo $?)" \
                "$(diff <(echo "$PLAIN") <(echo "$OUT"))"
else
        tap_check "oci-image.py builds the Docker image" 1 "$(cat "$W/oci.err")"
fi

# ---- 10. the pod's init (host root) cannot be signalled or traced -----------------------------
SIG='/bin/pod-probe kill 1 0; /bin/pod-probe ptrace 1'
pod_sh "${ALLCAPS[@]}" "$SIG"
assert_match "control: without --private-users, root may signal the pod's init" "$(sed -n 1p <<<"$OUT")" "^ok$"
assert_match "control: ... and ptrace it" "$(sed -n 2p <<<"$OUT")" "^ok$"
pod_sh "${ALLCAPS[@]}" --private-users "$SIG"
assert_match "with --private-users, kill -0 1 fails with EPERM" "$(sed -n 1p <<<"$OUT")" "^1$"
assert_match "... and ptrace of PID 1 with EPERM" "$(sed -n 2p <<<"$OUT")" "^1$"
pod_sh "${ALLCAPS[@]}" --private-users 'kill -0 1 && echo signalled || echo refused'
assert_match "... busybox kill -0 1 too" "$OUT" "^refused$"

# ---- the fly stage1 refuses --------------------------------------------------------------------
FLY=$(dirname "$POD_STAGE1")/pod-stage1-fly
if [ -x "$FLY" ]; then
        run_pod "${P[@]}" run --net=host --stage1-path="$FLY" --private-users "$B" --exec=/bin/true
        assert_status "the fly stage1 refuses --private-users" 254
        assert_match "... saying so" "$ERR" "private-users"
        run_pod "${P[@]}" fly --private-users "$B" --exec=/bin/true
        refused "pod fly refuses --private-users" "private-users"
fi

run_pod "${P[@]}" gc --grace-period=0s
tap_done
