#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck disable=SC2016 # the apps' shell scripts expand inside the pod
# pod-stage1's side of sd_notify and socket activation, with tests/helpers/sd-harness.py
# playing the service manager (no systemd needed), and per-app resource limits refused
# where they cannot be enforced.  The real systemd side is tests/vm/test-notify-systemd.sh.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
PROBE=${top_builddir:-.}/tests/helpers/pod-probe
SD=${top_builddir:-.}/tests/helpers/pod-sd
HARNESS=${top_srcdir:-.}/tests/helpers/sd-harness.py
{ [ -x "$PROBE" ] && [ -x "$SD" ]; } || tap_skip_all "tests/helpers/pod-probe or pod-sd not built"
command -v python3 >/dev/null || tap_skip_all "needs python3"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
if [ -d /run/systemd/system ]; then
        # stage1 would register scopes; the VM test covers that side.
        tap_skip_all "systemd is running: see tests/vm/test-notify-systemd.sh"
fi

# shellcheck source=tests/helpers/pod-dir.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/pod-dir.sh"
cp "$SD" "$TEMPLATE/bin/pod-sd"
export TMPDIR=$TAP_TMP

# notify_image APP...: the apps' images say they speak sd_notify.
notify_image() {
        local app
        for app in "$@"; do
                sed -i 's|"labels"|"annotations":[{"name":"appc.io/executor/supports-systemd-notify","value":"true"}],"labels"|' \
                        "$PODDIR/appsinfo/$app/manifest"
        done
}

harness() { # harness MODE ARGS...: output in $H
        H=$(timeout -k 5 120 python3 "$HARNESS" "$1" "$POD_STAGE1" "$UUID" "$PODDIR" "${@:2}" 2>&1) || true
}

# ---- sd_notify: apps that speak it -----------------------------------------------------
new_pod a
notify_image a
write_pod "$(sh_app a 'echo env=$NOTIFY_SOCKET; test -S /run/systemd/notify && echo socket; pod-sd notify STATUS=warming-up; sleep 1; pod-sd notify READY=1 STATUS=serving MAINPID=1; sleep 1; pod-sd notify STATUS=late')"
harness notify
assert_match "the pod ran" "$H" "^exit 0$"
assert_match "the app's READY=1 reaches the manager" "$H" "^stage1 READY=1$"
order=$(grep -E '^stage1 (STATUS=warming-up|READY=1)$' <<<"$H" | tr '\n' ' ')
assert_match "READY=1 only after the app said so" "$order" "^stage1 STATUS=warming-up stage1 READY=1 $"
assert_match "STATUS= is forwarded, also after READY" "$H" "^stage1 STATUS=late$"
assert_no_match "MAINPID from the app is dropped (stage1 stays the main process)" "$H" "MAINPID"
assert_no_match "every message comes from stage1 itself" "$H" "^other "
tap_check "the socket lives in the pod dir as notify/a" "$([ -S "$PODDIR/notify/a" ]; echo $?)"

# The app's own view: env and socket, printed to stdout (the harness passes stdout on).
new_pod a
notify_image a
write_pod "$(sh_app a 'echo env=$NOTIFY_SOCKET; test -S /run/systemd/notify && echo socket-present; pod-sd notify READY=1')"
harness notify
assert_match "NOTIFY_SOCKET=/run/systemd/notify in the app" "$H" "env=/run/systemd/notify"
assert_match "the socket is mounted there" "$H" "socket-present"
assert_match "the app could send" "$H" "^sent$"

# ---- sd_notify: one app never signals --------------------------------------------------
new_pod a b
notify_image a b
write_pod "$(sh_app a 'pod-sd notify READY=1; sleep 2'),$(sh_app b 'sleep 2')"
harness notify
assert_match "two notify apps: the pod ran" "$H" "^exit 0$"
assert_no_match "no READY=1 while one app has not said it" "$H" "READY=1"

