#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# stage1 confinement against a hostile image and a hostile app (stage1/ABI.md "Paths from
# the image", "Process hardening"): paths from manifests never leave the app's root, no
# stage1 process hands a host handle to app code, the default filter blocks io_uring.
# Every check plants a marker on the host outside the pod first and asserts the app never
# sees it; a pod either fails with 254 or resolves the path inside the image.
# App scripts are JSON strings in single quotes: $ is for the app's shell, not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
RACER=${top_builddir:-.}/tests/helpers/pod-racer
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

# The marker: a random token in a host file the pod must never reach.  Its path relative
# to the host's / is what an app whose cwd escaped would open.
TOKEN=host-marker-$RANDOM$RANDOM$RANDOM
MARKDIR=$(mktemp -d /var/tmp/pod-confine.XXXXXX)
trap 'rm -rf "$TAP_TMP" "$MARKDIR"' EXIT
MARKER=$MARKDIR/marker
echo "$TOKEN" >"$MARKER"
chown 4242:4343 "$MARKER"
MARKER_REL=${MARKER#/}
printf 'root:x:0:0:root:/%s:/bin/sh\n' "$TOKEN" >"$MARKDIR/passwd"

# reads the marker relative to the cwd and at its host path, then says where it is
SCRIPT="cat $MARKER_REL $MARKER 2>/dev/null; ls; pwd; echo HOME=\$HOME; exit 0"

# escape_check DESC: the app must not have seen the marker; the pod fails (254) or runs
# inside the image (0).
escape_check() {
        local r=0
        grep -q "$TOKEN" <<<"$OUT$ERR" && r=1
        tap_check "$1: the host marker stays invisible" "$r" "status $STATUS: $OUT $ERR"
        r=0
        [ "$STATUS" = 254 ] || [ "$STATUS" = 0 ] || r=1
        tap_check "$1: fails with 254 or resolves inside the image (status $STATUS)" "$r" "$ERR"
        if [ "$STATUS" = 254 ]; then
                r=0
                grep -Eqi "app 'a'" <<<"$ERR" || r=1
                tap_check "$1: the error names the app" "$r" "$ERR"
        fi
}

# ---- A: workingDirectory ---------------------------------------------------------------
for wd in /proc/1/root /proc/self/cwd /proc/1/cwd/.. /proc/1/root/var/tmp \
        /opt/link /opt/chain1 /opt/rel /opt/rel/var/tmp; do
        new_pod a
        root=$PODDIR/stage1/rootfs/opt/stage2/a/rootfs
        ln -s /proc/1/root "$root/opt/link"
        ln -s chain2 "$root/opt/chain1"
        ln -s ../opt/link "$root/opt/chain2"
        ln -s ../../../../../../proc/1/cwd/.. "$root/opt/rel"
        write_pod "$(sh_app a "$SCRIPT" ",\"workingDirectory\":\"$wd\"")"
        run_stage1
        escape_check "workingDirectory '$wd'"
done

# A symlink inside the image resolves inside the image.
new_pod a
ln -s ../opt/work/../../../../tmp "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/opt/tmplink"
write_pod "$(sh_app a 'pwd -P; exit 0' ',"workingDirectory":"/opt/tmplink"')"
run_stage1
assert_status "a relative symlink chain as workingDirectory runs" 0
assert_match "... and lands inside the image" "$OUT" "^/tmp$"

# The image manifest's workingDirectory (not only the pod's override, which is what
# stage0's --working-dir writes).
new_pod a
cat >"$PODDIR/appsinfo/a/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/a",
 "labels":[{"name":"os","value":"linux"}],
 "app":{"exec":["/bin/sh","-c","$SCRIPT"],"user":"0","group":"0","workingDirectory":"/proc/1/root"}}
JSON
printf '{"acKind":"PodManifest","acVersion":"0.8.11","apps":[{"name":"a","image":{"name":"example.com/a","id":"%s"}}]}\n' \
        "$IMAGE_ID" >"$PODDIR/pod"
run_stage1
escape_check "image manifest workingDirectory '/proc/1/root'"

# ---- A: exec and event handlers -----------------------------------------------------------
for ex in /proc/1/root/bin/busybox /proc/1/cwd/bin/busybox /opt/link/bin/busybox; do
        new_pod a
        ln -s /proc/1/root "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/opt/link"
        write_pod "$(app_json a "[\"$ex\",\"cat\",\"$MARKER\"]")"
        run_stage1
        escape_check "exec '$ex'"
done
for h in pre-start post-stop; do
        new_pod a
        write_pod "$(app_json a '["/bin/true"]' \
                ",\"eventHandlers\":[{\"name\":\"$h\",\"exec\":[\"/proc/1/root/bin/busybox\",\"cat\",\"$MARKER\"]}]")"
        run_stage1
        escape_check "$h handler '/proc/1/root/bin/busybox'"
