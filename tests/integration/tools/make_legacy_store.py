#!/usr/bin/env python3
"""Writes a legacy (pre-1.10) Docker data root and, computed independently of strata, what a
correct `strata migrate --from-docker` must make of it (expected.json).

Docker 1.10's migration (migrate/v1, image/v1, layer/migration.go) is re-implemented here from its
definition, not from strata's code, so the two can check each other. Python 3 standard library only.

  make_legacy_store.py OUT_DIR [--driver aufs|vfs|overlay] [--scale-mb N] [--seed S]
      [--no-tar-data IMG,...] [--corrupt truncated-diff|missing-parent|bad-json|crc]
      [--non-utf8-names] [--expected PATH] [--force]

Images (parents first): base-l1 -> base -> app1 -> app1-cmd (empty layer), base -> app2 -> app2-run;
the app2 chain says docker_version 1.8.2, so its JSON goes through the V1Image round trip.
--corrupt damages app1, so app1 and app1-cmd must fail and the other four must migrate.

expected.json (default OUT_DIR/../expected.json):
  driver, seed, scale_mb, non_utf8_names, ownership_preserved (uid/gid applied: ran as root),
  no_tar_data [names], corrupt (null or {kind, image, v1_id, path, failing_v1_ids}),
  repositories (as in repositories-<driver>), layers_bytes (sum of the layer tars' lengths),
  images: [{name, v1_id, names ["repo:tag" | "repo@sha256:..."], parent_v1_id, docker_version,
            diff_id, chain_id, image_id, config (the exact config text; image_id is its sha256),
            history [entries], size (sum of file sizes, what the migration records), tar_size,
            empty_layer, tar_data, layer_dir (relative to OUT_DIR), must_fail,
            layer_paths + layer_files {path: sha256} (only without tar-data)}]
  diff_id is null without tar-data (the migrator makes its own tar); chain_id, image_id and config
  are null for that image and its descendants, and for every must_fail image.
"""

import argparse
import base64
import gzip
import hashlib
import json
import os
import random
import re
import shutil
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


def _gf2_times(matrix, vec):
    out = 0
    col = 0
    while vec:
        if vec & 1:
            out ^= matrix[col]
        vec >>= 1
        col += 1
    return out


def _gf2_square(matrix):
    return [_gf2_times(matrix, matrix[i]) for i in range(64)]


class BlockCrc:
    """CRC-64 over one fixed block in 8 table look-ups instead of len(block) steps.

    The register update is affine over GF(2): reg' = M(reg) ^ crc64_raw(0, block), where M is the
    linear map "feed len(block) zero bytes". M is built by repeated squaring of the one-bit shift
    (zlib's crc32_combine idea) and tabulated per register byte, so scaled-up content made of
    repeated random blocks gets its CRC without a Python loop over every byte.
    """

    def __init__(self, block):
        self.block = block
        self.constant = crc64_raw(0, block)
        # one zero *bit*: column i is the register after shifting bit i once.
        one_bit = [CRC64_ISO_POLY] + [1 << (i - 1) for i in range(1, 64)]
        op = one_bit
        for _ in range(3):            # 8 bits
            op = _gf2_square(op)
        length = len(block)
        acc = None
        while length:
            if length & 1:
                acc = op if acc is None else [_gf2_times(op, acc[i]) for i in range(64)]
            length >>= 1
            if length:
                op = _gf2_square(op)
        self.tables = [[_gf2_times(acc, v << (8 * pos)) for v in range(256)] for pos in range(8)]


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
    \\n \\r \\t as such and other control characters as \\u00XX (Go 1.5, which built Docker 1.10).
    Lone surrogates (invalid UTF-8 in Go) become U+FFFD, as Go's decoder would have made them."""
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
        elif ch == "\t":
            out.append("\\t")
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
    if kind == "string":
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
    """Go's omitempty: false, 0, "", nil, and empty slices and maps. A non-nil pointer (StrSlice,
    *Config) is never empty, whatever it points to."""
    if value is None:
        return True
    if kind in ("strslice", "config", "configptr", "time"):
        return False
    if kind in ("bool", "int64"):
        return not value
    return len(value) == 0


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


# ------------------------------------------------------------------------------------------------
# Layer content. A file's bytes are a list of pieces: literal bytes, or a reference to one block of
# a shared random pool, so gigabytes of content cost no Python loop per byte (see BlockCrc).

class BlockPool:
    """Random blocks of a few fixed sizes, each with its precomputed CRC step."""

    def __init__(self, rng, sizes=(4096, 65536), per_size=8):
        self.blocks = []
        self.crcs = []
        for size in sizes:
            for _ in range(per_size):
                block = rng.randbytes(size)
                self.blocks.append(block)
                self.crcs.append(BlockCrc(block))
        self.per_size = per_size

    def index(self, size_class, which):
        return size_class * self.per_size + which % self.per_size


