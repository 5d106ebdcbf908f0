#!/usr/bin/env bash
# strata vs docker 20.10 vs skopeo against a registry on loopback, in one run on the same data:
# docker push, docker pull (into an empty daemon), skopeo copy docker://… oci:…, strata pull
# (unpacked, into an empty store), strata push (fresh repository, then again); wall time, peak
# RSS, store size; plus where the time goes (sha256, inflate, loopback GET, file creation).
#
#   bench/pull_push.sh [path/to/strata]        (default: build/strata)
#
# The image is lib.sh's build_image with BENCH_RANDOM_MB=450 by default (≥ 500 MB gzip-compressed,
# tens of thousands of files), tagged strata-bench/big-<MB>m:1 in the bench dockerd. The registry
# is Debian's docker-registry (distribution 2.8) on 127.0.0.1:<free port>, storage under
# BENCH_DIR/registry, wiped at each run so that docker push uploads everything.
# Env: as lib.sh (BENCH_DIR, BENCH_RANDOM_MB, BENCH_RANDOM_LAYERS, BENCH_TREES, BENCH_REBUILD).
# Docker's peak RSS is the daemon's VmHWM (a fresh daemon per docker operation); strata's and
# skopeo's are the CLI process's. Registry blobs are read once before each timed pull, and the
# caches are dropped after each wipe of a store or data root (lib.sh's forget_deleted: ext4
# makes file creation right after a mass deletion several times slower).
# strata rows are skipped (with a message) while the CLI has no pull / push subcommand.
# Every pull runs BENCH_PULL_RUNS times (default 3) and the median run is reported, with the
# others' times beside it.
# Results: printed (and bench/out/pull_push.txt), appended to bench/out/pull_push.tsv.
set -euo pipefail

RANDOM_MB_DEFAULT=450
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_require docker-registry skopeo curl python3 gzip tar
IMG=strata-bench/big-${RANDOM_MB}m:1

BUILD_ROOT=$BENCH_DIR/docker-build # shared with load_save.sh
PULL_ROOT=$BENCH_DIR/docker-pull
REG_DIR=$BENCH_DIR/registry
OCI_DIR=$BENCH_DIR/skopeo-oci
S_PULL=$BENCH_DIR/strata-pull
S_PUSH=$BENCH_DIR/strata-push
SCRATCH=$BENCH_DIR/scratch
REPO_NAME=bench/big # docker pushes here; everything pulls from here
STRATA_REPO=bench/strata # strata pushes here (a repository the registry has never seen)

# ---------------------------------------------------------------------------------------------
# The registry

REG_PID=
PORT=
start_registry() {
  wipe "$REG_DIR"
  mkdir -p "$REG_DIR"
  PORT=$(free_port)
  distribution_config "$REG_DIR" "$PORT" >"$BENCH_DIR/registry.yml"
  setsid docker-registry serve "$BENCH_DIR/registry.yml" </dev/null >>"$BENCH_DIR/registry.log" 2>&1 9>&- &
  REG_PID=$!
  wait_registry docker-registry "$PORT" "$REG_PID" "$BENCH_DIR/registry.log"
}
stop_registry() {
  [[ -n $REG_PID ]] || return 0
  kill -TERM "$REG_PID" 2>/dev/null || true
  wait "$REG_PID" 2>/dev/null || true
  REG_PID=
}
BENCH_CLEANUP+=(stop_registry)

