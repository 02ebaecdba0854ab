#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A hostile front for a registry, for pod's error tests: an HTTP proxy to --upstream (a plain
http registry) that logs every request and applies the rules of --rules FILE (JSON, re-read
on every request, so a test changes them without a restart):
  [{"match": "REGEX on the path", "method": "GET", "times": N, "action": ACTION, ...}, ...]
The first rule that matches (method too, when given; "times" left, when given) applies:
  "status"   answer "status" (401, 404, 429, ...) with "headers" and "body", upstream untouched
  "truncate" forward, but send only the first half of the body (with the full Content-Length),
             then close the connection
  "corrupt"  forward with one byte of the body flipped (same length)
  "slow"     forward the body at "rate" bytes per second
  "body"     answer "status" (default 200) with "body" (text) and "content_type"; the
             Docker-Content-Digest header is the body's sha256
Every request is appended to --log as "> METHOD PATH" when it arrives and "METHOD PATH STATUS"
after the answer ("aborted" for a body the client stopped reading).  Prints its port
to --port-file when ready.
"""
import argparse
import hashlib
import http.client
import http.server
import json
import os
import re
import socket
import threading
import time

LOCK = threading.Lock()
USED = {}
HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailers",
       "transfer-encoding", "upgrade", "content-length"}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _log(self, status):
        with LOCK, open(self.server.cfg.log, "a") as f:
            f.write("%s %s %s\n" % (self.command, self.path, status))

    def _rule(self):
        try:
            with open(self.server.cfg.rules) as f:
                rules = json.load(f)
        except (OSError, ValueError):
            return None
        for i, r in enumerate(rules):
            if "method" in r and r["method"] != self.command:
                continue
            if not re.search(r.get("match", ""), self.path):
                continue
            key = (i, json.dumps(r, sort_keys=True))
            with LOCK:
                if "times" in r:
                    if USED.get(key, 0) >= r["times"]:
                        continue
                    USED[key] = USED.get(key, 0) + 1
            return r
        return None

    def _answer(self, status, headers, body, action=None, rule=None):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        if action == "truncate":
            self.send_header("Connection", "close")
        self.end_headers()
        if self.command == "HEAD" or not body:
            self._log(status)
            return
        if action == "truncate":
            self.wfile.write(body[:len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        elif action == "slow":
            rate = max(1, int(rule.get("rate", 1024)))
            chunk = max(1, rate // 10)
            try:
                for off in range(0, len(body), chunk):
                    self.wfile.write(body[off:off + chunk])
                    self.wfile.flush()
                    time.sleep(0.1)
            except OSError:
                self._log("aborted")
                return
        else:
            self.wfile.write(body)
        self._log(status)

    def _handle(self):
        n = int(self.headers.get("Content-Length") or 0)
        reqbody = self.rfile.read(n) if n else None
        with LOCK, open(self.server.cfg.log, "a") as f:
            f.write("> %s %s\n" % (self.command, self.path))
        rule = self._rule()
        action = rule.get("action") if rule else None
        if action == "status":
            body = rule.get("body", "").encode()
            self._answer(int(rule["status"]), list(rule.get("headers", {}).items()), body)
            return
        if action == "body":
            body = rule.get("body", "").encode()
            hdr = [("Content-Type", rule.get("content_type", "application/json")),
                   ("Docker-Content-Digest", "sha256:" + hashlib.sha256(body).hexdigest())]
            self._answer(int(rule.get("status", 200)), hdr, body)
            return
        up = http.client.HTTPConnection(self.server.cfg.upstream, timeout=60)
        # Repeated headers (Accept) stay repeated.
        up.putrequest(self.command, self.path, skip_host=True, skip_accept_encoding=True)
        for k, v in self.headers.items():
            if k.lower() not in HOP:
                up.putheader(k, v)
        if reqbody is not None:
            up.putheader("Content-Length", str(len(reqbody)))
        up.endheaders(reqbody)
        r = up.getresponse()
        body = r.read()
        up.close()
        hdr = [(k, v) for k, v in r.getheaders() if k.lower() not in HOP]
        if action == "corrupt" and body:
            b = bytearray(body)
            b[len(b) // 2] ^= 0xFF
            body = bytes(b)
        self._answer(r.status, hdr, body, action, rule)

    do_GET = do_HEAD = do_POST = do_PUT = do_PATCH = do_DELETE = _handle


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--upstream", required=True, help="HOST:PORT of a plain http registry")
    ap.add_argument("--rules", required=True)
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    srv.cfg = a
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
