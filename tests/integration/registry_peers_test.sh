#!/usr/bin/env bash
# Self-test of the registry peers that registry tests build on (registry_lib.sh, tools/*.py),
# checked with curl, skopeo and the docker engine rather than with strata: docker-registry plain,
# with htpasswd and with bearer tokens from tools/token_service.py (a token the registry accepts,
# docker login + push through it, a token from a foreign key refused); tools/fault_proxy.py passing
# pulls and pushes through (Location rewritten, bodies streamed, keep-alive) and injecting each
# fault it offers; the helper functions; processes gone after a test exits.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer docker docker-registry python3 skopeo curl openssl htpasswd
ensure_fixtures
IMG=$FIXTURE_REPO/base:1
SHA_RE='^sha256:[0-9a-f]{64}$'
MT_V2=application/vnd.docker.distribution.manifest.v2+json

json_get() { "$REGISTRY_PYTHON" -c "import json,sys; d=json.load(sys.stdin); print($1)"; }
# code URL [CURL_ARGS...]: the HTTP status curl sees.
code() {
  local url=$1
  shift
  curl -s -o /dev/null -w '%{http_code}' --max-time 20 "$@" "$url" || true
}
sha_of() { echo "sha256:$(sha256sum "$1" | cut -d' ' -f1)"; }

# --- plain registry, docker push ------------------------------------------------------------------
start_registry REG
assert_match '^127\.0\.0\.1:[0-9]+$' "$REG_ADDR" "start_registry sets REG_ADDR to 127.0.0.1:PORT"
assert_eq "$REG_ADDR" "$REG" "and REG to the same address"
hdrs=$(curl -s -D - -o /dev/null "http://$REG/v2/" | tr -d '\r')
assert_match '^HTTP/1.1 200' "$hdrs" "GET /v2/ answers 200"
assert_match '^Docker-Distribution-Api-Version: registry/2.0' "$hdrs" "from distribution"
assert_match 'delete: \{enabled: true\}' "$(cat "$REG_DIR/config.yml")" "deletes are enabled"

DK_DIGEST=$(docker_push_image "$IMG" "$REG/peers/base:1") || true
assert_match "$SHA_RE" "$DK_DIGEST" "docker push to the loopback registry reports a digest"
rdk image inspect "$REG/peers/base:1" >/dev/null 2>&1 &&
  not_ok "docker_push_image left its tag in the daemon" || ok "docker_push_image removes its tag"
assert_eq "$DK_DIGEST" "$(registry_manifest_digest "$REG" peers/base 1)" \
  "registry_manifest_digest gives the digest docker push reported"
curl -s -H "Accept: $MANIFEST_ACCEPT" -o "$WORK/manifest.json" "http://$REG/v2/peers/base/manifests/1"
assert_eq "$DK_DIGEST" "$(sha_of "$WORK/manifest.json")" "the manifest's bytes hash to that digest"
LAYER=$(json_get 'd["layers"][0]["digest"]' <"$WORK/manifest.json")
LAYER_SIZE=$(json_get 'd["layers"][0]["size"]' <"$WORK/manifest.json")
CONFIG=$(json_get 'd["config"]["digest"]' <"$WORK/manifest.json")
assert_eq "$(rdk image inspect -f '{{.Id}}' "$IMG")" "$CONFIG" "the config blob is docker's image ID"
rc=0 && registry_has_blob "$REG" peers/base "$LAYER" || rc=$?
assert_eq 0 "$rc" "registry_has_blob: the layer is there"
rc=0 && registry_has_blob "$REG" peers/base "sha256:$(printf '0%.0s' {1..64})" || rc=$?
assert_eq 1 "$rc" "registry_has_blob: an unknown digest is not"
rc=0 && registry_manifest_digest "$REG" peers/base nosuchtag 2>/dev/null || rc=$?
assert_eq 1 "$rc" "registry_manifest_digest fails for an unknown tag"
curl -s -o "$WORK/layer.good" "http://$REG/v2/peers/base/blobs/$LAYER"
assert_eq "$LAYER" "$(sha_of "$WORK/layer.good")" "the layer blob downloads intact ($LAYER_SIZE bytes)"

