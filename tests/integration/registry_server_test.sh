#!/usr/bin/env bash
# `strata registry serve` against real clients on loopback: docker push / rmi / pull (by tag and
# by digest) keeps image IDs and manifest digests; skopeo copy both ways (docker schema2 and OCI
# manifests), inspect and list-tags; strata's own pull and push; the catalog and its Link
# pagination; one blob store shared by repositories; htpasswd basic auth with docker login;
# --read-only, --max-manifest-size and --access-log; SIGKILL during a streaming blob upload
# (acknowledged blobs survive intact, the cut one is not visible, fsck passes); two concurrent
# docker pushes sharing layers.
#
# REGISTRY_SERVER_TEST_PEER=docker-registry runs the same checks against Debian's
# docker-registry (distribution 2.8) instead, to check the test itself; checks that need
# strata's store or options it lacks are then skipped with a note.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
SUT=${REGISTRY_SERVER_TEST_PEER:-strata}
[[ $SUT == strata || $SUT == docker-registry ]] ||
  fatal "REGISTRY_SERVER_TEST_PEER must be docker-registry (or unset), not $SUT"
need_peer docker skopeo python3 jq curl htpasswd
[[ $SUT == strata ]] || need_peer docker-registry
ensure_fixtures
HAVE_STRATA=true
if [[ $SUT == strata ]]; then
  need_strata_cmd "registry serve" pull push load fsck
elif [[ ! -x $STRATA ]] || ! has_strata_cmd pull || ! has_strata_cmd push; then
  HAVE_STRATA=false
  note "no strata client at $STRATA: strata pull/push checks skipped"
fi
R=$FIXTURE_REPO
SROOT=$WORK/serve-root
POLICY=$WORK/skopeo-policy.json
echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$POLICY"
MT_V2=application/vnd.docker.distribution.manifest.v2+json
MT_OCI=application/vnd.oci.image.manifest.v1+json

# ---------------------------------------------------------------------------------------------
# The server under test

# start_server NAME PORT ROOT [serve options]: `strata --root ROOT registry serve --addr
# 127.0.0.1:PORT OPTIONS` (or docker-registry with the same meaning), output to
# $WORK/NAME.N.ATTEMPT.log; PORT "auto" takes a free port (another one if someone took it
# meanwhile). Sets NAME (127.0.0.1:PORT), NAME_PID, NAME_PORT, NAME_LOG. Returns once GET /v2/
# answers 200 (401 with --htpasswd); fails (returns 1, log tail on stderr) if not within 10 s.
start_server() {
  local name=$1 want_port=$2 root=$3 attempt port pid i code=000 ready=200 log scheme=http
  local -a tls=()
  shift 3
  _STARTS=$((${_STARTS:-0} + 1))
  [[ " $* " != *" --htpasswd "* && " $* " != *" --token-realm "* ]] || ready=401
  if [[ " $* " == *" --tls-cert "* ]]; then # https, trusting the certificate it serves
    scheme=https
    tls=(--cacert "$(sed -E 's/.*--tls-cert ([^ ]+).*/\1/' <<<" $* ")")
  fi
  for ((attempt = 1; attempt <= 5; attempt++)); do
    port=$want_port
    log=$WORK/$name.$_STARTS.$attempt.log
    [[ $port != auto ]] || port=$(_free_port)
    if [[ $SUT == strata ]]; then
      _spawn pid "$log" "$STRATA" --root "$root" registry serve --addr "127.0.0.1:$port" "$@"
    else
      _distribution_config "$root" "$port" "$@" >"$WORK/$name.yml" || return 1
      _spawn pid "$log" docker-registry serve "$WORK/$name.yml"
    fi
    for ((i = 0; i < 200; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "${tls[@]}" \
        "$scheme://127.0.0.1:$port/v2/" || true)
      [[ $code != "$ready" ]] || break
      sleep 0.05
    done
    if [[ $code == "$ready" ]] && kill -0 "$pid" 2>/dev/null; then
      printf -v "$name" '%s' "127.0.0.1:$port"
      printf -v "${name}_PID" '%s' "$pid"
      printf -v "${name}_PORT" '%s' "$port"
      printf -v "${name}_LOG" '%s' "$log"
      return 0
    fi
    _stop_pid "$pid"
    # Only a port the kernel chose may be lost to someone else; retry those.
    [[ $want_port == auto ]] && grep -qi 'in use' "$log" && continue
    break
  done
  echo "start_server $name on 127.0.0.1:$port: GET /v2/ answered $code, not $ready:" >&2
  tail -n 15 "$log" >&2
  return 1
}

# _distribution_config ROOT PORT [serve options]: docker-registry's config for the same options.
_distribution_config() {
  local root=$1 port=$2 auth="" ro=false cert="" key=""
  shift 2
  while (($#)); do
    case $1 in
      --tls-cert) cert=$2 && shift 2 ;;
      --token-realm) auth="auth: {token: {realm: $2, service: $TOKEN_SERVICE, issuer: $TOKEN_ISSUER, rootcertbundle: $TOKEN_CERT}}" && shift 2 ;;
      --token-service | --token-issuer | --token-rootcertbundle) shift 2 ;; # with --token-realm
      --tls-key) key=$2 && shift 2 ;;
      --htpasswd) auth="auth: {htpasswd: {realm: strata-test, path: $2}}" && shift 2 ;;
      --read-only) ro=true && shift ;;
      --max-manifest-size | --access-log) shift 2 ;; # no such settings: their checks are skipped
      *) fatal "_distribution_config: unknown option $1" ;;
    esac
  done
  echo "version: 0.1"
  echo "log: {level: info, formatter: text}"
  echo "storage:"
  echo "  filesystem: {rootdirectory: $root}"
  echo "  maintenance: {uploadpurging: {enabled: false}, readonly: {enabled: $ro}}"
  if [[ -n $cert ]]; then
    echo "http: {addr: 127.0.0.1:$port, secret: strata-test-secret, tls: {certificate: $cert, key: $key}}"
  else
    echo "http: {addr: 127.0.0.1:$port, secret: strata-test-secret}"
  fi
  [[ -z $auth ]] || echo "$auth"
}

