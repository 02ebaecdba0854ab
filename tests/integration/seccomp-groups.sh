#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rkt's seccomp groups (@rkt/*, @docker/*, @systemd/*) in --seccomp and in an image's
# os/linux/seccomp-* isolators, end to end with the real pod-stage1: the examples of rkt's
# seccomp guide run as written with pod in place of rkt, on a static busybox image built with
# `pod image build` and run unsigned (--insecure-options=image) from a private --dir.
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
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"

W=$TAP_TMP
P=(--dir="$W/data" --insecure-options=image)

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

# build_image NAME ISOLATORS-JSON: a busybox image (sh as its exec) with these isolators.
build_image() {
        local img=$W/img-${1##*/}
        mkdir -p "$img/rootfs/bin" "$img/rootfs/etc" "$img/rootfs/mnt"
        cp "$BUSYBOX" "$img/rootfs/bin/busybox"
        for a in sh ls cat echo mkdir mount umount ping adjtimex grep true; do
                ln -s busybox "$img/rootfs/bin/$a"
        done
        printf 'root:x:0:0:root:/root:/bin/sh\n' >"$img/rootfs/etc/passwd"
        printf 'root:x:0:\n' >"$img/rootfs/etc/group"
        cat >"$img/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$1",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh"],"user":"0","group":"0","isolators":[$2]}}
EOF
        "$POD" image build "$img" "$W/${1##*/}.aci" >/dev/null
}
build_image example.com/busybox ''
build_image localhost/seccomp-remove-set-example \
        '{"name":"os/linux/seccomp-remove-set","value":{"set":["@rkt/default-blacklist","socket"]}}'
build_image localhost/seccomp-retain-set-example \
        '{"name":"os/linux/seccomp-retain-set",
          "value":{"set":["@rkt/default-whitelist","umount","umount2"]}}'
B=$W/busybox.aci
REMOVE=$W/seccomp-remove-set-example.aci
RETAIN=$W/seccomp-retain-set-example.aci

# pod_sh IMAGE [APP FLAGS...] SCRIPT: the image's /bin/sh -c SCRIPT.
pod_sh() {
        local image=$1 script=${*: -1}
        shift
        run_pod "${P[@]}" run --net=none "$image" "${@:1:$#-1}" --exec=/bin/sh -- -c "$script"
}

# ---- retain: the allowlists run a shell and ls ----------------------------------------------
for g in @rkt/default-whitelist @docker/default-whitelist; do
        pod_sh "$B" --seccomp=mode=retain,"$g" 'ls /; echo done'
        assert_status "--seccomp=mode=retain,$g: sh and ls run" 0
        assert_match "  ls lists the root" "$OUT" "^bin$"
        assert_match "  and sh goes on" "$OUT" "^done$"
        pod_sh "$B" --seccomp=mode=retain,"$g" '(adjtimex -f 0); echo "status=$?"'
        assert_match "  a call outside it (adjtimex) kills with SIGSYS" "$OUT" "^status=159$"
done
# @systemd/default-whitelist is systemd's @default: the calls every program makes, but not
# enough on its own (no brk, mmap, write); rkt's guide combines it with other groups.
SD=mode=retain,errno=ENOSYS,@systemd/default-whitelist
pod_sh "$B" --seccomp="$SD",@systemd/process,@systemd/network-io,@rkt/default-whitelist \
        'ls /; echo done'
assert_status "retain @systemd/default-whitelist with other groups: sh and ls run" 0
assert_match "  ls lists the root" "$OUT" "^bin$"
run_pod "${P[@]}" run --net=none "$B" \
        --seccomp="$SD",arch_prctl,brk,mmap,mprotect,write,readlink,getrandom,prctl \
        --exec=/bin/echo -- hi
assert_status "retain @systemd/default-whitelist and the few calls it lacks: echo runs" 0
assert_match "  and prints" "$OUT" "^hi$"
run_pod "${P[@]}" run --net=none "$B" --seccomp="$SD" --exec=/bin/echo -- hi
assert_status "  alone it lacks brk and mmap: the app starts and glibc gives up (127)" 127

# ---- remove: the denylists fail with the chosen errno ---------------------------------------
pod_sh "$B" --seccomp=mode=remove,errno=ENOTSUP,@docker/default-blacklist \
        'ls / >/dev/null && echo ls-ok; mount -t tmpfs none /mnt; umount /proc/bus; adjtimex -f 0'
