#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# The pod summary (issue 16; src/podsummary.h): stage0 writes "pod-summary" at prepare,
# after the manifest, and `pod list` / `pod status` read it instead of scanning the manifest.
# A cache must never change what is shown: every output form is compared with the fallback
# (the same pods with the summary removed, as pods of an older pod have none), and a summary
# left half-written, of another version, or with a name the manifest could not have, is
# ignored rather than believed (a kill -9 between the writes leaves no summary at all, or a
# temp file nobody reads).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

[ "$(id -u)" = 0 ] || tap_skip_all "needs root (pods)"
BUSYBOX=$(command -v busybox || true)
if [ -z "$BUSYBOX" ] || ldd "$BUSYBOX" >/dev/null 2>&1; then
        tap_skip_all "needs a static busybox (apt-get install busybox-static)"
fi

export TZ=UTC
W=$TAP_TMP
D=$W/data
P=(--dir="$D" --insecure-options=image --local-config="$W/etc" --system-config="$W/vendor")
pod() { run_pod "${P[@]}" "$@"; }

mkdir -p "$W/etc" "$W/vendor"
for i in sum two; do
        mkdir -p "$W/img-$i/rootfs/bin"
        cp "$BUSYBOX" "$W/img-$i/rootfs/bin/busybox"
        for a in sh true sleep; do ln -s busybox "$W/img-$i/rootfs/bin/$a"; done
        printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/%s","app":{"exec":["/bin/true"],"user":"0","group":"0"}}\n' \
                "$i" >"$W/img-$i/manifest"
        "$POD" image build "$W/img-$i" "$W/$i.aci" >/dev/null
        pod fetch --quiet "$W/$i.aci"
        assert_status "fetch image $i" 0
done

# A plain prepared pod, one with user annotations and a label and a mount (extras: JSON
# needs the manifest), and a two-app one that ran and exited.
pod prepare --uuid-file-save="$W/u-plain" "$W/sum.aci"
assert_status "prepare a plain pod" 0
pod prepare --uuid-file-save="$W/u-extras" --user-annotation=owner=ops --user-label=team=core \
        --volume=data,kind=empty --mount=volume=data,target=/data "$W/sum.aci"
assert_status "prepare a pod with annotations, labels, mounts" 0
pod run --net=none --uuid-file-save="$W/u-ran" "$W/sum.aci" "$W/two.aci"
assert_status "run a two-app pod to its exit" 0
UP=$(cat "$W/u-plain") UX=$(cat "$W/u-extras") UR=$(cat "$W/u-ran")
SP=$D/pods/prepared/$UP/pod-summary
SX=$D/pods/prepared/$UX/pod-summary
SR=$D/pods/run/$UR/pod-summary

for s in "$SP" "$SX" "$SR"; do
        tap_check "prepare wrote ${s#"$D"/}" "$([ -f "$s" ]; echo $?)"
done
tap_check "the summary: header, extras 0, the app, end" \
        "$([ "$(head -n2 "$SP")" = $'pod-summary 1\nextras 0' ] &&
                grep -qP '^app\tsum\texample\.com/sum\tsha512-[0-9a-f]{128}$' "$SP" &&
                [ "$(tail -n1 "$SP")" = end ]; echo $?)" "$(cat "$SP" 2>&1)"
tap_check "a pod with annotations, labels or mounts: extras 1" \
        "$(sed -n 2p "$SX" | grep -qx 'extras 1'; echo $?)" "$(cat "$SX" 2>&1)"
tap_check "stage1 noted the run (pid, started, no unit, no net-info) before the end line" \
        "$(tail -n2 "$SR" | head -n1 | grep -qP "^run\t$(cat "$D/pods/run/$UR/pid")\t[1-9][0-9]*\t[0-9]+\t0\t0\$"; echo $?)" \
        "$(cat "$SR" 2>&1)"
