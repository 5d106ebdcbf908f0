#!/usr/bin/env bash
# strata migrate, in one run:
#  A. a current Docker data root (the bench image of lib.sh, overlay2, daemon stopped):
#     `strata migrate --from-docker` against `docker save IMG | strata load` of the same images;
#  B. a generated legacy (pre-1.10) aufs graph of about BENCH_LEGACY_MB MiB (default 2048) in
#     several images sharing layers: `strata migrate` against the sha256 limit
#     (`openssl speed -evp sha256` x cores) and the seed's figures (2 GB: ~60 s on 1 vCPU,
#     ~10 s on 40 vCPUs for Docker 1.10's migrator).
#
#   bench/migrate.sh [path/to/strata]        (default: build/strata)
#
# Every input is read once before it is timed (warm page cache), as the issue asks.
# Results: printed, written to bench/out/migrate.txt, appended to bench/out/migrate.tsv.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_require python3

BUILD_ROOT=$BENCH_DIR/docker-build
S_LOAD=$BENCH_DIR/strata-migrate-load
S_MIG=$BENCH_DIR/strata-migrate
S_LEG=$BENCH_DIR/strata-migrate-legacy
LEGACY_MB=${BENCH_LEGACY_MB:-2048}
LEGACY=$BENCH_DIR/legacy-$LEGACY_MB

warm_tree() { find "$1" -type f -print0 | xargs -0 cat >/dev/null 2>&1 || true; }

# --- A. current layout -------------------------------------------------------------------------
start_daemon "$BUILD_ROOT"
ensure_image
IMAGE_ID=$(dk image inspect -f '{{.Id}}' "$IMG")
mapfile -t TAGGED < <(dk images --format '{{.Repository}}:{{.Tag}}' | grep -v '<none>' | sort)
warm_tree "$BUILD_ROOT/overlay2"
wipe "$S_LOAD"
timed save_load bash -o pipefail -c "$(printf '%q ' "${DK[@]}") save $(printf '%q ' "${TAGGED[@]}") \
  | $(printf '%q' "$STRATA") --root $(printf '%q' "$S_LOAD") load"
RSS[save_load_dockerd]=$(daemon_hwm_kb)
stop_daemon

wipe "$S_MIG"
warm_tree "$BUILD_ROOT/overlay2"
timed migrate "$STRATA" --root "$S_MIG" migrate -q --from-docker "$BUILD_ROOT"
GOT_ID=$("$STRATA" --root "$S_MIG" inspect "$IMG" | jq -r '.[0].Id')
[[ $GOT_ID == "$IMAGE_ID" ]] || echo "bench: WARNING migrated image ID $GOT_ID, docker has $IMAGE_ID" >&2
MIG_SUMMARY=$(tail -1 "$BENCH_DIR/migrate.out")
MIG_BYTES=$(du -sb "$S_MIG/blobs" | cut -f1)

# --- B. legacy layout --------------------------------------------------------------------------
if [[ ! -f $LEGACY/.complete ]]; then
  echo "bench: generating a ${LEGACY_MB} MiB legacy aufs store in $LEGACY"
  rm -rf "$LEGACY"
  python3 "$REPO/tests/integration/tools/make_legacy_store.py" "$LEGACY/root" --driver aufs \
    --scale-mb "$LEGACY_MB" --expected "$LEGACY/expected.json" >/dev/null
  touch "$LEGACY/.complete"
fi
LEGACY_BYTES=$(jq -r '.layers_bytes' "$LEGACY/expected.json")
LEGACY_FILES=$(find "$LEGACY/root/aufs/diff" -type f | wc -l)
LEGACY_IMAGES=$(jq -r '.images | length' "$LEGACY/expected.json")
wipe "$S_LEG"
warm_tree "$LEGACY/root"
timed migrate_legacy "$STRATA" --root "$S_LEG" migrate -q --from-docker "$LEGACY/root"
LEG_SUMMARY=$(tail -1 "$BENCH_DIR/migrate_legacy.out")
WRONG=0
while read -r v1 want; do
  [[ $want == null ]] && continue
  got=$(jq -r --arg k "$v1" '.[$k] // empty' "$S_LEG"/migrations/legacy-*.json)
  [[ $got == "$want" ]] || WRONG=$((WRONG + 1))
done < <(jq -r '.images[] | select(.must_fail | not) | "\(.v1_id) \(.image_id)"' "$LEGACY/expected.json")

OPENSSL_MBS=$(openssl_sha256_mbs)
LIMIT_S=$(awk -v b="$LEGACY_BYTES" -v m="$OPENSSL_MBS" -v c="$(nproc)" 'BEGIN {printf "%.2f", b / 1e6 / (m * c)}')

{
  echo "strata migrate — $(date -u +%FT%TZ), commit $(commit_id), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "A. Docker data root $BUILD_ROOT (${#TAGGED[@]} tags: ${TAGGED[*]}):"
  printf '   %-36s %8s s  peak RSS %5s MiB  (dockerd %s MiB)\n' "docker save | strata load" \
    "${WALL[save_load]}" "$((${RSS[save_load]:-0} / 1024))" "$((${RSS[save_load_dockerd]:-0} / 1024))"
  printf '   %-36s %8s s  peak RSS %5s MiB\n' "strata migrate" "${WALL[migrate]}" \
    "$((${RSS[migrate]:-0} / 1024))"
  echo "   $MIG_SUMMARY"
  echo "   ratio (docker save | strata load) / migrate = $(ratio "${WALL[save_load]}" "${WALL[migrate]}"); image ID matches docker: $([[ $GOT_ID == "$IMAGE_ID" ]] && echo yes || echo NO)"
  echo "B. legacy aufs graph: $LEGACY_IMAGES images, $LEGACY_FILES files, $((LEGACY_BYTES / 1000000)) MB of layer tars"
  printf '   %-36s %8s s  peak RSS %5s MiB  CPU %s s\n' "strata migrate" "${WALL[migrate_legacy]}" \
    "$((${RSS[migrate_legacy]:-0} / 1024))" "${CPU[migrate_legacy]}"
  echo "   $LEG_SUMMARY"
  echo "   $(mbs "$LEGACY_BYTES" "${WALL[migrate_legacy]}") MB/s; sha256 limit (openssl ${OPENSSL_MBS} MB/s x $(nproc)) = ${LIMIT_S} s;" \
    "target < 3 s; image IDs differing from the generator's: $WRONG"
} | tee "$OUT/migrate.txt"
append_tsv "$OUT/migrate.tsv" "date strata_commit save_load_s migrate_s migrate_rss_kb legacy_mb legacy_s legacy_rss_kb sha256_limit_s wrong_ids" \
  "$(now_utc)" "$(commit_id)" "${WALL[save_load]}" "${WALL[migrate]}" "${RSS[migrate]}" \
  "$((LEGACY_BYTES / 1000000))" "${WALL[migrate_legacy]}" "${RSS[migrate_legacy]}" "$LIMIT_S" "$WRONG"