class Content:
    """A regular file's bytes as pieces (bytes or block-pool indices)."""

    def __init__(self, pieces, pool=None):
        self.pieces = [p for p in pieces if not (isinstance(p, bytes) and not p)]
        self.pool = pool
        self.size = sum(len(p) if isinstance(p, bytes) else len(pool.blocks[p]) for p in self.pieces)

    def chunks(self):
        for p in self.pieces:
            yield p if isinstance(p, bytes) else self.pool.blocks[p]

    def crc64(self):
        reg = MASK64
        for p in self.pieces:
            reg = crc64_raw(reg, p) if isinstance(p, bytes) else self.pool.crcs[p].advance(reg)
        return reg ^ MASK64

    def write_to(self, path):
        with open(path, "wb") as f:
            pending = []
            pending_len = 0
            for chunk in self.chunks():
                pending.append(chunk)
                pending_len += len(chunk)
                if pending_len >= 1 << 20:
                    f.write(b"".join(pending))
                    pending, pending_len = [], 0
            f.write(b"".join(pending))


def literal(data):
    return Content([data.encode() if isinstance(data, str) else data])


class Entry:
    """One tar entry of a layer. name has no trailing slash; kind is dir|file|symlink|hardlink."""

    def __init__(self, name, kind, mode, mtime, content=None, linkname="", uid=0, gid=0,
                 uname="root", gname="root"):
        self.name, self.kind, self.mode, self.mtime = name, kind, mode, mtime
        self.content = content if content is not None else (literal(b"") if kind == "file" else None)
        self.linkname, self.uid, self.gid, self.uname, self.gname = linkname, uid, gid, uname, gname

    @property
    def size(self):
        return self.content.size if self.kind == "file" else 0

    def tarinfo(self):
        ti = tarfile.TarInfo(self.name)
        ti.type = {"dir": tarfile.DIRTYPE, "file": tarfile.REGTYPE, "symlink": tarfile.SYMTYPE,
                   "hardlink": tarfile.LNKTYPE}[self.kind]
        ti.mode, ti.mtime, ti.size, ti.linkname = self.mode, self.mtime, self.size, self.linkname
        ti.uid, ti.gid, ti.uname, ti.gname = self.uid, self.gid, self.uname, self.gname
        return ti

    def tar_name(self):
        """The name Go's archive/tar reports (tarfile writes directories with a trailing slash)."""
        return self.name + "/" if self.kind == "dir" else self.name


# ------------------------------------------------------------------------------------------------
# Tar and tar-split. The tar is written with tarfile's own header encoder (TarInfo.tobuf); the
# tar-split record is cut the way vbatts/tar-split's NewInputTarStream (the version Docker 1.8-1.10
# used) cuts it: before each entry one segment with the previous entry's padding and this entry's
# headers (extension headers included), then a file entry (name, size, CRC-64 of the content; size
# and payload empty for size 0), and at the end one segment with the last padding and the two zero
# blocks, then one segment with whatever follows (empty, or tarfile's record padding).

def go_entry_json(fields):
    """One storage.Entry as Go's json.Marshal writes it (field order type, name, name_raw, size,
    payload, position; payload is not omitempty, so a size-0 file has "payload":null)."""
    parts = ['"type":%d' % fields["type"]]
    if fields.get("name"):
        parts.append('"name":' + go_string(fields["name"]))
    if fields.get("name_raw"):
        parts.append('"name_raw":"%s"' % base64.b64encode(fields["name_raw"]).decode())
    if fields.get("size"):
        parts.append('"size":%d' % fields["size"])
    payload = fields.get("payload")
    parts.append('"payload":' + ("null" if payload is None else
                                 '"%s"' % base64.b64encode(payload).decode()))
    parts.append('"position":%d' % fields["position"])
    return "{" + ",".join(parts) + "}\n"


class LayerTar:
    """The result of writing one layer: diffID, size, tar length, gzipped tar-split, and (when
    asked) the tar bytes themselves for the selftest."""

    def __init__(self, diff_id, size, tar_length, tar_split_gz, tar_bytes):
        self.diff_id, self.size, self.tar_length = diff_id, size, tar_length
        self.tar_split_gz, self.tar_bytes = tar_split_gz, tar_bytes


