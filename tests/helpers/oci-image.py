#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Builds Docker/OCI images from a small JSON description, for pod's tests (stdlib only, plus
the `zstd` CLI for zstd layers), and writes them as an OCI layout directory, a `docker save`
tar, or pushes them to a registry over the distribution v2 API.

Usage:
  oci-image.py push   SPEC --registry URL --repo NAME [--tag T]... [--user U --password P]
                      [--cacert CA.pem]
  oci-image.py layout SPEC --out DIR [--tag T]...        (OCI image layout; tags annotated)
  oci-image.py schema1 SPEC [--repo NAME] [--tag T]   prints a Docker schema 1 manifest of the
                      image (fsLayers top first, v1Compatibility history; unsigned: a
                      registry will not take it, tests serve it through registry-proxy.py)
  oci-image.py save   SPEC --out FILE.tar [--tag REPO:T]...   (`docker save` format: layers
                      as uncompressed tars named <diff_id hex>/layer.tar, as docker writes them)
SPEC is a file name or inline JSON ("{...}").  Every command prints key=value lines on stdout:
  manifest_digest=sha256:..  config_digest=sha256:..  image_id=sha512-<sha512 of the config>
  layer.N.digest=.. layer.N.diff_id=.. layer.N.size=..  index_digest=.. (multi-platform)
  platform.OS/ARCH[/VARIANT].manifest_digest=.. / .image_id=..

SPEC (an image):
  {"media": "docker"|"oci",                    (default docker; zstd layers need oci)
   "platform": {"os": "linux", "architecture": "amd64", "variant": ".."},  (default: host)
   "layers": [LAYER, ...],                      bottom first
   "config": {"Entrypoint": [..], "Cmd": [..], "Env": [..], "WorkingDir": "..", "User": "..",
              "ExposedPorts": {"80/tcp": {}}, "Volumes": {"/data": {}}, "Labels": {..},
              "StopSignal": "SIGINT"},
   "fault": {"layer": N, "kind": "bad-digest"|"lying-diff-id"|"truncate"|"truncated-gzip"|
                                 "bad-size"}}
  LAYER: {"compression": "gzip"|"zstd"|"none",  (default gzip)
          "busybox": ["sh", "ls", ...],          the host's static busybox as /bin/busybox
                                                 with these applets as symlinks, and
                                                 /etc/passwd, /etc/group (root, nobody)
          "dir": "PATH",                         a directory's tree (hard links kept)
          "entries": [ENTRY, ...]}               inline entries, after the above
  ENTRY: {"path": "a/b", "type": "file"|"dir"|"symlink"|"hardlink"|"whiteout"|"opaque",
          "content": "text", "size": N (file of N bytes of 'x'), "random": N (N random bytes),
          "mode": "0755", "uid": 0, "gid": 0, "target": "..." (symlink, hardlink)}
          whiteout: path is the name deleted ("etc/gone" -> "etc/.wh.gone");
          opaque: path is the directory ("opt" -> "opt/.wh..wh..opq").
SPEC (multi-platform): {"media": .., "index": [SPEC, ...], "attestation": true}
  pushes every image, then a manifest list (docker) or an OCI index, with an attestation
  manifest entry (platform unknown/unknown, as buildkit makes) when asked.
Faults (layout and save write the faulty bytes; push only what a registry accepts):
  bad-digest     the layer file holds other bytes than its digest names (layout/save)
  truncate       the layer file is cut in half (layout/save)
  bad-size       the manifest gives the layer a wrong size
  lying-diff-id  the config's diff_id for the layer is a wrong digest
  truncated-gzip the published blob is a gzip stream cut in half (its digest and size are
                 those of the cut bytes, the diff_id that of the whole tar)
