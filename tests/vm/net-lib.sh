# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Helpers of the networking VM tests (test-net*.sh), sourced after tests/integration/lib.sh:
# prerequisites, a busybox image with an httpd and a declared app port, pods in the
# background, their addresses, and the traces CNI leaves on the host (veth, netns file,
# host-local lease, iptables rules).

# net_prereqs: skips unless root under systemd with a static busybox and the CNI plugins;
# sets W, D, P (pod's global flags), LEASES and the cleanup trap.
net_prereqs() {
        [ "$(id -u)" = 0 ] || tap_skip_all "needs root"
        if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -d /run/systemd/system ]; then
                tap_skip_all "needs systemd as PID 1 (run it in the VM: make check-vm)"
        fi
        : "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
        export POD_STAGE1
        BUSYBOX=$(command -v busybox || true)
        if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
                tap_skip_all "needs a static busybox (apt-get install busybox-static)"
        fi
        [ -x /usr/lib/cni/bridge ] || [ -x /opt/cni/bin/bridge ] ||
                tap_skip_all "needs the CNI plugins (apt-get install containernetworking-plugins)"
        command -v iptables-save >/dev/null || tap_skip_all "needs iptables"
        command -v curl >/dev/null || tap_skip_all "needs curl"
        W=$TAP_TMP
        D=$W/data
        P=(--dir="$D")
        # host-local's dataDir: pod's default network may keep its leases in /run.
        LEASES="/run/pod/cni/networks/default /var/lib/cni/networks/default"
        PIDS=()
        NETD_FILES=()
        HOST_LINKS=()
        declare -gA PODPID=()
        trap net_cleanup EXIT
}

net_cleanup() {
        local u p f l
        for u in "$W"/uuid.*; do
                if [ -s "$u" ]; then
                        systemctl kill --signal=SIGKILL "pod-$(cat "$u").scope" 2>/dev/null || true
                fi
        done
        for p in "${PIDS[@]}" "${PODPID[@]}"; do
                kill -9 "$p" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        "$POD" "${P[@]}" gc --grace-period=0s >/dev/null 2>&1 || true
        for f in "${NETD_FILES[@]}"; do
                rm -f "$f"
        done
        [ -z "${HOSTS_BACKUP:-}" ] || cp "$HOSTS_BACKUP" /etc/hosts
        for l in "${HOST_LINKS[@]}"; do
                ip link del "$l" 2>/dev/null || true
        done
        rm -rf "$TAP_TMP"
}

# mark LABEL: a TAP comment with the seconds since the start (where a slow guest spends time).
mark() { echo "# [${SECONDS}s] $1"; }

wait_for() { # wait_for SECONDS COMMAND...: polls every 0.5 s until a deadline
        local end=$((SECONDS + $1))
        while :; do
                "${@:2}" && return 0
                [ "$SECONDS" -lt "$end" ] || return 1
                sleep 0.5
        done
}

# net_image: example.com/netbox (B): busybox, /www/index.html, httpd on the app port "http"
# (tcp 80) as its default exec.
net_image() {
        local arch a img=$W/img
        case $(uname -m) in
        x86_64) arch=amd64 ;;
        aarch64) arch=arm64 ;;
        *) arch=$(uname -m) ;;
        esac
        mkdir -p "$img/rootfs/bin" "$img/rootfs/etc" "$img/rootfs/www"
        cp "$BUSYBOX" "$img/rootfs/bin/busybox"
        # Only the applets used here: every fork costs under an emulated CPU.
        for a in sh echo true sleep cat sed sort httpd wget ip timeout; do
                ln -s busybox "$img/rootfs/bin/$a"
        done
        echo 'root:x:0:0:root:/root:/bin/sh' >"$img/rootfs/etc/passwd"
        echo 'root:x:0:' >"$img/rootfs/etc/group"
        echo hello-from-pod >"$img/rootfs/www/index.html"
        cat >"$img/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/netbox",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$arch"}],
 "app":{"exec":["/bin/httpd","-f","-p","80","-h","/www"],"user":"0","group":"0",
        "ports":[{"name":"http","protocol":"tcp","port":80}]}}
EOF
        mark "image"
        "$POD" image build "$img" "$W/netbox.aci" >/dev/null
        run_pod "${P[@]}" --insecure-options=image fetch --quiet "$W/netbox.aci"
        [ "$STATUS" = 0 ] || {
                echo "Bail out! the test image could not be fetched: $ERR"
                exit 1
        }
        # shellcheck disable=SC2034 # used by the test files
        # By ID: a name asks for a verified image, and this one was fetched unverified.
        B=$OUT
        mark "image fetched"
}

# skip_unless_cni STDERR: skips the file when the first pod on the default network failed
# because this pod has no CNI networking yet (before the cni branch is merged).
skip_unless_cni() {
        if grep -q "CNI networking is not available" <<<"$1"; then
                tap_skip_all "this pod has no CNI networking (--net=default)"
        fi
}

