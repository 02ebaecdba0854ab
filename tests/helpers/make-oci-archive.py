#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds Docker/OCI image archives for tests/integration/oci-archive.sh, stdlib only.

  make-oci-archive.py ROOTFS OUTDIR [--arch=amd64]

ROOTFS is a directory; its contents become two layers (everything but etc/, then etc/).
Writes into OUTDIR:
  docker.tar      classic `docker save`: manifest.json, <hex>.json config, <id>/layer.tar
                  (layer 1 uncompressed, layer 2 gzip), RepoTags example.com/test/app:1.0
                  and app:latest
  layout/         an OCI layout dir: index.json with two entries, ref.name 1.0 and latest
  oci.tar         the same layout as a tar, docker 25 style: io.containerd.image.name
                  annotations and a manifest.json beside index.json
  config.digest   the config's sha256 digest
  evil-dotdot.tar a docker save tar with a member ../evil
  evil-abs.tar    a docker save tar with a member /abs
  evil-digest.tar oci.tar with one byte of a layer changed (same size)
  evil-config.tar docker.tar whose config does not match its <hex>.json name
  evil-missing.tar oci.tar without one layer blob
  evil-bigjson.tar a layout tar whose index.json is 5 MiB
  evil-symlink/   the layout dir with a layer blob replaced by a symlink to it elsewhere
  multi.tar       a layout tar whose one entry is an index of this arch's image and an
                  s390x one (s390x.config.digest: its config)
