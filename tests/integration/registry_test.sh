#!/usr/bin/env bash
# strata against real registries (Debian's docker-registry, distribution 2.8) and the real
# docker engine: docker push -> strata pull and strata push -> docker pull give the same image
# IDs, diffIDs and history; re-push says "Layer already exists"; mounts; pull by digest;
# copy docker:// keeps manifest digests; htpasswd auth with login/logout; faults injected by a
# proxy (corrupt, truncated and dropped blobs, 5xx, oversized manifest); the name policy
# (blocked registries, mirrors, ambiguous short names).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer docker docker-registry python3 jq curl htpasswd skopeo
ensure_fixtures
need_strata_cmd pull push login logout copy resolve
# strata's credentials live in a private docker config for this test.
export DOCKER_CONFIG_STRATA=$WORK/docker-config
R=$FIXTURE_REPO

start_registry REG
note "registry at $REG"

# in_store DIR ARGS...: strata on another store; sets RC/OUT/ERR like srun.
in_store() {
  local dir=$1
  shift
  RC=0
  OUT=$(DOCKER_CONFIG=$DOCKER_CONFIG_STRATA "$STRATA" --root "$dir" "$@" 2>"$WORK/err") || RC=$?
  ERR=$(cat "$WORK/err")
}
image_id_in() { "$STRATA" --root "$1" inspect "$2" 2>/dev/null | jq -r '.[0].Id'; }

# --- docker push -> strata pull ------------------------------------------------------------------
WANT_ID=$(dk image inspect -f '{{.Id}}' "$R/rich:1")
WANT_LAYERS=$(dk image inspect -f '{{json .RootFS.Layers}}' "$R/rich:1")
NLAYERS=$(jq length <<<"$WANT_LAYERS")
dk tag "$R/rich:1" "$REG/dk/rich:1"
dk push "$REG/dk/rich:1" >"$WORK/dkpush.out" 2>&1 || fatal "docker push failed: $(cat "$WORK/dkpush.out")"
DK_DIGEST=$(grep -o 'digest: sha256:[0-9a-f]*' "$WORK/dkpush.out" | cut -d' ' -f2)
note "docker pushed $REG/dk/rich:1 as $DK_DIGEST ($NLAYERS layers)"

S=$WORK/s-pull
in_store "$S" --debug pull "$REG/dk/rich:1"
assert_eq 0 "$RC" "strata pull of a docker-pushed image exits 0 ($ERR)"
assert_eq "$NLAYERS" "$(grep -Ec '^\[ *[0-9.]+s\] layer [0-9a-f]{12}: verified' <<<"$ERR")" \
  "--debug: a time-stamped line as each layer is verified"
assert_match "^\[ *[0-9.]+s\] image sha256:[0-9a-f]{64} ready to run$" "$ERR" \
  "--debug: a line when the image is ready to run"
assert_match "^1: Pulling from dk/rich" "$OUT" "pull prints docker's first line"
assert_eq "$NLAYERS" "$(grep -c ': Pull complete$' <<<"$OUT")" "one 'Pull complete' per layer"
assert_match "Digest: $DK_DIGEST" "$OUT" "pull prints the manifest digest docker push reported"
assert_match "Status: Downloaded newer image for $REG/dk/rich:1" "$OUT" "pull status line"
assert_eq "$WANT_ID" "$(image_id_in "$S" "$REG/dk/rich:1")" "image ID equals docker's"
assert_eq "$(jq -c . <<<"$WANT_LAYERS")" \
  "$("$STRATA" --root "$S" inspect "$REG/dk/rich:1" | jq -c '.[0].RootFS.Layers')" "diffIDs equal docker's"
want=$(dk history --no-trunc --format '{{json .}}' "$R/rich:1" | jq -c '{CreatedBy, Size, Comment}')
got=$("$STRATA" --root "$S" history --no-trunc --format json "$REG/dk/rich:1" | jq -c '{CreatedBy, Size, Comment}')
assert_eq "$want" "$got" "history equals docker's (CreatedBy, Size, Comment)"
assert_eq "$NLAYERS" "$(find "$S/snapshots" -mindepth 1 -maxdepth 1 -type d | wc -l)" \
  "every layer is unpacked after the pull"
assert_match "$DK_DIGEST" "$("$STRATA" --root "$S" images --digests)" "images --digests shows the digest"
in_store "$S" pull "$REG/dk/rich:1"
assert_match "Status: Image is up to date for $REG/dk/rich:1" "$OUT" "second pull is up to date"
assert_eq "" "$ERR" "without --debug a pull writes nothing to stderr"
assert_eq 0 "$(grep -c 'Pull complete' <<<"$OUT" || true)" "second pull downloads nothing"

