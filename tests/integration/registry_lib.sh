# Registry peers for the integration tests. Source after lib.sh (and after fixtures.sh when
# pushing fixture images):
#   source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
# Needs python3, curl, openssl, docker-registry (and htpasswd / skopeo / docker for the functions
# that use them; call need_peer first). Everything listens on 127.0.0.1 only, on ports the kernel
# hands out; logs live under $WORK; every process is stopped at exit (lib.sh's at_exit).
# registry_peers_test.sh shows each function at work.
#
# Registries and services (NAME is a variable prefix, e.g. REG):
#   start_registry NAME [--htpasswd USER:PASS]... [--token [USER:PASS]] [--extra-yaml TEXT]
#       Debian's docker-registry (CNCF distribution 2.8), filesystem storage, delete enabled.
#       Sets NAME and NAME_ADDR to 127.0.0.1:PORT, NAME_DIR to $WORK/registry-NAME (config.yml,
#       log, data/), NAME_PID. Returns once it listens and GET /v2/ answers (200 or 401).
#       A port someone took meanwhile is noticed (the registry exits) and another one tried.
#       --htpasswd: bcrypt basic auth (realm "strata-test"); repeat for more users.
#       --token: bearer tokens (auth.token, service "strata-test") from the token service
#       started by start_token_service. With USER:PASS, or when none runs yet, starts one first
#       in NAME_DIR (its log is then NAME_DIR/token.log). Sets NAME_TOKEN_LOG.
#       --extra-yaml: more top-level config (e.g. 'proxy: {remoteurl: http://...}').
#   start_token_service [--dir DIR] [USER:PASS]...
#       tools/token_service.py with a fresh RSA key and self-signed cert. Users get the actions
#       they ask for, anonymous requests only pull, wrong passwords 401. Sets TOKEN_REALM
#       (http://127.0.0.1:PORT/token), TOKEN_SERVICE, TOKEN_ISSUER, TOKEN_CERT, TOKEN_DIR and
#       TOKEN_LOG (one line per request: "scope=S[,S] auth=yes|no user=U|- status=N path=..."),
#       TOKEN_PID. A later start_token_service replaces these (registries keep their service).
#   start_fault_proxy NAME UPSTREAM_ADDR RULES_FILE
#       tools/fault_proxy.py in front of UPSTREAM_ADDR (see its header for the rules: status,
#       drop_after, truncate_to, corrupt, replace_body_size, delay_ms, times, skip). RULES_FILE
#       is created as [] when missing and re-read on every request. Sets NAME and NAME_ADDR to
#       127.0.0.1:PORT, NAME_PID, and NAME_LOG to RULES_FILE.log (one line per request, written
#       before the answer: "METHOD TARGET RANGE STATUS FAULT body=N", e.g.
#       "GET /v2/r/blobs/sha256:.. bytes=1000- 206 - body=4242"); its stderr is RULES_FILE.out.
#   set_faults RULES_FILE JSON      atomically replaces the rules (JSON checked; counters restart)
#   clear_faults RULES_FILE         no rules: everything passes through
#
# Talking to registries (ADDR is 127.0.0.1:PORT; USER:PASS is optional everywhere):
#   registry_auth_header ADDR REPO ACTIONS [USER:PASS]
#       prints the Authorization header line that GET /v2/ asks for: nothing (open registry),
#       "Authorization: Basic ..." or "Authorization: Bearer TOKEN" (a token for
#       repository:REPO:ACTIONS from the realm the registry names). Fails if a token is refused.
#   registry_manifest_digest ADDR REPO TAG|DIGEST [USER:PASS]
#       prints Docker-Content-Digest of a HEAD on the manifest (Accept: docker v2, manifest
#       list, OCI manifest and index); fails if the registry has no such manifest.
#   registry_has_blob ADDR REPO DIGEST [USER:PASS]
#       exit 0 if HEAD on the blob answers 200, 1 if 404, 2 (with a message) otherwise.
#   push_fixture_with_skopeo SOURCE DEST [SKOPEO_COPY_ARGS...]
#       skopeo copy SOURCE docker://DEST (DEST may already start with docker://; a SOURCE that
#       is a plain path to a .tar means docker-archive:) with --dest-tls-verify=false and an
#       accept-anything policy; pass --dest-creds U:P for auth. Prints the pushed manifest digest.
#   docker_push_image IMAGE DEST_REF
#       tags IMAGE as DEST_REF in the daemon of DOCKER_HOST (use_shared_dockerd), docker push,
#       untags; prints the digest docker push reported. dockerd treats 127.0.0.0/8 registries as
#       insecure (plain HTTP) by default, so no daemon configuration is needed.
#   docker_login ADDR USER:PASS     docker login for docker_push_image and rdk
#   rdk ARGS...                     dk with this test's own client config ($REGISTRY_DOCKER_CONFIG,
#                                   where docker_login stores credentials, never the shared one)

