#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
# Pull benchmark (issue 12): a multi-layer Docker image in a local registry (Debian's
# docker-registry, plain http on loopback), pulled side by side in one run by
#   - pod fetch docker://...                       (download, verify, unpack into the store)
#   - skopeo copy docker://... oci:DIR             (download and verify only, no extraction)
#   - skopeo copy docker://... containers-storage: (podman's import, when it works here)
#   - podman pull                                   (only if podman is installed)
#   - the one-pass floor: per layer curl | tee >(sha256sum) | gzip -d | tar -x, the layers
#     two at a time (2 cores)
# and prints ratios.  Then: a re-pull of the stored image (its registry requests counted from
# the registry's log: the target is one manifest request), and the start time of a pod from
# the pulled image next to one from an ACI of the same files.  Never a timed test: by hand.
#
#   POD=build/stage0/pod bench/pull.sh [--small]     # BENCH_RUNS=3 BENCH_SIZE_MB=500
#
# --small: a ~40 MB image and one run, to check that the script works.  The full size writes
# ~1.5 GB per run and method: on a shared machine run it once, not in a loop.  Each pull goes
# to a fresh directory and nothing is deleted until the end (perf-targets.md: creating files
# right after a mass delete is slow on these hosts and would be measured instead).
set -euo pipefail

POD=${POD:-$(dirname "$0")/../stage0/pod}
# pod run needs stage1: from the build tree next to $POD unless given
if [ -z "${POD_STAGE1:-}" ] && [ -x "$(dirname "$POD")/../stage1/pod-stage1" ]; then
        POD_STAGE1=$(cd "$(dirname "$POD")/../stage1" && pwd)/pod-stage1
        export POD_STAGE1
fi
SIZE_MB=${BENCH_SIZE_MB:-500}
RUNS=${BENCH_RUNS:-3}
SRC=${BENCH_SOURCE:-/usr/lib}
if [ "${1:-}" = "--small" ]; then
        SIZE_MB=${BENCH_SIZE_MB:-40}
        RUNS=1
fi
W=${BENCH_DIR:-/var/tmp/pod-bench-pull.$$}
PORT=${BENCH_PORT:-$((20000 + $$ % 20000))}
REG=127.0.0.1:$PORT
REPO=bench/big
TAG=v1

for t in docker-registry skopeo curl gzip tar sha256sum python3 awk; do
        command -v "$t" >/dev/null || { echo "bench: '$t' is needed" >&2; exit 1; }
done
[ -x "$POD" ] || { echo "bench: no pod binary at '$POD' (set POD=)" >&2; exit 1; }
BUSYBOX=$(command -v busybox || true)

mkdir -p "$W"
REG_PID=
cleanup() {
        [ -n "$REG_PID" ] && kill "$REG_PID" 2>/dev/null && wait "$REG_PID" 2>/dev/null
        # containers-storage leaves overlay mounts and read-only files behind
        grep -o " $W/[^ ]*" /proc/self/mounts 2>/dev/null | sort -r | xargs -r -n1 umount -l 2>/dev/null || true
        echo "cleaning up $W"
        rm -rf "$W"
}
trap cleanup EXIT
N=0
fresh() { N=$((N + 1)); mkdir -p "$W/out/$N"; echo "$W/out/$N"; }

# ---- the registry ------------------------------------------------------------------------
cat >"$W/registry.yml" <<EOF
version: 0.1
log: { level: info, accesslog: { disabled: false } }
storage: { filesystem: { rootdirectory: $W/registry }, delete: { enabled: true } }
http: { addr: "$REG" }
EOF
docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
REG_PID=$!
for _ in $(seq 100); do
        curl -sf "http://$REG/v2/" >/dev/null && break
        sleep 0.1
done
curl -sf "http://$REG/v2/" >/dev/null || { echo "bench: the registry did not start:" >&2; cat "$W/registry.log" >&2; exit 1; }

