#!/usr/bin/env bash
# `strata registry serve` vs Debian's docker-registry (distribution 2.8, filesystem storage, the
# in-memory blob descriptor cache, no access log), both on 127.0.0.1, in one run on the same data:
#   (a) requests/s of a manifest GET by tag (Accept: docker schema2 + OCI manifest; wrk -t2) and
#       of a blob HEAD (ab -i -k: wrk 4.1 cannot do HEAD, its parser waits for the body that
#       Content-Length announces) at 2, 16 and 64 connections, with wrk's p99 latency;
#   (b) MB/s of one GET of a 100 MB blob (curl -o /dev/null, best of 3, blob read once before),
#       next to what loopback carries (the same curl from a server that only sendfile()s the
#       file, best of 5);
#   (c) wall time of `docker push` of lib.sh's image into each (docker compresses: mostly client
#       work), and of `skopeo copy oci:… docker://…` of the same image already compressed (the
#       server's upload path: PATCH streaming, sha256, writes);
#   (d) peak RSS (VmHWM) and CPU seconds of each server process over the whole run.
# Ratios are strata/distribution: > 1 is better for req/s and MB/s, < 1 for seconds and RSS.
#
#   bench/registry_server.sh [path/to/strata]        (default: build/strata)
#
# Env: as lib.sh (BENCH_DIR, BENCH_RANDOM_MB, BENCH_RANDOM_LAYERS, BENCH_TREES, BENCH_REBUILD),
#   BENCH_RANDOM_MB defaults to 300 here (≈ 450 MB compressed with the default trees; 450 gives
#   pull_push.sh's ≥ 500 MB image and reuses it when built), BENCH_WRK_SECONDS (4) per wrk/ab
#   run, BENCH_CONNECTIONS ("2 16 64"), BENCH_BLOB_MB (100).
#   BENCH_STRATA_STANDIN=docker-registry: while strata has no `registry serve`, a second
#   docker-registry plays its part (to check this script; the report says so).
# Both registries' storage lives under BENCH_DIR and is wiped at each run. The machine is
# shared by the load generator and the server under test: compare the two columns, not runs.
# Results: printed (and bench/out/registry_server.txt), appended to bench/out/registry_server.tsv.
set -euo pipefail

RANDOM_MB_DEFAULT=300
# shellcheck source=bench/lib.sh
source "$(dirname "$0")/lib.sh"
bench_require docker-registry skopeo curl python3 wrk ab
IMG=strata-bench/big-${RANDOM_MB}m:1
WRK_SECONDS=${BENCH_WRK_SECONDS:-4}
read -ra CONNS <<<"${BENCH_CONNECTIONS:-2 16 64}"
BLOB_MB=${BENCH_BLOB_MB:-100}

BUILD_ROOT=$BENCH_DIR/docker-build # shared with load_save.sh and pull_push.sh
RS=$BENCH_DIR/registry-server      # this script's data
OCI_DIR=$RS/oci                    # the image compressed once by skopeo (cached by image ID)
BLOB=$RS/blob-${BLOB_MB}m
# Debian's interpreter when there is one (a version manager's shim would sit between us and the pid).
PY3=python3
[[ ! -x /usr/bin/python3 ]] || PY3=/usr/bin/python3
MANIFEST_ACCEPT='application/vnd.docker.distribution.manifest.v2+json,application/vnd.oci.image.manifest.v1+json'
SERVERS=(strata distribution)
mkdir -p "$RS"

STANDIN=
if ! has_sub "registry serve"; then
  if [[ ${BENCH_STRATA_STANDIN:-} == docker-registry ]]; then
    STANDIN=docker-registry
    echo "bench: WARNING '$STRATA' has no 'registry serve': a second docker-registry stands in for it" >&2
  else
    echo "bench: '$STRATA' has no 'registry serve' subcommand (BENCH_STRATA_STANDIN=docker-registry" \
      "runs the script with a stand-in)" >&2
    exit 1
  fi
fi

# ---------------------------------------------------------------------------------------------
# The two servers

