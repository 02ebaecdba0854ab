# SPDX-License-Identifier: LGPL-2.1-or-later
# shellcheck shell=bash
# Tiny TAP library for integration tests: source it, call the assertions, then tap_done.
# $POD is the pod binary under test (set by make check / the VM runner).

set -euo pipefail

: "${POD:?POD must point at the pod binary}"
TAP_N=0
TAP_FAILED=0
TAP_TMP=$(mktemp -d "${TMPDIR:-/tmp}/pod-test.XXXXXX")
trap 'rm -rf "$TAP_TMP"' EXIT

tap_ok() { # tap_ok DESCRIPTION -- command...
        local desc=$1
        shift
        [ "${1:-}" = "--" ] && shift
        TAP_N=$((TAP_N + 1))
        if "$@" >"$TAP_TMP/out" 2>&1; then
                echo "ok $TAP_N - $desc"
        else
                TAP_FAILED=$((TAP_FAILED + 1))
                echo "not ok $TAP_N - $desc"
                sed 's/^/#   /' "$TAP_TMP/out" | head -n 40
        fi
}

tap_check() { # tap_check DESCRIPTION CONDITION-RESULT(0/1) [DIAG]
        TAP_N=$((TAP_N + 1))
        if [ "$2" = 0 ]; then
                echo "ok $TAP_N - $1"
        else
                TAP_FAILED=$((TAP_FAILED + 1))
                echo "not ok $TAP_N - $1"
                [ -n "${3:-}" ] && printf '%s\n' "$3" | sed 's/^/#   /' | head -n 40
        fi
        return 0
}

# run_pod args...: runs $POD, captures stdout/stderr in $OUT/$ERR and the status in $STATUS.
# shellcheck disable=SC2034 # read by the scripts that source this file
OUT=""
ERR=""
STATUS=0
run_pod() {
        set +e
        "$POD" "$@" >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr"
        STATUS=$?
        set -e
        # shellcheck disable=SC2034
        OUT=$(cat "$TAP_TMP/stdout")
        ERR=$(cat "$TAP_TMP/stderr")
}

assert_status() { # assert_status DESC EXPECTED
        local r=0
        [ "$STATUS" = "$2" ] || r=1
        tap_check "$1" "$r" "status $STATUS, expected $2; stderr: $ERR"
}

assert_match() { # assert_match DESC TEXT REGEX
        local r=0
        grep -Eq -- "$3" <<<"$2" || r=1
        tap_check "$1" "$r" "no match for /$3/ in: $2"
}

assert_no_match() {
        local r=0
        grep -Eq -- "$3" <<<"$2" && r=1
        tap_check "$1" "$r" "unexpected match for /$3/ in: $2"
}

tap_skip_all() {
        echo "1..0 # SKIP $1"
        exit 0
}

tap_done() {
        echo "1..$TAP_N"
        [ "$TAP_FAILED" = 0 ]
}
