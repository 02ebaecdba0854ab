# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# STATUS, OUT and ERR are lib.sh's, read by its assertions.
# shellcheck disable=SC2034
# Builds pod directories by hand, as stage0 would (stage1/ABI.md "Files"), and runs
# $POD_STAGE1 on them.  Sourced by tests/integration/stage1.sh and the VM tests after
# lib.sh; needs $PROBE (tests/helpers/pod-probe) and $BUSYBOX (a static busybox).

# A UUID of this run's own: make check runs test files in parallel, and the pod's UUID names
# its device cgroup (pod-<uuid>), which a second stage1 with the same UUID would collide with
# (and whose gc would kill the other's processes).
UUID=$(cat /proc/sys/kernel/random/uuid)
IMAGE_ID=sha512-$(printf '%0128d' 0)

# One template rootfs, copied per app: busybox, its applets, the probe, passwd/group.
TEMPLATE=$TAP_TMP/template
mkdir -p "$TEMPLATE"/{bin,etc,tmp,opt/work}
cp "$BUSYBOX" "$TEMPLATE/bin/busybox"
for applet in $("$BUSYBOX" --list); do
        [ "$applet" = busybox ] || ln -s busybox "$TEMPLATE/bin/$applet"
done
cp "$PROBE" "$TEMPLATE/bin/pod-probe"
printf 'root:x:0:0:root:/root:/bin/sh\nwww:x:33:33:www:/var/www:/bin/sh\n' >"$TEMPLATE/etc/passwd"
printf 'root:x:0:\nwww:x:33:\nextra:x:1000:www\nother:x:1001:root\n' >"$TEMPLATE/etc/group"

# new_pod: a fresh pod dir in $PODDIR with the given apps (names).  Each app's image
# manifest runs /bin/true; the pod manifest (write_pod) says the rest.
PODDIR=
new_pod() {
        PODDIR=$(mktemp -d "$TAP_TMP/pod.XXXXXX")
        local app
        for app in "$@"; do
                mkdir -p "$PODDIR/appsinfo/$app" "$PODDIR/stage1/rootfs/opt/stage2/$app"
                cp -a "$TEMPLATE" "$PODDIR/stage1/rootfs/opt/stage2/$app/rootfs"
                cat >"$PODDIR/appsinfo/$app/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/$app",
 "labels":[{"name":"os","value":"linux"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
JSON
        done
}

# app_json NAME EXEC-JSON-ARRAY [EXTRA-APP-FIELDS] [EXTRA-RUNTIME-APP-FIELDS]
app_json() {
        printf '{"name":"%s","image":{"name":"example.com/%s","id":"%s"},' "$1" "$1" "$IMAGE_ID"
        printf '"app":{"exec":%s,"user":"0","group":"0"%s}%s}' "$2" "${3:-}" "${4:-}"
}

# write_pod APPS-JSON [EXTRA-POD-FIELDS]
write_pod() {
        printf '{"acKind":"PodManifest","acVersion":"0.8.11","apps":[%s]%s}\n' "$1" "${2:-}" \
                >"$PODDIR/pod"
}

# run_stage1 [stage1 options]: runs the pod in $PODDIR holding its lock like stage0 does;
# sets $STATUS, $OUT, $ERR.
run_stage1() {
        set +e
        (
                cd "$PODDIR" || exit 99
                exec 9<.
                flock -x 9
                POD_LOCK_FD=9 exec timeout -k 5 60 "$POD_STAGE1" "$@" "$UUID"
        ) >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr"
        STATUS=$?
        set -e
        OUT=$(cat "$TAP_TMP/stdout")
        ERR=$(cat "$TAP_TMP/stderr")
}

sh_app() { # sh_app NAME SCRIPT: an app running /bin/sh -c SCRIPT (SCRIPT must be JSON-safe)
        app_json "$1" "[\"/bin/sh\",\"-c\",\"$2\"]" "${3:-}" "${4:-}"
}

