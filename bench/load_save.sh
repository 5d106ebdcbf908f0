#!/usr/bin/env bash
# strata vs docker 20.10 on one large image: load, load --unpack, save; wall time, peak RSS and
# store size, plus SHA-256 throughput (openssl vs strata, if the CLI can hash a file).
#
#   bench/load_save.sh [path/to/strata]        (default: build/strata)
#
# The image (built once and cached by tag in a bench dockerd) is made offline from the host:
#   layer 1  /usr/include                         (~9k small files)
#   layer 2  /usr/share/{doc,man,locale}          (tens of thousands of files)
#   layers   BENCH_RANDOM_LAYERS x BENCH_RANDOM_MB/BENCH_RANDOM_LAYERS MiB of random data
#   layer    RUN rm -rf /usr/share/doc            (whiteouts) + metadata steps
# Env: BENCH_DIR (data, default /var/tmp/strata-bench), BENCH_RANDOM_MB (300),
#      BENCH_RANDOM_LAYERS (3), BENCH_TREES (the host dirs above), BENCH_REBUILD=1.
# Every measurement reads warm files (each input is read once before it is timed). Docker's
# peak RSS is the daemon's VmHWM: a fresh daemon is started for each docker operation.
# Results: printed, and appended to bench/out/results.tsv.
set -euo pipefail

