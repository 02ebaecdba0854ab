#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Writes an ACI (gzipped tar) whose names carry terminal control sequences, for the
terminal-safety tests (tests/integration/hostile-output.sh).

  make-hostile-aci.py KIND OUT [NAME]

KIND:
  dotdot    an entry name with ESC[2J, an OSC title and a newline forging an
            "Imported sha512-..." line, ending in "/../x" so unpack refuses it
  symlink   a symlink whose name and target carry the same bytes, climbing out of rootfs/
  badname   a manifest whose image name carries them (not a valid AC Name)
  ok        a plain valid image named NAME (for keys and signers with hostile text)
  labels    a VALID image (NAME, default example.com/hostile) whose version label,
            annotation value and app name carry them, plus such a file name in rootfs/
"""
import io
import json
import platform
import sys
import tarfile

FORGED = "sha512-" + "0" * 64
EVIL = "\x1b[2J\x1b]0;pwned\x07\nImported " + FORGED + "\n\x7f\xff"


def arch():
    m = platform.machine()
    return {"x86_64": "amd64", "aarch64": "arm64"}.get(m, m)


def manifest(name, version="1.0", extra_app=None, annotations=None):
    m = {
        "acKind": "ImageManifest",
        "acVersion": "0.8.11",
        "name": name,
        "labels": [
            {"name": "version", "value": version},
            {"name": "os", "value": "linux"},
            {"name": "arch", "value": arch()},
        ],
        "app": {"exec": ["/bin/sh"], "user": "0", "group": "0"},
    }
    if annotations:
        m["annotations"] = annotations
    return json.dumps(m).encode()


def add(t, name, data=None, kind=tarfile.REGTYPE, target=""):
    # tarfile encodes names as UTF-8 with surrogateescape: "\xff" arrives as the raw byte.
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mtime = 1
    ti.mode = 0o755 if kind == tarfile.DIRTYPE else 0o644
    if kind == tarfile.SYMTYPE:
        ti.linkname = target
    if data is not None:
        ti.size = len(data)
        t.addfile(ti, io.BytesIO(data))
    else:
        t.addfile(ti)


def main():
    kind, out = sys.argv[1], sys.argv[2]
    name = sys.argv[3] if len(sys.argv) > 3 else "example.com/hostile"
    evil = EVIL.encode("utf-8", "surrogateescape").decode("utf-8", "surrogateescape")
    evil = evil.replace("\xff", "\udcff")
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT,
                      encoding="utf-8", errors="surrogateescape") as t:
        if kind == "badname":
            add(t, "manifest", manifest("example.com/" + evil))
        elif kind == "labels":
            add(t, "manifest", manifest(name, "1.0" + EVIL.replace("\xff", ""),
                                        annotations=[{"name": "description",
                                                      "value": EVIL.replace("\xff", "")}]))
        else:
            add(t, "manifest", manifest(name))
        add(t, "rootfs", kind=tarfile.DIRTYPE)
        add(t, "rootfs/bin", kind=tarfile.DIRTYPE)
        add(t, "rootfs/bin/sh", b"#!/bin/sh\necho hi\n")
        if kind == "dotdot":
            add(t, "rootfs/" + evil + "/../x", b"x")
        elif kind == "symlink":
            add(t, "rootfs/l" + evil, kind=tarfile.SYMTYPE, target="../../" + evil)
        elif kind == "labels":
            add(t, "rootfs/f" + evil, b"x")
    import gzip
    with open(out, "wb") as f:
        f.write(gzip.compress(buf.getvalue(), mtime=0))


if __name__ == "__main__":
    main()
