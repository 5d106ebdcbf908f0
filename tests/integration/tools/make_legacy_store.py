#!/usr/bin/env python3
"""Writes a legacy (pre-1.10) Docker data root and, computed independently of strata, what a
correct `strata migrate --from-docker` must make of it (expected.json).

Docker 1.10's migration (migrate/v1, image/v1, layer/migration.go) is re-implemented here from its
definition, not from strata's code, so the two can check each other. Python 3 standard library only.
"""

import argparse
import base64
import datetime
import gzip
import hashlib
import io
import json
import os
import random
import re
import shutil
import stat
import sys
import tarfile

# ------------------------------------------------------------------------------------------------
# CRC-64 as Go's hash/crc64 computes it with the ISO table (tar-split stores it for every file).
# Reflected polynomial 0xD800000000000000; Go inverts the register before and after (init and
# xorout all ones), which is what makes crc("123456789") = 0xB90956C775A41001 (CRC-64/GO-ISO).

CRC64_ISO_POLY = 0xD800000000000000
MASK64 = (1 << 64) - 1


def _crc64_table():
    table = []
    for i in range(256):
        crc = i
        for _ in range(8):
            crc = (crc >> 1) ^ CRC64_ISO_POLY if crc & 1 else crc >> 1
        table.append(crc)
    return table


CRC64_TABLE = _crc64_table()


def crc64_raw(reg, data):
    """Advances the un-inverted CRC register over data (a byte loop; fine for small inputs)."""
    table = CRC64_TABLE
    for b in data:
        reg = table[(reg ^ b) & 0xFF] ^ (reg >> 8)
    return reg


def crc64_iso(data):
    return crc64_raw(MASK64, data) ^ MASK64


class BlockCrc:
    """CRC-64 over one fixed block in O(8) table look-ups instead of len(block) steps.

    The register update is affine over GF(2): reg' = M(reg) ^ crc64_raw(0, block), where M is the
    linear map "feed len(block) zero bytes". M is tabulated per input byte position, so scaled-up
    content made of repeated random blocks gets its CRC without a Python loop over every byte.
    """

    def __init__(self, block):
        self.block = block
        self.constant = crc64_raw(0, block)
        self.tables = []
        for pos in range(8):
            self.tables.append([crc64_raw(v << (8 * pos), bytes(len(block))) for v in range(256)])

    def advance(self, reg):
        out = self.constant
        for pos in range(8):
            out ^= self.tables[pos][(reg >> (8 * pos)) & 0xFF]
        return out


# ------------------------------------------------------------------------------------------------
# Go encoding/json as Docker 1.10 (Go 1.5) used it: just enough to reproduce config bytes.

GO_HTML_ESCAPES = {"<": "\\u003c", ">": "\\u003e", "&": "\\u0026",
                   "\u2028": "\\u2028", "\u2029": "\\u2029"}


def go_string(s):
    """json.Marshal of a Go string: <, >, & and U+2028/9 escaped, other non-ASCII kept as UTF-8,
    control characters as \\u00XX except \\n and \\r. Lone surrogates (invalid UTF-8 in Go) become
    U+FFFD, as Go's decoder would have made them."""
    out = ['"']
    for ch in s:
        code = ord(ch)
        if ch in GO_HTML_ESCAPES:
            out.append(GO_HTML_ESCAPES[ch])
        elif ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\r":
            out.append("\\r")
        elif code < 0x20:
            out.append("\\u%04x" % code)
        elif 0xD800 <= code < 0xE000:
            out.append("\ufffd")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def go_compact(raw):
    """encoding/json.compact with HTML escaping, which Marshal applies to a json.RawMessage: drop
    whitespace outside strings, escape <, >, & and U+2028/9; everything else (key order, escapes as
    written, number spelling) stays as it was."""
    out = []
    in_string = False
    escaped = False
    for ch in raw:
        if ch in GO_HTML_ESCAPES:
            out.append(GO_HTML_ESCAPES[ch])
            if escaped:
                escaped = False
            continue
        if in_string:
            out.append(ch)
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch in " \t\r\n":
            continue
        else:
            out.append(ch)
            if ch == '"':
                in_string = True
    return "".join(out)


