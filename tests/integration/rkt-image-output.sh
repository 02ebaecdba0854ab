#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# rkt's image output (issue 13): `image list --fields/--sort/--order`, NAME:VERSION, --full
# with sizes in bytes and rkt's time layout, --format=json as rkt's api/v1 ImageListEntry
# (names and types) plus pod's own fields, `image cat-manifest` pretty by default, every
# boolean flag of `pod image` and `pod fetch` as --flag=true|false, and `image build`
# refusing to overwrite OUT without --overwrite (bug 4).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

: "${TAP_TMP:?lib.sh must be sourced}"
command -v python3 >/dev/null || tap_skip_all "python3 not installed"

export TZ=UTC
D=$TAP_TMP/store
pod() { run_pod --dir="$D" "$@"; }
# py DESC PYTHON-EXPR: the expression, over the JSON in $OUT as j, must be true.
py() {
        local r=0
        python3 -c 'import json, sys, time
j = json.loads(sys.stdin.read())
sys.exit(0 if eval(sys.argv[1]) else 1)' "$2" <<<"$OUT" || r=1
        tap_check "$1" "$r" "$2 is false for: ${OUT:0:1500}"
}
# names: the NAME column of $OUT (one name a line), as one space-separated string
names() { awk '{ print $1 }' <<<"$OUT" | tr '\n' ' '; }

# Three images, imported in the order a, b, c; sizes c < a < b; b has no version label.
mkimg() { # mkimg NAME VERSION|"" KBYTES OUT
        local dir=$TAP_TMP/img-${1##*/} labels=""
        mkdir -p "$dir/rootfs"
        [ -n "$2" ] && labels="{\"name\":\"version\",\"value\":\"$2\"}"
        printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"%s","labels":[%s]}\n' \
                "$1" "$labels" >"$dir/manifest"
        head -c "$(($3 * 1024))" /dev/urandom >"$dir/rootfs/data"
        "$POD" image build "$dir" "$4" >/dev/null
}
mkimg example.com/a 1.0 20 "$TAP_TMP/a.aci"
mkimg example.com/b "" 60 "$TAP_TMP/b.aci"
mkimg example.com/c 2.0 2 "$TAP_TMP/c.aci"
for i in a b c; do
        pod --insecure-options=image image import "$TAP_TMP/$i.aci"
        assert_status "import $i" 0
done

# ---- text: fields, sort, order ----
pod image list
assert_match "default legend: rkt's fields and LATEST" "$OUT" \
        '^ID +NAME +SIZE +IMPORT TIME +LAST USED +LATEST$'
pod image list --no-legend --fields=name
check_eq() { tap_check "$1" "$([ "$2" = "$3" ]; echo $?)" "got '$2', expected '$3'"; }
check_eq "NAME is NAME:VERSION as rkt's; default sort importtime, asc" "$(names)" \
        "example.com/a:1.0 example.com/b example.com/c:2.0 "
pod image list --no-legend --fields=name --order=desc
check_eq "--order=desc" "$(names)" "example.com/c:2.0 example.com/b example.com/a:1.0 "
pod image list --no-legend --fields=name --sort=size
check_eq "--sort=size" "$(names)" "example.com/c:2.0 example.com/a:1.0 example.com/b "
pod image list --no-legend --fields=name --sort=size --order=desc
check_eq "--sort=size --order=desc" "$(names)" "example.com/b example.com/a:1.0 example.com/c:2.0 "
pod image list --no-legend --fields=name --sort=name --order=desc
check_eq "--sort=name --order=desc" "$(names)" "example.com/c:2.0 example.com/b example.com/a:1.0 "
pod image list --no-legend --fields=name --sort=latest,size
check_eq "--sort=latest,size (ties broken by the next field)" "$(names)" \
        "example.com/c:2.0 example.com/a:1.0 example.com/b "
