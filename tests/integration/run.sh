#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod run / prepare / run-prepared end to end on this host (root, no systemd needed): a
# busybox-static image built with `pod image build`, signed with a throwaway GnuPG key that
# a private --local-config trusts, fetched as a local file, then run with the real
# pod-stage1 in a private --dir.  Tests that need systemd are in tests/vm/test-run-systemd.sh.
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
command -v gpg >/dev/null || tap_skip_all "needs gpg"
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null ||
        tap_skip_all "no overlayfs"
unshare --mount --pid --fork true 2>/dev/null || tap_skip_all "cannot create namespaces here"

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor")
# Mount points below the test dir (the store and the pod dirs are there): other programs on a
# shared machine mount and unmount elsewhere while this runs.
pod_mounts() { awk -v w="$W/" 'index($5, w) == 1 { print $5 }' /proc/self/mountinfo | sort; }
MOUNTS_BEFORE=$(pod_mounts)
export GNUPGHOME="$W/gnupg"
mkdir -m 0700 "$GNUPGHOME"

case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- the image: busybox with its applets, a passwd with a user, a mount point ------------
IMG=$W/img
mkdir -p "$IMG/rootfs/bin" "$IMG/rootfs/etc" "$IMG/rootfs/home/alice"
cp "$BUSYBOX" "$IMG/rootfs/bin/busybox"
# The applets used here (not all: the VM testbed may emulate the CPU, every fork counts).
for a in sh echo env hostname cat grep seq sleep touch id pwd httpd mkdir true; do
        ln -s busybox "$IMG/rootfs/bin/$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nalice:x:1000:1001:Alice:/home/alice:/bin/sh\n' \
        >"$IMG/rootfs/etc/passwd"
printf 'root:x:0:\nstaff:x:1001:\n' >"$IMG/rootfs/etc/group"
echo image-file >"$IMG/rootfs/etc/image-file"
echo 'nameserver 192.0.2.99' >"$IMG/rootfs/etc/resolv.conf"
cat >"$IMG/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/busybox",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","echo image-exec"],"user":"0","group":"0",
        "environment":[{"name":"FROM_IMAGE","value":"image"},{"name":"LEVEL","value":"image"}],
        "mountPoints":[{"name":"data","path":"/data"}]}}
EOF
ACI=$W/busybox.aci
"$POD" image build "$IMG" "$ACI" >/dev/null
gpg --batch --passphrase '' --quick-gen-key 'Test <test@example.com>' ed25519 sign never 2>/dev/null
gpg --batch --armor --export test@example.com >"$W/key.asc" 2>/dev/null
gpg --batch --yes --armor --local-user test@example.com --detach-sign -o "$ACI.asc" "$ACI" 2>/dev/null

run_pod "${P[@]}" run --net=none "$ACI"
assert_status "a signed image from an untrusted key is refused" 254
run_pod "${P[@]}" trust --root --skip-fingerprint-review "$W/key.asc"
assert_status "trust the test key for every image" 0
run_pod "${P[@]}" run --net=none "$ACI"
assert_status "pod run of a signed local ACI" 0
assert_match "the image's exec ran" "$OUT" "^image-exec$"

# From here on by name: --pull-policy=new (the default) takes the stored image.
B=example.com/busybox
pod_sh() { # pod_sh [POD FLAGS...] SCRIPT: runs the image with /bin/sh -c SCRIPT
        local script=${*: -1}
        run_pod "${P[@]}" run --net=none "${@:1:$#-1}" "$B" --exec=/bin/sh -- -c "$script"
}

# ---- exit status, exec, arguments --------------------------------------------------------
pod_sh 'exit 7'
assert_status "the app's exit status is pod run's" 7
pod_sh 'kill -9 $$'
assert_status "an app killed by SIGKILL gives 137" 137
# rkt's rule for appc images: --exec replaces the whole exec, -- ARGS are appended.
run_pod "${P[@]}" run --net=none "$B" --exec=/bin/echo
assert_status "--exec alone" 0
tap_check "--exec replaces the whole exec: the image's arguments are dropped" \
        "$([ -z "$OUT" ]; echo $?)" "$OUT"