# --- strata push -> docker pull ------------------------------------------------------------------
P=$WORK/s-push
in_store "$P" load -i "$FIX/rich.tar"
assert_eq 0 "$RC" "setup: load rich.tar ($ERR)"
"$STRATA" --root "$P" tag "$R/rich:1" "$REG/st/rich:1"
in_store "$P" push "$REG/st/rich:1"
assert_eq 0 "$RC" "strata push exits 0 ($ERR)"
assert_match "The push refers to repository \[$REG/st/rich\]" "$OUT" "push prints docker's first line"
assert_eq "$NLAYERS" "$(grep -c ': Pushed$' <<<"$OUT")" "one 'Pushed' per layer"
ST_DIGEST=$(grep -o '^1: digest: sha256:[0-9a-f]* size: [0-9]*$' <<<"$OUT" | cut -d' ' -f3)
[[ -n $ST_DIGEST ]] && ok "push prints 'TAG: digest: sha256:... size: N'" || not_ok "no digest line in: $OUT"
in_store "$P" push "$REG/st/rich:1"
assert_eq "$NLAYERS" "$(grep -c ': Layer already exists$' <<<"$OUT")" "re-push: every layer already exists"
assert_match "1: digest: $ST_DIGEST" "$OUT" "re-push gives the same digest"
in_store "$P" tag "$R/rich:1" "$REG/st/other:1"
in_store "$P" push "$REG/st/other:1"
assert_eq "$NLAYERS" "$(grep -c ': Mounted from st/rich$' <<<"$OUT")" "push to a sibling repository mounts"

start_private_dockerd PEER
DOCKER_HOST=$PEER dk pull "$REG/st/rich:1" >"$WORK/dkpull.out" 2>&1 ||
  not_ok "docker pull of a strata-pushed image: $(cat "$WORK/dkpull.out")"
assert_eq "$WANT_ID" "$(DOCKER_HOST=$PEER dk image inspect -f '{{.Id}}' "$REG/st/rich:1" 2>&1)" \
  "docker pull of strata's push gives docker's image ID"
assert_match "Digest: $ST_DIGEST" "$(cat "$WORK/dkpull.out")" "docker sees strata's manifest digest"
got=$(DOCKER_HOST=$PEER dk history --no-trunc --format '{{json .}}' "$REG/st/rich:1" | jq -c '{CreatedBy, Size, Comment}')
assert_eq "$want" "$got" "docker history of strata's push equals the original"

# A pulled image keeps the registry's blobs, not a second copy of each tar: save rebuilds the
# tars from them, and docker loads the result with the same ID.
in_store "$S" fsck
assert_eq 0 "$RC" "fsck of a pulled store is clean ($ERR)"
in_store "$S" save -o "$WORK/pulled.tar" "$REG/dk/rich:1"
assert_eq 0 "$RC" "save of a pulled image ($ERR)"
DOCKER_HOST=$PEER dk load -i "$WORK/pulled.tar" >/dev/null 2>&1 || not_ok "docker load of a pulled image's save"
assert_eq "$WANT_ID" "$(DOCKER_HOST=$PEER dk image inspect -f '{{.Id}}' "$REG/dk/rich:1" 2>&1)" \
  "docker load of strata's save of a pulled image: same ID"

# pull by digest into an empty store
D=$WORK/s-digest
in_store "$D" pull "$REG/st/rich@$ST_DIGEST"
assert_eq 0 "$RC" "pull by digest ($ERR)"
assert_match "^$ST_DIGEST: Pulling from st/rich" "$OUT" "pull by digest names the digest"
assert_eq "$WANT_ID" "$(image_id_in "$D" "$REG/st/rich@$ST_DIGEST")" "pull by digest: image ID"

# A pulled image re-pushed elsewhere keeps its manifest digest.
in_store "$S" tag "$REG/dk/rich:1" "$REG/again/rich:1"
in_store "$S" push "$REG/again/rich:1"
assert_match "1: digest: $DK_DIGEST" "$OUT" "re-pushing a pulled image keeps docker's manifest digest"

# --- copy docker:// --------------------------------------------------------------------------------
in_store "$S" copy "docker://$REG/dk/rich:1" "oci:$WORK/oci:v1"
assert_eq 0 "$RC" "copy docker:// -> oci: ($ERR)"
# An OCI layout holds OCI manifests (skopeo finds nothing else in index.json): the Docker
# manifest's media types are converted, its config and layer blobs kept, so the image ID is
# still docker's (skopeo would also rewrite the config, and so the ID).
oci_manifest=$WORK/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$WORK/oci/index.json" | cut -d: -f2)
assert_eq "application/vnd.oci.image.manifest.v1+json" "$(jq -r .mediaType "$oci_manifest")" \
  "copy docker:// -> oci: writes an OCI manifest"