REPO=$(cd "$(dirname "$0")/.." && pwd)
STRATA=${1:-$REPO/build/strata}
[[ $STRATA == /* ]] || STRATA=$PWD/$STRATA
[[ -x $STRATA ]] || {
  echo "bench: no strata binary at $STRATA" >&2
  exit 1
}
BENCH_DIR=${BENCH_DIR:-/var/tmp/strata-bench}
RANDOM_MB=${BENCH_RANDOM_MB:-300}
RANDOM_LAYERS=${BENCH_RANDOM_LAYERS:-3}
TREES=${BENCH_TREES:-/usr/include /usr/share/doc /usr/share/man /usr/share/locale}
OUT=$REPO/bench/out
IMG=strata-bench/big:1
mkdir -p "$BENCH_DIR" "$OUT"
export TZ=UTC LC_ALL=C.UTF-8

for t in dockerd jq /usr/bin/time openssl; do
  command -v "$t" >/dev/null || {
    echo "bench: $t missing (scripts/install-deps.sh)" >&2
    exit 1
  }
done
DOCKER=${DOCKER_BIN:-$([[ -x /usr/bin/docker ]] && echo /usr/bin/docker || command -v docker)}

# ---------------------------------------------------------------------------------------------
# Daemons: each has its data under BENCH_DIR and a short exec-root under /tmp.

DAEMON_PID=
DAEMON_SOCK=
DAEMON_EXEC=
start_daemon() { # start_daemon DATA_ROOT
  DAEMON_EXEC=$(mktemp -d /tmp/sbench.XXXXXX)
  DAEMON_SOCK=$DAEMON_EXEC/d.sock
  setsid dockerd --data-root "$1" --exec-root "$DAEMON_EXEC/x" --host "unix://$DAEMON_SOCK" \
    --pidfile "$DAEMON_EXEC/pid" --iptables=false --ip-masq=false --bridge=none \
    --log-level=warn </dev/null >>"$BENCH_DIR/dockerd.log" 2>&1 &
  DAEMON_PID=$!
  DK=(env "DOCKER_CONFIG=$BENCH_DIR/cli" "$DOCKER" -H "unix://$DAEMON_SOCK")
  local i
  for ((i = 0; i < 600; i++)); do
    dk version >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "bench: dockerd did not start (see $BENCH_DIR/dockerd.log)" >&2
  exit 1
}
stop_daemon() {
  [[ -n $DAEMON_PID ]] || return 0
  kill -TERM "$DAEMON_PID" 2>/dev/null || true
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$DAEMON_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$DAEMON_PID" 2>/dev/null || true
  local m
  { awk '{print $2}' /proc/mounts | grep -F "$DAEMON_EXEC/" || true; } | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$DAEMON_EXEC"
  DAEMON_PID=
}
trap stop_daemon EXIT
dk() { "${DK[@]}" "$@"; } # DK: the client command for the running daemon (for /usr/bin/time)
daemon_hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status"; }

wipe() { # wipe DIR: delete a docker data root or store (unmounting leftovers first)
  local m
  { awk '{print $2}' /proc/mounts | grep -F "$1/" || true; } | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  rm -rf "$1"
}

# ---------------------------------------------------------------------------------------------
# The image

build_image() {
  local ctx=$BENCH_DIR/ctx
  rm -rf "$ctx"
  mkdir -p "$ctx"
  echo "bench: building $IMG (trees: $TREES; ${RANDOM_MB} MiB random in $RANDOM_LAYERS layers)"
  # Layer 1 by import: the first tree; the others by ADD of tars (ADD extracts local tars).
  local first rest=() t i
  read -r first rest_str <<<"$TREES" || true
  read -ra rest <<<"${rest_str:-}"
  tar -C / --numeric-owner -cf "$ctx/layer1.tar" "${first#/}"
  dk import -c 'CMD ["/bin/sh"]' "$ctx/layer1.tar" strata-bench/base:1 >/dev/null
  rm -f "$ctx/layer1.tar"
  {
    echo "FROM strata-bench/base:1"
    echo "ENV BENCH=1"
  } >"$ctx/Dockerfile"
  if ((${#rest[@]})); then
    tar -C / --numeric-owner -cf "$ctx/trees.tar" "${rest[@]#/}"
    echo "ADD trees.tar /" >>"$ctx/Dockerfile"
  fi
  local per=$((RANDOM_MB / RANDOM_LAYERS))
  for ((i = 1; i <= RANDOM_LAYERS; i++)); do
    mkdir -p "$ctx/r$i/random$i"
    # 4 files per layer; openssl's CTR keystream is fast and incompressible.
    local j
    for ((j = 1; j <= 4; j++)); do
      { openssl enc -aes-128-ctr -pass "pass:strata-bench-$i-$j" -nosalt -pbkdf2 \
        </dev/zero 2>/dev/null || true; } | head -c $((per * 1024 * 1024 / 4)) >"$ctx/r$i/random$i/blob$j"
    done
    tar -C "$ctx/r$i" -cf "$ctx/random$i.tar" "random$i"
    rm -rf "$ctx/r$i"
    echo "ADD random$i.tar /data/" >>"$ctx/Dockerfile"
  done
  # Whiteouts: the image has no shell, so bring a static busybox and RUN it in exec form.
  if [[ -x /bin/busybox ]]; then
    cp /bin/busybox "$ctx/busybox"
    echo "COPY busybox /bin/busybox" >>"$ctx/Dockerfile"
    echo 'RUN ["/bin/busybox", "rm", "-rf", "/usr/share/doc"]' >>"$ctx/Dockerfile"
  fi
  echo 'LABEL org.strata.bench="big"' >>"$ctx/Dockerfile"
  DOCKER_BUILDKIT=0 dk build -q --network none --force-rm -t "$IMG" "$ctx" >/dev/null
  rm -rf "$ctx"
}

# ---------------------------------------------------------------------------------------------
# Measurements

declare -A WALL RSS DISK
# timed NAME CMD...: wall seconds and peak RSS (kB) of CMD via GNU time.
timed() {
  local name=$1
  shift
  /usr/bin/time -v -o "$BENCH_DIR/$name.time" "$@" >"$BENCH_DIR/$name.out" 2>"$BENCH_DIR/$name.err" || {
    echo "bench: '$*' failed:" >&2
    tail -n 5 "$BENCH_DIR/$name.err" >&2
    return 1
  }
  WALL[$name]=$(awk -F': ' '/Elapsed \(wall clock\)/ {
      n = split($2, p, ":"); s = 0; for (i = 1; i <= n; i++) s = s * 60 + p[i]; printf "%.2f", s }' \
    "$BENCH_DIR/$name.time")
  RSS[$name]=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$BENCH_DIR/$name.time")
}
warm() { cat "$@" >/dev/null; }
du_mb() { du -sxm "$1" | cut -f1; }

BUILD_ROOT=$BENCH_DIR/docker-build
LOAD_ROOT=$BENCH_DIR/docker-load
S1=$BENCH_DIR/strata-load
S2=$BENCH_DIR/strata-unpack
ARCHIVE=$BENCH_DIR/docker-save.tar

start_daemon "$BUILD_ROOT"
if [[ -n ${BENCH_REBUILD:-} ]] || ! dk image inspect "$IMG" >/dev/null 2>&1; then
  build_image
fi
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
start_daemon "$LOAD_ROOT"
warm "$ARCHIVE"
timed docker_load "${DK[@]}" load -i "$ARCHIVE"
RSS[docker_load]=$(daemon_hwm_kb)
stop_daemon
DISK[docker_load]=$(du_mb "$LOAD_ROOT")

# strata load, and load --unpack (if the CLI has it)
wipe "$S1"
warm "$ARCHIVE"
timed strata_load "$STRATA" --root "$S1" load -i "$ARCHIVE"
DISK[strata_load]=$(du_mb "$S1")
GOT_ID=$("$STRATA" --root "$S1" inspect "$IMG" 2>/dev/null | jq -r '.[0].Id' 2>/dev/null || true)
[[ $GOT_ID == "$IMAGE_ID" ]] || echo "bench: WARNING strata loaded image id '$GOT_ID', want $IMAGE_ID" >&2

if "$STRATA" load --help 2>&1 | grep -q -- '--unpack'; then
  wipe "$S2"
  warm "$ARCHIVE"
  timed strata_unpack "$STRATA" --root "$S2" load --unpack -i "$ARCHIVE"
  DISK[strata_unpack]=$(du_mb "$S2")
fi

# strata save
rm -f "$BENCH_DIR/strata-save.tar"
timed strata_save "$STRATA" --root "$S1" save -o "$BENCH_DIR/strata-save.tar" "$IMG"
if cmp -s "$BENCH_DIR/strata-save.tar" "$ARCHIVE"; then SAVE_SAME=yes; else SAVE_SAME=no; fi

# SHA-256 throughput
OPENSSL_MBS=$(openssl speed -evp sha256 -seconds 2 2>/dev/null |
  awk '/^sha256|^SHA256/ {v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6}')
HASHFILE=$BENCH_DIR/hash-input
head -c $((512 * 1024 * 1024)) "$ARCHIVE" >"$HASHFILE"
warm "$HASHFILE"
timed sha256sum sha256sum "$HASHFILE"
SHA256SUM_MBS=$(awk -v s="${WALL[sha256sum]}" 'BEGIN {printf "%.0f", 512 * 1.048576 / (s > 0 ? s : 0.01)}')
STRATA_HASH_MBS=skipped
# has_sub "CMD [SUB]": `strata [CMD] --help` lists it (unknown names still exit 0 with the help).
has_sub() {
  local -a w
  read -ra w <<<"$1"
  local last=${w[-1]}
  unset 'w[-1]'
  "$STRATA" "${w[@]}" --help 2>&1 |
    awk '/^Subcommands:/ {f = 1; next} f && /^  [a-z]/ {print $1}' | grep -qxF -- "$last"
}
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

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
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
if [[ ! -f $OUT/results.tsv ]]; then
  printf 'date\tstrata_commit\timage_mb\tdocker_load_s\tstrata_load_s\tstrata_unpack_s\tdocker_save_s\tstrata_save_s\tdocker_load_rss_kb\tstrata_load_rss_kb\tstrata_save_rss_kb\tdocker_disk_mb\tstrata_disk_mb\tstrata_unpack_disk_mb\n' \
    >"$OUT/results.tsv"
fi
printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$(date -u +%FT%TZ)" \
  "$(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo -)" "$ARCHIVE_MB" \
  "${WALL[docker_load]}" "${WALL[strata_load]}" "${WALL[strata_unpack]:--}" "${WALL[docker_save]}" \
  "${WALL[strata_save]}" "${RSS[docker_load]}" "${RSS[strata_load]}" "${RSS[strata_save]}" \
  "${DISK[docker_load]}" "${DISK[strata_load]}" "${DISK[strata_unpack]:--}" >>"$OUT/results.tsv"
