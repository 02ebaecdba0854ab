#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# vm-suite: yes
# The CLI's contract: help, version, exit statuses for misuse.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

run_pod --help
assert_status "pod --help exits 0" 0
assert_match "--help lists the version verb" "$OUT" "^  version "

run_pod version
assert_status "pod version exits 0" 0
assert_match "version line" "$OUT" "^pod version [0-9]+\.[0-9]+\.[0-9]+"
assert_match "appc version" "$OUT" "^appc version 0\.8\.11$"
for lib in libsystemd libarchive gpgme libcurl json-c libseccomp sqlite openssl; do
        assert_match "version shows $lib" "$OUT" "^  $lib +[^ ]"
done
for feat in overlayfs "user namespaces" seccomp "cgroup v2" systemd; do
        assert_match "version reports feature '$feat'" "$OUT" "^  $feat +(yes|no)"
done

run_pod --version
assert_status "pod --version exits 0" 0
assert_match "--version prints the version" "$OUT" "^pod version "

run_pod help version
assert_status "pod help VERB exits 0" 0
assert_match "help VERB prints usage" "$OUT" "^Usage: pod version"

run_pod version --help
assert_status "pod VERB --help exits 0" 0
assert_match "VERB --help prints usage" "$OUT" "^Usage: pod version"

run_pod frobnicate
assert_status "unknown verb exits 254" 254
assert_match "unknown verb names it and hints" "$ERR" "Unknown verb 'frobnicate'.*pod --help"
lines=$(printf '%s\n' "$ERR" | wc -l)
tap_check "unknown verb: one-line message" "$([ "$lines" = 1 ] && echo 0 || echo 1)" "$ERR"

run_pod --bogus-flag version
assert_status "unknown global flag exits 254" 254
assert_match "unknown flag hint" "$ERR" "Unknown option '--bogus-flag'"

run_pod --insecure-options=nonsense version
assert_status "bad insecure option exits 254" 254
assert_match "bad insecure option named" "$ERR" "Unknown insecure option 'nonsense'"

run_pod version extra
assert_status "extra argument exits 254" 254
assert_match "extra argument hint" "$ERR" "pod help version"

run_pod help nosuchverb
assert_status "help for unknown verb exits 254" 254

run_pod
assert_status "no verb exits 254" 254

# rkt's pflag booleans: --flag, --flag=true, --flag=false; anything else names the flag.
run_pod --debug=false version
assert_status "--debug=false" 0
assert_no_match "--debug=false logs nothing at debug level" "$ERR" "."
run_pod --debug=bogus version
assert_status "--debug=bogus exits 254" 254
assert_match "naming the flag and the value" "$ERR" "Invalid value 'bogus' for --debug"
D=$(mktemp -d "$TAP_TMP/d.XXXXXX")
run_pod --dir="$D" gc --mark-only=true
assert_status "gc --mark-only=true" 0
run_pod --dir="$D" gc --mark-only=nope
assert_status "gc --mark-only=nope exits 254" 254
run_pod --dir="$D" --local-config="$D/etc" trust --list=true
assert_status "trust --list=true" 0
run_pod --dir="$D" --local-config="$D/etc" trust --list=false --root=false
assert_status "trust --list=false --root=false: neither, so --prefix or --root is missing" 254
assert_match "... said as a usage error" "$ERR" "Exactly one of --prefix=PREFIX or --root"
run_pod --dir="$D" stop --force=false 00000000
tap_check "stop --force=false parses (then fails on the unknown pod)" \
        "$([ "$STATUS" = 254 ] && [[ $ERR != *"Invalid value"* ]]; echo $?)" "$ERR"

tap_done
