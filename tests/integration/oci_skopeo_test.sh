#!/usr/bin/env bash
# OCI layout, oci-archive and dir: output of strata checked by skopeo and umoci, and the
# reverse: layouts written by skopeo (gzip, zstd, docker-archive quirks) read by strata.
# Every blob is checked against its digest; umoci's unpack of strata's layout must show the
# fixture's filesystem (whiteouts applied, opaque dir, hard links, specials, xattrs).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer jq skopeo umoci python3 docker-registry curl htpasswd
ensure_fixtures
need_strata_cmd load save inspect

R=$FIXTURE_REPO
RICH_LAYERS=$(dk image inspect -f '{{json .RootFS.Layers}}' "$R/rich:1")
for a in rich paxattr; do
  srun load -i "$FIX/$a.tar"
  ((RC == 0)) || fatal "setup: strata load -i $a.tar failed (exit $RC): $ERR"
done

# verify_layout CASE DIR: oci-layout file, index.json, and every blob's digest and size.
verify_layout() {
  local c=$1 dir=$2 bad=0 f want got
  assert_eq '1.0.0' "$(jq -r .imageLayoutVersion "$dir/oci-layout" 2>&1)" "[$c] oci-layout version"
  jq -e '.schemaVersion == 2 and (.manifests | length) >= 1' "$dir/index.json" >/dev/null 2>&1 &&
    ok "[$c] index.json has schemaVersion 2 and manifests" ||
    not_ok "[$c] index.json has schemaVersion 2 and manifests: $(head -c 300 "$dir/index.json" 2>&1)"
  for f in "$dir"/blobs/sha256/*; do
    [[ -f $f ]] || continue
    want=$(basename "$f")
    got=$(sha256sum "$f" | cut -d' ' -f1)
    [[ $want == "$got" ]] || {
      bad=$((bad + 1))
      echo "#   blob $want hashes to $got"
    }
  done
  ((bad == 0)) && ok "[$c] every blob matches its digest" || not_ok "[$c] $bad blob(s) do not match"
  # Every descriptor (index -> manifests -> config + layers) points at a blob of that size.
  bad=0
  local d s m
  while read -r d s; do
    f=$dir/blobs/sha256/${d#sha256:}
    if [[ ! -f $f ]]; then
      echo "#   missing blob $d"
      bad=$((bad + 1))
    elif [[ $(stat -c %s "$f") != "$s" ]]; then
      echo "#   blob $d has size $(stat -c %s "$f"), descriptor says $s"
      bad=$((bad + 1))
    fi
  done < <(
    jq -r '.manifests[] | "\(.digest) \(.size)"' "$dir/index.json"
    for m in $(jq -r '.manifests[].digest' "$dir/index.json"); do
      jq -r '(.config, .layers[]) | "\(.digest) \(.size)"' "$dir/blobs/sha256/${m#sha256:}" 2>/dev/null
    done
  )
  ((bad == 0)) && ok "[$c] every descriptor names an existing blob of that size" ||
    not_ok "[$c] $bad descriptor(s) wrong"
}

# check_rich_rootfs CASE DIR: the fixture image rich:1, unpacked.
check_rich_rootfs() {
  local c=$1 r=$2 problems=()
  [[ -e $r/k || -e $r/data/del.txt || -e $r/data/gone ]] && problems+=("whited-out paths exist")
  [[ $(cd "$r/data/opq" 2>/dev/null && ls -A | tr '\n' ' ') == "c " ]] ||
    problems+=("opaque /data/opq holds: $(ls -A "$r/data/opq" 2>&1 | tr '\n' ' ')")
  [[ $(cat "$r/data/keep/k" 2>&1) == $'keep\nappended' ]] || problems+=("/data/keep/k content")
  [[ $(stat -c %i "$r/links/orig" 2>&1) == $(stat -c %i "$r/links/hard" 2>&1) &&
    $(stat -c %i "$r/links/orig" 2>&1) == $(stat -c %i "$r/links/hard2" 2>&1) ]] ||
    problems+=("/links/orig, hard, hard2 are not one inode")
  [[ $(stat -c %i "$r/links/hl-lower" 2>&1) == $(stat -c %i "$r/data/hl-src" 2>&1) ]] ||
    problems+=("/links/hl-lower is not a hard link of /data/hl-src")
  [[ $(readlink "$r/links/rel") == orig && $(readlink "$r/links/abs") == /links/orig &&
    $(readlink "$r/links/dangling") == /does/not/exist ]] || problems+=("symlink targets")
  local deep
  deep=$(find "$r/long" -name deep-file.txt 2>/dev/null | head -n1)
  [[ -n $deep && $(cat "$deep") == deep && ${#deep} -gt $((${#r} + 300)) ]] ||
    problems+=("deep path > 255 bytes missing")
  [[ $(find "$r/long" -maxdepth 1 -name 'nnnn*' | xargs -r basename | tr -d '\n' | wc -c) == 150 ]] ||
    problems+=("150-byte name missing")
  [[ -f "$r/unicode/héllo wörld ☃ 日本語.txt" && $(readlink "$r/unicode/lien-ü") == 'héllo wörld ☃ 日本語.txt' ]] ||
    problems+=("non-ASCII names")
  [[ -p $r/special/fifo ]] || problems+=("/special/fifo is not a fifo")
  [[ $(stat -c '%F %t,%T' "$r/special/null" 2>&1) == "character special file 1,3" ]] ||
    problems+=("/special/null: $(stat -c '%F %t,%T' "$r/special/null" 2>&1)")
  [[ $(stat -c %a "$r/special/setuid") == 4755 && $(stat -c %a "$r/special/sticky") == 1777 ]] ||
    problems+=("setuid/sticky modes")
  python3 -c 'import os,sys; sys.exit(0 if os.getxattr(sys.argv[1], "security.capability") else 1)' \
    "$r/caps/pinger" 2>/dev/null || problems+=("/caps/pinger lost security.capability")
  [[ -x $r/bin/busybox && $(readlink "$r/bin/sh") == busybox ]] || problems+=("base layer files")
  if ((${#problems[@]} == 0)); then
    ok "[$c] unpacked rootfs has the fixture's content"
  else
    not_ok "[$c] unpacked rootfs has the fixture's content"
    printf '#   %s\n' "${problems[@]}"
  fi
}

# umoci_check CASE LAYOUT TAG
umoci_check() {
  local out
  rm -rf "$WORK/bundle"
  if out=$(umoci unpack --image "$2:$3" "$WORK/bundle" 2>&1); then
    ok "[$1] umoci unpack --image $(basename "$2"):$3"
    check_rich_rootfs "$1" "$WORK/bundle/rootfs"
  else
    not_ok "[$1] umoci unpack --image $(basename "$2"):$3: $(tail -n 3 <<<"$out")"
  fi
  rm -rf "$WORK/bundle"
}

# --- strata save --format oci
CASE=save-oci
srun save --format oci -o "$WORK/rich-oci.tar" "$R/rich:1"
assert_eq 0 "$RC" "[$CASE] strata save --format oci: $ERR"
if ((RC == 0)); then
  mkdir -p "$WORK/rich-oci"
  tar -C "$WORK/rich-oci" -xf "$WORK/rich-oci.tar"
  verify_layout "$CASE" "$WORK/rich-oci"
  raw=$(skopeo inspect --raw "oci-archive:$WORK/rich-oci.tar" 2>&1) || true
  assert_eq "$RICH_ID" "$(jq -r .config.digest <<<"$raw" 2>&1)" \
    "[$CASE] skopeo: manifest's config digest is the image ID (config bytes kept)"
  assert_eq "$RICH_LAYERS" "$(skopeo inspect --config "oci-archive:$WORK/rich-oci.tar" 2>&1 |
    jq -c .rootfs.diff_ids 2>&1)" "[$CASE] skopeo: config diff_ids"
  tag=$(jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"] // empty' \
    "$WORK/rich-oci/index.json")
  note "[$CASE] index.json ref.name annotation: '${tag}'"
  [[ -n $tag ]] && umoci_check "$CASE" "$WORK/rich-oci" "$tag" ||
    not_ok "[$CASE] index.json names the image (org.opencontainers.image.ref.name)"
  out=$(skopeo copy -q "oci-archive:$WORK/rich-oci.tar" "oci:$WORK/rich-oci-copy:x" 2>&1) &&
    ok "[$CASE] skopeo copy oci-archive -> oci" || not_ok "[$CASE] skopeo copy oci-archive -> oci: $out"
fi

if ! has_strata_cmd copy; then
  not_ok "strata has no 'copy' subcommand: oci:, oci-archive:, dir:, docker-archive: transports untested"
else

# --- strata copy to oci: (two images in one layout), oci-archive:, dir:, docker-archive:
CASE=copy-oci
srun copy "$R/rich:1" "oci:$WORK/layout:rich"
assert_eq 0 "$RC" "[$CASE] strata copy $R/rich:1 oci:DIR:rich: $ERR"
srun copy "$R/paxattr:1" "oci:$WORK/layout:pax"
assert_eq 0 "$RC" "[$CASE] strata copy $R/paxattr:1 oci:DIR:pax (same layout): $ERR"
if [[ -f $WORK/layout/index.json ]]; then
  verify_layout "$CASE" "$WORK/layout"
  assert_eq "pax rich" "$(jq -r '[.manifests[].annotations["org.opencontainers.image.ref.name"]] | sort | join(" ")' \
    "$WORK/layout/index.json")" "[$CASE] index.json lists both tags"
  assert_eq "$RICH_ID" "$(skopeo inspect --raw "oci:$WORK/layout:rich" 2>&1 | jq -r .config.digest 2>&1)" \
    "[$CASE] skopeo: oci:DIR:rich config digest"
  assert_eq "$PAXATTR_ID" "$(skopeo inspect --raw "oci:$WORK/layout:pax" 2>&1 | jq -r .config.digest 2>&1)" \
    "[$CASE] skopeo: oci:DIR:pax config digest"
  umoci_check "$CASE" "$WORK/layout" rich
  out=$(skopeo copy -q "oci:$WORK/layout:rich" "docker-archive:$WORK/via-skopeo.tar:$R/rich:via" 2>&1) &&
    ok "[$CASE] skopeo copy oci -> docker-archive" ||
    not_ok "[$CASE] skopeo copy oci -> docker-archive: $out"
fi

CASE=copy-oci-archive
srun copy "$R/rich:1" "oci-archive:$WORK/copy.tar"
assert_eq 0 "$RC" "[$CASE] strata copy to oci-archive: $ERR"
assert_eq "$RICH_ID" "$(skopeo inspect --raw "oci-archive:$WORK/copy.tar" 2>&1 | jq -r .config.digest 2>&1)" \
  "[$CASE] skopeo reads it; config digest"

CASE=copy-dir
srun copy "$R/rich:1" "dir:$WORK/dirout"
assert_eq 0 "$RC" "[$CASE] strata copy to dir: $ERR"
assert_eq "$RICH_ID" "$(skopeo inspect --raw "dir:$WORK/dirout" 2>&1 | jq -r .config.digest 2>&1)" \
  "[$CASE] skopeo reads it; config digest"
assert_eq "$RICH_LAYERS" "$(skopeo inspect --config "dir:$WORK/dirout" 2>&1 | jq -c .rootfs.diff_ids 2>&1)" \
  "[$CASE] skopeo: config diff_ids"
out=$(skopeo copy -q "dir:$WORK/dirout" "oci:$WORK/from-dir:x" 2>&1) &&
  ok "[$CASE] skopeo copy dir -> oci (reads every blob)" || not_ok "[$CASE] skopeo copy dir -> oci: $out"

CASE=copy-docker-archive
srun copy "$R/rich:1" "docker-archive:$WORK/da.tar"
assert_eq 0 "$RC" "[$CASE] strata copy to docker-archive: $ERR"
assert_eq "$RICH_ID" "$(skopeo inspect --raw "docker-archive:$WORK/da.tar" 2>&1 | jq -r .config.digest 2>&1)" \
  "[$CASE] skopeo reads it; config digest"

# --- skopeo-written images into strata
# skopeo re-encodes the config when it converts docker -> OCI, so the expected image ID is the
# config digest skopeo wrote; the layers (diff_ids) stay the fixture's.
import_case() {
  local c=$1 src=$2 name=$3 want_id=$4
  CASE=$c
  srun copy "$src" "$name"
  assert_eq 0 "$RC" "[$c] strata copy ${src%%:*}:... $name: $ERR"
  ((RC == 0)) || return 0
  srun inspect "$name"
  assert_eq "$want_id" "$(jq -r '.[0].Id' <<<"$OUT" 2>&1)" "[$c] image ID"
  assert_eq "$RICH_LAYERS" "$(jq -c '.[0].RootFS.Layers' <<<"$OUT" 2>&1)" "[$c] RootFS.Layers"
}

skopeo copy -q "docker-archive:$FIX/rich.tar" "oci:$WORK/sk-oci:rich"
import_case skopeo-oci-gzip "oci:$WORK/sk-oci:rich" "$R/rich:from-oci" \
  "$(skopeo inspect --raw "oci:$WORK/sk-oci:rich" | jq -r .config.digest)"
SK_OCI_MANIFEST=$(jq -r '.manifests[0].digest' "$WORK/sk-oci/index.json")

# The store keeps the gzip blobs and skopeo's manifest: exporting writes the same bytes again.
CASE=roundtrip-oci
srun copy "$R/rich:from-oci" "oci:$WORK/rt:rich"
assert_eq 0 "$RC" "[$CASE] strata copy back to oci: $ERR"
if ((RC == 0)); then
  assert_eq "$SK_OCI_MANIFEST" "$(jq -r '.manifests[0].digest' "$WORK/rt/index.json")" \
    "[$CASE] manifest digest unchanged through the store"
  verify_layout "$CASE" "$WORK/rt"
  assert_eq "$SK_OCI_MANIFEST" "sha256:$(skopeo inspect --raw "oci:$WORK/rt:rich" | sha256sum | cut -d' ' -f1)" \
    "[$CASE] skopeo reads the same manifest"
  umoci_check "$CASE" "$WORK/rt" rich
fi

# Between two transports other than the store, blobs and manifest are copied as they are.
CASE=oci-to-dir
srun copy "oci:$WORK/sk-oci:rich" "dir:$WORK/oci-as-dir"
assert_eq 0 "$RC" "[$CASE] strata copy oci: -> dir: $ERR"
assert_eq "$SK_OCI_MANIFEST" "$(sha256_file "$WORK/oci-as-dir/manifest.json")" \
  "[$CASE] dir:/manifest.json is skopeo's manifest"
assert_eq "Directory Transport Version: 1.1" "$(cat "$WORK/oci-as-dir/version" 2>&1)" "[$CASE] version file"
out=$(skopeo copy -q "dir:$WORK/oci-as-dir" "oci:$WORK/dir-back:rich" 2>&1) &&
  ok "[$CASE] skopeo copy dir -> oci" || not_ok "[$CASE] skopeo copy dir -> oci: $out"
assert_eq "$SK_OCI_MANIFEST" "$(jq -r '.manifests[0].digest' "$WORK/dir-back/index.json" 2>&1)" \
  "[$CASE] and back to oci: with the same manifest digest"

# skopeo's own copies of a strata-written layout, read back by strata.
CASE=skopeo-roundtrip
if [[ -f $WORK/layout/index.json ]]; then
  out=$(skopeo copy -q "oci:$WORK/layout:rich" "dir:$WORK/sk-from-strata" 2>&1) &&
    ok "[$CASE] skopeo copy oci:strata-layout:rich dir:" || not_ok "[$CASE] skopeo copy oci -> dir: $out"
  out=$(skopeo copy -q "dir:$WORK/sk-from-strata" "oci:$WORK/sk-back:again" 2>&1) &&
    ok "[$CASE] skopeo copy dir: -> oci:" || not_ok "[$CASE] skopeo copy dir -> oci: $out"
  import_case skopeo-roundtrip-dir "dir:$WORK/sk-from-strata" "$R/rich:sk-dir" "$RICH_ID"
  import_case skopeo-roundtrip-oci "oci:$WORK/sk-back:again" "$R/rich:sk-back" "$RICH_ID"
fi

if skopeo copy -q --dest-compress-format zstd "docker-archive:$FIX/rich.tar" "oci:$WORK/sk-zstd:rich" 2>/dev/null; then
  import_case skopeo-oci-zstd "oci:$WORK/sk-zstd:rich" "$R/rich:from-zstd" \
    "$(skopeo inspect --raw "oci:$WORK/sk-zstd:rich" | jq -r .config.digest)"
else
  note "skopeo cannot write zstd layers here; zstd case not run"
fi

# dir: from a docker-archive keeps the docker config (same ID) and stores the layers
# uncompressed under a ...tar.gzip media type: strata must sniff, not trust the media type.
skopeo copy -q "docker-archive:$FIX/rich.tar" "dir:$WORK/sk-dir"
import_case skopeo-dir "dir:$WORK/sk-dir" "$R/rich:from-dir" "$RICH_ID"
CASE=roundtrip-dir
srun copy "$R/rich:from-dir" "dir:$WORK/rt-dir"
assert_eq 0 "$RC" "[$CASE] strata copy back to dir: $ERR"
assert_eq "$(sha256_file "$WORK/sk-dir/manifest.json")" "$(sha256_file "$WORK/rt-dir/manifest.json" 2>&1)" \
  "[$CASE] skopeo's Docker schema2 manifest comes back unchanged"

skopeo copy -q "docker-archive:$FIX/rich.tar" "oci-archive:$WORK/sk-oci-archive.tar:rich"
import_case skopeo-oci-archive "oci-archive:$WORK/sk-oci-archive.tar" "$R/rich:from-oci-archive" \
  "$(skopeo inspect --raw "oci-archive:$WORK/sk-oci-archive.tar" | jq -r .config.digest)"

# --- `load` recognises an OCI archive (index.json + oci-layout, no manifest.json)
CASE=load-oci-archive
SK_ARCHIVE_ID=$(skopeo inspect --raw "oci-archive:$WORK/sk-oci-archive.tar" | jq -r .config.digest)
strata rmi -f "$SK_ARCHIVE_ID" >/dev/null 2>&1 || true
srun load -i "$WORK/sk-oci-archive.tar"
assert_eq "0 Loaded image ID: $SK_ARCHIVE_ID" "$RC $OUT" "[$CASE] strata load -i skopeo's oci-archive: $ERR"
if [[ -f $WORK/rich-oci.tar ]]; then
  strata rmi -f "$R/rich:1" >/dev/null 2>&1 || true
  srun load -i "$WORK/rich-oci.tar"
  assert_eq "0 Loaded image: $R/rich:1" "$RC $OUT" "[$CASE] strata load -i of its own save --format oci: $ERR"
  assert_eq "$RICH_ID" "$(strata inspect "$R/rich:1" 2>&1 | jq -r '.[0].Id' 2>&1)" "[$CASE] image ID"
fi

# --- a layout whose layer blob was altered must be refused, leaving the store as it was
CASE=tampered-oci
cp -a "$WORK/sk-oci" "$WORK/tampered"
m=$(jq -r '.manifests[0].digest' "$WORK/tampered/index.json")
l=$(jq -r '.layers[-1].digest' "$WORK/tampered/blobs/sha256/${m#sha256:}")
python3 - "$WORK/tampered/blobs/sha256/${l#sha256:}" <<'PY'
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
b[len(b) // 2] ^= 0xFF
open(p, 'wb').write(bytes(b))
PY
before=$(store_state)
srun copy "oci:$WORK/tampered:rich" "$R/rich:tampered"
assert_ne 0 "$RC" "[$CASE] strata copy of a layout with a corrupted layer blob fails"
assert_match "${l#sha256:}|${l:7:12}|digest" "$ERR" "[$CASE] message names the blob or a digest"
assert_same_text "$before" "$(store_state)" "[$CASE] store unchanged"

# --- multi-platform indexes: --platform for every transport, --all (issue 11, items 5 and 15)
# A layout with two images (rich as linux/amd64, paxattr as linux/arm64/v8: their configs are
# rewritten to say so) under one index, made by hand, then copied by skopeo --all so that the
# index strata reads is skopeo's.
CASE=index-platform
skopeo copy -q "docker-archive:$FIX/rich.tar" "oci:$WORK/hand:amd" &&
  skopeo copy -q "docker-archive:$FIX/paxattr.tar" "oci:$WORK/hand:arm" ||
  fatal "skopeo copy of the fixtures into oci:$WORK/hand failed"
read -r AMD_ID ARM_ID < <(python3 - "$WORK/hand" <<'PY'
import hashlib, json, sys
d = sys.argv[1]
def blob(digest):
    return open(f"{d}/blobs/sha256/{digest.split(':')[1]}", "rb").read()
def put(data):
    h = hashlib.sha256(data).hexdigest()
    open(f"{d}/blobs/sha256/{h}", "wb").write(data)
    return "sha256:" + h
index = json.load(open(f"{d}/index.json"))
by_tag = {m["annotations"]["org.opencontainers.image.ref.name"]: m for m in index["manifests"]}
entries, ids = [], []
for tag, arch, variant in (("amd", "amd64", None), ("arm", "arm64", "v8")):
    manifest = json.loads(blob(by_tag[tag]["digest"]))
    config = json.loads(blob(manifest["config"]["digest"]))
    config["architecture"] = arch
    platform = {"architecture": arch, "os": "linux"}
    if variant:
        config["variant"] = variant
        platform["variant"] = variant
    config_bytes = json.dumps(config).encode()
    manifest["config"]["digest"] = put(config_bytes)
    manifest["config"]["size"] = len(config_bytes)
    ids.append(manifest["config"]["digest"])
    manifest_bytes = json.dumps(manifest).encode()
    entries.append({"mediaType": "application/vnd.oci.image.manifest.v1+json",
                    "digest": put(manifest_bytes), "size": len(manifest_bytes),
                    "platform": platform})
index_bytes = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                          "manifests": entries}).encode()
index["manifests"].append({"mediaType": "application/vnd.oci.image.index.v1+json",
                           "digest": put(index_bytes), "size": len(index_bytes),
                           "annotations": {"org.opencontainers.image.ref.name": "multi"}})
json.dump(index, open(f"{d}/index.json", "w"))
print(*ids)
PY
)
out=$(skopeo copy -q --all "oci:$WORK/hand:multi" "oci:$WORK/multi:multi" 2>&1) ||
  fatal "skopeo copy --all of the hand-made index failed: $out"
for want in "linux/arm64 $ARM_ID arm64" "linux/arm64/v8 $ARM_ID arm64" "linux/amd64 $AMD_ID amd64"; do
  read -r platform id arch <<<"$want"
  srun copy --platform "$platform" "oci:$WORK/multi:multi" "$R/multi:${arch}"
  assert_eq 0 "$RC" "[$CASE] strata copy --platform $platform oci:DIR:multi: $ERR"
  srun inspect "$R/multi:${arch}"
  assert_eq "$id $arch" "$(jq -r '.[0] | "\(.Id) \(.Architecture)"' <<<"$OUT" 2>&1)" \
    "[$CASE] --platform $platform stored the $arch image"
done
for src in "oci:$WORK/multi:multi" "oci-archive:$WORK/multi.tar:multi"; do
  [[ $src == oci-archive:* ]] && skopeo copy -q --all "oci:$WORK/multi:multi" "$src"
  before=$(store_state)
  srun copy --platform linux/s390x "$src" "$R/multi:s390x"
  assert_ne 0 "$RC" "[$CASE] --platform linux/s390x (not in the index) from ${src%%:*}: fails"
  assert_match "linux/s390x.*linux/amd64, linux/arm64/v8" "$ERR" \
    "[$CASE] the message names the platform and the ones the index has"
  assert_same_text "$before" "$(store_state)" "[$CASE] store unchanged"
done
srun copy --platform linux/arm64 "oci-archive:$WORK/multi.tar:multi" "$R/multi:from-archive"
assert_eq "0 $ARM_ID" "$RC $(strata_image_id "$R/multi:from-archive" 2>&1)" \
  "[$CASE] oci-archive: --platform linux/arm64 stores the arm64 image: $ERR"

CASE=copy-all
srun copy --all "oci:$WORK/multi:multi" "oci:$WORK/all:every"
assert_eq 0 "$RC" "[$CASE] strata copy --all oci: -> oci: $ERR"
raw=$(skopeo inspect --raw "oci:$WORK/all:every" 2>&1) || true
assert_eq "application/vnd.oci.image.index.v1+json 2" "$(jq -r '"\(.mediaType) \(.manifests | length)"' <<<"$raw" 2>&1)" \
  "[$CASE] skopeo reads an index of both images"
out=$(skopeo copy -q --all "oci:$WORK/all:every" "oci:$WORK/all-back:x" 2>&1) &&
  ok "[$CASE] skopeo copy --all reads every image strata wrote" || not_ok "[$CASE] skopeo copy --all: $out"
out=$(umoci ls --layout "$WORK/all" 2>&1) && [[ $out == *every* ]] &&
  ok "[$CASE] umoci ls lists the tag" || not_ok "[$CASE] umoci ls --layout: $out"
srun copy "oci:$WORK/multi:multi" "oci:$WORK/one:x"
assert_eq "0 application/vnd.oci.image.manifest.v1+json" \
  "$RC $(skopeo inspect --raw "oci:$WORK/one:x" 2>&1 | jq -r .mediaType 2>&1)" \
  "[$CASE] without --all one image is copied: $ERR"
before=$(store_state)
srun copy --all "oci:$WORK/multi:multi" "$R/multi:all"
assert_ne 0 "$RC" "[$CASE] --all into the store (no indexes there) fails"
assert_match "copy --all" "$ERR" "[$CASE] ... saying why"
assert_same_text "$before" "$(store_state)" "[$CASE] store unchanged"

# --- docker:// -> oci: and oci-archive: (item 6): the registry holds Docker schema2 manifests,
# which an OCI layout stores as OCI manifests (skopeo reads nothing else from index.json).
CASE=registry-to-oci
start_registry REG
push_fixture_with_skopeo "$FIX/rich.tar" "$REG_ADDR/it/rich:1" >/dev/null || fatal "push rich to $REG_ADDR"
srun copy "docker://$REG_ADDR/it/rich:1" "oci:$WORK/from-reg:rich"
assert_eq 0 "$RC" "[$CASE] strata copy docker:// oci:DIR:TAG: $ERR"
if ((RC == 0)); then
  verify_layout "$CASE" "$WORK/from-reg"
  assert_eq "$RICH_ID" "$(skopeo inspect --raw "oci:$WORK/from-reg:rich" 2>&1 | jq -r .config.digest 2>&1)" \
    "[$CASE] skopeo inspect oci:DIR:TAG reads it (config kept)"
  out=$(umoci ls --layout "$WORK/from-reg" 2>&1) && [[ $out == rich ]] &&
    ok "[$CASE] umoci ls --layout" || not_ok "[$CASE] umoci ls --layout: $out"
  umoci_check "$CASE" "$WORK/from-reg" rich
fi
srun copy "docker://$REG_ADDR/it/rich:1" "oci-archive:$WORK/from-reg.tar:rich"
assert_eq 0 "$RC" "[$CASE] strata copy docker:// oci-archive: $ERR"
assert_eq "application/vnd.oci.image.manifest.v1+json $RICH_ID" \
  "$(skopeo inspect --raw "oci-archive:$WORK/from-reg.tar:rich" 2>&1 | jq -r '"\(.mediaType) \(.config.digest)"' 2>&1)" \
  "[$CASE] skopeo inspect oci-archive: reads an OCI manifest"
# --all to a registry and back (the index and both images by digest)
srun copy --all "oci:$WORK/multi:multi" "docker://$REG_ADDR/it/multi:1"
assert_eq 0 "$RC" "[$CASE] strata copy --all oci: docker://: $ERR"
raw=$(skopeo inspect --tls-verify=false --raw "docker://$REG_ADDR/it/multi:1" 2>&1) || true
assert_eq "2" "$(jq -r '.manifests | length' <<<"$raw" 2>&1)" "[$CASE] the registry has the index"
out=$(skopeo copy -q --all --src-tls-verify=false "docker://$REG_ADDR/it/multi:1" "oci:$WORK/reg-all:x" 2>&1) &&
  ok "[$CASE] skopeo copy --all reads every image back" || not_ok "[$CASE] skopeo copy --all from the registry: $out"
# --dest-tls-verify / --src-tls-verify: verifying TLS against a plain-http registry must fail.
# (dir:$WORK/sk-dir holds a Docker schema2 manifest, which strata reads back from a registry.)
srun copy --dest-tls-verify "dir:$WORK/sk-dir" "docker://$REG_ADDR/it/tls:1"
assert_ne 0 "$RC" "[$CASE] --dest-tls-verify against a plain-http registry fails"
srun copy --dest-tls-verify=false "dir:$WORK/sk-dir" "docker://$REG_ADDR/it/tls:1"
assert_eq 0 "$RC" "[$CASE] --dest-tls-verify=false pushes: $ERR"
srun copy --src-tls-verify "docker://$REG_ADDR/it/tls:1" "oci:$WORK/tls:x"
assert_ne 0 "$RC" "[$CASE] --src-tls-verify against a plain-http registry fails"
srun copy --src-tls-verify=false "docker://$REG_ADDR/it/tls:1" "oci:$WORK/tls:x"
assert_eq 0 "$RC" "[$CASE] --src-tls-verify=false pulls: $ERR"

CASE=copy-creds
start_registry AUTH --htpasswd alice:secret1
srun copy "dir:$WORK/sk-dir" "docker://$AUTH_ADDR/it/creds:1"
assert_ne 0 "$RC" "[$CASE] without credentials the push is refused"
srun copy --dest-creds alice:wrong "dir:$WORK/sk-dir" "docker://$AUTH_ADDR/it/creds:1"
assert_ne 0 "$RC" "[$CASE] --dest-creds with a wrong password is refused"
srun copy --dest-creds alice:secret1 "dir:$WORK/sk-dir" "docker://$AUTH_ADDR/it/creds:1"
assert_eq 0 "$RC" "[$CASE] --dest-creds alice:secret1 pushes: $ERR"
srun copy "docker://$AUTH_ADDR/it/creds:1" "oci:$WORK/creds-none:x"
assert_ne 0 "$RC" "[$CASE] without --src-creds the pull is refused"
srun copy --src-creds alice:secret1 "docker://$AUTH_ADDR/it/creds:1" "oci:$WORK/creds:x"
assert_eq 0 "$RC" "[$CASE] --src-creds alice:secret1 pulls: $ERR"

# --- `load` of an OCI archive from stdin (item 12): a pipe and a redirected file
CASE=load-oci-stdin
strata rmi -f "$SK_ARCHIVE_ID" >/dev/null 2>&1 || true
RC=0
OUT=$(cat "$WORK/sk-oci-archive.tar" | strata load 2>"$WORK/load.err") || RC=$?
assert_eq "0 Loaded image ID: $SK_ARCHIVE_ID" "$RC $OUT" "[$CASE] cat oci-archive | strata load: $(cat "$WORK/load.err")"
strata rmi -f "$SK_ARCHIVE_ID" >/dev/null 2>&1 || true
RC=0
OUT=$(gzip -c "$WORK/sk-oci-archive.tar" | strata load 2>"$WORK/load.err") || RC=$?
assert_eq "0 Loaded image ID: $SK_ARCHIVE_ID" "$RC $OUT" "[$CASE] gzip'd oci-archive | strata load: $(cat "$WORK/load.err")"
strata rmi -f "$SK_ARCHIVE_ID" >/dev/null 2>&1 || true
RC=0
OUT=$(strata load <"$WORK/sk-oci-archive.tar" 2>"$WORK/load.err") || RC=$?
assert_eq "0 Loaded image ID: $SK_ARCHIVE_ID" "$RC $OUT" "[$CASE] strata load < oci-archive: $(cat "$WORK/load.err")"

# --- progress bars on a terminal, nothing extra elsewhere (item 14)
# on_pty CMD...: runs CMD with stdout and stderr on a pseudo-terminal; prints what it wrote.
on_pty() {
  python3 - "$@" <<'PY'
import os, pty, subprocess, sys
master, slave = pty.openpty()
p = subprocess.Popen(sys.argv[1:], stdin=subprocess.DEVNULL, stdout=slave, stderr=slave)
os.close(slave)
out = b""
while True:
    try:
        data = os.read(master, 65536)
    except OSError:
        break
    if not data:
        break
    out += data
rc = p.wait()
sys.stdout.buffer.write(out)
sys.exit(rc)
PY
}
CASE=progress
BAR='[0-9a-f]{12}: VERB \[=+>? *\] +[0-9.]+ ?[kMG]?B/[0-9.]+ ?[kMG]?B'
out=$(on_pty "$STRATA" --root "$WORK/pty-root" load -i "$FIX/rich.tar" 2>&1) && rc=0 || rc=$?
assert_eq 0 "$rc" "[$CASE] load on a terminal"
assert_match "${BAR/VERB/Loading layer}" "$out" "[$CASE] load on a terminal: a 'Loading layer' bar per layer"
assert_match "Loaded image: $R/rich:1" "$out" "[$CASE] ... then what it loaded"
rows=$(grep -aoE '[0-9a-f]{12}: Loading layer' <<<"$out" | sort -u | wc -l)
assert_eq "$(tar -tvf "$FIX/rich.tar" | grep -c '^-.*/layer\.tar$')" "$rows" \
  "[$CASE] one row per layer.tar read"
[[ $out != *" 3B/3B"* ]] && ok "[$CASE] no bar for the 3-byte VERSION members" ||
  not_ok "[$CASE] a VERSION member got a bar"
out=$("$STRATA" --root "$WORK/pipe-root" load -i "$FIX/rich.tar" 2>&1 | cat) || true
assert_eq "Loaded image: $R/rich:1" "$out" "[$CASE] load into a pipe: no bars"
out=$(on_pty "$STRATA" --root "$WORK/pty-root" save -o "$WORK/pty-save.tar" "$R/rich:1" 2>&1) || true
assert_match "${BAR/VERB/Saving layer}" "$out" "[$CASE] save -o on a terminal: 'Saving layer' bars"
out=$("$STRATA" --root "$WORK/pty-root" save -o "$WORK/pipe-save.tar" "$R/rich:1" 2>&1 | cat) || true
assert_eq "" "$out" "[$CASE] save -o into a pipe: nothing"
out=$(on_pty "$STRATA" --root "$WORK/pty-root" copy "$R/rich:1" "oci:$WORK/pty-oci:x" 2>&1) || true
assert_match "${BAR/VERB/Copying blob}" "$out" "[$CASE] copy on a terminal: 'Copying blob' bars"
assert_match "Writing manifest to image destination" "$out" "[$CASE] ... and skopeo's closing line"
out=$("$STRATA" --root "$WORK/pty-root" copy "$R/rich:1" "oci:$WORK/pipe-oci:x" 2>&1 | cat) || true
[[ $out != *$'\e['* && $out == *"Copying blob sha256:"* ]] &&
  ok "[$CASE] copy into a pipe: skopeo's lines, no bars" || not_ok "[$CASE] copy into a pipe: $out"

fi # has copy

skopeo copy -q "docker-archive:$FIX/rich.tar" "docker-archive:$WORK/sk-docker.tar:$R/rich:sk"
CASE=skopeo-docker-archive
srun load -i "$WORK/sk-docker.tar"
assert_eq "0 Loaded image: $R/rich:sk" "$RC $OUT" "[$CASE] strata load of skopeo's docker-archive: $ERR"
assert_eq "$RICH_ID" "$(strata inspect "$R/rich:sk" 2>&1 | jq -r '.[0].Id' 2>&1)" "[$CASE] image ID"

finish
