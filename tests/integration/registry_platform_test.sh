#!/usr/bin/env bash
# A multi-arch image (a Docker manifest list naming an amd64 and an arm64/v8 image) in Debian's
# docker-registry: `strata pull --platform` picks the matching manifest, gets the same image as
# `docker pull --platform` and as pulling that manifest by digest, and a platform the list does
# not offer is refused by name.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer docker docker-registry python3 jq curl
ensure_fixtures
need_strata_cmd pull push load
R=$FIXTURE_REPO
start_registry REG

# An arm64/v8 variant of the base fixture: same layer, a config that says arm64.
python3 - "$FIX/base.tar" "$WORK/arm64.tar" <<'PY'
import hashlib, io, json, sys, tarfile
src, dst = sys.argv[1:3]
with tarfile.open(src) as t:
    manifest = json.load(t.extractfile("manifest.json"))
    old = manifest[0]["Config"]
    cfg = json.load(t.extractfile(old))
    cfg["architecture"], cfg["variant"] = "arm64", "v8"
    raw = json.dumps(cfg, separators=(",", ":")).encode()
    name = hashlib.sha256(raw).hexdigest() + ".json"
    manifest[0].update(Config=name, RepoTags=["strata-it/base:arm64"])
    with tarfile.open(dst, "w") as out:
        for m in t.getmembers():
            if m.name in (old, "manifest.json", "repositories"):
                continue
            out.addfile(m, t.extractfile(m) if m.isfile() else None)
        for n, data in ((name, raw), ("manifest.json", json.dumps(manifest).encode())):
            info = tarfile.TarInfo(n)
            info.size = len(data)
            out.addfile(info, io.BytesIO(data))
PY
strata load -i "$FIX/base.tar" >/dev/null
strata load -i "$WORK/arm64.tar" >/dev/null
AMD_ID=$(strata_image_id "$R/base:1")
ARM_ID=$(strata_image_id "$R/base:arm64")
assert_ne "$AMD_ID" "$ARM_ID" "setup: two images"
strata tag "$R/base:1" "$REG/ma/img:amd64"
strata tag "$R/base:arm64" "$REG/ma/img:arm64"
strata push -q "$REG/ma/img:amd64" >/dev/null || fatal "push amd64"
strata push -q "$REG/ma/img:arm64" >/dev/null || fatal "push arm64"

entry() { # entry TAG ARCH [VARIANT]: a manifest list entry for REG/ma/img:TAG
  local digest size
  digest=$(registry_manifest_digest "$REG_ADDR" ma/img "$1")
  size=$(curl -s -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
    "http://$REG_ADDR/v2/ma/img/manifests/$digest" | wc -c)
  jq -nc --arg d "$digest" --argjson s "$size" --arg a "$2" --arg v "${3:-}" \
    '{mediaType: "application/vnd.docker.distribution.manifest.v2+json", digest: $d, size: $s,
      platform: ({architecture: $a, os: "linux"} + (if $v == "" then {} else {variant: $v} end))}'
}
ARM_MANIFEST=$(registry_manifest_digest "$REG_ADDR" ma/img arm64)
jq -n --argjson a "$(entry amd64 amd64)" --argjson b "$(entry arm64 arm64 v8)" \
  '{schemaVersion: 2, mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
    manifests: [$a, $b]}' >"$WORK/list.json"
code=$(curl -s -o "$WORK/put.out" -w '%{http_code}' -X PUT \
  -H "Content-Type: application/vnd.docker.distribution.manifest.list.v2+json" \
  --data-binary @"$WORK/list.json" "http://$REG_ADDR/v2/ma/img/manifests/multi")
[[ $code == 201 ]] || fatal "PUT manifest list: HTTP $code $(cat "$WORK/put.out")"
LIST_DIGEST=$(registry_manifest_digest "$REG_ADDR" ma/img multi)

declare -A WANT=([linux/arm64]=$ARM_ID [linux/arm64/v8]=$ARM_ID [linux/amd64]=$AMD_ID)
for platform in linux/arm64 linux/arm64/v8 linux/amd64; do
  CASE="--platform $platform"
  ROOT=$WORK/store-${platform//\//-}
  srun pull --platform "$platform" "$REG/ma/img:multi"
  assert_eq 0 "$RC" "[$CASE] pull of the list: $ERR"
  assert_match "Digest: $LIST_DIGEST" "$OUT" "[$CASE] prints the list's digest, as docker does"
  assert_eq "${WANT[$platform]}" "$(strata_image_id "$REG/ma/img:multi")" "[$CASE] the matching image"
done

CASE=docker
start_private_dockerd PEER
DOCKER_HOST=$PEER dk pull -q --platform linux/arm64 "$REG/ma/img:multi" >/dev/null ||
  fatal "docker pull --platform linux/arm64"
assert_eq "$ARM_ID" "$(DOCKER_HOST=$PEER dk image inspect -f '{{.Id}}' "$REG/ma/img:multi")" \
  "[$CASE] docker pull --platform linux/arm64 picks the image strata picked"

CASE=by-digest
ROOT=$WORK/store-digest
srun pull "$REG/ma/img@$ARM_MANIFEST"
assert_eq 0 "$RC" "[$CASE] pull of the arm64 manifest by digest: $ERR"
assert_eq "$ARM_ID" "$(strata_image_id "$REG/ma/img@$ARM_MANIFEST")" "[$CASE] same image"

CASE=missing-platform
ROOT=$WORK/store-s390x
srun pull --platform linux/s390x "$REG/ma/img:multi"
assert_ne 0 "$RC" "[$CASE] a platform the list lacks fails"
assert_match "s390x" "$ERR" "[$CASE] and the error names it: $ERR"
assert_eq "" "$(strata images -a -q 2>/dev/null)" "[$CASE] nothing stored"

finish