"""
import gzip
import hashlib
import io
import json
import os
import shutil
import sys
import tarfile

def sha(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()

def layer_tar(root, include):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            for name in sorted(dirnames) + sorted(filenames):
                full = os.path.join(dirpath, name)
                rel = os.path.relpath(full, root)
                if not include(rel):
                    continue
                info = t.gettarinfo(full, arcname=rel)
                info.uid = info.gid = 0
                info.uname = info.gname = ""
                info.mtime = 1700000000
                if info.isreg():
                    with open(full, "rb") as f:
                        t.addfile(info, f)
                else:
                    t.addfile(info)
    return buf.getvalue()

def add(t, name, data):
    i = tarfile.TarInfo(name)
    i.size = len(data)
    i.mtime = 1700000000
    t.addfile(i, io.BytesIO(data))

def main():
    root, out = sys.argv[1], sys.argv[2]
    arch = "amd64"
    for a in sys.argv[3:]:
        if a.startswith("--arch="):
            arch = a.split("=", 1)[1]
    os.makedirs(out, exist_ok=True)
    top = lambda r: r == "etc" or r.startswith("etc/")
    l1 = layer_tar(root, lambda r: not top(r))
    l2 = layer_tar(root, top)
    l2gz = gzip.compress(l2, mtime=0)
    config = json.dumps({
        "architecture": arch, "os": "linux", "created": "2023-11-14T22:13:20Z",
        "config": {"Cmd": ["/bin/sh", "-c", "cat /etc/msg"], "Env": ["PATH=/bin"],
                   "Labels": {"org.example.test": "yes"}},
        "rootfs": {"type": "layers", "diff_ids": [sha(l1), sha(l2)]},
    }, sort_keys=True).encode()
    chex = hashlib.sha256(config).hexdigest()
    open(os.path.join(out, "config.digest"), "w").write("sha256:" + chex + "\n")

    # ---- classic docker save ----
    def docker_tar(path, cfg=config, cfg_name=chex + ".json", names=None):
        with tarfile.open(path, "w") as t:
            add(t, cfg_name, cfg)
            add(t, "aaaa/layer.tar", l1)
            add(t, "bbbb/layer.tar", l2gz)
            for n in names or []:
                add(t, n, b"x")
            m = [{"Config": cfg_name, "RepoTags": ["example.com/test/app:1.0", "app:latest"],
                  "Layers": ["aaaa/layer.tar", "bbbb/layer.tar"]}]
            add(t, "manifest.json", json.dumps(m).encode())
    docker_tar(os.path.join(out, "docker.tar"))
    docker_tar(os.path.join(out, "evil-dotdot.tar"), names=["../evil"])
    docker_tar(os.path.join(out, "evil-abs.tar"), names=["/abs"])
    docker_tar(os.path.join(out, "evil-config.tar"), cfg=config + b" ")

    # ---- OCI layout ----
    manifest = json.dumps({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": "sha256:" + chex, "size": len(config)},
        "layers": [
            {"mediaType": "application/vnd.oci.image.layer.v1.tar", "digest": sha(l1),
             "size": len(l1)},
            {"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": sha(l2gz),
             "size": len(l2gz)},
        ],
    }).encode()
    blobs = {sha(config): config, sha(manifest): manifest, sha(l1): l1, sha(l2gz): l2gz}

    def index(containerd):
        entries = []
        for tag in ("1.0", "latest"):
            ann = {"org.opencontainers.image.ref.name": tag}
            if containerd:
                ann["io.containerd.image.name"] = "example.com/test/oci:" + tag
            entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                            "digest": sha(manifest), "size": len(manifest),
                            "annotations": ann})
        return json.dumps({"schemaVersion": 2, "manifests": entries}).encode()

    lay = os.path.join(out, "layout")
    os.makedirs(os.path.join(lay, "blobs", "sha256"), exist_ok=True)
    open(os.path.join(lay, "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
    open(os.path.join(lay, "index.json"), "wb").write(index(False))
    for d, b in blobs.items():
        open(os.path.join(lay, "blobs", "sha256", d[7:]), "wb").write(b)

    def oci_tar(path, blobs=blobs, idx=None):
        with tarfile.open(path, "w") as t:
            for d, b in blobs.items():
                add(t, "blobs/sha256/" + d[7:], b)
            add(t, "index.json", idx if idx is not None else index(True))
            add(t, "manifest.json", json.dumps([{
                "Config": "blobs/sha256/" + chex,
                "RepoTags": ["example.com/test/oci:1.0", "example.com/test/oci:latest"],
                "Layers": ["blobs/sha256/" + sha(l1)[7:], "blobs/sha256/" + sha(l2gz)[7:]],
            }]).encode())
            add(t, "oci-layout", b'{"imageLayoutVersion":"1.0.0"}')
    oci_tar(os.path.join(out, "oci.tar"))
    bad = dict(blobs)
    b = bytearray(l1)  # a byte of file data: the tar stays valid, the digest does not
    b[len(b) // 2] ^= 0xff
    bad[sha(l1)] = bytes(b)
    oci_tar(os.path.join(out, "evil-digest.tar"), blobs=bad)
    missing = {d: v for d, v in blobs.items() if d != sha(l1)}
    oci_tar(os.path.join(out, "evil-missing.tar"), blobs=missing)
    big = b'{"schemaVersion":2,"manifests":[],"x":"' + b"a" * (5 << 20) + b'"}'
    oci_tar(os.path.join(out, "evil-bigjson.tar"), idx=big)

    # a multi-platform image: an index entry naming an index of two manifests, this host's
    # and s390x's (another config over the same layers)
    other_cfg = config.replace(('"architecture": "%s"' % arch).encode(), b'"architecture": "s390x"')
    other_man = manifest.replace(chex.encode(), hashlib.sha256(other_cfg).hexdigest().encode()) \
        .replace(b'"size": %d}' % len(config), b'"size": %d}' % len(other_cfg), 1)
    plat_index = json.dumps({"schemaVersion": 2,
                             "mediaType": "application/vnd.oci.image.index.v1+json",
                             "manifests": [
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(other_man),
         "size": len(other_man), "platform": {"os": "linux", "architecture": "s390x"}},
        {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": sha(manifest),
         "size": len(manifest), "platform": {"os": "linux", "architecture": arch}},
    ]}).encode()
    multi = dict(blobs)
    multi.update({sha(other_cfg): other_cfg, sha(other_man): other_man, sha(plat_index): plat_index})
    open(os.path.join(out, "s390x.config.digest"), "w").write(sha(other_cfg) + "\n")
    oci_tar(os.path.join(out, "multi.tar"), blobs=multi, idx=json.dumps({"schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.index.v1+json",
                       "digest": sha(plat_index), "size": len(plat_index),
                       "annotations": {"io.containerd.image.name": "example.com/test/multi:1"}}]}).encode())

    ev = os.path.join(out, "evil-symlink")
    shutil.rmtree(ev, ignore_errors=True)
    shutil.copytree(lay, ev)
    outside = os.path.join(out, "outside-blob")
    shutil.move(os.path.join(ev, "blobs", "sha256", sha(l1)[7:]), outside)
    os.symlink(outside, os.path.join(ev, "blobs", "sha256", sha(l1)[7:]))

if __name__ == "__main__":
    main()