assert_match "--seccomp=mode=remove,errno=ENOTSUP,@docker/default-blacklist: ls runs" \
        "$OUT" "^ls-ok$"
assert_match "  mount fails with ENOTSUP" "$ERR" "mount: .*not supported"
assert_match "  umount too" "$ERR" "umount: .*not supported"
assert_match "  adjtimex too" "$ERR" "adjtimex: .*not supported"
pod_sh "$B" --caps-retain=CAP_SYS_ADMIN --seccomp=mode=remove,errno=EROFS,@systemd/mount \
        'grep CapEff /proc/self/status; mount -t tmpfs none /mnt'
assert_match "--caps-retain=CAP_SYS_ADMIN is in effect" "$OUT" \
        "CapEff:[[:space:]]+0000000000200000$"
assert_match "  @systemd/mount still makes mount fail, with EROFS" "$ERR" \
        "mount: .*Read-only file system"
pod_sh "$B" --seccomp=mode=remove,errno=ENOTSUP,@systemd/clock,@systemd/mount,mkdir \
        'mkdir /newdir; adjtimex -f 0; umount /proc/bus; ls -d /bin'
assert_match "groups mix with each other and with names: mkdir fails" "$ERR" \
        "mkdir: .*not supported"
assert_match "  adjtimex (@systemd/clock) fails" "$ERR" "adjtimex: .*not supported"
assert_match "  umount (@systemd/mount) fails" "$ERR" "umount: .*not supported"
assert_match "  the rest runs" "$OUT" "^/bin$"

# ---- rkt's seccomp guide, "Blacklisting specific syscalls" ---------------------------------
pod_sh "$REMOVE" '(ping -c1 127.0.0.1); echo "ping=$?"; (umount /proc/bus); echo "umount=$?"'
assert_status "image remove-set [@rkt/default-blacklist, socket]: the shell runs" 0
assert_match "  ping is killed (Bad system call)" "$OUT" "^ping=159$"
assert_match "  umount is killed" "$OUT" "^umount=159$"

# ---- "Allowing specific syscalls" -------------------------------------------------------------
pod_sh "$RETAIN" --caps-retain=CAP_SYS_ADMIN,CAP_NET_RAW \
        'ping -c1 127.0.0.1 >/dev/null && echo ping-ok; grep " /proc/bus " /proc/mounts
         umount /proc/bus && echo umount-ok; grep -c " /proc/bus " /proc/mounts'
assert_match "image retain-set [@rkt/default-whitelist, umount, umount2]: ping works" \
        "$OUT" "^ping-ok$"
assert_match "  /proc/bus is mounted" "$OUT" "^proc /proc/bus "
assert_match "  umount works with CAP_SYS_ADMIN" "$OUT" "^umount-ok$"
assert_match "  and it is gone" "$OUT" "^0$"
pod_sh "$RETAIN" '(adjtimex -f 0); echo "adjtimex=$?"'
assert_match "  adjtimex is killed (Bad system call)" "$OUT" "^adjtimex=159$"

# ---- "Overriding seccomp filters at run-time" (and the patched manifest's retain set) -------
pod_sh "$RETAIN" --caps-retain=CAP_SYS_ADMIN \
        --seccomp=mode=retain,errno=ENOSYS,@rkt/default-whitelist 'umount /proc/bus'
assert_match "--seccomp replaces the image's set: umount fails with ENOSYS" "$ERR" \
        "umount: .*Function not implemented"
pod_sh "$B" --caps-retain=CAP_NET_RAW --seccomp=mode=remove,errno=ENOTSUP,socket \
        'ping -c 1 127.0.0.1'
assert_match "--seccomp mode=remove,errno=ENOTSUP,socket: ping cannot create its socket" "$ERR" \
        "ping: .*not supported"

# ---- refused -----------------------------------------------------------------------------
run_pod "${P[@]}" run --net=none "$B" --seccomp=mode=remove,@rkt/default-blacklist,@rkt/bogus
assert_status "an unknown group is refused" 254
assert_match "  naming it" "$ERR" "unknown seccomp group '@rkt/bogus'"
run_pod "${P[@]}" run --net=none "$B" --seccomp=mode=retain,@rkt/default-whitelist,no_such_call
assert_status "an unknown syscall next to a group is still refused" 254
assert_match "  naming it" "$ERR" "unknown syscall 'no_such_call'"

tap_done