run_pod "${P[@]}" run --net=none "$B" --exec=/bin/echo -- one two
assert_match "--exec with -- ARGS: the command with these arguments" "$OUT" "^one two$"
run_pod "${P[@]}" run --net=none "$B" -- extra-arg
assert_match "-- ARGS are appended to the image's exec (sh -c SCRIPT \$0)" "$OUT" "^image-exec$"
run_pod "${P[@]}" run --net=none "$B" --exec=/bin/sh -- -c 'echo "$0"' appended
assert_match "... and reach it as arguments" "$OUT" "^appended$"

# ---- environment -------------------------------------------------------------------------
printf '# comment\n; also a comment (rkt)\nFROM_FILE=file\nLEVEL=file\n\n' >"$W/env"
run_pod "${P[@]}" run --net=none --set-env-file="$W/env" --set-env=LEVEL=set-env --set-env=POD=pod \
        "$B" --environment=LEVEL=app --exec=/bin/sh -- -c 'env'
assert_status "environment pod" 0
assert_match "image environment" "$OUT" "^FROM_IMAGE=image$"
assert_match "--set-env-file" "$OUT" "^FROM_FILE=file$"
assert_match "--set-env" "$OUT" "^POD=pod$"
assert_match "--environment wins over --set-env, the file and the image" "$OUT" "^LEVEL=app$"
assert_match "exact ACE PATH" "$OUT" \
        "^PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$"
assert_match "AC_APP_NAME from the image name" "$OUT" "^AC_APP_NAME=busybox$"
run_pod "${P[@]}" run --net=none --set-env-file="$W/env" --set-env=LEVEL=set-env "$B" \
        --exec=/bin/sh -- -c 'echo $LEVEL'
assert_match "--set-env wins over the file" "$OUT" "^set-env$"
run_pod "${P[@]}" run --net=none --set-env-file="$W/env" "$B" --exec=/bin/sh -- -c 'echo $LEVEL'
assert_match "the file wins over the image" "$OUT" "^file$"
INHERITED=from-host run_pod "${P[@]}" run --net=none --inherit-env "$B" --exec=/bin/sh -- -c 'echo $INHERITED'
assert_match "--inherit-env passes pod's environment" "$OUT" "^from-host$"
LEVEL=host run_pod "${P[@]}" run --net=none --inherit-env "$B" --exec=/bin/sh -- -c 'echo $LEVEL'
assert_match "the image wins over the inherited environment" "$OUT" "^image$"
run_pod "${P[@]}" run --net=none --set-env='1BAD=x' "$B"
assert_status "an invalid variable name is refused" 254
assert_match "message names it" "$ERR" "1BAD"

# ---- names, hostname, UUID, status -------------------------------------------------------
pod_sh --uuid-file-save="$W/uuid" 'hostname; exit 3'
assert_status "status 3" 3
UUID=$(cat "$W/uuid")
tap_check "--uuid-file-save holds a bare UUID" \
        "$(grep -Eqx '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}' "$W/uuid" &&
                [ "$(wc -c <"$W/uuid")" = 36 ]; echo $?)"
assert_match "default hostname pod-<uuid>" "$OUT" "^pod-$UUID$"
run_pod "${P[@]}" status "$UUID"
assert_match "pod status: exited" "$OUT" "^state=exited$"
assert_match "pod status: app-busybox=3" "$OUT" "^app-busybox=3$"
run_pod "${P[@]}" list --full --no-legend
assert_match "pod list shows it exited" "$OUT" "^${UUID}[[:space:]]+busybox[[:space:]].*exited"
pod_sh --hostname=myhost 'hostname'
assert_match "--hostname" "$OUT" "^myhost$"
run_pod "${P[@]}" run --net=none "$B" --name=Bad_Name
assert_status "an invalid --name is refused" 254
run_pod "${P[@]}" run --net=none "$B" --- "$B"
assert_status "two apps with the same default name are refused" 254
assert_match "message says to give --name" "$ERR" "--name"