done

# Paths that stay inside the image still work: a symlink to the binary, a "#!" script (run
# by its path, see init.c exec_app()), an execute-only binary for a non-root user.
new_pod a
root=$PODDIR/stage1/rootfs/opt/stage2/a/rootfs
ln -s ../bin/busybox "$root/opt/echo"
printf '#!/bin/sh\necho "script-ran $0 $1"\n' >"$root/opt/s.sh"
chmod 0755 "$root/opt/s.sh"
cp "$PROBE" "$root/opt/xonly"
chmod 0711 "$root/opt/xonly"
write_pod "$(app_json a '["/opt/echo","bb-ran"]'),$(app_json b '["/opt/s.sh","arg"]'),$(app_json c '["/opt/xonly","ids"]' | sed 's/"user":"0","group":"0"/"user":"33","group":"33"/')"
for app in b c; do
        mkdir -p "$PODDIR/appsinfo/$app" "$PODDIR/stage1/rootfs/opt/stage2/$app"
        cp -a "$root" "$PODDIR/stage1/rootfs/opt/stage2/$app/"
        cp "$PODDIR/appsinfo/a/manifest" "$PODDIR/appsinfo/$app/manifest"
done
run_stage1
assert_status "in-image symlink, script and execute-only binary run" 0
assert_match "exec through an in-image symlink" "$OUT" "^bb-ran$"
assert_match "a #! script runs with its path as \$0" "$OUT" "^script-ran /opt/s.sh arg$"
assert_match "an execute-only binary runs as a non-root user" "$OUT" "^uid=33 gid=33"

# A post-stop handler that the app itself creates still runs (checked at setup only where
# it already exists), and from inside the image.
new_pod a
write_pod "$(app_json a '["/bin/sh","-c","echo \"#!/bin/sh\" > /opt/post.sh; echo \"echo post-ran\" >> /opt/post.sh; chmod 755 /opt/post.sh"]' \
        ',"eventHandlers":[{"name":"post-stop","exec":["/opt/post.sh"]}]')"
run_stage1
assert_match "a post-stop handler created by the app runs" "$OUT" "^post-ran$"

# ---- A: user and group as paths, the image's passwd and group ------------------------------
for u in "/proc/1/root/$MARKER_REL" "/opt/link/$MARKER_REL"; do
        new_pod a
        ln -s /proc/1/root "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/opt/link"
        write_pod "$(app_json a '["/bin/pod-probe","ids"]' | sed "s|\"user\":\"0\",\"group\":\"0\"|\"user\":\"$u\",\"group\":\"$u\"|")"
        run_stage1
        r=0
        grep -q "uid=4242" <<<"$OUT" && r=1
        tap_check "user '$u': the owner of a host file is not the app's uid" "$r" "$OUT $ERR"
        escape_check "user '$u'"
done
new_pod a
rm "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/etc/passwd"
ln -s "/proc/1/root/$MARKDIR/passwd" "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/etc/passwd"
write_pod "$(sh_app a 'echo HOME=$HOME')"
run_stage1
escape_check "image /etc/passwd -> /proc/1/root/..."
new_pod a
rm "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/etc/group"
ln -s "/proc/1/root/$MARKDIR/passwd" "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/etc/group"
write_pod "$(app_json a '["/bin/pod-probe","ids"]' | sed 's|"group":"0"|"group":"root"|')"
run_stage1
r=0
[ "$STATUS" = 254 ] || r=1
tap_check "image /etc/group -> /proc/1/root/...: refused" "$r" "$STATUS $OUT $ERR"


# ---- C: sealed binaries -----------------------------------------------------------------
# An app given every capability (--disable-capabilities-restriction) can open PID 1's
# /proc/1/exe: it must be a sealed memfd copy, not the host's pod-stage1 (while the init
# still has a post-stop handler to start) nor pod-stage1-supervise (after the hand-over).
host_s1=$(stat -L -c '%d:%i' "$POD_STAGE1")
host_sup=$(stat -L -c '%d:%i' "$(dirname "$POD_STAGE1")/pod-stage1-supervise")
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","seals","/proc/1/exe"]' \
        ',"eventHandlers":[{"name":"post-stop","exec":["/bin/true"]}]')"
run_stage1 --disable-capabilities-restriction
assert_match "PID 1 (pod-stage1) runs from a memfd sealed against writes (seals 0xf)" "$OUT" " seals=0xf$"
tap_check "... not from the host's pod-stage1 ($host_s1)" \
        "$(grep -q "^$host_s1 " <<<"$OUT" && echo 1 || echo 0)" "$OUT $ERR"
