#!/usr/bin/env python3
"""Self-test of make_legacy_store.py: Docker 1.10's migration vector, CRC-64/ISO, the Go JSON
rules, and (once stores are generated) exact tar reassembly from tar-split + unpacked files.

Run: python3 make_legacy_store_selftest.py   (exits non-zero on the first failure)
"""

import base64
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_legacy_store as mls  # noqa: E402

EMPTY_TAR_DIFF_ID = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"

# moby v1.10.0 migrate/v1/migratev1_test.go TestMigrateImages: the two v1 JSONs and the image IDs
# asserted for them, both layers being the empty (1024 zero bytes) tar.
MOBY_V1_JSON_1 = r'''{"architecture":"amd64","config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container":"23304fc829f9b9349416f6eb1afec162907eba3a328f51d53a17f8986f865d65","container_config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/sh","-c","#(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2015-10-31T22:22:54.690851953Z","docker_version":"1.8.2","layer_id":"sha256:55dc925c23d1ed82551fd018c27ac3ee731377b6bad3963a2a4e76e753d70e57","os":"linux"}'''
MOBY_V1_JSON_2 = r'''{"architecture":"amd64","config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"d1592a710ac323612bd786fa8ac20727c58d8a67847e5a65177c594f43919498","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container":"349b014153779e30093d94f6df2a43c7a0a164e05aa207389917b540add39b51","container_config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/sh","-c","#(nop) CMD [\"sh\"]"],"Image":"d1592a710ac323612bd786fa8ac20727c58d8a67847e5a65177c594f43919498","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2015-10-31T22:22:55.613815829Z","docker_version":"1.8.2","layer_id":"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4","os":"linux","parent_id":"sha256:039b63dd2cbaa10d6015ea574392530571ed8d7b174090f032211285a71881d0"}'''
MOBY_IMAGE_ID_1 = "sha256:ca406eaf9c26898414ff5b7b3a023c33310759d6203be0663dbf1b3a712f432d"
MOBY_IMAGE_ID_2 = "sha256:a488bec94bb96b26a968f913d25ef7d8d204d727ca328b52b4b059c7d03260b6"


def check(cond, what):
    if not cond:
        raise SystemExit("FAIL: " + what)
    print("ok   " + what)


def test_moby_migration_vector():
    config1, diff_ids, history = mls.config_from_v1(MOBY_V1_JSON_1, [], [], EMPTY_TAR_DIFF_ID)
    check(mls.sha256_id(config1.encode()) == MOBY_IMAGE_ID_1, "moby TestMigrateImages image 1 ID")
    config2, _, _ = mls.config_from_v1(MOBY_V1_JSON_2, diff_ids, history, EMPTY_TAR_DIFF_ID)
    check(mls.sha256_id(config2.encode()) == MOBY_IMAGE_ID_2, "moby TestMigrateImages image 2 ID")
    check(mls.sha256_id(bytes(1024)) == EMPTY_TAR_DIFF_ID, "empty tar diffID")


def test_crc64_iso():
    check(mls.crc64_iso(b"123456789") == 0xB90956C775A41001, "CRC-64/ISO check value")
    block = bytes(range(256)) * 16
    bc = mls.BlockCrc(block)
    reg = mls.crc64_raw(mls.MASK64, b"head")
    check(bc.advance(bc.advance(reg)) == mls.crc64_raw(reg, block * 2), "block CRC skipping")