# ---- volumes and mounts ------------------------------------------------------------------
mkdir -p "$W/host"
echo host-content >"$W/host/file"
pod_sh --volume=hv,kind=host,source="$W/host",readOnly=true --mount=volume=hv,target=/mnt \
        'cat /mnt/file; echo x > /mnt/new && echo wrote'
assert_match "a host volume shows the host's files" "$OUT" "^host-content$"
assert_no_match "a read-only host volume is not writable" "$OUT" "^wrote$"
tap_check "nothing reached the host" "$([ ! -e "$W/host/new" ]; echo $?)"
pod_sh --volume=hv,kind=host,source="$W/host" --mount=volume=hv,target=/mnt \
        'echo from-pod > /mnt/new && echo wrote'
assert_match "a read-write host volume is writable" "$OUT" "^wrote$"
tap_check "the write reached the host" "$(grep -qx from-pod "$W/host/new"; echo $?)"
ln -s "$W/host" "$W/link"
pod_sh --volume=hv,kind=host,source="$W/link" --mount=volume=hv,target=/mnt 'true'
assert_status "a symlinked host source is refused" 254
assert_match "message says symlink" "$ERR" "symlink"
pod_sh --volume=hv,kind=host,source=relative 'true'
assert_status "a relative host source is refused" 254
pod_sh --mount=volume=nope,target=/x 'true'
assert_status "a mount of an undefined volume is refused" 254
pod_sh 'grep -q " /data " /proc/self/mountinfo && echo data-mounted'
assert_match "an unsatisfied mountPoint gets an empty volume" "$OUT" "^data-mounted$"
pod_sh --volume=data,kind=host,source="$W/host" 'cat /data/file'
assert_match "a volume named like the mountPoint satisfies it" "$OUT" "^host-content$"
run_pod "${P[@]}" run --net=none --volume=shared,kind=empty,mode=0777 \
        "$B" --name=writer --mount=volume=shared,target=/shared --exec=/bin/sh -- \
        -c 'echo hi-from-writer > /shared/msg' \
        --- "$B" --name=reader --mount=volume=shared,target=/shared --exec=/bin/sh -- \
        -c 'for i in $(seq 50); do [ -f /shared/msg ] && break; sleep 0.1; done; cat /shared/msg'
assert_status "two apps with a shared empty volume" 0
assert_match "the reader sees the writer's file" "$OUT" "^hi-from-writer$"

# ---- root file system --------------------------------------------------------------------
pod_sh 'echo changed > /etc/image-file; cat /etc/image-file'
assert_match "the rootfs is writable (overlay)" "$OUT" "^changed$"
pod_sh 'cat /etc/image-file'
assert_match "every pod starts from the image (fresh rootfs)" "$OUT" "^image-file$"
pod_sh --no-overlay --uuid-file-save="$W/uuid-no" 'echo changed > /etc/image-file; cat /etc/image-file'
assert_match "--no-overlay: writable private copy" "$OUT" "^changed$"
pod_sh 'cat /etc/image-file'
assert_match "--no-overlay did not write the image" "$OUT" "^image-file$"
pod_sh --readonly-rootfs 'touch /x && echo wrote'
assert_no_match "--readonly-rootfs" "$OUT" "^wrote$"
# rkt's pflag booleans: --flag=true|false
pod_sh --readonly-rootfs=true 'touch /x && echo wrote'
assert_no_match "--readonly-rootfs=true" "$OUT" "^wrote$"
pod_sh --readonly-rootfs=false 'touch /x && echo wrote'
assert_match "--readonly-rootfs=false" "$OUT" "^wrote$"
pod_sh --readonly-rootfs=maybe 'true'
assert_status "--readonly-rootfs=maybe is refused" 254
assert_match "naming the flag and the value" "$ERR" "Invalid value 'maybe' for --readonly-rootfs"
pod_sh --mds-register=false 'echo ran'
assert_match "--mds-register=false (rkt's default) is accepted" "$OUT" "^ran$"
pod_sh --mds-register 'echo "ran ${AC_METADATA_URL:+with-mds}"'
assert_status "--mds-register=true is accepted (a no-op: every pod has its metadata service)" 0
assert_match "and the app has AC_METADATA_URL" "$OUT" "^ran with-mds$"
pod_sh --no-overlay=true 'echo changed > /etc/image-file; cat /etc/image-file'
assert_match "--no-overlay=true (rkt's documentation example)" "$OUT" "^changed$"
# --readonly-rootfs per app: only that app's root is read-only.
run_pod "${P[@]}" run --net=none "$B" --name=ro --readonly-rootfs --exec=/bin/sh -- \
        -c 'touch /x 2>/dev/null && echo ro-wrote || echo ro-refused' \
        --- "$B" --name=rw --exec=/bin/sh -- -c 'touch /x && echo rw-wrote'