# ---- the image: real files from $SRC in 4 gzip layers, busybox in the first --------------
echo "building a ${SIZE_MB} MB image (4 gzip layers) from $SRC ..."
(cd "$SRC" && find . -type f -size -16M -printf '%s %p\n' 2>/dev/null |
        awk -v max=$((SIZE_MB * 1000000)) '{ t += $1; if (t > max) exit; sub(/^[0-9]+ /, ""); print }') >"$W/list" || true
split -n l/4 -d "$W/list" "$W/part."
mkdir -p "$W/layout/blobs/sha256" "$W/rootfs"
for i in 0 1 2 3; do
        mkdir -p "$W/l$i"
        (tar -C "$SRC" -cf - -T "$W/part.0$i" 2>/dev/null || true) | tar -C "$W/l$i" -xf -
done
if [ -n "$BUSYBOX" ] && ! ldd "$BUSYBOX" >/dev/null 2>&1; then
        mkdir -p "$W/l0/bin"
        cp "$BUSYBOX" "$W/l0/bin/busybox"
        for a in sh true; do ln -sf busybox "$W/l0/bin/$a"; done
fi
python3 - "$W" <<'EOF'
import gzip, hashlib, json, os, subprocess, sys
w = sys.argv[1]
layers, diff_ids = [], []
for i in range(4):
    tar = subprocess.run(["tar", "-C", f"{w}/l{i}", "--sort=name", "--mtime=@1700000000",
                          "--owner=0", "--group=0", "--numeric-owner", "-cf", "-", "."],
                         check=True, stdout=subprocess.PIPE).stdout
    gz = subprocess.run(["gzip", "-6", "-n"], input=tar, check=True, stdout=subprocess.PIPE).stdout
    diff_ids.append("sha256:" + hashlib.sha256(tar).hexdigest())
    d = hashlib.sha256(gz).hexdigest()
    open(f"{w}/layout/blobs/sha256/{d}", "wb").write(gz)
    layers.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                   "digest": "sha256:" + d, "size": len(gz), "tar": len(tar)})
arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(os.uname().machine, os.uname().machine)
config = json.dumps({"architecture": arch, "os": "linux",
                     "config": {"Cmd": ["/bin/true"], "Env": ["PATH=/bin"]},
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
cd = hashlib.sha256(config).hexdigest()
open(f"{w}/layout/blobs/sha256/{cd}", "wb").write(config)
manifest = json.dumps({"schemaVersion": 2,
                       "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                  "digest": "sha256:" + cd, "size": len(config)},
                       "layers": [{k: l[k] for k in ("mediaType", "digest", "size")} for l in layers]}).encode()
md = hashlib.sha256(manifest).hexdigest()
open(f"{w}/layout/blobs/sha256/{md}", "wb").write(manifest)
open(f"{w}/layout/oci-layout", "w").write('{"imageLayoutVersion":"1.0.0"}')
open(f"{w}/layout/index.json", "w").write(json.dumps({"schemaVersion": 2, "manifests": [
    {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "sha256:" + md,
     "size": len(manifest), "annotations": {"org.opencontainers.image.ref.name": "v1"}}]}))
open(f"{w}/layers", "w").write("".join(l["digest"] + "\n" for l in layers))
print("image: %d files, tar %d MB, gzip %d MB in %s layers" % (
    sum(1 for _ in open(f"{w}/list")), sum(l["tar"] for l in layers) // 1000000,
    sum(l["size"] for l in layers) // 1000000, len(layers)))
EOF
skopeo copy -q --dest-tls-verify=false "oci:$W/layout:v1" "docker://$REG/$REPO:$TAG"
# an ACI of the same files, for the start-time comparison
mkdir -p "$W/aci/rootfs"
for i in 0 1 2 3; do cp -a "$W/l$i/." "$W/aci/rootfs/"; done
echo '{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/bench-pull","app":{"exec":["/bin/true"],"user":"0","group":"0"}}' >"$W/aci/manifest"
"$POD" image build --compression=none "$W/aci" "$W/bench.aci" >/dev/null
rm -rf "$W/aci" "$W/l0" "$W/l1" "$W/l2" "$W/l3"
sleep 5 # let writeback of the build settle

# ---- the pulls ---------------------------------------------------------------------------
now() { date +%s.%N; }
declare -A T C
measure() { # measure NAME command... ; "{}" is replaced by a fresh dir; median of RUNS
        local name=$1 times=() cpus=() s e d rc
        shift
        for _ in $(seq "$RUNS"); do
                d=$(fresh)
                local cmd=("${@//\{\}/$d}")
                sync -f "$W" 2>/dev/null || true
                s=$(now)
                set +e
                /usr/bin/time -f '%U %S' -o "$W/time" "${cmd[@]}" >"$W/cmd.out" 2>&1
                rc=$?
                set -e
                e=$(now)
                if [ "$rc" != 0 ]; then
                        printf '  %-44s failed (exit %d): %s\n' "$name" "$rc" "$(tail -n 2 "$W/cmd.out" | tr '\n' ' ' | cut -c1-200)"
                        return 0
                fi
                times+=("$(awk -v s="$s" -v e="$e" 'BEGIN { printf "%.3f", e - s }')")
                cpus+=("$(awk 'END { printf "%.2f", $1 + $2 }' "$W/time")")
        done
        T[$name]=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
        C[$name]=$(printf '%s\n' "${cpus[@]}" | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')
        printf '  %-44s %7.2f s  cpu %6.2f s  (runs: %s)\n' "$name" "${T[$name]}" "${C[$name]}" "${times[*]}"
}

# the floor: each layer fetched, hashed, decompressed and extracted in one pipeline, two
# layers at a time
cat >"$W/floor.sh" <<EOF
#!/bin/bash
set -eo pipefail
one() { curl -sf "http://$REG/v2/$REPO/blobs/\$1" | tee >(sha256sum >/dev/null) | gzip -dc | tar -C "\$2" -xf -; }
export -f one
curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' "http://$REG/v2/$REPO/manifests/$TAG" >/dev/null
xargs -P2 -I{} bash -c 'mkdir -p "\$1/\${2#sha256:}" && one "\$2" "\$1/\${2#sha256:}"' _ "\$1" {} <"$W/layers"
EOF
chmod +x "$W/floor.sh"
if command -v pigz >/dev/null; then sed 's/gzip -dc/pigz -dc/' "$W/floor.sh" >"$W/floor-pigz.sh"; chmod +x "$W/floor-pigz.sh"; fi

echo "timings (median of $RUNS; load $(cut -d' ' -f1-3 /proc/loadavg)):"
measure "floor: curl|sha256|gzip -d|tar -x, 2 at once" "$W/floor.sh" {}
[ -x "$W/floor-pigz.sh" ] && measure "floor with pigz" "$W/floor-pigz.sh" {}
measure "pod fetch" "$POD" --dir={} --insecure-options=image,http fetch --quiet "docker://$REG/$REPO:$TAG"
measure "skopeo copy -> oci: (no extraction)" skopeo copy -q --src-tls-verify=false "docker://$REG/$REPO:$TAG" "oci:{}/oci:v1"
# containers-storage without podman: a private graph root and run root, the vfs driver
# (overlay needs a mount per layer and podman's setup); what podman pull does underneath
measure "skopeo copy -> containers-storage: (vfs)" skopeo copy -q --src-tls-verify=false \
        "docker://$REG/$REPO:$TAG" "containers-storage:[vfs@{}/graph+{}/run]$REG/$REPO:$TAG"
measure "skopeo copy -> containers-storage: (overlay)" skopeo copy -q --src-tls-verify=false \
        "docker://$REG/$REPO:$TAG" "containers-storage:[overlay@{}/graph+{}/run]$REG/$REPO:$TAG"
if command -v podman >/dev/null; then
        measure "podman pull" podman --root={}/graph --runroot={}/run pull -q --tls-verify=false "docker://$REG/$REPO:$TAG"
else
        echo "  podman pull                                  not installed (apt's podman 4.3 is ~36 MB with conmon/crun; not installed by this script)"
fi

ratio() {
        if [ -z "${T[$1]:-}" ] || [ -z "${T[$2]:-}" ]; then echo "n/a"; return; fi
        echo "$(awk -v a="${T[$1]}" -v b="${T[$2]}" 'BEGIN { printf "%.2f", a / b }') wall, $(awk -v a="${C[$1]}" -v b="${C[$2]}" 'BEGIN { printf "%.2f", (b > 0 ? a / b : 0) }') cpu"
}
F="floor: curl|sha256|gzip -d|tar -x, 2 at once"
echo "ratios:"
echo "  pod fetch / floor                        $(ratio 'pod fetch' "$F")   (target <= 1.3)"
echo "  skopeo -> containers-storage (vfs) / pod $(ratio 'skopeo copy -> containers-storage: (vfs)' 'pod fetch')"
echo "  skopeo -> containers-storage (ovl) / pod $(ratio 'skopeo copy -> containers-storage: (overlay)' 'pod fetch')"
echo "  podman pull / pod fetch                  $(ratio 'podman pull' 'pod fetch')   (target ~2)"
echo "  skopeo -> oci: / pod fetch               $(ratio 'skopeo copy -> oci: (no extraction)' 'pod fetch')"

# ---- re-pull and start time ---------------------------------------------------------------
D=$W/store
if ! "$POD" --dir="$D" --insecure-options=image,http fetch --quiet "docker://$REG/$REPO:$TAG" >"$W/id" 2>"$W/err"; then
        echo "re-pull / start time: pod fetch failed: $(head -n 2 "$W/err")"
        exit 0
fi
before=$(wc -l <"$W/registry.log")
s=$(now)
"$POD" --dir="$D" --insecure-options=image,http fetch --quiet --pull-policy=update "docker://$REG/$REPO:$TAG" >/dev/null 2>&1
e=$(now)
reqs=$(tail -n +"$((before + 1))" "$W/registry.log" | grep -Eo '"(GET|HEAD) /v2/[^ ]*' | sed 's/^"//' || true)
printf 're-pull of the stored image (--pull-policy=update): %.3f s, %d registry requests (target: 1 manifest request):\n' \
        "$(awk -v s="$s" -v e="$e" 'BEGIN { print e - s }')" "$(grep -c . <<<"$reqs" || true)"
while read -r q; do [ -z "$q" ] || echo "    $q"; done <<<"$reqs"
ACI_ID=$("$POD" --dir="$D" --insecure-options=image image import "$W/bench.aci")
OCI_ID=$(cat "$W/id")
for img in "$OCI_ID" "$ACI_ID"; do
        if ! "$POD" --dir="$D" run --net=none "$img" >/dev/null 2>"$W/err"; then
                echo "start time: pod run of $img failed: $(head -n 3 "$W/err")"
                exit 0
        fi
done
if command -v hyperfine >/dev/null && [ "$(id -u)" = 0 ]; then
        echo "pod run --net=none of /bin/true (start to exit):"
        hyperfine -N --warmup 2 --runs "$((RUNS * 10))" --style basic --export-json "$W/run.json" \
                -n "pulled image (overlay of 4 layers)" "$POD --dir=$D run --net=none $OCI_ID" \
                -n "ACI of the same files" "$POD --dir=$D run --net=none $ACI_ID" 2>&1 | grep -Ev '^\s*$' | sed 's/^/  /' || true
        python3 -c 'import json,sys; r=json.load(open(sys.argv[1]))["results"]
if len(r) == 2: print("  pulled / ACI: %.2f wall, %.2f cpu (target <= 1.0)" % (r[0]["median"] / r[1]["median"], (r[0]["user"] + r[0]["system"]) / (r[1]["user"] + r[1]["system"])))' "$W/run.json" 2>/dev/null || true
else
        echo "start time: needs hyperfine and root"
fi