def test_go_json_rules():
    check(mls.go_string("a\tb\x01\n<\u2028") == '"a\\tb\\u0001\\n\\u003c\\u2028"', "Go string escaping")
    check(mls.go_time_roundtrip("2015-11-02T10:00:00.120000000Z") == "2015-11-02T10:00:00.12Z",
          "RFC3339Nano drops trailing zeros")
    check(mls.go_time_roundtrip("2015-11-02T10:00:00.000Z") == "2015-11-02T10:00:00Z",
          "RFC3339Nano drops an all-zero fraction")
    check(mls.go_compact('{ "a" : [1, "x <y> & z"] }') == '{"a":[1,"x \\u003cy\\u003e \\u0026 z"]}',
          "compact removes whitespace and escapes < > &")
    check(mls.docker_version_less("1.8.2", "1.8.3") and not mls.docker_version_less("1.9.1", "1.8.3")
          and mls.docker_version_less("", "1.8.3") and not mls.docker_version_less("1.10", "1.8.3"),
          "docker version comparison")
    legacy = ('{"id":"x","created":"2015-01-01T00:00:00.500Z","docker_version":"1.6.0",'
              '"container_config":{"Cmd":"echo","VolumeDriver":"","Labels":{"b":"1","a":"2"},'
              '"NetworkDisabled":false,"Hostname":"h"},"Size":5}')
    want = ('{"id":"x","created":"2015-01-01T00:00:00.5Z","container_config":{"Hostname":"h",'
            '"Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,'
            '"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["echo"],"Image":"",'
            '"Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,'
            '"Labels":{"a":"2","b":"1"}},"docker_version":"1.6.0","Size":5}')
    check(mls.v1image_roundtrip(legacy) == want, "V1Image round trip (field order, omitempty)")


def read_tar_split(path):
    with gzip.open(path, "rb") as f:
        return [json.loads(line) for line in f.read().decode("utf-8").splitlines()]


def reassemble(tar_split_path, layer_dir):
    """What Docker's migration does with tar-data.json.gz: segments verbatim, file contents read by
    name from the unpacked layer and checked against their CRC-64. Raises on any mismatch."""
    out = io.BytesIO()
    for i, e in enumerate(read_tar_split(tar_split_path)):
        if e["position"] != i:
            raise ValueError("position %d at entry %d" % (e["position"], i))
        if e["type"] == 2:
            out.write(base64.b64decode(e["payload"] or ""))
            continue
        size = e.get("size", 0)
        if size == 0:
            continue
        name = e["name"].encode() if "name" in e else base64.b64decode(e["name_raw"])
        with open(os.path.join(layer_dir.encode(), os.path.normpath(name).lstrip(b"/")), "rb") as f:
            data = f.read(size + 1)
        if len(data) != size:
            raise ValueError("%r: %d bytes, tar-split says %d" % (name, len(data), size))
        if mls.crc64_iso(data).to_bytes(8, "big") != base64.b64decode(e["payload"]):
            raise ValueError("%r: CRC-64 mismatch" % name)
        out.write(data)
    return out.getvalue()


def split_with_tarfile(tar_bytes):
    """An independent disassembly: tarfile's own member offsets say where headers end and content
    starts; returns [(type, payload-or-name, size)] as tar-split should have recorded them."""
    expected = []
    pos = 0
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as tf:
        for m in tf.getmembers():
            expected.append((2, tar_bytes[pos:m.offset_data], 0))
            expected.append((1, m.name, m.size))
            pos = m.offset_data + m.size
    end = pos + (-pos % 512) + 1024
    expected.append((2, tar_bytes[pos:end], 0))
    expected.append((2, tar_bytes[end:], 0))
    return expected


def test_tar_split_against_tarfile(layers):
    for name, layer in layers.items():
        entries = [e for e in read_tar_split_bytes(layer.tar_split_gz)]
        got = [(2, base64.b64decode(e["payload"] or ""), 0) if e["type"] == 2
               else (1, entry_name(e).rstrip("/"), e.get("size", 0)) for e in entries]
        if layer.tar_bytes == bytes(1024):
            want = [(2, bytes(1024), 0), (2, b"", 0)]
        else:
            want = split_with_tarfile(layer.tar_bytes)
        check(got == want, "tar-split of %s matches tarfile's own parse" % name)


def entry_name(e):
    """A file entry's name as tarfile reports it (non-UTF-8 bytes as surrogate escapes)."""
    if "name" in e:
        return e["name"]
    return base64.b64decode(e["name_raw"]).decode("utf-8", "surrogateescape")


def read_tar_split_bytes(gz):
    return [json.loads(line) for line in gzip.decompress(gz).decode("utf-8").splitlines()]