# ---- sd_notify: apps that do not speak it ----------------------------------------------
new_pod a b
notify_image a # b's image has no annotation: stage1 says READY=1 once both started
write_pod "$(sh_app a 'echo env=${NOTIFY_SOCKET:-none}; test -e /run/systemd/notify || echo no-socket; sleep 1'),$(sh_app b 'sleep 1')"
harness notify
assert_match "not every image supports notify: READY=1 from stage1" "$H" "^stage1 READY=1$"
assert_match "the pod ran" "$H" "^exit 0$"
assert_match "no NOTIFY_SOCKET for the apps" "$H" "env=none"
assert_match "no socket mounted" "$H" "no-socket"
tap_check "no notify/ dir" "$([ ! -e "$PODDIR/notify" ]; echo $?)"

# Without NOTIFY_SOCKET nothing changes.
new_pod a
notify_image a
write_pod "$(sh_app a 'echo env=${NOTIFY_SOCKET:-none}')"
run_stage1
assert_status "without NOTIFY_SOCKET the pod runs" 0
assert_match "and the app has no NOTIFY_SOCKET" "$OUT" "env=none"

# ---- socket activation -------------------------------------------------------------------
new_pod a
write_pod "$(app_json a '["/bin/pod-sd","serve","1"]')"
harness listen web
assert_match "single app: it answers on fd 3 with LISTEN_PID = its pid in the pod" "$H" \
        "^reply pid=[0-9]+ fds=1 names=web fd4=closed$"
assert_match "single app: the pod ran" "$H" "^exit 0$"

new_pod a
write_pod "$(app_json a '["/bin/pod-sd","serve","1"]')"
harness listen one:two
assert_match "single app: every socket, in order" "$H" "^reply pid=[0-9]+ fds=2 names=one:two fd4=open$"

ports_web=',"ports":[{"name":"web","protocol":"tcp","port":80,"socketActivated":true}]'
ports_other=',"ports":[{"name":"other","protocol":"tcp","port":81,"socketActivated":true}]'
new_pod a b
write_pod "$(app_json b '["/bin/sh","-c","echo b-fds=${LISTEN_FDS:-none}"]' "$ports_other"),$(app_json a '["/bin/pod-sd","serve","1"]' "$ports_web")"
harness listen web
assert_match "two apps: the socket named web goes to the app with a socketActivated port web" \
        "$H" "^reply pid=[0-9]+ fds=1 names=web fd4=closed$"
assert_match "the other app gets none" "$H" "b-fds=none"

new_pod a b
write_pod "$(sh_app a 'true'),$(sh_app b 'true')"
harness listen web
assert_match "two apps: a socket no app claims fails the pod" "$H" "^exit 254$"
assert_match "saying which socket" "$H" "Socket 'web' .*socketActivated"

new_pod a
write_pod "$(sh_app a 'echo fds=${LISTEN_FDS:-none}')"
harness listen web wrong-pid
assert_match "LISTEN_PID of another process: the sockets are not ours" "$H" "fds=none"

# ---- per-app resource limits -------------------------------------------------------------
new_pod a b
write_pod "$(sh_app a 'true' ',"isolators":[{"name":"resource/memory","value":{"limit":"32Mi"}}]'),$(sh_app b 'true')"
run_stage1
# Without systemd, stage1 enforces it through the memory controller's cgroup v1 hierarchy
# (limits.c; tests/integration/limits.sh tests the limit itself); on cgroup2 alone a per-app
# limit needs systemd and is refused.
if grep -Eq '^[0-9]+:([^:]*,)?memory(,[^:]*)?:' /proc/self/cgroup; then
        assert_status "a per-app memory limit in a two-app pod without systemd: enforced, runs" 0
        tap_check "and its cgroups are gone after the pod" \
                "$([ ! -e "$PODDIR/limits-cgroups" ]; echo $?)" "$(cat "$PODDIR/limits-cgroups" 2>&1)"
else
        assert_status "a per-app memory limit without systemd on cgroup2 fails the pod" 254
        assert_match "saying why" "$ERR" "Per-app memory limits without systemd need"
fi

tap_done
