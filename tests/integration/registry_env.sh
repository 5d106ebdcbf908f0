# Registry peers for registry_test.sh; source after lib.sh. Everything listens on 127.0.0.1
# and is stopped at exit.
#   free_port                               prints a free TCP port on 127.0.0.1
#   start_registry VAR [--htpasswd U:P | --token U:P]
#                                           Debian's docker-registry (distribution 2.8) with
#                                           filesystem storage under $WORK; VAR=127.0.0.1:PORT.
#                                           --token: bearer tokens from tools/jwt_token_service.py
#                                           (requests logged in $WORK/registry-VAR/token.log)
#   start_fault_proxy VAR UPSTREAM RULES    tools/fault_injector.py in front of UPSTREAM; faults
#                                           from the JSON file RULES; log in RULES.log
#   set_faults RULES JSON                   replaces the rules (the proxy re-reads them)

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

_wait_http() { # _wait_http URL
  local i
  for ((i = 0; i < 300; i++)); do
    curl -s -o /dev/null "$1" && return 0
    sleep 0.1
  done
  return 1
}

start_registry() {
  local var=$1 auth="" token="" port dir tport
  shift
  if [[ ${1:-} == --htpasswd ]]; then
    auth=$2
  elif [[ ${1:-} == --token ]]; then
    token=$2
  fi
  port=$(free_port)
  dir=$WORK/registry-$var
  mkdir -p "$dir/data"
  {
    echo "version: 0.1"
    echo "log: {level: warn}"
    echo "storage: {filesystem: {rootdirectory: $dir/data}, delete: {enabled: true}}"
    echo "http: {addr: 127.0.0.1:$port}"
    if [[ -n $auth ]]; then
      htpasswd -Bbn "${auth%%:*}" "${auth#*:}" >"$dir/htpasswd"
      echo "auth: {htpasswd: {realm: strata-test, path: $dir/htpasswd}}"
    fi
    if [[ -n $token ]]; then
      tport=$(free_port)
      openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=strata-test-token \
        -keyout "$dir/token.key" -out "$dir/token.crt" >/dev/null 2>&1
      python3 "$REG_ENV_TOOLS/jwt_token_service.py" "$tport" "$dir/token.key" "$dir/token.crt" \
        "$token" "$dir/token.log" >"$dir/token.out" 2>&1 &
      at_exit "kill $! 2>/dev/null"
      _wait_http "http://127.0.0.1:$tport/token" ||
        fatal "token service did not start: $(cat "$dir/token.out")"
      echo "auth: {token: {realm: http://127.0.0.1:$tport/token, service: strata-test,"
      echo "  issuer: strata-test-issuer, rootcertbundle: $dir/token.crt}}"
    fi
  } >"$dir/config.yml"
  docker-registry serve "$dir/config.yml" >"$dir/log" 2>&1 &
  at_exit "kill $! 2>/dev/null"
  _wait_http "http://127.0.0.1:$port/v2/" || fatal "docker-registry did not start (log: $dir/log)"
  printf -v "$var" '%s' "127.0.0.1:$port"
}

start_fault_proxy() {
  local var=$1 upstream=$2 rules=$3 port
  port=$(free_port)
  [[ -f $rules ]] || echo '[]' >"$rules"
  python3 "$REG_ENV_TOOLS/fault_injector.py" "$port" "$upstream" "$rules" "$rules.log" \
    >"$rules.out" 2>&1 &
  at_exit "kill $! 2>/dev/null"
  _wait_http "http://127.0.0.1:$port/v2/" || fatal "fault proxy did not start ($rules.out)"
  printf -v "$var" '%s' "127.0.0.1:$port"
}

set_faults() { printf '%s\n' "$2" >"$1"; }

REG_ENV_TOOLS=$(cd "$(dirname "${BASH_SOURCE[0]}")/tools" && pwd)
