#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vm-suite: yes
# Device nodes and setuid files (stage1/ABI.md "What an app sees", "Devices"): a root app
# with the default capabilities (CAP_MKNOD among them) must not reach a host device through
# a node it creates or finds anywhere it can write (root, volumes, /dev, /dev/shm), and a
# setuid-root file on a host volume must give a non-root app nothing.  Runs $POD_STAGE1 on
# pod dirs built by hand (tests/helpers/pod-dir.sh), without systemd.
# App scripts are JSON strings in single quotes: $ is for the app's shell, not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts, device nodes)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
[ -x "$PROBE" ] || tap_skip_all "tests/helpers/pod-probe not built"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"

# shellcheck source=tests/helpers/pod-dir.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/pod-dir.sh"

EACCES=13
EPERM=1

HOSTVOL=$TAP_TMP/hostvol
mkdir -p "$HOSTVOL/sub"
# A device node the host already has on the volume, and a tmpfs submount without nodev
# holding another: a recursive host volume carries both into the app.
mknod -m 0666 "$HOSTVOL/null-node" c 1 3
mount -t tmpfs -o mode=0755,size=1m pod-devices-test "$HOSTVOL/sub"
cleanup_mounts() { umount "$HOSTVOL/sub" 2>/dev/null || true; }
trap 'cleanup_mounts; rm -rf "$TAP_TMP"' EXIT
mknod -m 0666 "$HOSTVOL/sub/null-node" c 1 3
# A setuid-root copy of the probe on the volume.
cp "$PROBE" "$HOSTVOL/suid-probe"
chown 0:0 "$HOSTVOL/suid-probe"
chmod 4755 "$HOSTVOL/suid-probe"

hostvol_json() { # hostvol_json [EXTRA-VOLUME-FIELDS]
        printf ',"volumes":[{"name":"h","kind":"host","source":"%s"%s},{"name":"e","kind":"empty"}]' \
                "$HOSTVOL" "${1:-}"
}
MOUNTS=',"mounts":[{"volume":"h","path":"/vol"},{"volume":"e","path":"/empty"}]'

# mknod_open DIR: "<dir> mknod=<r> open=<r>" for a new 1:3 node (null: allowed by the
# device list, so only the mount's nodev can stop the open).
mknod_open() {
        printf 'echo %s mknod=$(/bin/pod-probe mknod %s/n-$$ c 1 3) open=$(/bin/pod-probe open %s/n-$$ w); ' "$1" "$1" "$1"
}

# ---- A: nodev on every writable mount ----------------------------------------------------
new_pod a
write_pod "$(sh_app a "$(mknod_open /vol)$(mknod_open /tmp)$(mknod_open /empty)$(mknod_open /dev)$(mknod_open /dev/shm)"'echo found=$(/bin/pod-probe open /vol/null-node w); echo sub=$(/bin/pod-probe open /vol/sub/null-node w)' '' "$MOUNTS")" \
        "$(hostvol_json)"
run_stage1
assert_status "device probe pod runs" 0
for d in /vol /tmp /empty /dev /dev/shm; do
        assert_match "root app: a node it makes in $d cannot be opened (nodev)" "$OUT" \
                "^$d mknod=ok open=$EACCES$"
done
assert_match "a device node already on a host volume cannot be opened" "$OUT" "^found=$EACCES$"
assert_match "nor one on a submount of a recursive host volume" "$OUT" "^sub=$EACCES$"
rm -f "$HOSTVOL"/n-*

new_pod a
write_pod "$(sh_app a "$(mknod_open /tmp)" '' "$MOUNTS")" "$(hostvol_json)"
run_stage1 --no-overlay
assert_match "--no-overlay: a node made in the app's root cannot be opened" "$OUT" \
        "^/tmp mknod=ok open=$EACCES$"
rm -f "$HOSTVOL"/n-*

# ---- A: nosuid on host volumes -----------------------------------------------------------
# no-new-privileges off, so that only the mount flag stands between the setuid bit and root.
suid_app() {
        printf '{"name":"a","image":{"name":"example.com/a","id":"%s"},' "$IMAGE_ID"
        printf '"app":{"exec":["/vol/suid-probe","euid"],"user":"33","group":"33",'
        printf '"isolators":[{"name":"os/linux/no-new-privileges","value":false}]}%s}' "$MOUNTS"
}
new_pod a
write_pod "$(suid_app)" "$(hostvol_json)"
run_stage1
assert_status "setuid probe runs" 0
assert_match "a setuid-root file on a host volume gives a non-root app nothing" "$OUT" \
        "^euid=33 egid=33$"