new_pod a
write_pod "$(sh_app a 'usleep 300000; /bin/pod-probe seals /proc/1/exe; cat /proc/1/comm')"
run_stage1 --disable-capabilities-restriction
assert_match "PID 1 after the hand-over (pod-stage1-supervise) runs from a sealed memfd" "$OUT" " seals=0xf$"
assert_match "... and still calls itself pod-stage1-supervise" "$OUT" "^pod-stage1-supe"
tap_check "... not from the host's pod-stage1-supervise ($host_sup)" \
        "$(grep -q "^$host_sup " <<<"$OUT" && echo 1 || echo 0)" "$OUT $ERR"

# ---- E: the default seccomp filter --------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","syscall","io_uring_setup"]')"
run_stage1
assert_match "a root app's io_uring_setup fails with EPERM under the default filter" "$OUT" "^1$"
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","syscall","io_uring_setup"]')"
run_stage1 --disable-seccomp
tap_check "... and is not refused without the filter (ok, or ENOSYS/EPERM from the kernel itself: $OUT)" \
        "$(grep -Eq '^(ok|38)$' <<<"$OUT" || [ "$(cat /proc/sys/kernel/io_uring_disabled 2>/dev/null || echo 0)" != 0 ]; echo $?)" "$OUT $ERR"

# TIOCSTI (typing into the terminal an app holds): EPERM from the filter; without it the
# kernel answers ENOTTY for /dev/null, so the test tells the filter from the kernel.
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","tiocsti","0"]')"
run_stage1
assert_match "a root app's ioctl(TIOCSTI) fails with EPERM under the default filter" "$OUT" "^1$"
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","tiocsti","0"]')"
run_stage1 --disable-seccomp
assert_match "... and reaches the kernel without it (ENOTTY on /dev/null)" "$OUT" "^25$"

# ---- B, C, D: racing stage1's processes from inside the pod ------------------------------
# pod-racer is left behind by app r's pre-start handler (root, default capabilities) and
# hammers /proc/PID/{fd/*,exe,cwd,root} of every other process while the pod starts the
# main and post-stop processes of r and of eight more root apps: 18 stage1 children per pod,
# RACE_PODS pods.  Nothing it opens may be a stage1 process's or lead outside its root.
RACE_PODS=${RACE_PODS:-4}
if [ -x "$RACER" ]; then
        total=0 children=0 rounds=0 seen=0 detail=""
        for i in $(seq "$RACE_PODS"); do
                apps="r"
                for b in 1 2 3 4 5 6 7 8; do apps="$apps b$b"; done
                # shellcheck disable=SC2086
                new_pod $apps
                json=$(app_json r '["/bin/sh","-c","usleep 400000"]' \
                        ',"eventHandlers":[{"name":"pre-start","exec":["/bin/sh","-c","/bin/pod-racer /racer.out 30; usleep 30000"]},{"name":"post-stop","exec":["/bin/true"]}]')
                for b in 1 2 3 4 5 6 7 8; do
                        json="$json,$(app_json "b$b" '["/bin/usleep","100000"]' \
                                ',"eventHandlers":[{"name":"pre-start","exec":["/bin/usleep","100000"]},{"name":"post-stop","exec":["/bin/true"]}]')"
                done
                for app in $apps; do
                        cp "$RACER" "$PODDIR/stage1/rootfs/opt/stage2/$app/rootfs/bin/pod-racer"
                done
                write_pod "$json"
                run_stage1
                children=$((children + 18))
                res=$(cat "$PODDIR/overlay/r/upper/racer.out" 2>/dev/null || echo "none")
                detail="$detail
pod $i (status $STATUS): $res"
                n=$(sed -E 's/.*exe_read=([0-9]+) exe_write=([0-9]+) fd=([0-9]+) cwd=([0-9]+) root=([0-9]+).*/\1+\2+\3+\4+\5/' <<<"$res")
                grep -q '^rounds=' <<<"$res" || n=0
                total=$((total + n))
                rounds=$((rounds + $(sed -nE 's/^rounds=([0-9]+).*/\1/p' <<<"$res" | grep . || echo 0)))
                seen=$((seen + $(sed -nE 's/.*stage1=([0-9]+).*/\1/p' <<<"$res" | grep . || echo 0)))
        done
        echo "# racer: $children stage1 children raced, $rounds scan rounds, $seen sightings of pod-stage1 processes, $total successes"
        tap_check "the racer ran ($rounds rounds over $children stage1 children) and saw them" \
                "$([ "$rounds" -gt 0 ] && [ "$children" -ge 50 ] && [ "$seen" -gt 0 ]; echo $?)" "$detail"
        tap_check "the racer opened nothing of stage1's processes and nothing outside its root" \
                "$([ "$total" = 0 ]; echo $?)" "$detail"
else
        tap_check "tests/helpers/pod-racer is built" 1
fi

tap_done