"""
import argparse
import base64
import gzip
import hashlib
import http.client
import io
import json
import os
import platform as pyplatform
import shutil
import ssl
import subprocess
import sys
import tarfile
import urllib.parse

MT_DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
MT_DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MT_DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json"
MT_DOCKER_LAYER = {"gzip": "application/vnd.docker.image.rootfs.diff.tar.gzip",
                   "none": "application/vnd.docker.image.rootfs.diff.tar"}
MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = {"gzip": "application/vnd.oci.image.layer.v1.tar+gzip",
                "zstd": "application/vnd.oci.image.layer.v1.tar+zstd",
                "none": "application/vnd.oci.image.layer.v1.tar"}
MTIME = 1700000000


def die(msg):
    print("oci-image.py: " + msg, file=sys.stderr)
    sys.exit(1)


def sha256(b):
    return "sha256:" + hashlib.sha256(b).hexdigest()


def host_platform():
    m = pyplatform.machine()
    arch = {"x86_64": "amd64", "aarch64": "arm64", "i686": "386", "armv7l": "arm"}.get(m, m)
    return {"architecture": arch, "os": "linux"}


def find_busybox():
    for d in os.environ.get("PATH", "/usr/bin:/bin").split(":") + ["/bin", "/usr/bin"]:
        p = os.path.join(d, "busybox")
        if os.path.isfile(p) and os.access(p, os.X_OK):
            return os.path.realpath(p)
    die("no busybox on PATH (apt-get install busybox-static)")


class TarBuilder:
    def __init__(self):
        self.buf = io.BytesIO()
        self.tar = tarfile.open(fileobj=self.buf, mode="w", format=tarfile.PAX_FORMAT)
        self.dirs = set()

    def _info(self, path, typ, mode, uid=0, gid=0):
        ti = tarfile.TarInfo(path)
        ti.type = typ
        ti.mode = mode
        ti.uid, ti.gid = uid, gid
        ti.uname = ti.gname = ""
        ti.mtime = MTIME
        return ti

    def parents(self, path):
        parts = path.strip("/").split("/")[:-1]
        for i in range(1, len(parts) + 1):
            d = "/".join(parts[:i])
            if d not in self.dirs:
                self.dirs.add(d)
                self.tar.addfile(self._info(d + "/", tarfile.DIRTYPE, 0o755))

    def add_file(self, path, data, mode=0o644, uid=0, gid=0):
        self.parents(path)
        ti = self._info(path, tarfile.REGTYPE, mode, uid, gid)
        ti.size = len(data)
        self.tar.addfile(ti, io.BytesIO(data))

    def add_dir(self, path, mode=0o755, uid=0, gid=0):
        path = path.strip("/")
        self.parents(path)
        self.dirs.add(path)
        self.tar.addfile(self._info(path + "/", tarfile.DIRTYPE, mode, uid, gid))

    def add_link(self, path, target, hard, uid=0, gid=0):
        self.parents(path)
        ti = self._info(path, tarfile.LNKTYPE if hard else tarfile.SYMTYPE, 0o777, uid, gid)
        ti.linkname = target
        self.tar.addfile(ti)

    def add_tree(self, root):
        inodes = {}
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames.sort()
            rel = os.path.relpath(dirpath, root)
            if rel != ".":
                st = os.lstat(dirpath)
                self.add_dir(rel, st.st_mode & 0o7777, st.st_uid, st.st_gid)
            for name in sorted(filenames + [d for d in dirnames
                                            if os.path.islink(os.path.join(dirpath, d))]):
                full = os.path.join(dirpath, name)
                relf = os.path.normpath(os.path.join(rel, name))
                st = os.lstat(full)
                if os.path.islink(full):
                    self.add_link(relf, os.readlink(full), False, st.st_uid, st.st_gid)
                elif st.st_nlink > 1 and (st.st_dev, st.st_ino) in inodes:
                    self.add_link(relf, inodes[(st.st_dev, st.st_ino)], True)
                else:
                    inodes[(st.st_dev, st.st_ino)] = relf
                    with open(full, "rb") as f:
                        self.add_file(relf, f.read(), st.st_mode & 0o7777, st.st_uid, st.st_gid)

    def bytes(self):
        self.tar.close()
        return self.buf.getvalue()


def build_layer_tar(layer):
    t = TarBuilder()
    if "busybox" in layer:
        with open(find_busybox(), "rb") as f:
            t.add_file("bin/busybox", f.read(), 0o755)
        for a in layer["busybox"]:
            t.add_link("bin/" + a, "busybox", False)
        t.add_file("etc/passwd", b"root:x:0:0:root:/root:/bin/sh\n"
                   b"nobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n")
        t.add_file("etc/group", b"root:x:0:\nnogroup:x:65534:\n")
        t.add_dir("tmp", 0o1777)
    if "dir" in layer:
        t.add_tree(layer["dir"])
    for e in layer.get("entries", []):
        typ = e.get("type", "file")
        path = e["path"].strip("/")
        mode = int(e["mode"], 8) if "mode" in e else None
        uid, gid = e.get("uid", 0), e.get("gid", 0)
        if typ == "file":
            if "random" in e:
                data = os.urandom(e["random"])
            elif "size" in e:
                data = b"x" * e["size"]
            else:
                data = e.get("content", "").encode()
            t.add_file(path, data, mode if mode is not None else 0o644, uid, gid)
        elif typ == "dir":
            t.add_dir(path, mode if mode is not None else 0o755, uid, gid)
        elif typ in ("symlink", "hardlink"):
            t.add_link(path, e["target"], typ == "hardlink", uid, gid)
        elif typ == "whiteout":
            d, _, name = path.rpartition("/")
            t.add_file((d + "/" if d else "") + ".wh." + name, b"")
        elif typ == "opaque":
            t.add_file(path + "/.wh..wh..opq", b"")
        else:
            die("unknown entry type " + typ)
    return t.bytes()


def compress(data, how):
    if how == "gzip":
        return gzip.compress(data, compresslevel=6, mtime=0)
    if how == "zstd":
        return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, check=True,
                              stdout=subprocess.PIPE).stdout
    if how == "none":
        return data
    die("unknown compression " + how)


class Image:
    """One built image: blobs by digest, manifest and config bytes."""

    def __init__(self, spec):
        self.spec = spec
        self.media = spec.get("media", "docker")
        self.platform = dict(spec.get("platform") or host_platform())
        fault = spec.get("fault") or {}
        self.blobs = {}  # digest -> bytes as published
        self.files = {}  # digest -> bytes written to a layout/save file (faults)
        self.layers = []
        self.save_layers = []  # (true diff_id, bytes) for docker save
        diff_ids = []
        for i, l in enumerate(spec.get("layers", [])):
            comp = l.get("compression", "gzip")
            tar = build_layer_tar(l)
            blob = compress(tar, comp)
            f = fault if fault.get("layer") == i else {}
            kind = f.get("kind")
            diff_id = sha256(tar)
            if kind == "truncated-gzip":
                blob = blob[:len(blob) // 2]
            digest = sha256(blob)
            size = len(blob)
            filebytes = blob
            if kind == "lying-diff-id":
                diff_id = sha256(b"not this layer " + tar[:64])
            elif kind == "bad-digest":
                filebytes = bytearray(blob)
                filebytes[len(blob) // 2] ^= 0xFF
                filebytes = bytes(filebytes)
            elif kind == "truncate":
                filebytes = blob[:len(blob) // 2]
            elif kind == "bad-size":
                size = len(blob) + 1000
            self.blobs[digest] = blob
            self.files[digest] = filebytes
            # docker save holds the uncompressed tar, named by its diff_id, faults applied
            savebytes = tar
            if kind == "bad-digest":
                savebytes = bytearray(tar)
                savebytes[len(tar) // 2] ^= 0xFF
                savebytes = bytes(savebytes)
            elif kind in ("truncate", "truncated-gzip"):
                savebytes = tar[:len(tar) // 2]
            self.save_layers.append((sha256(tar), savebytes))
            if self.media == "docker":
                if comp not in MT_DOCKER_LAYER:
                    die("docker media types have no %s layer: use \"media\": \"oci\"" % comp)
                mt = MT_DOCKER_LAYER[comp]
            else:
                mt = MT_OCI_LAYER[comp]
            self.layers.append({"mediaType": mt, "size": size, "digest": digest,
                                "diff_id": diff_id, "tar_size": len(tar)})
            diff_ids.append(diff_id)
        cfg = {"architecture": self.platform["architecture"], "os": self.platform["os"]}
        if "variant" in self.platform:
            cfg["variant"] = self.platform["variant"]
        cfg["created"] = "2023-11-14T22:13:20Z"
        cfg["config"] = spec.get("config", {})
        cfg["rootfs"] = {"type": "layers", "diff_ids": diff_ids}
        cfg["history"] = [{"created": "2023-11-14T22:13:20Z", "created_by": "oci-image.py"}
                          for _ in diff_ids]
        self.config = json.dumps(cfg, sort_keys=True).encode()
        self.config_digest = sha256(self.config)
        self.blobs[self.config_digest] = self.config
        self.files[self.config_digest] = self.config
        self.image_id = "sha512-" + hashlib.sha512(self.config).hexdigest()
        m = {"schemaVersion": 2}
        if self.media == "docker":
            m["mediaType"] = MT_DOCKER_MANIFEST
            m["config"] = {"mediaType": MT_DOCKER_CONFIG, "size": len(self.config),
                           "digest": self.config_digest}
        else:
            m["mediaType"] = MT_OCI_MANIFEST
            m["config"] = {"mediaType": MT_OCI_CONFIG, "size": len(self.config),
                           "digest": self.config_digest}
        m["layers"] = [{"mediaType": l["mediaType"], "size": l["size"], "digest": l["digest"]}
                       for l in self.layers]
        self.manifest = json.dumps(m, indent=3).encode()
        self.manifest_type = m["mediaType"]
        self.manifest_digest = sha256(self.manifest)

    def report(self, prefix=""):
        out = ["%smanifest_digest=%s" % (prefix, self.manifest_digest),
               "%sconfig_digest=%s" % (prefix, self.config_digest),
               "%simage_id=%s" % (prefix, self.image_id)]
        if not prefix:
            for i, l in enumerate(self.layers):
                out += ["layer.%d.digest=%s" % (i, l["digest"]),
                        "layer.%d.diff_id=%s" % (i, l["diff_id"]),
                        "layer.%d.size=%d" % (i, l["size"])]
        return out


def platform_key(p):
    return "/".join([p["os"], p["architecture"]] + ([p["variant"]] if "variant" in p else []))


class MultiImage:
    def __init__(self, spec):
        self.media = spec.get("media", "docker")
        self.images = []
        for s in spec["index"]:
            s = dict(s)
            s.setdefault("media", self.media)
            self.images.append(Image(s))
        self.extra = []  # (manifest bytes, media type, blobs) of attestation manifests
        entries = []
        for img in self.images:
            entries.append({"mediaType": img.manifest_type, "size": len(img.manifest),
                            "digest": img.manifest_digest, "platform": img.platform})
        if spec.get("attestation"):
            target = self.images[0]
            stmt = json.dumps({"_type": "https://in-toto.io/Statement/v0.1",
                               "predicateType": "https://spdx.dev/Document"}).encode()
            acfg = b'{"architecture":"unknown","os":"unknown","config":{},' \
                   b'"rootfs":{"type":"layers","diff_ids":[]}}'
            am = json.dumps({"schemaVersion": 2, "mediaType": MT_OCI_MANIFEST,
                             "config": {"mediaType": MT_OCI_CONFIG, "size": len(acfg),
                                        "digest": sha256(acfg)},
                             "layers": [{"mediaType": "application/vnd.in-toto+json",
                                         "size": len(stmt), "digest": sha256(stmt),
                                         "annotations": {"in-toto.io/predicate-type":
                                                         "https://spdx.dev/Document"}}]},
                            indent=3).encode()
            self.extra.append((am, MT_OCI_MANIFEST, {sha256(stmt): stmt, sha256(acfg): acfg}))
            entries.append({"mediaType": MT_OCI_MANIFEST, "size": len(am), "digest": sha256(am),
                            "platform": {"architecture": "unknown", "os": "unknown"},
                            "annotations": {"vnd.docker.reference.digest": target.manifest_digest,
                                            "vnd.docker.reference.type": "attestation-manifest"}})
        idx = {"schemaVersion": 2,
               "mediaType": MT_DOCKER_LIST if self.media == "docker" else MT_OCI_INDEX,
               "manifests": entries}
        self.manifest = json.dumps(idx, indent=3).encode()
        self.manifest_type = idx["mediaType"]
        self.manifest_digest = sha256(self.manifest)

    def report(self):
        out = ["index_digest=%s" % self.manifest_digest,
               "manifest_digest=%s" % self.manifest_digest]
        for img in self.images:
            out += img.report("platform.%s." % platform_key(img.platform))
        return out


def schema1(img, repo, tag):
    """An unsigned Docker schema 1 manifest: what old registries served (v1+prettyjws)."""
    cfg = json.loads(img.config)
    hist = []
    parent = None
    for i, l in enumerate(img.layers):
        v1id = hashlib.sha256(("%s %s" % (parent, l["digest"])).encode()).hexdigest()
        v1 = {"id": v1id, "created": cfg.get("created", "")}
        if parent:
            v1["parent"] = parent
        if i == len(img.layers) - 1:
            v1.update({"architecture": cfg["architecture"], "os": cfg["os"],
                       "config": cfg.get("config", {})})
        hist.append({"v1Compatibility": json.dumps(v1, sort_keys=True)})
        parent = v1id
    m = {"schemaVersion": 1, "name": repo, "tag": tag,
         "architecture": img.platform["architecture"],
         "fsLayers": [{"blobSum": l["digest"]} for l in reversed(img.layers)],
         "history": list(reversed(hist))}
    return json.dumps(m, indent=3)


# ---- registry push ----------------------------------------------------------------------
class Registry:
    def __init__(self, url, repo, user=None, password=None, cacert=None):
        u = urllib.parse.urlsplit(url)
        self.scheme, self.netloc, self.repo = u.scheme, u.netloc, repo
        self.user, self.password = user, password
        self.ctx = None
        if self.scheme == "https":
            self.ctx = ssl.create_default_context(cafile=cacert)
        self.auth = None
        if user is not None:
            self.auth = "Basic " + base64.b64encode(("%s:%s" % (user, password)).encode()).decode()

    def _conn(self, netloc):
        if self.scheme == "https":
            return http.client.HTTPSConnection(netloc, context=self.ctx, timeout=60)
        return http.client.HTTPConnection(netloc, timeout=60)

    def request(self, method, path, body=None, headers=None, retry=True):
        h = dict(headers or {})
        if self.auth:
            h["Authorization"] = self.auth
        u = urllib.parse.urlsplit(path)
        netloc = u.netloc or self.netloc
        target = urllib.parse.urlunsplit(("", "", u.path, u.query, ""))
        c = self._conn(netloc)
        c.request(method, target, body=body, headers=h)
        r = c.getresponse()
        data = r.read()
        c.close()
        if r.status == 401 and retry:
            self.login(r.getheader("WWW-Authenticate") or "")
            return self.request(method, path, body, headers, retry=False)
        return r, data

    def login(self, challenge):
        scheme, _, params = challenge.partition(" ")
        if scheme.lower() == "basic":
            if self.user is None:
                die("the registry wants Basic auth: pass --user and --password")
            return
        if scheme.lower() != "bearer":
            die("unknown auth challenge: " + challenge)
        p = {}
        for part in params.split(","):
            k, _, v = part.strip().partition("=")
            p[k] = v.strip('"')
        q = {"service": p.get("service", ""),
             "scope": "repository:%s:pull,push" % self.repo}
        realm = urllib.parse.urlsplit(p["realm"])
        h = {}
        if self.user is not None:
            h["Authorization"] = "Basic " + base64.b64encode(
                ("%s:%s" % (self.user, self.password)).encode()).decode()
            q["account"] = self.user
        c = (http.client.HTTPSConnection(realm.netloc, context=self.ctx or
                                         ssl.create_default_context(), timeout=60)
             if realm.scheme == "https" else http.client.HTTPConnection(realm.netloc, timeout=60))
        c.request("GET", realm.path + "?" + urllib.parse.urlencode(q), headers=h)
        r = c.getresponse()
        data = r.read()
        if r.status != 200:
            die("token server answered %d: %s" % (r.status, data[:200]))
        tok = json.loads(data)
        self.auth = "Bearer " + (tok.get("token") or tok.get("access_token"))

    def push_blob(self, digest, data):
        base = "/v2/%s/blobs/" % self.repo
        r, _ = self.request("HEAD", base + digest)
        if r.status == 200:
            return
        r, body = self.request("POST", base + "uploads/", b"", {"Content-Length": "0"})
        if r.status != 202:
            die("blob upload start: HTTP %d %s" % (r.status, body[:300]))
        loc = r.getheader("Location")
        sep = "&" if "?" in loc else "?"
        r, body = self.request("PUT", loc + sep + "digest=" + urllib.parse.quote(digest), data,
                               {"Content-Type": "application/octet-stream",
                                "Content-Length": str(len(data))})
        if r.status != 201:
            die("blob upload %s: HTTP %d %s" % (digest, r.status, body[:300]))

    def push_manifest(self, ref, data, media_type):
        r, body = self.request("PUT", "/v2/%s/manifests/%s" % (self.repo, ref), data,
                               {"Content-Type": media_type})
        if r.status != 201:
            die("manifest %s: HTTP %d %s" % (ref, r.status, body[:500]))


def push(obj, args):
    reg = Registry(args.registry, args.repo, args.user, args.password, args.cacert)
    images = obj.images if isinstance(obj, MultiImage) else [obj]
    for img in images:
        for d, b in img.blobs.items():
            reg.push_blob(d, b)
        reg.push_manifest(img.manifest_digest, img.manifest, img.manifest_type)
    if isinstance(obj, MultiImage):
        for m, mt, blobs in obj.extra:
            for d, b in blobs.items():
                reg.push_blob(d, b)
            reg.push_manifest(sha256(m), m, mt)
        reg.push_manifest(obj.manifest_digest, obj.manifest, obj.manifest_type)
    for t in args.tag:
        reg.push_manifest(t, obj.manifest, obj.manifest_type)


# ---- OCI layout and docker save -------------------------------------------------------------
def write_blob(root, digest, data):
    alg, hexd = digest.split(":")
    d = os.path.join(root, "blobs", alg)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, hexd), "wb") as f:
        f.write(data)


def layout(obj, args):
    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "oci-layout"), "w") as f:
        f.write('{"imageLayoutVersion":"1.0.0"}')
    images = obj.images if isinstance(obj, MultiImage) else [obj]
    for img in images:
        for d, b in img.files.items():
            write_blob(args.out, d, b)
        write_blob(args.out, img.manifest_digest, img.manifest)
    if isinstance(obj, MultiImage):
        for m, _, blobs in obj.extra:
            for d, b in blobs.items():
                write_blob(args.out, d, b)
            write_blob(args.out, sha256(m), m)
        write_blob(args.out, obj.manifest_digest, obj.manifest)
    desc = {"mediaType": obj.manifest_type, "size": len(obj.manifest),
            "digest": obj.manifest_digest}
    if not isinstance(obj, MultiImage):
        desc["platform"] = obj.platform
    manifests = []
    for t in args.tag or [None]:
        e = dict(desc)
        if t:
            e["annotations"] = {"org.opencontainers.image.ref.name": t}
        manifests.append(e)
    with open(os.path.join(args.out, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": MT_OCI_INDEX, "manifests": manifests}, f)


def save(obj, args):
    if isinstance(obj, MultiImage):
        die("docker save holds one platform: give an image SPEC")
    buf = tarfile.open(args.out, "w", format=tarfile.PAX_FORMAT)

    def add(name, data):
        ti = tarfile.TarInfo(name)
        ti.size, ti.mtime, ti.mode = len(data), MTIME, 0o644
        buf.addfile(ti, io.BytesIO(data))

    cfg_name = obj.config_digest.split(":")[1] + ".json"
    add(cfg_name, obj.files[obj.config_digest])
    layers = []
    for diff_id, data in obj.save_layers:
        name = diff_id.split(":")[1] + "/layer.tar"
        add(name, data)
        layers.append(name)
    man = [{"Config": cfg_name, "RepoTags": args.tag or None, "Layers": layers}]
    add("manifest.json", json.dumps(man).encode())
    repos = {}
    for t in args.tag:
        r, _, tag = t.rpartition(":")
        repos.setdefault(r, {})[tag] = layers[-1].split("/")[0] if layers else ""
    if repos:
        add("repositories", json.dumps(repos).encode())
    buf.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("command", choices=["push", "layout", "save", "schema1"])
    ap.add_argument("spec")
    ap.add_argument("--registry")
    ap.add_argument("--repo")
    ap.add_argument("--tag", action="append", default=[])
    ap.add_argument("--user")
    ap.add_argument("--password")
    ap.add_argument("--cacert")
    ap.add_argument("--out")
    args = ap.parse_args()
    if args.spec.lstrip().startswith("{"):
        spec = json.loads(args.spec)
    else:
        with open(args.spec) as f:
            spec = json.load(f)
    obj = MultiImage(spec) if "index" in spec else Image(spec)
    if args.command == "schema1":
        if isinstance(obj, MultiImage):
            die("schema 1 has no multi-platform form: give an image SPEC")
        print(schema1(obj, args.repo or "test/image", (args.tag or ["latest"])[0]))
        return
    if args.command == "push":
        if not args.registry or not args.repo:
            die("push needs --registry and --repo")
        push(obj, args)
    elif args.command == "layout":
        if not args.out:
            die("layout needs --out")
        layout(obj, args)
    else:
        if not args.out:
            die("save needs --out")
        save(obj, args)
    print("\n".join(obj.report()))


if __name__ == "__main__":
    main()