REGISTRY_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/tools" && pwd)
# shellcheck disable=SC2034 # older name, used by earlier tests
IT_DIR_TOOLS=$REGISTRY_TOOLS
REGISTRY_DOCKER_CONFIG=$WORK/docker-cli
# Debian's interpreter when there is one: the tools use the standard library only, and a
# version manager's shim would put itself between us and the pid we stop at exit.
if [[ -x /usr/bin/python3 ]]; then REGISTRY_PYTHON=/usr/bin/python3; else REGISTRY_PYTHON=python3; fi

MANIFEST_ACCEPT='application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json, application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json'

# ---------------------------------------------------------------------------------------------
# Processes

# _spawn PIDVAR LOG CMD...: CMD in the background (stdin /dev/null, stdout+stderr to LOG, the
# lock fds 7-9 of lib.sh/fixtures.sh closed so it never holds them), stopped at exit.
_spawn() {
  local _spawn_var=$1 _spawn_log=$2
  shift 2
  "$@" </dev/null >"$_spawn_log" 2>&1 7>&- 8>&- 9>&- &
  at_exit "_stop_pid $!"
  printf -v "$_spawn_var" '%s' "$!"
}

# _stop_pid PID: TERM, up to 3 s to exit, then KILL; reaps it.
_stop_pid() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < 30; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
  return 0
}

# _wait_port_file VAR PID FILE OUT WHAT: waits until the tool (PID, its output in OUT) wrote the
# port it listens on to FILE; sets VAR to it.
_wait_port_file() {
  local _wp_var=$1 _wp_pid=$2 _wp_file=$3 _wp_out=$4 _wp_what=$5 i
  for ((i = 0; i < 200; i++)); do
    if [[ -s $_wp_file ]]; then
      printf -v "$_wp_var" '%s' "$(cat "$_wp_file")"
      return 0
    fi
    kill -0 "$_wp_pid" 2>/dev/null || fatal "$_wp_what exited during start: $(tail -n 5 "$_wp_out")"
    sleep 0.05
  done
  fatal "$_wp_what did not listen within 10 s (output: $_wp_out)"
}

