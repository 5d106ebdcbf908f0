#!/usr/bin/env bash
# `docker save` archives -> `strata load` must give what `docker load` gives: the same load
# output, image IDs, tags, parents, RootFS layers, ChainIDs, config fields and history rows.
# Each archive is loaded into a fresh strata root and into a fresh private dockerd (the peer).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
need_peer jq
ensure_fixtures
need_strata_cmd load inspect history images

INSPECT_KEYS='{Id, RepoTags: ((.RepoTags // []) | sort), Parent, Comment, Created, Author,
  DockerVersion, Architecture, Os, RootFSType: .RootFS.Type, Layers: .RootFS.Layers,
  Cmd: .Config.Cmd, Entrypoint: .Config.Entrypoint, Env: .Config.Env,
  WorkingDir: .Config.WorkingDir, User: .Config.User, Labels: .Config.Labels,
  ExposedPorts: .Config.ExposedPorts, Volumes: .Config.Volumes, OnBuild: .Config.OnBuild,
  StopSignal: .Config.StopSignal, Healthcheck: .Config.Healthcheck}'

# compare_image REF: strata's view of REF against the private daemon's (both loaded the same tar).
compare_image() {
  local ref=$1 want got
  local d_json s_json
  d_json=$(DOCKER_HOST=$PEER dk image inspect "$ref")
  srun inspect "$ref"
  if ((RC != 0)); then
    not_ok "[$CASE] strata inspect $ref (exit $RC): $ERR"
    return
  fi
  s_json=$OUT
  if ! jq -e 'type == "array" and length == 1' <<<"$s_json" >/dev/null 2>&1; then
    not_ok "[$CASE] strata inspect $ref prints a one-element JSON array"
    return
  fi
  want=$(jq -r '.[0].Id' <<<"$d_json")
  assert_eq "$want" "$(jq -r '.[0].Id' <<<"$s_json")" "[$CASE] $ref: image ID"
  assert_eq "$(jq -S -c ".[0] | $INSPECT_KEYS" <<<"$d_json")" \
    "$(jq -S -c ".[0] | $INSPECT_KEYS" <<<"$s_json")" \
    "[$CASE] $ref: inspect fields (tags, parent, created, config, RootFS)"

  # ChainIDs: computed here from the diff_ids; checked against dockerd's own layerdb, then
  # against what strata reports.
  local diffids chains top
  mapfile -t diffids < <(jq -r '.[0].RootFS.Layers[]' <<<"$d_json")
  mapfile -t chains < <(chain_ids "${diffids[@]}")
  top=${chains[-1]}
  if [[ -d $PEER_DIR/data/image/overlay2/layerdb/sha256/${top#sha256:} ]]; then
    ok "[$CASE] $ref: test's ChainID computation agrees with dockerd's layerdb"
  else
    not_ok "[$CASE] $ref: computed top ChainID $top not in dockerd's layerdb (test bug?)"
  fi
  if jq -e '.[0].RootFS | has("ChainIDs")' <<<"$s_json" >/dev/null; then
    assert_eq "$(printf '%s\n' "${chains[@]}")" "$(jq -r '.[0].RootFS.ChainIDs[]' <<<"$s_json")" \
      "[$CASE] $ref: RootFS.ChainIDs"
  else
    not_ok "[$CASE] $ref: strata inspect has no RootFS.ChainIDs (contract: strata-specific list)"
  fi

  # Informational: full Config and Size (driver-dependent in docker).
  if [[ "$(jq -S -c '.[0].Config' <<<"$d_json")" == "$(jq -S -c '.[0].Config' <<<"$s_json")" ]]; then
    note "[$CASE] $ref: full .Config identical to docker's"
  else
    note "[$CASE] $ref: full .Config differs from docker's (only the listed fields are required)"
  fi
  note "[$CASE] $ref: Size docker=$(jq '.[0].Size' <<<"$d_json") strata=$(jq '.[0].Size' <<<"$s_json")"

  # history rows: ID, CreatedBy, Size, Comment (not the times).
  want=$(DOCKER_HOST=$PEER dk history --no-trunc --format '{{json .}}' "$ref" |
    jq -c '{ID, CreatedBy, Size, Comment}')
  srun history --no-trunc --format json "$ref"
  if ((RC != 0)); then
    not_ok "[$CASE] strata history $ref (exit $RC): $ERR"
    return
  fi
  got=$(jq -c '{ID, CreatedBy, Size, Comment}' <<<"$OUT" 2>&1) || true
  assert_eq "$want" "$got" "[$CASE] $ref: history --no-trunc --format json (ID, CreatedBy, Size, Comment)"
  # The same with raw sizes.
  want=$(DOCKER_HOST=$PEER dk history --no-trunc -H=false --format '{{json .}}' "$ref" |
    jq -c '{ID, Size}')
  srun history --no-trunc -H=false --format json "$ref"
  got=$(jq -c '{ID, Size}' <<<"$OUT" 2>&1) || true
  assert_eq "$want" "$got" "[$CASE] $ref: history -H=false sizes"
  want=$(DOCKER_HOST=$PEER dk history -q "$ref")
  srun history -q "$ref"
  assert_eq "$want" "$OUT" "[$CASE] $ref: history -q"
}

# load_case NAME ARCHIVE REF...: load ARCHIVE into a fresh root and a fresh peer, compare REFs.
load_case() {
  CASE=$1
  local archive=$2
  shift 2
  ROOT=$WORK/root-$CASE
  start_private_dockerd PEER
  PEER_DIR=$(dirname "${PEER#unix://}")
  local want
  want=$(DOCKER_HOST=$PEER dk load -i "$archive" | sort)
  srun load -i "$archive"
  if ((RC != 0)); then
    not_ok "[$CASE] strata load -i $(basename "$archive") (exit $RC): $ERR"
    return
  fi
  ok "[$CASE] strata load -i $(basename "$archive") exits 0"
  assert_eq "$want" "$(sort <<<"$OUT")" "[$CASE] load output lines equal docker load's"

  local ref
  for ref in "$@"; do
    compare_image "$ref"
  done
  assert_eq "$(DOCKER_HOST=$PEER dk images -q --no-trunc | sort -u)" \
    "$(strata images -q --no-trunc 2>&1 | sort -u)" "[$CASE] images -q --no-trunc"
  assert_eq "$(DOCKER_HOST=$PEER dk images -a -q --no-trunc | sort -u)" \
    "$(strata images -a -q --no-trunc 2>&1 | sort -u)" "[$CASE] images -a -q --no-trunc"
  assert_eq "$(DOCKER_HOST=$PEER dk images --format '{{.Repository}}:{{.Tag}} {{.ID}}' | sort)" \
    "$(strata images --format json 2>&1 | jq -r '"\(.Repository):\(.Tag) \(.ID)"' 2>&1 | sort)" \
    "[$CASE] images --format json: Repository, Tag, ID"

  # Loading the same archive again changes nothing and prints the same lines.
  local before
  before=$(store_state)
  srun load -i "$archive"
  assert_eq "0 $want" "$RC $(sort <<<"$OUT")" "[$CASE] second load of the same archive"
  assert_eq "$before" "$(store_state)" "[$CASE] second load leaves the store unchanged"
}

R=$FIXTURE_REPO
load_case base "$FIX/base.tar" "$R/base:1"
load_case rich "$FIX/rich.tar" "$R/rich:1"
load_case alias "$FIX/rich-alias.tar" "$R/rich:1" "$R/rich:alias"
# Two images where one is the other's parent: docker restores the link (two history IDs).
load_case parent "$FIX/parent.tar" "$R/child:1" "$R/rich:1"
load_case family "$FIX/family.tar" "$R/child:1" "$R/sibling:1" "$R/rich:1"
load_case paxattr "$FIX/paxattr.tar" "$R/paxattr:1"
load_case gnutar "$FIX/gnutar.tar" "$R/gnutar:1"

# Loading into a store that already has the base layer shares it (same ChainID, one image each).
CASE=incremental
ROOT=$WORK/root-incremental
srun load -i "$FIX/base.tar"
assert_eq 0 "$RC" "[$CASE] load base.tar: $ERR"
srun load -i "$FIX/family.tar"
assert_eq 0 "$RC" "[$CASE] load family.tar after base.tar: $ERR"
assert_eq "$(printf '%s\n' "$BASE_ID" "$CHILD_ID" "$RICH_ID" "$SIBLING_ID" | sort)" \
  "$(strata images -q --no-trunc 2>&1 | sort -u)" "[$CASE] all four images present"

# Untagged image: `docker save ID` has RepoTags null -> "Loaded image ID: sha256:...".
CASE=untagged
ROOT=$WORK/root-untagged
dk save -o "$WORK/untagged.tar" "$SIBLING_ID"
srun load -i "$WORK/untagged.tar"
assert_eq "0 Loaded image ID: $SIBLING_ID" "$RC $OUT" "[$CASE] load prints the image ID"
srun load -q -i "$WORK/untagged.tar"
assert_eq 0 "$RC" "[$CASE] load -q exits 0: $ERR"

finish