# --- skopeo push ----------------------------------------------------------------------------------
SK_DIGEST=$(push_fixture_with_skopeo "$FIX/base.tar" "$REG/peers/skopeo:1") || true
assert_match "$SHA_RE" "$SK_DIGEST" "push_fixture_with_skopeo prints the pushed digest"
assert_eq "$SK_DIGEST" "$(registry_manifest_digest "$REG" peers/skopeo 1)" "and the registry has it"
got=$(skopeo inspect --tls-verify=false "docker://$REG/peers/skopeo:1" | json_get 'd["Digest"]')
assert_eq "$SK_DIGEST" "$got" "skopeo inspect agrees"

# --- fault proxy: transparent without rules -------------------------------------------------------
RULES=$WORK/faults.json
start_fault_proxy PROXY "$REG" "$RULES"
assert_match '^127\.0\.0\.1:[0-9]+$' "$PROXY_ADDR" "start_fault_proxy sets PROXY_ADDR"
assert_eq "$RULES.log" "$PROXY_LOG" "and PROXY_LOG"
: >"$PROXY_LOG"
got=$(skopeo inspect --tls-verify=false "docker://$PROXY/peers/base:1" | json_get 'd["Digest"]')
assert_eq "$DK_DIGEST" "$got" "skopeo inspect through the proxy"
assert_eq "" "$(awk '$4 >= 300 && $4 != 401 || $5 != "-"' "$PROXY_LOG")" \
  "without rules nothing is faulted (log: $(wc -l <"$PROXY_LOG") requests)"
skopeo --policy "$WORK/skopeo-policy.json" copy -q --src-tls-verify=false \
  "docker://$PROXY/peers/base:1" "oci:$WORK/oci:base" >"$WORK/copy.out" 2>&1 &&
  ok "skopeo copy pulls through the proxy" || not_ok "skopeo copy through the proxy: $(cat "$WORK/copy.out")"
assert_match "^GET /v2/peers/base/blobs/$LAYER - 200 - body=$LAYER_SIZE$" "$(cat "$PROXY_LOG")" \
  "the log names method, path, range, status, fault and body size"

: >"$PROXY_LOG"
VIA=$(push_fixture_with_skopeo "$FIX/base.tar" "$PROXY/peers/viaproxy:1") || true
assert_eq "$SK_DIGEST" "$VIA" "skopeo push through the proxy"
assert_eq "$VIA" "$(registry_manifest_digest "$REG" peers/viaproxy 1)" "lands in the registry"
assert_match '^(PUT|PATCH) /v2/peers/viaproxy/blobs/uploads/' "$(cat "$PROXY_LOG")" \
  "upload Locations are rewritten to the proxy (the upload came back through it)"

: >"$PROXY_LOG"
VIA=$(docker_push_image "$IMG" "$PROXY/peers/dockerproxy:1") || true
assert_eq "$DK_DIGEST" "$VIA" "docker push through the proxy (streamed PATCH uploads)"
assert_match '^PATCH /v2/peers/dockerproxy/blobs/uploads/.* 202 ' "$(cat "$PROXY_LOG")" \
  "the log shows docker's PATCH upload"

got=$(curl -s -o /dev/null -o /dev/null -w '%{num_connects} ' "http://$PROXY/v2/" \
  -H "Accept: $MT_V2" "http://$PROXY/v2/peers/base/manifests/1")
assert_eq "1 0 " "$got" "keep-alive: a second request reuses the connection"

# Streaming: a 48 MiB blob up and down through the proxy must not grow it by its size.
head -c $((48 << 20)) /dev/urandom >"$WORK/big.blob"
BIG=$(sha_of "$WORK/big.blob")
loc=$(curl -s -D - -o /dev/null -X POST "http://$PROXY/v2/peers/big/blobs/uploads/" | tr -d '\r' |
  sed -n 's/^Location: //p')
assert_match "^http://$PROXY/v2/peers/big/blobs/uploads/" "$loc" "an upload's Location names the proxy"
got=$(code "$loc&digest=$BIG" -X PUT -H 'Content-Type: application/octet-stream' \
  --data-binary "@$WORK/big.blob")
