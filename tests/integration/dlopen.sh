#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# libcurl, gpgme and libarchive are loaded with dlopen() where they are needed
# (src/dlopen-util.h), not linked: `pod list` and friends must not pay for mapping them.  The
# binary must not need them, `pod version` must load them, and a missing one must give a
# clear error naming the package, not a crash.  Fetching, verifying and unpacking through
# them are covered by fetch.sh, trust-discovery.sh, image.sh and run.sh.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

command -v ldd >/dev/null || tap_skip_all "needs ldd"
: "${top_builddir:?top_builddir must point at the build tree}"

NEEDED=$(ldd "$POD")
for lib in libcurl libgpgme libarchive libcrypto libsystemd libseccomp; do
        assert_no_match "pod does not link $lib" "$NEEDED" "^[[:space:]]*$lib\.so"
done
assert_match "pod still links json-c" "$NEEDED" "^[[:space:]]*libjson-c\.so"

run_pod version
assert_status "pod version exits 0" 0
assert_match "version loads libcurl" "$OUT" "^  libcurl +libcurl/[0-9]"
assert_match "version loads gpgme" "$OUT" "^  gpgme +[0-9]+\.[0-9]+"
assert_match "version loads libarchive" "$OUT" "^  libarchive +libarchive [0-9]"

soname() { # soname VAR: the soname configure found, from config.h
        sed -n "s/^#define POD_LIB$1_SONAME \"\(.*\)\"$/\1/p" "$top_builddir/config.h"
}

# The rest hides one library in a private mount namespace (/dev/null bound over every copy
# the loader knows of): needs root and unshare.
if [ "$(id -u)" != 0 ] || ! unshare --mount true 2>/dev/null || ! command -v ldconfig >/dev/null; then
        for lib in libcurl gpgme libarchive libcrypto libseccomp; do
                echo "ok $((TAP_N += 1)) - # SKIP missing $lib: needs root, unshare and ldconfig"
        done
        tap_done
        exit
fi

without() { # without SONAME POD-ARGS...: runs pod with SONAME unloadable
        local so=$1 paths
        shift
        paths=$(ldconfig -p | awk -v s="$so" '$1 == s { print $NF }' | tr '\n' ' ')
        [ -n "$paths" ] || paths=/nonexistent
        set +e
        # shellcheck disable=SC2016
        unshare --mount bash -c 'for p in $1; do mount --bind /dev/null "$p" || exit 99; done
                                 shift; exec "$@"' without "$paths" "$POD" "$@" \
                >"$TAP_TMP/stdout" 2>"$TAP_TMP/stderr"
        # shellcheck disable=SC2034 # read by assert_status
        STATUS=$?
        set -e
        OUT=$(cat "$TAP_TMP/stdout")
        ERR=$(cat "$TAP_TMP/stderr")
}

W=$TAP_TMP
CURL=$(soname CURL)
GPGME=$(soname GPGME)
ARCHIVE=$(soname ARCHIVE)

without "$CURL" --dir="$W/data" --insecure-options=image fetch https://127.0.0.1:9/x.aci
assert_status "fetch without $CURL fails with 254" 254
assert_match "fetch without $CURL names it and the package" "$ERR" \
        "needs ${CURL//./\\.}, which cannot be loaded .*: install libcurl"

mkdir -p "$W/img/rootfs"
echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/x"}' >"$W/img/manifest"
without "$ARCHIVE" image build "$W/img" "$W/x.aci"
assert_status "image build without $ARCHIVE fails with 254" 254
assert_match "image build without $ARCHIVE names it and the package" "$ERR" \
        "needs ${ARCHIVE//./\\.}, which cannot be loaded .*: install libarchive"

echo "not a key" >"$W/k.asc"
without "$GPGME" --dir="$W/data" trust --root "$W/k.asc"
assert_status "trust without $GPGME fails with 254" 254
assert_match "trust without $GPGME names it and the package" "$ERR" \
        "needs ${GPGME//./\\.}, which cannot be loaded .*: install libgpgme"

without "$CURL" version
assert_status "version without $CURL still exits 0" 0
assert_match "version says why libcurl is not available" "$OUT" "^  libcurl +not available: "

CRYPTO=$(soname CRYPTO)
echo hello >"$W/img/rootfs/hello"
"$POD" image build "$W/img" "$W/x.aci" >/dev/null
without "$CRYPTO" --dir="$W/data" --insecure-options=image image import "$W/x.aci"
assert_status "image import without $CRYPTO fails with 254" 254
assert_match "image import without $CRYPTO names it and the package" "$ERR" \
        "needs ${CRYPTO//./\\.}, which cannot be loaded .*: install libssl3"
"$POD" --dir="$W/data" --insecure-options=image image import "$W/x.aci" >/dev/null
without "$CRYPTO" --dir="$W/data" image list
assert_status "image list without $CRYPTO works (nothing is hashed)" 0
assert_match "and lists the image" "$OUT" "example\.com/x"

SECCOMP=$(soname SECCOMP)
without "$SECCOMP" version
assert_status "version without $SECCOMP still exits 0" 0
assert_match "version says why libseccomp is not available" "$OUT" "^  libseccomp +not available: .*install libseccomp2"

tap_done