assert_eq "$WANT_ID" "$(jq -r .config.digest "$oci_manifest")" "copy docker:// -> oci: keeps the config, so the image ID"
assert_eq "$(curl -s -H "Accept: application/vnd.docker.distribution.manifest.v2+json" \
  "http://$REG/v2/dk/rich/manifests/1" | jq -c '[.layers[] | .digest, .size]')" \
  "$(jq -c '[.layers[] | .digest, .size]' "$oci_manifest")" "copy docker:// -> oci: keeps the layer blobs"
got=$(skopeo inspect "oci:$WORK/oci:v1" 2>&1 | jq -r '.Layers | length')
assert_eq 11 "$got" "skopeo reads the layout strata wrote"
in_store "$S" copy "docker://$REG/dk/rich:1" "docker://$REG/copied/rich:2"
assert_eq 0 "$RC" "copy docker:// -> docker:// ($ERR)"
got=$(skopeo inspect --tls-verify=false "docker://$REG/copied/rich:2" 2>&1 | jq -r .Digest)
assert_eq "$DK_DIGEST" "$got" "copy between repositories keeps the digest (skopeo inspect)"

# --- auth: htpasswd basic auth, login, logout --------------------------------------------------
start_registry AUTH --htpasswd alice:wonderland
A=$WORK/s-auth
in_store "$A" pull "$AUTH/st/rich:1"
assert_ne 0 "$RC" "pull without credentials fails"
assert_match "authentication required for $AUTH" "$ERR" "and says authentication is required"
in_store "$A" login -u alice -p wrong "$AUTH"
assert_ne 0 "$RC" "login with a wrong password fails"
in_store "$A" login -u alice --password-stdin "$AUTH" <<<"wonderland"
assert_eq 0 "$RC" "login exits 0 ($ERR)"
assert_eq "Login Succeeded" "$OUT" "login prints Login Succeeded"
assert_match "\"$AUTH\"" "$(cat "$DOCKER_CONFIG_STRATA/config.json")" "credentials are in config.json"
in_store "$P" tag "$R/rich:1" "$AUTH/st/rich:1"
in_store "$P" push "$AUTH/st/rich:1"
assert_eq 0 "$RC" "push with credentials ($ERR)"
in_store "$A" pull "$AUTH/st/rich:1"
assert_eq 0 "$RC" "pull with credentials ($ERR)"
assert_eq "$WANT_ID" "$(image_id_in "$A" "$AUTH/st/rich:1")" "authenticated pull: image ID"
in_store "$A" logout "$AUTH"
assert_eq "Removing login credentials for $AUTH" "$OUT" "logout message"
in_store "$WORK/s-auth2" pull "$AUTH/st/rich:1"
assert_ne 0 "$RC" "after logout the registry refuses again"

# --- auth: bearer tokens from a token service ---------------------------------------------------
start_registry TOK --token bob:builder
TOKLOG=$WORK/registry-TOK/token.log
T=$WORK/s-token
"$STRATA" --root "$P" tag "$R/rich:1" "$TOK/st/rich:1"
in_store "$P" push "$TOK/st/rich:1"
assert_ne 0 "$RC" "anonymous push to a token registry is refused"
assert_match "unauthorized|denied|UNAUTHORIZED|DENIED" "$ERR" "with the registry's reason"
in_store "$T" login -u bob -p builder "$TOK"
assert_eq 0 "$RC" "login through the token service ($ERR)"
: >"$TOKLOG"
in_store "$P" push "$TOK/st/rich:1"
assert_eq 0 "$RC" "push with a bearer token ($ERR)"
assert_match "scope=repository:st/rich:pull,push auth=yes" "$(cat "$TOKLOG")" \
  "the token is asked for the push scope with the credentials"
tokens=$(grep -c 'scope=repository:st/rich:pull,push' "$TOKLOG" || true)
((tokens <= 2)) && ok "the token is reused across requests ($tokens token request(s))" ||
  not_ok "a push fetched $tokens tokens for one scope"
: >"$TOKLOG"
in_store "$WORK/s-token2" pull "$TOK/st/rich:1"
assert_eq 0 "$RC" "pull with a bearer token ($ERR)"
assert_eq "$WANT_ID" "$(image_id_in "$WORK/s-token2" "$TOK/st/rich:1")" "bearer pull: image ID"
in_store "$T" logout "$TOK"

