#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Pushes test blobs and manifests to a registry with plain HTTP uploads (the distribution
v2 API: POST /v2/NAME/blobs/uploads/, PUT LOCATION?digest=, PUT /v2/NAME/manifests/REF).

  registry-push.py BASE_URL [--user U:P] blob NAME FILE          prints the digest
  registry-push.py BASE_URL [--user U:P] manifest NAME REF TYPE FILE  prints the digest
"""
import base64
import hashlib
import sys
import urllib.parse
import urllib.request


def request(method, url, data=None, headers=None, user=None):
    req = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if user:
        req.add_header("Authorization", "Basic " + base64.b64encode(user.encode()).decode())
    return urllib.request.urlopen(req)


def main():
    args = sys.argv[1:]
    base = args.pop(0).rstrip("/")
    user = None
    if args[0] == "--user":
        args.pop(0)
        user = args.pop(0)
    what = args.pop(0)
    if what == "blob":
        name, path = args
        data = open(path, "rb").read()
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        r = request("POST", f"{base}/v2/{name}/blobs/uploads/", b"", user=user)
        loc = urllib.parse.urljoin(base + "/", r.headers["Location"])
        sep = "&" if "?" in loc else "?"
        request("PUT", f"{loc}{sep}digest={digest}", data,
                {"Content-Type": "application/octet-stream"}, user=user)
        print(digest)
    elif what == "manifest":
        name, ref, mtype, path = args
        data = open(path, "rb").read()
        request("PUT", f"{base}/v2/{name}/manifests/{ref}", data, {"Content-Type": mtype}, user=user)
        print("sha256:" + hashlib.sha256(data).hexdigest())
    else:
        sys.exit("unknown command " + what)


if __name__ == "__main__":
    main()
