#!/usr/bin/env bash
# --format / -f / --filter against docker 20.10 on the same images: `images --format` and
# `history --format` (Go templates, table, json), `inspect -f`, `images -f` filters and the
# REPOSITORY pattern. The same archives are loaded into a private dockerd (the peer) and a fresh
# strata root, so image IDs and names match; relative times (CreatedSince) are left out.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
need_peer jq
ensure_fixtures
need_strata_cmd load inspect history images

start_private_dockerd PEER
pk() { DOCKER_HOST=$PEER dk "$@"; }

# base, rich + child (child's parent is rich), rich:alias (two tags of one image), paxattr, and
# sibling untagged (dangling).
dk save -o "$WORK/untagged.tar" "$SIBLING_ID"
for tar in "$FIX/base.tar" "$FIX/parent.tar" "$FIX/rich-alias.tar" "$FIX/paxattr.tar" \
  "$WORK/untagged.tar"; do
  pk load -q -i "$tar" >/dev/null
  srun load -q -i "$tar"
  assert_eq 0 "$RC" "strata load $(basename "$tar"): $ERR"
done
R=$FIXTURE_REPO

# same_as_docker MESSAGE CMD ARGS...: strata's stdout and exit status equal docker's.
same_as_docker() {
  local what=$1 want want_rc=0
  shift
  want=$(pk "$@" 2>/dev/null) || want_rc=$?
  srun "$@"
  assert_same_text "$want_rc $want" "$RC $OUT" "$what: $*"
}
# same_sorted MESSAGE CMD ARGS...: the same, lines sorted (docker's row order among images
# created in the same second, and among a repository's tags, is not defined).
same_sorted() {
  local what=$1 want want_rc=0
  shift
  want=$(pk "$@" 2>/dev/null | sort) || want_rc=$?
  srun "$@"
  assert_same_text "$want_rc $want" "$RC $(sort <<<"$OUT")" "$what: $*"
}

# --- images --format
same_sorted "images template" images --format '{{.ID}}'
same_sorted "images template" images --no-trunc --format '{{.ID}}'
same_sorted "images template, every stable field" images --format \
  '{{.Repository}}:{{.Tag}} {{.ID}} {{.Size}} {{.VirtualSize}} {{.CreatedAt}} {{.Containers}} {{.SharedSize}} {{.UniqueSize}} {{.Digest}}'
same_sorted "images template, functions" images --format \
  '{{upper .Repository}} {{lower .Tag}} {{printf "%-22s|%5s" .Repository .Tag}} {{len .ID}} {{if eq .Tag "1"}}one{{else}}other{{end}} {{json .Tag}} {{split .Repository "/"}} {{join (split .Repository "/") "+"}} {{title .Tag}}'
same_sorted "images table" images --format 'table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.Size}}'
same_sorted "images table --digests adds DIGEST" images --digests --format 'table {{.Repository}}\t{{.ID}}'
same_sorted "images -a table" images -a --format 'table {{.ID}}\t{{.CreatedAt}}'
want=$(pk images --format '{{json .}}' | jq -c 'del(.CreatedSince)' | sort)
got=$(strata images --format '{{json .}}' | jq -c 'del(.CreatedSince)' 2>&1 | sort)
assert_same_text "$want" "$got" "images --format '{{json .}}' (all fields but CreatedSince)"
assert_eq "$(pk images | head -n 1)" "$(strata images | head -n 1)" "images default header"
assert_eq "$(pk images --digests | head -n 1)" "$(strata images --digests | head -n 1)" \
  "images --digests default header"

# A template that cannot be parsed or executed: exit 1, nothing on stdout.
for f in '{{.Foo}}' 'table {{.ID}}\t{{.Foo}}' '{{.ID' '{{nosuch .ID}}' '{{join .ID ","}}'; do
  pk images --format "$f" >/dev/null 2>&1 && not_ok "docker accepts images --format '$f'?"
  srun images --format "$f"
  assert_eq "1 " "$RC $OUT" "images --format '$f' fails with no output"
  assert_match 'template' "$ERR" "images --format '$f': the error names the template: $ERR"
done
srun images --format '{{.ID}}|{{.Foo}}'
assert_match "can't evaluate field Foo in type \*formatter.imageContext" "$ERR" \
  "images unknown field: docker's message"