def test_store(driver, tmp):
    out = os.path.join(tmp, driver, "store")
    expected, layers = mls.generate(out, driver=driver, keep_tar_bytes=True)
    for image in expected["images"]:
        layer = layers[image["name"]]
        tar = reassemble(os.path.join(out, "graph", image["v1_id"], "tar-data.json.gz"),
                         os.path.join(out, image["layer_dir"]))
        check(tar == layer.tar_bytes and mls.sha256_id(tar) == image["diff_id"],
              "%s %s: tar rebuilt from tar-split + files equals the original (%s)"
              % (driver, image["name"], image["diff_id"][:19]))
        config = image["config"]
        check(mls.sha256_id(config.encode()) == image["image_id"]
              and json.loads(config)["rootfs"]["diff_ids"][-1] == image["diff_id"],
              "%s %s: image ID is the config's digest" % (driver, image["name"]))
    return out, expected, layers


def tree_snapshot(root):
    """Everything a migrator could observe in a store: paths, modes, mtimes, owners, contents."""
    snap = []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        for n in sorted(dirnames + filenames):
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            if os.path.islink(p):
                body = os.readlink(p)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    body = hashlib.sha256(f.read()).hexdigest()
            else:
                body = ""
            snap.append((os.path.relpath(p, root), st.st_mode, int(st.st_mtime), st.st_uid, body))
    return snap


def by_name(expected):
    return {i["name"]: i for i in expected["images"]}


def test_filesystems(tmp):
    """vfs/overlay trees are the layers applied in order: whiteouts delete, opaque dirs clear."""
    for driver in ("vfs", "overlay"):
        out, expected, _ = test_store(driver, tmp)
        images = by_name(expected)
        app1 = os.path.join(out, images["app1"]["layer_dir"])
        base = os.path.join(out, images["base"]["layer_dir"])
        app2 = os.path.join(out, images["app2"]["layer_dir"])
        check(os.path.exists(os.path.join(base, "var/log/old.log"))
              and not os.path.lexists(os.path.join(app1, "var/log/old.log")), driver + ": .wh.old.log deletes")
        check(os.path.isdir(os.path.join(base, "usr/share/doc"))
              and not os.path.lexists(os.path.join(app1, "usr/share/doc")), driver + ": .wh.doc deletes a dir")
        check(sorted(os.listdir(os.path.join(app1, "var/lib/data"))) == ["new.db"],
              driver + ": opaque var/lib/data keeps only this layer's files")
        check(not os.path.lexists(os.path.join(app2, "etc/hostname")), driver + ": app2 deletes etc/hostname")
        shared = (os.stat(os.path.join(base, "bin/busybox")).st_ino
                  == os.stat(os.path.join(app1, "bin/busybox")).st_ino)
        check(shared == (driver == "overlay"), driver + ": unchanged files hard-linked to the parent only on overlay")
        st = os.lstat(os.path.join(app1, "home/user/.profile"))
        check(st.st_uid == (1000 if os.geteuid() == 0 else os.geteuid()) and int(st.st_mtime) == mls.T0,
              driver + ": owner and mtime kept")


def test_determinism(tmp):
    a, b = os.path.join(tmp, "det-a", "store"), os.path.join(tmp, "det-b", "store")
    mls.generate(a, seed=7)
    mls.generate(b, seed=7)
    with open(os.path.join(tmp, "det-a", "expected.json"), "rb") as fa, \
            open(os.path.join(tmp, "det-b", "expected.json"), "rb") as fb:
        same_expected = fa.read() == fb.read()
    check(same_expected and tree_snapshot(a) == tree_snapshot(b), "same seed, same store and expected.json")
    c = os.path.join(tmp, "det-c", "store")
    mls.generate(c, seed=8)
    check(tree_snapshot(a) != tree_snapshot(c), "another seed, another store")


def test_no_tar_data(tmp):
    out = os.path.join(tmp, "notar", "store")
    expected, _ = mls.generate(out, no_tar_data=["app1"])
    images = by_name(expected)
    app1 = images["app1"]
    check(not os.path.exists(os.path.join(out, "graph", app1["v1_id"], "tar-data.json.gz"))
          and app1["diff_id"] is None and "app/server.bin" in app1["layer_files"]
          and "var/lib/data/.wh..wh..opq" in app1["layer_paths"], "--no-tar-data drops tar-split, lists paths")
    check(images["app1-cmd"]["diff_id"] == EMPTY_TAR_DIFF_ID and images["app1-cmd"]["image_id"] is None
          and images["app2"]["image_id"] is not None, "--no-tar-data: descendants keep diffID, lose IDs")