# _free_port: a port the kernel considers free right now on 127.0.0.1. Someone may take it
# before the registry binds it; start_registry notices (the registry exits) and tries again.
_free_port() {
  "$REGISTRY_PYTHON" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# ---------------------------------------------------------------------------------------------
# docker-registry

start_registry() {
  local name=${1:?usage: start_registry NAME [--htpasswd U:P]... [--token [U:P]] [--extra-yaml T]}
  shift
  local -a users=()
  local token=false token_user="" extra="" dir=$WORK/registry-$name
  while (($#)); do
    case $1 in
      --htpasswd)
        users+=("${2:?--htpasswd needs USER:PASS}")
        shift 2
        ;;
      --token)
        token=true
        shift
        if [[ ${1:-} == *:* && ${1:-} != --* ]]; then
          token_user=$1
          shift
        fi
        ;;
      --extra-yaml)
        extra=${2:?--extra-yaml needs text}
        shift 2
        ;;
      *) fatal "start_registry: unknown option $1" ;;
    esac
  done
  ((${#users[@]} == 0)) || ! $token || fatal "start_registry $name: --htpasswd and --token exclude each other"
  [[ ! -e $dir ]] || fatal "start_registry: $name already started ($dir exists)"
  mkdir -p "$dir/data"

  local auth="" u
  if ((${#users[@]})); then
    command -v htpasswd >/dev/null || fatal "start_registry --htpasswd needs htpasswd (apache2-utils)"
    for u in "${users[@]}"; do
      htpasswd -Bbn "${u%%:*}" "${u#*:}" | sed '/^$/d' >>"$dir/htpasswd"
    done
    auth="auth: {htpasswd: {realm: strata-test, path: $dir/htpasswd}}"
  fi
  if $token; then
    if [[ -n $token_user || -z ${TOKEN_REALM:-} ]]; then
      if [[ -n $token_user ]]; then
        start_token_service --dir "$dir" "$token_user"
      else
        start_token_service --dir "$dir"
      fi
    fi
    auth="auth: {token: {realm: \"$TOKEN_REALM\", service: $TOKEN_SERVICE, issuer: $TOKEN_ISSUER, rootcertbundle: $TOKEN_CERT}}"
    printf -v "${name}_TOKEN_LOG" '%s' "$TOKEN_LOG"
  fi

  local attempt port pid i
  for ((attempt = 1; attempt <= 5; attempt++)); do
    port=$(_free_port)
    {
      echo "version: 0.1"
      echo "log: {level: info, formatter: text, fields: {service: registry-$name}}"
      echo "storage:"
      echo "  filesystem: {rootdirectory: $dir/data}"
      echo "  delete: {enabled: true}"
      echo "  maintenance: {uploadpurging: {enabled: false}}"
      echo "http: {addr: 127.0.0.1:$port, secret: strata-test-secret-$name}"
      [[ -z $auth ]] || echo "$auth"
      [[ -z $extra ]] || echo "$extra"
    } >"$dir/config.yml"
    : >"$dir/log"
    _spawn pid "$dir/log" docker-registry serve "$dir/config.yml"
    # "listening on" is logged right after the listen() succeeded: from then on the port is
    # ours. Before it, an answer on the port could come from whoever else holds it.
    for ((i = 0; i < 300; i++)); do
      grep -q "listening on 127.0.0.1:$port" "$dir/log" && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if grep -q "listening on 127.0.0.1:$port" "$dir/log" &&
      curl -s -o /dev/null --max-time 5 "http://127.0.0.1:$port/v2/"; then
      printf -v "$name" '%s' "127.0.0.1:$port"
      printf -v "${name}_ADDR" '%s' "127.0.0.1:$port"
      printf -v "${name}_DIR" '%s' "$dir"
      printf -v "${name}_PID" '%s' "$pid"
      return 0
    fi
    _stop_pid "$pid"
    grep -q "address already in use" "$dir/log" ||
      fatal "docker-registry $name did not start: $(tail -n 5 "$dir/log")"
    mv "$dir/log" "$dir/log.port-taken-$attempt"
  done
  fatal "docker-registry $name: no free port after 5 attempts (logs in $dir)"
}

# ---------------------------------------------------------------------------------------------
# Token service

start_token_service() {
  local dir="" pid port
  local -a users=()
  while (($#)); do
    case $1 in
      --dir)
        dir=${2:?--dir needs a directory}
        shift 2
        ;;
      *:*)
        users+=(--user "$1")
        shift
        ;;
      *) fatal "start_token_service: unknown argument $1" ;;
    esac
  done
  if [[ -z $dir ]]; then
    dir=$WORK/token-service
    local n=2
    while [[ -e $dir ]]; do dir=$WORK/token-service-$((n++)); done
  fi
  mkdir -p "$dir"
  openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=strata-test-token \
    -keyout "$dir/token.key" -out "$dir/token.crt" >"$dir/openssl.out" 2>&1 ||
    fatal "openssl could not make the token signing key: $(cat "$dir/openssl.out")"
  : >"$dir/token.log"
  rm -f "$dir/token.port"
  _spawn pid "$dir/token.out" "$REGISTRY_PYTHON" "$REGISTRY_TOOLS/token_service.py" \
    --key "$dir/token.key" --cert "$dir/token.crt" --log "$dir/token.log" \
    --port-file "$dir/token.port" "${users[@]}"
  _wait_port_file port "$pid" "$dir/token.port" "$dir/token.out" "token service"
  TOKEN_REALM=http://127.0.0.1:$port/token
  TOKEN_SERVICE=strata-test
  TOKEN_ISSUER=strata-test-issuer
  TOKEN_CERT=$dir/token.crt
  TOKEN_LOG=$dir/token.log
  # shellcheck disable=SC2034 # for the tests
  TOKEN_DIR=$dir TOKEN_PID=$pid
}

# ---------------------------------------------------------------------------------------------
# Fault proxy

start_fault_proxy() {
  local name=${1:?usage: start_fault_proxy NAME UPSTREAM_ADDR RULES_FILE}
  local upstream=${2:?usage: start_fault_proxy NAME UPSTREAM_ADDR RULES_FILE}
  local rules=${3:?usage: start_fault_proxy NAME UPSTREAM_ADDR RULES_FILE} pid port
  [[ $rules == /* ]] || rules=$PWD/$rules
  [[ -s $rules ]] || echo '[]' >"$rules"
  : >"$rules.log"
  rm -f "$rules.port"
  _spawn pid "$rules.out" "$REGISTRY_PYTHON" "$REGISTRY_TOOLS/fault_proxy.py" \
    --upstream "$upstream" --rules "$rules" --log "$rules.log" --port-file "$rules.port"
  _wait_port_file port "$pid" "$rules.port" "$rules.out" "fault proxy $name"
  printf -v "$name" '%s' "127.0.0.1:$port"
  printf -v "${name}_ADDR" '%s' "127.0.0.1:$port"
  printf -v "${name}_LOG" '%s' "$rules.log"
  printf -v "${name}_PID" '%s' "$pid"
}

set_faults() {
  local rules=${1:?usage: set_faults RULES_FILE JSON} json=${2:?usage: set_faults RULES_FILE JSON}
  printf '%s\n' "$json" >"$rules.new"
  "$REGISTRY_PYTHON" -c 'import json,sys; json.load(open(sys.argv[1]))' "$rules.new" 2>/dev/null ||
    fatal "set_faults: not JSON: $json"
  mv -f "$rules.new" "$rules"
}

clear_faults() { set_faults "${1:?usage: clear_faults RULES_FILE}" '[]'; }

# ---------------------------------------------------------------------------------------------
# Registry API through curl

registry_auth_header() {
  local addr=$1 repo=$2 actions=$3 creds=${4:-} challenge realm service body token
  challenge=$(curl -s -o /dev/null -D - --max-time 10 "http://$addr/v2/" | tr -d '\r' |
    sed -n 's/^[Ww][Ww][Ww]-[Aa]uthenticate: *//p' | head -n 1)
  case $challenge in
    "") return 0 ;;
    [Bb]asic*)
      [[ -n $creds ]] || return 0
      echo "Authorization: Basic $(printf '%s' "$creds" | base64 -w0)"
      ;;
    [Bb]earer*)
      realm=$(sed -n 's/.*realm="\([^"]*\)".*/\1/p' <<<"$challenge")
      service=$(sed -n 's/.*service="\([^"]*\)".*/\1/p' <<<"$challenge")
      local -a auth=()
      [[ -z $creds ]] || auth=(-u "$creds")
      body=$(curl -sf --max-time 10 "${auth[@]}" --get --data-urlencode "service=$service" \
        --data-urlencode "scope=repository:$repo:$actions" "$realm") || {
        echo "registry_auth_header: token request to $realm refused" >&2
        return 1
      }
      token=$("$REGISTRY_PYTHON" -c 'import json,sys; print(json.load(sys.stdin)["token"])' <<<"$body")
      echo "Authorization: Bearer $token"
      ;;
    *)
      echo "registry_auth_header: unknown challenge from $addr: $challenge" >&2
      return 1
      ;;
  esac
}

registry_manifest_digest() {
  local addr=$1 repo=$2 ref=$3 creds=${4:-} header digest
  header=$(registry_auth_header "$addr" "$repo" pull "$creds") || return 1
  digest=$(curl -s -I --max-time 10 ${header:+-H "$header"} -H "Accept: $MANIFEST_ACCEPT" \
    "http://$addr/v2/$repo/manifests/$ref" | tr -d '\r' |
    sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p')
  if [[ -z $digest ]]; then
    echo "registry_manifest_digest: $addr has no manifest $repo:$ref" >&2
    return 1
  fi
  echo "$digest"
}

registry_has_blob() {
  local addr=$1 repo=$2 digest=$3 creds=${4:-} header code
  header=$(registry_auth_header "$addr" "$repo" pull "$creds") || return 2
  code=$(curl -s -o /dev/null -I -w '%{http_code}' --max-time 10 ${header:+-H "$header"} \
    "http://$addr/v2/$repo/blobs/$digest")
  case $code in
    200) return 0 ;;
    404) return 1 ;;
    *)
      echo "registry_has_blob: HEAD http://$addr/v2/$repo/blobs/$digest answered $code" >&2
      return 2
      ;;
  esac
}

