#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The metadata server of a running pod runs from the sealed static pod-stage1-supervise
# (ABI.md "Metadata service", issue 16): it maps no shared library and no host file, runs as
# 65534 with no capability, no_new_privs, not dumpable, holds only fds 0-3 (the data memfd
# it was handed is closed), and still answers.  The pod's apps, as root with the default
# capabilities and as 65534 (the server's own uid), cannot read its fds, environment or
# memory map.  A pod-stage1 without pod-stage1-supervise next to it serves in place, just
# as confined.  "pod-stage1-supervise --mds" refuses fds that are not what the init hands
# over.  The endpoints themselves are tests/integration/metadata.sh's.
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (namespaces, mounts)"
: "${POD_STAGE1:?POD_STAGE1 must point at pod-stage1}"
export POD_STAGE1
SUPERVISE=$(dirname "$POD_STAGE1")/pod-stage1-supervise
[ -x "$SUPERVISE" ] || tap_skip_all "no pod-stage1-supervise next to $POD_STAGE1"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi
grep -qw overlay /proc/filesystems || modprobe overlay 2>/dev/null || tap_skip_all "no overlayfs"

W=$TAP_TMP
D=$W/data
P=(--dir="$D" --local-config="$W/etc" --system-config="$W/vendor" --insecure-options=image)
mkdir -p "$W/etc" "$W/vendor"
BG=()
cleanup() {
        for p in "${BG[@]}"; do kill "$p" 2>/dev/null || true; done
        wait 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT
case $(uname -m) in
x86_64) ARCH=amd64 ;;
aarch64) ARCH=arm64 ;;
*) ARCH=$(uname -m) ;;
esac

# The app: finds the server among the pod's processes (a pod-stage1* process of uid 65534),
# asks it for the pod's UUID, tries to read its fds, environment and maps, then waits.
cat >"$W/app" <<'SH'
#!/bin/sh
srv=
for d in /proc/[0-9]*; do
        case $(cat "$d/comm" 2>/dev/null) in pod-stage1*) ;; *) continue ;; esac
        grep -q '^Uid:[[:space:]]*65534[[:space:]]' "$d/status" 2>/dev/null && srv=$d
done
echo "server=${srv:-none}"
echo "uuid=$(wget -q -O - --header 'Metadata-Flavor: AppContainer' \
        "$AC_METADATA_URL/acMetadata/v1/pod/uuid" 2>/dev/null)"
if [ -n "$srv" ]; then
        # Listing $srv/fd needs only its owner (root); following an entry needs ptrace access.
        readlink "$srv/fd/0" >/dev/null 2>&1 && echo "fds=readable" || echo "fds=denied"
        cat "$srv/environ" >/dev/null 2>&1 && echo "environ=readable" || echo "environ=denied"
        cat "$srv/maps" >/dev/null 2>&1 && echo "maps=readable" || echo "maps=denied"
fi
echo ready
exec sleep 60
SH
chmod 0755 "$W/app"
mkimage() { # mkimage NAME USER
        local i=$W/img-$1
        mkdir -p "$i/rootfs/bin" "$i/rootfs/proc" "$i/rootfs/tmp"
        cp "$BUSYBOX" "$i/rootfs/bin/busybox"
        for a in sh wget cat grep ls sleep readlink; do ln -s busybox "$i/rootfs/bin/$a"; done
        cp "$W/app" "$i/rootfs/bin/app"
        cat >"$i/manifest" <<JSON
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/mds-static-$1",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"$ARCH"}],
 "app":{"exec":["/bin/app"],"user":"$2","group":"$2"}}
JSON
        "$POD" image build "$i" "$i.aci" >/dev/null
        "$POD" "${P[@]}" image import "$i.aci"
}
ID_ROOT=$(mkimage root 0)
ID_NOBODY=$(mkimage nobody 65534)

