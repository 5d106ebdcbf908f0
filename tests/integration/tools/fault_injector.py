#!/usr/bin/env python3
"""A reverse proxy in front of a registry that injects faults, for strata's integration tests.

    fault_injector.py LISTEN_PORT UPSTREAM_HOST:PORT RULES_JSON LOG_FILE

Everything is passed through (bodies streamed) unless a rule in RULES_JSON (re-read on every
request, so a test can change it between commands) matches the request's method and path:
    {"path": "regex", "method": "GET", "times": 1,
     "status": 503 | "drop_after": N | "truncate_to": N | "corrupt": true | "body_size": N}
status: answer that status; drop_after: send the headers and N body bytes, then cut the
connection; truncate_to: send only N bytes with a Content-Length of N (a short body that looks
complete); corrupt: flip one byte; body_size: answer 200 with N bytes of junk (an oversized
manifest). "times" counts down; a rule at 0 no longer applies. Each request is logged as
"METHOD PATH RANGE STATUS FAULT".
"""
import http.client
import http.server
import json
import re
import socket
import sys
import threading

LISTEN, UPSTREAM, RULES, LOG = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
lock = threading.Lock()


def take_rule(method, path):
    with lock:
        try:
            with open(RULES) as f:
                rules = json.load(f)
        except (OSError, ValueError):
            return None
        for rule in rules:
            if rule.get("times", 1) <= 0:
                continue
            if rule.get("method", method) != method or not re.search(rule["path"], path):
                continue
            rule["times"] = rule.get("times", 1) - 1
            with open(RULES, "w") as f:
                json.dump(rules, f)
            return rule
    return None


def log(line):
    with lock, open(LOG, "a") as f:
        f.write(line + "\n")


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def handle_any(self):
        method, path = self.command, self.path
        rule = take_rule(method, path)
        fault = json.dumps(rule) if rule else "-"
        rng = self.headers.get("Range", "-")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().strip().split(b";")[0], 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            body = b"".join(chunks)
        if rule and "status" in rule:
            log(f"{method} {path} {rng} {rule['status']} {fault}")
            msg = b'{"errors":[{"code":"UNAVAILABLE","message":"injected fault"}]}'
            self.send_response(rule["status"])
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        if rule and "body_size" in rule:
            log(f"{method} {path} {rng} 200 {fault}")
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.docker.distribution.manifest.v2+json")
            self.send_header("Content-Length", str(rule["body_size"]))
            self.end_headers()
            left = rule["body_size"]
            while left > 0:
                n = min(left, 65536)
                self.wfile.write(b" " * n)
                left -= n
            return
        headers = {k: v for k, v in self.headers.items()
                   if k.lower() not in ("host", "content-length", "transfer-encoding", "connection")}
        conn = http.client.HTTPConnection(UPSTREAM, timeout=60)
        conn.request(method, path, body=body, headers=headers)
        resp = conn.getresponse()
        log(f"{method} {path} {rng} {resp.status} {fault}")
        self.send_response(resp.status)
        total = None
        for k, v in resp.getheaders():
            kl = k.lower()
            if kl in ("connection", "transfer-encoding"):
                continue
            if kl == "location":
                v = v.replace(UPSTREAM, f"127.0.0.1:{LISTEN}")
            if kl == "content-length":
                total = int(v)
                if rule and "truncate_to" in rule:
                    v = str(min(total, rule["truncate_to"]))
            self.send_header(k, v)
        if total is None and method != "HEAD":
            data = resp.read()
            total = len(data)
            self.send_header("Content-Length", str(total))
        else:
            data = None
        self.end_headers()
        if method == "HEAD":
            return
        sent, flipped = 0, False
        limit = total
        if rule and "truncate_to" in rule:
            limit = min(total, rule["truncate_to"])
        if rule and "drop_after" in rule:
            limit = min(total, rule["drop_after"])
        while sent < limit:
            chunk = data[sent:sent + 65536] if data is not None else resp.read(min(65536, limit - sent))
            if not chunk:
                break
            chunk = chunk[: limit - sent]
            if rule and rule.get("corrupt") and not flipped:
                mid = len(chunk) // 2
                chunk = chunk[:mid] + bytes([chunk[mid] ^ 0xFF]) + chunk[mid + 1:]
                flipped = True
            self.wfile.write(chunk)
            sent += len(chunk)
        if rule and "drop_after" in rule:
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
        conn.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = handle_any


http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Proxy).serve_forever()