# stop_server NAME: SIGTERM; ok if it exits within 5 s.
stop_server() {
  local pid_var=${1}_PID i
  local pid=${!pid_var}
  kill -TERM "$pid" 2>/dev/null || {
    not_ok "$1 (pid $pid) was already gone before SIGTERM"
    return 0
  }
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    not_ok "$1 did not exit within 5 s of SIGTERM"
    kill -KILL "$pid" 2>/dev/null
  else
    ok "$1 exits within 5 s of SIGTERM"
  fi
  wait "$pid" 2>/dev/null || true
}

alive() { # alive NAME WHEN: not ok (with the log's end) if the server exited
  local pid_var=${1}_PID log_var=${1}_LOG
  kill -0 "${!pid_var}" 2>/dev/null && return 0
  not_ok "$1 exited unexpectedly ($2); its log ends:"
  tail -n 15 "${!log_var}" | sed 's/^/#   /'
}

# blob_file ROOT DIGEST: where the server keeps a blob.
blob_file() {
  local hex=${2#sha256:}
  if [[ $SUT == strata ]]; then
    echo "$1/blobs/sha256/$hex"
  else
    echo "$1/docker/registry/v2/blobs/sha256/${hex:0:2}/$hex/data"
  fi
}
# copies_of ROOT DIGEST SIZE: how many files below ROOT hold exactly the blob's bytes.
copies_of() {
  local f n=0
  while IFS= read -r -d '' f; do
    [[ $(sha_of "$f") == "$2" ]] && n=$((n + 1))
  done < <(find "$1" -type f -size "${3}c" -print0)
  echo "$n"
}

# ---------------------------------------------------------------------------------------------
# Helpers

d() { DOCKER_HOST=$PEER rdk "$@"; } # the private daemon, with this test's own client config
sk() { skopeo --policy "$POLICY" "$@"; }
sha_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }
code() { # code URL [CURL_ARGS...]: the HTTP status
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@" "$url" || true
}
manifest_of() { # manifest_of ADDR REPO REF: the manifest's bytes (schema2 / OCI accepted)
  curl -sf --max-time 20 -H "Accept: $MANIFEST_ACCEPT" "http://$1/v2/$2/manifests/$3"
}
absolute() { # absolute ADDR LOCATION: a Location header as a URL
  if [[ $2 == http://* ]]; then echo "$2"; else echo "http://$1$2"; fi
}
# start_upload ADDR REPO: POST a new upload session; prints its absolute Location.
start_upload() {
  local loc
  loc=$(curl -s -o /dev/null -D - --max-time 20 -X POST -H 'Content-Length: 0' \
    "http://$1/v2/$2/blobs/uploads/" | tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')
  [[ -n $loc ]] || {
    echo "start_upload: POST http://$1/v2/$2/blobs/uploads/ gave no Location" >&2
    return 1
  }
  absolute "$1" "$loc"
}
with_digest() { # with_digest URL DIGEST: URL plus the digest query parameter
  if [[ $1 == *\?* ]]; then echo "$1&digest=$2"; else echo "$1?digest=$2"; fi
}
# push_blob_patch ADDR REPO FILE: POST, PATCH the bytes, PUT ?digest= with no body; prints the
# PUT's status.
push_blob_patch() {
  local loc hdrs
  loc=$(start_upload "$1" "$2") || return 1
  hdrs=$(curl -s -o /dev/null -D - --max-time 60 -X PATCH -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' --data-binary @"$3" "$loc" | tr -d '\r')
  loc=$(sed -n 's/^[Ll]ocation: *//p' <<<"$hdrs")
  [[ -n $loc ]] || {
    echo "push_blob_patch: PATCH gave no Location: $hdrs" >&2
    return 1
  }
  code "$(with_digest "$(absolute "$1" "$loc")" "$(sha_of "$3")")" -X PUT -H 'Content-Length: 0'
}
# push_blob_put ADDR REPO FILE: POST, then one PUT ?digest= with the bytes; prints the status.
push_blob_put() {
  local loc
  loc=$(start_upload "$1" "$2") || return 1
  code "$(with_digest "$loc" "$(sha_of "$3")")" -X PUT -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' --data-binary @"$3"
}
re() { sed 's/[][\.*^$+?(){}|]/\\&/g' <<<"$1"; } # re TEXT: TEXT as an extended regex
pushed_digest() { { grep -o 'digest: sha256:[0-9a-f]*' "$1" || true; } | tail -n 1 | cut -d' ' -f2; }

# ---------------------------------------------------------------------------------------------
# Images: in a private dockerd, the busybox fixture plus COPY layers (no container runs)

start_private_dockerd PEER
d load -i "$FIX/base.tar" >/dev/null || fatal "docker load of the base fixture"
CTX=$WORK/ctx
mkdir -p "$CTX"
head -c $((1024 * 1024)) /dev/urandom >"$CTX/a.bin"
head -c $((2 * 1024 * 1024)) /dev/urandom >"$CTX/shared.bin"
for n in b c1 c2 st; do echo "file $n" >"$CTX/$n.txt"; done
printf 'FROM %s/base:1\nCOPY a.bin /data/a.bin\nCOPY b.txt /data/b.txt\n' "$R" >"$CTX/app.Dockerfile"
printf 'FROM %s/base:1\nCOPY st.txt /st/\n' "$R" >"$CTX/st.Dockerfile"
for n in c1 c2; do
  printf 'FROM %s/base:1\nCOPY shared.bin /data/shared.bin\nCOPY %s.txt /data/\n' "$R" "$n" >"$CTX/$n.Dockerfile"
done
for n in app c1 c2 st; do
  DOCKER_BUILDKIT=0 d build -q -f "$CTX/$n.Dockerfile" -t "srt/$n:1" "$CTX" >/dev/null ||
    fatal "docker build srt/$n:1"
done
APP_ID=$(d image inspect -f '{{.Id}}' srt/app:1)
C1_ID=$(d image inspect -f '{{.Id}}' srt/c1:1)
C2_ID=$(d image inspect -f '{{.Id}}' srt/c2:1)
ST_ID=$(d image inspect -f '{{.Id}}' srt/st:1)
APP_LAYERS=$(d image inspect -f '{{len .RootFS.Layers}}' srt/app:1)
assert_eq 3 "$APP_LAYERS" "setup: srt/app:1 has 3 layers"
assert_eq "$(d image inspect -f '{{index .RootFS.Layers 1}}' srt/c1:1)" \
  "$(d image inspect -f '{{index .RootFS.Layers 1}}' srt/c2:1)" "setup: srt/c1 and srt/c2 share a layer"

# ---------------------------------------------------------------------------------------------
# The main server: with an access log and a manifest size limit well above real manifests.

MAX_MANIFEST=65536
start_server SRV auto "$SROOT" --access-log "$WORK/access.log" --max-manifest-size "$MAX_MANIFEST" ||
  fatal "$SUT registry serve did not start"
note "$SUT registry at $SRV (root $SROOT)"
hdrs=$(curl -s -D - -o /dev/null "http://$SRV/v2/" | tr -d '\r') || true
assert_match '^HTTP/1\.1 200' "$hdrs" "GET /v2/ answers 200"
assert_match '^Docker-Distribution-API-Version: registry/2\.0' "$hdrs" \
  "with Docker-Distribution-API-Version: registry/2.0"
assert_eq 404 "$(code "http://$SRV/v2/no/such/manifests/1" -H "Accept: $MANIFEST_ACCEPT")" \
  "an unknown repository's manifest is 404"

# --- docker push, rmi, pull ---------------------------------------------------------------------
REF=$SRV/test/app:1
d tag srt/app:1 "$REF"
if d push "$REF" >"$WORK/push-app.out" 2>&1; then ok "docker push $REF"; else
  fatal "docker push $REF: $(cat "$WORK/push-app.out")"
fi
D1=$(pushed_digest "$WORK/push-app.out")
assert_match '^sha256:[0-9a-f]{64}$' "$D1" "docker push prints the manifest digest"
assert_eq "$APP_LAYERS" "$(grep -c ': Pushed$' "$WORK/push-app.out")" "every layer was uploaded"
MANIFEST=$(manifest_of "$SRV" test/app 1) || true
assert_eq "$D1" "sha256:$(printf '%s' "$MANIFEST" | sha256sum | cut -d' ' -f1)" \
  "GET manifest by tag returns the bytes docker pushed"
hdrs=$(curl -s -I -H "Accept: $MANIFEST_ACCEPT" "http://$SRV/v2/test/app/manifests/1" | tr -d '\r')
assert_match "^Docker-Content-Digest: $D1" "$hdrs" "HEAD manifest: Docker-Content-Digest"
assert_match "^Content-Type: $(re "$MT_V2")" "$hdrs" "HEAD manifest: Content-Type is docker schema2"
assert_eq "$APP_ID" "$(jq -r .config.digest <<<"$MANIFEST")" "the config blob is the image ID"
LAYERS=$(jq -r '.layers[].digest' <<<"$MANIFEST" 2>/dev/null) || true
d rmi -f "$APP_ID" >/dev/null
d image inspect "$APP_ID" >/dev/null 2>&1 && not_ok "setup: docker rmi left the image" ||
  ok "setup: image removed from the daemon"
if d pull "$REF" >"$WORK/pull-app.out" 2>&1; then ok "docker pull $REF"; else
  not_ok "docker pull $REF: $(cat "$WORK/pull-app.out")"
fi
# The base layer stays in the daemon (srt/c1, c2 and st use it); the other two are downloaded.
assert_eq $((APP_LAYERS - 1)) "$(grep -c 'Pull complete' "$WORK/pull-app.out" || true)" \
  "the layers the daemon lacked were downloaded"
assert_eq "$APP_ID" "$(d image inspect -f '{{.Id}}' "$REF" 2>&1)" "pulled image ID equals the pushed one"
assert_eq "$SRV/test/app@$D1" "$(d image inspect -f '{{join .RepoDigests " "}}' "$REF" 2>&1)" \
  "RepoDigests names the pushed digest"

d rmi -f "$APP_ID" >/dev/null 2>&1 || true
if d pull "$SRV/test/app@$D1" >"$WORK/pull-digest.out" 2>&1; then ok "docker pull by digest"; else
  not_ok "docker pull $SRV/test/app@$D1: $(cat "$WORK/pull-digest.out")"
fi
assert_eq "$APP_ID" "$(d image inspect -f '{{.Id}}' "$SRV/test/app@$D1" 2>&1)" "pull by digest: image ID"
d tag "$APP_ID" srt/app:1 || true

# --- skopeo ---------------------------------------------------------------------------------------
if sk copy -q --src-tls-verify=false "docker://$REF" "oci:$WORK/oci:app" >"$WORK/sk1.out" 2>&1; then
  ok "skopeo copy docker:// -> oci:"
else
  not_ok "skopeo copy docker://$REF oci: $(cat "$WORK/sk1.out")"
fi
got=$(skopeo inspect --raw --tls-verify=false "docker://$REF" 2>"$WORK/sk.err" | sha256sum | cut -d' ' -f1) || true
assert_eq "$D1" "sha256:$got" "skopeo inspect --raw: the manifest hashes to the pushed digest"
if sk copy -q --dest-tls-verify=false --digestfile "$WORK/other.digest" "oci:$WORK/oci:app" \
  "docker://$SRV/other/app:2" >"$WORK/sk2.out" 2>&1; then
  ok "skopeo copy oci: -> docker:// (an OCI manifest)"
else
  not_ok "skopeo copy oci: -> docker://$SRV/other/app:2: $(cat "$WORK/sk2.out")"
fi
D_OTHER=$(cat "$WORK/other.digest" 2>/dev/null || true)
skopeo inspect --tls-verify=false "docker://$SRV/other/app:2" >"$WORK/other.json" 2>"$WORK/sk.err" || true
assert_eq "$D_OTHER" "$(jq -r .Digest "$WORK/other.json" 2>&1)" "skopeo inspect other/app:2: the digest copied"
assert_eq "$(jq -c '[.layers[].digest]' <<<"$MANIFEST")" "$(jq -c .Layers "$WORK/other.json" 2>&1)" \
  "skopeo inspect other/app:2: the same layer blobs"
hdrs=$(curl -s -I -H "Accept: $MANIFEST_ACCEPT" "http://$SRV/v2/other/app/manifests/2" | tr -d '\r')
assert_match "^Content-Type: $(re "$MT_OCI")" "$hdrs" "an OCI manifest is served with the OCI media type"
assert_match "^Docker-Content-Digest: $D_OTHER" "$hdrs" "and its digest"
assert_eq 200 "$(code "http://$SRV/v2/other/app/manifests/$D_OTHER" -H "Accept: $MT_OCI")" \
  "GET the OCI manifest by digest"
sk copy -q --src-tls-verify=false --dest-tls-verify=false "docker://$REF" "docker://$SRV/test/app:2" \
  >"$WORK/sk3.out" 2>&1 || not_ok "skopeo copy to test/app:2: $(cat "$WORK/sk3.out")"
assert_eq '["1","2"]' "$(skopeo list-tags --tls-verify=false "docker://$SRV/test/app" 2>&1 | jq -c '.Tags | sort')" \
  "skopeo list-tags lists both tags"
assert_eq "$D1" "$(registry_manifest_digest "$SRV" test/app 2)" "copy to another tag keeps the digest"

# --- strata's client ------------------------------------------------------------------------------
if $HAVE_STRATA; then
  OTHER=$WORK/client-root
  in_store() { # in_store ROOT ARGS...: sets RC/OUT/ERR
    local root=$1
    shift
    RC=0
    OUT=$(DOCKER_CONFIG=$WORK/strata-docker-config "$STRATA" --root "$root" "$@" 2>"$WORK/err" </dev/null) || RC=$?
    ERR=$(cat "$WORK/err")
  }
  in_store "$OTHER" pull "$REF"
  assert_eq 0 "$RC" "strata pull $REF ($ERR)"
  in_store "$OTHER" tags --format json "$SRV/test/app"
  assert_eq "0 $(skopeo list-tags --tls-verify=false "docker://$SRV/test/app" 2>&1)" "$RC $OUT" \
    "strata tags --format json prints what skopeo list-tags prints ($ERR)"
  assert_eq "$APP_ID" "$("$STRATA" --root "$OTHER" inspect "$REF" 2>&1 | jq -r '.[0].Id' 2>&1)" \
    "strata pull: the image ID docker has"
  # An image of its own (not c1/c2: docker would then mount strata's blobs in the concurrent
  # pushes below instead of uploading them).
  d save -o "$WORK/st.tar" srt/st:1
  in_store "$OTHER" load -i "$WORK/st.tar"
  assert_eq 0 "$RC" "setup: strata load of srt/st:1 ($ERR)"
  "$STRATA" --root "$OTHER" tag srt/st:1 "$SRV/strata/st:1" || true
  in_store "$OTHER" push "$SRV/strata/st:1"
  assert_eq 0 "$RC" "strata push to a new repository ($ERR)"
  ST_DIGEST=$({ grep -o '^1: digest: sha256:[0-9a-f]*' <<<"$OUT" || true; } | cut -d' ' -f3)
  assert_match '^sha256:[0-9a-f]{64}$' "$ST_DIGEST" "strata push prints the digest"
  in_store "$OTHER" push "$SRV/strata/st:1"
  assert_eq 0 "$RC" "second strata push ($ERR)"
  assert_eq 2 "$(grep -c ': Layer already exists$' <<<"$OUT" || true)" \
    "second strata push: every layer already exists"
  d rmi -f "$ST_ID" >/dev/null 2>&1 || true
  if d pull "$SRV/strata/st:1" >"$WORK/pull-st.out" 2>&1; then ok "docker pull of strata's push"; else
    not_ok "docker pull $SRV/strata/st:1: $(cat "$WORK/pull-st.out")"
  fi
  assert_eq "$ST_ID" "$(d image inspect -f '{{.Id}}' "$SRV/strata/st:1" 2>&1)" \
    "docker pull of strata's push: image ID"
fi

# --- concurrent docker pushes of two images sharing layers --------------------------------------
d tag srt/c1:1 "$SRV/conc/one:1"
d tag srt/c2:1 "$SRV/conc/two:1"
d push "$SRV/conc/one:1" >"$WORK/push-one.out" 2>&1 &
p1=$!
d push "$SRV/conc/two:1" >"$WORK/push-two.out" 2>&1 &
p2=$!
rc1=0 rc2=0
wait "$p1" || rc1=$?
wait "$p2" || rc2=$?
((rc1 == 0)) && ok "concurrent docker push conc/one:1" ||
  not_ok "concurrent docker push conc/one:1: $(tail -n 3 "$WORK/push-one.out")"
((rc2 == 0)) && ok "concurrent docker push conc/two:1" ||
  not_ok "concurrent docker push conc/two:1: $(tail -n 3 "$WORK/push-two.out")"
d rmi -f "$C1_ID" "$C2_ID" >/dev/null 2>&1 || true
d pull "$SRV/conc/one:1" >"$WORK/pull-one.out" 2>&1 &
p1=$!
d pull "$SRV/conc/two:1" >"$WORK/pull-two.out" 2>&1 &
p2=$!
wait "$p1" || true
wait "$p2" || true
assert_eq "$C1_ID" "$(d image inspect -f '{{.Id}}' "$SRV/conc/one:1" 2>&1)" "conc/one:1 pulls back with its ID"
assert_eq "$C2_ID" "$(d image inspect -f '{{.Id}}' "$SRV/conc/two:1" 2>&1)" "conc/two:1 pulls back with its ID"

alive SRV "after the pushes"

# --- catalog --------------------------------------------------------------------------------------
CATALOG=$(curl -sf "http://$SRV/v2/_catalog" | jq -c '.repositories' 2>&1) || true
assert_match '"test/app"' "$CATALOG" "/v2/_catalog lists test/app"
assert_match '"other/app"' "$CATALOG" "/v2/_catalog lists other/app"
assert_eq "$(jq -c 'sort' <<<"$CATALOG" 2>&1)" "$CATALOG" "the catalog is sorted"
url="http://$SRV/v2/_catalog?n=1"
pages=() links=0
for ((i = 0; i < 20; i++)); do
  curl -s -D "$WORK/cat.h" -o "$WORK/cat.json" "$url" || true
  page=$(jq -c '.repositories' "$WORK/cat.json" 2>&1) || true
  pages+=("$page")
  link=$(tr -d '\r' <"$WORK/cat.h" | sed -n 's/^[Ll]ink: *<\([^>]*\)>; *rel="next".*/\1/p')
  [[ -n $link ]] || break
  links=$((links + 1))
  url=$(absolute "$SRV" "$link")
done
assert_eq '["conc/one"]' "${pages[0]}" "?n=1 gives one repository, the first"
((links >= 1)) && ok "?n=1 answers with a Link header, rel=\"next\"" || not_ok "no Link rel=\"next\" for ?n=1"
assert_eq "$CATALOG" "$(printf '%s\n' "${pages[@]}" | jq -cs 'add')" \
  "following Link rel=\"next\" page by page gives the whole catalog"

# --- one blob store -------------------------------------------------------------------------------
assert_eq "$(jq -c '[.layers[].digest]' <<<"$MANIFEST")" \
  "$(manifest_of "$SRV" other/app 2 | jq -c '[.layers[].digest]')" "setup: test/app and other/app share layers"
for layer in $LAYERS; do
  size=$(jq -r --arg d "$layer" '.layers[] | select(.digest == $d) | .size' <<<"$MANIFEST")
  f=$(blob_file "$SROOT" "$layer")
  [[ -f $f ]] && [[ $(sha_of "$f") == "$layer" ]] && ok "layer ${layer:7:12} is the file $(basename "$f")" ||
    not_ok "layer $layer is not stored as $f"
  assert_eq 1 "$(copies_of "$SROOT" "$layer" "$size")" "layer ${layer:7:12} is stored once for two repositories"
done
SHARED=$(manifest_of "$SRV" conc/one 1 | jq -r '.layers[1].digest') || true
SHARED_SIZE=$(manifest_of "$SRV" conc/one 1 | jq -r '.layers[1].size') || true
assert_eq "$SHARED" "$(manifest_of "$SRV" conc/two 1 | jq -r '.layers[1].digest')" \
  "setup: the concurrent pushes share a layer blob"
assert_eq 1 "$(copies_of "$SROOT" "$SHARED" "$SHARED_SIZE")" "a layer pushed twice at once is stored once"

# --- manifest size limit, access log ----------------------------------------------------------------
# An OCI manifest for test/app's blobs, padded with an annotation to N bytes.
oci_manifest() {
  jq --argjson n "$1" '{schemaVersion: 2, mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: (.config | .mediaType = "application/vnd.oci.image.config.v1+json"),
    layers: [.layers[] | .mediaType = "application/vnd.oci.image.layer.v1.tar+gzip"],
    annotations: {pad: ""}} | .annotations.pad = ("x" * ($n - (tostring | length)))' -jc <<<"$MANIFEST"
}
oci_manifest 2000 >"$WORK/small.json"
assert_eq 2000 "$(wc -c <"$WORK/small.json")" "setup: a 2000-byte OCI manifest"
hdrs=$(curl -s -D - -o /dev/null -X PUT -H "Content-Type: $MT_OCI" --data-binary @"$WORK/small.json" \
  "http://$SRV/v2/test/app/manifests/small" | tr -d '\r')
assert_match '^HTTP/1\.1 201' "$hdrs" "PUT of an OCI manifest by tag is 201"
assert_match "^Docker-Content-Digest: $(sha_of "$WORK/small.json")" "$hdrs" "with its Docker-Content-Digest"
assert_match "^Location: .*/v2/test/app/manifests/" "$hdrs" "and a Location"
curl -s -H "Accept: $MT_OCI" -o "$WORK/small.got" "http://$SRV/v2/test/app/manifests/small" || true
assert_files_eq "$WORK/small.json" "$WORK/small.got" "GET returns the PUT's bytes"
if [[ $SUT == strata ]]; then
  oci_manifest $((MAX_MANIFEST + 1)) >"$WORK/big.json"
  assert_eq $((MAX_MANIFEST + 1)) "$(wc -c <"$WORK/big.json")" "setup: a manifest one byte over the limit"
  c=$(code "http://$SRV/v2/test/app/manifests/big" -X PUT -H "Content-Type: $MT_OCI" --data-binary @"$WORK/big.json")
  assert_match '^(400|413)$' "$c" "PUT of a manifest over --max-manifest-size is refused ($c)"
  assert_eq 404 "$(code "http://$SRV/v2/test/app/manifests/big" -H "Accept: $MT_OCI")" \
    "the refused manifest's tag does not exist"
  log=$(cat "$WORK/access.log" 2>/dev/null || true)
  assert_match 'GET /v2/test/app/manifests/1' "$log" "the access log has the manifest GETs"
  assert_match 'PUT /v2/conc/two/manifests/1' "$log" "and the manifest PUTs"
else
  note "docker-registry: --max-manifest-size and --access-log checks skipped"
fi

# --- one port, one server ---------------------------------------------------------------------------
# A client trying https on the plain port gets a 400, logged with its address like any request.
if [[ $SUT == strata ]]; then
  curl -sk --max-time 5 -o /dev/null "https://$SRV/v2/" || true
  sleep 0.2
  assert_match '^127\.0\.0\.1:[0-9]+ - - \[[^]]*\] "- ?" 400 ' "$(grep '" 400 ' "$WORK/access.log" || true)" \
    "the access log names the client of a TLS probe answered 400"
fi
# A second server on the same address fails as docker-registry does, and the first keeps serving
# every request (no second store answering half of them).
if [[ $SUT == strata ]]; then
  timeout 10 "$STRATA" --root "$WORK/second-root" registry serve --addr "$SRV" \
    >"$WORK/second.out" 2>&1 </dev/null 7>&- 8>&- 9>&- &
else
  timeout 10 docker-registry serve "$WORK/SRV.yml" >"$WORK/second.out" 2>&1 </dev/null 7>&- 8>&- 9>&- &
fi
SECOND_PID=$!
sleep 1
# Asked while the second one runs, if it does: its empty store would answer some with 404.
n=0
for ((i = 0; i < 20; i++)); do
  [[ $(code "http://$SRV/v2/test/app/manifests/1" -I -H "Accept: $MANIFEST_ACCEPT") == 200 ]] && n=$((n + 1))
done
RC=0
wait "$SECOND_PID" || RC=$?
assert_match '^[12]$' "$RC" "a second $SUT on $SRV exits with an error (exit $RC; 124: it kept running)"
assert_match 'address already in use' "$(cat "$WORK/second.out")" "saying: address already in use"
alive SRV "after a second server tried its port"
assert_eq 20 "$n" "the first server answers all 20 manifest HEADs"
if [[ $SUT == strata ]] && command -v docker-registry >/dev/null; then
  start_registry DREG
  RC=0
  timeout 10 "$STRATA" --root "$WORK/second-root" registry serve --addr "$DREG" \
    >"$WORK/over-dreg.out" 2>&1 </dev/null || RC=$?
  assert_match '^[12]$' "$RC" "registry serve on docker-registry's $DREG exits with an error (exit $RC)"
  assert_match 'address already in use' "$(cat "$WORK/over-dreg.out")" "saying: address already in use"
  assert_eq 200 "$(code "http://$DREG/v2/")" "docker-registry keeps serving its port"
elif [[ $SUT == strata ]]; then
  note "no docker-registry: the check of registry serve on its port is skipped"
fi

# --- read-only server on the same store ------------------------------------------------------------
if start_server RO auto "$SROOT" --read-only; then
  assert_eq "$D1" "$(registry_manifest_digest "$RO" test/app 1 2>&1)" "--read-only serves the stored manifest"
  layer=$(head -n 1 <<<"$LAYERS")
  curl -s -o "$WORK/ro-layer" "http://$RO/v2/test/app/blobs/$layer" || true
  assert_eq "$layer" "$(sha_of "$WORK/ro-layer")" "--read-only serves blobs"
  c=$(code "http://$RO/v2/test/app/blobs/uploads/" -X POST -H 'Content-Length: 0')
  assert_match '^(403|405)$' "$c" "--read-only refuses an upload ($c)"
  c=$(code "http://$RO/v2/test/app/manifests/ro" -X PUT -H "Content-Type: $MT_V2" --data-binary "$MANIFEST")
  assert_match '^(403|405)$' "$c" "--read-only refuses a manifest PUT ($c)"
  d tag srt/app:1 "$RO/test/ro:1"
  timeout 60 env DOCKER_HOST="$PEER" DOCKER_CONFIG="$REGISTRY_DOCKER_CONFIG" "$(_docker_bin)" \
    push "$RO/test/ro:1" >"$WORK/push-ro.out" 2>&1 && not_ok "docker push to a --read-only server succeeded" ||
    ok "docker push to a --read-only server fails"
  stop_server RO
else
  not_ok "registry serve --read-only did not start"
fi

# --- a config file (strata only: distribution's config is its own) -------------------------------
if [[ $SUT == strata ]]; then
  printf '# serve options\nread-only = true\naccess-log = "%s"\n' "$WORK/cfg-access.log" >"$WORK/serve.toml"
  if start_server CFG auto "$SROOT" --config "$WORK/serve.toml"; then
    c=$(code "http://$CFG/v2/test/app/blobs/uploads/" -X POST -H 'Content-Length: 0')
    assert_eq 405 "$c" "--config: read-only = true from the file"
    grep -q 'POST /v2/test/app/blobs/uploads/' "$WORK/cfg-access.log" 2>/dev/null &&
      ok "--config: access-log from the file" || not_ok "--config: no access log at $WORK/cfg-access.log"
    stop_server CFG
  else
    not_ok "registry serve --config did not start"
  fi
  printf 'read-only = true\nlisten = ":5000"\n' >"$WORK/bad.toml"
  if "$STRATA" --root "$SROOT" registry serve --config "$WORK/bad.toml" >"$WORK/bad-cfg.out" 2>&1; then
    not_ok "--config with an unknown key was accepted"
  else
    assert_match 'unknown setting "listen"' "$(cat "$WORK/bad-cfg.out")" "--config: an unknown key is refused by name"
  fi
fi

# --- htpasswd ------------------------------------------------------------------------------------
htpasswd -Bbc "$WORK/htpasswd" alice wonderland 2>/dev/null
if start_server AUTH auto "$WORK/auth-root" --htpasswd "$WORK/htpasswd"; then
  hdrs=$(curl -s -D - -o /dev/null "http://$AUTH/v2/" | tr -d '\r')
  assert_match '^HTTP/1\.1 401' "$hdrs" "anonymous GET /v2/ is 401"
  assert_match '^WWW-Authenticate: Basic realm="[^"]+"' "$hdrs" "with WWW-Authenticate: Basic realm=\"...\""
  assert_eq 401 "$(code "http://$AUTH/v2/" -u alice:wrong)" "a wrong password is 401"
  assert_eq 200 "$(code "http://$AUTH/v2/" -u alice:wonderland)" "the right password is 200"
  assert_eq 401 "$(code "http://$AUTH/v2/test/app/manifests/1" -H "Accept: $MANIFEST_ACCEPT")" \
    "anonymous manifest GET is 401"
  DOCKER_HOST=$PEER rdk login -u alice --password-stdin "$AUTH" <<<"wrong" >"$WORK/login-bad.out" 2>&1 &&
    not_ok "docker login with a wrong password succeeded" || ok "docker login with a wrong password fails"
  if DOCKER_HOST=$PEER rdk login -u alice --password-stdin "$AUTH" <<<"wonderland" >"$WORK/login.out" 2>&1; then
    ok "docker login"
  else
    not_ok "docker login: $(cat "$WORK/login.out")"
  fi
  d tag srt/app:1 "$AUTH/priv/app:1"
  if d push "$AUTH/priv/app:1" >"$WORK/push-auth.out" 2>&1; then ok "docker push after login"; else
    not_ok "docker push with credentials: $(cat "$WORK/push-auth.out")"
  fi
  d rmi -f "$APP_ID" >/dev/null 2>&1 || true
  if d pull "$AUTH/priv/app:1" >"$WORK/pull-auth.out" 2>&1; then ok "docker pull after login"; else
    not_ok "docker pull with credentials: $(cat "$WORK/pull-auth.out")"
  fi
  assert_eq "$APP_ID" "$(d image inspect -f '{{.Id}}' "$AUTH/priv/app:1" 2>&1)" "authenticated pull: image ID"
  DOCKER_HOST=$PEER rdk logout "$AUTH" >/dev/null 2>&1 || true
  d rmi -f "$APP_ID" >/dev/null 2>&1 || true
  d pull "$AUTH/priv/app:1" >"$WORK/pull-auth2.out" 2>&1 && not_ok "docker pull after logout succeeded" ||
    ok "docker pull after logout is refused"
  stop_server AUTH
else
  not_ok "registry serve --htpasswd did not start"
fi

# --- bearer tokens (docker's token flow, tools/token_service.py) ----------------------------------
# The token service grants bob every action he asks for, anonymous clients only pull.
start_token_service --dir "$WORK/token" bob:builder
if start_server TOK auto "$WORK/tok-root" --token-realm "$TOKEN_REALM" --token-service "$TOKEN_SERVICE" \
  --token-issuer "$TOKEN_ISSUER" --token-rootcertbundle "$TOKEN_CERT"; then
  hdrs=$(curl -s -D - -o /dev/null "http://$TOK/v2/" | tr -d '\r')
  assert_match '^HTTP/1\.1 401' "$hdrs" "tokens: anonymous GET /v2/ is 401"
  assert_match "WWW-Authenticate: Bearer realm=\"$(re "$TOKEN_REALM")\",service=\"$TOKEN_SERVICE\"" "$hdrs" \
    "tokens: the challenge names the realm and service"
  hdrs=$(curl -s -D - -o /dev/null "http://$TOK/v2/priv/app/manifests/1" | tr -d '\r')
  assert_match 'scope="repository:priv/app:pull"' "$hdrs" "tokens: a manifest GET asks for pull scope"
  d pull "$REF" >"$WORK/pull-tok-src.out" 2>&1 || fatal "docker pull $REF: $(cat "$WORK/pull-tok-src.out")"
  d tag "$REF" "$TOK/priv/app:1"
  d push "$TOK/priv/app:1" >"$WORK/push-tok0.out" 2>&1 && not_ok "tokens: anonymous docker push succeeded" ||
    ok "tokens: anonymous docker push is refused (the service grants only pull)"
  if DOCKER_HOST=$PEER rdk login -u bob --password-stdin "$TOK" <<<"builder" >"$WORK/login-tok.out" 2>&1; then
    ok "tokens: docker login"
  else
    not_ok "tokens: docker login: $(cat "$WORK/login-tok.out")"
  fi
  if d push "$TOK/priv/app:1" >"$WORK/push-tok.out" 2>&1; then ok "tokens: docker push with a push token"; else
    not_ok "tokens: docker push: $(cat "$WORK/push-tok.out")"
  fi
  DOCKER_HOST=$PEER rdk logout "$TOK" >/dev/null 2>&1 || true
  d rmi -f "$APP_ID" >/dev/null 2>&1 || true
  if d pull "$TOK/priv/app:1" >"$WORK/pull-tok.out" 2>&1; then ok "tokens: anonymous docker pull (pull token)"; else
    not_ok "tokens: anonymous docker pull: $(cat "$WORK/pull-tok.out")"
  fi
  assert_eq "$APP_ID" "$(d image inspect -f '{{.Id}}' "$TOK/priv/app:1" 2>&1)" "tokens: pulled image ID"
  good=$(registry_auth_header "$TOK" priv/app pull 2>/dev/null || true)
  assert_match '^Authorization: Bearer ' "$good" "tokens: the service gives a pull token"
  assert_eq 200 "$(code "http://$TOK/v2/priv/app/manifests/1" -H "$good" -H "Accept: $MANIFEST_ACCEPT")" \
    "tokens: a manifest GET with the pull token"
  c=$(code "http://$TOK/v2/priv/app/blobs/uploads/" -X POST -H "$good" -H 'Content-Length: 0')
  assert_eq 401 "$c" "tokens: an upload with only a pull token is 401"
  assert_eq 401 "$(code "http://$TOK/v2/other/repo/manifests/1" -H "$good")" \
    "tokens: a token for one repository does not open another"
  # Damage a character well inside the signature: the last one may carry only padding bits,
  # which decoders ignore (so changing it need not change the signature at all).
  i=$((${#good} - 20))
  swap=A
  [[ ${good:i:1} != A ]] || swap=B
  forged="${good:0:i}$swap${good:i+1}"
  assert_eq 401 "$(code "http://$TOK/v2/priv/app/manifests/1" -H "$forged" -H "Accept: $MANIFEST_ACCEPT")" \
    "tokens: a token with a damaged signature is 401"
  stop_server TOK
else
  not_ok "registry serve with token auth did not start"
fi

# --- TLS ------------------------------------------------------------------------------------------
# A self-signed certificate for 127.0.0.1; skopeo trusts the *.crt files of --cert-dir as CAs.
mkdir -p "$WORK/tls"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$WORK/tls/key.pem" -out "$WORK/tls/cert.pem" \
  -days 2 -subj /CN=127.0.0.1 -addext "subjectAltName=IP:127.0.0.1" >/dev/null 2>&1 ||
  fatal "openssl req could not make a test certificate"
cp "$WORK/tls/cert.pem" "$WORK/tls/ca.crt"
if start_server TLS auto "$SROOT" --tls-cert "$WORK/tls/cert.pem" --tls-key "$WORK/tls/key.pem"; then
  ok "https GET /v2/ with the server's certificate as CA"
  c=$(code "http://$TLS/v2/")
  assert_ne 200 "$c" "plain http to the TLS port is not served ($c)"
  c=$(code "https://$TLS/v2/")
  assert_ne 200 "$c" "https without trusting the certificate fails ($c)"
  if sk copy -q --src-tls-verify=false --dest-cert-dir "$WORK/tls" "docker://$REF" \
    "docker://$TLS/tls/app:1" >"$WORK/sk-tls.out" 2>&1; then
    ok "skopeo copy to the https registry (certificate verified)"
  else
    not_ok "skopeo copy docker://$REF docker://$TLS/tls/app:1: $(cat "$WORK/sk-tls.out")"
  fi
  got=$(skopeo inspect --raw --cert-dir "$WORK/tls" "docker://$TLS/tls/app:1" 2>"$WORK/sk.err" |
    sha256sum | cut -d' ' -f1) || true
  assert_eq "$D1" "sha256:$got" "over https: the manifest keeps its digest"
  layer=$(jq -r '.layers[-1].digest' <<<"$MANIFEST")
  curl -s --cacert "$WORK/tls/cert.pem" -o "$WORK/tls-layer" "https://$TLS/v2/tls/app/blobs/$layer" || true
  assert_eq "$layer" "$(sha_of "$WORK/tls-layer")" "over https: a layer blob's bytes"
  if sk copy -q --src-cert-dir "$WORK/tls" "docker://$TLS/tls/app:1" "oci:$WORK/oci-tls:app" \
    >"$WORK/sk-tls2.out" 2>&1; then
    ok "skopeo copy from the https registry"
  else
    not_ok "skopeo copy docker://$TLS/tls/app:1 oci: $(cat "$WORK/sk-tls2.out")"
  fi
  stop_server TLS
else
  not_ok "registry serve --tls-cert did not start"
fi

alive SRV "before the SIGKILL test"

# --- SIGKILL during a streaming upload -------------------------------------------------------------
head -c $((3 * 1024 * 1024)) /dev/urandom >"$WORK/blob-a"
head -c $((5 * 1024 * 1024 + 123)) /dev/urandom >"$WORK/blob-b"
head -c $((32 * 1024 * 1024)) /dev/urandom >"$WORK/blob-c"
# shellcheck disable=SC2034 # A and B are read as ${!x} below
A=$(sha_of "$WORK/blob-a") B=$(sha_of "$WORK/blob-b")
C=$(sha_of "$WORK/blob-c")
assert_eq 201 "$(push_blob_put "$SRV" crash/x "$WORK/blob-a")" "blob A: POST + PUT with the bytes is 201"
LOC_C=$(start_upload "$SRV" crash/x) || true
# 32 MiB at ~8 MiB/s through a chunked PATCH (curl -T - sends Transfer-Encoding: chunked).
"$REGISTRY_PYTHON" -c '
import sys, time
with open(sys.argv[1], "rb") as f:
    while chunk := f.read(256 * 1024):
        sys.stdout.buffer.write(chunk)
        sys.stdout.buffer.flush()
        time.sleep(1 / 32)
' "$WORK/blob-c" 2>/dev/null |
  curl -s -o /dev/null -w '%{http_code}' --max-time 60 -X PATCH -H 'Expect:' \
    -H 'Content-Type: application/octet-stream' -T - "$LOC_C" >"$WORK/patch-c.code" 2>&1 7>&- 8>&- 9>&- &
PATCH_PID=$!
sleep 1
# While C streams, B goes through POST / PATCH / PUT: acknowledged just before the kill.
assert_eq 201 "$(push_blob_patch "$SRV" crash/x "$WORK/blob-b")" "blob B (during C's upload): PATCH + PUT is 201"
kill -0 "$PATCH_PID" 2>/dev/null && ok "setup: C's PATCH is still streaming" || not_ok "setup: C's PATCH ended early"
kill -KILL "$SRV_PID" || {
  not_ok "the server had died before the SIGKILL; its log ends:"
  tail -n 15 "$SRV_LOG" | sed 's/^/#   /'
}
wait "$SRV_PID" 2>/dev/null || true
wait "$PATCH_PID" || true
assert_ne 202 "$(cat "$WORK/patch-c.code")" "the cut PATCH was not acknowledged"
if start_server SRV "$SRV_PORT" "$SROOT" --access-log "$WORK/access.log" --max-manifest-size "$MAX_MANIFEST"; then
  ok "restart on the same port after SIGKILL"
else
  not_ok "restart on port $SRV_PORT after SIGKILL failed (SO_REUSEADDR?); trying another port"
  start_server SRV auto "$SROOT" --access-log "$WORK/access.log" --max-manifest-size "$MAX_MANIFEST" ||
    fatal "restart after SIGKILL failed"
fi
for x in A B; do
  want=${!x}
  curl -s -o "$WORK/got-$x" "http://$SRV/v2/crash/x/blobs/$want" || true
  assert_eq "$want" "$(sha_of "$WORK/got-$x")" "after SIGKILL: blob $x is served with its bytes"
done
assert_eq 404 "$(code "http://$SRV/v2/crash/x/blobs/$C" -I)" "after SIGKILL: the cut blob C is not visible"
assert_eq 404 "$(code "http://$SRV/v2/other/repo/blobs/$C" -I)" "not in another repository either"
for layer in $LAYERS; do
  curl -s -o "$WORK/layer" "http://$SRV/v2/test/app/blobs/$layer" || true
  assert_eq "$layer" "$(sha_of "$WORK/layer")" "after SIGKILL: test/app layer ${layer:7:12} intact"
done
assert_eq "$D1" "$(registry_manifest_digest "$SRV" test/app 1 2>&1)" "after SIGKILL: test/app:1 still tagged"
# A new upload of C after the restart completes normally.
assert_eq 201 "$(push_blob_put "$SRV" crash/x "$WORK/blob-c")" "blob C uploaded again after the restart"
curl -s -o "$WORK/got-C" "http://$SRV/v2/crash/x/blobs/$C" || true
assert_eq "$C" "$(sha_of "$WORK/got-C")" "and served with its bytes"
stop_server SRV
if [[ $SUT == strata ]]; then
  RC=0
  "$STRATA" --root "$SROOT" fsck >"$WORK/fsck.out" 2>&1 || RC=$?
  assert_eq 0 "$RC" "strata fsck of the served store passes after the SIGKILL ($(tail -n 5 "$WORK/fsck.out"))"
fi

finish