_WS = re.compile(r"[ \t\r\n]*")


def raw_object_members(text):
    """Splits a JSON object into (key, raw value text) pairs in document order, like Go decoding into
    map[string]json.RawMessage (a later duplicate key replaces an earlier one: the caller's dict)."""
    decoder = json.JSONDecoder()
    pos = _WS.match(text, 0).end()
    if text[pos:pos + 1] != "{":
        raise ValueError("image JSON is not an object")
    pos = _WS.match(text, pos + 1).end()
    members = []
    if text[pos:pos + 1] == "}":
        return members
    while True:
        key, pos = decoder.raw_decode(text, pos)
        if not isinstance(key, str):
            raise ValueError("object key is not a string")
        pos = _WS.match(text, pos).end()
        if text[pos:pos + 1] != ":":
            raise ValueError("missing ':' in image JSON")
        pos = _WS.match(text, pos + 1).end()
        _, end = decoder.raw_decode(text, pos)
        members.append((key, text[pos:end]))
        pos = _WS.match(text, end).end()
        if text[pos:pos + 1] == ",":
            pos = _WS.match(text, pos + 1).end()
            continue
        if text[pos:pos + 1] == "}":
            break
        raise ValueError("malformed image JSON object")
    if _WS.match(text, pos + 1).end() != len(text):
        raise ValueError("trailing data after image JSON")
    return members


def go_marshal_raw_map(members):
    """json.Marshal(map[string]*json.RawMessage): keys sorted by byte order, values compacted."""
    merged = dict(members)
    parts = [go_string(k) + ":" + go_compact(merged[k])
             for k in sorted(merged, key=lambda k: k.encode("utf-8", "surrogatepass"))]
    return "{" + ",".join(parts) + "}"


_RFC3339 = re.compile(r"^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$")


def go_time_roundtrip(value):
    """time.Time UnmarshalJSON (layout RFC3339) then MarshalJSON (RFC3339Nano): the fraction keeps
    at most 9 digits with trailing zeros dropped (and the dot when nothing is left); a zero UTC
    offset is written "Z"."""
    m = _RFC3339.match(value)
    if not m:
        raise ValueError("created is not an RFC 3339 time: %r" % value)
    year, month, day, hour, minute, sec, frac, zone = m.groups()
    digits = (frac or ".")[1:10].ljust(9, "0").rstrip("0")
    if zone in ("+00:00", "-00:00"):
        zone = "Z"
    out = "%s-%s-%sT%s:%s:%s" % (year, month, day, hour, minute, sec)
    if digits:
        out += "." + digits
    return out + zone


def docker_version_less(a, b):
    """pkg/version Version.LessThan: dotted parts compared as integers (non-numbers count as 0),
    missing parts as 0."""
    def parts(v):
        out = []
        for p in v.split("."):
            try:
                out.append(int(p))
            except ValueError:
                out.append(0)
        return out
    pa, pb = parts(a), parts(b)
    n = max(len(pa), len(pb))
    pa += [0] * (n - len(pa))
    pb += [0] * (n - len(pb))
    return pa < pb


# The 1.10 container.Config (engine-api) fields in declaration order: (name, kind, omitempty).
GO_CONFIG_FIELDS = [
    ("Hostname", "string", False), ("Domainname", "string", False), ("User", "string", False),
    ("AttachStdin", "bool", False), ("AttachStdout", "bool", False), ("AttachStderr", "bool", False),
    ("ExposedPorts", "setmap", True), ("PublishService", "string", True), ("Tty", "bool", False),
    ("OpenStdin", "bool", False), ("StdinOnce", "bool", False), ("Env", "strings", False),
    ("Cmd", "strslice", False), ("ArgsEscaped", "bool", True), ("Image", "string", False),
    ("Volumes", "setmap", False), ("WorkingDir", "string", False), ("Entrypoint", "strslice", False),
    ("NetworkDisabled", "bool", True), ("MacAddress", "string", True), ("OnBuild", "strings", False),
    ("Labels", "strmap", False), ("StopSignal", "string", True),
]

