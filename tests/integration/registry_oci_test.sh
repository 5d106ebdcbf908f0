#!/usr/bin/env bash
# OCI manifests and indexes in real registries: skopeo pushes the rich fixture with an OCI
# manifest (gzip and zstd layers) into Debian's docker-registry and into `strata registry serve`;
# strata pulls each by tag and by digest, through an OCI index and a Docker manifest list naming
# an OCI manifest, and through an OCI index naming a Docker manifest; every pull gives docker's
# image ID and reports the digest it was asked for, and pushing or copying the pulled image back
# keeps the manifest's digest and media type. docker pulls the same OCI image to the same ID.
# (Issue 11, item 1: the OCI manifest type was once taken for a schema 1 manifest.)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer docker docker-registry skopeo python3 jq curl
ensure_fixtures
need_strata_cmd pull push copy "registry serve"

OCI_MANIFEST=application/vnd.oci.image.manifest.v1+json
OCI_INDEX=application/vnd.oci.image.index.v1+json
DOCKER_MANIFEST=application/vnd.docker.distribution.manifest.v2+json
DOCKER_LIST=application/vnd.docker.distribution.manifest.list.v2+json

# content_type ADDR REPO REF: the Content-Type the registry serves the manifest with.
content_type() {
  curl -s -o /dev/null -w '%{content_type}' -H "Accept: $MANIFEST_ACCEPT" \
    "http://$1/v2/$2/manifests/$3" | cut -d';' -f1
}
# manifest_bytes ADDR REPO REF: the manifest as served.
manifest_bytes() {
  curl -s -H "Accept: $MANIFEST_ACCEPT" "http://$1/v2/$2/manifests/$3"
}
# put_manifest ADDR REPO REF TYPE FILE: PUT a manifest or index; fatal unless 201.
put_manifest() {
  local code
  code=$(curl -s -o "$WORK/put.out" -w '%{http_code}' -X PUT -H "Content-Type: $4" \
    --data-binary @"$5" "http://$1/v2/$2/manifests/$3")
  [[ $code == 201 ]] || fatal "PUT $4 to $1/$2:$3: HTTP $code $(cat "$WORK/put.out")"
}
# index_entry ADDR REPO DIGEST: an index entry for linux/amd64 naming that manifest.
index_entry() {
  local type size
  type=$(content_type "$1" "$2" "$3")
  size=$(manifest_bytes "$1" "$2" "$3" | wc -c)
  jq -nc --arg t "$type" --arg d "$3" --argjson s "$size" \
    '{mediaType: $t, digest: $d, size: $s, platform: {architecture: "amd64", os: "linux"}}'
}

