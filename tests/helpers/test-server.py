#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A real HTTP(S) server for pod's network tests (no mocks).

Serves ROOT/<Host header>/... (falling back to ROOT/default/), with directory indexes, so a
discovery page for https://example.com/app?ac-discovery=1 is ROOT/example.com/app/index.html
(reached through the usual redirect to ".../app/?ac-discovery=1").  Special paths:
  /_status/N          answer HTTP N
  /_redirect?to=URL   302 to URL
  /_loop              302 to itself
  /_flaky/KEY?fail=N  503 for the first N requests for KEY, then 200 "ok"
  /_etag              ETag "v1", Cache-Control from ?cc= (default max-age=300); 304 on match
  /_big?size=N        N bytes of "x"
  /_count/KEY         how many requests /_flaky/KEY has seen
Every request's Host, path and User-Agent (and If-None-Match and Authorization, when sent)
are appended to ROOT/requests.log.
A file ROOT/<host>/.require-auth holding a header value ("Basic dXNlcjpwdw==") makes every
request for that host (special paths included) answer 401 unless its Authorization header
is exactly that value.
Regular files get an ETag (from size and mtime) and a 304 answer to a matching
If-None-Match.  A sidecar FILE.headers (lines "Name: value") adds response headers to FILE,
plus two test controls that are not sent:
  X-Test-Status-Once: N   answer N (with an empty body) to the first request for FILE
  X-Test-Rate: BYTES      send the body at about BYTES per second
"""
import argparse
import http.server
import os
import posixpath
import ssl
import sys
import threading
import time
import urllib.parse

COUNTS = {}
LOCK = threading.Lock()


class Handler(http.server.SimpleHTTPRequestHandler):
    server_version = "pod-test-server"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body=b"", headers=None):
        self.send_response(code)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and self.command != "HEAD":
            self.wfile.write(body)

    def _required_auth(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        if not host or "/" in host or host.startswith("."):
            return None
        try:
            with open(os.path.join(self.server.root, host, ".require-auth")) as f:
                return f.read().strip()
        except OSError:
            return None

    def translate_path(self, path):
        root = self.server.root
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        d = os.path.join(root, host) if host and "/" not in host and not host.startswith(".") else ""
        if not d or not os.path.isdir(d):
            d = os.path.join(root, "default")
        path = urllib.parse.unquote(path.split("?", 1)[0].split("#", 1)[0])
        parts = [p for p in posixpath.normpath(path).split("/") if p not in ("", ".", "..")]
        return os.path.join(d, *parts)

    def do_GET(self):
        with LOCK, open(os.path.join(self.server.root, "requests.log"), "a") as f:
            inm = self.headers.get("If-None-Match")
            auth = self.headers.get("Authorization")
            f.write("%s %s %s%s%s\n" % (self.headers.get("Host"), self.path,
                                        self.headers.get("User-Agent"),
                                        " If-None-Match:" + inm if inm else "",
                                        " Authorization:" + auth if auth else ""))
        need = self._required_auth()
        if need is not None and self.headers.get("Authorization") != need:
            return self._send(401, b"unauthorized\n", {"WWW-Authenticate": 'Basic realm="pod"'})
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        if u.path.startswith("/_status/"):
            return self._send(int(u.path[len("/_status/"):]), b"status page\n")
        if u.path == "/_redirect":
            return self._send(302, b"", {"Location": q["to"][0]})
        if u.path == "/_loop":
            return self._send(302, b"", {"Location": "/_loop"})
        if u.path.startswith("/_flaky/"):
            key = u.path[len("/_flaky/"):]
            with LOCK:
                COUNTS[key] = COUNTS.get(key, 0) + 1
                n = COUNTS[key]
            if n <= int(q.get("fail", ["2"])[0]):
                return self._send(int(q.get("code", ["503"])[0]), b"try again\n")
            return self._send(200, b"ok\n")
        if u.path.startswith("/_count/"):
            with LOCK:
                n = COUNTS.get(u.path[len("/_count/"):], 0)
            return self._send(200, b"%d\n" % n)
        if u.path == "/_etag":
            h = {"ETag": '"v1"', "Cache-Control": q.get("cc", ["max-age=300"])[0]}
            if self.headers.get("If-None-Match") == '"v1"':
                return self._send(304, b"", h)
            return self._send(200, b"etag body\n", h)
        if u.path == "/_big":
            return self._send(200, b"x" * int(q.get("size", ["1048576"])[0]))
        path = self.translate_path(self.path)
        if os.path.isfile(path) and not path.endswith(".headers"):
            try:
                return self._send_file(path)
            except OSError:  # the client went away (tests kill clients on purpose)
                self.close_connection = True
                return None
        return super().do_GET()

    def _send_file(self, path):
        extra, rate, once = {}, 0, None
        if os.path.isfile(path + ".headers"):
            with open(path + ".headers") as f:
                for line in f:
                    if ":" not in line:
                        continue
                    k, v = (x.strip() for x in line.split(":", 1))
                    if k.lower() == "x-test-rate":
                        rate = int(v)
                    elif k.lower() == "x-test-status-once":
                        once = int(v)
                    else:
                        extra[k] = v
        if once is not None:
            with LOCK:
                n = COUNTS.get("once:" + path, 0)
                COUNTS["once:" + path] = n + 1
            if n == 0:
                return self._send(once, b"", extra)
        st = os.stat(path)
        etag = '"%x-%x"' % (st.st_size, st.st_mtime_ns)
        extra["ETag"] = etag
        if self.headers.get("If-None-Match") == etag:
            return self._send(304, b"", extra)
        with open(path, "rb") as f:
            body = f.read()
        if not rate:
            return self._send(200, body, extra)
        self.send_response(200)
        for k, v in extra.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        chunk = max(1, rate // 10)
        for i in range(0, len(body), chunk):
            self.wfile.write(body[i:i + chunk])
            self.wfile.flush()
            time.sleep(0.1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--root", required=True)
    p.add_argument("--port-file")
    a = p.parse_args()

    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.root = os.path.abspath(a.root)
    if a.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(a.cert, a.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    if a.port_file:
        tmp = a.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, a.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