new_pod a
write_pod "$(suid_app)" "$(hostvol_json ',"suid":true')"
run_stage1
assert_match "a host volume with \"suid\": true honours setuid bits" "$OUT" "^euid=0 egid=33$"

# ---- B: the device allow-list (no systemd here: stage1's own cgroup2 BPF program) -------
CG2=
for m in /sys/fs/cgroup /sys/fs/cgroup/unified; do
        if [ "$(stat -f -c %T "$m" 2>/dev/null)" = cgroup2fs ]; then
                CG2=$m
                break
        fi
done
if [ -n "$CG2" ] && [ ! -e /run/systemd/system ]; then
        # 1:11 is /dev/kmsg: only opened, never written.
        new_pod a
        write_pod "$(sh_app a 'echo kmsg=$(/bin/pod-probe mknod /tmp/kmsg c 1 11) sda=$(/bin/pod-probe mknod /tmp/sda b 8 0) pts=$(/bin/pod-probe mknod /tmp/pts c 136 0); echo blk=$(/bin/pod-probe mknod /tmp/blk b 1 3) cons=$(/bin/pod-probe mknod /tmp/cons c 5 1) mknull=$(/bin/pod-probe mknod /tmp/null c 1 3); for d in null:w zero:r full:w random:r urandom:r ptmx:w tty:w; do echo ${d%:*}=$(/bin/pod-probe open /dev/${d%:*} ${d#*:}); done; cat /proc/self/cgroup')"
        run_stage1
        assert_status "allow-list pod runs" 0
        assert_match "mknod of a device not on the list fails (EPERM)" "$OUT" \
                "^kmsg=$EPERM sda=$EPERM pts=$EPERM$"
        # The same numbers as an allowed character device, as a block device; another
        # minor of an allowed major; and an allowed one, which mknod may make.
        assert_match "a block device, another minor: EPERM; /dev/null's numbers: mknod works" \
                "$OUT" "^blk=$EPERM cons=$EPERM mknull=ok$"
        for d in null zero full random urandom ptmx; do
                assert_match "/dev/$d opens" "$OUT" "^$d=ok$"
        done
        assert_no_match "/dev/tty is not refused by the list (ENXIO without a terminal)" "$OUT" \
                "^tty=$EPERM$"
        assert_match "the app runs in the pod's device cgroup" "$OUT" "^0::.*/pod-$UUID$"
        tap_check "the cgroup is gone when the pod has ended" \
                "$([ ! -e "$CG2/pod-$UUID" ] && [ ! -e "$PODDIR/devices-cgroup" ]; echo $?)" \
                "$(ls -d "$CG2/pod-$UUID" "$PODDIR/devices-cgroup" 2>&1)"

        # Where nodev cannot help: an app with every capability and no seccomp filter mounts
        # a file system without nodev.  Only the list stands between it and the host device.
        escape='mkdir -p /mnt/dev && mount -t tmpfs dev /mnt/dev && echo kmsg=$(/bin/pod-probe mknod /mnt/dev/kmsg c 1 11) kmsgopen=$(/bin/pod-probe open /mnt/dev/kmsg w) null=$(/bin/pod-probe mknod /mnt/dev/null c 1 3) nullopen=$(/bin/pod-probe open /mnt/dev/null w)'
        new_pod a
        write_pod "$(sh_app a "$escape")"
        run_stage1 --disable-capabilities-restriction --disable-seccomp --disable-device-policy
        assert_match "without the list (--disable-device-policy), a privileged app opens /dev/kmsg" \
                "$OUT" "^kmsg=ok kmsgopen=ok null=ok nullopen=ok$"
        new_pod a
        write_pod "$(sh_app a "$escape")"
        run_stage1 --disable-capabilities-restriction --disable-seccomp
        assert_match "with it, the same app cannot make the node, and /dev/null still works" \
                "$OUT" "^kmsg=$EPERM kmsgopen=2 null=ok nullopen=ok$"

        # A stage1 killed with SIGKILL leaves the cgroup; "pod-stage1 gc" removes it.
        new_pod a
        write_pod "$(app_json a '["/bin/pod-probe","wait-term","/tmp/x","0"]')"
        (
                cd "$PODDIR" || exit 99
                exec 9<.
                flock -x 9
                POD_LOCK_FD=9 exec "$POD_STAGE1" "$UUID"
        ) >"$TAP_TMP/bg.out" 2>&1 &
        bg=$!
        for _ in $(seq 100); do
                grep -q waiting "$TAP_TMP/bg.out" 2>/dev/null && break
                sleep 0.1
        done
        cg=$(cat "$PODDIR/devices-cgroup" 2>/dev/null || true)
        tap_check "a running pod's cgroup is recorded in the pod dir and holds its init" \
                "$([ "$cg" = "$CG2/pod-$UUID" ] && grep -qx "$(cat "$PODDIR/pid")" "$cg/cgroup.procs"; echo $?)" \
                "cg=$cg; $(cat "$TAP_TMP/bg.out")"
        kill -KILL "$bg"
        wait "$bg" 2>/dev/null || true
        tap_check "the cgroup outlives a killed stage1" "$([ -d "$cg" ]; echo $?)"
        set +e
        (cd "$PODDIR" && "$POD_STAGE1" gc "$UUID") >"$TAP_TMP/gc.out" 2>&1
        STATUS=$?
        set -e
        ERR=$(cat "$TAP_TMP/gc.out")
        assert_status "pod-stage1 gc succeeds" 0
        tap_check "gc removed the cgroup and its record" \
                "$([ ! -e "$cg" ] && [ ! -e "$PODDIR/devices-cgroup" ]; echo $?)"

        # gc removes nothing but the pod's own cgroup.
        new_pod a
        mkdir "$CG2/pod-devices-test-decoy"
        printf '%s' "$CG2/pod-devices-test-decoy" >"$PODDIR/devices-cgroup"
        set +e
        (cd "$PODDIR" && "$POD_STAGE1" gc "$UUID") >"$TAP_TMP/gc.out" 2>&1
        STATUS=$?
        set -e
        tap_check "gc refuses to remove a cgroup that is not the pod's" \
                "$([ "$STATUS" != 0 ] && [ -d "$CG2/pod-devices-test-decoy" ]; echo $?)" \
                "$(cat "$TAP_TMP/gc.out")"
        rmdir "$CG2/pod-devices-test-decoy"