tap_check "the run line's start time is the pid file's mtime" \
        "$([ "$(tail -n2 "$SR" | head -n1 | awk -F'\t' '{printf "%d.%09d", $3, $4}')" = \
                "$(stat -c %.9Y "$D/pods/run/$UR/pid")" ]; echo $?)" \
        "$(cat "$SR"; stat -c %.9Y "$D/pods/run/$UR/pid")"
tap_check "prepared pods have no run line" "$(! grep -q '^run' "$SP" "$SX"; echo $?)"
tap_check "no temp file left in the pod dir" \
        "$([ -z "$(find "$D/pods" -mindepth 3 -maxdepth 3 -name '*.tmp-*')" ]; echo $?)"

# Every output form (absolute times, so that two runs a second apart agree).
FORMS=("list --full" "list --full --no-legend" "list --format=json" "list --format=json-pretty"
        "status $UP" "status $UR" "status --format=json $UX" "status --format=json $UR")
snapshot() { # snapshot FILE: all forms into FILE
        local f
        : >"$1"
        for f in "${FORMS[@]}"; do
                # shellcheck disable=SC2086 # $f is words
                pod $f
                printf '== %s (%s)\n%s\n%s\n' "$f" "$STATUS" "$OUT" "$ERR" >>"$1"
        done
}
snapshot "$W/with"
tap_check "JSON shows the user annotation and label and the mount of the extras pod" \
        "$(grep -q '"owner":"ops"' "$W/with" && grep -q '"team":"core"' "$W/with" &&
                grep -q '"container_path":"/data"' "$W/with"; echo $?)"
mkdir -p "$W/saved"
for u in "$UP" "$UX" "$UR"; do
        mv "$D"/pods/*/"$u"/pod-summary "$W/saved/$u"
done
snapshot "$W/without"
tap_check "every output form is the same with and without the summaries" \
        "$(cmp -s "$W/with" "$W/without"; echo $?)" "$(diff "$W/with" "$W/without" | head -20)"

# put_summary UUID TEXT: the pod's summary replaced by TEXT (printf format)
put_summary() {
        # shellcheck disable=SC2059 # the format is the point
        printf "$2" >"$(echo "$D"/pods/*/"$1")/pod-summary"
}
same_as_fallback() { # same_as_fallback DESC
        snapshot "$W/now"
        tap_check "$1: shown as without a summary" "$(cmp -s "$W/now" "$W/without"; echo $?)" \
                "$(diff "$W/without" "$W/now" | head -20)"
}

# A kill -9 during write_file_at() leaves the temp file, never a partial pod-summary.
for u in "$UP" "$UX" "$UR"; do
        cp "$W/saved/$u" "$(echo "$D"/pods/*/"$u")/pod-summary.tmp-12345"
done
same_as_fallback "a temp file of a killed writer"
rm -f "$D"/pods/*/*/pod-summary.tmp-12345

# stage1 killed between "pid" and the run line: the summary without it.
grep -v '^run' "$W/saved/$UR" >"$D/pods/run/$UR/pod-summary"
same_as_fallback "a summary without the run line"
rm -f "$D/pods/run/$UR/pod-summary"

# A pod whose stage1 noted a unit and networks: both read and shown, as without a summary.
echo 'pod-test.scope' >"$D/pods/run/$UR/unit"
printf '[{"netName":"default","ifName":"eth0","ip":"10.9.0.2"}]\n' >"$D/pods/run/$UR/net-info.json"
pod list --full --no-legend
fallback=$OUT
sed 's/^\(run\t[0-9]*\t[0-9]*\t[0-9]*\)\t0\t0$/\1\t1\t1/' "$W/saved/$UR" >"$D/pods/run/$UR/pod-summary"
pod list --full --no-legend
tap_check "run line with unit and net-info: both shown, as without a summary" \
        "$([ "$OUT" = "$fallback" ] && grep -q "default:ip4=10.9.0.2  pod-test.scope" <<<"$OUT"; echo $?)" \
        "$(diff <(echo "$fallback") <(echo "$OUT"))"
rm -f "$D/pods/run/$UR/pod-summary" "$D/pods/run/$UR/unit" "$D/pods/run/$UR/net-info.json"