def app1_is_broken(out, app1):
    graph = os.path.join(out, "graph", app1["v1_id"])
    try:
        with open(os.path.join(graph, "json")) as f:
            parent = json.load(f)["parent"]
        reassemble(os.path.join(graph, "tar-data.json.gz"), os.path.join(out, app1["layer_dir"]))
    except (ValueError, KeyError):
        return True
    return not os.path.isdir(os.path.join(out, "graph", parent))


def test_corruptions(tmp):
    for kind in mls.CORRUPT_KINDS:
        for driver in ("aufs", "vfs", "overlay"):
            out = os.path.join(tmp, "corrupt-%s-%s" % (kind, driver), "store")
            expected, _ = mls.generate(out, driver=driver, corrupt=kind)
            images = by_name(expected)
            failing = sorted(n for n, i in images.items() if i["must_fail"])
            check(failing == ["app1", "app1-cmd"] and expected["corrupt"]["kind"] == kind
                  and app1_is_broken(out, images["app1"]), "%s %s: app1 broken, app1 and app1-cmd must fail"
                  % (kind, driver))
            for name in ("base", "app2-run"):
                i = images[name]
                tar = reassemble(os.path.join(out, "graph", i["v1_id"], "tar-data.json.gz"),
                                 os.path.join(out, i["layer_dir"]))
                check(mls.sha256_id(tar) == i["diff_id"], "%s %s: %s still intact" % (kind, driver, name))


def test_scaled(tmp):
    out = os.path.join(tmp, "scaled", "store")
    expected, _ = mls.generate(out, scale_mb=24, driver="overlay")
    files = sum(len(fs) for _, _, fs in os.walk(out))
    for image in expected["images"]:
        tar = reassemble(os.path.join(out, "graph", image["v1_id"], "tar-data.json.gz"),
                         os.path.join(out, image["layer_dir"]))
        check(mls.sha256_id(tar) == image["diff_id"], "scaled %s rebuilds exactly" % image["name"])
    check(expected["layers_bytes"] > 24 << 20 and files > 50,
          "scaled store: %d MiB of layers, %d files" % (expected["layers_bytes"] >> 20, files))


def test_non_utf8_names(tmp):
    out = os.path.join(tmp, "raw-names", "store")
    expected, layers = mls.generate(out, non_utf8_names=True, keep_tar_bytes=True)
    app2 = by_name(expected)["app2"]
    entries = read_tar_split(os.path.join(out, "graph", app2["v1_id"], "tar-data.json.gz"))
    raw = [base64.b64decode(e["name_raw"]) for e in entries if "name_raw" in e]
    check(raw == [b"opt/app2/caf\xe9.txt"], "a non-UTF-8 name is recorded as name_raw")
    tar = reassemble(os.path.join(out, "graph", app2["v1_id"], "tar-data.json.gz"),
                     os.path.join(out, app2["layer_dir"]))
    check(mls.sha256_id(tar) == app2["diff_id"] and tar == layers["app2"].tar_bytes,
          "the layer with a non-UTF-8 name rebuilds exactly")
    test_tar_split_against_tarfile({"app2 (non-UTF-8 name)": layers["app2"]})


def main():
    test_crc64_iso()
    test_moby_migration_vector()
    test_go_json_rules()
    with tempfile.TemporaryDirectory(prefix="legacy-store-selftest-") as tmp:
        _, _, layers = test_store("aufs", tmp)
        test_tar_split_against_tarfile(layers)
        test_filesystems(tmp)
        test_determinism(tmp)
        test_no_tar_data(tmp)
        test_corruptions(tmp)
        test_scaled(tmp)
        test_non_utf8_names(tmp)
    print("selftest passed")


if __name__ == "__main__":
    main()
