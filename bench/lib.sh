# Shared by the bench/*.sh scripts (sourced, not run): settings, a private dockerd per measurement,
# the big test image, timing with GNU time, and the results files.
#
# The sourcing script may set before sourcing: RANDOM_MB_DEFAULT (MiB of random data in the image
# when BENCH_RANDOM_MB is unset; 300). After sourcing it sets IMG (the image's tag) and calls
# bench_require for any tools of its own. Args: $1 = path to strata (default build/strata).
# Env: BENCH_DIR (data, default /var/tmp/strata-bench), BENCH_RANDOM_MB, BENCH_RANDOM_LAYERS (3),
#      BENCH_TREES (host dirs copied into the image), BENCH_REBUILD=1, DOCKER_BIN.
# shellcheck shell=bash

REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
STRATA=${1:-$REPO/build/strata}
[[ $STRATA == /* ]] || STRATA=$PWD/$STRATA
[[ -x $STRATA ]] || {
  echo "bench: no strata binary at $STRATA" >&2
  exit 1
}
BENCH_DIR=${BENCH_DIR:-/var/tmp/strata-bench}
RANDOM_MB=${BENCH_RANDOM_MB:-${RANDOM_MB_DEFAULT:-300}}
RANDOM_LAYERS=${BENCH_RANDOM_LAYERS:-3}
TREES=${BENCH_TREES:-/usr/include /usr/share/doc /usr/share/man /usr/share/locale}
OUT=$REPO/bench/out
IMG=strata-bench/big:1
mkdir -p "$BENCH_DIR" "$OUT"
export TZ=UTC LC_ALL=C.UTF-8
# One bench run at a time per BENCH_DIR: runs share the build daemon's data, the registry's
# storage and the scratch stores, and would also disturb each other's timings.
exec 9>"$BENCH_DIR/lock"
flock -n 9 || {
  echo "bench: another bench run holds $BENCH_DIR/lock; waiting" >&2
  flock 9
}

bench_require() { # bench_require TOOL...: exit unless every tool is on PATH
  local t
  for t in "$@"; do
    command -v "$t" >/dev/null || {
      echo "bench: $t missing (scripts/install-deps.sh)" >&2
      exit 1
    }
  done
}
bench_require dockerd jq /usr/bin/time openssl
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
    --log-level=warn </dev/null >>"$BENCH_DIR/dockerd.log" 2>&1 9>&- &
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
# Scripts add their own cleanup commands (run before the daemon stops) to BENCH_CLEANUP.
BENCH_CLEANUP=()
bench_exit() {
  local c
  for c in "${BENCH_CLEANUP[@]}"; do eval "$c" || true; done
  stop_daemon
  empty_trash
}
trap bench_exit EXIT
dk() { "${DK[@]}" "$@"; } # DK: the client command for the running daemon (for /usr/bin/time)
daemon_hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/$DAEMON_PID/status"; }
# daemon_cpu_s: CPU seconds (user + sys) of the running dockerd and its reaped children (unpigz).
daemon_cpu_s() {
  sed 's/.*) //' "/proc/$DAEMON_PID/stat" |
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($12 + $13 + $14 + $15) / hz}'
}

# wipe DIR: empty a docker data root or store (unmounting leftovers first). The tree is moved
# into BENCH_DIR/trash, which is deleted only when the script exits: on ext4 without a journal
# (this machine's root), allocating an inode skips every freed one whose inode-table block is
# cached and that was deleted in the last minute (five, once the block is dirty), looking each
# up (recently_deleted); files created right after deleting tens of thousands made the same
# pull 0.3 s (caches dropped) to 5 s (not dropped) slower, and a file-creation microbenchmark
# 2-3x slower. Nobody pulls right after deleting a store, so the timed runs do not either.
# Back-to-back runs of a script still meet the previous run's deletion.
wipe() {
  local m
  { awk '{print $2}' /proc/mounts | grep -F "$1/" || true; } | sort -r |
    while read -r m; do umount -l "$m" 2>/dev/null || true; done
  [[ -e $1 ]] || return 0
  mkdir -p "$BENCH_DIR/trash"
  mv "$1" "$(mktemp -u "$BENCH_DIR/trash/XXXXXX")"
}
empty_trash() { rm -rf "$BENCH_DIR/trash"; }

# forget_deleted: after a wipe, flush the dirty pages of what came before and drop the caches
# (root only), so the next timed run neither writes back nor benefits from the previous one's
# work. Callers warm what the timed run reads afterwards.
forget_deleted() {
  sync
  if [[ -w /proc/sys/vm/drop_caches ]]; then
    echo 3 >/proc/sys/vm/drop_caches
  else
    echo "bench: note: cannot drop caches (not root); runs after a wipe may be slower" >&2
  fi
}

# ---------------------------------------------------------------------------------------------
# The image, made offline from the host (in the running daemon, tagged $IMG):
#   layer 1  the first of TREES (/usr/include: ~9k small files)
#   layer 2  the other TREES (/usr/share/{doc,man,locale}: tens of thousands of files)
#   layers   RANDOM_LAYERS x RANDOM_MB/RANDOM_LAYERS MiB of random data
#   layer    RUN rm -rf /usr/share/doc (whiteouts) + metadata steps

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

# ensure_image: build $IMG in the running daemon unless it is there (or BENCH_REBUILD is set).
ensure_image() {
  if [[ -n ${BENCH_REBUILD:-} ]] || ! dk image inspect "$IMG" >/dev/null 2>&1; then
    build_image
  fi
}

# ---------------------------------------------------------------------------------------------
# Measurements

# shellcheck disable=SC2034 # filled here, read by the scripts
declare -A WALL RSS DISK CPU
# timed NAME CMD...: wall seconds, peak RSS (kB) and CPU seconds (user + sys) of CMD via GNU time.
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
  CPU[$name]=$(awk -F': ' '/(User|System) time \(seconds\)/ {s += $2} END {printf "%.2f", s}' \
    "$BENCH_DIR/$name.time")
}
warm() { cat "$@" >/dev/null; }
du_mb() { du -sxm "$1" | cut -f1; }

# has_sub "CMD [SUB]": `strata [CMD] --help` lists it (unknown names still exit 0 with the help).
has_sub() {
  local -a w
  read -ra w <<<"$1"
  local last=${w[-1]}
  unset 'w[-1]'
  "$STRATA" "${w[@]}" --help 2>&1 |
    awk '/^Subcommands:/ {f = 1; next} f && /^  [a-z]/ {print $1}' | grep -qxF -- "$last"
}

# openssl_sha256_mbs: OpenSSL's SHA-256 throughput on 16 KiB blocks, MB/s.
openssl_sha256_mbs() {
  openssl speed -evp sha256 -seconds 2 2>/dev/null |
    awk '/^sha256|^SHA256/ {v = $NF; sub(/k$/, "", v); printf "%.0f", v * 1000 / 1e6}'
}
# mbs BYTES SECONDS: throughput in MB/s.
mbs() { awk -v b="${1:-0}" -v s="${2:-0}" 'BEGIN {printf "%.0f", b / 1e6 / (s > 0 ? s : 0.01)}'; }

# ---------------------------------------------------------------------------------------------
# Report

ratio() { awk -v a="${1:-0}" -v b="${2:-0}" 'BEGIN { if (b > 0) printf "%.2fx", a / b; else print "-" }'; }
now_utc() { date -u +%FT%TZ; }
commit_id() { git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo -; }
# append_tsv FILE "COLUMN..." VALUE...: append one tab-separated row to FILE, first writing the
# column names (given space-separated) as its header line if FILE is new.
append_tsv() {
  local file=$1 header=$2
  shift 2
  [[ -f $file ]] || tr ' ' '\t' <<<"$header" >"$file"
  local IFS=$'\t'
  printf '%s\n' "$*" >>"$file"
}

free_port() { # free_port: a TCP port on 127.0.0.1 nobody listens on (now)
  python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# wait_registry NAME PORT PID LOG: until GET /v2/ on 127.0.0.1:PORT answers (30 s at most);
# exits the bench if the process dies or never answers.
wait_registry() {
  local i
  for ((i = 0; i < 300; i++)); do
    curl -sf -o /dev/null "http://127.0.0.1:$2/v2/" && return 0
    kill -0 "$3" 2>/dev/null || break
    sleep 0.1
  done
  echo "bench: $1 did not start on 127.0.0.1:$2 (see $4)" >&2
  exit 1
}

# distribution_config DATA_DIR PORT: Debian's docker-registry on 127.0.0.1:PORT, filesystem
# storage with the in-memory blob descriptor cache, no access log, no upload purging.
distribution_config() {
  cat <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  cache:
    blobdescriptor: inmemory
  filesystem:
    rootdirectory: $1
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: 127.0.0.1:$2
health:
  storagedriver:
    enabled: false
EOF
}
