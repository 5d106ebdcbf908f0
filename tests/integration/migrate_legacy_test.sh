#!/usr/bin/env bash
# `strata migrate --from-docker` on legacy (pre-1.10) data roots. No Docker we can run makes
# these, so tools/make_legacy_store.py writes them from the documented layout (aufs, vfs and
# overlay; tar-data present or not; whiteouts, opaque dirs, long and non-UTF-8 names) and
# computes, independently of strata, the diffIDs and image IDs Docker 1.10's migration gives.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need_peer python3 jq
need_strata_cmd migrate
GEN=$REPO_ROOT/tests/integration/tools/make_legacy_store.py

tree_state() {
  (cd "$1" && find . -printf '%p %y %s %m %T@\n' | sort) | sha256sum
  (cd "$1" && find . -type f -print0 | sort -z | xargs -0 sha256sum) | sha256sum
}

# check_store CASE EXPECTED: every image the generator could compute is in the store with its ID,
# diffIDs, tags and history; no must_fail image is.
check_store() {
  local c=$1 exp=$2 line v1 id names diff history got js n
  while read -r line; do
    v1=$(jq -r '.v1_id' <<<"$line")
    id=$(jq -r '.image_id' <<<"$line")
    diff=$(jq -r '.diff_id' <<<"$line")
    names=$(jq -c '.names' <<<"$line")
    history=$(jq -c '[.history[].created_by // ""]' <<<"$line")
    [[ $id == null ]] && continue # depends on a layer without tar-data: checked by paths
    js=$(strata inspect "$id" 2>&1) || {
      not_ok "[$c] image ${v1:0:12} ($names) missing: $js"
      continue
    }
    ok "[$c] image ${v1:0:12} ($names) has the ID Docker 1.10 gives it"
    got=$(jq -r '.[0].RootFS.Layers[-1]' <<<"$js")
    [[ $diff == null ]] || assert_eq "$diff" "$got" "[$c] ${v1:0:12}: its layer's diffID"
    got=$(strata history --no-trunc --format json "$id" | jq -s -c '[.[].CreatedBy] | reverse')
    assert_eq "$history" "$got" "[$c] ${v1:0:12}: history"
    while read -r n; do
      assert_eq "$id" "$(strata_image_id "$n" 2>&1)" "[$c] $n points at it"
    done < <(jq -r '.[]' <<<"$names")
  done < <(jq -c '.images[] | select(.must_fail | not)' "$exp")
  while read -r v1; do
    [[ -z $v1 ]] && continue
    assert_eq "" "$(jq -r --arg k "$v1" '.[$k] // empty' "$ROOT"/migrations/legacy-*.json 2>/dev/null)" \
      "[$c] failed image ${v1:0:12} left nothing behind"
  done < <(jq -r '.images[] | select(.must_fail) | .v1_id' "$exp")
}

# layer_paths_of IMAGE_ID: the entries of the image's top layer, as strata save writes it.
layer_paths_of() {
  local d
  d=$(mktemp -d "$WORK/save.XXXXXX")
  strata save -o "$d/i.tar" "$1"
  tar -xf "$d/i.tar" -C "$d"
  tar -tf "$d/$(jq -r '.[0].Layers[-1]' "$d/manifest.json")" | sed 's:/$::' | sort
}

for driver in aufs vfs overlay; do
  CASE=$driver
  SRC=$WORK/$driver
  # aufs archives a branch without tar-data; vfs and overlay diff whole trees.
  extra=()
  [[ $driver == aufs ]] && extra=(--no-tar-data app1 --non-utf8-names)
  [[ $driver != aufs ]] && extra=(--no-tar-data app2)
  python3 "$GEN" "$SRC/root" --driver "$driver" --expected "$SRC/expected.json" "${extra[@]}" \
    >/dev/null || fatal "[$CASE] generator failed"
  BEFORE=$(tree_state "$SRC/root")
  ROOT=$WORK/store-$driver

  srun migrate --from-docker "$SRC/root" --dry-run
  assert_eq 0 "$RC" "[$CASE] dry run: $ERR"
  assert_match "Dry run of legacy Docker graph .*: 6 images to migrate" "$OUT" "[$CASE] dry run counts"
  assert_eq "" "$(strata images -a -q)" "[$CASE] dry run stores nothing"

  srun migrate --from-docker "$SRC/root"
  assert_eq 0 "$RC" "[$CASE] migrate: $ERR"
  assert_match "Migrated 6 images from legacy Docker graph .*\\($driver\\)" "$OUT" "[$CASE] summary"
  check_store "$CASE" "$SRC/expected.json"
  assert_eq "$BEFORE" "$(tree_state "$SRC/root")" "[$CASE] the legacy root is unchanged"
  srun fsck
  assert_eq 0 "$RC" "[$CASE] fsck: $OUT $ERR"

  # The image without tar-data: its layer holds what the generator put in it.
  name=$([[ $driver == aufs ]] && echo app1 || echo app2)
  ref=$(jq -r --arg n "$name" '.images[] | select(.name == $n) | .names[0]' "$SRC/expected.json")
  want=$(jq -r --arg n "$name" '.images[] | select(.name == $n) | .layer_paths[]' "$SRC/expected.json" | sort)
  assert_same_text "$want" "$(layer_paths_of "$ref")" "[$CASE] $ref without tar-data: layer entries"

  srun migrate --from-docker "$SRC/root"
  assert_eq 0 "$RC" "[$CASE] second run: $ERR"
  assert_match "Migrated 0 images .*\\(6 already present, 0 failed\\): 0 layers read" "$OUT" \
    "[$CASE] second run reads nothing"