# start_pod NAME ID [RUN OPTIONS]: runs the pod in the background until its app printed
# "ready"; sets UUID, INIT (host PID of the pod init) and SRV (host PID of the server, or
# empty).
start_pod() {
        local i
        rm -f "$W/$1.uuid"
        "$POD" "${P[@]}" run --net=none --uuid-file-save="$W/$1.uuid" "${@:3}" "$2" \
                </dev/null >"$W/$1.out" 2>"$W/$1.err" &
        BG+=("$!")
        for i in $(seq 150); do
                grep -q '^ready' "$W/$1.out" 2>/dev/null && break
                sleep 0.1
        done
        UUID=$(cat "$W/$1.uuid" 2>/dev/null || true)
        INIT=$(cat "$D/pods/run/$UUID/pid" 2>/dev/null || true)
        SRV=
        while read -r i; do
                case $(cat "/proc/$i/comm" 2>/dev/null) in pod-stage1*) ;; *) continue ;; esac
                grep -q '^Uid:[[:space:]]*65534[[:space:]]' "/proc/$i/status" 2>/dev/null && SRV=$i
        done < <(ps -o pid= --ppid "${INIT:-0}" 2>/dev/null | tr -d ' ')
}
field() { # field PID NAME: the value of NAME: in /proc/PID/status, blanks squeezed
        awk -v f="$2:" '$1 == f { $1 = ""; sub(/^ /, ""); print }' "/proc/$1/status" 2>/dev/null || true
}
stop_pod() {
        if [ -n "$UUID" ]; then
                "$POD" "${P[@]}" stop --force "$UUID" >/dev/null 2>&1 || true
        fi
}

# ---- the server of a pod, from the static binary -------------------------------------------
start_pod root "$ID_ROOT"
tap_check "the pod runs and has a metadata server (uid 65534, child of the init $INIT)" \
        "$([ -n "$SRV" ] && echo 0 || echo 1)" "$(cat "$W/root.out" "$W/root.err")"
SRV=${SRV:-0}
OUT=$(cat "$W/root.out")
assert_match "it answers: the app read its pod's UUID" "$OUT" "^uuid=$UUID$"
libs=$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$SRV/maps" 2>/dev/null | sort -u | tr '\n' ' ')
files=$(awk '$6 ~ /^\// && $6 !~ /^\/memfd:/ { print $6 }' "/proc/$SRV/maps" 2>/dev/null | sort -u)
tap_check "the server maps no shared library" "$([ -z "$libs" ] && echo 0 || echo 1)" "maps: $libs"
tap_check "... and no host file (only its sealed memfd)" \
        "$([ -z "$files" ] && echo 0 || echo 1)" "files: $files"
exe=$(readlink "/proc/$SRV/exe" 2>/dev/null || true)
assert_match "its executable is the sealed pod-stage1-supervise memfd" "$exe" \
        "^/memfd:pod-stage1-supervise"
assert_match "it is 65534 (real, effective, saved, fs uid)" "$(field "$SRV" Uid)" \
        "^65534[[:space:]]65534[[:space:]]65534[[:space:]]65534$"
assert_match "... gid 65534" "$(field "$SRV" Gid)" "^65534[[:space:]]65534[[:space:]]65534[[:space:]]65534$"
assert_match "... in group 65534 only" "$(field "$SRV" Groups)" "^65534$"
for c in CapInh CapPrm CapEff CapAmb; do
        assert_match "... $c is empty" "$(field "$SRV" "$c")" "^0+$"
done
assert_match "... no_new_privs" "$(field "$SRV" NoNewPrivs)" "^1$"
# A process that is not dumpable has its /proc/PID files owned by root, not by its uid.
tap_check "... not dumpable (its /proc files are root's)" \
        "$([ "$(stat -c %u "/proc/$SRV/status")" = 0 ] && echo 0 || echo 1)" \
        "owner $(stat -c %u "/proc/$SRV/status")"
fds=$(find "/proc/$SRV/fd" -mindepth 1 -printf '%f\n' 2>/dev/null | sort -n | tr '\n' ' ')
tap_check "... holds fds 0-3 only (the data memfd is closed)" \
        "$([ "$fds" = "0 1 2 3 " ] && echo 0 || echo 1)" "fds: $fds"
assert_match "... fd 3 is the listening socket" "$(readlink "/proc/$SRV/fd/3" 2>/dev/null)" "^socket:"
assert_match "... in the pod's PID namespace" "$(readlink "/proc/$SRV/ns/pid")" \
        "^$(readlink "/proc/$INIT/ns/pid" | sed 's/\[/\\[/; s/\]/\\]/')$"
