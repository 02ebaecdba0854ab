#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Robustness of the pod lifecycle on this host (root, no systemd needed): `pod run` killed
# with SIGKILL at different points (while creating, while preparing, before stage1, while
# running), pods whose lock was freed by a "reboot" (holder killed, overlay mounts gone or
# still there), and embryos left by a create that died.  Afterwards `pod list` and
# `pod status` show a final state and `pod gc --grace-period=0s` removes everything: no
# directory and no mount is left.  The same under a real systemd (scopes) is in
# tests/vm/test-robust.sh.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
command -v flock >/dev/null || tap_skip_all "flock(1) not installed"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"

W=$TAP_TMP
D=$W/data
PODS=$D/pods
P=(--dir="$D")
PIDS=()
cleanup() {
        local p
        for p in "${PIDS[@]}"; do
                kill -9 "$p" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        { grep -F " $W/" /proc/self/mountinfo || true; } | awk '{print $5}' | sort -r |
                while read -r m; do umount -l "$m" 2>/dev/null || true; done
        rm -rf "$W"
}
trap cleanup EXIT

# wait_for SECONDS COMMAND...: polls every 0.05 s
wait_for() {
        local i
        for ((i = 0; i < $1 * 20; i++)); do
                "${@:2}" && return 0
                sleep 0.05
        done
        return 1
}

# "UUID STATE" per pod, from the JSON list (state may contain a space).
pod_states() {
        "$POD" "${P[@]}" list --format=json |
                grep -oE '"name":"[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}","state":"[^"]*"' |
                sed 's/^"name":"\([^"]*\)","state":"\([^"]*\)"$/\1 \2/'
}
# No pod is held by a live process any more (the pod init dies with its killed parent).
settled() { ! pod_states | grep -Eq ' (running|preparing|deleting)$'; }
# Mounts of ours left in this mount namespace.
our_mounts() { grep -F " $W/" /proc/self/mountinfo || true; }
leftovers() { find "$PODS" -mindepth 2 -maxdepth 2; }

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in sh sleep true; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$IMG/rootfs/etc/passwd"
echo 'root:x:0:' >"$IMG/rootfs/etc/group"
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/busybox",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/bb.aci" >/dev/null
run_pod "${P[@]}" --insecure-options=image fetch --quiet "$W/bb.aci"
assert_status "the test image is in the store" 0
# By ID: a name would ask for a verified image, and this one was fetched unverified.
B=$OUT

# A stage1 that waits on a FIFO before it becomes the real one: the pod is in run/, locked,
# and nothing of stage1 has happened yet.  read is a bash builtin: no child process
# inherits the lock, so killing the wrapper frees it.  stage0's version check (no lock fd)
# goes straight through.
mkfifo "$W/hold.fifo"
cat >"$W/stage1-wait" <<EOF
#!/bin/bash
[ -n "\${POD_LOCK_FD:-}" ] || exec "$POD_STAGE1" "\$@"
: >"$W/stage1-waiting"
read -r -t 120 _ <>"$W/hold.fifo" || true
exec "$POD_STAGE1" "\$@"
EOF
chmod +x "$W/stage1-wait"

# ---- kill -9 of pod run at different points ------------------------------------------------
# kill_run N WHEN: starts a pod (sleeping), waits for WHEN, SIGKILLs pod run (the same
# process becomes stage1, then its supervisor), then waits for it to be reaped.
kill_run() {
        local n=$1 when=$2 u=$W/uuid.$1 s1=$POD_STAGE1 pid
        [ "$when" = before-stage1 ] && s1=$W/stage1-wait
        rm -f "$W/stage1-waiting"
        POD_STAGE1=$s1 "$POD" "${P[@]}" run --net=none --uuid-file-save="$u" "$B" \
                --exec=/bin/sleep -- 300 >/dev/null 2>&1 &
        pid=$!
        PIDS+=("$pid")
        case $when in
        uuid) wait_for 30 test -s "$u" ;;
        prepare) wait_for 30 eval "test -s '$u' && test -d '$PODS/prepare/'\$(cat '$u') -o -d '$PODS/run/'\$(cat '$u')" ;;
        before-stage1) wait_for 30 test -e "$W/stage1-waiting" ;;
        running) wait_for 30 eval "test -s '$u' && test -s '$PODS/run/'\$(cat '$u')/pid" ;;
        *) sleep "$when" ;;
        esac || echo "# kill_run $n: $when never came" >&2
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
}
n=0
for when in uuid prepare before-stage1 running 0 0.02 0.05 0.1 0.2 0.4; do
        n=$((n + 1))
        kill_run "$n" "$when"