done

for kind in truncated-diff missing-parent bad-json crc; do
  CASE=corrupt-$kind
  SRC=$WORK/$kind
  python3 "$GEN" "$SRC/root" --driver aufs --corrupt "$kind" --expected "$SRC/expected.json" \
    >/dev/null || fatal "[$CASE] generator failed"
  ROOT=$WORK/store-$kind
  srun migrate --from-docker "$SRC/root"
  assert_eq 1 "$RC" "[$CASE] exit status 1"
  for v1 in $(jq -r '.corrupt.failing_v1_ids[]' "$SRC/expected.json"); do
    assert_match "Error: image .*\\($v1\\)|Error: image $v1" "$ERR" "[$CASE] ${v1:0:12} is reported"
  done
  case $kind in
    truncated-diff) assert_match "truncated" "$ERR" "[$CASE] says the file is truncated" ;;
    missing-parent) assert_match "parent image [0-9a-f]{64} is missing" "$ERR" "[$CASE] names the parent" ;;
    bad-json) assert_match "json" "$ERR" "[$CASE] names the json" ;;
    crc) assert_match "checksum failed for .*$(jq -r '.corrupt.path' "$SRC/expected.json" | sed 's:.*/::')" "$ERR" \
      "[$CASE] names the modified file" ;;
  esac
  check_store "$CASE" "$SRC/expected.json"
  srun fsck
  assert_eq 0 "$RC" "[$CASE] fsck: $OUT $ERR"
done

# Interrupted (SIGKILL once the first image is in), then run again: the same result as one run.
CASE=resume
SRC=$WORK/big
python3 "$GEN" "$SRC/root" --driver aufs --scale-mb 300 --expected "$SRC/expected.json" \
  >/dev/null || fatal "[$CASE] generator failed"
ROOT=$WORK/store-resume
"$STRATA" --root "$ROOT" migrate -q -j 1 --from-docker "$SRC/root" >/dev/null 2>&1 &
pid=$!
killed=no
for ((i = 0; i < 2000; i++)); do
  if compgen -G "$ROOT/migrations/legacy-*.json" >/dev/null; then
    kill -KILL "$pid" 2>/dev/null && killed=yes
    break
  fi
  kill -0 "$pid" 2>/dev/null || break
  sleep 0.005
done
wait "$pid" 2>/dev/null || true
note "[$CASE] killed mid-run: $killed"
srun fsck --repair
assert_eq 0 "$RC" "[$CASE] the store opens and fsck --repair succeeds after SIGKILL: $OUT $ERR"
srun migrate --from-docker "$SRC/root"
assert_eq 0 "$RC" "[$CASE] second run: $ERR"
if [[ $killed == yes ]]; then
  assert_match "Already present" "$OUT" "[$CASE] the second run skips what the first finished"
fi
check_store "$CASE" "$SRC/expected.json"

CASE=several-drivers
mkdir -p "$WORK/two/root/graph" "$WORK/two/root/aufs" "$WORK/two/root/vfs"
ROOT=$WORK/store-two
srun migrate --from-docker "$WORK/two/root"
assert_eq 1 "$RC" "[$CASE] refuses to guess"
assert_match "several storage drivers .*--storage-driver" "$ERR" "[$CASE] asks for --storage-driver"
srun migrate --from-docker "$WORK/two/root" --storage-driver aufs
assert_eq 0 "$RC" "[$CASE] --storage-driver aufs: $ERR"

finish