assert_eq 201 "$got" "a monolithic 48 MiB upload through the proxy"
curl -s -o "$WORK/big.back" "http://$PROXY/v2/peers/big/blobs/$BIG"
assert_eq "$BIG" "$(sha_of "$WORK/big.back")" "and its download through the proxy are intact"
hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PROXY_PID/status")
((hwm < 40000)) && ok "the proxy streams bodies (peak RSS $((hwm / 1024)) MiB)" ||
  not_ok "the proxy peaked at $((hwm / 1024)) MiB: it buffers bodies"
rm -f "$WORK/big.blob" "$WORK/big.back"

# --- fault proxy: faults --------------------------------------------------------------------------
MURL=http://$PROXY/v2/peers/base/manifests/1
BURL=http://$PROXY/v2/peers/base/blobs/$LAYER
last_log() { tail -n 1 "$PROXY_LOG"; }

set_faults "$RULES" '[{"path": "/manifests/", "method": "GET", "status": 503, "times": 1}]'
body=$(curl -s -H "Accept: $MT_V2" -w ' %{http_code}' "$MURL")
assert_match 'UNAVAILABLE.* 503$' "$body" "status 503: curl sees 503 with a registry error body"
assert_match "^GET /v2/peers/base/manifests/1 - 503 status=503 " "$(last_log)" "logged as a fault"
assert_eq 200 "$(code "$MURL" -H "Accept: $MT_V2")" "times 1: the next request passes"
assert_eq 200 "$(code "$MURL" -I -H "Accept: $MT_V2")" "the rule is only for GET (HEAD passes)"

set_faults "$RULES" '[{"path": "/manifests/", "status": 503, "times": 2}]'
: >"$PROXY_LOG"
got=$(skopeo inspect --retry-times 3 --tls-verify=false "docker://$PROXY/peers/base:1" 2>&1) || true
if [[ $got == "{"* ]]; then
  assert_eq "$DK_DIGEST" "$(json_get 'd["Digest"]' <<<"$got")" "skopeo --retry-times gets through two 503s"
else
  # skopeo 1.9 does not retry a manifest's 5xx; later versions may.
  assert_match '503 Service Unavailable' "$got" "skopeo reports the injected 503"
fi
assert_match ' 503 status=503 ' "$(cat "$PROXY_LOG")" "skopeo was served the 503"

set_faults "$RULES" "[{\"path\": \"/blobs/$LAYER\", \"method\": \"GET\", \"drop_after\": 1000}]"
rc=0 && curl -s -o "$WORK/part" "$BURL" || rc=$?
assert_eq 18 "$rc" "drop_after: curl reports a partial transfer (exit 18)"
assert_eq 1000 "$(stat -c %s "$WORK/part")" "after exactly 1000 bytes"
assert_match " 200 drop_after=1000 body=1000$" "$(last_log)" "logged with the bytes sent"
code=$(curl -s -o "$WORK/rest" -w '%{http_code}' -H 'Range: bytes=1000-' "$BURL")
assert_eq 206 "$code" "a Range request for the rest passes through (206)"
assert_match "^GET /v2/peers/base/blobs/$LAYER bytes=1000- 206 - " "$(last_log)" \
  "the log shows the Range header of the resume"
cat "$WORK/part" "$WORK/rest" >"$WORK/joined"
assert_eq "$LAYER" "$(sha_of "$WORK/joined")" "both parts make the blob"

set_faults "$RULES" "[{\"path\": \"/blobs/$LAYER\", \"drop_after\": 1000, \"reset\": true}]"
rc=0 && curl -s -o "$WORK/part" "$BURL" || rc=$?
[[ $rc == 18 || $rc == 56 ]] && ok "drop_after + reset: the transfer fails (curl exit $rc)" ||
  not_ok "drop_after + reset: curl exit $rc"

set_faults "$RULES" "[{\"path\": \"/blobs/$LAYER\", \"truncate_to\": 4096}]"
hdrs=$(curl -s -D - -o "$WORK/trunc" "$BURL" | tr -d '\r') && rc=0 || rc=$?
assert_eq 0 "$rc" "truncate_to: curl sees a complete answer"
assert_match '^Content-Length: 4096$' "$hdrs" "with Content-Length 4096"
assert_eq "$(head -c 4096 "$WORK/layer.good" | sha256sum)" "$(sha256sum <"$WORK/trunc")" \
  "holding the first 4096 bytes of the blob"

