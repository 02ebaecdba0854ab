#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rkt's run flags that pod lacked (issue 13, "Missing flags rkt users passed"): annotations
# and user annotations/labels in the pod manifest, --oom-score-adj and --cpu-shares (the
# cgroup without systemd: stage1/limits.c), --ipc, --net=all and --net=default-restricted
# with the real CNI plugins, and --pod-manifest as in rkt's pod manifest walkthrough.  Like
# net.sh the script re-executes itself in private network and mount namespaces, so that
# the bridges, veths, /run/pod and /etc/pod/net.d vanish with it.
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016

if [ "${POD_RKT_FLAGS_NETNS:-}" != 1 ]; then
        skip() {
                echo "1..0 # SKIP $1"
                exit 0
        }
        [ "$(id -u)" = 0 ] || skip "needs root (namespaces, mounts, cgroups, CNI plugins)"
        for p in bridge ptp host-local loopback; do
                [ -x "/usr/lib/cni/$p" ] || skip "needs the CNI plugins (containernetworking-plugins)"
        done
        for t in unshare ip iptables; do
                command -v "$t" >/dev/null || skip "$t not available"
        done
        BUSYBOX=$(command -v busybox || true)
        if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
                skip "needs a static busybox (apt-get install busybox-static)"
        fi
        grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || skip "no overlayfs"
        unshare --mount --net --pid --fork true 2>/dev/null || skip "cannot create namespaces here"
        export POD_RKT_FLAGS_NETNS=1
        exec unshare --mount --net /bin/bash "$0" "$@"
fi

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
BUSYBOX=$(command -v busybox)

mkdir -p /run/pod /etc/pod
mount -t tmpfs -o mode=0755 pod-rkt-flags-test /run/pod
mount -t tmpfs -o mode=0755 pod-rkt-flags-test /etc/pod
mkdir -p /etc/pod/net.d
ip link set lo up

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --insecure-options=image)
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh cat ip readlink sleep echo grep true; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/rktflags",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","echo image-exec"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/img.aci" >/dev/null
run_pod "${P[@]}" fetch --quiet "$W/img.aci"
assert_status "the test image is in the store" 0
ID=$OUT
B=example.com/rktflags

pod_sh() { # pod_sh [POD FLAGS...] SCRIPT
        local script=${*: -1}
        run_pod "${P[@]}" run "${@:1:$#-1}" "$B" --exec=/bin/sh -- -c "$script"
}

# ---- annotations and labels ---------------------------------------------------------------
run_pod "${P[@]}" prepare --user-annotation=team=payments --user-label=tier=web \
        --annotation=example.com/owner=ops "$B" --annotation=coreos.com/rkt/x=1 \
        --user-annotation=app-note=hello --user-label=role=front --label=zone=a
assert_status "prepare with pod- and app-level annotations and labels" 0
U=$OUT
run_pod "${P[@]}" cat-manifest "$U"
M=$OUT
tap_check "pod level: userAnnotations" \
        "$(jq -e '.userAnnotations.team == "payments"' <<<"$M" >/dev/null; echo $?)" "$M"
tap_check "pod level: userLabels" "$(jq -e '.userLabels.tier == "web"' <<<"$M" >/dev/null; echo $?)"
tap_check "pod level: annotations" \
        "$(jq -e '.annotations | any(.name == "example.com/owner" and .value == "ops")' <<<"$M" \
                >/dev/null; echo $?)"
tap_check "app level: --annotation into apps[].annotations" \
        "$(jq -e '.apps[0].annotations | any(.name == "coreos.com/rkt/x" and .value == "1")' \
                <<<"$M" >/dev/null; echo $?)"
tap_check "app level: --user-annotation into apps[].app.userAnnotations" \
        "$(jq -e '.apps[0].app.userAnnotations["app-note"] == "hello"' <<<"$M" >/dev/null; echo $?)"
tap_check "app level: --user-label and --label into apps[].app.userLabels" \
        "$(jq -e '.apps[0].app.userLabels == {"role":"front","zone":"a"}' <<<"$M" >/dev/null
                echo $?)"
run_pod "${P[@]}" rm "$U"
run_pod "${P[@]}" prepare "$B" --annotation=Bad_Key=1
assert_status "an annotation name that is no AC Identifier is refused" 254
assert_match "naming it" "$ERR" "'Bad_Key' is not a valid name"
run_pod "${P[@]}" prepare "$B" --user-label=novalue
assert_status "a label without '=' is refused" 254

# ---- --oom-score-adj ----------------------------------------------------------------------
run_pod "${P[@]}" run --net=none "$B" --oom-score-adj=500 --exec=/bin/cat -- /proc/self/oom_score_adj
assert_status "--oom-score-adj=500 runs" 0
assert_match "the app's oom_score_adj is 500" "$OUT" "^500$"
run_pod "${P[@]}" run --net=none "$B" --oom-score-adj=1001
assert_status "--oom-score-adj out of range is refused" 254
assert_match "naming the flag" "$ERR" "oom-score-adj"

