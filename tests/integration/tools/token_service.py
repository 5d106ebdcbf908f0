#!/usr/bin/env python3
"""A bearer-token service as docker-registry (CNCF distribution 2.8) expects, for strata's tests.

    token_service.py --key KEY.pem --cert CERT.pem --log LOG [--port-file FILE] [--port N]
                     [--user USER:PASS]... [--issuer ISSUER] [--expires-in SECONDS]

Listens on 127.0.0.1 (port 0 = a free port chosen by the kernel; the port is written to
--port-file once the socket listens, so there is no window in which another process can take it).

GET /token?service=S&scope=repository:NAME:pull,push[&scope=...] answers
    {"token": JWT, "access_token": JWT, "expires_in": N, "issued_at": RFC3339}
The JWT is signed RS256 with KEY (through `openssl dgst -sha256 -sign`); its header carries
CERT's DER in "x5c", which distribution checks against its auth.token.rootcertbundle. Claims: iss,
sub, aud (= service), exp, nbf, iat, jti, access [{type, name, actions}].
- no Authorization header: anonymous, granted only "pull" of what it asks for;
- Basic credentials matching a --user: granted every action asked for;
- any other credentials: 401 (as docker's token services answer a wrong password).

Each request appends one line to LOG, written before the answer is sent (so a client that has
its token can count on the line being there):
    scope=SCOPE[,SCOPE...] auth=yes|no user=NAME|- status=CODE path=/token?...
"""
import argparse
import base64
import http.server
import json
import os
import subprocess
import sys
import threading
import time
import urllib.parse


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--key", required=True, help="RSA private key (PEM) that signs tokens")
    p.add_argument("--cert", required=True, help="self-signed certificate (PEM) of --key")
    p.add_argument("--log", required=True, help="file that gets one line per request")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--port-file", help="write the listening port here once listening")
    p.add_argument("--user", action="append", default=[], help="USER:PASS allowed to push")
    p.add_argument("--issuer", default="strata-test-issuer")
    p.add_argument("--expires-in", type=int, default=300)
    return p.parse_args()


ARGS = parse_args()
USERS = dict(u.split(":", 1) for u in ARGS.user)
LOG_LOCK = threading.Lock()


def cert_der_b64(path):
    # The PEM body is the base64 of the DER; x5c wants standard (not URL) base64 of the DER.
    with open(path) as f:
        return "".join(line.strip() for line in f if line.strip() and "-----" not in line)


CERT_B64 = cert_der_b64(ARGS.cert)


def sign(message):
    return subprocess.run(["openssl", "dgst", "-sha256", "-sign", ARGS.key], input=message,
                          capture_output=True, check=True).stdout


def grant(scopes, authenticated):
    """The access claim: what was asked for, minus everything but pull when anonymous."""
    access = []
    for scope in scopes:
        # One scope parameter may hold several space-separated scopes.
        for one in scope.split():
            # TYPE:NAME:ACTIONS; split the type off the front and the actions off the end so a
            # name is kept whole whatever it holds.
            kind, _, rest = one.partition(":")
            name, _, actions = rest.rpartition(":")
            if not kind or not name:
                continue
            wanted = [a for a in actions.split(",") if a]
            if not authenticated:
                wanted = [a for a in wanted if a == "pull"]
            access.append({"type": kind, "name": name, "actions": wanted})
    return access


def make_token(service, user, access):
    now = int(time.time())
    header = {"typ": "JWT", "alg": "RS256", "x5c": [CERT_B64]}
    claims = {"iss": ARGS.issuer, "sub": user or "", "aud": service, "exp": now + ARGS.expires_in,
              "nbf": now - 10, "iat": now, "jti": b64url(os.urandom(12)), "access": access}
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "." +
                     b64url(json.dumps(claims, separators=(",", ":")).encode()))
    token = signing_input + "." + b64url(sign(signing_input.encode()))
    return token, time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now))


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def answer(self, status, obj, extra_headers=()):
        body = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in extra_headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def log_request_line(self, scopes, given, user, status):
        line = "scope=%s auth=%s user=%s status=%d path=%s\n" % (
            ",".join(scopes) or "-", "yes" if given else "no", user or "-", status, self.path)
        with LOG_LOCK, open(ARGS.log, "a") as f:
            f.write(line)

    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        query = urllib.parse.parse_qs(url.query)
        scopes = query.get("scope", [])
        service = query.get("service", [""])[0]
        auth = self.headers.get("Authorization", "")
        given, user = False, None
        if auth:
            given = True
            try:
                kind, _, blob = auth.partition(" ")
                if kind.lower() != "basic":
                    raise ValueError("not basic")
                name, _, password = base64.b64decode(blob).decode().partition(":")
                if USERS.get(name) == password:
                    user = name
            except (ValueError, UnicodeDecodeError):
                pass
        if url.path != "/token":
            self.log_request_line(scopes, given, user, 404)
            self.answer(404, {"errors": [{"code": "NOT_FOUND", "message": "no such endpoint"}]})
            return
        if given and user is None:
            self.log_request_line(scopes, given, user, 401)
            self.answer(401, {"errors": [{"code": "UNAUTHORIZED", "message": "bad credentials"}]},
                        [("WWW-Authenticate", 'Basic realm="strata-test-token"')])
            return
        token, issued = make_token(service, user, grant(scopes, user is not None))
        self.log_request_line(scopes, given, user, 200)
        self.answer(200, {"token": token, "access_token": token, "expires_in": ARGS.expires_in,
                          "issued_at": issued})


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.replace(tmp, ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