# The 1.10 image.V1Image fields: (json name, kind, omitempty).
GO_V1IMAGE_FIELDS = [
    ("id", "string", True), ("parent", "string", True), ("comment", "string", True),
    ("created", "time", False), ("container", "string", True), ("container_config", "config", False),
    ("docker_version", "string", True), ("author", "string", True), ("config", "configptr", True),
    ("architecture", "string", True), ("os", "string", True), ("Size", "int64", True),
]


def go_field_lookup(fields, key):
    """Go's decoder matches an exact field name first, then any case-insensitive one."""
    for f in fields:
        if f[0] == key:
            return f
    for f in fields:
        if f[0].lower() == key.lower():
            return f
    return None


def go_decode_field(kind, value):
    """Decodes a Python-parsed JSON value the way Go would into a field of this kind; None is Go's
    nil/zero for the kinds where null is meaningful. Type mismatches raise, as json.Unmarshal
    fails (and so does the migration of that image)."""
    if kind == "string":
        if value is None:
            return ""
        if not isinstance(value, str):
            raise ValueError("expected a string, got %r" % (value,))
        return value
    if kind == "bool":
        if value is None:
            return False
        if not isinstance(value, bool):
            raise ValueError("expected a bool, got %r" % (value,))
        return value
    if kind == "int64":
        if value is None:
            return 0
        if isinstance(value, bool) or not isinstance(value, int):
            raise ValueError("expected an integer, got %r" % (value,))
        return value
    if kind == "strings":
        if value is None:
            return None
        if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
            raise ValueError("expected a list of strings, got %r" % (value,))
        return list(value)
    if kind == "strslice":
        # engine-api StrSlice accepts a string or a list of strings.
        if value is None:
            return None
        if isinstance(value, str):
            return [value]
        return go_decode_field("strings", value)
    if kind == "setmap":
        if value is None:
            return None
        if not isinstance(value, dict) or not all(isinstance(v, dict) for v in value.values()):
            raise ValueError("expected a map of objects, got %r" % (value,))
        return {k: {} for k in value}
    if kind == "strmap":
        if value is None:
            return None
        if not isinstance(value, dict):
            raise ValueError("expected a map of strings, got %r" % (value,))
        return {k: go_decode_field("string", v) for k, v in value.items()}
    if kind == "time":
        if not isinstance(value, str):
            raise ValueError("created is not a time string: %r" % (value,))
        return go_time_roundtrip(value)
    if kind in ("config", "configptr"):
        if value is None:
            return None if kind == "configptr" else go_decode_struct(GO_CONFIG_FIELDS, {})
        if not isinstance(value, dict):
            raise ValueError("expected a config object, got %r" % (value,))
        return go_decode_struct(GO_CONFIG_FIELDS, value)
    raise AssertionError(kind)


def go_zero(kind):
    return {"string": "", "bool": False, "int64": 0, "time": None}.get(kind)


def go_decode_struct(fields, obj):
    values = {f[0]: go_zero(f[1]) for f in fields}
    for key, value in obj.items():
        f = go_field_lookup(fields, key)
        if f is None:
            continue  # unknown fields are dropped
        if f[1] == "config" and value is None:
            continue  # null leaves a struct value untouched
        values[f[0]] = go_decode_field(f[1], value)
    if fields is GO_V1IMAGE_FIELDS and values["container_config"] is None:
        values["container_config"] = go_decode_struct(GO_CONFIG_FIELDS, {})
    return values


