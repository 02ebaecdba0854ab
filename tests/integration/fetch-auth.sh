#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# pod fetch with per-host credentials (auth.d, spec section 6.2) and implicit trust (spec
# section 7) against the real HTTPS test server (tests/helpers/test-server.py) with a test
# CA: private.example.com answers 401 without the configured Authorization header, and
# requests to other hosts, redirects included, must not carry it.  Implicit trust: refused
# without a terminal (naming pod trust), --trust-keys-from-https, a terminal answering yes and
# no (a real pty), and never a second key for a prefix.  As fetch.sh, the script re-executes
# itself in private mount and network namespaces.

if [ "${POD_FETCH_AUTH_TEST_NETNS:-}" != 1 ]; then
        skip() {
                echo "1..0 # SKIP $1"
                exit 0
        }
        [ "$(id -u)" = 0 ] || skip "needs root for mount and network namespaces"
        command -v unshare >/dev/null || skip "unshare not available"
        for t in python3 openssl gpg ip; do
                command -v "$t" >/dev/null || skip "$t not available"
        done
        [ -f /etc/ssl/certs/ca-certificates.crt ] || skip "no /etc/ssl/certs/ca-certificates.crt"
        unshare --mount --net true 2>/dev/null || skip "cannot create namespaces here"
        export POD_FETCH_AUTH_TEST_NETNS=1
        exec unshare --mount --net /bin/bash "$0" "$@"
fi

# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"

SERVER="${top_srcdir:-$(dirname "$0")/../..}/tests/helpers/test-server.py"
W=$TAP_TMP
PIDS=()
cleanup() {
        for p in "${PIDS[@]}"; do
                kill "$p" 2>/dev/null || true
        done
        wait 2>/dev/null || true
        rm -rf "$TAP_TMP"
}
trap cleanup EXIT

unset SSL_CERT_FILE SSL_CERT_DIR http_proxy https_proxy HTTP_PROXY HTTPS_PROXY all_proxy \
        ALL_PROXY no_proxy NO_PROXY
export GNUPGHOME="$W/gnupg"
mkdir -m 0700 "$GNUPGHOME"
ip link set lo up

case $(uname -m) in
x86_64) ARCH=amd64 ;;
i?86) ARCH=i386 ;;
*) ARCH=$(uname -m) ;;
esac

# ---- a test CA the system store trusts, one server certificate for both hosts ----
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$W/ca.key" \
        -out "$W/ca.pem" -days 2 -subj "/CN=pod test ca" \
        -addext basicConstraints=critical,CA:TRUE \
        -addext keyUsage=critical,keyCertSign,cRLSign 2>/dev/null
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -keyout "$W/srv.key" \
        -out "$W/srv.csr" -subj "/CN=example.com" 2>/dev/null
printf 'subjectAltName=DNS:example.com,DNS:private.example.com\nextendedKeyUsage=serverAuth\n' \
        >"$W/srv.ext"
openssl x509 -req -in "$W/srv.csr" -CA "$W/ca.pem" -CAkey "$W/ca.key" -CAcreateserial -days 2 \
        -out "$W/srv.pem" -extfile "$W/srv.ext" 2>/dev/null
cat "$W/srv.pem" "$W/ca.pem" >"$W/srv.chain"
printf '127.0.0.1 localhost example.com private.example.com\n' >"$W/hosts"
mount --bind "$W/hosts" /etc/hosts
mount --bind "$W/ca.pem" /etc/ssl/certs/ca-certificates.crt

gpg --batch --passphrase '' --quick-gen-key 'Signer <signer@example.com>' ed25519 sign never \
        2>/dev/null
gpg --batch --armor --export signer@example.com >"$W/signer.asc" 2>/dev/null
gpg --batch --passphrase '' --quick-gen-key 'Other <other@example.com>' ed25519 sign never \
        2>/dev/null
gpg --batch --armor --export other@example.com >"$W/other.asc" 2>/dev/null
SIGNER_FPR=$(gpg --batch --with-colons --show-keys "$W/signer.asc" 2>/dev/null |
        awk -F: '/^fpr/ { print tolower($10); exit }')

WWW=$W/www
for h in example.com private.example.com; do
        mkdir -p "$WWW/$h/aci/$h"
        cat >"$WWW/$h/index.html" <<EOF
<meta name="ac-discovery" content="$h https://$h/aci/{name}-{version}-{os}-{arch}.{ext}">
<meta name="ac-discovery-pubkeys" content="$h https://$h/pubkeys.asc">
EOF
        cp "$W/signer.asc" "$WWW/$h/pubkeys.asc"
done