# ---- --cpu-shares (no systemd here: limits.c's cgroup) -----------------------------------
v1_dir() { # v1_dir CONTROLLER: our cgroup in its v1 hierarchy, or nothing
        local line ctrls path
        while IFS= read -r line; do
                ctrls=${line#*:}
                path=${ctrls#*:}
                ctrls=${ctrls%%:*}
                case ",$ctrls," in *",$1,"*)
                        [ -d "/sys/fs/cgroup/$1" ] && echo "/sys/fs/cgroup/$1${path%/}"
                        return
                        ;;
                esac
        done </proc/self/cgroup
}
CPU_V1=$(v1_dir cpu)
wait_pid() { # wait_pid UUID-FILE: until the pod runs
        for _ in $(seq 100); do
                [ -s "$1" ] && [ -e "$D/pods/run/$(cat "$1")/pid" ] && return 0
                sleep 0.1
        done
        return 1
}
run_pod "${P[@]}" run --net=none "$B" --cpu-shares=1
assert_status "--cpu-shares below 2 is refused" 254
if [ -d /run/systemd/system ]; then
        tap_check "# SKIP systemd is PID 1: the unit's CPUWeight= (tests/vm)" 0
elif [ -n "$CPU_V1" ]; then
        "$POD" "${P[@]}" run --net=none --uuid-file-save="$W/u-cs" "$B" --cpu-shares=512 \
                --exec=/bin/sleep -- 3 >/dev/null 2>&1 &
        BG=$!
        wait_pid "$W/u-cs" || true
        U=$(cat "$W/u-cs")
        tap_check "--cpu-shares=512: cpu.shares of the pod's cgroup" \
                "$([ "$(cat "$CPU_V1/pod-$U/cpu.shares" 2>/dev/null)" = 512 ]; echo $?)" \
                "$(cat "$CPU_V1/pod-$U/cpu.shares" 2>&1)"
        wait "$BG"
        tap_check "the pod ran" "$?"
        # Two apps: each app's own sub-cgroup.
        "$POD" "${P[@]}" run --net=none --uuid-file-save="$W/u-cs2" "$B" --name=a --cpu-shares=256 \
                --exec=/bin/sleep -- 3 --- "$B" --name=b --cpu-shares=2048 --exec=/bin/sleep -- 3 \
                >/dev/null 2>&1 &
        BG=$!
        wait_pid "$W/u-cs2" || true
        U=$(cat "$W/u-cs2")
        sleep 0.5
        tap_check "two apps: app a's cgroup has 256 shares, app b's 2048" \
                "$([ "$(cat "$CPU_V1/pod-$U/app-a/cpu.shares" 2>/dev/null)" = 256 ] &&
                        [ "$(cat "$CPU_V1/pod-$U/app-b/cpu.shares" 2>/dev/null)" = 2048 ]
                        echo $?)" "$(ls "$CPU_V1/pod-$U" 2>&1 | head -3)"
        wait "$BG"
        tap_check "the two-app pod ran" "$?"
        run_pod "${P[@]}" gc --grace-period=0s
        tap_check "gc removed the cpu cgroups" \
                "$([ ! -e "$CPU_V1/pod-$U" ] && [ ! -e "$CPU_V1/pod-$(cat "$W/u-cs")" ]; echo $?)"
else
        pod_sh --net=none 'cat /proc/self/cgroup'
        tap_check "# SKIP no cgroup v1 cpu hierarchy here (cgroup2: see limits.c)" 0
fi

# ---- --ipc ----------------------------------------------------------------------------------
HOST_IPC=$(readlink /proc/self/ns/ipc)
pod_sh --net=none --ipc=parent 'readlink /proc/self/ns/ipc'
assert_status "--ipc=parent runs" 0
tap_check "--ipc=parent: the host's IPC namespace" "$([ "$OUT" = "$HOST_IPC" ]; echo $?)" \
        "pod: $OUT host: $HOST_IPC"
for mode in private auto; do
        pod_sh --net=none --ipc=$mode 'readlink /proc/self/ns/ipc'
        tap_check "--ipc=$mode: an IPC namespace of its own" \
                "$([ "$STATUS" = 0 ] && [ -n "$OUT" ] && [ "$OUT" != "$HOST_IPC" ]; echo $?)" \
                "pod: $OUT host: $HOST_IPC"
done
pod_sh --net=none --ipc=shared 'true'
assert_status "--ipc=shared is refused" 254
run_pod "${P[@]}" prepare "$B"
U=$OUT
run_pod "${P[@]}" run-prepared --net=none --ipc=parent "$U"
assert_status "run-prepared takes --ipc=parent" 0

# ---- --net=all ----------------------------------------------------------------------------
cat >/etc/pod/net.d/20-beta.conflist <<'EOF'
{"cniVersion":"0.4.0","name":"beta","plugins":[{"type":"bridge","bridge":"podbeta",
 "ipam":{"type":"host-local","subnet":"10.99.22.0/24","dataDir":"/run/pod/cni/networks"}}]}
