#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vm-suite: yes
# pod-stage1 on its own, without stage0 and without systemd: pod dirs are built by hand as
# stage1/ABI.md describes (busybox-static rootfs, manifests written here), then
# $POD_STAGE1 runs them and we look at what the apps saw.
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


# ---- exit status -------------------------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","exit","7"]')"
run_stage1
assert_status "stage1 exits with the app's status" 7
tap_check "status/a records the app's status" "$([ "$(cat "$PODDIR/status/a" 2>/dev/null)" = 7 ]; echo $?)"
tap_check "pid file holds the init's host PID" "$(grep -Eq '^[0-9]+$' "$PODDIR/pid"; echo $?)"

new_pod a
write_pod "$(app_json a '["/bin/pod-probe","fds"]')"
run_stage1
assert_match "the app inherits only stdin, stdout, stderr (no lock fd)" "$OUT" "^0 1 2 $"

new_pod a
write_pod "$(sh_app a 'echo out; echo err >&2; exit 0')"
run_stage1
assert_status "a successful app gives status 0" 0
assert_match "app stdout reaches ours" "$OUT" "^out$"
assert_match "app stderr reaches ours" "$ERR" "^err$"

# ---- PID namespace, hostname, network, /dev, /proc, /sys --------------------------------
new_pod a
write_pod "$(sh_app a 'cat /proc/1/comm; ls /proc | grep -c \"^[0-9][0-9]*$\"; hostname; ls /sys/class/net; ls -A /dev | tr \"\\n\" \" \"; echo; readlink /dev/ptmx; echo x > /dev/null && echo nullok; cat /proc/self/status')"
run_stage1 --hostname=probe-host
assert_status "probe pod runs" 0
assert_match "PID 1 is the pod init" "$OUT" "^pod-stage1"
pids=$(sed -n 2p <<<"$OUT")
# init, the metadata service (stage1/mds.c), sh, ls and grep
tap_check "/proc shows only the pod's processes ($pids)" "$([ "$pids" -le 5 ]; echo $?)" "$OUT"
assert_match "--hostname is the pod's hostname" "$OUT" "^probe-host$"
assert_match "--net=none (default): only lo" "$(sed -n 4p <<<"$OUT")" "^lo$"
assert_match "/dev has exactly the ACE nodes" "$OUT" \
        "^fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero $"
assert_match "/dev/ptmx points at pts/ptmx" "$OUT" "^pts/ptmx$"
assert_match "/dev/null is usable" "$OUT" "^nullok$"
assert_match "default capabilities are the appc set (effective)" "$OUT" "^CapEff:[[:space:]]+00000000a80425fb$"
assert_match "default capabilities are the appc set (bounding)" "$OUT" "^CapBnd:[[:space:]]+00000000a80425fb$"
assert_match "no_new_privs is on" "$OUT" "^NoNewPrivs:[[:space:]]+1$"
assert_match "seccomp filter mode" "$OUT" "^Seccomp:[[:space:]]+2$"

new_pod a
write_pod "$(sh_app a 'hostname')"
run_stage1
assert_match "default hostname is pod-UUID" "$OUT" "^pod-$UUID$"
run_stage1 "--hostname=a b"
assert_status "an invalid --hostname is refused" 254

new_pod a
write_pod "$(sh_app a 'echo 1 > /proc/sys/kernel/domainname || echo procsys-ro; touch /sys/x || echo sys-ro; cat /proc/keys | wc -c; echo x > /proc/sysrq-trigger 2>/dev/null || echo sysrq-ro')"
run_stage1
assert_match "/proc/sys is read-only" "$OUT" "^procsys-ro$"
assert_match "/sys is read-only" "$OUT" "^sys-ro$"
assert_match "/proc/keys is masked" "$OUT" "^0$"

