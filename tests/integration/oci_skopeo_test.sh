#!/usr/bin/env bash
# OCI layout, oci-archive and dir: output of strata checked by skopeo and umoci, and the
# reverse: layouts written by skopeo (gzip, zstd, docker-archive quirks) read by strata.
# Every blob is checked against its digest; umoci's unpack of strata's layout must show the
# fixture's filesystem (whiteouts applied, opaque dir, hard links, specials, xattrs).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
need_peer jq skopeo umoci python3
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

fi # has copy

skopeo copy -q "docker-archive:$FIX/rich.tar" "docker-archive:$WORK/sk-docker.tar:$R/rich:sk"
CASE=skopeo-docker-archive
srun load -i "$WORK/sk-docker.tar"
assert_eq "0 Loaded image: $R/rich:sk" "$RC $OUT" "[$CASE] strata load of skopeo's docker-archive: $ERR"
assert_eq "$RICH_ID" "$(strata inspect "$R/rich:sk" 2>&1 | jq -r '.[0].Id' 2>&1)" "[$CASE] image ID"

finish
