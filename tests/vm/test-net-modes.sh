#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Networking modes (issue 6) in the VM testbed (tests/vm/suite): a user network from
# /etc/pod/net.d with the default one, --net=none has only lo, --net=host sees the host's
# interfaces, --port is rejected without pod networking and for an unknown app port, and
# clear errors naming the file for a broken config, a missing plugin or an unknown network.
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
# shellcheck source=tests/vm/net-lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vm/net-lib.sh"

net_prereqs
net_image

# shellcheck disable=SC2016 # expanded by the pod's shell
IFACES='echo ifaces: $(sed -n "s/^ *\([^:]*\):.*/\1/p" /proc/net/dev | sort)'
netns_count() { find /run/pod/netns -mindepth 1 2>/dev/null | wc -l; }

# ---- a user network in /etc/pod/net.d, with the default one ------------------------------
NETD=/etc/pod/net.d
mkdir -p "$NETD"
NETD_FILES+=("$NETD/60-podtest.conflist" "$NETD/70-podtest-broken.conf"
        "$NETD/71-podtest-missing.conf")
cat >"$NETD/60-podtest.conflist" <<'EOF'
{"cniVersion":"0.4.0","name":"podtest","plugins":[
 {"type":"bridge","bridge":"podt0","isGateway":true,"ipMasq":false,
  "ipam":{"type":"host-local","subnet":"10.99.7.0/24","routes":[{"dst":"10.99.0.0/16"}]}}]}
EOF
run_pod "${P[@]}" run --net=default,podtest --uuid-file-save="$W/uuid.u" "$B" \
        --exec=/bin/sh -- -c "$IFACES; ip -4 -o addr"
skip_unless_cni "$ERR"
UU=$(cat "$W/uuid.u" 2>/dev/null || true)
assert_status "--net=default,podtest (podtest: a .conflist in /etc/pod/net.d): the pod runs" 0
assert_match "... it has an address on the default network" "$OUT" "inet 172\.16\.28\.[0-9]+/24"
assert_match "... and one on podtest, from its config" "$OUT" "inet 10\.99\.7\.[0-9]+/24"
assert_match "... three interfaces: lo and one per network" "$OUT" "^ifaces: [a-z0-9]+ [a-z0-9]+ lo$"
tap_check "... its podtest lease is released at exit" \
        "$([ -n "$UU" ] && ! lease_any "$UU" /var/lib/cni/networks/podtest; echo $?)" \
        "$(grep -rs . /var/lib/cni/networks/podtest 2>&1 | head)"
mark "user network"

# ---- --net=none, --net=host -------------------------------------------------------------
# --hosts-entry=host starts from the host's /etc/hosts: a line of the test's own in it.
cp /etc/hosts "$W/hosts.orig"
HOSTS_BACKUP=$W/hosts.orig
echo "192.0.2.99 pod-hosts-marker-$$" >>/etc/hosts
run_pod "${P[@]}" run --net=none --hosts-entry=host --hosts-entry=192.0.2.9=extra.example "$B" \
        --exec=/bin/sh -- -c "$IFACES; cat /etc/hosts"
cp "$W/hosts.orig" /etc/hosts
assert_status "--net=none: the pod runs" 0
assert_match "--net=none: only lo" "$OUT" "^ifaces: lo$"
assert_match "--hosts-entry=host: the host's /etc/hosts" "$OUT" "^192\.0\.2\.99 pod-hosts-marker-$$$"
assert_match "... and --hosts-entry=IP=NAME after it" "$OUT" "^192\.0\.2\.9[[:space:]]+extra\.example$"

# A host interface of the test's own: the pod must see it.
L=pnt$$a
HOST_LINKS+=("$L")
ip link add "$L" type veth peer name "pnt$$b"
before=$(netns_count)
run_pod "${P[@]}" run --net=host --uuid-file-save="$W/uuid.h" "$B" --exec=/bin/sh -- -c "$IFACES"
assert_status "--net=host: the pod runs" 0
assert_match "--net=host: the pod sees the host's interfaces" "$OUT" "^ifaces: .*\b$L\b"
tap_check "--net=host: no netns file" "$([ ! -e "/run/pod/netns/$(cat "$W/uuid.h")" ] &&
        [ "$(netns_count)" = "$before" ]; echo $?)" "$(ls -l /run/pod/netns 2>&1)"
mark "none, host"

# ---- --port ------------------------------------------------------------------------------
run_pod "${P[@]}" run --net=host --port=http:18082 "$B" --exec=/bin/true
tap_check "--port with --net=host is rejected" "$([ "$STATUS" != 0 ]; echo $?)" "status $STATUS"
assert_match "... with an error about --port" "$ERR" "--port"
run_pod "${P[@]}" run --net=none --port=http:18082 "$B" --exec=/bin/true
tap_check "--port with --net=none is rejected" "$([ "$STATUS" != 0 ]; echo $?)" "status $STATUS"
assert_match "... with an error about --port" "$ERR" "--port"
run_pod "${P[@]}" run --port=nosuchport:18083 "$B" --exec=/bin/true
tap_check "--port naming no app port of the image is rejected" "$([ "$STATUS" != 0 ]; echo $?)" \
        "status $STATUS"
assert_match "... with an error naming the port" "$ERR" "nosuchport"
mark "port"

# ---- errors in /etc/pod/net.d ------------------------------------------------------------
before=$(netns_count)
printf '{"cniVersion": "0.4.0", "name": "podbroken", "type": ' >"$NETD/70-podtest-broken.conf"
run_pod "${P[@]}" run --net=podbroken "$B" --exec=/bin/true
tap_check "a broken config in /etc/pod/net.d: pod run fails" "$([ "$STATUS" != 0 ]; echo $?)" \
        "status $STATUS; $OUT"
assert_match "... and the error names the file" "$ERR" "70-podtest-broken\.conf"
rm -f "$NETD/70-podtest-broken.conf"

cat >"$NETD/71-podtest-missing.conf" <<'EOF'
{"cniVersion":"0.4.0","name":"podmissing","type":"pod-no-such-plugin"}
EOF
run_pod "${P[@]}" run --net=podmissing "$B" --exec=/bin/true
tap_check "a missing plugin: pod run fails" "$([ "$STATUS" != 0 ]; echo $?)" "status $STATUS; $OUT"
assert_match "... and the error names the plugin" "$ERR" "pod-no-such-plugin"
assert_match "... and the file" "$ERR" "71-podtest-missing\.conf"
tap_check "... and no netns file is left" "$([ "$(netns_count)" = "$before" ]; echo $?)" \
        "$(ls -l /run/pod/netns 2>&1)"
rm -f "$NETD/71-podtest-missing.conf"

run_pod "${P[@]}" run --net=nosuchnet "$B" --exec=/bin/true
tap_check "an unknown network: pod run fails" "$([ "$STATUS" != 0 ]; echo $?)" "status $STATUS"
assert_match "... and the error names it" "$ERR" "nosuchnet"
mark "errors"

tap_done