declare -A PID ADDR
# start_server NAME: a fresh, empty registry on a free port; waits for GET /v2/ to answer 200.
start_server() {
  local name=$1 dir=$RS/$1 port
  wipe "$dir"
  mkdir -p "$dir"
  port=$(free_port)
  if [[ $name == strata && -z $STANDIN ]]; then
    setsid "$STRATA" --root "$dir/root" registry serve --addr "127.0.0.1:$port" \
      </dev/null >"$dir/log" 2>&1 9>&- &
  else
    distribution_config "$dir/data" "$port" >"$dir/config.yml"
    setsid docker-registry serve "$dir/config.yml" </dev/null >"$dir/log" 2>&1 9>&- &
  fi
  PID[$name]=$!
  ADDR[$name]=127.0.0.1:$port
  wait_registry "$name registry" "$port" "${PID[$name]}" "$dir/log"
}
stop_servers() {
  local s
  for s in "${!PID[@]}"; do
    kill -TERM "${PID[$s]}" 2>/dev/null || true
    wait "${PID[$s]}" 2>/dev/null || true
  done
}
BENCH_CLEANUP+=(stop_servers)
server_hwm_kb() { awk '/^VmHWM/ {print $2}' "/proc/${PID[$1]}/status"; }
server_cpu_s() {
  sed 's/.*) //' "/proc/${PID[$1]}/stat" |
    awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($12 + $13 + $14 + $15) / hz}'
}
alive() { # alive NAME: exit unless the server still runs
  kill -0 "${PID[$1]}" 2>/dev/null || {
    echo "bench: the $1 registry died (see $RS/$1/log)" >&2
    exit 1
  }
}
manifest() { # manifest NAME REPOSITORY TAG
  curl -sf -H "Accept: $MANIFEST_ACCEPT" "http://${ADDR[$1]}/v2/$2/manifests/$3"
}
# upload_blob NAME REPOSITORY FILE: POST, then one PUT ?digest= with the bytes (expects 201).
upload_blob() {
  local loc code digest
  digest=sha256:$(sha256sum "$3" | cut -d' ' -f1)
  loc=$(curl -s -o /dev/null -D - -X POST "http://${ADDR[$1]}/v2/$2/blobs/uploads/" | tr -d '\r' |
    sed -n 's/^[Ll]ocation: *//p')
  [[ $loc == http://* ]] || loc=http://${ADDR[$1]}$loc
  [[ $loc == *\?* ]] && loc="$loc&digest=$digest" || loc="$loc?digest=$digest"
  code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' --data-binary @"$3" "$loc")
  [[ $code == 201 ]] || {
    echo "bench: uploading $3 to $1 answered $code" >&2
    exit 1
  }
}

# ---------------------------------------------------------------------------------------------
# The image, the servers, the pushes

LOADAVG=$(cut -d' ' -f1-3 /proc/loadavg)
start_daemon "$BUILD_ROOT"
ensure_image
IMAGE_ID=$(dk image inspect -f '{{.Id}}' "$IMG")
NLAYERS=$(dk image inspect -f '{{len .RootFS.Layers}}' "$IMG")
# The same image compressed once (skopeo, from the daemon), for the pre-compressed push.
if [[ $(cat "$OCI_DIR/image-id" 2>/dev/null) != "$IMAGE_ID" ]]; then
  echo "bench: skopeo copy docker-daemon:$IMG oci:$OCI_DIR (once per image)"
  rm -rf "$OCI_DIR"
  skopeo --insecure-policy copy -q --src-daemon-host "unix://$DAEMON_SOCK" \
    "docker-daemon:$IMG" "oci:$OCI_DIR:1" >/dev/null
  echo "$IMAGE_ID" >"$OCI_DIR/image-id"
fi

for s in "${SERVERS[@]}"; do start_server "$s"; done
echo "bench: strata at ${ADDR[strata]}${STANDIN:+ (stand-in: $STANDIN)}, distribution at ${ADDR[distribution]}"

# (c) docker push, layer files warm (docker save reads what push reads), then skopeo's
# pre-compressed copy into another repository of each.
dk save "$IMG" >/dev/null
for s in "${SERVERS[@]}"; do
  ref=${ADDR[$s]}/bench/big:1
  dk tag "$IMG" "$ref"
  echo "bench: docker push $ref ($s)"
  sync
  timed "push_$s" "${DK[@]}" push "$ref"
  dk rmi "$ref" >/dev/null
  alive "$s"
done
stop_daemon
warm "$OCI_DIR"/blobs/sha256/*
for s in "${SERVERS[@]}"; do
  echo "bench: skopeo copy oci:$OCI_DIR docker://${ADDR[$s]}/bench/skopeo:1 ($s)"
  sync
  timed "skopeo_$s" skopeo --insecure-policy copy -q --dest-tls-verify=false \
    "oci:$OCI_DIR:1" "docker://${ADDR[$s]}/bench/skopeo:1"
  alive "$s"
done

# Both hold the same bytes: docker's gzip is deterministic, so the manifests are equal.
M_STRATA=$(manifest strata bench/big 1)
M_DIST=$(manifest distribution bench/big 1)
NOTES=()
[[ $M_STRATA == "$M_DIST" ]] || NOTES+=("the two registries hold different bench/big:1 manifests")
[[ $(jq -r .config.digest <<<"$M_DIST") == "$IMAGE_ID" ]] || NOTES+=("pushed config is not $IMAGE_ID")
COMPRESSED=$(jq '([.layers[].size] | add) + .config.size' <<<"$M_DIST")
BIG=$(jq -r '.layers | max_by(.size) | .digest' <<<"$M_DIST")
BIG_SIZE=$(jq -r '.layers | max_by(.size) | .size' <<<"$M_DIST")
MANIFEST_DIGEST=sha256:$(printf '%s' "$M_DIST" | sha256sum | cut -d' ' -f1)

# ---------------------------------------------------------------------------------------------
# (b) one GET of a BLOB_MB blob, and loopback

if [[ ! -s $BLOB ]]; then
  { openssl enc -aes-128-ctr -pass pass:strata-bench-blob -nosalt -pbkdf2 </dev/zero 2>/dev/null ||
    true; } | head -c $((BLOB_MB * 1000 * 1000)) >"$BLOB"
fi
BLOB_DIGEST=sha256:$(sha256sum "$BLOB" | cut -d' ' -f1)
BLOB_SIZE=$(stat -c %s "$BLOB")
declare -A GET_MBS
for s in "${SERVERS[@]}"; do
  upload_blob "$s" bench/blob "$BLOB"
  url=http://${ADDR[$s]}/v2/bench/blob/blobs/$BLOB_DIGEST
  got=$(curl -sf "$url" | sha256sum | cut -d' ' -f1) # also reads the blob into the page cache
  [[ sha256:$got == "$BLOB_DIGEST" ]] || NOTES+=("$s served the ${BLOB_MB} MB blob with other bytes")
  best=
  for i in 1 2 3; do
    read -r t n < <(curl -sf -o /dev/null -w '%{time_total} %{size_download}\n' "$url")
    [[ $n == "$BLOB_SIZE" ]] || NOTES+=("$s: GET of the blob gave $n bytes, not $BLOB_SIZE")
    best=$(awk -v a="$t" -v b="${best:-$t}" 'BEGIN {print (a < b ? a : b)}')
  done
  GET_MBS[$s]=$(mbs "$BLOB_SIZE" "$best")
  alive "$s"
done
# Loopback: the same curl GET from a server that only sends the file (sendfile after a fixed
# header), best of 5: what curl can receive over 127.0.0.1 on this machine.
rm -f "$RS/loopback.port"
"$PY3" - "$BLOB" "$RS/loopback.port" <<'PY' 9>&- &
import os, socket, sys
path, port_file = sys.argv[1:3]
size = os.path.getsize(path)
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
with open(port_file + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(port_file + ".tmp", port_file)
for _ in range(6):
    conn, _ = srv.accept()
    req = b""
    while b"\r\n\r\n" not in req:
        chunk = conn.recv(65536)
        if not chunk:
            break
        req += chunk
    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\n"
                 b"Content-Length: %d\r\nConnection: close\r\n\r\n" % size)
    with open(path, "rb") as f:
        conn.sendfile(f)
    conn.close()
PY
LOOP_PID=$!
for ((i = 0; i < 100; i++)); do [[ -s $RS/loopback.port ]] && break || sleep 0.05; done
LOOP_S=
for i in 1 2 3 4 5; do
  t=$(curl -sf -o /dev/null -w '%{time_total}' "http://127.0.0.1:$(cat "$RS/loopback.port")/blob")
  LOOP_S=$(awk -v a="$t" -v b="${LOOP_S:-$t}" 'BEGIN {print (a < b ? a : b)}')
done
kill "$LOOP_PID" 2>/dev/null || true
wait "$LOOP_PID" 2>/dev/null || true
LOOP_MBS=$(mbs "$BLOB_SIZE" "$LOOP_S")

# ---------------------------------------------------------------------------------------------
# (a) requests/s: manifest GET by tag (wrk) and blob HEAD (ab)

declare -A RPS P99 ERRS
# run_wrk NAME KEY CONNS: GET the manifest; sets RPS[KEY], P99[KEY] (ms), ERRS[KEY].
run_wrk() {
  local out=$RS/wrk-$2.out
  wrk -t2 -c"$3" -d"${WRK_SECONDS}s" --latency -H "Accept: $MANIFEST_ACCEPT" \
    "http://${ADDR[$1]}/v2/bench/big/manifests/1" >"$out" 2>&1
  RPS[$2]=$(awk '/^Requests\/sec:/ {printf "%.0f", $2}' "$out")
  P99[$2]=$(awk '$1 == "99%" {v = $2; u = v; sub(/[0-9.]+/, "", u); sub(/[a-z]+$/, "", v);
    printf "%.2f", v * (u == "s" ? 1000 : u == "us" ? 0.001 : 1)}' "$out")
  ERRS[$2]=$(awk '/Non-2xx|Socket errors/ {sub(/^ */, ""); printf "%s%s", sep, $0; sep = "; "}' "$out")
}
# run_ab NAME KEY CONNS: HEAD the largest layer blob; sets RPS[KEY], ERRS[KEY].
run_ab() {
  local out=$RS/ab-$2.out
  # -n after -t: -t alone caps the run at 50000 requests.
  ab -q -i -k -c "$3" -t "$WRK_SECONDS" -n 100000000 \
    "http://${ADDR[$1]}/v2/bench/big/blobs/$BIG" >"$out" 2>&1 || true
  RPS[$2]=$(awk '/^Requests per second:/ {printf "%.0f", $4}' "$out")
  ERRS[$2]=$(awk '/^(Failed requests|Non-2xx responses):/ && $NF > 0 {printf "%s%s", sep, $0; sep = "; "}' "$out")
  grep -q '^Keep-Alive requests: *[1-9]' "$out" || ERRS[$2]+="${ERRS[$2]:+; }no keep-alive"
}
for s in "${SERVERS[@]}"; do # the answers are right before they are counted
  h=$(curl -s -I -H "Accept: $MANIFEST_ACCEPT" "http://${ADDR[$s]}/v2/bench/big/manifests/1" | tr -d '\r')
  grep -qi "^Docker-Content-Digest: $MANIFEST_DIGEST" <<<"$h" ||
    NOTES+=("$s: HEAD of the manifest does not give Docker-Content-Digest $MANIFEST_DIGEST")
  h=$(curl -s -I "http://${ADDR[$s]}/v2/bench/big/blobs/$BIG" | tr -d '\r')
  grep -qi "^Content-Length: $BIG_SIZE" <<<"$h" || NOTES+=("$s: blob HEAD lacks Content-Length: $BIG_SIZE")
