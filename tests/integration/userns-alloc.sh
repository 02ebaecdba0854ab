#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# --private-users, stage0's part (issue 14): ranges allocated by `pod prepare` and `pod run`
# (records in <dir>/userns, the pod dir's "private-users"), the refusals (base 0, another
# pod's range, the fly stage1), nothing left behind when allocation fails, the configured
# default (userns.conf) and --private-users=no over it, release by rm and gc, gc's sweep,
# status and its JSON, and what stage1 is given (a stand-in stage1 records its argv).  The
# user namespace itself is stage1's (tests of the whole feature: tests/vm, branch
# userns-tests).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

command -v jq >/dev/null || tap_skip_all "jq not installed"

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor" --insecure-options=image)
mkdir -p "$W/etc" "$W/vendor"

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac
mkdir -p "$W/img/rootfs/etc"
echo x >"$W/img/rootfs/etc/x"
cat >"$W/img/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/userns-alloc",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/true"],"user":"0","group":"0"}}
EOF
ACI=$W/userns.aci
"$POD" image build "$W/img" "$ACI" >/dev/null

# A stand-in stage1: records its arguments, runs nothing.  Only for run / run-prepared.
FAKE=$W/fake-stage1
printf '#!/bin/sh\nprintf "%%s\\n" "$@" >"%s/stage1-argv"\nexit 0\n' "$W" >"$FAKE"
chmod 0755 "$FAKE"

pods_left() { find "$D/pods" -mindepth 2 -maxdepth 2 | wc -l; }
records() { find "$D/userns" -maxdepth 1 -name '[0-9]*' -printf '%f\n' 2>/dev/null | sort; }

# As a user, pod is rootless: --private-users (a range nested in the user's own) is refused
# before anything is made (rootless.sh checks the same for users with and without a range).
if [ "$(id -u)" != 0 ]; then
        run_pod "${P[@]}" prepare --private-users "$ACI"
        assert_status "rootless: prepare --private-users is refused" 254
        assert_match "... saying why" "$ERR" "rootless pod already runs in your own user namespace"
        tap_check "... leaving no pod and no range" \
                "$([ "$(pods_left 2>/dev/null)" = 0 ] && [ -z "$(records)" ]; echo $?)"
        tap_check "the allocation tests: # SKIP need root (pod is rootless as a user)" 0
        tap_done
        exit
fi

# ---- pick ----------------------------------------------------------------------------------
run_pod "${P[@]}" prepare --private-users "$ACI"
assert_status "prepare --private-users (bare: pick)" 0
U1=$OUT
PU1=$(cat "$D/pods/prepared/$U1/private-users" 2>/dev/null || true)
assert_match "  the pod dir's private-users is 'BASE 65536'" "$PU1" '^[0-9]+ 65536$'
B1=${PU1% *}
tap_check "  BASE is 65536-aligned, in [0x80000, 0x6FFF0000]" \
        "$( ((B1 % 65536 == 0 && B1 >= 0x80000 && B1 <= 0x6FFF0000)); echo $?)" "base $B1"
assert_match "  record userns/BASE names the pod" "$(cat "$D/userns/$B1" 2>/dev/null)" \
        "^$U1 65536\$"
tap_check "  userns/ is 0700" "$([ "$(stat -c %a "$D/userns")" = 700 ]; echo $?)"

run_pod "${P[@]}" status "$U1"
assert_match "status prints private-users=BASE:COUNT" "$OUT" "^private-users=$B1:65536\$"
run_pod "${P[@]}" status --format=json "$U1"
tap_check "status JSON has private_users {base, count}" \
        "$([ "$(jq -c .private_users <<<"$OUT")" = "{\"base\":$B1,\"count\":65536}" ]; echo $?)" "$OUT"

run_pod "${P[@]}" list --format=json
tap_check "list JSON has it too" \
        "$([ "$(jq -c ".[] | select(.name == \"$U1\") | .private_users" <<<"$OUT")" = "{\"base\":$B1,\"count\":65536}" ]; echo $?)" "$OUT"