def build_layer_tar(entries, tar_format, record_padding, keep_bytes=False):
    sha = hashlib.sha256()
    kept = [] if keep_bytes else None
    lines = []
    length = 0

    def emit(data):
        nonlocal length
        sha.update(data)
        length += len(data)
        if kept is not None:
            kept.append(data)

    def record(**fields):
        fields["position"] = len(lines)
        lines.append(go_entry_json(fields))

    if not entries:
        # Docker's empty layer: just the two zero blocks, as Go's tar.Writer closes an empty archive.
        emit(bytes(1024))
        record(type=2, payload=bytes(1024))
        record(type=2, payload=b"")
        return LayerTar(sha256_id(bytes(1024)), 0, 1024, _gzip_lines(lines), b"".join(kept or []))
    padding = b""
    size = 0
    for e in entries:
        header = e.tarinfo().tobuf(tar_format, "utf-8", "surrogateescape")
        emit(padding + header)
        record(type=2, payload=padding + header)
        crc = None
        if e.size > 0:
            for chunk in e.content.chunks():
                emit(chunk)
            crc = e.content.crc64().to_bytes(8, "big")
            size += e.size
        name = e.tar_name().encode("utf-8", "surrogateescape")
        try:
            record(type=1, name=name.decode("utf-8"), size=e.size, payload=crc)
        except UnicodeDecodeError:
            record(type=1, name_raw=name, size=e.size, payload=crc)
        padding = bytes(-e.size % tarfile.BLOCKSIZE)
    end = padding + bytes(2 * tarfile.BLOCKSIZE)
    emit(end)
    record(type=2, payload=end)
    trailer = bytes(-length % tarfile.RECORDSIZE) if record_padding else b""
    emit(trailer)
    record(type=2, payload=trailer)
    return LayerTar("sha256:" + sha.hexdigest(), size, length,
                    _gzip_lines(lines), b"".join(kept) if kept is not None else None)


def _gzip_lines(lines):
    # mtime=0 keeps the gzip header (and so the store) byte-identical across runs.
    return gzip.compress("".join(lines).encode("utf-8", "surrogateescape"), mtime=0)


# ------------------------------------------------------------------------------------------------
# Filesystem trees. A tree maps a path to the Entry that last wrote it. Applying a layer follows
# Docker's UnpackLayer (pkg/archive/diff.go): `.wh.<name>` removes name, `.wh..wh..opq` removes
# whatever this layer did not itself unpack in that directory, other `.wh..wh.*` are AUFS
# metadata and skipped, and an entry replaces an existing path unless both are directories.

WHITEOUT_PREFIX = ".wh."
WHITEOUT_META_PREFIX = ".wh..wh."
WHITEOUT_OPAQUE = ".wh..wh..opq"


def _split(path):
    head, _, base = path.rpartition("/")
    return head, base


def _remove_subtree(tree, path):
    prefix = path + "/"
    for p in [p for p in tree if p == path or p.startswith(prefix)]:
        del tree[p]


def apply_layer(parent_tree, entries):
    tree = dict(parent_tree)
    unpacked = set()
    for e in entries:
        head, base = _split(e.name)
        if base == WHITEOUT_OPAQUE:
            prefix = head + "/" if head else ""
            for p in [p for p in tree if p.startswith(prefix) and p != head and p not in unpacked]:
                del tree[p]
            continue
        if base.startswith(WHITEOUT_META_PREFIX):
            continue
        if base.startswith(WHITEOUT_PREFIX):
            _remove_subtree(tree, (head + "/" if head else "") + base[len(WHITEOUT_PREFIX):])
            continue
        old = tree.get(e.name)
        if old is not None and not (old.kind == "dir" and e.kind == "dir"):
            _remove_subtree(tree, e.name)
        tree[e.name] = e
        unpacked.add(e.name)
    return tree


def materialize(tree, root, share_root=None, share_tree=None):
    """Writes tree under root with each entry's mode, mtime (and owner when running as root).

    With share_root, regular files written by the same Entry as in share_tree are hard-linked to
    share_root instead of copied, as the legacy overlay driver did between a layer and its parent.
    Hard-link entries must point at a file of the same tree that no later layer replaces.
    """
    os.makedirs(root, exist_ok=True)
    paths = sorted(tree)
    as_root = os.geteuid() == 0
    for p in paths:
        if tree[p].kind == "dir":
            os.makedirs(os.path.join(root, p), exist_ok=True)
    for p in paths:
        e, full = tree[p], os.path.join(root, p)
        if e.kind == "file":
            if share_tree is not None and share_tree.get(p) is e:
                os.link(os.path.join(share_root, p), full)
            else:
                e.content.write_to(full)
        elif e.kind == "symlink":
            os.symlink(e.linkname, full)
    for p in paths:
        e = tree[p]
        if e.kind == "hardlink":
            os.link(os.path.join(root, e.linkname), os.path.join(root, p))
    for p in paths:
        e, full = tree[p], os.path.join(root, p)
        if as_root:
            os.lchown(full, e.uid, e.gid)
        if e.kind == "symlink":
            os.utime(full, (e.mtime, e.mtime), follow_symlinks=False)
        elif e.kind != "dir":
            os.chmod(full, e.mode)
            os.utime(full, (e.mtime, e.mtime))
    # Directories last and deepest first: creating children would move their mtimes again.
    for p in reversed(paths):
        e, full = tree[p], os.path.join(root, p)
        if e.kind == "dir":
            os.chmod(full, e.mode)
            os.utime(full, (e.mtime, e.mtime))


def layer_as_tree(entries):
    """An AUFS diff directory holds the layer as-is: whiteouts stay as empty `.wh.*` files."""
    return {e.name: e for e in entries}


# ------------------------------------------------------------------------------------------------
# The store: six images in two chains sharing a two-layer base.
#   base-l1 -> base -> app1 -> app1-cmd (empty layer)        docker 1.9.1
#                   \-> app2 -> app2-run                     docker 1.8.2 (V1Image round trip)

