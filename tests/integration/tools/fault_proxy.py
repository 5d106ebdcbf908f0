#!/usr/bin/env python3
"""An HTTP reverse proxy in front of a registry that injects faults, for strata's integration tests.

    fault_proxy.py --upstream HOST:PORT --rules RULES.json --log LOG [--port N] [--port-file FILE]

Listens on 127.0.0.1 (port 0 = a free port chosen by the kernel, written to --port-file once the
socket listens). HTTP/1.1 with keep-alive. Everything is passed through, bodies streamed both
ways in 64 KiB pieces (never a whole blob in memory): Range and every other request header,
WWW-Authenticate untouched; Location headers naming the upstream are rewritten to the address the
client used (its Host header), so uploads come back through the proxy.

RULES.json is re-read on every request, so a test can change it between commands. It holds a list
(or {"rules": [...]}) of rules; the first rule that matches a request and has "times" left applies:
  "path": REGEX        re.search on the request target (path and query)      (required)
  "method": "GET"      or a list of methods; absent: any method
  "times": 1           how many requests it applies to (default 1; negative: forever)
  "skip": 0            let this many matching requests through first
  "delay_ms": N        wait before answering (alone, or with any fault below)
and at most one fault:
  "status": 503        answer this status with a registry-style JSON error (request body drained,
                       nothing sent upstream); "headers": {...} adds response headers
  "drop_after": N      pass the upstream answer with its full Content-Length, send N body bytes,
                       then close the connection (FIN; "reset": true sends a RST instead)
  "truncate_to": N     send only the first N body bytes with Content-Length: N (looks complete)
  "corrupt": true      flip one byte of the body ("corrupt_at": offset; default the middle)
  "replace_body_size": N  answer "status" (default 200) with N bytes of JSON-like junk instead of
                       the upstream body, Content-Type "content_type" (default docker manifest v2);
                       nothing sent upstream ("body_size" is an older spelling)
A rule's counters start afresh whenever the file is rewritten (a new inode or mtime). A file
that does not parse, or a rule with an unknown key, answers 500 and says why on stderr, so a typo
in a test is loud.

LOG gets one line per request, written before the answer's status line is sent (so once a client
has seen an answer its line is in the log):
    METHOD TARGET RANGE STATUS FAULT body=N
RANGE is the request's Range header without spaces ("-" if none); FAULT is "-" or the fault
applied ("status=503", "drop_after=4096", ...); N the body bytes planned ("?" when the upstream
answer is chunked and unfaulted).
"""
import argparse
import http.client
import http.server
import json
import os
import re
import socket
import struct
import sys
import threading
import time

CHUNK = 64 * 1024
HOP_BY_HOP = {"connection", "keep-alive", "proxy-connection", "proxy-authenticate",
              "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "expect"}
FAULTS = ("status", "drop_after", "truncate_to", "corrupt", "replace_body_size", "body_size")
KNOWN_KEYS = set(FAULTS) | {"path", "method", "times", "skip", "delay_ms", "headers", "reset",
                            "corrupt_at", "content_type", "comment"}
ERROR_CODES = {400: "UNSUPPORTED", 401: "UNAUTHORIZED", 403: "DENIED", 404: "NOT_FOUND",
               429: "TOOMANYREQUESTS", 500: "UNKNOWN", 502: "UNAVAILABLE", 503: "UNAVAILABLE",
               504: "UNAVAILABLE"}


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--upstream", required=True, help="HOST:PORT of the registry")
    p.add_argument("--rules", required=True, help="JSON rules file, re-read on every request")
    p.add_argument("--log", required=True, help="file that gets one line per request")
    p.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: any free port)")
    p.add_argument("--port-file", help="write the listening port here once listening")
    return p.parse_args()


ARGS = parse_args()
LOG_LOCK = threading.Lock()


class RuleError(Exception):
    pass


class ClientGone(Exception):
    """The client closed its connection while we were reading or writing."""


