#!/usr/bin/env bash
# strata vs docker 20.10 on one large image: load, load --unpack, save; wall time, peak RSS and
# store size, plus SHA-256 throughput (openssl vs strata, if the CLI can hash a file).
#
#   bench/load_save.sh [path/to/strata]        (default: build/strata)
#
# The image (built once and cached by tag in a bench dockerd; see build_image in lib.sh) is made
# offline from the host: /usr/include, /usr/share/{doc,man,locale} (tens of thousands of files),
# BENCH_RANDOM_MB (300) MiB of random data in BENCH_RANDOM_LAYERS (3) layers, and whiteouts.
# Env: BENCH_DIR (data, default /var/tmp/strata-bench), BENCH_RANDOM_MB, BENCH_RANDOM_LAYERS,
#      BENCH_TREES (the host dirs above), BENCH_REBUILD=1.
# Every measurement reads warm files (each input is read once before it is timed). Docker's
# peak RSS is the daemon's VmHWM: a fresh daemon is started for each docker operation.
# Results: printed, and appended to bench/out/results.tsv.
set -euo pipefail

# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"

BUILD_ROOT=$BENCH_DIR/docker-build
LOAD_ROOT=$BENCH_DIR/docker-load
S1=$BENCH_DIR/strata-load
S2=$BENCH_DIR/strata-unpack
ARCHIVE=$BENCH_DIR/docker-save.tar

start_daemon "$BUILD_ROOT"
ensure_image
IMAGE_ID=$(dk image inspect -f '{{.Id}}' "$IMG")
DOCKER_VERSION=$(dk version -f '{{.Server.Version}}')
NLAYERS=$(dk image inspect -f '{{len .RootFS.Layers}}' "$IMG")
stop_daemon

# docker save (fresh daemon on the build root, so VmHWM is this save's peak)
start_daemon "$BUILD_ROOT"
rm -f "$ARCHIVE"
timed docker_save "${DK[@]}" save -o "$ARCHIVE" "$IMG"
RSS[docker_save]=$(daemon_hwm_kb)
stop_daemon
ARCHIVE_MB=$(($(stat -c %s "$ARCHIVE") / 1024 / 1024))
NFILES=$(tar -xOf "$ARCHIVE" --wildcards '*/layer.tar' 2>/dev/null | tar -t -i 2>/dev/null | wc -l || true)

# docker load into an empty daemon
wipe "$LOAD_ROOT"
forget_deleted
start_daemon "$LOAD_ROOT"
warm "$ARCHIVE"
timed docker_load "${DK[@]}" load -i "$ARCHIVE"
RSS[docker_load]=$(daemon_hwm_kb)
stop_daemon
DISK[docker_load]=$(du_mb "$LOAD_ROOT")

# strata load, and load --unpack (if the CLI has it)
wipe "$S1"
forget_deleted
warm "$ARCHIVE"
timed strata_load "$STRATA" --root "$S1" load -i "$ARCHIVE"
DISK[strata_load]=$(du_mb "$S1")
GOT_ID=$("$STRATA" --root "$S1" inspect "$IMG" 2>/dev/null | jq -r '.[0].Id' 2>/dev/null || true)
[[ $GOT_ID == "$IMAGE_ID" ]] || echo "bench: WARNING strata loaded image id '$GOT_ID', want $IMAGE_ID" >&2

if "$STRATA" load --help 2>&1 | grep -q -- '--unpack'; then
  wipe "$S2"
  forget_deleted
  warm "$ARCHIVE"
  timed strata_unpack "$STRATA" --root "$S2" load --unpack -i "$ARCHIVE"
  DISK[strata_unpack]=$(du_mb "$S2")
fi

# strata save
rm -f "$BENCH_DIR/strata-save.tar"
timed strata_save "$STRATA" --root "$S1" save -o "$BENCH_DIR/strata-save.tar" "$IMG"
if cmp -s "$BENCH_DIR/strata-save.tar" "$ARCHIVE"; then SAVE_SAME=yes; else SAVE_SAME=no; fi

# SHA-256 throughput
OPENSSL_MBS=$(openssl_sha256_mbs)
HASHFILE=$BENCH_DIR/hash-input
head -c $((512 * 1024 * 1024)) "$ARCHIVE" >"$HASHFILE"
warm "$HASHFILE"
timed sha256sum sha256sum "$HASHFILE"
SHA256SUM_MBS=$(awk -v s="${WALL[sha256sum]}" 'BEGIN {printf "%.0f", 512 * 1.048576 / (s > 0 ? s : 0.01)}')
STRATA_HASH_MBS=skipped
for sub in "digest" "debug digest" "hash"; do
  if has_sub "$sub"; then
    # shellcheck disable=SC2086
    if timed strata_hash "$STRATA" $sub "$HASHFILE"; then
      STRATA_HASH_MBS=$(awk -v s="${WALL[strata_hash]}" 'BEGIN {printf "%.0f", 512 * 1.048576 / (s > 0 ? s : 0.01)}')
    fi
    break
  fi
done
rm -f "$HASHFILE"

# ---------------------------------------------------------------------------------------------
# Report

{
  echo "strata vs docker $DOCKER_VERSION — $(date -u +%FT%TZ)"
  echo "image $IMG: $NLAYERS layers, ${NFILES} tar entries, archive ${ARCHIVE_MB} MiB; $(nproc) cores"
  printf '%-22s %10s %14s %12s\n' operation wall_s peak_rss_MiB store_MiB
  for k in docker_load strata_load strata_unpack docker_save strata_save; do
    [[ -n ${WALL[$k]:-} ]] || continue
    printf '%-22s %10s %14s %12s\n' "$k" "${WALL[$k]}" "$((${RSS[$k]:-0} / 1024))" "${DISK[$k]:--}"
  done
  echo "load:  docker/strata = $(ratio "${WALL[docker_load]}" "${WALL[strata_load]}")" \
    "(--unpack: $(ratio "${WALL[docker_load]}" "${WALL[strata_unpack]:-}"))"
  echo "save:  docker/strata = $(ratio "${WALL[docker_save]}" "${WALL[strata_save]}");" \
    "strata archive byte-identical to docker's: $SAVE_SAME"
  echo "sha256 MB/s: openssl(16 KiB blocks)=$OPENSSL_MBS sha256sum=$SHA256SUM_MBS strata=$STRATA_HASH_MBS"
  echo "(docker peak RSS = dockerd VmHWM; strata = the CLI process; caches warm)"
} | tee "$OUT/last.txt"
append_tsv "$OUT/results.tsv" "date strata_commit image_mb docker_load_s strata_load_s \
strata_unpack_s docker_save_s strata_save_s docker_load_rss_kb strata_load_rss_kb \
strata_save_rss_kb docker_disk_mb strata_disk_mb strata_unpack_disk_mb" \
  "$(now_utc)" "$(commit_id)" "$ARCHIVE_MB" \
  "${WALL[docker_load]}" "${WALL[strata_load]}" "${WALL[strata_unpack]:--}" "${WALL[docker_save]}" \
  "${WALL[strata_save]}" "${RSS[docker_load]}" "${RSS[strata_load]}" "${RSS[strata_save]}" \
  "${DISK[docker_load]}" "${DISK[strata_load]}" "${DISK[strata_unpack]:--}"
