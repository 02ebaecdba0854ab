#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# A pod from a Docker/OCI image under a real systemd (runs in the VM testbed, tests/vm/suite):
# an OCI image with python3 (the guest's own python3 and the part of its standard library
# http.server needs, on a busybox layer), built in the guest by tests/helpers/oci-image.py,
# pulled from Debian's docker-registry when the guest has it, else imported as an OCI layout
# (the same store path after the download).  Checks: python's http.server from the image's
# Entrypoint/Cmd in a pod-<uuid>.scope, reachable through --port on the ExposedPort's app
# port (8000-tcp), its request log on pod run's stderr, `ps` in the pod through pod enter, an
# app's stdout and stderr in journald under its name (pod run as a systemd-run service),
# --memory enforced on a python memory hog (OOM-killed, 137), and capabilities: the default
# set lets root bind port 80, --caps-remove=CAP_NET_BIND_SERVICE does not, and --caps-retain
# narrows the bounding set.
# App scripts are for the app's shell: $ in single quotes is not ours.
# shellcheck disable=SC2016
: "${POD:=/bin/false}"
# shellcheck source=tests/integration/lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib.sh"
# shellcheck source=tests/vm/net-lib.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/vm/net-lib.sh"

net_prereqs
HELPERS="${top_srcdir:-$(dirname "$0")/../..}/tests/helpers"
PY=$(readlink -f "$(command -v python3 || true)")
[ -x "$PY" ] || tap_skip_all "needs python3 in the guest"
pyver=$(basename "$PY")

# ---- the image: busybox + python3 (binary, its libraries, a trimmed stdlib) + /www ----------
mark "image"
R=$W/pyroot
mkdir -p "$R"
cp -L --parents "$PY" "$R/"
for l in $(ldd "$PY" | grep -o '/[^ ]*'); do
        cp -L --parents "$l" "$R/"
done
ex=()
for d in test idlelib tkinter ensurepip lib2to3 pydoc_data 'config-*' distutils unittest asyncio \
        multiprocessing sqlite3 curses turtledemo venv site-packages xml ctypes; do
        ex+=(--exclude="$pyver/$d")
done
tar -C / "${ex[@]}" -cf - "usr/lib/$pyver" | tar -C "$R" -xf -
BASE='{"busybox":["sh","echo","cat","grep","sleep","ps","id"]}'
SPEC='{"media":"oci","layers":['"$BASE"',{"compression":"none","dir":"'"$R"'",
 "entries":[{"path":"usr/bin/python3","type":"symlink","target":"'"$pyver"'"}]},
 {"entries":[{"path":"www/index.html","content":"hello-from-docker-pod\n"}]}],
 "config":{"Entrypoint":["/usr/bin/python3","-m","http.server"],"Cmd":["8000"],
  "WorkingDir":"/www","Env":["PYTHONUNBUFFERED=1"],"ExposedPorts":{"8000/tcp":{}}}}'
# shellcheck source=tests/integration/lib-registry.sh
. "${top_srcdir:-$(dirname "$0")/../..}/tests/integration/lib-registry.sh"
trap 'registry_cleanup; net_cleanup' EXIT
if command -v docker-registry >/dev/null && command -v htpasswd >/dev/null; then
        registry_start REG
        push REG test/python v1 "$SPEC"
        run_pod "${P[@]}" --insecure-options=image,http fetch --quiet "docker://$REG/test/python:v1"
        how="pulled from docker-registry"
else
        python3 "$HELPERS/oci-image.py" layout "$SPEC" --out "$W/layout" --tag v1 >"$W/report"
        IMAGE_ID=$(sed -n 's/^image_id=//p' "$W/report")
        run_pod "${P[@]}" --insecure-options=image image import "$W/layout"
        how="imported as an OCI layout (no docker-registry in the guest)"
fi
tap_check "the python image is in the store ($how)" \
        "$([ "$STATUS" = 0 ] && same_id "$OUT" "$IMAGE_ID"; echo $?)" "status $STATUS: $ERR"
I=$IMAGE_ID
mark "image stored"

# ---- python http.server from Entrypoint + Cmd, in a scope, through --port ----------------
start_pod H --port=8000-tcp:18090 "$I" --name=web
skip_unless_cni "$(cat "$W/err.H")"
UH=$UUID_H
tap_check "the pod runs" "$(pod_state_is "$UH" running; echo $?)" "$(tail -5 "$W/err.H")"
assert_match "systemctl list-units shows pod-<uuid>.scope" \
        "$(systemctl list-units --no-legend --type=scope 2>&1)" "pod-$UH\.scope"
