#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Import benchmark (perf-targets.md): a ~500 MB (uncompressed) ACI built from real files,
# gzip and zstd variants; times `pod image import` next to its parts on the same files in
# the same run and prints ratios.  Never a timed test: run by hand.
#
#   POD=build/stage0/pod bench/import.sh          # BENCH_SIZE_MB=500 BENCH_RUNS=3
#   POD_BASELINE=other/stage0/pod ...             # also times another build, same run
#
# The "one-pass floor" is the shell pipeline doing what an import does, overlapped across
# cores: decompress | tee FIFO | tar -x, with sha512 reading the FIFO (a waited-for child, so
# its CPU is counted: a >(process substitution) is never waited for, and hyperfine's user and
# system times missed it).  Every extraction goes to a fresh directory and
# nothing is deleted until the end: on these hosts' journal-less ext4, creating files right
# after a mass delete is slow and would be measured instead (perf-targets.md).
set -euo pipefail

POD=${POD:-$(dirname "$0")/../stage0/pod}
SIZE_MB=${BENCH_SIZE_MB:-500}
RUNS=${BENCH_RUNS:-3}
SRC=${BENCH_SOURCE:-/usr/lib}
W=${BENCH_DIR:-/var/tmp/pod-bench.$$}

for t in zstd gzip tar openssl awk gpg; do
        command -v "$t" >/dev/null || { echo "bench: '$t' is needed" >&2; exit 1; }
done
[ -x "$POD" ] || { echo "bench: no pod binary at '$POD' (set POD=)" >&2; exit 1; }

mkdir -p "$W"
trap 'echo "cleaning up $W"; rm -rf "$W"' EXIT
N=0
fresh() { N=$((N + 1)); mkdir -p "$W/out/$N"; echo "$W/out/$N"; }

# ---- the image: regular files from $SRC up to SIZE_MB, as a real rootfs would have ----
echo "building a ${SIZE_MB} MB image from $SRC ..."
mkdir -p "$W/img/rootfs"
cat >"$W/img/manifest" <<'EOF'
{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/bench",
 "labels":[{"name":"os","value":"linux"},{"name":"arch","value":"amd64"}]}
EOF
(cd "$SRC" && find . -type f -size -16M -printf '%s %p\n' 2>/dev/null |
        awk -v max=$((SIZE_MB * 1000000)) '{ t += $1; if (t > max) exit; sub(/^[0-9]+ /, ""); print }') >"$W/list" || true # find: SIGPIPE
(tar -C "$SRC" -cf - -T "$W/list" 2>/dev/null || true) | tar -C "$W/img/rootfs" -xf -
"$POD" image build --compression=none "$W/img" "$W/b.aci" >/dev/null
zstd -q -T0 "$W/b.aci" -o "$W/b.aci.zst"
gzip -c "$W/b.aci" >"$W/b.aci.gz"
rm -rf "$W/img"
printf 'image: %d files, tar %d MB, zstd %d MB, gzip %d MB\n' "$(wc -l <"$W/list")" \
        $(($(stat -c %s "$W/b.aci") / 1000000)) $(($(stat -c %s "$W/b.aci.zst") / 1000000)) \
        $(($(stat -c %s "$W/b.aci.gz") / 1000000))
# A signing key in a private keyring, trusted for the image's name in a private config dir:
# `pod fetch` of the signed zstd ACI verifies the signature over the whole file before it
# unpacks anything (pod-fetch(1)), a pass the one-pass floor does not make.
export GNUPGHOME=$W/gnupg
mkdir -m 700 "$GNUPGHOME"
gpg --batch --passphrase '' --quick-gen-key bench@example.com ed25519 sign never 2>/dev/null
gpg --batch --armor --export bench@example.com >"$W/signer.asc" 2>/dev/null
gpg --batch --yes --armor --local-user bench@example.com --detach-sign \
        -o "$W/b.aci.zst.asc" "$W/b.aci.zst" 2>/dev/null
"$POD" --dir="$W/trust-store" --local-config="$W/etc" --system-config="$W/vendor" trust \
        --prefix example.com/bench --skip-fingerprint-review "$W/signer.asc" >/dev/null
cat "$W/b.aci" "$W/b.aci.zst" "$W/b.aci.gz" >/dev/null # page cache: all runs read warm input
sleep 5                                                 # let writeback of the build settle

