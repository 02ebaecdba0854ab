#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""A token server for distribution's token auth, for pod's tests (stdlib + the openssl CLI).

GET /token?service=S&scope=repository:NAME:ACTIONS[&scope=...] answers
{"token": JWT, "access_token": JWT, "expires_in": 300, "issued_at": ...}: a JWT signed RS256
(`openssl dgst -sha256 -sign KEY`) with the signing certificate in its x5c header, so that a
registry whose auth.token.rootcertbundle holds that certificate accepts it.
Access rules:
  - with Basic credentials listed in --users FILE (lines "user:password"): everything asked;
    wrong credentials: 401.
  - anonymous: only "pull" on repositories whose name starts with --public PREFIX (default
    "public/"); other scopes are granted with no actions (the registry then answers 401).
Every request is appended to --log as one line: "GET /token?... user=NAME|-".
Prints the port it listens on to --port-file once it is ready.
"""
import argparse
import base64
import http.server
import json
import os
import subprocess
import threading
import time
import urllib.parse
import uuid

LOCK = threading.Lock()


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def cert_der_b64(pem_path):
    with open(pem_path) as f:
        pem = f.read()
    body = pem.split("-----BEGIN CERTIFICATE-----")[1].split("-----END CERTIFICATE-----")[0]
    return "".join(body.split())


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def _send(self, code, body, ctype="application/json"):
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        if code == 401:
            self.send_header("WWW-Authenticate", 'Basic realm="pod-test-token"')
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        cfg = self.server.cfg
        u = urllib.parse.urlsplit(self.path)
        user = None
        auth = self.headers.get("Authorization") or ""
        bad = False
        if auth.lower().startswith("basic "):
            try:
                u_p = base64.b64decode(auth[6:].strip()).decode()
            except Exception:
                u_p = ""
            name, _, pw = u_p.partition(":")
            if cfg.users.get(name) == pw and name:
                user = name
            else:
                bad = True
        with LOCK, open(cfg.log, "a") as f:
            f.write("%s %s user=%s%s\n" % (self.command, self.path, user or "-",
                                           " bad-credentials" if bad else ""))
        if u.path != "/token":
            self._send(404, b'{"error":"not found"}')
            return
        if bad:
            self._send(401, b'{"error":"wrong credentials"}')
            return
        q = urllib.parse.parse_qs(u.query)
        access = []
        for scope in q.get("scope", []):
            for sc in scope.split(" "):
                parts = sc.split(":")
                if len(parts) < 3:
                    continue
                typ, name, actions = parts[0], ":".join(parts[1:-1]), parts[-1].split(",")
                if user is None:
                    actions = [a for a in actions
                               if a == "pull" and name.startswith(cfg.public)]
                access.append({"type": typ, "name": name, "actions": actions})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [cfg.cert_b64]}
        claims = {"iss": cfg.issuer, "sub": user or "", "aud": q.get("service", [""])[0],
                  "exp": now + 300, "nbf": now - 60, "iat": now, "jti": str(uuid.uuid4()),
                  "access": access}
        signing_input = (b64url(json.dumps(header).encode()) + "." +
                         b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", cfg.key], input=signing_input,
                             stdout=subprocess.PIPE, check=True).stdout
        token = signing_input.decode() + "." + b64url(sig)
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                      time.gmtime(now))}).encode()
        self._send(200, body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bind", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--port-file", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--cert", required=True)
    ap.add_argument("--issuer", default="pod-test-issuer")
    ap.add_argument("--users")
    ap.add_argument("--public", default="public/")
    ap.add_argument("--log", required=True)
    a = ap.parse_args()
    a.cert_b64 = cert_der_b64(a.cert)
    srv = http.server.ThreadingHTTPServer((a.bind, a.port), Handler)
    srv.daemon_threads = True
    users = {}
    if a.users:
        with open(a.users) as f:
            for line in f:
                n, _, p = line.rstrip("\n").partition(":")
                if n:
                    users[n] = p
    a.users = users
    srv.cfg = a
    tmp = a.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(tmp, a.port_file)
    srv.serve_forever()


if __name__ == "__main__":
    main()