run_pod "${P[@]}" prepare --private-users=pick "$ACI"
assert_status "a second pick" 0
U2=$OUT
B2=$(cut -d' ' -f1 "$D/pods/prepared/$U2/private-users")
tap_check "  gets another range" "$([ "$B2" != "$B1" ]; echo $?)" "$B1 $B2"

# ---- refusals: nothing left behind -------------------------------------------------------
before=$(pods_left)
recs=$(records)
run_pod "${P[@]}" prepare --private-users=0 "$ACI"
assert_status "--private-users=0 is refused" 254
assert_match "  it says why" "$ERR" "host root"
run_pod "${P[@]}" prepare --private-users=4294967000 "$ACI"
assert_status "a range past 2^32-1 is refused" 254
run_pod "${P[@]}" prepare --private-users=maybe "$ACI"
assert_status "a bad value is refused" 254

run_pod "${P[@]}" prepare --uuid-file-save="$W/uuid-x" --private-users="$((B1 + 100)):10" "$ACI"
assert_status "a range inside another pod's is refused" 254
assert_match "  naming that pod" "$ERR" "$U1"
tap_check "  no pod dir is left behind" "$([ "$(pods_left)" = "$before" ]; echo $?)" \
        "$(find "$D/pods" -mindepth 2 -maxdepth 2)"
tap_check "  no record is left behind" "$([ "$(records)" = "$recs" ]; echo $?)"
tap_check "  no UUID file is left behind" "$([ ! -e "$W/uuid-x" ]; echo $?)"

run_pod "${P[@]}" prepare --no-overlay --private-users "$ACI"
assert_status "--private-users with --no-overlay is refused" 254
assert_match "  naming both" "$ERR" "--no-overlay.*--private-users"

run_pod "${P[@]}" prepare --private-users="$((B1 - 5)):6" "$ACI"
assert_status "a range overlapping another pod's first ID is refused" 254
run_pod "${P[@]}" prepare --private-users="$((B1 - 5)):5" "$ACI"
assert_status "the range just below is accepted" 0
U3=$OUT
assert_match "  recorded as given" "$(cat "$D/pods/prepared/$U3/private-users")" \
        "^$((B1 - 5)) 5\$"

# ---- fly ---------------------------------------------------------------------------------
run_pod "${P[@]}" fly --private-users "$ACI"
assert_status "pod fly --private-users is refused" 254
if [ "$(id -u)" != 0 ] && grep -q "Refusing stage1 .*not root" <<<"$ERR"; then
        # As a user, the build's pod-stage1-fly (the user's own) is refused first.
        tap_check "  with a clear error: # SKIP the fly stage1 here is not root's" 0
else
        assert_match "  with a clear error" "$ERR" "--private-users.*fly"
fi
run_pod "${P[@]}" prepare --stage1-from-dir=pod-stage1-fly --private-users "$ACI"
if [ "$STATUS" = 254 ] && grep -q -- "--private-users" <<<"$ERR"; then
        tap_check "prepare --stage1-from-dir=pod-stage1-fly --private-users is refused" 0
elif grep -q "stage1" <<<"$ERR"; then
        tap_check "prepare for the fly stage1: # SKIP no usable pod-stage1-fly here" 0
else
        tap_check "prepare --stage1-from-dir=pod-stage1-fly --private-users is refused" 1 "$ERR"
fi
tap_check "  nothing left behind by the refusals" \
        "$([ "$(pods_left)" = "$((before + 1))" ]; echo $?)"