done
tap_check "every killed pod's lock is freed" "$(wait_for 60 settled; echo $?)" "$(pod_states)"
run_pod "${P[@]}" list --full --no-legend
assert_status "pod list after the kills exits 0" 0
states=$(pod_states)
sed 's/^[^ ]* /# killed pod: /' <<<"$states"
bad=$(grep -Ev ' (embryo|aborted prepare|exited)$' <<<"$states" || true)
tap_check "killed pods are embryo, aborted prepare or exited" "$([ -z "$bad" ]; echo $?)" \
        "$states"
missing=""
for f in "$W"/uuid.*; do
        [ -s "$f" ] || continue
        grep -q "^$(cat "$f") " <<<"$states" || missing+=" $(cat "$f")"
done
tap_check "every pod that got a UUID is listed" "$([ -z "$missing" ]; echo $?)" "missing:$missing"
U=$(cat "$W/uuid.4")
assert_match "the pod killed while running is exited" "$states" "^$U exited$"
run_pod "${P[@]}" status "$U"
assert_match "pod status of the killed pod: exited" "$OUT" "^state=exited$"
U=$(cat "$W/uuid.3")
assert_match "the pod killed before stage1 is exited" "$states" "^$U exited$"
# Without systemd stage1 makes a cgroup for the device allow-list (stage1/ABI.md "Devices").
device_cgroups() {
        local f
        for f in "$W"/uuid.*; do
                [ -s "$f" ] || continue
                ls -d "/sys/fs/cgroup/pod-$(cat "$f")" "/sys/fs/cgroup/unified/pod-$(cat "$f")" \
                        2>/dev/null || true
        done
}
if [ ! -e /run/systemd/system ]; then
        tap_check "the pod killed while running left its device cgroup" \
                "$(grep -q "pod-$(cat "$W/uuid.4")$" <<<"$(device_cgroups)"; echo $?)"
fi
run_pod "${P[@]}" gc --grace-period=0s
assert_status "gc after the kills exits 0" 0
tap_check "gc removed every killed pod" "$([ -z "$(leftovers)" ]; echo $?)" "$(leftovers)"
tap_check "gc removed every device cgroup" "$([ -z "$(device_cgroups)" ]; echo $?)" \
        "$(device_cgroups)"
tap_check "no mount is left" "$([ -z "$(our_mounts)" ]; echo $?)" "$(our_mounts)"

