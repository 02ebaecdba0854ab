#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# CNI networking (issue 6) in the VM testbed (tests/vm/suite): two pods on the default
# network reach each other by IP; the host (the VM) reaches a pod's busybox httpd on its IP
# and through a --port forwarded host port; a pod reaches a server on the host; pod list and
# pod status show the network and IP; --dns and --hosts-entry in the pod's files; CNI DEL at
# pod exit; after stop + gc, and after kill -9 + gc: no veth, no netns file, no IPAM lease,
# no iptables rule mentioning the pod.  --net=none/host, --port rejected with --net=host and
# user networks (errors naming the file) are in test-net-modes.sh.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
# shellcheck source=tests/vm/net-lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vm/net-lib.sh"

net_prereqs
net_image

# ---- a server pod: IP, netns, lease, veth, iptables, list/status -------------------------
start_pod A --port=http:18081 "$B"
skip_unless_cni "$(cat "$W/err.A")"
tap_check "a pod runs on the default network" "$(pod_state_is "$UUID_A" running; echo $?)" \
        "$(tail -5 "$W/err.A")"
IPA=$(pod_ip "$UUID_A")
tap_check "the server pod has an address in 172.16.28.0/24" \
        "$([[ $IPA =~ ^172\.16\.28\.[0-9]+$ ]]; echo $?)" "$(tail -5 "$W/err.A")"
UA=$UUID_A
tap_check "the netns file /run/pod/netns/<uuid> exists while it runs" \
        "$([ -e "/run/pod/netns/$UA" ]; echo $?)"
tap_check "net-info.json in the pod dir records the IP" \
        "$(grep -q "\"$IPA\\(/[0-9]*\\)\\?\"" "$D/pods/run/$UA/net-info.json" 2>/dev/null; echo $?)" \
        "$(cat "$D/pods/run/$UA/net-info.json" 2>&1)"
tap_check "host-local holds a lease for it (<dataDir>/default/<IP>)" \
        "$(lease_held "$UA" "$IPA"; echo $?)" "$(leases_dump)"
VETHS_RUNNING=$(host_veths)
tap_check "a veth is on the host while it runs" "$([ -n "$VETHS_RUNNING" ]; echo $?)"
CHAINS_A=$(pod_chains "$UA")
tap_check "iptables has rules for the pod (masquerade, portmap)" "$([ -n "$CHAINS_A" ]; echo $?)" \
        "$(iptables-save 2>&1 | head -40)"

run_pod "${P[@]}" status "$UA"
assert_match "pod status shows the network name" "$OUT" "default"
assert_match "pod status shows the IP" "$OUT" "(^|[^0-9])${IPA//./\\.}([^0-9]|$)"
run_pod "${P[@]}" list
line=$(grep -- "${UA:0:8}" <<<"$OUT" || true)
assert_match "pod list shows the network name on the pod's line" "$line" "default"
assert_match "pod list shows the IP on the pod's line" "$line" "(^|[^0-9])${IPA//./\\.}([^0-9]|$)"

mark "reachability"
# ---- reachability ------------------------------------------------------------------------
got=$(http_get "http://$IPA/index.html")
assert_match "the host reaches the pod's httpd on its IP" "$got" "^hello-from-pod$"
GW=$(bridge_ip)
tap_check "the bridge pod0 has the gateway address" "$([[ $GW =~ ^172\.16\.28\.[0-9]+$ ]]; echo $?)" \
        "$(ip -4 -o addr 2>&1)"
got=$(http_get "http://$GW:18081/index.html")
assert_match "the host reaches the pod through --port (host address:18081)" "$got" "^hello-from-pod$"
got=$(http_get "http://127.0.0.1:18081/index.html")
assert_match "the host reaches the pod through --port (127.0.0.1:18081)" "$got" "^hello-from-pod$"

# A host-side server on every address: the pod reaches it through the bridge's address.
mkdir -p "$W/hostwww"
echo hello-from-host >"$W/hostwww/index.html"
busybox httpd -f -p 18090 -h "$W/hostwww" &
PIDS+=($!)
wait_for 60 http_get_ok "http://127.0.0.1:18090/index.html" || true