assert_match "--readonly-rootfs after an image: that app's root is read-only" "$OUT" "^ro-refused$"
assert_match "the other app's is not" "$OUT" "^rw-wrote$"

# ---- identity and isolators --------------------------------------------------------------
run_pod "${P[@]}" run --net=none "$B" --user=alice --group=staff --supplementary-gids=5,6 \
        --working-dir=/home/alice --exec=/bin/sh -- -c 'id -u; id -g; id -G; pwd; echo $HOME'
assert_match "--user by name from the image's passwd" "$(sed -n 1p <<<"$OUT")" "^1000$"
assert_match "--group by name" "$(sed -n 2p <<<"$OUT")" "^1001$"
assert_match "--supplementary-gids" "$(sed -n 3p <<<"$OUT")" "(^| )5 6($| )"
assert_match "--working-dir" "$(sed -n 4p <<<"$OUT")" "^/home/alice$"
# A hostile --working-dir, --exec or --user: they resolve inside the image, never through a
# /proc magic link to the host (a marker on the host must stay unseen; tests/integration/
# confine.sh has the image-manifest variants).
TOKEN=host-marker-$RANDOM$RANDOM
echo "$TOKEN" >"$W/marker"
for opt in --working-dir=/proc/1/root --working-dir=/proc/1/cwd/.. --working-dir=/proc/self/root \
        --exec=/proc/1/root/bin/sh --user=/proc/1/root/etc/shadow; do
        case $opt in --exec=*) ex=() ;; *) ex=(--exec=/bin/sh) ;; esac
        run_pod "${P[@]}" run --net=none "$B" "$opt" "${ex[@]}" -- \
                -c "cat ${W#/}/marker $W/marker; pwd; id -u"
        r=0
        grep -q "$TOKEN" <<<"$OUT$ERR" && r=1
        tap_check "$opt: the host stays unseen" "$r" "$OUT $ERR"
        assert_status "$opt: the pod fails" 254
done
run_pod "${P[@]}" run --net=none "$B" --user=nobody-here
assert_status "a user not in the image fails the pod" 254
pod_sh 'httpd -p 80 -h / && echo bound'
assert_match "binding port 80 works with the default capabilities" "$OUT" "^bound$"
run_pod "${P[@]}" run --net=none "$B" --caps-remove=CAP_NET_BIND_SERVICE --exec=/bin/sh -- \
        -c 'httpd -p 80 -h / && echo bound'
assert_no_match "--caps-remove=CAP_NET_BIND_SERVICE: binding port 80 fails" "$OUT" "^bound$"
assert_match "with EACCES" "$ERR" "ermission denied"
run_pod "${P[@]}" run --net=none "$B" --caps-retain=CAP_NET_BIND_SERVICE --exec=/bin/sh -- \
        -c 'grep CapEff /proc/self/status'
assert_match "--caps-retain sets exactly the set" "$OUT" "CapEff:[[:space:]]+0000000000000400$"
run_pod "${P[@]}" run --net=none "$B" --seccomp=mode=remove,errno=ENOTSUP,mkdir,mkdirat \
        --exec=/bin/sh -- -c 'mkdir /newdir'
assert_match "--seccomp remove: mkdir fails with ENOTSUP" "$ERR" "not supported"
run_pod "${P[@]}" run --net=none "$B" --seccomp=mode=remove,errno=EBOGUS,mkdir
assert_status "an unknown errno is refused" 254
run_pod "${P[@]}" run --net=none "$B" --memory=lots
assert_status "an invalid quantity is refused" 254
assert_match "naming the flag" "$ERR" "--memory"

