#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Every flag the code documents in "pod help VERB" is documented in that verb's man page
# source (STYLE.md section 12: a flag is documented in the commit that adds it).  The verb
# list comes from "pod --help", so a new verb without a page fails here too.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

MAN=${top_srcdir:-$(dirname "$0")/../..}/man

# The page documenting a verb: pod-VERB.1.md; a few verbs share a page.
page_of() {
        case $1 in
        help) echo "$MAN/pod.1.md" ;;
        prepare | run-prepared | fly) echo "$MAN/pod-run.1.md" ;;
        *) echo "$MAN/pod-$1.1.md" ;;
        esac
}

VERBS=$("$POD" --help | awk '/^Verbs:/ { v = 1; next } v && NF == 0 { exit } v { print $1 }' | sort -u)
tap_check "pod --help lists verbs" "$([ -n "$VERBS" ]; echo $?)"
for verb in $VERBS; do
        page=$(page_of "$verb")
        tap_check "$verb: has a man page ($(basename "$page"))" "$([ -f "$page" ]; echo $?)"
        [ -f "$page" ] || continue
        tap_check "$verb: pod.1.md lists it" "$(grep -qE -- "\*\*$verb\*\*" "$MAN/pod.1.md"; echo $?)"
        flags=$("$POD" help "$verb" | { grep -oE -- "--[a-z][a-z0-9-]*" || true; } | sort -u)
        for f in $flags; do
                tap_check "$verb: $f documented in $(basename "$page")" \
                        "$(grep -qF -- "$f" "$page"; echo $?)"
        done
done
# The global options, in pod(1).
for f in $("$POD" --help | sed -n '/^Global options:/,$p' | grep -oE -- '--[a-z][a-z0-9-]*' | sort -u); do
        tap_check "global $f documented in pod.1.md" "$(grep -qF -- "$f" "$MAN/pod.1.md"; echo $?)"
done
tap_done