# ---- timing: median of RUNS, each run in a fresh directory ----
now() { date +%s.%N; }
declare -A T C
mkdir -p "$W/out"
export BENCH_OUT=$W/out
# shellcheck disable=SC2016 # expanded by run.sh, not here
printf '%s\n' 'd=$(mktemp -d -p "$BENCH_OUT")' 'exec "${@//\{\}/$d}"' >"$W/run.sh"
measure() { # measure NAME command... ; "{}" in the command is replaced by a fresh dir
        local name=$1 times=() s e d
        shift
        if command -v hyperfine >/dev/null && command -v python3 >/dev/null; then
                # run.sh makes the fresh dir inside the timed command (mkdir: ~1 ms, the same
                # for every command); --prepare flushes earlier writes outside the timing.
                hyperfine -N --runs "$RUNS" --prepare "sync -f $W" --export-json "$W/hf.json" \
                        --style none "bash $W/run.sh $(printf '%q ' "$@")" >/dev/null
                T[$name]=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"][0]; print("%.3f" % r["median"]); print("%.2f|%s" % (r["user"] + r["system"], " ".join("%.3f" % t for t in r["times"])), file=sys.stderr)' "$W/hf.json" 2>"$W/hf.times")
                C[$name]=$(cut -d'|' -f1 "$W/hf.times")
                printf '  %-38s %6.2f s  cpu %5.2f s  (runs: %s)\n' "$name" "${T[$name]}" "${C[$name]}" "$(cut -d'|' -f2 "$W/hf.times")"
                return
        fi
        for _ in $(seq "$RUNS"); do
                d=$(fresh)
                local cmd=("${@//\{\}/$d}")
                sync -f "$W" 2>/dev/null || true # earlier writes reach the disk outside the timing
                s=$(now)
                "${cmd[@]}" >/dev/null 2>&1
                e=$(now)
                times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')")
        done
        T[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
        printf '  %-38s %6.2f s   (runs: %s)\n' "$name" "${T[$name]}" "${times[*]}"
}

echo "timings (median of $RUNS; $(command -v hyperfine >/dev/null && echo hyperfine || echo "date +%s.%N"); load $(cut -d" " -f1-3 /proc/loadavg)):"
measure "sha512 (openssl) of the tar" openssl dgst -sha512 "$W/b.aci"
measure "zstd -dc" zstd -dc "$W/b.aci.zst"
measure "gzip -dc" gzip -dc "$W/b.aci.gz"
measure "tar -x (plain tar)" tar -C {} -xf "$W/b.aci"
floor() { # the shell text of: DECOMPRESSOR | tee FIFO | tar -x, sha512 < FIFO
        echo "f=\$(mktemp -u -p '$W'); mkfifo \$f; openssl dgst -sha512 <\$f >/dev/null & $1 | tee \$f | tar -C {} -xf -; r=\$?; wait; rm -f \$f; exit \$r"
}
measure "floor zstd: zstd|tee sha512|tar -x" bash -c "$(floor "zstd -dc '$W/b.aci.zst'")"
measure "floor gzip: gzip|tee sha512|tar -x" bash -c "$(floor "gzip -dc '$W/b.aci.gz'")"
measure "gpg --verify (zstd ACI)" gpg --batch --verify "$W/b.aci.zst.asc" "$W/b.aci.zst"
measure "floor zstd + gpg --verify first" bash -c "gpg --batch --verify '$W/b.aci.zst.asc' '$W/b.aci.zst' 2>/dev/null || exit 1; $(floor "zstd -dc '$W/b.aci.zst'")"
measure "pod fetch (zstd, signature verified)" "$POD" --dir={} --local-config="$W/etc" --system-config="$W/vendor" fetch --quiet "$W/b.aci.zst"
measure "pod image import (zstd)" "$POD" --dir={} --insecure-options=image image import "$W/b.aci.zst"
if [ -n "${POD_BASELINE:-}" ]; then
        measure "baseline: pod image import (zstd)" "$POD_BASELINE" --dir={} --insecure-options=image image import "$W/b.aci.zst"
        measure "baseline: pod fetch (zstd, verified)" "$POD_BASELINE" --dir={} --local-config="$W/etc" --system-config="$W/vendor" fetch --quiet "$W/b.aci.zst"
fi
measure "pod image import (gzip)" "$POD" --dir={} --insecure-options=image image import "$W/b.aci.gz"
measure "pod image import (plain tar)" "$POD" --dir={} --insecure-options=image image import "$W/b.aci"

ratio() {
        local r
        r=$(awk -v a="${T[$1]}" -v b="${T[$2]}" 'BEGIN { printf "%.2f", a / b }')
        if [ -n "${C[$1]:-}" ]; then # CPU seconds do not depend on what else runs
                r="$r wall, $(awk -v a="${C[$1]}" -v b="${C[$2]}" 'BEGIN { printf "%.2f", a / b }') cpu"
        fi
        echo "$r"
}
echo "ratios:"
echo "  pod import zstd / one-pass floor zstd   $(ratio 'pod image import (zstd)' 'floor zstd: zstd|tee sha512|tar -x')   (target <= 1.3)"
echo "  pod fetch zstd verified / floor zstd + gpg --verify   $(ratio 'pod fetch (zstd, signature verified)' 'floor zstd + gpg --verify first')"
echo "  pod fetch zstd verified / one-pass floor zstd   $(ratio 'pod fetch (zstd, signature verified)' 'floor zstd: zstd|tee sha512|tar -x')"
if [ -n "${POD_BASELINE:-}" ]; then
        echo "  baseline import zstd / one-pass floor zstd   $(ratio 'baseline: pod image import (zstd)' 'floor zstd: zstd|tee sha512|tar -x')"
        echo "  baseline fetch zstd verified / floor zstd + gpg --verify   $(ratio 'baseline: pod fetch (zstd, verified)' 'floor zstd + gpg --verify first')"
fi
echo "  pod import gzip / one-pass floor gzip   $(ratio 'pod image import (gzip)' 'floor gzip: gzip|tee sha512|tar -x')"
echo "  pod import tar  / tar -x                $(ratio 'pod image import (plain tar)' 'tar -x (plain tar)')"
echo "  pod import zstd / (zstd -dc + sha512 + tar -x serial) $(awk -v p="${T['pod image import (zstd)']}" \
        -v a="${T['zstd -dc']}" -v b="${T['sha512 (openssl) of the tar']}" -v c="${T['tar -x (plain tar)']}" \
        'BEGIN { printf "%.2f", p / (a + b + c) }')"