# ---- networking flags (CNI networks themselves: tests/integration/net.sh) ------------------
run_pod "${P[@]}" run --net=host --port=http:8080 "$B"
assert_status "--port with --net=host is refused" 254
assert_match "message names --port" "$ERR" "--port needs a CNI network"
run_pod "${P[@]}" run --net=bad/name "$B"
assert_status "an invalid network name is refused" 254
run_pod "${P[@]}" run --port=http "$B"
assert_status "--port without a host port is refused" 254
run_pod "${P[@]}" run --hosts-entry=not-an-ip=x "$B"
assert_status "a bad --hosts-entry is refused" 254
pod_sh --hosts-entry=192.0.2.9=db,db.example 'cat /etc/hosts'
assert_match "--hosts-entry adds a line" "$OUT" "^192\.0\.2\.9[[:space:]]+db db\.example$"
assert_match "and keeps localhost" "$OUT" "^127\.0\.0\.1[[:space:]]+localhost"
pod_sh --hosts-entry=host 'cat /etc/hosts'
tap_check "--hosts-entry=host copies the host's /etc/hosts" \
        "$([ "$OUT" = "$(cat /etc/hosts)" ]; echo $?)" "$OUT"
pod_sh --dns=192.0.2.1 --dns=2001:db8::1 --dns-search=a.example --dns-search=b.example \
        --dns-opt=ndots:2 --dns-domain=example.org 'cat /etc/resolv.conf'
assert_status "--dns with addresses" 0
assert_match "nameserver lines" "$OUT" "^nameserver 192\.0\.2\.1$"
assert_match "IPv6 nameserver" "$OUT" "^nameserver 2001:db8::1$"
assert_match "--dns-search" "$OUT" "^search a\.example b\.example$"
assert_match "--dns-opt" "$OUT" "^options ndots:2$"
assert_match "--dns-domain" "$OUT" "^domain example\.org$"
if [ -f /etc/resolv.conf ]; then
        pod_sh --dns=host 'cat /etc/resolv.conf'
        tap_check "--dns=host copies the host's resolv.conf" \
                "$([ "$OUT" = "$(cat /etc/resolv.conf)" ]; echo $?)" "$OUT"
fi
pod_sh --dns=none 'cat /etc/resolv.conf'
assert_match "--dns=none leaves the image's" "$OUT" "^nameserver 192\.0\.2\.99$"
pod_sh --dns=8.8.8.8,1.1.1.1 --dns=192.0.2.9 'grep ^nameserver /etc/resolv.conf | tr "\n" " "'
assert_match "--dns=IP1,IP2 splits on commas (rkt)" "$OUT" \
        "^nameserver 8\.8\.8\.8 nameserver 1\.1\.1\.1 nameserver 192\.0\.2\.9 $"
# issue 13 bug 2: pod export puts the image's own resolv.conf back over the generated one.
pod_sh --dns=192.0.2.7 --uuid-file-save="$W/dns-uuid" 'true'
run_pod "${P[@]}" export "$(cat "$W/dns-uuid")" "$W/dns-export.aci"
assert_status "export of a pod whose resolv.conf pod generated" 0
tap_check "the export has the image's own resolv.conf, not the generated one" \
        "$(tar -xzOf "$W/dns-export.aci" rootfs/etc/resolv.conf | grep -qx 'nameserver 192.0.2.99'; echo $?)" \
        "$(tar -xzOf "$W/dns-export.aci" rootfs/etc/resolv.conf 2>&1)"