T0 = 1446330174  # 2015-10-31T22:22:54Z: fixed mtimes keep the output identical across runs

IMAGE_NAMES = ["base-l1", "base", "app1", "app1-cmd", "app2", "app2-run"]
LONG_DIR = "usr/share/doc/a-rather-long-directory-name-for-testing-gnu-and-pax-long-names"
LONG_FILE = LONG_DIR + "/and-an-equally-long-file-name-inside-it-so-the-path-exceeds-100-chars.txt"
CORRUPT_IMAGE = "app1"
CORRUPT_FILE = "app/server.bin"


class ImageSpec:
    def __init__(self, name, parent, entries, tar_format, record_padding, docker_version, created,
                 cmd, config, tags=(), author="", comment="", extra_json=None, pretty=False,
                 checksum=None):
        self.name, self.parent, self.entries = name, parent, entries
        self.tar_format, self.record_padding = tar_format, record_padding
        self.docker_version, self.created, self.cmd, self.config = docker_version, created, cmd, config
        self.tags, self.author, self.comment = list(tags), author, comment
        self.extra_json = extra_json or {}
        self.pretty = pretty
        self.checksum = checksum  # graph/<id>/checksum: the v2 blobsum of a pulled layer


def _d(name, t, mode=0o755, **kw):
    return Entry(name, "dir", mode, t, **kw)


def _f(name, t, data, mode=0o644, **kw):
    return Entry(name, "file", mode, t, content=data if isinstance(data, Content) else literal(data), **kw)


def _wh(name, t):
    return Entry(name, "file", 0o600, t)


def base_l1_entries(rng, t):
    busybox = rng.randbytes(20000)
    return [
        _d("bin", t), _f("bin/busybox", t, busybox, 0o755),
        Entry("bin/ls", "hardlink", 0o755, t, linkname="bin/busybox"),
        Entry("bin/sh", "symlink", 0o777, t, linkname="busybox"),
        _d("etc", t), _f("etc/passwd", t, "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000::/home/user:/bin/sh\n"),
        _f("etc/group", t, "root:x:0:\nuser:x:1000:\n"), _f("etc/empty.conf", t, b""),
        _d("home", t), _d("home/user", t, 0o750, uid=1000, gid=1000, uname="user", gname="user"),
        _f("home/user/.profile", t, "export PS1='$ '\n", uid=1000, gid=1000, uname="user", gname="user"),
        _d("tmp", t, 0o1777),
        _d("usr", t), _d("usr/share", t), _f("usr/share/naïve-café.txt", t, "ünïcödé name\n"),
        _d("usr/share/doc", t), _d(LONG_DIR, t), _f(LONG_FILE, t, "long name\n"),
        _d("var", t), _d("var/lib", t), _d("var/lib/data", t),
        _f("var/lib/data/a.db", t, rng.randbytes(3000)), _d("var/lib/data/sub", t),
        _f("var/lib/data/sub/b.db", t, rng.randbytes(512)),
        _d("var/log", t), _f("var/log/old.log", t, "old\n" * 100),
    ]


def base_entries(rng, t):
    return [
        _d("etc", t), _f("etc/hostname", t, "legacy\n"), _f("etc/motd", t, "done\n"),
        _d("lib", t), _f("lib/libc.so.6", t, rng.randbytes(8192), 0o755),
        Entry("lib/libc.so", "symlink", 0o777, t, linkname="libc.so.6"),
        _d("usr", t), _d("usr/bin", t), _f("usr/bin/tool", t, rng.randbytes(513), 0o755),
    ]


def app1_entries(rng, t):
    return [
        _d("app", t), _f(CORRUPT_FILE, t, rng.randbytes(4096 + 17), 0o755),
        _f("app/config.json", t, '{"port": 8080}\n'), _f("app/empty", t, b""),
        _d("etc", t), _f("etc/passwd", t, "root:x:0:0:root:/root:/bin/sh\napp:x:100:100::/app:/bin/false\n"),
        _d("usr", t), _d("usr/share", t), _wh("usr/share/.wh.doc", t),
        _d("var", t), _d("var/lib", t), _d("var/lib/data", t), _wh("var/lib/data/.wh..wh..opq", t),
        _f("var/lib/data/new.db", t, rng.randbytes(1024)),
        _d("var/log", t), _wh("var/log/.wh.old.log", t),
    ]


def app2_entries(rng, t):
    return [
        _d("etc", t), _wh("etc/.wh.hostname", t),
        _d("opt", t), _d("opt/app2", t),
        _f("opt/app2/run.sh", t, "#!/bin/sh\nexec /opt/app2/bin \"$@\"\n", 0o755),
        _f("opt/app2/bin", t, rng.randbytes(10000), 0o755),
        Entry("opt/app2/bin-link", "hardlink", 0o755, t, linkname="opt/app2/bin"),
        _f("opt/app2/data-exactly-512", t, rng.randbytes(512)),
        # GNU layer: these become ././@LongLink entries (type L for the name, K for the target).
        _d("opt/app2/" + "n" * 60, t),
        _f("opt/app2/" + "n" * 60 + "/" + "m" * 60 + ".conf", t, "gnu long name\n"),
        Entry("opt/app2/long-link", "symlink", 0o777, t, linkname="/" + "x" * 60 + "/" + "y" * 60),
    ]