MANIFEST_ACCEPT='application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.manifest.v1+json'
manifest() { # manifest REPOSITORY TAG
  curl -sf -H "Accept: $MANIFEST_ACCEPT" "http://127.0.0.1:$PORT/v2/$1/manifests/$2"
}
blob_path() { # blob_path sha256:HEX: the registry's file for a blob
  local hex=${1#sha256:}
  echo "$REG_DIR/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
}
# Before each timed operation: flush the previous one's dirty pages (so their writeback does not
# land in this measurement), and read the registry's blobs once.
settle() { sync; }
warm_registry() {
  find "$REG_DIR/docker/registry/v2/blobs" -name data -exec cat {} + >/dev/null
  settle
}

# docker_timed NAME ARGS...: time `docker ARGS` against the running (fresh) daemon; its peak RSS
# is the daemon's, its CPU the daemon's (with reaped children such as unpigz) plus the client's.
docker_timed() {
  local name=$1 before
  shift
  before=$(daemon_cpu_s)
  timed "$name" "${DK[@]}" "$@"
  RSS[$name]=$(daemon_hwm_kb)
  CPU[$name]=$(awk -v a="$(daemon_cpu_s)" -v b="$before" -v c="${CPU[$name]}" \
    'BEGIN {printf "%.2f", a - b + c}')
}

# ---------------------------------------------------------------------------------------------
# The image

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
start_daemon "$BUILD_ROOT"
ensure_image
IMAGE_ID=$(dk image inspect -f '{{.Id}}' "$IMG")
DOCKER_VERSION=$(dk version -f '{{.Server.Version}}')
NLAYERS=$(dk image inspect -f '{{len .RootFS.Layers}}' "$IMG")
stop_daemon

start_registry
REF=127.0.0.1:$PORT/$REPO_NAME:1
STRATA_REF=127.0.0.1:$PORT/$STRATA_REPO:1
echo "bench: registry at 127.0.0.1:$PORT ($(docker-registry --version 2>/dev/null | awk '{print $NF}'))"

# ---------------------------------------------------------------------------------------------
# docker push (fresh daemon on the build root each time, so VmHWM is this push's peak)

start_daemon "$BUILD_ROOT"
dk tag "$IMG" "$REF"
echo "bench: docker push $REF"
settle
docker_timed docker_push push "$REF"
stop_daemon
start_daemon "$BUILD_ROOT"
docker_timed docker_push_again push "$REF"
dk rmi "$REF" >/dev/null # the tag only: it names a port that will be gone
stop_daemon

# What the registry now holds: compressed size from the manifest, files and bytes per layer.
MANIFEST=$(manifest "$REPO_NAME" 1)
COMPRESSED=$(jq '([.layers[].size] | add) + .config.size' <<<"$MANIFEST")
[[ $(jq -r .config.digest <<<"$MANIFEST") == "$IMAGE_ID" ]] ||
  echo "bench: WARNING the pushed config is $(jq -r .config.digest <<<"$MANIFEST"), want $IMAGE_ID" >&2
COUNTS=$BENCH_DIR/layers-${IMAGE_ID#sha256:}.tsv # diff size, entries per layer (cached by image)
if [[ ! -s $COUNTS ]]; then
  echo "bench: counting the layers' entries"
  for d in $(jq -r '.layers[].digest' <<<"$MANIFEST"); do
    n=$(gzip -dc "$(blob_path "$d")" | tar -t --totals 2>"$BENCH_DIR/tar-totals" | wc -l)
    b=$(awk -F': ' '/Total bytes read/ {split($2, a, " "); print a[1]}' "$BENCH_DIR/tar-totals")
    printf '%s\t%s\t%s\n' "$d" "$b" "$n"
  done >"$COUNTS.tmp"
  mv "$COUNTS.tmp" "$COUNTS"
fi
UNCOMPRESSED=$(awk -F'\t' '{s += $2} END {print s}' "$COUNTS")
NFILES=$(awk -F'\t' '{s += $3} END {print s}' "$COUNTS")
((COMPRESSED >= 500 * 1000 * 1000)) ||
  echo "bench: WARNING the image is only $((COMPRESSED / 1000000)) MB compressed (want ≥ 500; raise BENCH_RANDOM_MB)" >&2

# ---------------------------------------------------------------------------------------------
# Pulls

# Each pull runs PULL_RUNS times (BENCH_PULL_RUNS, default 3), each into a fresh target with the
# caches dropped; the run with the median wall time is the one reported (median_run), and every
# run's time is listed. On a 2-core VM one run of the same pull varies by ±10%.
PULL_RUNS=${BENCH_PULL_RUNS:-3}
declare -A RUNS
# median_run NAME: NAME_1..NAME_PULL_RUNS -> NAME (wall, CPU, RSS, store size of the median run).
median_run() {
  local name=$1 i pick
  pick=$(for ((i = 1; i <= PULL_RUNS; i++)); do
    [[ -n ${WALL[${name}_$i]:-} ]] && echo "${WALL[${name}_$i]} $i"
  done | sort -n | awk '{a[NR] = $2} END {if (NR) print a[int((NR + 1) / 2)]}')
  RUNS[$name]=$(for ((i = 1; i <= PULL_RUNS; i++)); do printf '%s ' "${WALL[${name}_$i]:-failed}"; done)
  [[ -n $pick ]] || return 0
  WALL[$name]=${WALL[${name}_$pick]}
  CPU[$name]=${CPU[${name}_$pick]}
  RSS[$name]=${RSS[${name}_$pick]}
  DISK[$name]=${DISK[${name}_$pick]:--}
}

# docker pull into an empty daemon
echo "bench: docker pull $REF ($PULL_RUNS runs)"
for ((run = 1; run <= PULL_RUNS; run++)); do
  wipe "$PULL_ROOT"
  forget_deleted
  start_daemon "$PULL_ROOT"
  warm_registry
  docker_timed "docker_pull_$run" pull "$REF"
  GOT=$(dk image inspect -f '{{.Id}}' "$REF")
  [[ $GOT == "$IMAGE_ID" ]] || echo "bench: WARNING docker pulled image id $GOT, want $IMAGE_ID" >&2
  stop_daemon
  DISK[docker_pull_$run]=$(du_mb "$PULL_ROOT")
done
median_run docker_pull

# skopeo copy into an empty OCI layout (keeps the compressed blobs: no inflate, no files)
echo "bench: skopeo copy docker://$REF oci:$OCI_DIR"
for ((run = 1; run <= PULL_RUNS; run++)); do
  wipe "$OCI_DIR"
  forget_deleted
  warm_registry
  timed "skopeo_copy_$run" skopeo --insecure-policy copy --src-tls-verify=false "docker://$REF" "oci:$OCI_DIR:1"
  DISK[skopeo_copy_$run]=$(du_mb "$OCI_DIR")
done
median_run skopeo_copy

# strata pull into an empty store (unpacked)
STRATA_NOTE=()
if has_sub pull; then
  echo "bench: strata pull $REF"
  for ((run = 1; run <= PULL_RUNS; run++)); do
    wipe "$S_PULL"
    forget_deleted
    warm_registry
    if timed "strata_pull_$run" "$STRATA" --root "$S_PULL" pull "$REF"; then
      DISK[strata_pull_$run]=$(du_mb "$S_PULL")
      STORE_PARTS=$(cd "$S_PULL" && du -sxm -- */ | awk '$1 > 0 {printf "%s%s %s MiB", sep, $2, $1; sep = ", "}')
      GOT=$("$STRATA" --root "$S_PULL" inspect "$REF" 2>/dev/null | jq -r '.[0].Id' 2>/dev/null || true)
      if [[ $GOT != "$IMAGE_ID" ]]; then
        echo "bench: WARNING ********************************************************" >&2
        echo "bench: WARNING strata pulled image id '$GOT', docker's is $IMAGE_ID" >&2
        echo "bench: WARNING ********************************************************" >&2
        STRATA_NOTE+=("strata pull image id MISMATCH: $GOT")
      fi
    fi
  done
  median_run strata_pull
  # The layers stored compressed, unpacked on first use: the same work as skopeo's copy.
  if "$STRATA" pull --help 2>&1 | grep -q -- '--no-unpack'; then
    for ((run = 1; run <= PULL_RUNS; run++)); do
      wipe "$S_PULL"
      forget_deleted
      warm_registry
      timed "strata_pull_no_unpack_$run" "$STRATA" --root "$S_PULL" pull --no-unpack "$REF" &&
        DISK[strata_pull_no_unpack_$run]=$(du_mb "$S_PULL")
    done
    median_run strata_pull_no_unpack
  fi
else
  echo "bench: skipping strata pull: '$STRATA' has no pull subcommand yet"
  STRATA_NOTE+=("strata pull: skipped (no pull subcommand)")
fi

# ---------------------------------------------------------------------------------------------
# strata push: load the image (not timed), push into a fresh repository, then push again.

if has_sub push; then
  wipe "$S_PUSH"
  start_daemon "$BUILD_ROOT"
  dk save "$IMG" | "$STRATA" --root "$S_PUSH" load >/dev/null
  stop_daemon
  "$STRATA" --root "$S_PUSH" tag "$IMG" "$STRATA_REF"
  echo "bench: strata push $STRATA_REF"
  settle
  if timed strata_push "$STRATA" --root "$S_PUSH" push "$STRATA_REF"; then
    if grep -qi 'mounted' "$BENCH_DIR/strata_push.out" "$BENCH_DIR/strata_push.err"; then
      echo "bench: WARNING strata push mounted blobs instead of uploading them" >&2
      STRATA_NOTE+=("strata push mounted blobs (not a full upload)")
    fi
    SMANIFEST=$(manifest "$STRATA_REPO" 1 || true)
    STRATA_COMPRESSED=$(jq '([.layers[].size] | add) + .config.size' <<<"$SMANIFEST" 2>/dev/null || echo 0)
    GOT=$(jq -r .config.digest <<<"$SMANIFEST" 2>/dev/null || true)
    if [[ $GOT != "$IMAGE_ID" ]]; then
      echo "bench: WARNING strata pushed config '$GOT', want $IMAGE_ID" >&2
      STRATA_NOTE+=("strata push config MISMATCH: $GOT")
    fi
    timed strata_push_again "$STRATA" --root "$S_PUSH" push "$STRATA_REF" || true
  fi
else
  echo "bench: skipping strata push: '$STRATA' has no push subcommand yet"
  STRATA_NOTE+=("strata push: skipped (no push subcommand)")
fi

# ---------------------------------------------------------------------------------------------
# Where the time goes: single-thread rates of the pieces, measured on this image's blobs.

settle
OPENSSL_MBS=$(openssl_sha256_mbs)
BIG=$(jq -r '.layers | max_by(.size) | .digest' <<<"$MANIFEST")
BIG_FILE=$(blob_path "$BIG")
BIG_SIZE=$(stat -c %s "$BIG_FILE")
BIG_RAW=$(awk -F'\t' -v d="$BIG" '$1 == d {print $2}' "$COUNTS")
warm "$BIG_FILE"
timed gunzip sh -c 'gzip -dc "$1" >/dev/null' sh "$BIG_FILE"
GUNZIP_MBS=$(mbs "$BIG_RAW" "${WALL[gunzip]}")
IGZIP_MBS=-
if command -v igzip >/dev/null && timed igzip sh -c 'igzip -dc "$1" >/dev/null' sh "$BIG_FILE"; then
  IGZIP_MBS=$(mbs "$BIG_RAW" "${WALL[igzip]}")
fi
# Inflate of every layer of the image (Go's gzip Huffman-codes even the random layers).
LAYER_FILES=()
while read -r d; do LAYER_FILES+=("$(blob_path "$d")"); done < <(jq -r '.layers[].digest' <<<"$MANIFEST")
warm "${LAYER_FILES[@]}"
timed gunzip_all sh -c 'for f; do gzip -dc "$f"; done >/dev/null' sh "${LAYER_FILES[@]}"
command -v igzip >/dev/null &&
  timed igzip_all sh -c 'for f; do igzip -dc "$f"; done >/dev/null' sh "${LAYER_FILES[@]}" || true
# The loopback limit: one GET of the largest blob (curl's own timer, without its startup).
GET_S=$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$PORT/v2/$REPO_NAME/blobs/$BIG")
GET_MBS=$(mbs "$BIG_SIZE" "$GET_S")
# File creation: untar the layer with the most entries (already inflated, into the page cache).
FILES_LAYER=$(sort -t$'\t' -k3,3n "$COUNTS" | tail -n 1)
FILES_N=$(cut -f3 <<<"$FILES_LAYER")
rm -rf "$SCRATCH"
mkdir -p "$SCRATCH/x"
forget_deleted
gzip -dc "$(blob_path "$(cut -f1 <<<"$FILES_LAYER")")" >"$SCRATCH/files.tar"
settle
timed untar tar -C "$SCRATCH/x" --numeric-owner -xf "$SCRATCH/files.tar"
FILES_PER_S=$(awk -v n="$FILES_N" -v s="${WALL[untar]}" 'BEGIN {printf "%.0f", n / (s > 0 ? s : 0.01)}')
rm -rf "$SCRATCH"
# The whole image at those rates, one thread each: GET the compressed bytes, sha256 of compressed
# (blob digests) + uncompressed (diff IDs), inflate, create the files.
est() { awk -v b="$1" -v r="$2" 'BEGIN { if (r > 0) printf "%.1f", b / 1e6 / r; else print "-" }'; }
EST_NET=$(est "$COMPRESSED" "$GET_MBS")
EST_SHA=$(est $((COMPRESSED + UNCOMPRESSED)) "$OPENSSL_MBS")
EST_FILES=$(awk -v n="$NFILES" -v r="$FILES_PER_S" 'BEGIN { if (r > 0) printf "%.1f", n / r; else print "-" }')

# ---------------------------------------------------------------------------------------------
# Report

{
  echo "strata vs docker $DOCKER_VERSION vs skopeo $(skopeo --version | awk '{print $NF}') — $(now_utc)"
  echo "image $IMG: $NLAYERS layers, $NFILES tar entries, $((COMPRESSED / 1000000)) MB compressed" \
    "(registry manifest), $((UNCOMPRESSED / 1000000)) MB uncompressed; registry 127.0.0.1:$PORT;" \
    "$(nproc) cores, load average $LOADAVG at start"
  printf '%-24s %8s %8s %13s %10s\n' operation wall_s cpu_s peak_rss_MiB store_MiB
  for k in docker_push docker_push_again strata_push strata_push_again docker_pull skopeo_copy \
    strata_pull strata_pull_no_unpack; do
    [[ -n ${WALL[$k]:-} ]] || continue
    op_name=${k//_/ }
    op_name=${op_name/ again/ (again)}
    op_name=${op_name/no unpack/--no-unpack}
    printf '%-24s %8s %8s %13s %10s %s\n' "$op_name" "${WALL[$k]}" "${CPU[$k]}" \
      "$((${RSS[$k]:-0} / 1024))" "${DISK[$k]:--}" "${RUNS[$k]:+(median of: ${RUNS[$k]% })}"
  done
  echo "pull:  docker/strata = $(ratio "${WALL[docker_pull]}" "${WALL[strata_pull]:-}") (target ≥ 5x)," \
    "skopeo/strata = $(ratio "${WALL[skopeo_copy]}" "${WALL[strata_pull]:-}") (target > 1x)"
  echo "push:  docker/strata = $(ratio "${WALL[docker_push]}" "${WALL[strata_push]:-}") (target ≥ 5x);" \
    "again: docker/strata = $(ratio "${WALL[docker_push_again]}" "${WALL[strata_push_again]:-}")" \
    "${STRATA_COMPRESSED:+(strata pushed $((STRATA_COMPRESSED / 1000000)) MB compressed)}"
  echo "where the time goes (1 thread each): sha256 $OPENSSL_MBS MB/s (openssl, 16 KiB blocks)," \
    "inflate $GUNZIP_MBS MB/s (gzip -dc) / $IGZIP_MBS MB/s (igzip -dc) of the largest layer" \
    "($((BIG_SIZE / 1000000)) MB), loopback GET $GET_MBS MB/s (curl, ${GET_S}s)," \
    "untar $FILES_PER_S files/s ($FILES_N entries in ${WALL[untar]}s)"
  echo "  whole image, 1 thread each: GET ${EST_NET}s, sha256 of compressed + uncompressed" \
    "${EST_SHA}s, inflate ${WALL[gunzip_all]}s (gzip) / ${WALL[igzip_all]:--}s (igzip)," \
    "create files ${EST_FILES}s"
  [[ -z ${STORE_PARTS:-} ]] || echo "strata pull store: $STORE_PARTS"
  for n in "${STRATA_NOTE[@]}"; do echo "NOTE: $n"; done
  echo "(docker peak RSS = dockerd VmHWM; strata/skopeo = the CLI process; registry blobs warm)"
} | tee "$OUT/pull_push.txt"
append_tsv "$OUT/pull_push.tsv" "date strata_commit compressed_mb uncompressed_mb files \
docker_push_s docker_push_again_s strata_push_s strata_push_again_s docker_pull_s skopeo_copy_s \
strata_pull_s docker_push_rss_kb strata_push_rss_kb docker_pull_rss_kb skopeo_copy_rss_kb \
strata_pull_rss_kb docker_pull_disk_mb strata_pull_disk_mb sha256_mbs gunzip_mbs igzip_mbs get_mbs \
untar_files_per_s docker_pull_cpu_s strata_pull_cpu_s strata_pull_no_unpack_s" \
  "$(now_utc)" "$(commit_id)" $((COMPRESSED / 1000000)) $((UNCOMPRESSED / 1000000)) "$NFILES" \
  "${WALL[docker_push]}" "${WALL[docker_push_again]}" "${WALL[strata_push]:--}" \
  "${WALL[strata_push_again]:--}" "${WALL[docker_pull]}" "${WALL[skopeo_copy]}" \
  "${WALL[strata_pull]:--}" "${RSS[docker_push]}" "${RSS[strata_push]:--}" "${RSS[docker_pull]}" \
  "${RSS[skopeo_copy]}" "${RSS[strata_pull]:--}" "${DISK[docker_pull]}" "${DISK[strata_pull]:--}" \
  "$OPENSSL_MBS" "$GUNZIP_MBS" "$IGZIP_MBS" "$GET_MBS" "$FILES_PER_S" "${CPU[docker_pull]}" \
  "${CPU[strata_pull]:--}" "${WALL[strata_pull_no_unpack]:--}"
