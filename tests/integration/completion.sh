#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# tools/bash-completion/pod: sourced into this bash, driven through COMP_WORDS/COMP_CWORD as
# bash would, checked through COMPREPLY.  Verbs, flags, UUIDs and images come from the real
# $POD on a --dir of its own (pod dirs made by hand, an image imported from a real ACI).
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SRC=${top_srcdir:-$(dirname "$0")/../..}
# shellcheck source=tools/bash-completion/pod
. "$SRC/tools/bash-completion/pod"

D=$TAP_TMP/data
U1=c0000001-0000-4000-8000-000000000001
U2=c0000002-0000-4000-8000-000000000002
mkdir -p "$D/pods"/{embryo,prepare,prepared,run,exited-garbage,garbage}
for u in "$U1" "$U2"; do
        mkdir "$D/pods/prepared/$u"
        printf '{"acKind":"PodManifest","acVersion":"0.8.11","apps":[{"name":"a","image":{"name":"example.com/a","id":"sha512-%0128d"}}],"volumes":[]}\n' 0 \
                >"$D/pods/prepared/$u/pod"
        touch "$D/pods/prepared/$u/pod-created"
done
mkdir -p "$TAP_TMP/img/rootfs"
printf '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/comp-test","labels":[{"name":"version","value":"1.0"},{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}]}\n' \
        >"$TAP_TMP/img/manifest"
HAVE_IMAGE=0
if "$POD" image build "$TAP_TMP/img" "$TAP_TMP/comp.aci" >/dev/null 2>&1 &&
        "$POD" --dir="$D" --insecure-options=image image import "$TAP_TMP/comp.aci" >/dev/null 2>&1; then
        HAVE_IMAGE=1
fi

# complete WORD...: the last word is the one being completed; COMPREPLY one per line in $R.
R=""
complete_words() {
        COMP_WORDS=("$POD" "$@")
        COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
        COMPREPLY=()
        _pod
        R=$(printf '%s\n' "${COMPREPLY[@]}")
}
has() { # has DESC WORD: WORD is one of the replies
        tap_check "$1" "$(grep -qxF -- "$2" <<<"$R"; echo $?)" "replies: $(tr '\n' ' ' <<<"$R")"
}
hasnt() {
        tap_check "$1" "$(! grep -qxF -- "$2" <<<"$R"; echo $?)" "replies: $(tr '\n' ' ' <<<"$R")"
}

complete_words ""
has "verbs: list" list
has "verbs: enter" enter
has "verbs: image" image
complete_words "st"
has "verb prefix: status" status
has "verb prefix: stop" stop
hasnt "verb prefix: not list" list
complete_words "--d"
has "global flags: --dir=" --dir=
has "global flags: --debug" --debug
complete_words "--debug" "ca"
has "verb after a global flag" cat-manifest

complete_words enter --
has "enter flags: --app=" --app=
has "enter flags: --uuid-file=" --uuid-file=
complete_words list --no
has "list flags: --no-legend" --no-legend
hasnt "list flags: only matching ones" --full
complete_words status --w
has "status flags: --wait (optional value)" --wait
has "status flags: --wait-ready" --wait-ready

complete_words --dir="$D" status ""
has "UUIDs for status" "$U1"
has "UUIDs for status (all)" "$U2"
complete_words --dir="$D" rm "$U1" c0000002
has "UUIDs for rm, by prefix, after another" "$U2"
hasnt "UUIDs for rm: only matching" "$U1"
complete_words --dir="$D" enter "$U1" ""
hasnt "enter: after the UUID comes a command, not UUIDs" "$U2"

if [ "$HAVE_IMAGE" = 1 ]; then
        complete_words --dir="$D" run ""
        has "image names for run" example.com/comp-test
        complete_words --dir="$D" image rm example.com/c
        has "image names for image rm" example.com/comp-test
        complete_words --dir="$D" fetch sha512-
        tap_check "image IDs for fetch" "$(grep -qE '^sha512-[0-9a-f]+$' <<<"$R"; echo $?)" "$R"
fi

complete_words image ""
has "image subcommands: import" import
has "image subcommands: list" list
has "image subcommands: gc" gc
complete_words help ex
has "help completes verbs" export

# Every verb's flags, as "pod help VERB" lists them, are offered.
while read -r verb; do
        complete_words "$verb" --
        for f in $("$POD" help "$verb" | grep -oE -- '--[a-z][a-z0-9-]*'); do
                tap_check "$verb: $f offered" \
                        "$(grep -qE -- "^$f(=)?$" <<<"$R"; echo $?)" "replies: $(tr '\n' ' ' <<<"$R")"
        done
done < <("$POD" --help | awk '/^Verbs:/ { v = 1; next } v && NF == 0 { exit } v { print $1 }' | sort -u)
tap_done
