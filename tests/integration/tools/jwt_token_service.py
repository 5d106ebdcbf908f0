#!/usr/bin/env python3
"""A bearer-token service as docker-registry (distribution 2.8) expects, for strata's tests.

    token_service.py PORT KEY_PEM CERT_PEM USER:PASS LOG_FILE

GET /token?service=S&scope=repository:NAME:pull,push (scope may repeat) answers
{"token", "access_token", "expires_in", "issued_at"} with a JWT signed RS256 by KEY_PEM; the
JWT header carries CERT_PEM in x5c, which the registry checks against its rootcertbundle.
Requests with the right basic credentials get the actions they ask for; anonymous ones only
"pull"; wrong credentials get 401. Every request is logged as "scope=... auth=yes|no".
"""
import base64
import http.server
import json
import os
import subprocess
import sys
import time
import urllib.parse

PORT, KEY, CERT, USERPASS, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def cert_der_b64():
    pem = open(CERT).read()
    body = "".join(l for l in pem.splitlines() if "-----" not in l)
    return body


def sign(message):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", KEY], input=message,
                          capture_output=True, check=True).stdout


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        given = None
        if auth.startswith("Basic "):
            given = base64.b64decode(auth[6:]).decode()
        with open(LOG, "a") as f:
            f.write("scope=%s auth=%s\n" % (",".join(q.get("scope", [])), "yes" if given else "no"))
        if given is not None and given != USERPASS:
            self.send_response(401)
            self.send_header("Content-Type", "application/json")
            body = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
            return
        access = []
        for scope in q.get("scope", []):
            for one in scope.split(" "):
                parts = one.split(":")
                if len(parts) < 3:
                    continue
                actions = parts[-1].split(",")
                if given is None:
                    actions = [a for a in actions if a == "pull"]
                access.append({"type": parts[0], "name": ":".join(parts[1:-1]), "actions": actions})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [cert_der_b64()]}
        claims = {"iss": "strata-test-issuer", "sub": given.split(":")[0] if given else "",
                  "aud": q.get("service", [""])[0], "exp": now + 300, "nbf": now - 10,
                  "iat": now, "jti": b64url(os.urandom(12)), "access": access}
        signing = (b64url(json.dumps(header).encode()) + "." +
                   b64url(json.dumps(claims).encode())).encode()
        token = signing.decode() + "." + b64url(sign(signing))
        body = json.dumps({"token": token, "access_token": token, "expires_in": 300,
                           "issued_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


http.server.ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