run_pod "${P[@]}" rm "$(cat "$W/dns-uuid")"
pod_sh --dns=8.8.8.8, 'true'
assert_status "--dns with an empty item is refused" 254
pod_sh --dns=not-an-ip 'true'
assert_status "--dns with a bad address is refused" 254
pod_sh --dns-search=example.org --dns-opt=ndots:3 'cat /etc/resolv.conf'
assert_status "--dns-search alone (rkt)" 0
assert_match "generates the file" "$OUT" "^search example\.org$"
assert_match "with --dns-opt" "$OUT" "^options ndots:3$"
assert_no_match "without a nameserver line" "$OUT" "nameserver"
pod_sh --dns=host --dns-search=example.org 'true'
assert_status "--dns=host with --dns-search is refused" 254
# rkt's precedence without --dns: CNI's DNS (net.sh), else the image's own, untouched.
pod_sh 'cat /etc/resolv.conf'
assert_match "no --dns, no CNI DNS: the image's own resolv.conf" "$OUT" "^nameserver 192\.0\.2\.99$"
if [ -f /etc/resolv.conf ]; then
        run_pod "${P[@]}" run --net=host "$B" --exec=/bin/cat -- /etc/resolv.conf
        tap_check "no --dns with --net=host: the host's resolv.conf" \
                "$([ "$OUT" = "$(cat /etc/resolv.conf)" ]; echo $?)" "$OUT"
fi

# ---- prepare and run-prepared ------------------------------------------------------------
run_pod "${P[@]}" prepare "$B" --exec=/bin/sh -- -c 'hostname; exit 5'
assert_status "pod prepare" 0
PUUID=$OUT
tap_check "prepare prints the UUID" "$(grep -Eqx '[0-9a-f-]{36}' <<<"$PUUID"; echo $?)" "$PUUID"
run_pod "${P[@]}" status "$PUUID"
assert_match "the pod is prepared" "$OUT" "^state=prepared$"
run_pod "${P[@]}" prepare --net=host "$B"
assert_status "prepare refuses run-time flags" 254
run_pod "${P[@]}" run-prepared --net=none --hostname=prep "${PUUID:0:8}"
assert_status "run-prepared (by UUID prefix) exits with the app's status" 5
assert_match "run-prepared --hostname" "$OUT" "^prep$"
run_pod "${P[@]}" prepare "$B" --exec=/bin/cat -- /etc/resolv.conf
run_pod "${P[@]}" run-prepared --net=none --dns=192.0.2.7 --dns-opt=rotate "$OUT"
assert_match "run-prepared --dns" "$OUT" "^nameserver 192\.0\.2\.7$"
run_pod "${P[@]}" run-prepared --net=none "$PUUID"
assert_status "a pod runs only once" 254
run_pod "${P[@]}" prepare --no-overlay "$B" --exec=/bin/sh -- -c 'echo x > /etc/image-file && cat /etc/image-file'
run_pod "${P[@]}" run-prepared --net=none "$OUT"
assert_match "run-prepared keeps --no-overlay from prepare" "$OUT" "^x$"

# ---- an image with a dependency -----------------------------------------------------------
# example.com/layered has no shell of its own: busybox comes from its dependency, one file of
# the dependency is overridden, and a symlink of the dependency pointing at a host file is
# replaced by a regular file without writing through it.
echo host-file >"$W/host-target"
ln -s "$W/host-target" "$IMG/rootfs/etc/replaced"
"$POD" image build "$IMG" "$W/base.aci" >/dev/null
gpg --batch --yes --armor --local-user test@example.com --detach-sign -o "$W/base.aci.asc" \
        "$W/base.aci" 2>/dev/null
run_pod "${P[@]}" fetch "$W/base.aci"
assert_status "fetch the base image (busybox + a symlink to a host file)" 0
BASE_ID=$OUT
LAY=$W/layered
mkdir -p "$LAY/rootfs/etc"
echo layered >"$LAY/rootfs/etc/image-file"
echo layered >"$LAY/rootfs/etc/replaced"
cat >"$LAY/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/layered",
 "labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/sh","-c","cat /etc/image-file /etc/replaced; test -x /bin/busybox"],
        "user":"0","group":"0"},
 "dependencies":[{"imageName":"example.com/busybox","imageID":"$BASE_ID"}]}
EOF
"$POD" image build "$LAY" "$W/layered.aci" >/dev/null
gpg --batch --yes --armor --local-user test@example.com --detach-sign -o "$W/layered.aci.asc" \
        "$W/layered.aci" 2>/dev/null