else
        echo "# no cgroup2 hierarchy, or systemd runs: the allow-list is tests/vm/test-devices.sh's"
fi

# ---- through stage0: --volume ...,suid=true and --insecure-options=devices ----------------
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac
IMG=$TAP_TMP/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc" "$IMG/rootfs/tmp"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh echo mkdir mount; do ln -s busybox "$IMG/rootfs/bin/$a"; done
cp "$PROBE" "$IMG/rootfs/bin/pod-probe"
printf 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/:/bin/sh\n' >"$IMG/rootfs/etc/passwd"
printf 'root:x:0:\nwww:x:33:\n' >"$IMG/rootfs/etc/group"
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/devices",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh"],"user":"0","group":"0",
        "isolators":[{"name":"os/linux/no-new-privileges","value":false}]}}
EOF
ACI=$TAP_TMP/devices.aci
"$POD" image build "$IMG" "$ACI" >/dev/null
P=(--dir="$TAP_TMP/data" --insecure-options=image)
run_pod "${P[@]}" run --net=none --volume=h,kind=host,source="$HOSTVOL" \
        --mount=volume=h,target=/vol "$ACI" --user=33 --group=33 --exec=/vol/suid-probe -- euid
assert_match "pod run: a setuid-root file on a host volume gives nothing" "$OUT" "^euid=33 "
run_pod "${P[@]}" run --net=none --volume=h,kind=host,source="$HOSTVOL",suid=true \
        --mount=volume=h,target=/vol --uuid-file-save="$TAP_TMP/suid-uuid" "$ACI" --user=33 \
        --group=33 --exec=/vol/suid-probe -- euid
assert_match "pod run --volume ...,suid=true honours it" "$OUT" "^euid=0 "
run_pod "${P[@]}" cat-manifest "$(cat "$TAP_TMP/suid-uuid")"
assert_match "  recorded as the volume's \"suid\": true" "$(tr -d ' \t\n' <<<"$OUT")" \
        '"kind":"host","source":"[^"]*","readOnly":false,"recursive":true,"suid":true'
if [ -n "$CG2" ] && [ ! -e /run/systemd/system ]; then
        run_pod "${P[@]}" --insecure-options=capabilities,seccomp run --net=none "$ACI" -- -c "$escape"
        assert_match "pod run: the list holds for a privileged app" "$OUT" \
                "^kmsg=$EPERM kmsgopen=2 null=ok nullopen=ok$"
        run_pod "${P[@]}" --insecure-options=capabilities,seccomp,devices run --net=none "$ACI" \
                -- -c "$escape"
        assert_match "pod run --insecure-options=devices: no list" "$OUT" \
                "^kmsg=ok kmsgopen=ok null=ok nullopen=ok$"
        assert_match "  with a warning" "$ERR" "without a device allow-list"
fi

cleanup_mounts
tap_done
