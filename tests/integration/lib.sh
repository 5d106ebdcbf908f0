# Helpers for the integration tests. Each tests/integration/*_test.sh starts with
#   source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
# and is run by ctest as `bash <test> <path to the strata binary>`.
#
# Exit codes: 0 all checks passed, 1 a check failed, 77 skipped (a peer tool is missing and
# CI is not "true"; ctest reports SKIP). Checks keep going after a failure so one run shows
# every broken expectation; `finish` turns the tally into the exit code.
#
# Provided to tests:
#   STRATA (binary), ROOT (fresh store dir), WORK (scratch dir), REPO_ROOT, IT_DIR
#   strata ARGS...                 run the binary with --root "$ROOT"
#   srun ARGS...                   same but never fails: sets RC, OUT, ERR
#   need_peer NAME...              docker | skopeo | umoci | jq | python3 | any command
#   need_strata_cmd CMD...         fail clearly when the CLI lacks a subcommand
#   has_strata_cmd "CMD [SUB]"     whether `strata --help` lists it; has_strata_flag CMD FLAG
#   use_shared_dockerd             DOCKER_HOST -> the shared daemon (scripts/peers.sh)
#   start_private_dockerd NAME     an empty daemon of our own; sets NAME to its DOCKER_HOST
#   dk [-H host] ARGS...           the docker client (20.10 preferred)
#   ok / not_ok / note / assert_eq|ne|match|same_text|files_eq / fatal / skip / finish
#   chain_ids DIFFID...            ChainIDs computed with sha256sum
#   store_state                    images + files of ROOT, for "store unchanged" checks

set -euo pipefail
set -o errtrace