pod image list --fields=size,name --sort=lastused
assert_status "--fields=size,name --sort=lastused" 0
assert_match "the legend follows --fields" "$(head -1 <<<"$OUT")" '^SIZE +NAME$'
assert_match "... and so do the rows" "$(sed -n 2p <<<"$OUT")" '^[0-9.]+[KMG]?i?B +example.com/a:1\.0$'
pod image list --fields=provenance,id --no-legend
assert_match "--fields=provenance (pod's own)" "$OUT" '^insecure: image +sha512-[0-9a-f]{12}$'
pod image list --full --no-legend --fields=id,size,importtime,lastused
assert_match "--full: whole ID, size in bytes, rkt's time layout" "$(head -1 <<<"$OUT")" \
        '^sha512-[0-9a-f]{128} +[0-9]+ +[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,3})? \+0000 UTC +[0-9]{4}-[0-9-]+ [0-9:]+(\.[0-9]{1,3})? \+0000 UTC$'
pod image list --full
assert_match "--full keeps PROVENANCE last" "$(head -1 <<<"$OUT")" 'LATEST +PROVENANCE$'

for bad in "--fields=bogus" "--fields=" "--fields=id,,name" "--sort=provenance" "--order=up"; do
        pod image list "$bad"
        assert_status "image list $bad is a usage error" 254
done
assert_match "... naming what is allowed" "$ERR" "asc or desc"
pod image list --sort=provenance
assert_match "--sort names the sortable fields" "$ERR" "id, name, size, importtime, lastused or latest"
pod image rm --sort=name example.com/a
assert_status "--sort is an option of 'image list' only" 254

# ---- JSON: rkt's api/v1 ImageListEntry, then pod's fields ----
pod image list --format=json
assert_status "list --format=json" 0
py "a JSON array of the three images, sorted by import time" \
        'len(j) == 3 and [i["name"] for i in j] == ["example.com/a:1.0", "example.com/b", "example.com/c:2.0"]'
py "rkt's fields: id, name (strings), import_time, last_used_time, size (integers)" \
        'all(type(i["id"]) is str and type(i["name"]) is str and all(type(i[k]) is int for k in ("import_time", "last_used_time", "size")) for i in j)'
py "id is the whole image ID" 'all(len(i["id"]) == 135 and i["id"].startswith("sha512-") for i in j)'
py "times are nanoseconds since the epoch (as rkt's UnixNano)" \
        'all(abs(i[k] / 1e9 - time.time()) < 3600 for i in j for k in ("import_time", "last_used_time"))'
py "import_time grows in list order" 'j[0]["import_time"] <= j[1]["import_time"] <= j[2]["import_time"]'
py "size in bytes" 'j[1]["size"] > 60 * 1024 > j[0]["size"] > 20 * 1024 > j[2]["size"]'
py "pod's own fields stay: labels, blobSize, latest, provenance" \
        'all(type(i["labels"]) is dict and type(i["blobSize"]) is int and type(i["latest"]) is bool and "provenance" in i for i in j) and j[0]["labels"]["version"] == "1.0"'
py "no second spelling of the times" 'not any(k in i for i in j for k in ("importTime", "lastUsed"))'
pod image list --format=json --sort=size --order=desc
py "--sort/--order apply to JSON" '[i["name"] for i in j] == ["example.com/b", "example.com/a:1.0", "example.com/c:2.0"]'
pod image list --format=json-pretty
assert_match "json-pretty is tab-indented, as rkt's json.MarshalIndent" "$OUT" $'^\t\t"import_time": [0-9]+,$'
pod image status --format=json example.com/a
py "image status --format=json: the same object" \
        'j["name"] == "example.com/a:1.0" and type(j["import_time"]) is int and type(j["size"]) is int'

# ---- cat-manifest: pretty by default ----
pod image cat-manifest example.com/a
assert_status "image cat-manifest" 0
assert_match "pretty by default (tabs, as pod cat-manifest)" "$OUT" $'^\t"name": "example.com/a",$'
pod image cat-manifest --pretty-print=true example.com/a
assert_match "--pretty-print=true" "$OUT" $'^\t"name": "example.com/a",$'
pod image cat-manifest --pretty-print=false example.com/a
check_eq "--pretty-print=false: the stored bytes" "$OUT" "$(cat "$TAP_TMP/img-a/manifest")"
pod image cat-manifest --pretty-print=maybe example.com/a
assert_status "--pretty-print=maybe is a usage error" 254
assert_match "... naming the flag" "$ERR" "Invalid value 'maybe' for --pretty-print"