def app2_run_entries(rng, t):
    return [
        _d("etc", t), _f("etc/motd", t, "hi\n"),
        _d("var", t), _d("var/run", t), _f("var/run/x", t, b""),
    ]


def _cfg(cmd, env=None, labels=None, ports=None, image="", legacy=False):
    """A container config as Docker 1.9 (or, with legacy, 1.8) wrote it, keys in that order."""
    c = {"Hostname": "f0e1d2c3b4a5", "Domainname": "", "User": "", "AttachStdin": False,
         "AttachStdout": False, "AttachStderr": False}
    if legacy:
        c["PortSpecs"] = None
    if ports is not None:
        c["ExposedPorts"] = {p: {} for p in ports}
    c.update({"Tty": False, "OpenStdin": False, "StdinOnce": False,
              "Env": env, "Cmd": cmd, "Image": image, "Volumes": None, "VolumeDriver": "",
              "WorkingDir": "", "Entrypoint": None})
    if legacy:
        c.update({"NetworkDisabled": False, "MacAddress": "", "PublishService": ""})
    c.update({"OnBuild": None, "Labels": labels})
    return c


PATH_ENV = ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"]


# A Latin-1 file name (bytes "caf\xe9"), kept in Python as a surrogate escape; tar-split records it
# as name_raw.
NON_UTF8_NAME = "opt/app2/caf\udce9.txt"


def image_specs(rng, non_utf8_names=False):
    def hexid():
        return "%064x" % rng.getrandbits(256)
    sh = ["/bin/sh", "-c"]
    specs = [
        ImageSpec("base-l1", None, base_l1_entries(rng, T0), tarfile.PAX_FORMAT, False, "1.9.1",
                  "2015-10-31T22:22:54.690851953Z",
                  sh + ["#(nop) ADD file:%s in /" % hexid()], None),
        ImageSpec("base", "base-l1", base_entries(rng, T0 + 60), tarfile.GNU_FORMAT, False, "1.9.1",
                  "2015-10-31T22:23:55.613815829Z",
                  sh + ["apk add --no-cache tool && echo done > /etc/motd"],
                  _cfg(["sh"], PATH_ENV), tags=["busybox:latest", "busybox@sha256:" + hexid()],
                  checksum="sha256:" + hexid()),
        ImageSpec("app1", "base", app1_entries(rng, T0 + 86400), tarfile.PAX_FORMAT, False, "1.9.1",
                  "2015-11-01T22:22:54.120000000Z",
                  sh + ["#(nop) COPY dir:%s in /app" % hexid()],
                  _cfg(["sh"], PATH_ENV, labels={"z.version": "1.0", "a.maintainer": "ops <ops@example.com>"},
                       ports=["8080/tcp"]),
                  tags=["myorg/app:build"], comment="built & tagged", pretty=True),
        ImageSpec("app1-cmd", "app1", [], tarfile.PAX_FORMAT, False, "1.9.1",
                  "2015-11-01T22:22:55.5Z",
                  sh + ['#(nop) CMD ["/app/server.bin","--port=8080"]'],
                  _cfg(["/app/server.bin", "--port=8080"], PATH_ENV,
                       labels={"z.version": "1.0", "a.maintainer": "ops <ops@example.com>"}, ports=["8080/tcp"]),
                  tags=["myorg/app:latest", "myorg/app:1.0"],
                  extra_json={"parent_id": "sha256:" + hexid(), "layer_id": "sha256:" + hexid()}),
        ImageSpec("app2", "base", app2_entries(rng, T0 + 2 * 86400), tarfile.GNU_FORMAT, True, "1.8.2",
                  "2015-11-02T08:30:00.000000001Z",
                  "/bin/sh -c #(nop) ADD dir:%s in /opt/app2" % hexid(),
                  _cfg(["/opt/app2/run.sh"], PATH_ENV + ["QUERY=a&b<c>"], labels={"b": "2", "a": "1"},
                       ports=["9090/tcp", "80/tcp"], legacy=True),
                  tags=["myorg/other:v2"]),
        ImageSpec("app2-run", "app2", app2_run_entries(rng, T0 + 2 * 86400 + 60), tarfile.PAX_FORMAT, False,
                  "1.8.2", "2015-11-02T08:31:00.100Z",
                  sh + ['echo "hi" > /etc/motd && touch /var/run/x'],
                  _cfg(["/opt/app2/run.sh"], PATH_ENV + ["QUERY=a&b<c>"], labels={"b": "2", "a": "1"},
                       ports=["9090/tcp", "80/tcp"], legacy=True),
                  tags=["myorg/other:latest"], author="Jane Doe <jane@example.com>"),
    ]
    if non_utf8_names:
        specs[4].entries.append(_f(NON_UTF8_NAME, T0 + 2 * 86400, "latin-1 name\n"))
    return specs