STRATA=${1:?usage: bash $0 /path/to/strata}
[[ $STRATA == /* ]] || STRATA=$PWD/$STRATA
TEST_NAME=$(basename "$0" .sh)
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
IT_DIR=${STRATA_IT_DIR:-/tmp/strata-it}
export STRATA_IT_DIR=$IT_DIR
WORK=$(mktemp -d "${TMPDIR:-/tmp}/strata-${TEST_NAME%_test}.XXXXXX")
ROOT=$WORK/root
unset STRATA_ROOT DOCKER_HOST DOCKER_CONTEXT
export LC_ALL=C.UTF-8 TZ=UTC

PASSES=0
FAILS=0
_CLEANUPS=()

# Registers a command (a string evaluated at exit, last registered runs first).
at_exit() { _CLEANUPS+=("$1"); }

_run_cleanups() {
  local rc=$? i
  set +e
  trap - ERR
  for ((i = ${#_CLEANUPS[@]} - 1; i >= 0; i--)); do
    eval "${_CLEANUPS[$i]}"
  done
  if [[ -n ${KEEP_WORK:-} ]]; then
    echo "# kept $WORK"
  else
    _unmount_below "$WORK"
    rm -rf "$WORK"
  fi
  exit "$rc"
}
trap _run_cleanups EXIT
# Say where an unexpected failure aborted the main script (not for $(...) subshells).
trap '_rc=$?; ((BASH_SUBSHELL)) || echo "# error: exit $_rc at ${BASH_SOURCE[0]##*/}:$LINENO: $BASH_COMMAND" >&2' ERR

_unmount_below() {
  local m
  { awk '{print $2}' /proc/mounts | grep -F "$1/" || true; } | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

# ---------------------------------------------------------------------------------------------
# Reporting

ok() {
  PASSES=$((PASSES + 1))
  echo "ok - $*"
}
not_ok() {
  FAILS=$((FAILS + 1))
  echo "not ok - $*"
}
note() { echo "# $*"; }
fatal() {
  echo "FATAL: $*" >&2
  echo "not ok - $*"
  exit 1
}
skip() {
  echo "SKIP: $*"
  exit 77
}
finish() {
  echo "# $TEST_NAME: $PASSES ok, $FAILS not ok"
  ((FAILS == 0)) || exit 1
  exit 0
}

# assert_eq EXPECTED ACTUAL MESSAGE
assert_eq() {
  if [[ "$1" == "$2" ]]; then
    ok "$3"
  else
    not_ok "$3"
    echo "#   expected: $(printf '%q' "$1" | head -c 2000)"
    echo "#   actual:   $(printf '%q' "$2" | head -c 2000)"
  fi
}

assert_ne() {
  if [[ "$1" != "$2" ]]; then ok "$3"; else
    not_ok "$3"
    echo "#   both are: $(printf '%q' "$1" | head -c 2000)"
  fi
}

# assert_match EXTENDED_REGEX TEXT MESSAGE (case-insensitive)
assert_match() {
  if grep -Eqi -- "$1" <<<"$2"; then ok "$3"; else
    not_ok "$3"
    echo "#   no match for /$1/ in: $(head -c 2000 <<<"$2")"
  fi
}

# assert_same_text EXPECTED ACTUAL MESSAGE: like assert_eq for multi-line text; shows a diff.
assert_same_text() {
  if [[ "$1" == "$2" ]]; then ok "$3"; else
    not_ok "$3"
    diff <(echo "$1") <(echo "$2") | head -n 40 | sed 's/^/#   /' || true
  fi
}

# assert_files_eq FILE1 FILE2 MESSAGE: shows a diff on mismatch
assert_files_eq() {
  if cmp -s "$1" "$2"; then ok "$3"; else
    not_ok "$3"
    diff -u "$1" "$2" | head -n 60 | sed 's/^/#   /' || true
  fi
}

# ---------------------------------------------------------------------------------------------
# Peers

# need_peer NAME...: the named tool must be usable, else skip (or fail when CI=true).
need_peer() {
  local name missing=()
  for name in "$@"; do
    case $name in
      docker)
        command -v dockerd >/dev/null && _docker_bin >/dev/null || missing+=("docker (dockerd + client)")
        ;;
      *) command -v "$name" >/dev/null || missing+=("$name") ;;
    esac
  done
  if ((${#missing[@]})); then
    local why="peer(s) not installed: ${missing[*]} (run scripts/install-deps.sh)"
    if [[ ${CI:-} == true ]]; then
      fatal "$why [CI=true: missing peers are failures]"
    fi
    skip "$why"
  fi
  if [[ " $* " == *" docker "* ]] && [[ $(id -u) != 0 ]]; then
    [[ ${CI:-} == true ]] && fatal "docker peer needs root to run a private dockerd"
    skip "docker peer needs root to run a private dockerd"
  fi
}

_docker_bin() {
  if [[ -n ${DOCKER_BIN:-} ]]; then
    echo "$DOCKER_BIN"
  elif [[ -x /usr/bin/docker ]]; then
    echo /usr/bin/docker
  else
    command -v docker
  fi
}

# dk ARGS...: docker client against $DOCKER_HOST (set by use_shared_dockerd / start_private_dockerd).
dk() {
  DOCKER_CONFIG=${DOCKER_CONFIG:-$IT_DIR/cli} "$(_docker_bin)" "$@"
}

# use_shared_dockerd: start (or reuse) the daemon shared by all tests and hold it while we run.
use_shared_dockerd() {
  need_peer docker
  local host
  host=$(bash "$REPO_ROOT/scripts/peers.sh" start) || fatal "could not start the shared dockerd"
  exec 8>"$IT_DIR/inuse"
  flock -s 8
  export DOCKER_HOST=$host DOCKER_CONFIG=$IT_DIR/cli
  SHARED_DOCKER_HOST=$host
}

# start_private_dockerd VAR: an empty daemon for this test only (stopped and deleted at exit).
# Sets VAR to its DOCKER_HOST value; use it as `DOCKER_HOST=$VAR dk ...`.
start_private_dockerd() {
  need_peer docker
  local var=$1 dir i pid
  # Under IT_DIR (kept short: sockets live below it) so `scripts/peers.sh stop` can also end
  # daemons of a test that was killed before its exit trap ran.
  mkdir -p "$IT_DIR/p"
  dir=$(mktemp -d "$IT_DIR/p/XXXXXX")
  mkdir -p "$dir/x" "$dir/cli"
  TZ=UTC setsid dockerd --data-root "$dir/data" --exec-root "$dir/x" \
    --host "unix://$dir/d.sock" --pidfile "$dir/pid" --iptables=false --ip-masq=false \
    --bridge=none --log-level=warn </dev/null >"$dir/log" 2>&1 7>&- 8>&- 9>&- &
  pid=$!
  at_exit "_stop_private_dockerd $pid '$dir'"
  for ((i = 0; i < 600; i++)); do
    DOCKER_CONFIG=$dir/cli "$(_docker_bin)" -H "unix://$dir/d.sock" version >/dev/null 2>&1 && break
    kill -0 "$pid" 2>/dev/null || {
      tail -n 20 "$dir/log" >&2
      fatal "private dockerd exited during start"
    }
    sleep 0.1
  done
  DOCKER_CONFIG=$dir/cli "$(_docker_bin)" -H "unix://$dir/d.sock" version >/dev/null 2>&1 ||
    fatal "private dockerd did not answer within 60 s (log: $dir/log)"
  printf -v "$var" '%s' "unix://$dir/d.sock"
}

_stop_private_dockerd() {
  local pid=$1 dir=$2 i cpid
  kill -TERM "$pid" 2>/dev/null
  for ((i = 0; i < 150; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  cpid=$(cat "$dir/x/containerd/containerd.pid" 2>/dev/null)
  [[ -n $cpid ]] && kill -TERM "$cpid" 2>/dev/null
  _unmount_below "$dir"
  rm -rf "$dir"
}

# ---------------------------------------------------------------------------------------------
# strata

strata() { "$STRATA" --root "$ROOT" "$@"; }

# srun ARGS...: runs strata, never aborts; sets RC, OUT (stdout) and ERR (stderr).
srun() {
  local o e
  o=$(mktemp "$WORK/out.XXXXXX")
  e=$(mktemp "$WORK/err.XXXXXX")
  RC=0
  "$STRATA" --root "$ROOT" "$@" >"$o" 2>"$e" </dev/null || RC=$?
  OUT=$(cat "$o")
  ERR=$(cat "$e")
  rm -f "$o" "$e"
}

# need_strata_cmd CMD...: the CLI must list these subcommands ("image prune" = nested). A
# missing command is a failure, not a skip: the contract says it should be there.
need_strata_cmd() {
  [[ -x $STRATA ]] || fatal "strata binary not found at $STRATA"
  local c
  for c in "$@"; do
    has_strata_cmd "$c" || fatal "strata has no '$c' subcommand yet (not in 'strata --help')"
  done
}

# has_strata_cmd "CMD [SUB]": whether `strata [CMD] --help` lists the (sub)command. (Older
# builds answered `strata nosuch --help` with the main help and exit 0, so the exit code alone
# proves nothing.)
has_strata_cmd() {
  local -a words
  read -ra words <<<"$1"
  local last=${words[-1]}
  unset 'words[-1]'
  "$STRATA" "${words[@]}" --help 2>&1 |
    awk '/^Subcommands:/ {f = 1; next} f && /^  [a-z]/ {print $1}' | grep -qxF -- "$last"
}

# has_strata_flag "CMD" FLAG: whether `strata CMD --help` mentions FLAG.
has_strata_flag() {
  # shellcheck disable=SC2086
  "$STRATA" $1 --help 2>&1 | grep -q -- "$2"
}

# image_id REF: the full image ID (sha256:...) according to `strata inspect`.
strata_image_id() { strata inspect "$1" | jq -r '.[0].Id'; }

# chain_ids DIFFID...: prints one ChainID per line (ChainID(n) = sha256("ChainID(n-1) DiffID(n)")).
chain_ids() {
  local prev="" d
  for d in "$@"; do
    if [[ -z $prev ]]; then
      prev=$d
    else
      prev="sha256:$(printf '%s %s' "$prev" "$d" | sha256sum | cut -d' ' -f1)"
    fi
    echo "$prev"
  done
}

# store_state: the images of ROOT and the list of its files (SQLite -wal/-shm/-journal and
# lock files excluded), for "a failed command left the store unchanged" checks.
store_state() {
  echo "== images"
  "$STRATA" --root "$ROOT" images -a --no-trunc -q 2>&1 | sort -u
  echo "== files"
  if [[ -d $ROOT ]]; then
    (cd "$ROOT" && find . \( -type f -o -type l \) ! -name '*-wal' ! -name '*-shm' \
      ! -name '*-journal' ! -name '*.lock' ! -name 'lock' | sort)
  fi
}

# sha256_file FILE: "sha256:<hex>"
sha256_file() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