# Any truncation of a real summary (a writer that did not rename, a damaged disk).
full=$(cat "$W/saved/$UR"; echo x)
full=${full%x}
pod list --full --no-legend
ref=$OUT
bad=0
for ((n = 0; n < ${#full}; n++)); do
        printf '%s' "${full:0:n}" >"$D/pods/run/$UR/pod-summary"
        pod list --full --no-legend
        [ "$OUT" = "$ref" ] || { bad=1; echo "# cut at byte $n: $OUT"; break; }
done
tap_check "a two-app summary cut at any byte is never believed (${#full} cuts)" "$bad"
rm -f "$D/pods/run/$UR/pod-summary"

put_summary "$UP" 'pod-summary 2\nextras 0\napp\tother\texample.com/other\t\nend\n'
same_as_fallback "a summary of another version"
put_summary "$UP" 'pod-summary 1\nextras 0\napp\tNot A Name\texample.com/sum\t\nend\n'
same_as_fallback "a summary with an invalid app name"
put_summary "$UP" 'pod-summary 1\nextras 0\napp\tsum\tEXAMPLE..com\t\nend\n'
same_as_fallback "a summary with an invalid image name"
put_summary "$UP" 'pod-summary 1\nextras 0\napp\tsum\texample.com/sum\t\x1b[31m\nend\n'
same_as_fallback "a summary with a control character"
put_summary "$UP" 'pod-summary 1\nextras 0\napp\tsum\texample.com/sum\t\nend\nmore\n'
same_as_fallback "a summary with data after its end"
put_summary "$UP" 'pod-summary 1\nextras 2\nend\n'
same_as_fallback "a summary with a bad extras line"
rm -f "$D/pods/prepared/$UP/pod-summary"
mkfifo "$D/pods/prepared/$UP/pod-summary"
same_as_fallback "a FIFO in place of the summary (no hang)"
rm -f "$D/pods/prepared/$UP/pod-summary"

# The summaries put back: the same again.
for u in "$UP" "$UX" "$UR"; do
        mv "$W/saved/$u" "$(echo "$D"/pods/*/"$u")/pod-summary"
done
snapshot "$W/again"
tap_check "with the summaries back, the same output" "$(cmp -s "$W/again" "$W/with"; echo $?)"

# A running pod: listed the same with its summary (run line) and without.
"$POD" "${P[@]}" run --net=none --uuid-file-save="$W/u-running" "$W/sum.aci" \
        --exec=/bin/sleep -- 60 </dev/null >/dev/null 2>&1 &
RUNNING_PID=$!
for _ in $(seq 100); do
        [ -s "$W/u-running" ] && grep -q '^run' "$D/pods/run/$(cat "$W/u-running")/pod-summary" \
                2>/dev/null && break
        sleep 0.1
done
UN=$(cat "$W/u-running")
tap_check "a running pod's summary has its run line" \
        "$(grep -q '^run' "$D/pods/run/$UN/pod-summary"; echo $?)"
pod list --full --no-legend
with=$OUT
pod status --format=json "$UN"
with_status=$OUT
mv "$D/pods/run/$UN/pod-summary" "$W/saved-running"
pod list --full --no-legend
tap_check "a running pod: the same with and without its summary" \
        "$([ "$with" = "$OUT" ] && grep -q "^$UN .* running " <<<"$OUT"; echo $?)" \
        "$(diff <(echo "$with") <(echo "$OUT"))"
pod status --format=json "$UN"
tap_check "a running pod's status: the same pid and times with and without its summary" \
        "$([ "$with_status" = "$OUT" ] && grep -q "\"pid\":$(cat "$D/pods/run/$UN/pid")," <<<"$OUT"; echo $?)" \
        "$(diff <(echo "$with_status") <(echo "$OUT"))"
mv "$W/saved-running" "$D/pods/run/$UN/pod-summary"
pod stop --force "$UN"
wait "$RUNNING_PID" || true

pod rm "$UP" "$UX" "$UR" "$UN"
tap_done