new_pod a
write_pod "$(sh_app a 'echo 1 > /proc/sys/kernel/domainname && echo procsys-rw')"
run_stage1 --disable-paths
assert_match "--disable-paths leaves /proc/sys writable" "$OUT" "^procsys-rw$"

new_pod a
write_pod "$(sh_app a 'ls /sys/class/net | wc -l')"
run_stage1 --net=host
hostifs=$(find /sys/class/net -mindepth 1 -maxdepth 1 | wc -l)
assert_match "--net=host shares the host's interfaces" "$OUT" "^$hostifs$"

# ---- rootfs: overlay, readOnlyRootFS, /etc ------------------------------------------------
new_pod a
write_pod "$(sh_app a 'echo changed > /etc/passwd; cat /etc/hosts')"
run_stage1
assert_status "writing into the rootfs works" 0
tap_check "writes land in the upper dir, not in the image" \
        "$(grep -q '^root:' "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/etc/passwd" && grep -q changed "$PODDIR/overlay/a/upper/etc/passwd"; echo $?)"
assert_match "/etc/hosts has localhost and the hostname" "$OUT" "^127\.0\.0\.1[[:space:]]+localhost pod-$UUID$"

new_pod a
write_pod "$(sh_app a 'touch /x && echo rw; touch /tmp/y && echo rw2; exit 0')" "" \
        && sed -i 's/"app":{/"readOnlyRootFS":true,"app":{/' "$PODDIR/pod"
run_stage1
assert_no_match "readOnlyRootFS: the root is read-only" "$OUT" "^rw"

new_pod a
write_pod "$(sh_app a 'ls /')"
run_stage1 --no-overlay
assert_status "--no-overlay runs the tree as is" 0
tap_check "--no-overlay makes no overlay dirs" "$([ ! -e "$PODDIR/overlay" ]; echo $?)"

# ---- volumes -----------------------------------------------------------------------------
HOSTVOL=$TAP_TMP/hostvol
mkdir -p "$HOSTVOL" && echo from-host >"$HOSTVOL/file"
new_pod a
write_pod "$(sh_app a 'cat /mnt/ro/file; touch /mnt/ro/new && echo ro-writable; touch /mnt/rw/new && echo rw-ok' '' \
        ',"mounts":[{"volume":"ro","path":"/mnt/ro"},{"volume":"rw","path":"/mnt/rw"}]')" \
        ",\"volumes\":[{\"name\":\"ro\",\"kind\":\"host\",\"source\":\"$HOSTVOL\",\"readOnly\":true},{\"name\":\"rw\",\"kind\":\"host\",\"source\":\"$HOSTVOL\"}]"
run_stage1
assert_match "host volume content is visible" "$OUT" "^from-host$"
assert_no_match "read-only host volume is not writable" "$OUT" "^ro-writable$"
assert_match "read-write host volume is writable" "$OUT" "^rw-ok$"
tap_check "the write reached the host" "$([ -e "$HOSTVOL/new" ]; echo $?)"

ln -s "$HOSTVOL" "$TAP_TMP/hostlink"
new_pod a
write_pod "$(sh_app a 'true' '' ',"mounts":[{"volume":"v","path":"/mnt"}]')" \
        ",\"volumes\":[{\"name\":\"v\",\"kind\":\"host\",\"source\":\"$TAP_TMP/hostlink\"}]"
run_stage1
assert_status "a symlinked host source is refused" 254
assert_match "and the error says so" "$ERR" "symlink"

# An image symlink pointing out of the rootfs must resolve inside it.
new_pod a
ln -s /../../../../../../.. "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/escape"
write_pod "$(sh_app a 'ls /escape/target-made-here' '' ',"mounts":[{"volume":"e","path":"/escape/target-made-here"}]')" \
        ',"volumes":[{"name":"e","kind":"empty"}]'
run_stage1
assert_status "a volume under an escaping image symlink stays in the rootfs" 0
tap_check "nothing was created on the host" "$([ ! -e /target-made-here ]; echo $?)"

