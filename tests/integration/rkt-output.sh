#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rkt's output formats (issue 13): list one line per app and IMAGE ID with --full, list and
# status JSON as rkt's api/v1 Pod (field names and types), status --wait=bool|DURATION,
# config as rkt's JSON view, cat-manifest pretty by default, --flag=true|false.  Pod
# directories are made by hand, as in lifecycle.sh.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

: "${TAP_TMP:?lib.sh must be sourced}"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"

export TZ=UTC
D=$TAP_TMP/data
PODS=$D/pods
U=30000001-0000-4000-8000-000000000001
ID1=sha512-$(printf '%0128d' 1)
ID2=sha512-$(printf '%0128d' 2)
pod() { run_pod --dir="$D" "$@"; }
# py DESC PYTHON-EXPR: the expression, over the JSON in $OUT as j, must be true.
py() {
        local r=0
        python3 -c 'import json, sys
j = json.loads(sys.stdin.read())
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" <<<"$OUT" || r=1
        tap_check "$1" "$r" "$2 is false for: ${OUT:0:1500}"
}

# An exited two-app pod: the second app exited 3; a network; user annotations and labels.
P=$PODS/run/$U
mkdir -p "$P/status"
cat >"$P/pod" <<JSON
{"acKind":"PodManifest","acVersion":"0.8.11",
 "apps":[{"name":"web","image":{"name":"example.com/web","id":"$ID1"},
          "app":{"exec":["/web"],"user":"0","group":"0","userAnnotations":{"owner":"ops"}},
          "mounts":[{"volume":"data","path":"/data"}]},
         {"name":"db","image":{"name":"example.com/db","id":"$ID2"}}],
 "volumes":[{"name":"data","kind":"host","source":"/srv/data","readOnly":true}],
 "userAnnotations":{"purpose":"test"},"userLabels":{"team":"core"}}
JSON
touch -d '2026-01-02 03:04:05' "$P/pod-created"
echo 3 >"$P/status/db"
printf '[{"netName":"default","netConf":"/etc/cni/net.d/10-default.conf","pluginPath":"/usr/lib/cni/bridge","ifName":"eth0","ip":"10.1.0.2","args":"","mask":"255.255.0.0","hostIP":"10.1.0.1"}]\n' \
        >"$P/net-info.json"

# ---------- list: one line per app ----------
pod list --no-legend
assert_status "list exits 0" 0
tap_check "list: one line per app of a two-app pod" "$([ "$(wc -l <<<"$OUT")" = 2 ]; echo $?)" "$OUT"
assert_match "list: the first app's line carries the pod's columns" "$OUT" \
        "^${U:0:8} +web +example\.com/web +exited +[0-9]+ \w+ ago +- +default:ip4=10\.1\.0\.2 +-$"
assert_match "list: the next app's line only APP and IMAGE NAME" "$OUT" "^ {8} +db +example\.com/db$"
assert_no_match "list: no IMAGE ID without --full" "$OUT" "sha512-"
pod list
assert_match "list: rkt's columns first, UNIT after" "$OUT" \
        "^UUID +APP +IMAGE NAME +STATE +CREATED +STARTED +NETWORKS +UNIT$"
pod list --full
assert_match "list --full: IMAGE ID after IMAGE NAME" "$OUT" \
        "^UUID +APP +IMAGE NAME +IMAGE ID +STATE +CREATED +STARTED +NETWORKS +UNIT$"
assert_match "list --full: the first app's full image ID" "$OUT" "^$U +web +example\.com/web +$ID1 +exited "
assert_match "list --full: the next app's full image ID" "$OUT" "^ {36} +db +example\.com/db +$ID2$"
pod list --full=false --no-legend=true
assert_no_match "list --full=false --no-legend=true: short, no legend" "$OUT" "^UUID|sha512-|$U"
pod list --full=true --no-legend=false
assert_match "list --full=true --no-legend=false" "$OUT" "^UUID .*IMAGE ID"
pod list --full=maybe
assert_status "list --full=maybe is a usage error" 254