# ---------------------------------------------------------------------------------------------
# skopeo and docker as registry clients

push_fixture_with_skopeo() {
  local src=${1:?usage: push_fixture_with_skopeo SOURCE DEST [SKOPEO_COPY_ARGS...]}
  local dest=${2:?usage: push_fixture_with_skopeo SOURCE DEST [SKOPEO_COPY_ARGS...]} out
  shift 2
  [[ $src == /*.tar || $src == ./*.tar ]] && src=docker-archive:$src
  [[ $dest == docker://* ]] || dest=docker://$dest
  [[ -f $WORK/skopeo-policy.json ]] ||
    echo '{"default": [{"type": "insecureAcceptAnything"}]}' >"$WORK/skopeo-policy.json"
  out=$(mktemp "$WORK/skopeo-copy.XXXXXX")
  if ! skopeo --policy "$WORK/skopeo-policy.json" copy -q --dest-tls-verify=false \
    --digestfile "$out.digest" "$@" "$src" "$dest" >"$out" 2>&1; then
    echo "push_fixture_with_skopeo: skopeo copy $src $dest failed: $(cat "$out")" >&2
    return 1
  fi
  cat "$out.digest"
  echo
}

rdk() {
  mkdir -p "$REGISTRY_DOCKER_CONFIG"
  DOCKER_CONFIG=$REGISTRY_DOCKER_CONFIG dk "$@"
}

docker_login() {
  local addr=${1:?usage: docker_login ADDR USER:PASS} creds=${2:?usage: docker_login ADDR USER:PASS}
  rdk login -u "${creds%%:*}" --password-stdin "$addr" <<<"${creds#*:}" >"$WORK/docker-login.out" 2>&1 || {
    echo "docker_login $addr failed: $(cat "$WORK/docker-login.out")" >&2
    return 1
  }
}

docker_push_image() {
  local image=${1:?usage: docker_push_image IMAGE DEST_REF} ref=${2:?usage: docker_push_image IMAGE DEST_REF}
  local out rc=0
  out=$(mktemp "$WORK/docker-push.XXXXXX")
  rdk tag "$image" "$ref" || return 1
  rdk push "$ref" >"$out" 2>&1 || rc=$?
  rdk rmi "$ref" >/dev/null 2>&1 || true
  if ((rc != 0)); then
    echo "docker_push_image: docker push $ref failed: $(cat "$out")" >&2
    return 1
  fi
  grep -o 'digest: sha256:[0-9a-f]*' "$out" | tail -n 1 | cut -d' ' -f2
}