run_pod "${P[@]}" run "$W/layered.aci"
assert_status "pod run of an image with a dependency" 0
assert_match "the image's file overrides the dependency's" "$OUT" "^layered$"
assert_no_match "the dependency's file is hidden" "$OUT" "image-file"
tap_check "the host file behind the replaced symlink is untouched" \
        "$([ "$(cat "$W/host-target")" = host-file ]; echo $?)"
run_pod "${P[@]}" image render example.com/layered "$W/layered-out"
assert_status "pod image render of an image with a dependency" 0
tap_ok "rendered tree has the dependency's busybox and the image's file" -- \
        test -x "$W/layered-out/rootfs/bin/busybox" -a ! -L "$W/layered-out/rootfs/etc/replaced"
tap_check "rendered manifest is the image's" \
        "$(grep -q example.com/layered "$W/layered-out/manifest"; echo $?)"
# The in-use rule covers dependencies: the pods of the layered image mount the tree
# rendered from both images.
run_pod "${P[@]}" image rm "$BASE_ID"
assert_status "a dependency of a pod's image is not removed" 254
assert_match "... naming a pod that uses it" "$ERR" "used by pod [0-9a-f]{8}-"
# (the record of the images a pod uses, or the pod manifest of an aborted prepare)
grep -l "$BASE_ID" "$D"/pods/*/*/images "$D"/pods/*/*/pod 2>/dev/null | sort -u |
        while read -r rec; do
                "$POD" "${P[@]}" rm "$(basename "$(dirname "$rec")")" >/dev/null 2>&1 || true
        done
run_pod "${P[@]}" image rm "$BASE_ID"
assert_status "remove the dependency" 0
run_pod "${P[@]}" image render example.com/layered "$W/layered-out2"
assert_status "render without the dependency in the store fails" 254
assert_match "... naming the dependency" "$ERR" "Dependency 'example.com/busybox' .*not in the store"
rm "$IMG/rootfs/etc/replaced"

# ---- failures ----------------------------------------------------------------------------
run_pod "${P[@]}" run --net=none example.com/no-such-image
assert_status "unknown image: 254" 254
assert_match "message names the image" "$ERR" "example.com/no-such-image"
run_pod "${P[@]}" run --net=none --bogus "$B"
assert_status "unknown flag: 254" 254
POD_STAGE1=$W/nonexistent run_pod "${P[@]}" run --net=none "$B"
assert_status "a missing stage1: 254" 254
assert_match "message names stage1" "$ERR" "stage1"
# As a stage0 of another ABI would call it: stage1 checks $POD_STAGE1_ABI.
printf '#!/bin/sh\nPOD_STAGE1_ABI=99 exec "%s" "$@"\n' "$POD_STAGE1" >"$W/abi99-stage1"
chmod +x "$W/abi99-stage1"
POD_STAGE1=$W/abi99-stage1 run_pod "${P[@]}" run --net=none "$B" --exec=/bin/sh -- -c 'echo ran'
assert_status "stage1 refuses a stage0 of another ABI" 254
assert_match "the message names both ABIs" "$ERR" "ABI 99.*ABI 4"
tap_check "the app never ran" "$([[ $OUT != *ran* ]]; echo $?)" "$OUT"
mkdir -p "$W/dir-stage1"
POD_STAGE1=$W/dir-stage1 run_pod "${P[@]}" run --net=none "$B"
assert_status "a stage1 that is a directory: 254" 254
assert_match "message names stage1" "$ERR" "dir-stage1"

# ---- gc ----------------------------------------------------------------------------------
run_pod "${P[@]}" gc --grace-period=0s --expire-prepared=0s
assert_status "pod gc" 0
LEFT=$(find "$D/pods" -mindepth 2 -maxdepth 2)
tap_check "gc removed every pod" "$([ -z "$LEFT" ]; echo $?)" "$LEFT"
run_pod "${P[@]}" run --net=none "$B"
assert_status "the image still runs after gc" 0
MOUNTS_AFTER=$(pod_mounts)
tap_check "no mount leaked on the host" "$([ "$MOUNTS_BEFORE" = "$MOUNTS_AFTER" ]; echo $?)" \
        "$(diff <(echo "$MOUNTS_BEFORE") <(echo "$MOUNTS_AFTER"))"

tap_done