got=$(http_get "http://127.0.0.1:18090/index.html")
assert_match "python's http.server answers through --port=8000-tcp:18090" "$got" \
        "^hello-from-docker-pod$"
IPH=$(pod_ip "$UH")
got=$(http_get "http://$IPH:8000/index.html")
assert_match "... and on the pod's IP, port 8000" "$got" "^hello-from-docker-pod$"
wait_for 30 grep -q 'GET /index.html' "$W/err.H" || true
assert_match "the server's request log (its stderr) reaches pod run's stderr" "$(cat "$W/err.H")" \
        '"GET /index.html HTTP/1\.[01]" 200'
run_pod "${P[@]}" enter --app=web "$UH" /bin/ps
assert_match "ps in the pod shows python's http.server" "$OUT" "python3 -m http\.server 8000"
assert_match "... serving from the WorkingDir (/www)" "$(cat "/proc/$(pgrep -f "http.server 8000" | head -n1)/cwd/index.html" 2>/dev/null || true)" \
        "^hello-from-docker-pod$"
run_pod "${P[@]}" stop "$UH"
wait_pod_exit H
tap_check "pod stop ends it, the scope is gone" \
        "$(! systemctl is-active --quiet "pod-$UH.scope"; echo $?)"

# ---- journald per app: pod run as a systemd service, the app's lines under its name --------
mark "journal"
unit=pod-docker-journal-$$-$RANDOM
marker="docker-journal-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')"
# A service gets systemd's environment, not ours: POD_STAGE1 is passed explicitly.
systemd-run --quiet --wait --unit="$unit" -p StandardOutput=journal -p StandardError=journal \
        -E POD_STAGE1="$POD_STAGE1" "$POD" "${P[@]}" run --net=none "$I" --name=jpy \
        --exec=/usr/bin/python3 -- -c "import sys; print('out-$marker'); print('err-$marker', file=sys.stderr)" \
        >/dev/null 2>&1 || true
journal=""
for _ in $(seq 30); do
        journalctl --sync 2>/dev/null || true
        journal=$(journalctl --no-pager -o cat -t jpy 2>&1)
        grep -q "err-$marker" <<<"$journal" && break
        sleep 0.5
done
assert_match "journalctl -t <app> shows the python app's stdout" "$journal" "^out-$marker$"
assert_match "journalctl -t <app> shows the python app's stderr" "$journal" "^err-$marker$"

# ---- the memory limit ------------------------------------------------------------------------
mark "memory"
HOG='import sys
a = []
for i in range(1, 21):
    a.append(bytearray(10 * 1024 * 1024))
    print(i * 10, "MB", flush=True)
print("survived")'
run_pod "${P[@]}" run --net=none "$I" --memory=64M --exec=/usr/bin/python3 -- -c "$HOG"
assert_status "a python memory hog in a --memory=64M pod is OOM-killed (137)" 137
assert_no_match "... it never reached 200 MB" "$OUT" "survived"
run_pod "${P[@]}" run --net=none "$I" --memory=64M --exec=/usr/bin/python3 -- -c 'print("small")'
assert_status "within the limit python runs normally" 0

# ---- capabilities --------------------------------------------------------------------------
mark "capabilities"
BIND='import socket
s = socket.socket()
s.bind(("0.0.0.0", 80))
print("bound")'
run_pod "${P[@]}" run --net=none "$I" --exec=/usr/bin/python3 -- -c "$BIND"
assert_match "root in the pod binds port 80 (CAP_NET_BIND_SERVICE is in the default set)" \
        "$OUT" "^bound$"
run_pod "${P[@]}" run --net=none "$I" --caps-remove=CAP_NET_BIND_SERVICE \
        --exec=/usr/bin/python3 -- -c "$BIND"
tap_check "--caps-remove=CAP_NET_BIND_SERVICE: binding port 80 fails" \
        "$([ "$STATUS" != 0 ]; echo $?)" "status $STATUS: $OUT"
assert_match "... with a permission error" "$OUT$ERR" "PermissionError|Permission denied"
run_pod "${P[@]}" run --net=none "$I" --caps-retain=CAP_NET_BIND_SERVICE --exec=/bin/grep -- \
        CapBnd /proc/self/status
assert_match "--caps-retain=CAP_NET_BIND_SERVICE: the bounding set is that one capability" \
        "$OUT" "^CapBnd:[[:space:]]*0000000000000400$"

tap_done