# --- faults --------------------------------------------------------------------------------------
RULES=$WORK/faults.json
start_fault_proxy PROXY "$REG" "$RULES"
BIG=$("$STRATA" --root "$S" inspect "$REG/dk/rich:1" >/dev/null; curl -s \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REG/v2/dk/rich/manifests/1" | jq -r '.layers | max_by(.size) | .digest')
BIG_SIZE=$(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REG/v2/dk/rich/manifests/1" | jq -r '.layers | max_by(.size) | .size')
fault_pull() { # fault_pull CASE RULES-JSON: pull through the proxy into a fresh store
  set_faults "$RULES" "$2"
  : >"$RULES.log"
  F=$WORK/s-fault-$1
  in_store "$F" pull "$PROXY/dk/rich:1"
}
empty_store() { [[ -z $("$STRATA" --root "$1" images -q 2>/dev/null) ]]; }

fault_pull corrupt "[{\"path\": \"/blobs/$BIG\", \"method\": \"GET\", \"corrupt\": true, \"times\": 10}]"
assert_ne 0 "$RC" "a corrupted blob fails the pull"
assert_match "does not match its digest" "$ERR" "and names the digest mismatch"
empty_store "$F" && ok "corrupt blob: no image in the store" || not_ok "corrupt blob left an image"
[[ -z $(find "$F/snapshots" -mindepth 1 -maxdepth 1 2>/dev/null) ]] &&
  ok "corrupt blob: no unpacked layer left" || not_ok "corrupt blob left unpacked layers"

fault_pull truncated "[{\"path\": \"/blobs/$BIG\", \"method\": \"GET\", \"truncate_to\": 100, \"times\": 10}]"
assert_ne 0 "$RC" "a truncated blob fails the pull"
assert_match "truncated" "$ERR" "and says it is truncated"
empty_store "$F" && ok "truncated blob: store unchanged" || not_ok "truncated blob left an image"

fault_pull dropped "[{\"path\": \"/blobs/$BIG\", \"method\": \"GET\", \"drop_after\": 4096, \"times\": 1}]"
assert_eq 0 "$RC" "a connection dropped mid-layer is resumed ($ERR)"
assert_match "Range: bytes=4096-|bytes=4096-" "$(cat "$RULES.log")" "the resume asked for the rest with Range"
assert_eq "$WANT_ID" "$(image_id_in "$F" "$PROXY/dk/rich:1")" "resumed pull: image ID"

fault_pull retry '[{"path": "/manifests/", "status": 503, "times": 2}]'
assert_eq 0 "$RC" "5xx twice then success: the pull retries ($ERR)"
assert_eq 2 "$(grep -c ' 503 ' "$RULES.log")" "two 503s were served"

fault_pull bigmanifest '[{"path": "/manifests/", "method": "GET", "body_size": 5000000, "times": 10}]'
assert_ne 0 "$RC" "a manifest over 4 MiB is refused"
assert_match "over the limit" "$ERR" "and the error says so"
empty_store "$F" && ok "oversized manifest: store unchanged" || not_ok "oversized manifest left an image"

# --- name policy ----------------------------------------------------------------------------------
POL=$WORK/registries.toml
cat >"$POL" <<TOML
[[registry]]
prefix = "$REG/blocked"
blocked = true
[[registry]]
prefix = "mirrored.example.com"
[[registry.mirror]]
location = "$REG"
TOML
in_store "$WORK/s-pol" --registries-config "$POL" pull "$REG/blocked/x:1"
assert_ne 0 "$RC" "a blocked registry prefix is refused"
assert_match "blocked prefix \"$REG/blocked\" in $POL" "$ERR" "the error names the rule and file"
in_store "$WORK/s-pol" --registries-config "$POL" pull "mirrored.example.com/dk/rich:1"
assert_eq 0 "$RC" "a name served by its mirror pulls ($ERR)"
assert_eq "$WANT_ID" "$(image_id_in "$WORK/s-pol" mirrored.example.com/dk/rich:1)" "mirror pull: image ID"

start_registry REG2
dk tag "$R/rich:1" "$REG2/dk/rich:1"
dk push "$REG2/dk/rich:1" >/dev/null 2>&1 || fatal "docker push to second registry"
cat >"$POL" <<TOML
unqualified-search-registries = ["$REG", "$REG2"]
[aliases]
"pinned/rich" = "$REG2/dk/rich"
TOML
in_store "$WORK/s-amb" --registries-config "$POL" pull dk/rich:1
assert_ne 0 "$RC" "a short name found in two search registries is refused"
assert_match "ambiguous" "$ERR" "as ambiguous"
assert_match "$REG2/dk/rich:1" "$ERR" "naming the candidates"
in_store "$WORK/s-amb" --registries-config "$POL" pull pinned/rich:1
assert_eq 0 "$RC" "an alias pins the short name ($ERR)"
in_store "$WORK/s-amb" --registries-config "$POL" pull st/rich:1
assert_eq 0 "$RC" "a short name found in one search registry resolves ($ERR)"
in_store "$WORK/s-amb" resolve busybox
assert_match "^docker.io/library/busybox:latest" "$OUT" "default: a short name is docker.io/library, as docker"

finish