EOF
cat >/etc/pod/net.d/10-alpha.conflist <<'EOF'
{"cniVersion":"0.4.0","name":"alpha","plugins":[{"type":"bridge","bridge":"podalpha",
 "ipam":{"type":"host-local","subnet":"10.99.11.0/24","dataDir":"/run/pod/cni/networks"}}]}
EOF
pod_sh --net=all 'ip -4 -o addr show eth0; ip -4 -o addr show eth1; ip -o link show eth2 || true'
assert_status "--net=all runs" 0
assert_match "eth0: alpha (10-alpha.conflist sorts first)" "$OUT" "eth0[[:space:]]+inet 10\.99\.11\."
assert_match "eth1: beta" "$OUT" "eth1[[:space:]]+inet 10\.99\.22\."
assert_no_match "no third network" "$OUT" "eth2:"
pod_sh --net=all:IP=10.99.11.9 'true'
assert_status "--net=all takes no CNI_ARGS" 254
rm /etc/pod/net.d/*.conflist
pod_sh --net=all 'true'
assert_status "--net=all with no network defined is refused" 254
assert_match "naming the directory" "$ERR" "no network is defined in '/etc/pod/net.d'"

# ---- --net=default-restricted ---------------------------------------------------------------
pod_sh --net=default-restricted 'ip -4 -o addr show eth0; ip route; echo routes-done'
assert_status "--net=default-restricted runs" 0
assert_match "an address from its subnet" "$OUT" "eth0[[:space:]]+inet 172\.16\.29\.[0-9]+/24"
assert_no_match "no default route" "$OUT" "^default"
GW=$(grep -Eo 'via 172\.16\.29\.[0-9]+' <<<"$OUT" | head -1 | cut -d' ' -f2)
tap_check "a route to the host's end of the link" "$([ -n "$GW" ]; echo $?)" "$OUT"
tap_check "nothing is masqueraded for it" \
        "$(! iptables -t nat -S 2>/dev/null | grep -q '172\.16\.29\.'; echo $?)"
run_pod "${P[@]}" gc --grace-period=0s

# ---- --pod-manifest (rkt's walkthrough: run a hand-written pod manifest) ------------------
cat >"$W/pod.json" <<EOF
{
  "acVersion": "0.8.11",
  "acKind": "PodManifest",
  "apps": [
    {
      "name": "reduce-worker",
      "image": {"name": "$B", "labels": [{"name": "version", "value": "1.0"}]},
      "app": {
        "exec": ["/bin/sh", "-c", "echo from-manifest \$GREETING; cat /data/f 2>&1; true"],
        "user": "0", "group": "0",
        "environment": [{"name": "GREETING", "value": "hello"}]
      },
      "mounts": [{"volume": "work", "path": "/data"}]
    },
    {
      "name": "by-id",
      "image": {"id": "${ID:0:20}"}
    }
  ],
  "volumes": [{"name": "work", "kind": "empty"}],
  "userAnnotations": {"from": "walkthrough"}
}
EOF
run_pod "${P[@]}" run --net=none --pod-manifest="$W/pod.json" --uuid-file-save="$W/u-pm"
assert_status "pod run --pod-manifest=FILE" 0
assert_match "the manifest's app ran with its environment" "$OUT" "from-manifest hello"
assert_match "the image's own app ran for the app named by id" "$OUT" "image-exec"
run_pod "${P[@]}" cat-manifest "$(cat "$W/u-pm")"
tap_check "the pod's manifest carries every image's full ID" \
        "$(jq -e --arg id "$ID" '[.apps[].image.id | select(startswith($id) and length == 135)]
                | length == 2' <<<"$OUT" >/dev/null; echo $?)" "$OUT"
tap_check "and the file's own fields" \
        "$(jq -e '.userAnnotations.from == "walkthrough"' <<<"$OUT" >/dev/null; echo $?)"
run_pod "${P[@]}" prepare --pod-manifest="$W/pod.json"
assert_status "pod prepare --pod-manifest=FILE" 0
U=$OUT
run_pod "${P[@]}" run-prepared --net=none "$U"
assert_status "and run-prepared runs it" 0
assert_match "the same apps" "$OUT" "from-manifest hello"
run_pod "${P[@]}" run --pod-manifest="$W/pod.json" "$B"
assert_status "no IMAGE with --pod-manifest" 254
run_pod "${P[@]}" run --pod-manifest="$W/pod.json" --volume=x,kind=empty
assert_status "no --volume with --pod-manifest" 254
assert_match "naming the flag" "$ERR" "--volume cannot be combined with --pod-manifest"
sed 's/"name": "reduce-worker"/"name": "Bad Name"/' "$W/pod.json" >"$W/bad.json"
run_pod "${P[@]}" run --net=none --pod-manifest="$W/bad.json"
assert_status "an invalid pod manifest is refused" 254
assert_match "naming the file" "$ERR" "bad.json"
sed 's/"example.com\/rktflags"/"example.com\/nosuchimage"/' "$W/pod.json" >"$W/missing.json"
run_pod "${P[@]}" run --net=none --pull-policy=never --pod-manifest="$W/missing.json"
assert_status "an image that cannot be resolved is refused" 254

run_pod "${P[@]}" gc --grace-period=0s
tap_done