# The client pod: reaches the server pod and the host, shows its addresses and files.
run_pod "${P[@]}" run --uuid-file-save="$W/uuid.B" --dns=192.0.2.53 --dns-search=example.test \
        --hosts-entry=192.0.2.7=foo.example,bar --hostname=clientpod "$B" --exec=/bin/sh -- -c "
        echo pod-A: \$(timeout 60 wget -q -O - http://$IPA/index.html)
        echo host: \$(timeout 60 wget -q -O - http://$GW:18090/index.html)
        ip -4 -o addr show dev eth0
        echo ifaces: \$(sed -n 's/^ *\\([^:]*\\):.*/\\1/p' /proc/net/dev | sort)
        cat /etc/resolv.conf /etc/hosts"
UB=$(cat "$W/uuid.B" 2>/dev/null || true)
assert_status "the client pod runs on the default network" 0
assert_match "a pod reaches another pod by IP" "$OUT" "^pod-A: hello-from-pod$"
assert_match "a pod reaches a server on the host" "$OUT" "^host: hello-from-host$"
IPB=$(sed -n 's/.*inet \(172\.16\.28\.[0-9]*\)\/24.*/\1/p' <<<"$OUT" | head -1)
tap_check "the client's eth0 has another address in 172.16.28.0/24" \
        "$([ -n "$IPB" ] && [ "$IPB" != "$IPA" ]; echo $?)" "$OUT"
assert_match "the client has lo and eth0 only" "$OUT" "^ifaces: eth0 lo$"
assert_match "--dns=IP is the nameserver in /etc/resolv.conf" "$OUT" "^nameserver 192\.0\.2\.53$"
assert_no_match "--dns=IP replaces the host's nameservers" "$OUT" "^nameserver (127|10)\."
assert_match "--dns-search in /etc/resolv.conf" "$OUT" "^search example\.test$"
assert_match "--hosts-entry is in /etc/hosts" "$OUT" "^192\.0\.2\.7[[:space:]]+foo\.example[[:space:]]+bar$"
assert_match "/etc/hosts has localhost" "$OUT" "^127\.0\.0\.1[[:space:]].*localhost"
assert_match "/etc/hosts names the pod's hostname on its IP" "$OUT" \
        "^${IPB//./\\.}[[:space:]].*clientpod"
# CNI DEL runs at pod exit, before any gc.
tap_check "after the client pod exits: its netns file is gone" \
        "$([ -n "$UB" ] && [ ! -e "/run/pod/netns/$UB" ]; echo $?)" "uuid '$UB'"
tap_check "after the client pod exits: its lease is released" \
        "$([ -n "$IPB" ] && ! lease_any "$UB"; echo $?)" "$(leases_dump)"
tap_check "after the client pod exits: no iptables rule mentions it" \
        "$([ -n "$UB" ] && ! iptables-save | grep -q -- "$UB"; echo $?)"

mark "stop + gc"
# ---- stop + gc releases everything --------------------------------------------------------
run_pod "${P[@]}" stop "$UA"
assert_status "pod stop" 0
wait_pod_exit A
tap_check "the stopped server pod is no longer running" "$(pod_state_is "$UA" exited; echo $?)" \
        "$OUT"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "pod gc" 0
assert_released "after stop + gc" "$UA" "$IPA" "$CHAINS_A" "$VETHS_RUNNING"
got=$(http_get_once "http://127.0.0.1:18081/index.html" || true)
tap_check "the forwarded port is closed" "$([ -z "$got" ]; echo $?)" "$got"

mark "kill"
# ---- kill -9 of a running pod, then gc ---------------------------------------------------
start_pod K "$B" --exec=/bin/sh -- -c 'echo up; while :; do sleep 1; done'
UK=$UUID_K
IPK=$(pod_ip "$UK")
CHAINS_K=$(pod_chains "$UK")
VETHS_K=$(host_veths)
tap_check "the pod to be killed has an address and a netns file" \
        "$([ -n "$IPK" ] && [ -e "/run/pod/netns/$UK" ]; echo $?)" "$(tail -5 "$W/err.K")"
# SIGKILL for the pod's init (stage1) and everything in its scope: nothing runs CNI DEL.
kill -9 "$(cat "$D/pods/run/$UK/pid")" 2>/dev/null || true
systemctl kill --signal=SIGKILL "pod-$UK.scope" 2>/dev/null || true
kill -9 "${PODPID[K]}" 2>/dev/null || true
wait "${PODPID[K]}" 2>/dev/null || true
wait_for 120 pod_state_is "$UK" exited || true
tap_check "the killed pod is seen as exited" "$(pod_state_is "$UK" exited; echo $?)" "$OUT"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "pod gc after kill -9" 0
assert_released "after kill -9 + gc" "$UK" "$IPK" "$CHAINS_K" "$VETHS_K"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "a second pod gc (CNI DEL again or nothing to do) succeeds" 0

mark "end"
tap_check "no veth is left on the host" "$([ -z "$(host_veths)" ]; echo $?)" "$(host_veths)"
tap_done