def go_encode_value(kind, value):
    if kind in ("string",):
        return go_string(value)
    if kind == "bool":
        return "true" if value else "false"
    if kind == "int64":
        return str(value)
    if kind == "time":
        return '"' + value + '"'
    if kind in ("strings", "strslice"):
        if value is None:
            return "null"
        return "[" + ",".join(go_string(x) for x in value) + "]"
    if kind in ("setmap", "strmap"):
        if value is None:
            return "null"
        keys = sorted(value, key=lambda k: k.encode("utf-8", "surrogatepass"))
        if kind == "setmap":
            return "{" + ",".join(go_string(k) + ":{}" for k in keys) + "}"
        return "{" + ",".join(go_string(k) + ":" + go_string(value[k]) for k in keys) + "}"
    if kind in ("config", "configptr"):
        if value is None:
            return "null"
        return go_encode_struct(GO_CONFIG_FIELDS, value)
    raise AssertionError(kind)


def go_is_empty(kind, value):
    if value is None:
        return True
    if kind in ("string", "strings", "strslice", "setmap", "strmap"):
        return len(value) == 0 if kind not in ("strslice",) else False
    if kind in ("bool", "int64"):
        return not value
    return False


def go_encode_struct(fields, values):
    parts = []
    for name, kind, omitempty in fields:
        value = values[name]
        if omitempty and go_is_empty(kind, value):
            continue
        parts.append(go_string(name) + ":" + go_encode_value(kind, value))
    return "{" + ",".join(parts) + "}"


def v1image_roundtrip(text):
    """json.Unmarshal into Docker 1.10's image.V1Image and json.Marshal back (the < 1.8.3 path)."""
    obj = json.loads(text)
    if not isinstance(obj, dict):
        raise ValueError("image JSON is not an object")
    return go_encode_struct(GO_V1IMAGE_FIELDS, go_decode_struct(GO_V1IMAGE_FIELDS, obj))


def history_from_v1(text):
    """image/v1 HistoryFromConfig(json, emptyLayer=false) marshalled as image.History: keys
    created, author, created_by, comment, empty_layer; all but created omitted when empty."""
    v1 = go_decode_struct(GO_V1IMAGE_FIELDS, json.loads(text))
    created_by = " ".join(v1["container_config"]["Cmd"] or [])
    parts = ['"created":"%s"' % v1["created"]]
    if v1["author"]:
        parts.append('"author":' + go_string(v1["author"]))
    if created_by:
        parts.append('"created_by":' + go_string(created_by))
    if v1["comment"]:
        parts.append('"comment":' + go_string(v1["comment"]))
    return "{" + ",".join(parts) + "}"


def config_from_v1(text, parent_diff_ids, parent_history, diff_id):
    """MakeConfigFromV1Config as migratev1.migrateImage calls it. Returns (config text, diff_ids,
    history entries) so a child can continue from them."""
    diff_ids = list(parent_diff_ids) + [diff_id]
    history = list(parent_history) + [history_from_v1(text)]
    version = json.loads(text).get("docker_version", "")
    if not isinstance(version, str):
        raise ValueError("docker_version is not a string")
    if docker_version_less(version, "1.8.3"):
        text = v1image_roundtrip(text)
    members = [(k, v) for k, v in raw_object_members(text)
               if k not in ("id", "parent", "Size", "parent_id", "layer_id", "throwaway")]
    rootfs = '{"type":"layers","diff_ids":[' + ",".join('"%s"' % d for d in diff_ids) + "]}"
    members.append(("rootfs", rootfs))
    members.append(("history", "[" + ",".join(history) + "]"))
    return go_marshal_raw_map(members), diff_ids, history


def sha256_id(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def chain_ids(diff_ids):
    """layer.CreateChainID for every prefix: the bottom layer's ChainID is its DiffID, then
    sha256("<parent chainID> <diffID>") over the prefixed strings."""
    out = []
    for d in diff_ids:
        out.append(d if not out else sha256_id((out[-1] + " " + d).encode()))
    return out
