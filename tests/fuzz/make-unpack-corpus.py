#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
# Regenerates tests/fuzz/corpus/unpack/: small good and hostile ACIs (plain, gzip, bzip2, xz).
import bz2, gzip, io, lzma, os, sys, tarfile

tarfile.RECORDSIZE = 1024  # keep the files small
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "unpack")
os.makedirs(out, exist_ok=True)
M = b'{"acKind":"ImageManifest","acVersion":"0.8.11","name":"example.com/fuzz"}'

def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as t:
        for name, kind, arg in entries:
            i = tarfile.TarInfo(name)
            i.mtime = 1000000000
            data = None
            if kind == "file":
                data = arg; i.size = len(arg)
            elif kind == "dir":
                i.type = tarfile.DIRTYPE; i.mode = 0o755
            elif kind == "sym":
                i.type = tarfile.SYMTYPE; i.linkname = arg
            elif kind == "hard":
                i.type = tarfile.LNKTYPE; i.linkname = arg
            elif kind == "chr":
                i.type = tarfile.CHRTYPE; i.devmajor, i.devminor = 1, 3
            elif kind == "fifo":
                i.type = tarfile.FIFOTYPE
            t.addfile(i, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

base = [("manifest", "file", M), ("rootfs", "dir", None)]
cases = {
    "good": base + [("rootfs/bin", "dir", None), ("rootfs/bin/sh", "file", b"#!x\n"),
                    ("rootfs/bin/ln", "sym", "sh"), ("rootfs/bin/hl", "hard", "rootfs/bin/sh"),
                    ("rootfs/p", "fifo", None)],
    "dotdot": base + [("rootfs/../../x", "file", b"x")],
    "absolute": base + [("/tmp/fuzz-unpack-escape", "file", b"x")],
    "symlink-escape": base + [("rootfs/l", "sym", "/tmp"), ("rootfs/l/x", "file", b"x")],
    "symlink-relative": base + [("rootfs/l", "sym", "../../.."), ("rootfs/l/x", "file", b"x")],
    "hardlink-passwd": base + [("rootfs/p", "hard", "/etc/passwd")],
    "hardlink-dotdot": base + [("rootfs/p", "hard", "../../../../etc/passwd")],
    "device": base + [("rootfs/null", "chr", None)],
    "duplicate": base + [("rootfs/a", "file", b"1"), ("rootfs/a", "file", b"2")],
    "outside": base + [("etc/passwd", "file", b"x")],
    "no-manifest": [("rootfs", "dir", None)],
}
for name, entries in cases.items():
    data = tar(entries)
    open(os.path.join(out, name + ".aci"), "wb").write(data)
good = tar(cases["good"])
open(os.path.join(out, "good.aci.gz"), "wb").write(gzip.compress(good, mtime=0))
open(os.path.join(out, "good.aci.bz2"), "wb").write(bz2.compress(good))
open(os.path.join(out, "good.aci.xz"), "wb").write(lzma.compress(good))
gz = gzip.compress(tar(cases["symlink-escape"]), mtime=0)
open(os.path.join(out, "truncated.aci.gz"), "wb").write(gz[: len(gz) // 2])
open(os.path.join(out, "encrypted.aci"), "wb").write(b"\x8c\x0d\x04\x09\x03\x02" + b"\x00" * 40)
import shutil, subprocess
if shutil.which("zstd"):
    subprocess.run(["zstd", "-q", "-f", "-o", os.path.join(out, "good.aci.zst"),
                    os.path.join(out, "good.aci")], check=True)