# ---------- list/status JSON: rkt's api/v1 Pod ----------
for v in "list --format=json" "status --format=json $U"; do
        # shellcheck disable=SC2086 # $v is words
        pod $v
        assert_status "$v exits 0" 0
        [ "${v%% *}" = list ] && OUT=$(python3 -c 'import json,sys; print(json.dumps(json.load(sys.stdin)[0]))' <<<"$OUT")
        py "$v: name, state strings" "j['name'] == '$U' and j['state'] == 'exited'"
        py "$v: created_at in seconds (int)" \
                "type(j['created_at']) is int and j['created_at'] == $(date -d '2026-01-02 03:04:05' +%s)"
        py "$v: no started_at for a pod that never started" "'started_at' not in j"
        py "$v: app_names" "j['app_names'] == ['web', 'db']"
        py "$v: networks have rkt's string fields" \
                "all(type(j['networks'][0][k]) is str for k in ('netName', 'netConf', 'pluginPath', 'ifName', 'ip', 'args', 'mask'))"
        py "$v: network values" \
                "j['networks'][0]['ip'] == '10.1.0.2' and j['networks'][0]['mask'] == '255.255.0.0' and j['networks'][0]['pluginPath'] == '/usr/lib/cni/bridge'"
        py "$v: apps[].name, state, image_id" \
                "[(a['name'], a['state'], a['image_id']) for a in j['apps']] == [('web', 'exited', '$ID1'), ('db', 'exited', '$ID2')]"
        py "$v: apps[].created_at in ns" "j['apps'][0]['created_at'] == $(date -d '2026-01-02 03:04:05' +%s)000000000"
        py "$v: apps[].exit_code int where written" "j['apps'][1]['exit_code'] == 3 and 'exit_code' not in j['apps'][0]"
        py "$v: apps[].finished_at (ns) of an exited app" "type(j['apps'][1]['finished_at']) is int and j['apps'][1]['finished_at'] > 10**18"
        py "$v: apps[].mounts" \
                "j['apps'][0]['mounts'] == [{'name': 'data', 'container_path': '/data', 'host_path': '/srv/data', 'read_only': True}]"
        py "$v: apps[].user_annotations" "j['apps'][0]['user_annotations'] == {'owner': 'ops'}"
        py "$v: user_annotations, user_labels" \
                "j['user_annotations'] == {'purpose': 'test'} and j['user_labels'] == {'team': 'core'}"
        py "$v: pod's extras keep their names and types" \
                "j['phase'] == 'run' and j['exited'] is True and j['unit'] is None and j['apps'][0]['image_name'] == 'example.com/web'"
done
pod status --format=json "$U"
assert_match "status json: compact, name then state" "$OUT" "^\{\"name\":\"$U\",\"state\":\"exited\","
pod list --format=json-pretty
assert_match "json-pretty indents with tabs (rkt)" "$OUT" $'^\t\t"name": '

# ---------- status --wait=bool|DURATION ----------
for w in --wait=false --wait=true --wait --wait=2s --wait=-1s --wait-ready=false; do
        pod status "$w" "$U"
        assert_status "status $w on an exited pod exits 0" 0
        assert_match "status $w prints the state" "$OUT" "^state=exited$"
done
pod status --wait-ready=true "$U"
assert_status "status --wait-ready=true on an exited pod fails (never ready)" 254
pod status --wait=soon "$U"
assert_status "status --wait=soon is a usage error" 254
assert_match "status --wait=soon: the message names the values" "$ERR" "true, false or a duration"
# A running pod (a lock holder): --wait=false does not wait, --wait=1s times out.
R=30000002-0000-4000-8000-000000000002
mkdir -p "$PODS/run/$R"
cp "$P/pod" "$PODS/run/$R/pod"
# shellcheck disable=SC2016
bash -c 'exec 9<"$1"; flock -x 9; exec sleep 1000' holder "$PODS/run/$R" </dev/null >/dev/null 2>&1 &
HOLDER=$!
trap 'kill $HOLDER 2>/dev/null; rm -rf "$TAP_TMP"' EXIT
for _ in $(seq 200); do flock -n -s "$PODS/run/$R" true 2>/dev/null || break; sleep 0.01; done
start=$(date +%s%N)
pod status --wait=false "$R"
assert_status "status --wait=false on a running pod exits 0 at once" 0
assert_match "status --wait=false: running" "$OUT" "^state=running$"
pod status --wait=1s "$R"
end=$(date +%s%N)
assert_status "status --wait=1s on a running pod times out" 254
ms=$(((end - start) / 1000000))
tap_check "status --wait=1s waited about a second (${ms} ms)" "$([ "$ms" -ge 900 ] && [ "$ms" -lt 10000 ]; echo $?)"
pod list --format=json
py "json: a running pod's apps are running" \
        "[a['state'] for p in j if p['name'] == '$R' for a in p['apps']] == ['running', 'running']"

