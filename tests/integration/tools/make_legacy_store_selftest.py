#!/usr/bin/env python3
"""Self-test of make_legacy_store.py: Docker 1.10's migration vector, CRC-64/ISO, the Go JSON
rules, and (once stores are generated) exact tar reassembly from tar-split + unpacked files.

Run: python3 make_legacy_store_selftest.py   (exits non-zero on the first failure)
"""

import os
import sys

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


def main():
    test_crc64_iso()
    test_moby_migration_vector()
    test_go_json_rules()
    print("selftest passed")


if __name__ == "__main__":
    main()
