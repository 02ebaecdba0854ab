#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The shipped units under a real systemd (runs in the VM testbed, tests/vm/suite):
# units/*.in installed into /etc/systemd/system with @bindir@ pointing at a wrapper that
# runs the built $POD on a state directory of the test's own; pod-gc.timer enabled and
# listed, pod-gc.service run, tmpfiles.d/pod.conf applied, and pod@<escaped image>.service
# started (the pod runs in the service as its unit), stopped (the pod is removed).
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"

SRC=${top_srcdir:-$(dirname "$0")/../..}
[ "$(id -u)" = 0 ] || tap_skip_all "needs root"
if [ "$(cat /proc/1/comm 2>/dev/null)" != systemd ] || [ ! -d /run/systemd/system ]; then
        tap_skip_all "needs systemd as PID 1 (run it in the VM: make check-vm)"
fi
"$POD" help run >/dev/null 2>&1 || tap_skip_all "this pod has no 'run' verb yet"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
command -v gpg >/dev/null || tap_skip_all "needs gpg"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

W=$TAP_TMP
D=$W/data
UNITDIR=/etc/systemd/system
IMAGE=example.com/sleeper:1.0
INST="pod@$(systemd-escape "$IMAGE").service"
cleanup() {
        systemctl stop "$INST" pod-gc.timer pod-gc.service 2>/dev/null || true
        systemctl disable pod-gc.timer 2>/dev/null || true
        rm -rf "$UNITDIR/pod-gc.service" "$UNITDIR/pod-gc.timer" "$UNITDIR/pod@.service" \
                "$UNITDIR/pod@.service.d"
        systemctl daemon-reload || true
        systemctl reset-failed 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

wait_for() { # wait_for SECONDS COMMAND...: polls every 0.1 s
        local i
        for ((i = 0; i < $1 * 10; i++)); do
                "${@:2}" && return 0
                sleep 0.1
        done
        return 1
}

# The "installed" pod: the built binary on the test's state directory, with the built
# stage1 (what make install would put in place).
mkdir -p "$W/bin"
cat >"$W/bin/pod" <<EOF
#!/bin/sh
POD_STAGE1='$POD_STAGE1' exec '$POD' --dir='$D' --local-config='$W/etc' "\$@"
EOF
chmod 755 "$W/bin/pod"

subst() { sed -e "s|@bindir@|$W/bin|g" -e "s|@localstatedir@|$W/var|g" "$1"; }
for u in pod-gc.service pod-gc.timer pod@.service; do
        subst "$SRC/units/$u.in" >"$UNITDIR/$u"
done
subst "$SRC/units/pod.conf.in" >"$W/pod.conf"
tap_ok "units substituted: no @...@ left" -- bash -c "! grep -n '@[a-z]*@' '$UNITDIR/pod-gc.service' '$UNITDIR/pod-gc.timer' '$UNITDIR/pod@.service' '$W/pod.conf'"
tap_ok "daemon-reload" -- systemctl daemon-reload
tap_ok "systemd-analyze verify pod-gc.service pod-gc.timer" -- \
        systemd-analyze verify --man=no "$UNITDIR/pod-gc.service" "$UNITDIR/pod-gc.timer"

# ---- tmpfiles.d ----------------------------------------------------------------------------
tap_ok "systemd-tmpfiles --create pod.conf" -- systemd-tmpfiles --create "$W/pod.conf"
tap_check "state directory created 0700 (private: set-uid binaries of images)" \
        "$([ "$(stat -c %a "$W/var/lib/pod" 2>/dev/null)" = 700 ]; echo $?)"
tap_check "/run/pod created 0755" "$([ "$(stat -c %a /run/pod 2>/dev/null)" = 755 ]; echo $?)"

# ---- pod-gc.timer / pod-gc.service ---------------------------------------------------------
tap_ok "systemctl enable --now pod-gc.timer" -- systemctl enable --now pod-gc.timer
tap_check "the timer is active" "$(systemctl is-active --quiet pod-gc.timer; echo $?)"
tap_check "the timer is enabled" "$(systemctl is-enabled --quiet pod-gc.timer; echo $?)"
TIMERS=$(systemctl list-timers --all --no-pager 2>&1)
assert_match "systemctl list-timers shows it, for pod-gc.service" "$TIMERS" "pod-gc\.timer +pod-gc\.service"
tap_ok "pod-gc.service runs pod gc successfully" -- systemctl start pod-gc.service
assert_match "and its result is success" "$(systemctl show -p Result pod-gc.service)" "^Result=success$"

# ---- pod@.service --------------------------------------------------------------------------
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac
IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
for a in $("$BUSYBOX" --list); do
        [ "$a" = busybox ] || ln -s busybox "$IMG/rootfs/bin/$a"
done
echo 'root:x:0:0:root:/root:/bin/sh' >"$IMG/rootfs/etc/passwd"
echo 'root:x:0:' >"$IMG/rootfs/etc/group"
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/sleeper",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","trap 'exit 0' TERM; echo sleeping; while :; do sleep 0.1; done"],
        "user":"0","group":"0"}}