# ---- reboot-like: a pod in run/ whose lock went away with its mounts ----------------------
# mkrun UUID: a pod directory in run/ as stage1 leaves it (manifest, pid, status/, an app
# tree and overlay upper/work dirs), with the overlay mounted in this namespace and a write
# through it (a new file, a whiteout), locked by a holder process; HOLDER is its pid.
mkrun() {
        local d=$PODS/run/$1
        mkdir -p "$d/stage1/rootfs/opt/stage2/a/rootfs/etc" "$d/overlay/a/upper" \
                "$d/overlay/a/work" "$d/status" "$d/mnt"
        printf '{"acKind":"PodManifest","acVersion":"0.8.11","apps":[{"name":"a","image":{"name":"example.com/a","id":"sha512-%064d"}}],"volumes":[]}\n' \
                0 >"$d/pod"
        : >"$d/pod-created"
        echo lower >"$d/stage1/rootfs/opt/stage2/a/rootfs/etc/lower"
        mount -t overlay overlay -o "lowerdir=$d/stage1/rootfs/opt/stage2/a/rootfs,upperdir=$d/overlay/a/upper,workdir=$d/overlay/a/work" \
                "$d/mnt" || return 1
        echo upper >"$d/mnt/etc/upper"
        rm "$d/mnt/etc/lower"
        # shellcheck disable=SC2016
        bash -c 'exec 9<"$1"; flock -x 9; echo $$ >"$1/pid"; exec sleep 300' holder "$d" \
                </dev/null >/dev/null 2>&1 &
        HOLDER=$!
        PIDS+=("$HOLDER")
        wait_for 30 eval "! flock -n -s '$d' true"
}
R1=90000001-0000-4000-8000-000000000001
R2=90000002-0000-4000-8000-000000000002
if mkrun "$R1" && mkrun "$R2"; then
        assert_match "held pods are running" "$(pod_states)" "^$R1 running$"
        # The "reboot": the holders die; R1's overlay is gone too, R2's is still mounted.
        for p in "${PIDS[@]: -2}"; do
                kill -9 "$p" 2>/dev/null || true
                wait "$p" 2>/dev/null || true
        done
        umount "$PODS/run/$R1/mnt"
        tap_check "R1: overlay unmounted, its work dir left behind" \
                "$(test -d "$PODS/run/$R1/overlay/a/work/work"; echo $?)"
        states=$(pod_states)
        assert_match "a run/ pod whose lock is free is exited (mounts gone)" "$states" "^$R1 exited$"
        assert_match "a run/ pod whose lock is free is exited (mounts left)" "$states" "^$R2 exited$"
        run_pod "${P[@]}" status "$R1"
        assert_match "pod status: exited" "$OUT" "^exited=true$"
        run_pod "${P[@]}" gc --grace-period=0s
        assert_status "gc of the rebooted pods exits 0" 0
        tap_check "gc removed both pods" "$([ -z "$(leftovers)" ]; echo $?)" "$(leftovers)"
        tap_check "gc unmounted the overlay that was left" "$([ -z "$(our_mounts)" ]; echo $?)" \
                "$(our_mounts)"
else
        for _ in 1 2 3 4 5 6 7 8; do
                echo "ok $((TAP_N + 1)) # SKIP overlayfs cannot be mounted in $W"
                TAP_N=$((TAP_N + 1))
        done
fi

# ---- embryos left by a create that died ----------------------------------------------------
E1=a0000001-0000-4000-8000-000000000001
E2=a0000002-0000-4000-8000-000000000002
mkdir -p "$PODS/embryo/$E1" "$PODS/embryo/$E2"
: >"$PODS/embryo/$E1/pod-created"
assert_match "pod list shows an embryo" "$(pod_states)" "^$E1 embryo$"
run_pod "${P[@]}" gc
tap_check "gc keeps a young embryo within the grace period" "$(test -d "$PODS/embryo/$E1"; echo $?)"
# A create between its mkdir and its flock holds embryo/ shared: gc must leave embryos.
flock -s "$PODS/embryo" "$POD" "${P[@]}" gc --grace-period=0s >/dev/null 2>&1
tap_check "gc leaves embryos while a create is in progress" \
        "$(test -d "$PODS/embryo/$E1" && test -d "$PODS/embryo/$E2"; echo $?)"
# One whose creator still holds it (between its flock and the rename).
flock -x "$PODS/embryo/$E2" "$POD" "${P[@]}" gc --grace-period=0s >/dev/null 2>&1
tap_check "gc leaves a locked embryo" "$(test -d "$PODS/embryo/$E2"; echo $?)"
tap_check "gc collected the abandoned embryo" \
        "$(test ! -e "$PODS/embryo/$E1" && test ! -e "$PODS/garbage/$E1"; echo $?)"
run_pod "${P[@]}" gc --grace-period=0s
tap_check "gc collects it once its creator is gone" "$([ -z "$(leftovers)" ]; echo $?)" \
        "$(leftovers)"
run_pod "${P[@]}" run --net=none "$B" --exec=/bin/sh -- -c 'exit 5'
assert_status "pods still run after all this" 5

tap_done