# ---- capabilities, seccomp, users ----------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","bind","80"]')"
run_stage1
assert_match "root app can bind port 80 by default" "$OUT" "^ok$"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","grep Cap /proc/self/status; /bin/pod-probe bind 80"]' \
        ',"isolators":[{"name":"os/linux/capabilities-remove-set","value":{"set":["CAP_NET_BIND_SERVICE"]}}]')"
run_stage1
assert_match "capabilities-remove-set drops it from the bounding set" "$OUT" "^CapBnd:[[:space:]]+00000000a80421fb$"
assert_match "binding port 80 then fails with EACCES" "$OUT" "^13$"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","grep CapEff /proc/self/status"]' \
        ',"isolators":[{"name":"os/linux/capabilities-retain-set","value":{"set":["CAP_KILL"]}}]')"
run_stage1
assert_match "capabilities-retain-set keeps exactly the set" "$OUT" "^CapEff:[[:space:]]+0000000000000020$"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","/bin/pod-probe mkdir /tmp/d; /bin/pod-probe unshare-user"]' \
        ',"isolators":[{"name":"os/linux/seccomp-remove-set","value":{"set":["mkdir","mkdirat"],"errno":"EROFS"}}]')"
run_stage1
assert_match "seccomp-remove-set denies with the configured errno" "$(sed -n 1p <<<"$OUT")" "^30$"
assert_match "default denylist still applies (user namespaces: EPERM)" "$(sed -n 2p <<<"$OUT")" "^1$"

new_pod a
write_pod "$(app_json a '["/bin/pod-probe","unshare-user"]')"
run_stage1 --disable-seccomp
assert_match "--disable-seccomp: no filter" "$OUT" "^ok$"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","/bin/pod-probe mkdir /tmp/d"]' \
        ',"isolators":[{"name":"os/linux/seccomp-remove-set","value":{"set":["mkdir","mkdirat"],"errno":""}}]')"
run_stage1
assert_match "seccomp errno \"\" kills the process with SIGSYS" "$OUT" "^$"
assert_status "and the app's status says SIGSYS" $((128 + 31))

new_pod a
write_pod "$(app_json a '["/bin/pod-probe","ids"]' | sed 's/"user":"0","group":"0"/"user":"www","group":"www"/')"
run_stage1
assert_match "user and group by name from the image, member groups added" "$OUT" "^uid=33 gid=33 groups=33,1000$|^uid=33 gid=33 groups=1000$"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","grep -E \"CapEff|NoNew\" /proc/self/status"]' | sed 's/"user":"0","group":"0"/"user":"33","group":"33"/')"
run_stage1
assert_match "non-root app without retain set has no capabilities" "$OUT" "^CapEff:[[:space:]]+0000000000000000$"

new_pod a
write_pod "$(app_json a '["/bin/true"]' | sed 's/"user":"0"/"user":"nobody-here"/')"
run_stage1
assert_status "unknown user fails the pod" 254
assert_match "with a clear error" "$ERR" "user 'nobody-here' not found in the image"

new_pod a
rm "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/etc/passwd"
mkfifo "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs/etc/passwd"
write_pod "$(app_json a '["/bin/true"]' | sed 's/"user":"0"/"user":"www"/')"
run_stage1
assert_status "an image whose /etc/passwd is a FIFO fails the pod (and does not hang)" 254

new_pod a
write_pod "$(app_json a '["/bin/true"]' ',"workingDirectory":"/does/not/exist"')"
run_stage1
assert_status "missing workingDirectory fails the pod" 254
assert_match "with a clear error" "$ERR" "working directory '/does/not/exist' does not exist"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","pwd; echo $PATH; echo $AC_APP_NAME $container $FOO"]' \
        ',"workingDirectory":"/opt/work","environment":[{"name":"FOO","value":"bar"},{"name":"PATH","value":"/x"}]')"