# ---- the configured default --------------------------------------------------------------
echo 'private-users = pick' >"$W/vendor/userns.conf"
run_pod "${P[@]}" prepare "$ACI"
assert_status "vendor userns.conf: pick by default" 0
tap_check "  the pod has a range" "$([ -s "$D/pods/prepared/$OUT/private-users" ]; echo $?)"
run_pod "${P[@]}" prepare --private-users=no "$ACI"
assert_status "--private-users=no over the default" 0
tap_check "  the pod has no range" "$([ ! -e "$D/pods/prepared/$OUT/private-users" ]; echo $?)"
UNO=$OUT
run_pod "${P[@]}" status "$UNO"
assert_no_match "  status shows none" "$OUT" "private-users"
run_pod "${P[@]}" prepare --no-overlay "$ACI"
assert_status "the configured default with --no-overlay is refused" 254
assert_match "  naming userns.conf" "$ERR" "userns.conf"
echo 'private-users = false' >"$W/etc/userns.conf"
run_pod "${P[@]}" prepare "$ACI"
tap_check "the admin's userns.conf wins over the vendor's" \
        "$([ "$STATUS" = 0 ] && [ ! -e "$D/pods/prepared/$OUT/private-users" ]; echo $?)"
echo 'private-users = 0' >"$W/etc/userns.conf"
run_pod "${P[@]}" prepare "$ACI"
assert_status "a bad userns.conf is an error" 254
assert_match "  naming the file and line" "$ERR" "userns.conf:1"
rm -f "$W/etc/userns.conf" "$W/vendor/userns.conf"

# ---- what stage1 gets ----------------------------------------------------------------------
POD_STAGE1=$FAKE run_pod "${P[@]}" run-prepared "$U2"
assert_status "run-prepared with a stand-in stage1" 0
assert_match "  stage1 gets --private-users=BASE:COUNT" "$(cat "$W/stage1-argv")" \
        "^--private-users=$B2:65536\$"
rm -f "$W/stage1-argv"
POD_STAGE1=$FAKE run_pod "${P[@]}" run-prepared "$UNO"
assert_no_match "  a pod without a range: no --private-users" "$(cat "$W/stage1-argv")" \
        "private-users"
rm -f "$W/stage1-argv"
POD_STAGE1=$FAKE run_pod "${P[@]}" run --net=none --private-users=3000000000:1000 "$ACI"
assert_status "run --private-users=UID:COUNT" 0
assert_match "  stage1 gets it" "$(cat "$W/stage1-argv")" "^--private-users=3000000000:1000\$"
assert_match "  recorded" "$(cat "$D/userns/3000000000")" " 1000\$"

if [ "$(id -u)" != 0 ]; then
        # What follows builds files of other owners and mounts: root only.
        tap_check "export with the IDs shifted back: # SKIP needs root (chown, mounts)" 0
        tap_done
        exit
fi

# ---- export: the pod's writes shifted back (a pod dir as stage1 leaves it, made by hand) ----
# The image has root's /etc/x and user 1000's /home/u; the "pod" (root = host BASE) wrote
# /new (as its user 1000), /home/u/mine (its root) and changed /etc (copied up).
mkdir -p "$W/img2/rootfs/etc" "$W/img2/rootfs/home/u"
echo image >"$W/img2/rootfs/etc/x"
chown 1000:1000 "$W/img2/rootfs/home/u"
mkdir "$W/img2/rootfs/srv"
echo only >"$W/img2/rootfs/srv/lower-only"
chown 1000:1001 "$W/img2/rootfs/srv/lower-only"
sed 's/userns-alloc"/userns-export"/' "$W/img/manifest" >"$W/img2/manifest"
"$POD" image build "$W/img2" "$W/export.aci" >/dev/null
run_pod "${P[@]}" prepare --private-users=3000100000 "$W/export.aci"
assert_status "prepare a pod to export" 0
UE=$OUT
app=$(jq -r '.apps[0].name' "$D/pods/prepared/$UE/pod")
up=$D/pods/prepared/$UE/overlay/$app/upper
mkdir -p "$up/etc" "$up/home/u"
echo new >"$up/new"
echo mine >"$up/home/u/mine"
echo changed >"$up/etc/x"
chown 3000100000:3000100000 "$up" "$up/etc" "$up/etc/x" "$up/home" "$up/home/u/mine"
chown 3000101000:3000101000 "$up/new" "$up/home/u"
mv "$D/pods/prepared/$UE" "$D/pods/run/$UE" # exited: in run/, unlocked
owners() { tar -tvzf "$1" 2>/dev/null | awk '{ print $2, $6 }'; }
run_pod "${P[@]}" export "$UE" "$W/out.aci"
if [ "$STATUS" != 0 ] && grep -qi "idmap" <<<"$ERR"; then
        tap_check "export: # SKIP no idmapped mounts here ($ERR)" 0
