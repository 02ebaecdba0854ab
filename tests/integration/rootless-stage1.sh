#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod-stage1 in rootless mode (stage1/ABI.md "Rootless"), without stage0: a throwaway user
# with a subordinate ID range runs $POD_STAGE1 as root of a user namespace made by
# `unshare --user --map-root-user --map-auto` (newuidmap), on pod dirs built by hand
# (tests/helpers/pod-dir.sh) and handed to that user.  Run as root on the host; installs
# nothing (skips without uidmap, busybox-static; the network checks skip without passt or
# slirp4netns, or when /dev/net/tun is not open to users).
# App scripts are JSON strings in single quotes: $ is for the app's shell, not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (creates a throwaway user)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
[ -x "$PROBE" ] || tap_skip_all "tests/helpers/pod-probe not built"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
if ! command -v newuidmap >/dev/null || ! command -v newgidmap >/dev/null; then
        tap_skip_all "needs newuidmap/newgidmap (apt-get install uidmap)"
fi
command -v useradd >/dev/null || tap_skip_all "needs useradd"
unshare --help 2>&1 | grep -q -- --map-auto || tap_skip_all "unshare lacks --map-auto"
grep -qw overlay /proc/filesystems || tap_skip_all "no overlayfs"

# The throwaway user and its range (useradd may have given it one already; else one past
# every range in the files).  Removed at exit with everything it owns.
RL_USER=podrl$$
cleanup_user() {
        pkill -KILL -u "$RL_USER" 2>/dev/null || true
        userdel -r "$RL_USER" >/dev/null 2>&1 || true
        sed -i "/^$RL_USER:/d" /etc/subuid /etc/subgid 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup_user EXIT
useradd -m -s /bin/sh "$RL_USER" >/dev/null 2>&1 || tap_skip_all "useradd failed"
RL_UID=$(id -u "$RL_USER")
RL_GID=$(id -g "$RL_USER")
if ! grep -q "^$RL_USER:" /etc/subuid 2>/dev/null; then
        start=$(awk -F: 'BEGIN { m = 200000 } { if ($2 + $3 > m) m = $2 + $3 } END { print m }' \
                /etc/subuid /etc/subgid 2>/dev/null)
        echo "$RL_USER:$start:65536" >>/etc/subuid
        echo "$RL_USER:$start:65536" >>/etc/subgid
fi
SUB_START=$(awk -F: -v u="$RL_USER" '$1 == u { print $2; exit }' /etc/subuid)
runuser -u "$RL_USER" -- unshare --user --map-root-user --map-auto true 2>/dev/null ||
        tap_skip_all "the user cannot make a user namespace with its range here"
runuser -u "$RL_USER" -- test -x "$POD_STAGE1" ||
        tap_skip_all "$POD_STAGE1 cannot be executed by an unprivileged user (a build below a 0700 directory?)"

# The pod dirs live in a directory of the user's (the TAP dir is root's 0700).
chmod 755 "$TAP_TMP"
# shellcheck source=tests/helpers/pod-dir.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/pod-dir.sh"
chmod 1777 "$TEMPLATE/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/tmp:/bin/sh\n' >"$TEMPLATE/etc/passwd"
printf 'root:x:0:\nuser:x:1000:\n' >"$TEMPLATE/etc/group"

# run_rootless [stage1 options]: the pod in $PODDIR, as the user, in its user namespace,
# holding the pod's lock as stage0 does; sets $STATUS, $OUT, $ERR.
run_rootless() {
        chown -R "$RL_USER:" "$PODDIR"
        set +e
        runuser -u "$RL_USER" -- env POD_ROOTLESS_UID="$RL_UID" POD_ROOTLESS_GID="$RL_GID" \
                XDG_RUNTIME_DIR="${RL_RUNTIME:-/nonexistent}" POD_STAGE1="$POD_STAGE1" UUID="$UUID" \
                PODDIR="$PODDIR" unshare --user --map-root-user --map-auto \
                bash -c 'cd "$PODDIR" && exec 9<. && flock -x 9 &&
                         POD_LOCK_FD=9 exec timeout -k 5 60 "$POD_STAGE1" "$@" "$UUID"' \
                rootless "$@" >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr"
        STATUS=$?
        set -e
        OUT=$(cat "$TAP_TMP/stdout")
        ERR=$(cat "$TAP_TMP/stderr")
}

# ---- the app's namespaces, /dev, IDs -----------------------------------------------------
new_pod a
write_pod "$(sh_app a 'cat /proc/1/comm; ls /proc | grep -c \"^[0-9][0-9]*$\"; hostname; ls /sys/class/net; echo x > /dev/null && head -c 4 /dev/zero | wc -c && echo devok; id -u')"
run_rootless --hostname=rl-host
assert_status "a rootless pod runs" 0
assert_match "PID 1 is the pod init" "$OUT" "^pod-stage1"
pids=$(sed -n 2p <<<"$OUT")
tap_check "/proc shows only the pod's processes ($pids)" "$([ "${pids:-99}" -le 5 ]; echo $?)" "$OUT"
assert_match "the pod has its own hostname" "$OUT" "^rl-host$"
assert_match "--net=none: only lo" "$(sed -n 4p <<<"$OUT")" "^lo$"
assert_match "/dev/null and /dev/zero work" "$OUT" "^devok$"
assert_match "the app is root of the pod" "$OUT" "^0$"

new_pod a
write_pod "$(sh_app a 'touch /tmp/mine; id -u' ',"user":"1000","group":"1000"')"
run_rootless
assert_status "an app running as uid 1000 runs" 0
assert_match "it is uid 1000 inside" "$OUT" "^1000$"
owner=$(stat -c %u:%g "$PODDIR"/overlay/a/upper/tmp/mine 2>/dev/null || echo none)
tap_check "its file is owned by the range's ID on the host ($owner)" \
        "$([ "$owner" = "$((SUB_START + 999)):$((SUB_START + 999))" ]; echo $?)" "$OUT $ERR"

new_pod a
write_pod "$(sh_app a 'mknod /tmp/mem c 1 1 2>&1 && echo mknod-made; cat /tmp/mem >/dev/null 2>&1 && echo mem-read; true')"
run_rootless --disable-capabilities-restriction --disable-seccomp
assert_no_match "no device node of the host can be made and read" "$OUT" "mem-read"

# ---- enter: as the plain user, into the pod's user namespace first ------------------------
new_pod a
write_pod "$(sh_app a 'sleep 8')"
run_rootless --hostname=rl-enter &
pod_job=$!
for _ in $(seq 50); do [ -s "$PODDIR/pid" ] && break; sleep 0.1; done
sleep 1
set +e
ENTER_OUT=$(runuser -u "$RL_USER" -- env -C "$PODDIR" "$POD_STAGE1" enter "$UUID" -- \
        /bin/sh -c 'id -u; hostname' 2>&1)
ENTER_STATUS=$?
set -e
wait "$pod_job" || true
tap_check "enter runs a command in the rootless pod as the user" "$ENTER_STATUS" "$ENTER_OUT"
assert_match "... as the pod's root" "$ENTER_OUT" "^0$"
assert_match "... in the pod's UTS namespace" "$ENTER_OUT" "^rl-enter$"

# ---- overlay: OCI opaque markers are user.overlay.opaque (userxattr) ----------------------
# Two lowers as stage0 lists them (top first), each in a tree dir owned by the pod's root
# (the user): the top one has /data marked opaque, the lower one a file in /data.
new_pod a
LOWERS=$PODDIR/store
for l in top bottom; do
        mkdir -p "$LOWERS/$l/rootfs"
        cp -a "$TEMPLATE/." "$LOWERS/$l/rootfs/"
done
mkdir -p "$LOWERS/top/rootfs/data" "$LOWERS/bottom/rootfs/data"
echo hidden >"$LOWERS/bottom/rootfs/data/lower-file"
echo shown >"$LOWERS/top/rootfs/data/top-file"
python3 -c 'import os, sys; os.setxattr(sys.argv[1], "user.overlay.opaque", b"y")' \
        "$LOWERS/top/rootfs/data"
printf '%s\n' "$LOWERS/top/rootfs" "$LOWERS/bottom/rootfs" >"$PODDIR/stage1/rootfs/opt/stage2/a/lowers"
rm -rf "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs" && mkdir "$PODDIR/stage1/rootfs/opt/stage2/a/rootfs"
write_pod "$(sh_app a 'ls /data')"
run_rootless
assert_status "a pod over two lowers runs" 0
assert_match "the top lower's file is there" "$OUT" "^top-file$"
assert_no_match "the opaque dir hides the lower's contents" "$OUT" "lower-file"

# ---- --net=default: pasta or slirp4netns ------------------------------------------------
# A free TCP port on the host's loopback.
free_port() {
        python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
net_helpers=()
command -v pasta >/dev/null && net_helpers+=(pasta)
command -v slirp4netns >/dev/null && net_helpers+=(slirp4netns)
if [ "${#net_helpers[@]}" = 0 ]; then
        echo "# --net=default checks skipped: neither pasta (passt) nor slirp4netns is installed"
elif ! runuser -u "$RL_USER" -- sh -c 'exec 3<>/dev/net/tun' 2>/dev/null; then
        echo "# --net=default checks skipped: /dev/net/tun is not open to users here ($(stat -c %a /dev/net/tun 2>/dev/null))"
else
        mkdir -p "$TAP_TMP/www"
        echo host-says-hi >"$TAP_TMP/www/hello"
        HTTP_PORT=$(free_port)
        python3 -m http.server --bind 127.0.0.1 --directory "$TAP_TMP/www" "$HTTP_PORT" \
                >/dev/null 2>&1 &
        http_pid=$!
        for helper in "${net_helpers[@]}"; do
                export POD_NET_USER_HELPER=$helper
                new_pod a
                write_pod "$(sh_app a "printf 'GET /hello HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc 10.0.2.2 $HTTP_PORT; ip -4 addr show eth0")"
                run_rootless --net=default
                assert_status "$helper: a pod with --net=default runs" 0
                assert_match "$helper: it reaches a server on the host" "$OUT" "^host-says-hi$"
                assert_match "$helper: its eth0 has 10.0.2.100" "$OUT" "inet 10\.0\.2\.100/24"
                assert_match "$helper: net-info.json records the pod's IP and gateway" \
                        "$(tr -d ' \n' <"$PODDIR/net-info.json" 2>/dev/null)" \
                        '"ip":"10.0.2.100".*"hostIP":"10.0.2.2"'
                # (Zombies aside: PID 1 reaps what an earlier check killed in its own time.)
                left=$(ps -u "$RL_UID" -o stat=,pid=,args= 2>/dev/null | awk '$1 !~ /^Z/' || true)
                tap_check "$helper: no process of the user is left after the pod" \
                        "$([ -z "$left" ]; echo $?)" "$left"

                # --port: a host port reaches the app's port (and only while the pod runs).
                HOST_PORT=$(free_port)
                new_pod a
                write_pod "$(sh_app a 'echo pong | nc -l -p 8080; sleep 1' \
                        ',"ports":[{"name":"echo","protocol":"tcp","port":8080}]')"
                run_rootless --net=default --port=echo:"$HOST_PORT" &
                pod_job=$!
                got=
                for _ in $(seq 100); do
                        got=$(python3 -c 'import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2)
print(s.recv(64).decode().strip())' "$HOST_PORT" 2>/dev/null || true)
                        [ "$got" = pong ] && break
                        sleep 0.2
                done
                wait "$pod_job" || true
                tap_check "$helper: --port forwards a host port to the app ($got)" \
                        "$([ "$got" = pong ]; echo $?)" "$(cat "$TAP_TMP/stderr")"

                # The helper dies with the pod's host side, even when that is SIGKILLed.
                new_pod a
                write_pod "$(sh_app a 'sleep 20')"
                run_rootless --net=default &
                pod_job=$!
                for _ in $(seq 100); do [ -s "$PODDIR/net-user" ] && [ -s "$PODDIR/pid" ] && break; sleep 0.1; done
                helper_pid=$(cut -d' ' -f1 "$PODDIR/net-user" 2>/dev/null || echo 0)
                host_side=$(ps -o ppid= -p "$(cat "$PODDIR/pid" 2>/dev/null || echo 0)" 2>/dev/null | tr -d ' ')
                [ -n "$host_side" ] && kill -KILL "$host_side"
                wait "$pod_job" || true
                # Gone, or a zombie waiting for whoever inherited it.
                alive() { [ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null || echo Z)" != Z ]; }
                for _ in $(seq 50); do alive "$helper_pid" || break; sleep 0.1; done
                tap_check "$helper: the helper ($helper_pid) dies with a killed stage1 ($host_side)" \
                        "$([ "$helper_pid" != 0 ] && [ -n "$host_side" ] && ! alive "$helper_pid"; echo $?)"
                pkill -KILL -u "$RL_USER" 2>/dev/null || true
                unset POD_NET_USER_HELPER
        done
        kill "$http_pid" 2>/dev/null || true
fi

# --net=host: the host's network namespace, whose sysfs a user namespace cannot mount: the
# host's /sys, read-only.
new_pod a
write_pod "$(sh_app a 'ls /sys/class/net | tr \"\\n\" \" \"; echo; touch /sys/x 2>/dev/null || echo sys-ro')"
run_rootless --net=host
assert_status "--net=host runs" 0
host_ifaces=$(cd /sys/class/net && printf '%s ' *)
assert_match "... in the host's network namespace" "$OUT" "$host_ifaces"
assert_match "... with /sys read-only" "$OUT" "^sys-ro$"

new_pod a
write_pod "$(app_json a '["/bin/true"]')"
run_rootless --net=none --port=echo:8080
assert_status "--port without --net=default is refused" 254

# ---- refused clearly ---------------------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/true"]')"
run_rootless --net=mynet
assert_status "a named CNI network is refused" 254
assert_match "... saying why" "$ERR" "CNI networks need root; rootless pods get --net=default"

new_pod a
write_pod "$(app_json a '["/bin/true"]')"
run_rootless --private-users=100000:65536
assert_status "--private-users is refused" 254
assert_match "... saying why" "$ERR" "--private-users is not supported in a rootless pod"

new_pod a
write_pod "$(app_json a '["/bin/true"]')" \
        ',"isolators":[{"name":"resource/memory","value":{"limit":"64M"}}]'
run_rootless
assert_status "a limit without a user manager is refused" 254
assert_match "... saying why" "$ERR" "need the user's systemd manager.*cgroupfs limits need root"

# A user bus with no systemd behind it is no manager either.
if command -v dbus-daemon >/dev/null; then
        RL_RUNTIME=$TAP_TMP/run
        mkdir -m 700 "$RL_RUNTIME" && chown "$RL_USER:" "$RL_RUNTIME"
        runuser -u "$RL_USER" -- dbus-daemon --session --nofork --nopidfile \
                --address="unix:path=$RL_RUNTIME/bus" >/dev/null 2>&1 &
        dbus_pid=$!
        for _ in $(seq 50); do [ -S "$RL_RUNTIME/bus" ] && break; sleep 0.1; done
        run_rootless
        assert_status "... also with a user bus but no manager on it" 254
        assert_match "... saying why" "$ERR" "none is reachable on the user bus"
        new_pod a
        write_pod "$(sh_app a 'echo hi')"
        run_rootless
        assert_status "a pod without limits runs without a user manager" 0
        tap_check "... and has no unit" "$([ ! -e "$PODDIR/unit" ]; echo $?)"

        # A manager on that bus (tests/helpers/pod-fake-manager: StartTransientUnit only;
        # the real user manager is the VM tests'): the pod's scope goes there.
        FAKE_MANAGER=${top_builddir:-.}/tests/helpers/pod-fake-manager
        if [ -x "$FAKE_MANAGER" ]; then
                runuser -u "$RL_USER" -- "$FAKE_MANAGER" "unix:path=$RL_RUNTIME/bus" \
                        >"$TAP_TMP/manager.out" 2>&1 &
                manager_pid=$!
                for _ in $(seq 50); do grep -qs ready "$TAP_TMP/manager.out" && break; sleep 0.1; done
                new_pod a
                write_pod "$(sh_app a 'echo hi')"
                run_rootless
                assert_status "with a user manager, a rootless pod runs" 0
                MGR=$(cat "$TAP_TMP/manager.out")
                assert_match "... in pod-<uuid>.scope" "$MGR" "^unit pod-$UUID.scope fail$"
                assert_match "... in the user's app.slice" "$MGR" "^prop Slice app.slice$"
                assert_match "... delegated" "$MGR" "^prop Delegate yes$"
                assert_match "... holding stage1" "$MGR" "^prop PIDs [0-9]+$"
                assert_no_match "... with no device properties" "$MGR" "DevicePolicy|DeviceAllow"
                tap_check "... recorded in the pod dir's 'unit'" \
                        "$([ "$(cat "$PODDIR/unit" 2>/dev/null)" = "pod-$UUID.scope" ]; echo $?)"

                # Limits: only where the scope's cgroup has the controller (this fake manager
                # makes no cgroup, so stage1 finds its own, which has none delegated).
                new_pod a
                write_pod "$(app_json a '["/bin/true"]')" \
                        ',"isolators":[{"name":"resource/memory","value":{"limit":"64M"}}]'
                run_rootless
                assert_status "a limit the user's cgroup does not delegate is refused" 254
                assert_match "... naming the controller (or cgroup v1)" "$ERR" \
                        "'memory' controller, which the user's systemd manager does not delegate|need the unified cgroup hierarchy"
                assert_match "... after the request for the scope's MemoryMax" \
                        "$(cat "$TAP_TMP/manager.out")" "^prop MemoryMax 64000000$"
                kill "$manager_pid" 2>/dev/null || true
                wait "$manager_pid" 2>/dev/null || true
        fi
        kill "$dbus_pid" 2>/dev/null || true
        wait "$dbus_pid" 2>/dev/null || true
        RL_RUNTIME=
fi

# Host root with POD_ROOTLESS_UID in its environment stays root (the device program).
new_pod a
write_pod "$(sh_app a 'echo hi')"
(cd "$PODDIR" && exec 9<. && flock -x 9 && POD_ROOTLESS_UID=12345 POD_LOCK_FD=9 \
        timeout -k 5 60 "$POD_STAGE1" --debug "$UUID") >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr" || true
assert_no_match "host root ignores POD_ROOTLESS_UID" "$(cat "$TAP_TMP/stderr")" "Rootless pod"

tap_done