done
for c in "${CONNS[@]}"; do
  for s in "${SERVERS[@]}"; do
    echo "bench: wrk manifest GET, $c connections ($s)"
    run_wrk "$s" "manifest_${s}_$c" "$c"
    echo "bench: ab blob HEAD, $c connections ($s)"
    run_ab "$s" "head_${s}_$c" "$c"
    alive "$s"
  done
done

# (d) the servers' peaks, then they stop.
declare -A HWM SCPU
for s in "${SERVERS[@]}"; do
  HWM[$s]=$(server_hwm_kb "$s")
  SCPU[$s]=$(server_cpu_s "$s")
done

# ---------------------------------------------------------------------------------------------
# Report

row() { # row LABEL STRATA DISTRIBUTION [EXTRA]
  printf '%-40s %12s %12s %10s  %s\n' "$1" "${2:--}" "${3:--}" "$(ratio "${2:-}" "${3:-}")" "${4:-}"
}
{
  echo "strata registry serve vs docker-registry $(docker-registry --version 2>/dev/null | awk '{print $NF}')" \
    "— $(now_utc)${STANDIN:+ — STAND-IN: strata column is a second $STANDIN}"
  echo "image $IMG: $NLAYERS layers, $((COMPRESSED / 1000000)) MB compressed; blob HEAD on its" \
    "largest layer ($((BIG_SIZE / 1000000)) MB); wrk/ab ${WRK_SECONDS}s each, wrk -t2; $(nproc) cores," \
    "load average $LOADAVG at start"
  printf '%-40s %12s %12s %10s  %s\n' metric strata distribution ratio ""
  for c in "${CONNS[@]}"; do
    row "manifest GET req/s, $c conn (wrk)" "${RPS[manifest_strata_$c]}" "${RPS[manifest_distribution_$c]}" \
      "p99 ${P99[manifest_strata_$c]} / ${P99[manifest_distribution_$c]} ms"
  done
  for c in "${CONNS[@]}"; do
    row "blob HEAD req/s, $c conn (ab -k)" "${RPS[head_strata_$c]}" "${RPS[head_distribution_$c]}"
  done
  row "GET ${BLOB_MB} MB blob, MB/s (best of 3)" "${GET_MBS[strata]}" "${GET_MBS[distribution]}" \
    "loopback $LOOP_MBS MB/s; strata/loopback $(ratio "${GET_MBS[strata]}" "$LOOP_MBS")"
  row "docker push, s" "${WALL[push_strata]}" "${WALL[push_distribution]}"
  row "skopeo copy oci: -> docker://, s" "${WALL[skopeo_strata]}" "${WALL[skopeo_distribution]}" \
    "pre-compressed: the server's upload path"
  row "peak RSS (VmHWM), MiB" "$((HWM[strata] / 1024))" "$((HWM[distribution] / 1024))"
  row "server CPU over the run, s" "${SCPU[strata]}" "${SCPU[distribution]}"
  for k in "${!ERRS[@]}"; do [[ -z ${ERRS[$k]} ]] || NOTES+=("$k: ${ERRS[$k]}"); done
  for n in "${NOTES[@]}"; do echo "NOTE: $n"; done
  echo "(ratio = strata/distribution; load generator and servers share the $(nproc) cores)"
} | tee "$OUT/registry_server.txt"

cols="date strata_commit standin compressed_mb"
vals=("$(now_utc)" "$(commit_id)" "${STANDIN:--}" $((COMPRESSED / 1000000)))
for s in "${SERVERS[@]}"; do
  for c in "${CONNS[@]}"; do
    cols+=" manifest_rps_${s}_c$c"
    vals+=("${RPS[manifest_${s}_$c]:--}")
  done
  for c in "${CONNS[@]}"; do
    cols+=" head_rps_${s}_c$c"
    vals+=("${RPS[head_${s}_$c]:--}")
  done
  cols+=" get_mbs_$s docker_push_s_$s skopeo_push_s_$s hwm_kb_$s cpu_s_$s"
  vals+=("${GET_MBS[$s]}" "${WALL[push_$s]}" "${WALL[skopeo_$s]}" "${HWM[$s]}" "${SCPU[$s]}")
done
cols+=" loopback_mbs"
vals+=("$LOOP_MBS")
append_tsv "$OUT/registry_server.tsv" "$cols" "${vals[@]}"