set_faults "$RULES" "[{\"path\": \"/blobs/$LAYER\", \"corrupt\": true}]"
curl -s -o "$WORK/corrupt" "$BURL" && rc=0 || rc=$?
assert_eq 0 "$rc" "corrupt: curl sees a complete answer"
assert_eq "$LAYER_SIZE" "$(stat -c %s "$WORK/corrupt")" "of the blob's size"
assert_eq 1 "$(cmp -l "$WORK/layer.good" "$WORK/corrupt" | wc -l)" "with exactly one byte changed"
assert_ne "$LAYER" "$(sha_of "$WORK/corrupt")" "so the digest no longer matches"

set_faults "$RULES" '[{"path": "/manifests/", "method": ["GET", "HEAD"], "status": 200, "replace_body_size": 5000000, "times": 2}]'
got=$(curl -s -o "$WORK/bigmanifest" -w '%{http_code} %{content_type}' "$MURL")
assert_eq "200 $MT_V2" "$got" "replace_body_size: 200 with a manifest content type"
assert_eq 5000000 "$(stat -c %s "$WORK/bigmanifest")" "and a 5000000-byte body"
assert_match '^\{"schemaVersion":2' "$(head -c 40 "$WORK/bigmanifest")" "that starts like a manifest"
hdrs=$(curl -s -I "$MURL" | tr -d '\r')
assert_match '^Content-Length: 5000000$' "$hdrs" "HEAD announces the same length"

set_faults "$RULES" '[{"path": "/v2/$", "delay_ms": 700}]'
got=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "http://$PROXY/v2/")
awk -v t="${got#* }" 'BEGIN {exit !(t >= 0.7)}' && [[ ${got% *} == 200 ]] &&
  ok "delay_ms: answered 200 after ${got#* } s" || not_ok "delay_ms 700: got '$got'"

set_faults "$RULES" '[{"path": "/v2/$", "status": 500, "times": 2, "skip": 1}]'
got="$(code "http://$PROXY/v2/") $(code "http://$PROXY/v2/") $(code "http://$PROXY/v2/") $(code "http://$PROXY/v2/")"
assert_eq "200 500 500 200" "$got" "skip 1, times 2"
set_faults "$RULES" '[{"path": "/v2/$", "status": 500, "times": 2, "skip": 1}]'
got="$(code "http://$PROXY/v2/") $(code "http://$PROXY/v2/")"
assert_eq "200 500" "$got" "rewriting the rules (even unchanged) restarts their counters"
set_faults "$RULES" '[{"path": "/v2/$", "status": 429, "times": -1, "headers": {"Retry-After": "1"}}]'
hdrs=$(curl -s -D - -o /dev/null "http://$PROXY/v2/" | tr -d '\r')
assert_match '^HTTP/1.1 429' "$hdrs" "times -1: the rule always applies"
assert_match '^Retry-After: 1$' "$hdrs" "with the headers it names"
assert_eq 429 "$(code "http://$PROXY/v2/")" "again"
clear_faults "$RULES"
assert_eq 200 "$(code "http://$PROXY/v2/")" "clear_faults: everything passes"
echo '[{"path": "/v2/", "drop-after": 10}]' >"$RULES"
assert_eq 500 "$(code "http://$PROXY/v2/")" "a rule with an unknown key answers 500"
assert_match 'unknown key.*drop-after' "$(cat "$RULES.out")" "and the proxy says why"
clear_faults "$RULES"

# --- bearer tokens ---------------------------------------------------------------------------------
start_registry TOK --token alice:secret
assert_eq "$TOK_DIR/token.log" "$TOK_TOKEN_LOG" "start_registry --token USER:PASS starts its own service"
hdrs=$(curl -s -D - -o /dev/null "http://$TOK/v2/" | tr -d '\r')
assert_match '^HTTP/1.1 401' "$hdrs" "token registry: GET /v2/ without a token is 401"
assert_match "^Www-Authenticate: Bearer realm=\"$TOKEN_REALM\",service=\"strata-test\"$" "$hdrs" \
  "naming the token service as realm"
hdrs=$(curl -s -D - -o /dev/null "http://$TOK/v2/peers/base/manifests/1" | tr -d '\r')
assert_match 'scope="repository:peers/base:pull"' "$hdrs" "a manifest GET asks for the pull scope"