def add_scale_content(specs, rng, pool, scale_mb):
    """Adds about scale_mb MiB of files under /data/<image>/ to the layers of five images (the
    empty CMD layer stays empty), mostly small files and some of a few MiB."""
    shares = {"base-l1": 0.40, "base": 0.20, "app1": 0.15, "app2": 0.15, "app2-run": 0.10}
    for spec in specs:
        if spec.name not in shares:
            continue
        budget = int(scale_mb * (1 << 20) * shares[spec.name])
        t = spec.entries[0].mtime if spec.entries else T0
        top = "data/" + spec.name
        entries = [_d("data", t), _d(top, t)]
        written, n = 0, 0
        while written < budget:
            if n % 64 == 0:
                entries.append(_d("%s/d%03d" % (top, n // 64), t))
            name = "%s/d%03d/f%05d.bin" % (top, n // 64, n)
            pieces = [("%s\n" % name).encode()]
            if rng.random() < 0.2:
                pieces += [pool.index(1, rng.randrange(1 << 16)) for _ in range(rng.randrange(4, 65))]
            pieces += [pool.index(0, rng.randrange(1 << 16)) for _ in range(rng.randrange(0, 16))]
            tail_block = pool.blocks[pool.index(0, rng.randrange(1 << 16))]
            pieces.append(tail_block[:rng.randrange(0, 512)])
            content = Content(pieces, pool)
            entries.append(_f(name, t, content))
            written += content.size
            n += 1
        spec.entries.extend(entries)


def v1_json_text(spec, v1_id, parent_v1_id, container_id, size):
    """graph/<id>/json as Docker 1.9 (or 1.8) wrote it; the app1 image is pretty-printed with raw
    < > & so the Go compaction and escaping of nested values is exercised."""
    legacy = docker_version_less(spec.docker_version, "1.8.3")
    obj = {"id": v1_id}
    if parent_v1_id:
        obj["parent"] = parent_v1_id
    if spec.comment:
        obj["comment"] = spec.comment
    obj["created"] = spec.created
    obj["container"] = container_id
    obj["container_config"] = _cfg(spec.cmd, PATH_ENV, image=parent_v1_id or "", legacy=legacy)
    obj["docker_version"] = spec.docker_version
    if spec.author:
        obj["author"] = spec.author
    obj["config"] = spec.config
    obj["architecture"] = "amd64"
    obj["os"] = "linux"
    obj.update(spec.extra_json)
    obj["Size"] = size
    if spec.pretty:
        return json.dumps(obj, ensure_ascii=False, indent=2) + "\n"
    return go_compact(json.dumps(obj, ensure_ascii=False, separators=(",", ":")))


def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)
    os.chmod(path, mode)


def driver_layer_dir(out_dir, driver, v1_id):
    return {"aufs": os.path.join(out_dir, "aufs", "diff", v1_id),
            "vfs": os.path.join(out_dir, "vfs", "dir", v1_id),
            "overlay": os.path.join(out_dir, "overlay", v1_id, "root")}[driver]


def write_driver(out_dir, driver, v1_id, ancestors, entries, tree, parent_dir, parent_tree):
    """aufs: the layer as-is plus the ancestor list; vfs: a full copy of the image's filesystem;
    overlay: the full filesystem with unchanged files hard-linked to the parent's root."""
    root = driver_layer_dir(out_dir, driver, v1_id)
    if driver == "aufs":
        materialize(layer_as_tree(entries), root)
        add_aufs_branch_metadata(root)
        _write(os.path.join(out_dir, "aufs", "layers", v1_id), "".join(a + "\n" for a in ancestors))
        os.makedirs(os.path.join(out_dir, "aufs", "mnt", v1_id), exist_ok=True)
    elif driver == "vfs":
        materialize(tree, root)
    else:
        materialize(tree, root, parent_dir, parent_tree)
    return root


def add_aufs_branch_metadata(root):
    """AUFS keeps its own bookkeeping in every branch root (.wh..wh.aufs, .wh..wh.orph/,
    .wh..wh.plnk/). They are not part of the layer: tar-split never names them, and Docker's aufs
    Diff excludes .wh..wh.* (except .wh..wh..opq) when it has to make a tar itself."""
    with open(os.path.join(root, ".wh..wh.aufs"), "wb"):
        pass
    os.chmod(os.path.join(root, ".wh..wh.aufs"), 0o444)
    for d in (".wh..wh.orph", ".wh..wh.plnk"):
        os.mkdir(os.path.join(root, d), 0o700)
    for n in (".wh..wh.aufs", ".wh..wh.orph", ".wh..wh.plnk"):
        os.utime(os.path.join(root, n), (T0, T0))


def parse_ref(ref):
    """"repo:tag" or "repo@sha256:..." -> (repo, key in repositories-<driver>)."""
    if "@" in ref:
        return tuple(ref.split("@", 1))
    repo, _, tag = ref.rpartition(":")
    return repo, tag


def layer_listing(entries):
    files = {e.name: sha256_id(b"".join(e.content.chunks())) for e in entries
             if e.kind == "file" and not _split(e.name)[1].startswith(WHITEOUT_PREFIX)}
    return sorted(e.name for e in entries), files


def generate(out_dir, driver="aufs", seed=1, scale_mb=0, no_tar_data=(), corrupt=None,
             expected_path=None, keep_tar_bytes=False, non_utf8_names=False):
    """Writes the store and expected.json; returns (expected dict, {name: LayerTar})."""
    rng = random.Random(seed)
    specs = image_specs(rng, non_utf8_names)
    if scale_mb:
        add_scale_content(specs, rng, BlockPool(rng), scale_mb)
    unknown = set(no_tar_data) - set(IMAGE_NAMES)
    if unknown:
        raise ValueError("--no-tar-data: unknown image(s) %s; images are %s"
                         % (",".join(sorted(unknown)), ",".join(IMAGE_NAMES)))
    v1_ids = {s.name: "%064x" % rng.getrandbits(256) for s in specs}
    os.makedirs(os.path.join(out_dir, "graph", "_tmp"), exist_ok=True)
    state = {}      # name -> dict(tree, dir, diff_ids, history, known)
    layers = {}
    images = []
    repositories = {}
    for spec in specs:
        v1_id = v1_ids[spec.name]
        parent = state.get(spec.parent)
        parent_v1_id = v1_ids[spec.parent] if spec.parent else None
        layer = build_layer_tar(spec.entries, spec.tar_format, spec.record_padding, keep_tar_bytes)
        layers[spec.name] = layer
        tree = apply_layer(parent["tree"] if parent else {}, spec.entries)
        ancestors = []
        p = spec.parent
        while p:
            ancestors.append(v1_ids[p])
            p = next(s.parent for s in specs if s.name == p)
        layer_dir = write_driver(out_dir, driver, v1_id, ancestors, spec.entries, tree,
                                 parent["dir"] if parent else None, parent["tree"] if parent else None)
        graph = os.path.join(out_dir, "graph", v1_id)
        text = v1_json_text(spec, v1_id, parent_v1_id, "%064x" % rng.getrandbits(256), layer.size)
        _write(os.path.join(graph, "json"), text, 0o600)
        _write(os.path.join(graph, "layersize"), str(layer.size), 0o600)
        if spec.checksum:
            _write(os.path.join(graph, "checksum"), spec.checksum, 0o600)
        has_tar_data = spec.name not in no_tar_data
        if has_tar_data:
            _write(os.path.join(graph, "tar-data.json.gz"), layer.tar_split_gz, 0o600)
        config, diff_ids, history = config_from_v1(
            text, parent["diff_ids"] if parent else [], parent["history"] if parent else [],
            layer.diff_id)
        # Without tar-split the migrator makes its own tar, whose bytes (and so every ID built on
        # them) depend on its tar writer; what stays checkable is the history.
        known = has_tar_data and (parent["known"] if parent else True)
        record = {
            "name": spec.name, "v1_id": v1_id, "names": sorted(spec.tags),
            "parent_v1_id": parent_v1_id, "docker_version": spec.docker_version,
            "diff_id": layer.diff_id if has_tar_data else None,
            "chain_id": chain_ids(diff_ids)[-1] if known else None,
            "image_id": sha256_id(config.encode()) if known else None,
            "config": config if known else None,
            "history": [json.loads(h) for h in history],
            "size": layer.size, "tar_size": layer.tar_length, "empty_layer": not spec.entries,
            "tar_data": has_tar_data, "layer_dir": os.path.relpath(layer_dir, out_dir),
            "must_fail": False,
        }
        if not has_tar_data:
            record["layer_paths"], record["layer_files"] = layer_listing(spec.entries)
        images.append(record)
        for ref in spec.tags:
            repo, key = parse_ref(ref)
            repositories.setdefault(repo, {})[key] = v1_id
        state[spec.name] = {"tree": tree, "dir": layer_dir, "diff_ids": diff_ids,
                            "history": history, "known": known}
    _write(os.path.join(out_dir, "repositories-" + driver),
           json.dumps({"Repositories": repositories}, separators=(",", ":")), 0o600)
    corruption = apply_corruption(out_dir, driver, corrupt, specs, v1_ids, images, rng) if corrupt else None
    fix_metadata_mtimes(out_dir, {os.path.join(out_dir, i["layer_dir"]) for i in images})
    expected = {
        "driver": driver, "seed": seed, "scale_mb": scale_mb, "non_utf8_names": non_utf8_names,
        "ownership_preserved": os.geteuid() == 0,
        "no_tar_data": sorted(no_tar_data), "corrupt": corruption,
        "repositories": repositories,
        "layers_bytes": sum(layer.tar_length for layer in layers.values()),
        "images": images,
    }
    if expected_path is None:
        expected_path = os.path.join(os.path.dirname(os.path.abspath(out_dir)), "expected.json")
    # ASCII-only, so a non-UTF-8 file name (a lone surrogate here) survives as a \\udcXX escape.
    _write(expected_path, json.dumps(expected, indent=1) + "\n")
    return expected, layers


def fix_metadata_mtimes(out_dir, layer_dirs):
    """Gives everything outside the layer contents (graph/, repositories-*, driver bookkeeping,
    the layer roots themselves) the fixed time T0, so two runs with one seed are identical."""
    dirs = []
    for dirpath, dirnames, filenames in os.walk(out_dir):
        dirs.append(dirpath)
        if dirpath in layer_dirs:
            dirnames[:] = []
            continue
        for n in filenames:
            os.utime(os.path.join(dirpath, n), (T0, T0), follow_symlinks=False)
    for d in reversed(dirs):
        os.utime(d, (T0, T0))


CORRUPT_KINDS = ["truncated-diff", "missing-parent", "bad-json", "crc"]


def apply_corruption(out_dir, driver, kind, specs, v1_ids, images, rng):
    """Damages CORRUPT_IMAGE so that it, and every image built on it, cannot be migrated."""
    v1_id = v1_ids[CORRUPT_IMAGE]
    graph = os.path.join(out_dir, "graph", v1_id)
    path = None
    if kind in ("truncated-diff", "crc"):
        path = os.path.join(driver_layer_dir(out_dir, driver, v1_id), CORRUPT_FILE)
        st = os.stat(path)
        size = st.st_size
        if kind == "truncated-diff":
            os.truncate(path, size // 2)
        else:
            with open(path, "r+b") as f:
                first = f.read(1)
                f.seek(0)
                f.write(bytes([first[0] ^ 0xFF]))
        # Keep the mtime, so only the content (as tar-split's size and CRC record it) gives it away.
        os.utime(path, (st.st_mtime, st.st_mtime))
        path = os.path.relpath(path, out_dir)
    elif kind == "missing-parent":
        with open(os.path.join(graph, "json")) as f:
            obj = json.load(f)
        obj["parent"] = "%064x" % rng.getrandbits(256)
        _write(os.path.join(graph, "json"), json.dumps(obj, separators=(",", ":")), 0o600)
        path = os.path.relpath(os.path.join(graph, "json"), out_dir)
    elif kind == "bad-json":
        _write(os.path.join(graph, "json"), '{"id":"%s","created":' % v1_id, 0o600)
        path = os.path.relpath(os.path.join(graph, "json"), out_dir)
    else:
        raise ValueError("unknown --corrupt kind %r (one of %s)" % (kind, ", ".join(CORRUPT_KINDS)))
    failing = {CORRUPT_IMAGE}
    for spec in specs:
        if spec.parent in failing:
            failing.add(spec.name)
    for record in images:
        if record["name"] in failing:
            record["must_fail"] = True
            for key in ("diff_id", "chain_id", "image_id", "config"):
                record[key] = None
    return {"kind": kind, "image": CORRUPT_IMAGE, "v1_id": v1_id, "path": path,
            "failing_v1_ids": [v1_ids[s.name] for s in specs if s.name in failing]}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", help="the legacy Docker data root to create")
    parser.add_argument("--driver", choices=["aufs", "vfs", "overlay"], default="aufs")
    parser.add_argument("--scale-mb", type=int, default=0,
                        help="add about N MiB of file data (thousands of files) for benchmarks")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--no-tar-data", default="",
                        help="comma-separated images without tar-data.json.gz: " + ",".join(IMAGE_NAMES))
    parser.add_argument("--corrupt", choices=CORRUPT_KINDS,
                        help="damage image %s (and so its descendants)" % CORRUPT_IMAGE)
    parser.add_argument("--expected", help="where to write expected.json (default OUT_DIR/../expected.json)")
    parser.add_argument("--non-utf8-names", action="store_true",
                        help="add a file whose name is not UTF-8 (%s) to app2" % NON_UTF8_NAME.encode(
                            "utf-8", "surrogateescape").decode("latin-1"))
    parser.add_argument("--force", action="store_true", help="remove OUT_DIR first if it exists")
    args = parser.parse_args(argv)
    if os.path.lexists(args.out_dir) and os.listdir(args.out_dir):
        if not args.force:
            parser.error("%s exists and is not empty (use --force to replace it)" % args.out_dir)
        shutil.rmtree(args.out_dir)
    no_tar_data = [n for n in args.no_tar_data.split(",") if n]
    try:
        expected, _ = generate(args.out_dir, args.driver, args.seed, args.scale_mb, no_tar_data,
                               args.corrupt, args.expected, non_utf8_names=args.non_utf8_names)
    except ValueError as err:
        parser.error(str(err))
    print("%s: %d images, %d layer bytes (%s)" % (args.out_dir, len(expected["images"]),
                                                 expected["layers_bytes"], args.driver))


if __name__ == "__main__":
    main()