else
        assert_status "export of a --private-users pod" 0
        O=$(owners "$W/out.aci")
        assert_match "  what the pod's user 1000 wrote is 1000's" "$O" "^1000/1000 rootfs/new\$"
        assert_match "  what the pod's root wrote is root's" "$O" "^0/0 rootfs/home/u/mine\$"
        assert_match "  a copied-up file is root's" "$O" "^0/0 rootfs/etc/x\$"
        assert_match "  the image's user 1000 stays 1000" "$O" "^1000/1000 rootfs/home/u/\$"
        assert_match "  the root directory is root's" "$O" "^0/0 rootfs/\$"
        assert_match "  the image's files the pod left alone keep their owners" "$O" \
                "^1000/1001 rootfs/srv/lower-only\$"
        assert_match "  the image's root-owned directory stays root's" "$O" "^0/0 rootfs/srv/\$"
        assert_no_match "  no host ID of the range is left" "$O" "^3000"
        # A file in the upper dir that the pod cannot have made: host root's.
        up=$D/pods/run/$UE/overlay/$app/upper
        echo x >"$up/planted"
        run_pod "${P[@]}" export --overwrite "$UE" "$W/out2.aci"
        assert_status "export with a file outside the range is refused" 254
        assert_match "  naming the file" "$ERR" "planted.*outside the pod's range"
        tap_check "  nothing written" "$([ ! -e "$W/out2.aci" ]; echo $?)"
fi

# ---- release: rm, gc, the sweep ----------------------------------------------------------
run_pod "${P[@]}" rm "$U1"
assert_status "rm of a pod with a range" 0
tap_check "  its record is gone" "$([ ! -e "$D/userns/$B1" ]; echo $?)"
tap_check "  the others stay" "$([ -e "$D/userns/$B2" ]; echo $?)"
run_pod "${P[@]}" prepare --private-users="$B1" "$ACI"
assert_status "its range can be given out again" 0
U4=$OUT

# A record whose pod is gone (a crash between deletion and release), and a pod dir deleted
# behind pod's back: gc sweeps both.
echo "deadbeef-0000-4000-8000-000000000001 65536" >"$D/userns/2000000000"
chmod 0600 "$D/userns/2000000000"
rm -rf "${D:?}/pods/prepared/$U3"
run_pod "${P[@]}" gc --grace-period=0s
assert_status "gc" 0
tap_check "  sweeps a record of a pod that never existed here" \
        "$([ ! -e "$D/userns/2000000000" ]; echo $?)"
tap_check "  sweeps the record of a vanished pod" "$([ ! -e "$D/userns/$((B1 - 5))" ]; echo $?)"
tap_check "  keeps the records of existing pods" \
        "$([ "$(cat "$D/userns/$B1" 2>/dev/null)" = "$U4 65536" ]; echo $?)"
tap_check "  releases the range of the exited pod it removed" "$([ ! -e "$D/userns/$B2" ]; echo $?)"
assert_match "  says so" "$ERR" "released 2 "

run_pod "${P[@]}" gc --grace-period=0s --expire-prepared=0s
assert_status "gc expiring every prepared pod" 0
tap_check "  releases every range" "$([ -z "$(records)" ]; echo $?)" "$(records)"
tap_check "  and removes every pod" "$([ "$(pods_left)" = 0 ]; echo $?)" \
        "$(find "$D/pods" -mindepth 2 -maxdepth 2)"
tap_done