: >"$TOK_TOKEN_LOG"
answer=$(curl -s "$TOKEN_REALM?service=strata-test&scope=repository:peers/base:pull,push")
assert_eq "300 yes yes" "$(json_get 'd["expires_in"], d["token"] == d["access_token"], "T" in d["issued_at"]' <<<"$answer" | tr -d '(),' | sed 's/True/yes/g')" \
  "the answer has token = access_token, expires_in 300, issued_at"
ANON=$(json_get 'd["token"]' <<<"$answer")
jwt_part() { # jwt_part TOKEN INDEX: a decoded JWT part as compact JSON
  "$REGISTRY_PYTHON" -c 'import base64,json,sys; p=sys.argv[1].split(".")[int(sys.argv[2])]; print(json.dumps(json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4))), sort_keys=True, separators=(",", ":")))' "$1" "$2"
}
hdr=$(jwt_part "$ANON" 0)
assert_match '"alg":"RS256"' "$hdr" "the JWT is RS256"
want=$(openssl x509 -in "$TOKEN_CERT" -outform DER | base64 -w0)
assert_eq "$want" "$(json_get 'd["x5c"][0]' <<<"$hdr")" "its x5c is the certificate's DER"
claims=$(jwt_part "$ANON" 1)
assert_eq '[{"actions":["pull"],"name":"peers/base","type":"repository"}]' \
  "$(json_get 'json.dumps(d["access"], sort_keys=True, separators=(",", ":"))' <<<"$claims")" \
  "anonymous: pull only, though push was asked for"
assert_eq "strata-test-issuer strata-test" "$(json_get 'd["iss"], d["aud"]' <<<"$claims" | tr -d "()',")" \
  "iss and aud (= service) claims"
assert_eq "300 10" "$(json_get 'd["exp"] - d["iat"], d["iat"] - d["nbf"]' <<<"$claims" | tr -d '(),')" \
  "exp, nbf, iat claims"
assert_eq 200 "$(code "http://$TOK/v2/" -H "Authorization: Bearer $ANON")" "the registry accepts the token"
assert_eq 401 "$(code "http://$TOK/v2/peers/base/blobs/uploads/" -X POST -H "Authorization: Bearer $ANON")" \
  "an anonymous token cannot start an upload"
answer=$(curl -s -u alice:secret "$TOKEN_REALM?service=strata-test&scope=repository:peers/base:pull,push")
USERTOK=$(json_get 'd["token"]' <<<"$answer")
assert_eq "alice" "$(jwt_part "$USERTOK" 1 | json_get 'd["sub"]')" "basic credentials: sub is the user"
assert_eq 202 "$(code "http://$TOK/v2/peers/base/blobs/uploads/" -X POST -H "Authorization: Bearer $USERTOK")" \
  "a user's pull,push token starts an upload"
assert_eq 401 "$(code "$TOKEN_REALM?service=strata-test&scope=repository:peers/base:pull" -u alice:wrong)" \
  "a wrong password gets 401 from the token service"
log=$(cat "$TOK_TOKEN_LOG")
assert_match '^scope=repository:peers/base:pull,push auth=no user=- status=200 path=/token\?' "$log" \
  "the token log: scope, no auth"
assert_match '^scope=repository:peers/base:pull,push auth=yes user=alice status=200 ' "$log" "a user"
assert_match '^scope=repository:peers/base:pull auth=yes user=- status=401 ' "$log" "a refusal"
assert_eq 3 "$(wc -l <"$TOK_TOKEN_LOG")" "one line per token request"
got=$(registry_auth_header "$TOK" peers/base pull,push alice:secret)
assert_match '^Authorization: Bearer [A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$' "$got" \
  "registry_auth_header fetches a bearer token"

docker_login "$TOK" alice:secret && ok "docker login through the token service" ||
  not_ok "docker login to $TOK"
: >"$TOK_TOKEN_LOG"
got=$(docker_push_image "$IMG" "$TOK/peers/base:1") || true
assert_eq "$DK_DIGEST" "$got" "docker push with tokens from the token service"
assert_match 'scope=repository:peers/base:(pull,push|push,pull) auth=yes user=alice status=200' \
  "$(cat "$TOK_TOKEN_LOG")" "docker asked the service for a push token with the credentials"