assert_match "... and network namespace" "$(readlink "/proc/$SRV/ns/net")" \
        "^$(readlink "/proc/$INIT/ns/net" | sed 's/\[/\\[/; s/\]/\\]/')$"
for w in fds environ maps; do
        assert_match "an app as root cannot read the server's $w" "$OUT" "^$w=denied$"
done
stop_pod
for _ in $(seq 50); do
        [ -d "/proc/$SRV" ] || break
        sleep 0.1
done
tap_check "the server dies with the pod" \
        "$([ "$SRV" != 0 ] && [ ! -d "/proc/$SRV" ] && echo 0 || echo 1)" "$(ls -d "/proc/$SRV" 2>&1)"

start_pod nobody "$ID_NOBODY"
OUT=$(cat "$W/nobody.out")
assert_match "a pod whose app is 65534 too: its app reads the UUID" "$OUT" "^uuid=$UUID$"
assert_match "... and finds the server" "$OUT" "^server=/proc/[0-9]"
for w in fds environ maps; do
        assert_match "... but cannot read the server's $w (same uid)" "$OUT" "^$w=denied$"
done
stop_pod

# ---- in a user namespace (--private-users): the same, as the range's 65534 ----------------
start_pod userns "$ID_ROOT" --private-users
OUT=$(cat "$W/userns.out")
assert_match "--private-users: the app reads the UUID" "$OUT" "^uuid=$UUID$"
# The pod init stays in the host's user namespace (only the apps enter the range's), and so
# does the server: 65534 on the host too, as before the static server.
tap_check "... the server is there, as 65534" "$([ -n "$SRV" ] && echo 0 || echo 1)" \
        "$(cat "$W/userns.err"; ps -o pid,ppid,uid,comm --ppid "${INIT:-0}")"
SRV=${SRV:-0}
libs=$(awk '$6 ~ /\.so/ { print $6 }' "/proc/$SRV/maps" 2>/dev/null | sort -u | tr '\n' ' ')
tap_check "... maps no shared library" "$([ -z "$libs" ] && echo 0 || echo 1)" "maps: $libs"
assert_match "... with no capability" "$(field "$SRV" CapPrm) $(field "$SRV" CapEff)" "^0+ 0+$"
assert_match "... no_new_privs" "$(field "$SRV" NoNewPrivs)" "^1$"
for w in fds environ maps; do
        assert_match "... an app as the namespace's root cannot read the server's $w" "$OUT" "^$w=denied$"
done
stop_pod

# ---- without pod-stage1-supervise: served in place, as confined ----------------------------
mkdir -p "$W/nosup"
cp "$POD_STAGE1" "$W/nosup/pod-stage1"
POD_STAGE1=$W/nosup/pod-stage1 start_pod nosup "$ID_ROOT"
OUT=$(cat "$W/nosup.out")
assert_match "no pod-stage1-supervise: the server answers" "$OUT" "^uuid=$UUID$"
SRV=${SRV:-0}
assert_match "... as 65534" "$(field "$SRV" Uid)" "^65534[[:space:]]65534[[:space:]]65534[[:space:]]65534$"
assert_match "... with no capability" "$(field "$SRV" CapPrm) $(field "$SRV" CapEff)" "^0+ 0+$"
assert_match "... no_new_privs" "$(field "$SRV" NoNewPrivs)" "^1$"
fds=$(find "/proc/$SRV/fd" -mindepth 1 -printf '%f\n' 2>/dev/null | sort -n | tr '\n' ' ')
tap_check "... fds 0-3 only" "$([ "$fds" = "0 1 2 3 " ] && echo 0 || echo 1)" "fds: $fds"
stop_pod

# ---- --mds refuses what the init would not hand over ---------------------------------------
echo data >"$W/not-a-socket"
set +e
ERR=$("$SUPERVISE" --mds 3<"$W/not-a-socket" 4<"$W/not-a-socket" 2>&1)
STATUS=$?
set -e
assert_status "--mds with a file on fd 3 fails" 254
assert_match "... saying fd 3 is not a listening socket" "$ERR" "not a listening socket"
tap_done
