#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --private-users with a CNI network under a real systemd (issue 14): the pod's network
# namespace is made inside its user namespace, so the pod's root (host BASE) binds port 80
# there; the host reaches it through --port and on the pod's address; the pod's processes
# run as BASE on the host; the CNI leftovers go at the pod's end (gc and the range).
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
# shellcheck source=tests/vm/net-lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vm/net-lib.sh"

net_prereqs
net_image

start_pod N --private-users --port=http:18097 "$B"
skip_unless_cni "$(cat "$W/err.N")"
U=$UUID_N
tap_check "a --private-users pod on the default network runs" \
        "$(pod_state_is "$U" running; echo $?)" "$(tail -5 "$W/err.N")"
BASE=$(cut -d' ' -f1 "$D/pods/run/$U/private-users" 2>/dev/null || true)
tap_check "... with a range ($BASE)" "$([ -n "$BASE" ] && [ "$BASE" -gt 0 ]; echo $?)"
got=$(http_get "http://127.0.0.1:18097/index.html")
assert_match "httpd bound port 80 as the pod's root; --port=http:18097 reaches it" "$got" \
        "^hello-from-pod$"
IP=$(pod_ip "$U")
got=$(http_get "http://$IP:80/index.html")
assert_match "... and so does the pod's address ($IP)" "$got" "^hello-from-pod$"
hpid=$(pgrep -f '^/bin/httpd -f -p 80' | head -n1 || true)
huid=$(awk '/^Uid:/ {print $2}' "/proc/$hpid/status" 2>/dev/null || true)
tap_check "httpd runs as host uid BASE ($huid)" "$([ -n "$huid" ] && [ "$huid" = "$BASE" ]; echo $?)"
# The network namespace belongs to the pod's user namespace (ioctl NS_GET_USERNS through
# lsns's view: the owner of the netns is the httpd's user namespace).
nsu=$(readlink "/proc/$hpid/ns/user" 2>/dev/null || true)
own=$(lsns -n -t net -o NS,PID,USERNS 2>/dev/null | awk -v p="$hpid" '$2 == p {print $3}' || true)
hostu=$(readlink /proc/1/ns/user)
tap_check "... in a user namespace of its own ($nsu, not the host's $hostu)" \
        "$([ -n "$nsu" ] && [ "$nsu" != "$hostu" ]; echo $?)"
[ -n "$own" ] && tap_check "... which owns the pod's network namespace" \
        "$([ "user:[$own]" = "$nsu" ]; echo $?)" "lsns says $own"
run_pod "${P[@]}" stop "$U"
wait_pod_exit N || true
run_pod "${P[@]}" gc --grace-period=0s
tap_check "gc: the pod's netns file is gone" "$([ ! -e "/run/pod/netns/$U" ]; echo $?)"
tap_check "gc: its lease is released" "$(! lease_any "$U"; echo $?)"
LEFT=$(find "$D/userns" -mindepth 1 ! -name lock 2>/dev/null || true)
tap_check "gc: its range is released" "$([ -z "$LEFT" ]; echo $?)" "$LEFT"
tap_done