run_stage1
assert_match "cwd is workingDirectory" "$OUT" "^/opt/work$"
assert_match "app environment overrides PATH" "$OUT" "^/x$"
assert_match "AC_APP_NAME, container, image env" "$OUT" "^a pod bar$"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","echo $PATH"]')"
run_stage1
assert_match "ACE PATH exactly" "$OUT" "^/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","cat /proc/self/oom_score_adj /proc/sys/net/ipv4/ip_forward"]' \
        ',"isolators":[{"name":"os/linux/oom-score-adj","value":500}]')" \
        ',"isolators":[{"name":"os/unix/sysctl","value":{"net.ipv4.ip_forward":"1"}}]'
# stage1 runs in a network namespace of the test's own, whose ip_forward the test sets: the
# host's may change meanwhile (a CNI bridge plugin of another pod sets it to 1).
(
        cd "$PODDIR" || exit 99
        exec 9<.
        flock -x 9
        POD_LOCK_FD=9 exec unshare --net sh -c 'echo 0 >/proc/sys/net/ipv4/ip_forward || exit 98
                timeout -k 5 60 "$1" "$2"; s=$?
                cat /proc/sys/net/ipv4/ip_forward >"$3"; exit $s' \
                sh "$POD_STAGE1" "$UUID" "$TAP_TMP/outer-forward"
) >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr" || true
OUT=$(cat "$TAP_TMP/stdout")
assert_match "os/linux/oom-score-adj is applied" "$(sed -n 1p <<<"$OUT")" "^500$"
assert_match "os/unix/sysctl sets the pod's net.* keys" "$(sed -n 2p <<<"$OUT")" "^1$"
tap_check "the value outside the pod is untouched" \
        "$([ "$(cat "$TAP_TMP/outer-forward" 2>/dev/null)" = 0 ]; echo $?)" "$(cat "$TAP_TMP/stderr")"

new_pod a
write_pod "$(app_json a '["/bin/true"]' ',"isolators":[{"name":"os/linux/apparmor-profile","value":{"profile":"x"}}]')"
run_stage1
assert_status "an isolator stage1 cannot apply is refused" 254
assert_match "with a clear error" "$ERR" "apparmor-profile' cannot be enforced"

new_pod a
write_pod "$(app_json a '["/bin/sh","-c","grep -E \"NoNewPrivs|Seccomp:\" /proc/self/status"]' \
        ',"isolators":[{"name":"os/linux/no-new-privileges","value":false}]')"
run_stage1
assert_match "no-new-privileges: false turns it off" "$OUT" "^NoNewPrivs:[[:space:]]+0$"
assert_match "and the filter is still loaded" "$OUT" "^Seccomp:[[:space:]]+2$"

# ---- event handlers ---------------------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/sh","-c","test -e /prestart && echo main-sees-prestart"]' \
        ',"eventHandlers":[{"name":"pre-start","exec":["/bin/touch","/prestart"]},{"name":"post-stop","exec":["/bin/sh","-c","test -e /prestart && echo poststop > /vol/poststop"]}]' \
        ',"mounts":[{"volume":"v","path":"/vol"}]')" ',"volumes":[{"name":"v","kind":"empty"}]'
run_stage1
assert_match "pre-start ran before main, in the same rootfs" "$OUT" "^main-sees-prestart$"
tap_check "post-stop ran after main" "$(grep -q poststop "$PODDIR/volumes/v/poststop" 2>/dev/null; echo $?)"

# ---- two apps ----------------------------------------------------------------------------
# b waits for SIGTERM; a finds b's process (shared PID namespace), notes it in the shared
# empty volume and signals it; b answers in the volume and exits 5.
new_pod a b
write_pod "$(sh_app a 'i=0; until { pidof pod-probe >/shared/a-saw-b && [ -e /shared/b-got-term.ready ]; } || [ $i -ge 300 ]; do sleep 0.1; i=$((i+1)); done; kill -TERM $(cat /shared/a-saw-b)' '' ',"mounts":[{"volume":"s","path":"/shared"}]'),$(app_json b '["/bin/pod-probe","wait-term","/shared/b-got-term","5"]' '' ',"mounts":[{"volume":"s","path":"/shared"}]')" \
        ',"volumes":[{"name":"s","kind":"empty"}]'
