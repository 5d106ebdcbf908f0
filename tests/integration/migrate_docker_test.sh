#!/usr/bin/env bash
# `strata migrate --from-docker` on a real Docker data root (current layout, overlay2): images
# loaded and built in a private dockerd, which is then stopped. Migrated images must have
# docker's image IDs, layers, tags, parent-based history and `save` output; the data root must
# not change; a second run skips everything; damaged layers fail only their images.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer jq docker-registry curl
ensure_fixtures
need_strata_cmd migrate

R=$FIXTURE_REPO
start_private_dockerd PEER
for a in family rich-alias paxattr gnutar; do
  DOCKER_HOST=$PEER dk load -i "$FIX/$a.tar" >/dev/null || fatal "docker load $a.tar"
done
# A build in this daemon, so that some layers come from overlay2's own diff rather than a load.
mkdir -p "$WORK/ctx"
cat >"$WORK/ctx/Dockerfile" <<DOCKERFILE
FROM $R/rich:1
RUN echo built > /built.txt && rm -rf /data/keep && mkdir -p /data/new && echo n > /data/new/f
COPY hello.txt /srv/hello.txt
CMD ["cat", "/built.txt"]
DOCKERFILE
echo hello >"$WORK/ctx/hello.txt"
DOCKER_BUILDKIT=0 DOCKER_HOST=$PEER dk build --network none -q -t "$R/built:1" "$WORK/ctx" \
  >"$WORK/build.log" 2>&1 || fatal "docker build failed: $(tail -5 "$WORK/build.log")"
DOCKER_HOST=$PEER dk tag "$R/built:1" "$R/built:other"
# A pulled image: its layers registered by a pull, and a name@digest reference in
# repositories.json.
start_registry REG
PULLED=$REG_ADDR/mig/gnutar:1
DOCKER_HOST=$PEER dk tag "$R/gnutar:1" "$PULLED"
DOCKER_HOST=$PEER dk push "$PULLED" >/dev/null || fatal "docker push $PULLED"
DOCKER_HOST=$PEER dk rmi "$R/gnutar:1" "$PULLED" >/dev/null || fatal "docker rmi gnutar"
DOCKER_HOST=$PEER dk pull "$PULLED" >/dev/null || fatal "docker pull $PULLED"
DOCKER_HOST=$PEER dk tag "$PULLED" "$R/gnutar:1"

IMAGES=("$R/rich:1" "$R/rich:alias" "$R/child:1" "$R/sibling:1" "$R/paxattr:1" "$R/gnutar:1"
  "$R/built:1" "$PULLED")
declare -A WANT_ID WANT_LAYERS WANT_HISTORY
WANT_DIGESTS=$(DOCKER_HOST=$PEER dk image inspect -f '{{json .RepoDigests}}' "$PULLED")
for ref in "${IMAGES[@]}"; do
  WANT_ID[$ref]=$(DOCKER_HOST=$PEER dk image inspect -f '{{.Id}}' "$ref")
  WANT_LAYERS[$ref]=$(DOCKER_HOST=$PEER dk image inspect -f '{{json .RootFS.Layers}}' "$ref")
  WANT_HISTORY[$ref]=$(DOCKER_HOST=$PEER dk history --no-trunc --format '{{json .}}' "$ref" |
    jq -c '{ID, CreatedBy, Size, Comment}')
done
WANT_ALL=$(DOCKER_HOST=$PEER dk images -a -q --no-trunc | sort -u)
DOCKER_HOST=$PEER dk save -o "$WORK/built-docker.tar" "$R/built:1"
DOCKER_HOST=$PEER dk save -o "$WORK/pax-docker.tar" "$R/paxattr:1"