# ---- --flag=true|false ----
pod image list --no-legend=false --fields=name
assert_match "--no-legend=false keeps the legend" "$(head -1 <<<"$OUT")" '^NAME$'
pod image list --no-legend=true --fields=name
assert_no_match "--no-legend=true drops it" "$OUT" '^NAME$'
pod image list --no-legend --full=false --fields=id
assert_match "--full=false: short IDs" "$OUT" '^sha512-[0-9a-f]{12}$'
pod image list --no-legend --full=true --fields=id
assert_match "--full=true: whole IDs" "$OUT" '^sha512-[0-9a-f]{128}$'
pod image list --no-legend=yes
assert_status "--no-legend=yes is a usage error" 254
pod image extract --rootfs-only=false --keep-privileges=false example.com/a "$TAP_TMP/x"
assert_status "extract --rootfs-only=false --keep-privileges=false" 0
tap_check "... extracted manifest and rootfs" "$([ -f "$TAP_TMP/x/manifest" ]; echo $?)"
pod image extract --overwrite=false example.com/a "$TAP_TMP/x"
assert_status "extract --overwrite=false onto it is refused" 254
pod image render --rootfs-only=true --overwrite=true example.com/a "$TAP_TMP/x"
assert_status "render --rootfs-only=true --overwrite=true" 0
tap_check "... rootfs only" "$([ -f "$TAP_TMP/x/data" ] && [ ! -e "$TAP_TMP/x/manifest" ]; echo $?)"
pod image export --overwrite=false example.com/a "$TAP_TMP/a.aci"
assert_status "export --overwrite=false onto a file is refused" 254
SOURCE_DATE_EPOCH=1 run_pod image build --reproducible=true "$TAP_TMP/img-c" "$TAP_TMP/r1.aci"
assert_status "build --reproducible=true" 0
SOURCE_DATE_EPOCH=1 run_pod image build --reproducible=false "$TAP_TMP/img-c" "$TAP_TMP/r2.aci"
assert_status "build --reproducible=false" 0
# fetch parses its booleans before it touches the network: a refused name shows it.
for f in --quiet=true --quiet=false --full=true --full=false --trust-keys-from-https=false; do
        pod fetch --pull-policy=never "$f" example.com/not-stored
        assert_no_match "fetch $f is accepted" "$ERR" "Invalid value|Try 'pod help"
done
pod fetch --full=maybe example.com/x
assert_status "fetch --full=maybe is a usage error" 254
assert_match "... naming the flag" "$ERR" "Invalid value 'maybe' for --full"

# ---- image build does not overwrite OUT without --overwrite (issue 13 bug 4) ----
echo precious >"$TAP_TMP/out.aci"
run_pod image build "$TAP_TMP/img-a" "$TAP_TMP/out.aci"
assert_status "build onto an existing file is refused" 254
assert_match "... saying how to" "$ERR" "out.aci' exists \\(use --overwrite\\)"
check_eq "... and leaves it as it was" "$(cat "$TAP_TMP/out.aci")" precious
tap_check "... with no temp file left" "$(compgen -G "$TAP_TMP/out.aci.tmp-*" >/dev/null; [ $? = 1 ]; echo $?)"
run_pod image build --overwrite=false "$TAP_TMP/img-a" "$TAP_TMP/out.aci"
assert_status "build --overwrite=false is refused too" 254
ln -s "$TAP_TMP/nowhere" "$TAP_TMP/dangling.aci"
run_pod image build "$TAP_TMP/img-a" "$TAP_TMP/dangling.aci"
assert_status "build onto a dangling symlink is refused" 254
tap_check "... which still dangles" "$([ -L "$TAP_TMP/dangling.aci" ] && [ ! -e "$TAP_TMP/nowhere" ]; echo $?)"
run_pod image build --overwrite "$TAP_TMP/img-a" "$TAP_TMP/out.aci"
assert_status "build --overwrite replaces it" 0
run_pod image validate "$TAP_TMP/out.aci"
assert_match "... with the image" "$OUT" "example.com/a"

tap_done
