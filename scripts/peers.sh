#!/usr/bin/env bash
# Manages the dockerd shared by the integration tests (tests/integration/).
#
#   scripts/peers.sh start           start it (or reuse the one running); prints its DOCKER_HOST
#   scripts/peers.sh stop [--purge]  stop it (and any private test daemon left behind);
#                                    --purge also deletes its data (the cached fixture images)
#   scripts/peers.sh status          exit 0 if it answers
#   scripts/peers.sh env             print `export DOCKER_HOST=...` lines for a shell
#
# Everything lives under STRATA_IT_DIR (default /tmp/strata-it; keep it short: the docker and
# containerd sockets live there and unix socket paths are limited to 108 bytes). Starting is
# serialised with a lock, so concurrent tests share one daemon. A watchdog stops the daemon after
# STRATA_IT_IDLE_SECS (default 180) seconds in which no test held the shared lock
# $STRATA_IT_DIR/inuse, so running ctest by hand never leaves a daemon behind for long;
# scripts/test.sh and .ci/run stop it explicitly.
set -euo pipefail

IT_DIR=${STRATA_IT_DIR:-/tmp/strata-it}
SOCK=$IT_DIR/docker.sock
DATA=$IT_DIR/data
EXEC=$IT_DIR/x
PIDFILE=$IT_DIR/dockerd.pid
LOG=$IT_DIR/dockerd.log
IDLE_SECS=${STRATA_IT_IDLE_SECS:-180}

docker_bin() {
  if [[ -n ${DOCKER_BIN:-} ]]; then
    echo "$DOCKER_BIN"
  elif [[ -x /usr/bin/docker ]]; then
    echo /usr/bin/docker # Debian's docker.io client matches the 20.10 daemon
  else
    command -v docker
  fi
}

answers() {
  [[ -S $SOCK ]] && DOCKER_CONFIG=$IT_DIR/cli "$(docker_bin)" -H "unix://$SOCK" version \
    >/dev/null 2>&1
}

daemon_pid() {
  local pid
  pid=$(cat "$PIDFILE" 2>/dev/null) || return 1
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

# Unmounts anything still mounted below a directory (overlay mounts left by a crashed daemon).
unmount_below() {
  local dir=$1 m
  [[ -d $dir ]] || return 0
  { awk '{print $2}' /proc/mounts | grep -F "$dir/" || true; } | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done
}

stop_daemon() {
  local pid i
  if pid=$(daemon_pid); then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      echo "peers: dockerd $pid did not stop in 15 s; killing it" >&2
      kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  # dockerd normally stops the containerd it started; make sure by its own pid file.
  if pid=$(cat "$EXEC/containerd/containerd.pid" 2>/dev/null) && [[ -n $pid ]] &&
    kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
  fi
  unmount_below "$IT_DIR"
  rm -f "$PIDFILE" "$SOCK"
  rm -rf "$EXEC"
}

# Private daemons of tests (tests/integration/lib.sh start_private_dockerd) live in $IT_DIR/p/;
# normally their test stops them, this catches tests that were killed.
stop_private_daemons() {
  local d pid i
  for d in "$IT_DIR"/p/*/; do
    [[ -d $d ]] || continue
    pid=$(cat "$d/pid" 2>/dev/null) || pid=
    if [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null &&
      tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF -- "--pidfile ${d%/}/pid"; then
      kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
      done
      kill -KILL "$pid" 2>/dev/null || true
    fi
    unmount_below "${d%/}"
    rm -rf "$d"
  done
}

watchdog() {
  # Runs detached. Stops the daemon once it has been unused for IDLE_SECS.
  local idle=0
  exec 8>"$IT_DIR/inuse"
  while daemon_pid >/dev/null; do
    sleep 5
    if flock -n -x 8; then
      flock -u 8
      idle=$((idle + 5))
    else
      idle=0
    fi
    if ((idle >= IDLE_SECS)); then
      exec 9>"$IT_DIR/lock"
      flock -x 9
      # Re-check under the start lock: a test may have grabbed the daemon meanwhile.
      if flock -n -x 8; then
        echo "peers: idle for ${idle}s, stopping dockerd" >>"$LOG"
        stop_daemon
        flock -u 8
      fi
      exit 0
    fi
  done
}

start() {
  mkdir -p "$IT_DIR" "$IT_DIR/cli"
  exec 9>"$IT_DIR/lock"
  flock -x 9
  if answers; then
    echo "unix://$SOCK"
    return 0
  fi
  command -v dockerd >/dev/null || {
    echo "peers: dockerd not found (install docker.io: scripts/install-deps.sh)" >&2
    exit 1
  }
  stop_daemon # leftovers of a crashed run
  mkdir -p "$DATA" "$EXEC"
  # TZ=UTC: docker save's legacy v1 ids depend on the daemon's time zone.
  # --bridge=none/--iptables=false: no network setup; builds use --network none.
  # fds 7-9 are closed so the daemon never inherits a lock held by our caller.
  TZ=UTC setsid dockerd \
    --data-root "$DATA" --exec-root "$EXEC" --host "unix://$SOCK" --pidfile "$PIDFILE" \
    --iptables=false --ip-masq=false --bridge=none --log-level=warn \
    </dev/null >>"$LOG" 2>&1 7>&- 8>&- 9>&- &
  local i
  for ((i = 0; i < 600; i++)); do
    answers && break
    if ((i > 20)) && ! daemon_pid >/dev/null; then
      echo "peers: dockerd exited during start; last log lines:" >&2
      tail -n 20 "$LOG" >&2
      exit 1
    fi
    sleep 0.1
  done
  if ! answers; then
    echo "peers: dockerd did not answer within 60 s; last log lines:" >&2
    tail -n 20 "$LOG" >&2
    exit 1
  fi
  setsid bash "${BASH_SOURCE[0]}" _watchdog </dev/null >>"$LOG" 2>&1 7>&- 8>&- 9>&- &
  echo "unix://$SOCK"
}

case ${1:-} in
  start) start ;;
  stop)
    mkdir -p "$IT_DIR"
    exec 9>"$IT_DIR/lock"
    flock -x 9
    stop_daemon
    stop_private_daemons
    if [[ ${2:-} == --purge ]]; then
      unmount_below "$IT_DIR"
      rm -rf "$IT_DIR"
    fi
    ;;
  status) answers ;;
  env)
    echo "export DOCKER_HOST=unix://$SOCK"
    echo "export DOCKER_CONFIG=$IT_DIR/cli"
    ;;
  _watchdog) watchdog ;;
  *)
    echo "usage: $0 start|stop [--purge]|status|env" >&2
    exit 2
    ;;
esac
