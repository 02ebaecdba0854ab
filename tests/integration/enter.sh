#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod enter and pod export on pods run by the real $POD_STAGE1 (pod dirs built by hand as
# stage1/ABI.md says, then moved under --dir's pods/run/, where stage0 would put them).
# App scripts are JSON strings in single quotes: $ is for the app's shell, not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
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

D=$TAP_TMP/data
mkdir -p "$D/pods"/{embryo,prepare,prepared,run,exited-garbage,garbage}
pod() { run_pod --dir="$D" "$@"; }

# start_pod UUID: moves $PODDIR to pods/run/UUID and runs stage1 there in the background
# (holding the lock as stage0 would).  Callers wait for the apps' own "ready" marks.
S1_PIDS=()
start_pod() {
        local u=$1 dir=$D/pods/run/$1
        mv "$PODDIR" "$dir"
        PODDIR=$dir
        (
                cd "$dir"
                exec 9<.
                flock -x 9
                POD_LOCK_FD=9 exec "$POD_STAGE1" "$u"
        ) >"$TAP_TMP/s1-$u.out" 2>"$TAP_TMP/s1-$u.err" &
        S1_PIDS+=("$!")
}
wait_ready() { # wait_ready APP: until the app has written /marker-APP
        for _ in $(seq 200); do
                [ -e "$PODDIR/overlay/$1/upper/marker-$1" ] && return 0
                sleep 0.05
        done
        echo "# pod did not start:" && sed 's/^/#   /' "$TAP_TMP"/s1-*.err
}
cleanup() {
        local p
        for p in "${S1_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
        for p in "${S1_PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

E1=e0000001-0000-4000-8000-000000000001
E2=e0000002-0000-4000-8000-000000000002
X1=e0000003-0000-4000-8000-000000000003
X2=e0000004-0000-4000-8000-000000000004

# ---- enter: one app with a user, a seccomp isolator and an environment -------------------
# The app marks its rootfs once it runs.
new_pod a
write_pod "$(app_json a '["/bin/sh","-c","touch /marker-a; exec sleep 1000"]' \
        ',"environment":[{"name":"FOO","value":"bar baz"}],"isolators":[{"name":"os/linux/seccomp-remove-set","value":{"set":["mkdir","mkdirat"],"errno":"EROFS"}}]' \
        ',"mounts":[{"volume":"v","path":"/vol"}]')" ',"volumes":[{"name":"v","kind":"empty"}]'
sed -i 's/"user":"0","group":"0"/"user":"www","group":"www","supplementaryGIDs":[1001]/' "$PODDIR/pod"
chmod 1777 "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs"
start_pod "$E1"
wait_ready a
INIT=$(cat "$PODDIR/pid")
# The app is the init's child that runs sleep (the init's other child is the pod's metadata
# service).
APP=""
for c in $(cat "/proc/$INIT/task/$INIT/children" 2>/dev/null) $(pgrep -P "$INIT"); do
        [ "$(cat "/proc/$c/comm" 2>/dev/null)" = sleep ] && APP=$c && break
done

pod enter "$E1" /bin/sh -c 'cat /proc/self/status; echo "foo=$FOO"; echo "app=$AC_APP_NAME"; hostname; cat /proc/1/comm; ls -d /marker-a; pwd'
assert_status "enter runs a command in a running pod" 0
ST=$(cat "/proc/$APP/status")
for k in Uid Gid Groups CapInh CapPrm CapEff CapBnd CapAmb NoNewPrivs Seccomp; do
        want=$(grep "^$k:" <<<"$ST" | tr -s ' \t' ' ')
        got=$(grep "^$k:" <<<"$OUT" | tr -s ' \t' ' ')
        tap_check "enter: $k as the app's ($want)" "$([ -n "$want" ] && [ "$want" = "$got" ]; echo $?)" "got: $got"
done
assert_match "enter: runs as uid 33 (www)" "$OUT" "^Uid:[[:space:]]+33[[:space:]]+33"
assert_match "enter: the app's environment" "$OUT" "^foo=bar baz$"
assert_match "enter: AC_APP_NAME from the app" "$OUT" "^app=a$"
assert_match "enter: the pod's hostname (UTS namespace)" "$OUT" "^pod-$E1$"
assert_match "enter: PID 1 is the pod init (PID namespace)" "$OUT" "^pod-stage1(-supe)?$"
assert_match "enter: the app's root (mount namespace)" "$OUT" "^/marker-a$"
assert_match "enter: cwd is /" "$OUT" "^/$"
pod enter "$E1" /bin/sh -c 'readlink /proc/self/ns/net; readlink /proc/self/ns/ipc'
assert_match "enter: the init's network namespace" "$OUT" "^$(readlink "/proc/$INIT/ns/net" | sed 's/[][]/[&]/g')$"
assert_match "enter: the init's IPC namespace" "$OUT" "^$(readlink "/proc/$INIT/ns/ipc" | sed 's/[][]/[&]/g')$"

pod enter "$E1" /bin/pod-probe mkdir /tmp/entered
assert_match "enter: the app's seccomp filter (mkdir fails with EROFS = 30)" "$OUT" "^30$"
pod enter "$E1" /bin/pod-probe unshare-user
assert_match "enter: the default denylist too (user namespaces: EPERM)" "$OUT" "^1$"

pod enter "$E1" /bin/sh -c 'exit 7'
assert_status "enter: exits with the command's status" 7
pod enter "$E1" /bin/sh -c 'kill -TERM $$'
assert_status "enter: a command killed by SIGTERM gives 143" 143
pod enter "$E1" /no/such/command
assert_status "enter: a missing command is pod's failure" 254
assert_match "enter: and says so" "$ERR" "Failed to execute '/no/such/command'"

# Nothing the caller left open reaches the command; pod-stage1 enter runs from a sealed
# memfd copy (seen from the host: /proc/PID/exe of pod enter, which became it).
pod enter "$E1" /bin/pod-probe fds 7>"$TAP_TMP/leak"
assert_match "enter: the command has fds 0, 1, 2 only (an fd 7 of the caller is closed)" \
        "$OUT" "^0 1 2 $"
"$POD" --dir="$D" enter "$E1" /bin/sleep 3 >/dev/null 2>&1 &
ENTER_PID=$!
EXE=
for _ in $(seq 50); do
        EXE=$(readlink "/proc/$ENTER_PID/exe" || true)
        [[ $EXE == /memfd:* ]] && break
        sleep 0.05
done
tap_check "enter: pod-stage1 enter runs from a memfd" "$([[ $EXE == /memfd:pod-stage1* ]]; echo $?)" "$EXE"
wait "$ENTER_PID" || true

set +e
OUT=$(echo 'echo "shell:$AC_APP_NAME"' | "$POD" --dir="$D" enter "$E1" 2>&1)
set -e
assert_match "enter: default command /bin/sh reads stdin" "$OUT" "^shell:a$"
printf %s "$E1" >"$TAP_TMP/uuid"
pod enter --uuid-file="$TAP_TMP/uuid" /bin/true
assert_status "enter: --uuid-file" 0
pod enter "${E1:0:8}" -- /bin/sh -c 'echo prefix-ok'
assert_match "enter: UUID prefix and -- before the command" "$OUT" "^prefix-ok$"

if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then
        pod enter "$E1" cat /proc/self/cgroup
        assert_match "enter: the pod init's cgroup (v2)" "$OUT" "^$(sed 's/[.]/[.]/g' "/proc/$INIT/cgroup")$"
fi

# ---- enter: several apps -------------------------------------------------------------------
new_pod a b
write_pod "$(sh_app a 'touch /marker-a; exec sleep 1000'),$(sh_app b 'touch /marker-b; exec sleep 1000')"
start_pod "$E2"
wait_ready a
wait_ready b
pod enter "$E2" /bin/true
assert_status "enter: a pod with several apps needs --app" 254
assert_match "enter: the error lists the apps" "$ERR" "--app=NAME: 'a', 'b'"
pod enter --app=b "$E2" ls /
assert_match "enter --app=b: b's root" "$OUT" "^marker-b$"
assert_no_match "enter --app=b: not a's root" "$OUT" "^marker-a$"
pod enter --app=a "$E2" ls /
assert_match "enter --app=a: a's root" "$OUT" "^marker-a$"
pod enter --app=c "$E2" /bin/true
assert_match "enter: an unknown app is refused with the list" "$ERR" "no app 'c'; its apps: 'a', 'b'"

# ---- enter: a hostile app races every enter for a host handle ------------------------------
# The racer (root, default capabilities) opens /proc/PID/fd/N, exe (read and write), cwd and
# root of every process that appears in the pod; a win is a host object (tests/helpers/
# pod-enter-racer.c).  HOST-SECRET next to the pods dir shows whether a win reaches the host.
E3=e0000005-0000-4000-8000-000000000005
RACER=${top_builddir:-.}/tests/helpers/pod-enter-racer
echo secret >"$D/HOST-SECRET"
new_pod racer
cp "$RACER" "$PODDIR/stage1/rootfs/opt/stage2/racer/rootfs/bin/pod-enter-racer"
write_pod "$(app_json racer '["/bin/pod-enter-racer","/marker-racer","/tmp/racer.out"]')"
start_pod "$E3"
wait_ready racer
ENTER_FAILS=0
for _ in $(seq 60); do
        "$POD" --dir="$D" enter "$E3" /bin/true >/dev/null 2>&1 || ENTER_FAILS=$((ENTER_FAILS + 1))
done
tap_check "enter: 60 enters of the raced pod succeed" "$ENTER_FAILS" "$ENTER_FAILS failed"
sleep 1
RACE=$(cat "$PODDIR/overlay/racer/upper/tmp/racer.out" 2>/dev/null || echo "no report")
echo "# racer: $(head -n1 <<<"$RACE")"
assert_match "enter: the racer saw the entered processes" "$RACE" "^tries=[1-9][0-9]* "
assert_match "enter: the racer got no host handle" "$RACE" "^tries=[0-9]+ wins=0 escapes=0$"

# ---- enter: an app posing as another (AC_APP_NAME in its own environment) -----------------
# b is forked first and execs with AC_APP_NAME=a: enter --app=a must still land in a.
E4=e0000006-0000-4000-8000-000000000006
new_pod b a
write_pod "$(sh_app b 'touch /marker-b; exec env AC_APP_NAME=a sleep 1000'),$(sh_app a 'touch /marker-a; exec sleep 1000')"
start_pod "$E4"
wait_ready a
wait_ready b
sleep 0.5
pod enter --app=a "$E4" ls /
assert_status "enter --app=a next to an impostor" 0
assert_match "enter --app=a: a's root, not the impostor's" "$OUT" "^marker-a$"
assert_no_match "enter --app=a: not b's root" "$OUT" "^marker-b$"
pod enter --app=b "$E4" ls /
assert_match "enter --app=b: b's root" "$OUT" "^marker-b$"

# ---- enter: pods that do not run -----------------------------------------------------------
new_pod a
write_pod "$(sh_app a 'echo hello >/new-file; rm /bin/pod-probe; mkdir -p /etc/extra; echo x >/etc/extra/f; exit 0')"
mv "$PODDIR" "$D/pods/run/$X1"
PODDIR=$D/pods/run/$X1
run_stage1
assert_status "a pod to export ran" 0
pod enter "$X1" /bin/true
assert_status "enter: an exited pod is refused" 254
assert_match "enter: saying it is not running" "$ERR" "is not running \(exited\)"

# ---- export --------------------------------------------------------------------------------
OUTACI=$TAP_TMP/out.aci
pod export "$X1" "$OUTACI"
assert_status "export: an exited pod" 0
assert_match "export: prints the new image ID" "$OUT" "^sha512-[0-9a-f]{128}$"
pod image validate "$OUTACI"
assert_status "export: the result is a valid ACI" 0
LIST=$(tar -tzf "$OUTACI" 2>&1 || true)
assert_match "export: the app's new file is in it" "$LIST" "^rootfs/new-file$"
assert_match "export: a new directory too" "$LIST" "^rootfs/etc/extra/f$"
assert_no_match "export: a file the app deleted is not (whiteout honoured)" "$LIST" "^rootfs/bin/pod-probe$"
assert_no_match "export: no whiteout device leaks" "$(tar -tvzf "$OUTACI")" "^c"
assert_match "export: the image's files are in it" "$LIST" "^rootfs/bin/busybox$"
tap_check "export: the new file's content" \
        "$([ "$(tar -xzOf "$OUTACI" rootfs/new-file)" = hello ]; echo $?)"
tap_check "export: the manifest is the app's image manifest" \
        "$(tar -xzOf "$OUTACI" manifest | grep -q '"name":"example.com/a"'; echo $?)"
tap_check "export: the pod's upper dir is untouched" \
        "$([ -e "$PODDIR/overlay/a/upper/new-file" ]; echo $?)"
# issue 13 bug 2: the /etc/hosts stage1 generated (the image has none) is not the app's.
tap_check "export: the pod had a generated /etc/hosts" \
        "$([ -e "$PODDIR/overlay/a/upper/etc/hosts" ] && [ -e "$PODDIR/appsinfo/a/generated-hosts" ]; echo $?)"
assert_no_match "export: ... which the image does not get" "$LIST" "^rootfs/etc/hosts$"
pod export "$X1" "$OUTACI"
assert_status "export: refuses to overwrite" 254
assert_match "export: says how" "$ERR" "--overwrite"
pod export --overwrite "$X1" "$OUTACI"
assert_status "export --overwrite" 0
pod export "$E1" "$TAP_TMP/running.aci"
assert_status "export: a running pod is refused" 254
assert_match "export: saying it runs" "$ERR" "is running"
tap_check "export: nothing written for a running pod" "$([ ! -e "$TAP_TMP/running.aci" ]; echo $?)"

new_pod a b
write_pod "$(sh_app a 'exit 0'),$(sh_app b 'echo 192.0.2.1 changed-by-b >>/etc/hosts; exit 0')"
mv "$PODDIR" "$D/pods/run/$X2"
PODDIR=$D/pods/run/$X2
run_stage1
TMPDIR=$TAP_TMP pod export "$X2" "$TAP_TMP/multi.aci"
assert_status "export: a multi-app pod without --app is refused" 254
assert_match "export: saying how" "$ERR" "2 apps; name the one to export with --app=NAME"
TMPDIR=$TAP_TMP pod export --app=nope "$X2" "$TAP_TMP/multi.aci"
assert_status "export --app=NAME of no app" 254
assert_match "export: naming it" "$ERR" "no app 'nope'"
TMPDIR=$TAP_TMP pod export --app=b "$X2" "$TAP_TMP/multi-b.aci"
assert_status "export --app=b (rkt's flag)" 0
tap_check "export --app=b: an /etc/hosts the app changed is the app's, exported" \
        "$(tar -xzOf "$TAP_TMP/multi-b.aci" rootfs/etc/hosts 2>/dev/null | grep -q changed-by-b; echo $?)"
TMPDIR=$TAP_TMP pod export --app=a "$X2" "$TAP_TMP/multi-a.aci"
assert_status "export --app=a" 0
assert_no_match "export --app=a: its generated /etc/hosts is left out" \
        "$(tar -tzf "$TAP_TMP/multi-a.aci")" "^rootfs/etc/hosts$"
tap_check "export: no scratch dir left behind" \
        "$(find "$TAP_TMP" -maxdepth 1 -name 'pod-export-*' | grep -q .; [ $? = 1 ]; echo $?)"
# Our own TMPDIR: another test's export elsewhere on the host must not count.
tap_check "export: no mount left behind" \
        "$(grep -qF "$TAP_TMP/pod-export" /proc/self/mountinfo; [ $? = 1 ]; echo $?)"

# ---- the running pods still run; stop them -------------------------------------------------
pod status "$E1"
assert_match "entered pod still running" "$OUT" "^state=running$"
tap_done
