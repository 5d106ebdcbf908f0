#!/usr/bin/env bash
# `strata registry serve` under connection abuse (issue 15, items 2 and 3), on loopback:
#   - 400 connections that each sent part of a request head cost the server a few bytes each,
#     not a read buffer each (RSS once grew by 256 KiB per connection);
#   - run out of file descriptors (ulimit -n 64, 100 idle connections), it neither spins nor
#     stops serving: idle connections are shed for new ones, and CPU stays near zero.
# The header and body timeouts themselves are unit-tested (http_server_test).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer python3 curl
need_strata_cmd "registry serve"

# serve NAME ULIMIT: registry serve on a free port under `ulimit -n ULIMIT`; sets NAME_PID and
# NAME_PORT once GET /v2/ answers.
serve() {
  local port pid i
  port=$(_free_port)
  _spawn pid "$WORK/$1.log" bash -c "ulimit -n $2 && exec \"\$0\" --root \"\$1\" registry serve \
    --addr 127.0.0.1:$port" "$STRATA" "$WORK/root-$1"
  for ((i = 0; i < 200; i++)); do
    [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/v2/" || true) == 200 ]] && break
    sleep 0.05
  done
  printf -v "$1_PID" '%s' "$pid"
  printf -v "$1_PORT" '%s' "$port"
}
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # utime + stime

# hold PORT N SECONDS [TEXT]: N connections, each sending TEXT (may be empty), held open SECONDS;
# prints "OPEN <count>" once they are all connected, then waits, then closes them.
hold() {
  python3 - "$@" <<'PY'
import socket, sys, time
port, n, secs = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
text = sys.argv[4].encode() if len(sys.argv) > 4 else b""
conns = []
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    if text:
        s.sendall(text)
    conns.append(s)
print("OPEN", len(conns), flush=True)
time.sleep(secs)
for s in conns:
    s.close()
PY
}

# --- many partial heads: memory -------------------------------------------------------------------
CASE="partial heads"
serve MEM 4096
before=$(rss_kb "$MEM_PID")
hold "$MEM_PORT" 400 4 $'GET /v2/ HTTP/1.1\r\nX-Slow: a' >"$WORK/hold-mem.out" &
holder=$!
for ((i = 0; i < 100; i++)); do
  grep -q OPEN "$WORK/hold-mem.out" 2>/dev/null && break
  sleep 0.1
done
sleep 1
during=$(rss_kb "$MEM_PID")
wait "$holder" || true
grown=$(((during - before) / 1024))
note "[$CASE] RSS $((before / 1024)) MiB -> $((during / 1024)) MiB with 400 partial heads"
((grown < 40)) && ok "[$CASE] 400 partial heads grow the server by ${grown} MiB (< 40)" ||
  not_ok "[$CASE] 400 partial heads grow the server by ${grown} MiB (a read buffer each?)"
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$MEM_PORT/v2/")" \
  "[$CASE] the server still answers"

# --- out of descriptors: no spin, idle connections shed ---------------------------------------------
CASE="EMFILE"
serve FD 64
hold "$FD_PORT" 100 6 >"$WORK/hold-fd.out" &
holder=$!
for ((i = 0; i < 100; i++)); do
  grep -q OPEN "$WORK/hold-fd.out" 2>/dev/null && break
  sleep 0.1
done
sleep 0.5
t0=$(cpu_ticks "$FD_PID")
sleep 3
t1=$(cpu_ticks "$FD_PID")
ticks=$((t1 - t0))
hz=$(getconf CLK_TCK)
# A spinning server burns a core: 3 s of CPU in 3 s. Allow a tenth of that.
((ticks * 10 < 3 * hz)) && ok "[$CASE] out of descriptors, the server does not spin ($ticks ticks in 3 s)" ||
  not_ok "[$CASE] out of descriptors, the server spins: $ticks ticks of CPU in 3 s (CLK_TCK $hz)"
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$FD_PORT/v2/" || true)
assert_eq 200 "$code" "[$CASE] a new client is served while idle connections fill the descriptor table"
wait "$holder" || true
assert_eq 200 "$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "http://127.0.0.1:$FD_PORT/v2/")" \
  "[$CASE] and after they are gone"
kill -0 "$FD_PID" 2>/dev/null && ok "[$CASE] the server is alive" || not_ok "[$CASE] the server died"

finish