# --- images filters and the REPOSITORY pattern
F='{{.Repository}}:{{.Tag}} {{.ID}}'
same_sorted "images filter" images --format "$F" -f dangling=true
same_sorted "images filter" images --format "$F" -a -f dangling=true
same_sorted "images filter" images --format "$F" -f dangling=false
same_sorted "images filter" images --format "$F" -f "reference=$R/r*"
same_sorted "images filter" images --format "$F" -f "reference=$R/rich"
same_sorted "images filter" images --format "$F" -f "reference=$R/rich:1"
same_sorted "images filter" images --format "$F" -f 'reference=*/child' -f 'reference=*/base'
same_sorted "images filter" images --format "$F" -f 'reference=*'
same_sorted "images filter" images --format "$F" -f label=org.strata.fixture
same_sorted "images filter" images --format "$F" -f label=org.strata.fixture=rich
same_sorted "images filter" images --format "$F" -f label=org.strata.fixture -f label=nope
same_sorted "images filter" images --format "$F" -f label=org.strata.fixture -f "reference=*/child"
same_sorted "images filter" images --format "$F" -f "before=$R/child:1"
same_sorted "images filter" images --format "$F" -f "since=$R/rich:1"
same_sorted "images filter" images --format "$F" -a -f "since=$R/base:1"
same_sorted "images pattern" images --format "$F" "$R/r*"
same_sorted "images pattern" images --format "$F" "$R/*:1"
same_sorted "images pattern" images --format "$F" "$R/rich"
same_sorted "images pattern" images -q "$R/ri*"
same_sorted "images -q: one line per row, as docker" images -q
same_sorted "images -q: one line per row, as docker" images -a -q --no-trunc
for bad in foo=bar dangling=maybe 'reference=[a-' "before=$R/nosuch:1" nofilter; do
  srun images -f "$bad"
  assert_ne 0 "$RC" "images -f $bad fails ($ERR)"
done
srun images -f foo=bar
assert_match "Invalid filter 'foo'" "$ERR" "images -f foo=bar: docker's message"

# --- history
same_as_docker "history -H=false (table with CREATED AT)" history -H=false "$R/rich:1"
same_as_docker "history -H=false --no-trunc" history -H=false --no-trunc "$R/child:1"
assert_eq "$(pk history "$R/rich:1" | head -n 1)" "$(strata history "$R/rich:1" | head -n 1)" \
  "history default header"
same_as_docker "history template" history --format '{{.ID}}|{{.CreatedBy}}|{{.Size}}|{{.Comment}}' "$R/rich:1"
same_as_docker "history table" history --format 'table {{.ID}}\t{{.CreatedAt}}\t{{.Size}}' "$R/child:1"
same_as_docker "history template wins over -q" history -q --format '{{.Size}}' "$R/base:1"
want=$(pk history --format '{{json .}}' "$R/rich:1" | jq -c 'del(.CreatedSince)')
got=$(strata history --format '{{json .}}' "$R/rich:1" | jq -c 'del(.CreatedSince)' 2>&1)
assert_same_text "$want" "$got" "history --format '{{json .}}'"
srun history --format '{{.Nope}}' "$R/rich:1"
assert_eq "1 " "$RC $OUT" "history --format with an unknown field fails with no output"

# --- inspect -f
# shellcheck disable=SC2016 # Go templates, not shell expansions
for f in '{{.Id}}' '{{.Config.Labels}}' '{{.Config.Volumes}}' '{{.Config.Cmd}}' \
  '{{json .Config.Labels}}' '{{index .Config.Labels "org.strata.fixture"}}' \
  '[{{index .Config.Labels "nope"}}]' '{{.Os}}/{{.Architecture}}' \
  '{{range .RootFS.Layers}}{{println .}}{{end}}' '{{len .RootFS.Layers}}' \
  '{{.Config.Entrypoint}}' '{{.Config.ExposedPorts}}' '{{join .Config.Env ","}}' '{{.RepoTags}}' \
  '{{if .Config.Labels}}labels{{else}}none{{end}}' '{{printf "%q %s" .Os .Parent}}' \
  '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}' '{{json .RootFS.Layers}}' \
  '{{.Config.WorkingDir}}|{{.Config.User}}|{{.Config.StopSignal}}' '{{.Created}} {{.Comment}}'; do
  same_as_docker "inspect -f" inspect -f "$f" "$R/base:1" "$R/rich:1" "$R/child:1"
done
same_as_docker "inspect --format" inspect --format '{{.Id}} {{.Parent}}' "$R/child:1"
srun inspect -f '{{.Foo}}' "$R/base:1"
assert_eq "1 " "$RC $OUT" "inspect -f with an unknown field fails with no output"
assert_match 'map has no entry for key "Foo"' "$ERR" "inspect -f unknown field: docker's message"
srun inspect -f '{{.Foo' "$R/base:1"
want_rc=0
pk inspect -f '{{.Foo' "$R/base:1" >/dev/null 2>&1 || want_rc=$?
assert_eq "$want_rc " "$RC $OUT" "inspect -f that does not parse: docker's exit code"
srun inspect -f '{{.Id}}' "$R/base:1" nosuch:1 "$R/rich:1"
assert_eq "1 $BASE_ID
$RICH_ID" "$RC $OUT" "inspect -f: a missing image fails the command, the others print"
srun inspect "$R/base:1"
assert_eq "$BASE_ID" "$(jq -r '.[0].Id' <<<"$OUT" 2>&1)" "inspect without -f prints JSON"

finish