class Rules:
    """The rules file and how many times each rule has been used since the file last changed."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.generation = None
        self.used = []  # per rule: [skipped, applied]

    def _load(self):
        for attempt in range(5):
            try:
                st = os.stat(self.path)
                with open(self.path, "rb") as f:
                    data = f.read()
            except FileNotFoundError:
                return None, []
            generation = (st.st_ino, st.st_mtime_ns, st.st_size, data)
            if not data.strip():
                return generation, []
            try:
                rules = json.loads(data)
                break
            except ValueError as e:
                # A test may be halfway through rewriting the file in place; look again.
                if attempt == 4:
                    raise RuleError("rules file %s does not parse: %s" % (self.path, e))
                time.sleep(0.02)
        if isinstance(rules, dict):
            rules = rules.get("rules", [])
        if not isinstance(rules, list):
            raise RuleError("rules file %s must hold a list of rules" % self.path)
        for i, rule in enumerate(rules):
            if not isinstance(rule, dict) or "path" not in rule:
                raise RuleError("rule %d in %s has no \"path\"" % (i, self.path))
            unknown = set(rule) - KNOWN_KEYS
            if unknown:
                raise RuleError("rule %d in %s has unknown key(s) %s" %
                                (i, self.path, ", ".join(sorted(unknown))))
            if sum(k in rule for k in FAULTS if k != "status") > 1:
                raise RuleError("rule %d in %s has more than one fault" % (i, self.path))
            re.compile(rule["path"])
        return generation, rules

    def take(self, method, target):
        """The rule to apply to this request (None: pass it through), counting it as used."""
        with self.lock:
            generation, rules = self._load()
            if generation != self.generation:
                self.generation = generation
                self.used = [[0, 0] for _ in rules]
            for rule, used in zip(rules, self.used):
                methods = rule.get("method")
                if isinstance(methods, str):
                    methods = [methods]
                if methods is not None and method not in methods:
                    continue
                if not re.search(rule["path"], target):
                    continue
                times = rule.get("times", 1)
                if 0 <= times <= used[1]:
                    continue
                if used[0] < rule.get("skip", 0):
                    used[0] += 1
                    return None
                used[1] += 1
                return rule
            return None


RULES = Rules(ARGS.rules)


def describe(rule):
    if not rule:
        return "-"
    for key in FAULTS:
        if key in rule:
            value = rule[key]
            return "%s=%s" % (key, json.dumps(value) if isinstance(value, bool) else value)
    return "delay_ms=%s" % rule.get("delay_ms", 0)


def junk(size):
    """size bytes that start like a JSON manifest and never end (not valid JSON)."""
    head = b'{"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",' \
           b'"junk":"'
    yield head[:size]
    left = size - len(head)
    piece = b"x" * CHUNK
    while left > 0:
        yield piece[:min(left, CHUNK)]
        left -= CHUNK


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "strata-fault-proxy"

    def log_message(self, *args):
        pass

    # --- request body ---------------------------------------------------------------------------

    def request_body(self):
        """The request body as an iterator of pieces, and its length (None: chunked)."""
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            return self._chunked_body(), None
        length = int(self.headers.get("Content-Length") or 0)
        return self._sized_body(length), length

    def _sized_body(self, length):
        while length > 0:
            piece = self.rfile.read(min(length, CHUNK))
            if not piece:
                raise ClientGone()
            length -= len(piece)
            yield piece

    def _chunked_body(self):
        while True:
            size = int(self.rfile.readline().split(b";")[0].strip(), 16)
            if size == 0:
                while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass  # trailers
                return
            yield from self._sized_body(size)
            self.rfile.readline()

    # --- answers made here ----------------------------------------------------------------------

    def log_line(self, status, rule, body):
        rng = self.headers.get("Range", "-").replace(" ", "")
        with LOG_LOCK, open(ARGS.log, "a") as f:
            f.write("%s %s %s %d %s body=%s\n" % (self.command, self.path, rng, status,
                                                  describe(rule), body))

    def answer_here(self, status, rule, body, content_type, headers=()):
        """An answer that does not involve the upstream; body is an iterator and its size."""
        pieces, size = body
        self.log_line(status, rule, size if self.command != "HEAD" else 0)
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(size))
        self.send_header("Docker-Distribution-Api-Version", "registry/2.0")
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            for piece in pieces:
                self.wfile.write(piece)

    def answer_error(self, status, rule, message, headers=()):
        code = ERROR_CODES.get(status, "UNKNOWN")
        msg = json.dumps({"errors": [{"code": code, "message": message, "detail": None}]}).encode()
        self.answer_here(status, rule, ([msg], len(msg)), "application/json; charset=utf-8",
                         headers)

    # --- proxying -------------------------------------------------------------------------------

    def handle_any(self):
        try:
            self._handle_any()
        except (ClientGone, BrokenPipeError, ConnectionResetError, socket.timeout):
            self.close_connection = True

    def _handle_any(self):
        try:
            rule = RULES.take(self.command, self.path)
        except (RuleError, re.error) as e:
            print("fault_proxy: %s" % e, file=sys.stderr, flush=True)
            for _ in self.request_body()[0]:
                pass
            self.answer_error(500, None, "fault_proxy: %s" % e)
            return
        if rule and rule.get("delay_ms"):
            time.sleep(rule["delay_ms"] / 1000.0)
        size = rule.get("replace_body_size", rule.get("body_size")) if rule else None
        if size is not None:
            for _ in self.request_body()[0]:
                pass
            self.answer_here(rule.get("status", 200), rule, (junk(size), size),
                             rule.get("content_type",
                                      "application/vnd.docker.distribution.manifest.v2+json"))
            return
        if rule and "status" in rule:
            for _ in self.request_body()[0]:
                pass
            self.answer_error(rule["status"], rule, "fault_proxy: injected status %d" %
                              rule["status"], list(rule.get("headers", {}).items()))
            return
        self.forward(rule)

    def forward(self, rule):
        conn = http.client.HTTPConnection(ARGS.upstream, timeout=120)
        try:
            body, length = self.request_body()
            try:
                conn.putrequest(self.command, self.path, skip_host=True,
                                skip_accept_encoding=True)
                conn.putheader("Host", ARGS.upstream)
                for k, v in self.headers.items():
                    if k.lower() not in HOP_BY_HOP and k.lower() not in ("host", "content-length"):
                        conn.putheader(k, v)
                has_body = length is None or length > 0 or self.command in ("PUT", "POST", "PATCH")
                if length is None:
                    conn.putheader("Transfer-Encoding", "chunked")
                elif has_body:
                    conn.putheader("Content-Length", str(length))
                conn.endheaders()
                try:
                    for piece in body:
                        conn.send(b"%x\r\n%s\r\n" % (len(piece), piece) if length is None
                                  else piece)
                    if length is None:
                        conn.send(b"0\r\n\r\n")
                except OSError:
                    # The upstream answered before reading the whole body (as distribution does
                    # to a POST it takes no body with) and closed: relay that answer, then read
                    # and drop the rest of the client's body as the upstream would have.
                    pass
                resp = conn.getresponse()
            except (OSError, http.client.HTTPException) as e:
                self.close_connection = True  # the client's body may be partly unread
                self.answer_error(502, rule, "fault_proxy: upstream %s: %s" % (ARGS.upstream, e))
                return
            self.relay(resp, rule)
            if not self.close_connection:
                for _ in body:
                    pass
        finally:
            conn.close()

    def relay(self, resp, rule):
        no_body = self.command == "HEAD" or resp.status in (204, 304) or 100 <= resp.status < 200
        upstream_length = resp.getheader("Content-Length")
        total = int(upstream_length) if upstream_length is not None else None
        chunked = total is None and not no_body
        # How many body bytes go out, and with which Content-Length.
        send_limit, declared = total, total
        if rule and "truncate_to" in rule:
            send_limit = rule["truncate_to"] if total is None else min(total, rule["truncate_to"])
            declared = send_limit
            chunked = False
        if rule and "drop_after" in rule:
            send_limit = rule["drop_after"] if total is None else min(total, rule["drop_after"])
        corrupt_at = None
        if rule and rule.get("corrupt"):
            corrupt_at = rule.get("corrupt_at", (total // 2) if total else 0)

        self.log_line(resp.status, rule,
                      0 if no_body else ("?" if send_limit is None else send_limit))
        # Not send_response: the upstream's Date and Server headers are passed on instead.
        self.send_response_only(resp.status, resp.reason)
        client_host = self.headers.get("Host") or "127.0.0.1:%d" % self.server.server_address[1]
        for k, v in resp.getheaders():
            kl = k.lower()
            if kl in HOP_BY_HOP:
                continue
            if kl == "location":
                v = v.replace("//" + ARGS.upstream, "//" + client_host, 1)
            if kl == "content-length":
                v = str(declared)
            self.send_header(k, v)
        if chunked:
            self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        if no_body:
            return

        sent = 0
        while send_limit is None or sent < send_limit:
            want = CHUNK if send_limit is None else min(CHUNK, send_limit - sent)
            piece = resp.read1(want) if hasattr(resp, "read1") else resp.read(want)
            if not piece:
                break
            if corrupt_at is not None and sent <= corrupt_at < sent + len(piece):
                i = corrupt_at - sent
                piece = piece[:i] + bytes([piece[i] ^ 0xFF]) + piece[i + 1:]
            self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece) if chunked else piece)
            sent += len(piece)
        if rule and "drop_after" in rule:
            self.drop_connection(rule.get("reset", False))
            return
        if chunked:
            self.wfile.write(b"0\r\n\r\n")
        elif declared is not None and sent < declared:
            # The upstream ended early: the client must see the cut, not wait for the rest.
            self.drop_connection(False)

    def drop_connection(self, reset):
        self.close_connection = True
        try:
            self.wfile.flush()
            if reset:
                self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                                           struct.pack("ii", 1, 0))
            else:
                self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = do_OPTIONS = handle_any


def main():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port), Proxy)
    server.daemon_threads = True
    if ARGS.port_file:
        tmp = ARGS.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % server.server_address[1])
        os.replace(tmp, ARGS.port_file)
    server.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