mkimage() { # mkimage NAME VERSION: built, signed and served
        local name=$1 d=$W/build
        local out=$WWW/${name%%/*}/aci/$name-$2-linux-$ARCH.aci
        rm -rf "$d"
        mkdir -p "$d/rootfs/etc"
        echo "$name" >"$d/rootfs/etc/image"
        cat >"$d/manifest" <<EOF
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"$name",
 "labels":[{"name":"version","value":"$2"},{"name":"os","value":"linux"},
           {"name":"arch","value":"$ARCH"}]}
EOF
        "$POD" image build "$d" "$out" >/dev/null
        gpg --batch --yes --armor --local-user signer@example.com --detach-sign -o "$out.asc" \
                "$out" 2>/dev/null
}
for n in private.example.com/app example.com/hello example.com/tty example.com/ttyno \
        example.com/second; do
        mkimage "$n" 1.0
done

python3 "$SERVER" --root "$WWW" --bind 127.0.0.1 --port 443 --cert "$W/srv.chain" \
        --key "$W/srv.key" --port-file "$W/port" &
PIDS+=($!)
python3 "$SERVER" --root "$WWW" --bind 127.0.0.1 --port 80 --port-file "$W/port80" &
PIDS+=($!)
for _ in $(seq 100); do
        [ -f "$W/port" ] && [ -f "$W/port80" ] && break
        sleep 0.1
done

LOG=$WWW/requests.log
ETC=$W/etc
P=("--dir=$W/store" "--local-config=$ETC" "--system-config=$W/vendor")
since() { # since N: request log lines after line N
        tail -n +"$(($1 + 1))" "$LOG"
}
lines() { wc -l <"$LOG"; }
count() { # count REGEX: lines of stdin matching
        grep -c -- "$1" || true
}
keys_in() { # keys_in PREFIX: key files trusted for exactly that prefix
        find "$ETC/trustedkeys/prefix.d/$1" -maxdepth 1 -type f 2>/dev/null | wc -l
}

# ---- per-host credentials ----
echo 'Basic dXNlcjpwdw==' >"$WWW/private.example.com/.require-auth" # user:pw
mkdir -p "$ETC/auth.d" "$W/vendor/auth.d"
run_pod "${P[@]}" --insecure-options=image fetch private.example.com/app:1.0
assert_status "no credentials: refused by the server" 254
assert_match "the error names the URL and HTTP 401" "$ERR" "private.example.com.*HTTP 401/403"

# The vendor's entry is replaced by the admin's for the same domain.
cat >"$W/vendor/auth.d/50-private.json" <<'EOF'
{"rktKind":"auth","rktVersion":"v1","domains":["private.example.com"],"type":"basic",
 "credentials":{"user":"vendor","password":"wrong"}}
EOF
cat >"$ETC/auth.d/50-private.json" <<'EOF'
{"rktKind":"auth","rktVersion":"v1","domains":["private.example.com"],"type":"basic",
 "credentials":{"user":"user","password":"pw"}}
EOF
n=$(lines)
run_pod "${P[@]}" trust --prefix private.example.com --skip-fingerprint-review
assert_status "pod trust discovers and downloads the key with credentials" 0
assert_match "... the key download carried them" "$(since "$n")" \
        "^private.example.com /pubkeys.asc .*Authorization:Basic dXNlcjpwdw==$"
n=$(lines)
run_pod "${P[@]}" fetch private.example.com/app:1.0
assert_status "fetch with basic credentials from auth.d" 0
tap_check "discovery, image and signature requests all carried them" \
        "$([ "$(since "$n" | count 'Authorization:Basic dXNlcjpwdw==$')" = "$(since "$n" | count .)" ]
                echo $?)" "$(since "$n")"
tap_check "... and there were three kinds of them" \
        "$(since "$n" | grep -q 'ac-discovery' && since "$n" | grep -q '\.aci ' &&
                since "$n" | grep -q '\.aci\.asc '; echo $?)" "$(since "$n")"

# A redirect to another host does not take the credentials along.
run_pod "${P[@]}" trust --prefix example.com/hello --skip-fingerprint-review "$W/signer.asc"
HELLO_URL=https://example.com/aci/example.com/hello-1.0-linux-$ARCH.aci
n=$(lines)
run_pod "${P[@]}" fetch "https://private.example.com/_redirect?to=$HELLO_URL"
assert_status "fetch through a redirect from the private host to another host" 0
assert_match "the private host got the credentials" "$(since "$n")" \
        "^private.example.com /_redirect.* Authorization:Basic"
tap_check "the other host never did" \
        "$([ "$(since "$n" | count '^example.com.*Authorization')" = 0 ]; echo $?)" \
        "$(since "$n")"
tap_check "... though it was asked" "$(since "$n" | grep -q '^example.com /aci/'; echo $?)"
rm -rf "$ETC/trustedkeys/prefix.d/example.com"

# oauth, with pod's own spelling of the kind
echo 'Bearer tok-123' >"$WWW/private.example.com/.require-auth"
cat >"$ETC/auth.d/50-private.json" <<'EOF'
{"podKind":"auth","podVersion":"v1","domains":["private.example.com"],"type":"oauth",
 "credentials":{"token":"tok-123"}}
EOF
n=$(lines)
run_pod "${P[@]}" fetch --pull-policy=update private.example.com/app:1.0
assert_status "fetch with an oauth token (podKind spelling)" 0
assert_match "sent as a bearer token" "$(since "$n")" "Authorization:Bearer tok-123$"

cat >"$ETC/auth.d/60-bad.json" <<'EOF'
{"rktKind":"auth","rktVersion":"v1","domains":["example.org"],"type":"digest",
 "credentials":{"user":"u","password":"p"}}
EOF
run_pod "${P[@]}" fetch private.example.com/app:1.0
assert_status "an invalid auth.d file fails the fetch" 254
assert_match "... naming the file and the problem" "$ERR" "60-bad.json.*type 'digest'"
rm "$ETC/auth.d/60-bad.json"
rm "$WWW/private.example.com/.require-auth"
n=$(lines)
run_pod "${P[@]}" --insecure-options=image,http fetch \
        "http://private.example.com/aci/private.example.com/app-1.0-linux-$ARCH.aci"
assert_status "an explicit plain http URL of the private host" 0
tap_check "... is fetched without the credentials (https only)" \
        "$([ "$(since "$n" | count '^private.example.com /aci/')" = 1 ] &&
                [ "$(since "$n" | count Authorization)" = 0 ]; echo $?)" "$(since "$n")"

# ---- implicit trust ----
n=$(lines)
run_pod "${P[@]}" fetch example.com/hello:1.0
assert_status "no trusted key, no terminal, no flag: refused" 254
assert_match "... with the pod trust command" "$ERR" "pod trust --prefix example.com/hello"
tap_check "no key was added" "$([ "$(keys_in example.com/hello)" = 0 ]; echo $?)"
tap_check "no key was even looked for" "$([ "$(since "$n" | count pubkeys)" = 0 ]; echo $?)"

run_pod "${P[@]}" fetch --trust-keys-from-https example.com/hello:1.0
assert_status "--trust-keys-from-https takes the discovered https key" 0
assert_match "... showing it" "$ERR" "Key fingerprint: "
tap_ok "... for the name's prefix" -- test -s "$ETC/trustedkeys/prefix.d/example.com/hello/$SIGNER_FPR"

pty_fetch() { # pty_fetch ANSWER NAME: pod fetch NAME on a pseudo-terminal answering ANSWER
        python3 - "$1" "$POD" "${P[@]}" fetch --quiet "$2" >"$W/pty.out" 2>&1 <<'EOF'
import os, pty, select, sys
answer, argv = sys.argv[1], sys.argv[2:]
pid, fd = pty.fork()
if pid == 0:
    os.execv(argv[0], argv)
out, sent = b"", False
while True:
    if not select.select([fd], [], [], 300)[0]:
        break
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    out += data
    if not sent and b"(yes/no)?" in out:
        os.write(fd, answer.encode() + b"\n")
        sent = True
sys.stdout.write(out.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(os.waitpid(pid, 0)[1]))
EOF
}
set +e
pty_fetch yes example.com/tty:1.0
st=$?
set -e
tap_check "on a terminal: the key is shown, 'yes' trusts it and the fetch succeeds" "$st" \
        "$(cat "$W/pty.out")"
tap_check "... the review showed the fingerprint and asked" \
        "$(grep -q 'Key fingerprint' "$W/pty.out" && grep -q 'yes/no' "$W/pty.out"; echo $?)"
tap_ok "... and the key is trusted for the name" -- \
        test -s "$ETC/trustedkeys/prefix.d/example.com/tty/$SIGNER_FPR"
set +e
pty_fetch no example.com/ttyno:1.0
st=$?
set -e
tap_check "on a terminal, 'no' refuses the image" "$([ "$st" = 254 ]; echo $?)" \
        "$(cat "$W/pty.out")"
tap_check "... and trusts nothing" "$([ "$(keys_in example.com/ttyno)" = 0 ]; echo $?)"

run_pod "${P[@]}" trust --prefix example.com/second --skip-fingerprint-review "$W/other.asc"
n=$(lines)
run_pod "${P[@]}" fetch --trust-keys-from-https example.com/second:1.0
assert_status "a prefix that has a key gets no second one implicitly" 254
tap_check "... it still has one key" "$([ "$(keys_in example.com/second)" = 1 ]; echo $?)"
tap_check "... and no key was looked for" "$([ "$(since "$n" | count pubkeys)" = 0 ]; echo $?)"

tap_done