run_stage1
assert_status "two-app pod: status is the failing app's" 5
tap_check "app a exited 0, app b 5" "$([ "$(cat "$PODDIR/status/a" 2>/dev/null)" = 0 ] && [ "$(cat "$PODDIR/status/b" 2>/dev/null)" = 5 ]; echo $?)" "$ERR"
tap_check "app a saw app b's process" "$(grep -Eq '^[0-9]+$' "$PODDIR/volumes/s/a-saw-b" 2>/dev/null; echo $?)"
tap_check "both apps use the same empty volume" "$(grep -q TERM "$PODDIR/volumes/s/b-got-term" 2>/dev/null; echo $?)"

# ---- signals -----------------------------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/pod-probe","wait-term","/vol/term","42"]' '' ',"mounts":[{"volume":"v","path":"/vol"}]')" \
        ',"volumes":[{"name":"v","kind":"empty"}]'
(
        cd "$PODDIR"
        exec 9<.
        flock -x 9
        POD_LOCK_FD=9 exec "$POD_STAGE1" "$UUID"
) >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr" &
s1=$!
for _ in $(seq 100); do grep -q waiting "$TAP_TMP/stdout" 2>/dev/null && break; sleep 0.1; done
# perf-targets.md: a running pod's stage1 processes stay under 1 MiB resident each.
rss() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null || echo 999999; }
for _ in $(seq 50); do
        grep -q supervise "/proc/$(cat "$PODDIR/pid")/cmdline" 2>/dev/null && break
        sleep 0.1
done
s1_rss=$(rss "$s1")
init_rss=$(rss "$(cat "$PODDIR/pid")")
tap_check "supervisor resident size ${s1_rss} KiB <= 1024" "$([ "$s1_rss" -le 1024 ]; echo $?)"
tap_check "pod init resident size ${init_rss} KiB <= 1024" "$([ "$init_rss" -le 1024 ]; echo $?)"
kill -TERM "$s1"
set +e
wait "$s1"
STATUS=$?
set -e
assert_status "SIGTERM to stage1: the app's exit status comes back" 42
tap_check "the app got SIGTERM" "$(grep -q TERM "$PODDIR/volumes/v/term" 2>/dev/null; echo $?)"
tap_check "its status is recorded" "$([ "$(cat "$PODDIR/status/a" 2>/dev/null)" = 42 ]; echo $?)"
tap_check "the pod lock is released when the pod ends" "$(flock -n -x "$PODDIR" true; echo $?)"

# ---- refusals ----------------------------------------------------------------------------

new_pod a
write_pod "$(app_json a '["/bin/true"]')"
set +e
(cd "$PODDIR" && "$POD_STAGE1" "$UUID") >/dev/null 2>"$TAP_TMP/stderr"
STATUS=$?
set -e
ERR=$(cat "$TAP_TMP/stderr")
assert_status "no POD_LOCK_FD: refused" 254
assert_match "with a clear error" "$ERR" "POD_LOCK_FD"

# ---- nothing leaked ----------------------------------------------------------------------
# Every mount a pod made (rootfs, /proc, /dev, volumes) has a path under $TAP_TMP, and so
# does every source: none may be visible in the host's mount table.  (Other users of this
# machine may mount things meanwhile, so the whole table is not compared.)
leaked=$(grep -F "$TAP_TMP" /proc/self/mountinfo || true)
tap_check "no mounts leaked on the host" "$([ -z "$leaked" ]; echo $?)" "$leaked"

tap_done