# Stop the daemon, keep its data root.
DATA=${PEER#unix://}
DATA=$(dirname "$DATA")/data
pid=$(cat "$(dirname "$DATA")/pid")
kill -TERM "$pid"
for ((i = 0; i < 150; i++)); do
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.1
done
kill -0 "$pid" 2>/dev/null && fatal "dockerd did not stop"
ok "private dockerd stopped; migrating $DATA"

tree_state() {
  (cd "$1" && find . -printf '%p %y %s %m %T@ %U:%G\n' | sort) | sha256sum
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum
}
BEFORE=$(tree_state "$DATA")

CASE=dry-run
srun migrate --from-docker "$DATA" --dry-run
assert_eq 0 "$RC" "[$CASE] exit status: $ERR"
assert_match "Would migrate: .*$R/built:1" "$OUT" "[$CASE] lists built:1"
assert_eq "" "$(strata images -a -q)" "[$CASE] nothing stored"

CASE=migrate
srun migrate --from-docker "$DATA"
assert_eq 0 "$RC" "[$CASE] exit status: $ERR"
note "$(tail -1 <<<"$OUT")"
assert_match "Migrated image: $R/rich:alias" "$OUT" "[$CASE] names each tag"
for ref in "${IMAGES[@]}"; do
  js=$(strata inspect "$ref" 2>&1) || true
  assert_eq "${WANT_ID[$ref]}" "$(jq -r '.[0].Id' <<<"$js" 2>&1)" "[$CASE] $ref: image ID"
  assert_eq "${WANT_LAYERS[$ref]}" "$(jq -c '.[0].RootFS.Layers' <<<"$js" 2>&1)" \
    "[$CASE] $ref: diffIDs"
  got=$(strata history --no-trunc --format json "$ref" | jq -c '{ID, CreatedBy, Size, Comment}')
  assert_eq "${WANT_HISTORY[$ref]}" "$got" "[$CASE] $ref: history (IDs from parent links, sizes)"
done
assert_eq "$WANT_DIGESTS" "$(strata inspect "$PULLED" | jq -c '.[0].RepoDigests')" \
  "[$CASE] the pulled image keeps its RepoDigests (name@digest from repositories.json)"
assert_eq "$WANT_ALL" "$(strata images -a -q --no-trunc | sort -u)" \
  "[$CASE] every image, intermediate ones included"
srun fsck
assert_eq 0 "$RC" "[$CASE] fsck after migrate: $OUT $ERR"
assert_eq "$BEFORE" "$(tree_state "$DATA")" "[$CASE] the data root is unchanged"

CASE=save
strata save -o "$WORK/built.tar" "$R/built:1"
assert_files_eq "$WORK/built-docker.tar" "$WORK/built.tar" "[$CASE] save of built:1 = docker save"
strata save -o "$WORK/pax.tar" "$R/paxattr:1"
assert_files_eq "$WORK/pax-docker.tar" "$WORK/pax.tar" "[$CASE] save of paxattr:1 = docker save"

CASE=rerun
srun migrate --from-docker "$DATA"
assert_eq 0 "$RC" "[$CASE] exit status: $ERR"
assert_match "Migrated 0 images .*: 0 layers read" "$OUT" "[$CASE] nothing read again"
assert_match "Already present: .*$R/built:1" "$OUT" "[$CASE] says what it skipped"

CASE=damaged
BAD=$WORK/bad-data
cp -a "$DATA" "$BAD"
# The layer that adds /built.txt: change a byte (same size), so its tar no longer matches.
built_layer=$(ls "$BAD"/overlay2/*/diff/built.txt 2>/dev/null | head -1)
[[ -n $built_layer ]] || fatal "[$CASE] cannot find built.txt in overlay2"
printf 'BUILT\n' >"$built_layer"
# paxattr's only layer: remove its tar-split.
pax_top=$(jq -r '.[-1]' <<<"${WANT_LAYERS[$R/paxattr:1]}")
rm "$BAD/image/overlay2/layerdb/sha256/${pax_top#sha256:}/tar-split.json.gz"
# gnutar: its config no longer hashes to its ID.
gnu_id=${WANT_ID[$R/gnutar:1]#sha256:}
printf ' ' >>"$BAD/image/overlay2/imagedb/content/sha256/$gnu_id"
ROOT=$WORK/root2
srun migrate --from-docker "$BAD"
assert_eq 1 "$RC" "[$CASE] exit status 1 when some images fail"
assert_match "Error: image $R/built:1, $R/built:other .*checksum failed for .*built.txt" "$ERR" \
  "[$CASE] the modified file is named for built:1"
assert_match "Error: image $R/paxattr:1 .*no tar-split.json.gz" "$ERR" \
  "[$CASE] the missing tar-split is named for paxattr:1"
assert_match "Error: image .*$R/gnutar:1.*does not hash to its ID" "$ERR" \
  "[$CASE] the altered config is named for gnutar:1"
for ref in "$R/rich:1" "$R/child:1" "$R/sibling:1"; do
  assert_eq "${WANT_ID[$ref]}" "$(strata_image_id "$ref" 2>&1)" "[$CASE] $ref still migrates"
done
for ref in "$R/built:1" "$R/paxattr:1" "$R/gnutar:1"; do
  srun inspect "$ref"
  assert_ne 0 "$RC" "[$CASE] $ref is not in the store"
done
srun fsck
assert_eq 0 "$RC" "[$CASE] fsck after a partly failed migration: $OUT $ERR"

CASE=bad-source
srun migrate --from-docker "$WORK/nowhere"
assert_eq 1 "$RC" "[$CASE] a missing directory fails"
assert_match "is not a directory" "$ERR" "[$CASE] and says so"
mkdir -p "$WORK/empty"
srun migrate --from-docker "$WORK/empty"
assert_match "not a Docker data root" "$ERR" "[$CASE] an empty directory is not a data root"

finish