EOF
"$POD" image build "$IMG" "$W/sleeper.aci" >/dev/null
# Signed and fetched: the unit runs the image by name, which takes a verified image only.
export GNUPGHOME=$W/gnupg
mkdir -m 0700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key 'Test <test@example.com>' ed25519 sign never 2>/dev/null
gpg --batch --armor --export test@example.com >"$W/key.asc" 2>/dev/null
gpg --batch --yes --armor --local-user test@example.com --detach-sign -o "$W/sleeper.aci.asc" \
        "$W/sleeper.aci" 2>/dev/null
run_pod --dir="$D" --local-config="$W/etc" trust --root --skip-fingerprint-review "$W/key.asc"
assert_status "trust the test key" 0
run_pod --dir="$D" --local-config="$W/etc" fetch --quiet "$W/sleeper.aci"
assert_status "the test image is in the store" 0

assert_match "the instance name is the escaped image" "$INST" '^pod@example\.com-sleeper:1\.0\.service$'
tap_ok "systemctl start $INST" -- systemctl start "$INST"
UF=/run/pod/units/$INST.uuid
wait_for 120 test -s "$UF" || true
U=$(cat "$UF" 2>/dev/null || true)
tap_check "the pod's UUID is saved in /run/pod/units" "$([ -n "$U" ]; echo $?)" \
        "$(systemctl status --no-pager "$INST" 2>&1; journalctl -u "$INST" --no-pager 2>&1 | tail -n 20)"
wait_for 120 test -e "$D/pods/run/$U/pid" || true
tap_check "the service is active" "$(systemctl is-active --quiet "$INST"; echo $?)"
run_pod --dir="$D" list --full --no-legend
assert_match "pod list shows the pod running" "$OUT" "^$U +sleeper +example\.com/sleeper +sha512-[0-9a-f]+ +running "
tap_check "the service is the pod's unit (kept)" \
        "$([ "$(cat "$D/pods/run/$U/unit" 2>/dev/null)" = "$INST" ]; echo $?)" \
        "unit: $(cat "$D/pods/run/$U/unit" 2>/dev/null)"
assert_match "the service's main process is pod-stage1" \
        "$(ps -o comm= -p "$(systemctl show -p MainPID --value "$INST")" 2>&1)" "^pod-stage1"
wait_for 30 bash -c "journalctl -u '$INST' --no-pager | grep -q sleeping" || true
tap_check "the app's output is in the service's journal" \
        "$(journalctl -u "$INST" --no-pager | grep -q sleeping; echo $?)"

tap_ok "systemctl stop $INST" -- systemctl stop "$INST"
tap_check "the service is inactive (the app exited 0 on SIGTERM)" \
        "$([ "$(systemctl is-active "$INST")" = inactive ]; echo $?)" \
        "$(systemctl status --no-pager "$INST" 2>&1 | tail -n 20)"
run_pod --dir="$D" list --full --no-legend
assert_no_match "pod list no longer shows the pod" "$OUT" "^$U "
tap_check "its directory is gone" \
        "$(! ls -d "$D"/pods/*/"$U" >/dev/null 2>&1; echo $?)"

# A pod that never starts (unknown image): the service fails, ExecStopPost tolerates the
# missing UUID file.
BAD="pod@$(systemd-escape example.com/no-such-image).service"
rm -f "/run/pod/units/$BAD.uuid"
systemctl start "$BAD" >/dev/null 2>&1 || true
wait_for 60 bash -c "systemctl is-failed --quiet '$BAD'" || true
assert_match "an unknown image: the service fails with the exit code" \
        "$(systemctl show -p Result "$BAD")" "^Result=exit-code$"
systemctl reset-failed "$BAD" 2>/dev/null || true
tap_done