# ---------- config: rkt's JSON view ----------
ETC=$TAP_TMP/etc
mkdir -p "$ETC/auth.d"
cat >"$ETC/auth.d/a.json" <<'JSON'
{"rktKind":"auth","rktVersion":"v1","domains":["example.com"],"type":"basic","credentials":{"user":"bob","password":"s3cret"}}
JSON
cat >"$ETC/auth.d/b.json" <<'JSON'
{"rktKind":"auth","rktVersion":"v1","domains":["tok.example"],"type":"oauth","credentials":{"token":"t0ken"}}
JSON
cat >"$ETC/auth.d/c.json" <<'JSON'
{"rktKind":"dockerAuth","rktVersion":"v1","registries":["reg.example:5000"],"credentials":{"user":"dock","password":"d0ck"}}
JSON
run_pod --dir="$D" --local-config="$ETC" --system-config="$TAP_TMP/vendor" config
assert_status "config exits 0" 0
py "config: stage0 entries are rkt's kinds, rktVersion v1" \
        "set(e['rktKind'] for e in j['stage0']) == {'auth', 'dockerAuth', 'paths', 'stage1'} and all(e['rktVersion'] == 'v1' for e in j['stage0'])"
py "config: paths entry" \
        "[e for e in j['stage0'] if e['rktKind'] == 'paths'][0]['data'] == '$D' and type([e for e in j['stage0'] if e['rktKind'] == 'paths'][0]['stage1-images']) is str"
py "config: stage1 entry" \
        "[e for e in j['stage0'] if e['rktKind'] == 'stage1'][0]['location'].endswith('pod-stage1')"
py "config: basic auth, user shown, password masked" \
        "[(e['domains'], e['type'], e['credentials']) for e in j['stage0'] if e['rktKind'] == 'auth' and e['type'] == 'basic'] == [(['example.com'], 'basic', {'user': 'bob', 'password': '********'})]"
py "config: oauth token masked" \
        "[e['credentials'] for e in j['stage0'] if e['rktKind'] == 'auth' and e['type'] == 'oauth'] == [{'token': '********'}]"
py "config: pod's view" "j['pod']['dataDir'] == '$D' and j['pod']['localConfig'] == '$ETC' and j['pod']['trust'] == []"
py "config: dockerAuth, user shown, password masked" \
        "[(e['registries'], e['credentials']) for e in j['stage0'] if e['rktKind'] == 'dockerAuth'] == [(['reg.example:5000'], {'user': 'dock', 'password': '********'})]"
assert_no_match "config: no secret in the output" "$OUT" "s3cret|t0ken|d0ck"
assert_match "config: pretty by default, tab-indented (rkt)" "$OUT" $'^\t"stage0": \\['
run_pod --dir="$D" --local-config="$ETC" config --pretty-print=false
tap_check "config --pretty-print=false: one line" "$([ "$(wc -l <<<"$OUT")" = 1 ]; echo $?)" "$OUT"
pod config --format=paths
assert_match "config --format=paths: pod's key=value view" "$OUT" "^data-dir=$D$"

# ---------- cat-manifest: pretty by default ----------
pod cat-manifest "$U"
assert_status "cat-manifest exits 0" 0
assert_match "cat-manifest is pretty by default (tab-indented, as rkt)" "$OUT" $'^\t"apps": \\['
pod cat-manifest --pretty-print=false "$U"
tap_check "cat-manifest --pretty-print=false: the stored text" "$([ "$OUT" = "$(cat "$P/pod")" ]; echo $?)"
pod cat-manifest --pretty-print=true "$U"
assert_match "cat-manifest --pretty-print=true" "$OUT" $'^\t"apps"'
pod cat-manifest --pretty-print=nope "$U"
assert_status "cat-manifest --pretty-print=nope is a usage error" 254

tap_done