assert_eq "$DK_DIGEST" "$(registry_manifest_digest "$TOK" peers/base 1)" \
  "registry_manifest_digest pulls anonymously with a token"
got=$(skopeo inspect --tls-verify=false --creds alice:secret "docker://$TOK/peers/base:1" | json_get 'd["Digest"]')
assert_eq "$DK_DIGEST" "$got" "skopeo inspect with credentials through the token flow"

SERVICE1_LOG=$TOKEN_LOG
start_token_service mallory:x
assert_ne "$SERVICE1_LOG" "$TOKEN_LOG" "a second token service gets its own directory"
FOREIGN=$(curl -s -u mallory:x "$TOKEN_REALM?service=strata-test&scope=repository:peers/base:pull,push" |
  json_get 'd["token"]')
assert_eq 401 "$(code "http://$TOK/v2/" -H "Authorization: Bearer $FOREIGN")" \
  "the registry refuses a token signed by a key outside its rootcertbundle"

# --- htpasswd ----------------------------------------------------------------------------------
start_registry AUTH --htpasswd alice:wonderland --htpasswd bob:builder
hdrs=$(curl -s -D - -o /dev/null "http://$AUTH/v2/" | tr -d '\r')
assert_match '^HTTP/1.1 401' "$hdrs" "htpasswd registry: anonymous GET /v2/ is 401"
assert_match '^Www-Authenticate: Basic realm="strata-test"' "$hdrs" "with a Basic challenge"
assert_eq 200 "$(code "http://$AUTH/v2/" -u alice:wonderland)" "alice's password is accepted"
assert_eq 200 "$(code "http://$AUTH/v2/" -u bob:builder)" "so is bob's"
assert_eq 401 "$(code "http://$AUTH/v2/" -u alice:builder)" "a wrong password is 401"
assert_match '^alice:\$2y\$' "$(cat "$AUTH_DIR/htpasswd")" "passwords are stored with bcrypt"
push_fixture_with_skopeo "$FIX/base.tar" "$AUTH/peers/base:1" >/dev/null 2>&1 &&
  not_ok "skopeo pushed without credentials" || ok "a push without credentials fails"
got=$(push_fixture_with_skopeo "$FIX/base.tar" "$AUTH/peers/base:1" --dest-creds alice:wonderland) || true
assert_eq "$SK_DIGEST" "$got" "push_fixture_with_skopeo --dest-creds"
assert_eq "$SK_DIGEST" "$(registry_manifest_digest "$AUTH" peers/base 1 alice:wonderland)" \
  "registry_manifest_digest with credentials"
registry_manifest_digest "$AUTH" peers/base 1 >/dev/null 2>&1 &&
  not_ok "registry_manifest_digest without credentials succeeded" ||
  ok "registry_manifest_digest without credentials fails"
docker_login "$AUTH" bob:builder && ok "docker login with htpasswd" || not_ok "docker login to $AUTH"
got=$(docker_push_image "$IMG" "$AUTH/peers/docker:1") || true
assert_eq "$DK_DIGEST" "$got" "docker push with basic auth"
assert_match "\"$AUTH\"" "$(cat "$REGISTRY_DOCKER_CONFIG/config.json")" \
  "docker's credentials went to this test's own client config"

# --- a test's peers are stopped when it exits -------------------------------------------------------
cat >"$WORK/child_test.sh" <<EOF
source "$REPO_ROOT/tests/integration/lib.sh" /bin/true
source "$REPO_ROOT/tests/integration/registry_lib.sh"
start_registry R --token u:p
start_fault_proxy P "\$R" "\$WORK/rules.json"
echo "\$(pgrep -f "\$R_DIR/config.yml") \$P_PID \$(pgrep -f "\$R_DIR/token.key")"
EOF
pids=$(bash "$WORK/child_test.sh" 2>"$WORK/child.err" | tail -n 1) || true
read -ra pids <<<"$pids"
assert_eq 3 "${#pids[@]}" "the child test started a registry, a proxy and a token service"
alive=""
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && alive+=" $p"; done
assert_eq "" "$alive" "all three are gone once it exited"

finish