# start_pod NAME POD-ARGS...: `pod run POD-ARGS` in the background; waits until it runs and
# has an address on the default network.  Sets UUID_<NAME> and PODPID[NAME].
start_pod() {
        local name=$1 u=""
        shift
        "$POD" "${P[@]}" run --uuid-file-save="$W/uuid.$name" "$@" >"$W/out.$name" \
                2>"$W/err.$name" </dev/null &
        PODPID[$name]=$!
        wait_for 180 pod_started "$name" || true
        u=$(cat "$W/uuid.$name" 2>/dev/null || true)
        printf -v "UUID_$name" '%s' "$u"
        if [ -n "$u" ]; then
                wait_for 180 pod_has_ip "$u" || true
        fi
        mark "pod $name started"
}

pod_started() { [ -s "$W/uuid.$1" ] || ! kill -0 "${PODPID[$1]}" 2>/dev/null; }

pod_has_ip() { [ -n "$(pod_ip "$1")" ]; }

# pod_ip UUID: the pod's address on the default network, from pod status (net-info.json if
# pod status does not show it: pod status has its own test).
pod_ip() {
        local ip
        ip=$("$POD" "${P[@]}" status "$1" 2>/dev/null | grep -o '172\.16\.28\.[0-9]*' | head -1)
        [ -n "$ip" ] ||
                ip=$(grep -so '172\.16\.28\.[0-9]*' "$D/pods/run/$1/net-info.json" | head -1)
        echo "$ip"
}

pod_state_is() { # pod_state_is UUID STATE
        run_pod "${P[@]}" status "$1"
        grep -q "^state=$2$" <<<"$OUT"
}

# wait_pod_exit NAME: waits for its `pod run` (SIGKILL after 120 s, so a hung pod fails the
# test instead of the suite).
wait_pod_exit() {
        local pid=${PODPID[$1]}
        wait_for 120 eval "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
}

http_get_once() { curl -sf -m 10 "$1" 2>/dev/null; }
http_get_ok() { http_get_once "$1" >/dev/null; }
# http_get URL: the body, polling up to 60 s (a pod's server may still be starting).
http_get() {
        wait_for 60 http_get_ok "$1" || true
        http_get_once "$1" || true
}

bridge_ip() {
        ip -4 -o addr show dev pod0 2>/dev/null | sed -n 's/.* inet \([0-9.]*\)\/.*/\1/p' | head -1
}

# host_veths: the veth interfaces on the host, except the test's own (pnt*).
host_veths() {
        ip -o link show type veth 2>/dev/null | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }' |
                grep -v '^pnt' | sort || true
}

# pod_chains UUID: the pod's own iptables chains (CNI-<hash>, CNI-DN-<hash>: not the shared
# CNI-HOSTPORT-*) named in rules that mention the pod, any table.
pod_chains() {
        iptables-save 2>/dev/null | grep -F -- "$1" | grep -Eo 'CNI-(DN-)?[0-9a-f]{12,}' |
                sort -u | tr '\n' ' ' || true
}

# lease_held UUID IP [DIRS]: host-local has leased IP to the pod (default: $LEASES).
lease_held() {
        local d
        for d in ${3:-$LEASES}; do
                grep -qs -- "$1" "$d/$2" && return 0
        done
        return 1
}

# lease_any UUID [DIRS]: some lease names the pod.
lease_any() {
        local d
        for d in ${2:-$LEASES}; do
                grep -rqs -- "$1" "$d" && return 0
        done
        return 1
}

# shellcheck disable=SC2086 # LEASES is a list
leases_dump() { grep -rs . $LEASES 2>&1 | head; }

# assert_released LABEL UUID IP CHAINS VETHS: nothing of the pod's network is left.
assert_released() {
        local label=$1 u=$2 ip=$3 chains=$4 veths=$5 c v left="" rules
        tap_check "$label: no netns file /run/pod/netns/<uuid>" \
                "$([ -n "$u" ] && [ ! -e "/run/pod/netns/$u" ]; echo $?)" \
                "$(ls -l /run/pod/netns 2>&1)"
        tap_check "$label: the host-local lease is released" \
                "$([ -n "$ip" ] && ! lease_held "$u" "$ip" && ! lease_any "$u"; echo $?)" \
                "$(leases_dump)"
        rules=$(iptables-save 2>&1)
        for c in $chains; do
                grep -q -- "$c" <<<"$rules" && left="$left $c"
        done
        tap_check "$label: no iptables rule or chain of the pod remains" \
                "$([ -n "$u" ] && [ -z "$left" ] && ! grep -q -- "$u" <<<"$rules"; echo $?)" \
                "chains left:$left; $(grep -F -- "$u" <<<"$rules" | head)"
        if command -v nft >/dev/null; then
                tap_check "$label: no nft rule mentions the pod" \
                        "$(! nft list ruleset 2>/dev/null | grep -q -- "$u"; echo $?)"
        fi
        left=""
        for v in $veths; do
                ip link show dev "$v" >/dev/null 2>&1 && left="$left $v"
        done
        tap_check "$label: the pod's veth is gone" "$([ -n "$veths" ] && [ -z "$left" ]; echo $?)" \
                "veths while running: '$veths', left:$left"
}