# Strata's own registry, from a store of its own.
SRV_ROOT=$WORK/server-root
SRV_PORT=$(_free_port)
_spawn SRV_PID "$WORK/serve.log" "$STRATA" --root "$SRV_ROOT" registry serve --addr "127.0.0.1:$SRV_PORT"
for ((i = 0; i < 200; i++)); do
  [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$SRV_PORT/v2/" || true) == 200 ]] && break
  sleep 0.05
done
start_registry REG

n=0
for ADDR in "$REG_ADDR" "127.0.0.1:$SRV_PORT"; do
  n=$((n + 1))
  [[ $ADDR == "$REG_ADDR" ]] && WHO=docker-registry || WHO="strata registry serve"
  CASE="$WHO: oci manifest"
  OCI_DIGEST=$(push_fixture_with_skopeo "$FIX/rich.tar" "$ADDR/oci/app:1" --format oci) ||
    fatal "[$CASE] skopeo copy --format oci"
  assert_eq "$OCI_MANIFEST" "$(content_type "$ADDR" oci/app 1)" "[$CASE] skopeo pushed an OCI manifest"
  # A Docker schema 2 manifest of the same image, for the mixed index cases
  # (pushed before any zstd blob exists, which skopeo would try to reuse).
  DOCKER_DIGEST=$(push_fixture_with_skopeo "$FIX/rich.tar" "$ADDR/oci/v2s2:1" --format v2s2) ||
    fatal "skopeo copy --format v2s2"

  ROOT=$WORK/store-$n-oci
  srun pull "$ADDR/oci/app:1"
  assert_eq 0 "$RC" "[$CASE] strata pull of an OCI manifest: $ERR"
  assert_match "Digest: $OCI_DIGEST" "$OUT" "[$CASE] reports the manifest's digest"
  # skopeo's conversion to OCI rewrites the config, so the ID is the OCI config's digest.
  OCI_ID=$(manifest_bytes "$ADDR" oci/app 1 | jq -r .config.digest)
  assert_eq "$OCI_ID" "$(strata_image_id "$ADDR/oci/app:1")" "[$CASE] the image ID is the config's digest"
  srun pull "$ADDR/oci/app@$OCI_DIGEST"
  assert_eq 0 "$RC" "[$CASE] pull by digest: $ERR"

  # Pushed back unchanged, the manifest keeps its bytes, digest and media type.
  strata tag "$ADDR/oci/app:1" "$ADDR/oci/back:1"
  srun push "$ADDR/oci/back:1"
  assert_eq 0 "$RC" "[$CASE] strata push of the pulled OCI image: $ERR"
  assert_eq "$OCI_DIGEST" "$(registry_manifest_digest "$ADDR" oci/back 1)" "[$CASE] push keeps the digest"
  assert_eq "$OCI_MANIFEST" "$(content_type "$ADDR" oci/back 1)" "[$CASE] and the OCI media type"
  srun copy "docker://$ADDR/oci/app:1" "docker://$ADDR/oci/copied:1"
  assert_eq 0 "$RC" "[$CASE] strata copy docker:// -> docker://: $ERR"
  assert_eq "$OCI_DIGEST" "$(registry_manifest_digest "$ADDR" oci/copied 1)" "[$CASE] copy keeps the digest"
  srun copy "docker://$ADDR/oci/app:1" "oci:$WORK/layout-$n:app"
  assert_eq 0 "$RC" "[$CASE] strata copy docker:// -> oci:: $ERR"
  got=$(skopeo inspect --raw "oci:$WORK/layout-$n:app" 2>&1 | sha256sum | cut -d' ' -f1)
  assert_eq "$OCI_DIGEST" "sha256:$got" "[$CASE] the layout holds the same manifest (skopeo reads it)"

  CASE="$WHO: zstd layers"
  # Through an oci: layout, and with digests preserved: skopeo would otherwise reuse the gzip
  # blobs it knows the registry has.
  [[ -d $WORK/zstd-layout ]] || skopeo --policy "$WORK/skopeo-policy.json" copy -q \
    --dest-compress-format zstd "docker-archive:$FIX/rich.tar" "oci:$WORK/zstd-layout:1" ||
    fatal "[$CASE] skopeo copy --dest-compress-format zstd"
  ZSTD_DIGEST=$(push_fixture_with_skopeo "oci:$WORK/zstd-layout:1" "$ADDR/oci/zstd:1" --preserve-digests) ||
    fatal "[$CASE] skopeo copy of the zstd layout"
  manifest_bytes "$ADDR" oci/zstd 1 | jq -r '.layers[].mediaType' | sort -u >"$WORK/zstd-types"
  assert_eq "application/vnd.oci.image.layer.v1.tar+zstd" "$(cat "$WORK/zstd-types")" "[$CASE] setup"
  ROOT=$WORK/store-$n-zstd
  srun pull "$ADDR/oci/zstd:1"
  assert_eq 0 "$RC" "[$CASE] strata pull: $ERR"
  ZSTD_ID=$(manifest_bytes "$ADDR" oci/zstd 1 | jq -r .config.digest)
  assert_eq "$ZSTD_ID" "$(strata_image_id "$ADDR/oci/zstd:1")" "[$CASE] the config's digest"
  assert_eq "$(ROOT=$WORK/store-$n-oci && strata inspect "$ADDR/oci/app:1" | jq -c .[0].RootFS)" \
    "$(strata inspect "$ADDR/oci/zstd:1" | jq -c .[0].RootFS)" "[$CASE] the same diffIDs as gzip"
  strata tag "$ADDR/oci/zstd:1" "$ADDR/oci/zstdback:1"
  srun push "$ADDR/oci/zstdback:1"
  assert_eq 0 "$RC" "[$CASE] push back: $ERR"
  assert_eq "$ZSTD_DIGEST" "$(registry_manifest_digest "$ADDR" oci/zstdback 1)" "[$CASE] push keeps the digest"

  for pair in "$OCI_INDEX:$OCI_DIGEST" "$OCI_INDEX:$DOCKER_DIGEST" "$DOCKER_LIST:$OCI_DIGEST" \
    "$DOCKER_LIST:$DOCKER_DIGEST"; do
    top=${pair%:sha256:*}
    child=${pair#"$top":}
    [[ $child == "$OCI_DIGEST" ]] && child_repo=oci/app || child_repo=oci/v2s2
    [[ $top == "$OCI_INDEX" ]] && top_name=index || top_name=list
    [[ $child == "$OCI_DIGEST" ]] && child_name=oci || child_name=docker
    CASE="$WHO: $top_name of a $child_name manifest"
    repo=oci/$top_name-$child_name
    # The child manifest must be in the repository the index is pushed to.
    skopeo --policy "$WORK/skopeo-policy.json" copy -q --src-tls-verify=false --dest-tls-verify=false --preserve-digests \
      "docker://$ADDR/$child_repo@$child" "docker://$ADDR/$repo:child" >/dev/null 2>&1 ||
      fatal "[$CASE] skopeo copy of the child manifest"
    jq -n --arg t "$top" --argjson e "$(index_entry "$ADDR" "$repo" "$child")" \
      '{schemaVersion: 2, mediaType: $t, manifests: [$e]}' >"$WORK/index.json"
    put_manifest "$ADDR" "$repo" multi "$top" "$WORK/index.json"
    TOP_DIGEST=$(registry_manifest_digest "$ADDR" "$repo" multi)
    ROOT=$WORK/store-$n-$top_name-$child_name
    srun pull "$ADDR/$repo:multi"
    assert_eq 0 "$RC" "[$CASE] strata pull: $ERR"
    assert_match "Digest: $TOP_DIGEST" "$OUT" "[$CASE] reports the index's digest"
    [[ $child == "$OCI_DIGEST" ]] && want_id=$OCI_ID || want_id=$RICH_ID
    assert_eq "$want_id" "$(strata_image_id "$ADDR/$repo:multi")" "[$CASE] the child's image ID"
    srun copy "docker://$ADDR/$repo:multi" "docker://$ADDR/$repo:copied"
    assert_eq 0 "$RC" "[$CASE] strata copy: $ERR"
    assert_eq "$child" "$(registry_manifest_digest "$ADDR" "$repo" copied)" \
      "[$CASE] copy of the index without --all copies the platform's manifest, digest kept"
  done
done

# docker 20.10 pulls the OCI image to the same ID strata computed.
CASE=docker
start_private_dockerd PEER
DOCKER_HOST=$PEER dk pull -q "$REG_ADDR/oci/app:1" >/dev/null || fatal "docker pull of the OCI image"
assert_eq "$OCI_ID" "$(DOCKER_HOST=$PEER dk image inspect -f '{{.Id}}' "$REG_ADDR/oci/app:1")" \
  "[$CASE] docker pull of the OCI image gives the ID strata gave it"

# Item 11: an image pulled by digest into a repository where it has no tag, while it has a tag
# elsewhere, gets a "REPO <none>" row in `images`, as in docker.
CASE="digest-only reference"
DOCKER_HOST=$PEER dk pull -q "$REG_ADDR/oci/copied@$OCI_DIGEST" >/dev/null ||
  fatal "[$CASE] docker pull by digest"
ROOT=$WORK/store-digest-only
strata pull -q "$REG_ADDR/oci/app:1" >/dev/null || fatal "[$CASE] strata pull by tag"
srun pull "$REG_ADDR/oci/copied@$OCI_DIGEST"
assert_eq 0 "$RC" "[$CASE] strata pull by digest: $ERR"
rows() { awk 'NR > 1 {print $1, $2}' | sort; }
want=$(DOCKER_HOST=$PEER dk images | rows)
assert_match "$REG_ADDR/oci/copied <none>" "$want" "[$CASE] docker shows the digest-only row"
assert_eq "$want" "$(strata images | rows)" "[$CASE] images: the same repository and tag rows as docker"
rows() { awk 'NR > 1 {print $1, $2, $3}' | sort; }
assert_eq "$(DOCKER_HOST=$PEER dk images --digests | rows)" "$(strata images --digests | rows)" \
  "[$CASE] images --digests: the same rows as docker"

CASE=docker
DOCKER_HOST=$PEER dk pull -q "$REG_ADDR/oci/zstd:1" >/dev/null || fatal "docker pull of the zstd image"
assert_eq "$ZSTD_ID" "$(DOCKER_HOST=$PEER dk image inspect -f '{{.Id}}' "$REG_ADDR/oci/zstd:1")" \
  "[$CASE] docker pull of the zstd image gives the ID strata gave it"

finish
