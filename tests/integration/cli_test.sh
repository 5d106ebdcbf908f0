#!/usr/bin/env bash
# What a docker user types first: unknown commands (exit 1, a suggestion), bad flags (exit 125),
# `help`, `--version`, the `image ls|rm|...` aliases, `image prune`'s confirmation, filters and
# reclaimed space (compared with docker's own prune of the same images), shell completion and
# the man page generated from the CLI, and a few error messages (broken config.json, no HOME,
# save -o into a missing directory).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need_peer jq

# prun INPUT ARGS...: like srun, with INPUT on stdin.
prun() {
  local input=$1 o e
  shift
  o=$(mktemp "$WORK/out.XXXXXX")
  e=$(mktemp "$WORK/err.XXXXXX")
  RC=0
  printf '%s' "$input" | "$STRATA" --root "$ROOT" "$@" >"$o" 2>"$e" || RC=$?
  OUT=$(cat "$o")
  ERR=$(cat "$e")
  rm -f "$o" "$e"
}

# A small image: a one-layer import of a 3-file tree.
make_image() {
  local dir=$WORK/tree-$1
  mkdir -p "$dir/etc"
  printf '%s\n' "$1" >"$dir/etc/name"
  head -c "$2" /dev/zero >"$dir/blob"
  srun import "$dir" "$1" -c "LABEL role=$1"
  ((RC == 0)) || fatal "setup: strata import $1 failed: $ERR"
}

# ---------------------------------------------------------------------------------------------
CASE=unknown-command
srun imagse
assert_eq 1 "$RC" "[$CASE] exit 1, as docker"
assert_eq "strata: 'imagse' is not a strata command." "$(head -n 1 <<<"$ERR")" "[$CASE] message"
assert_match "Did you mean this\?" "$ERR" "[$CASE] suggests"
assert_match $'\timages' "$ERR" "[$CASE] suggests images"
assert_eq "See 'strata --help'." "$(tail -n 1 <<<"$ERR")" "[$CASE] points at --help"
assert_eq "" "$OUT" "[$CASE] nothing on stdout"
srun image lss
assert_eq 1 "$RC" "[$CASE] image lss: exit 1"
assert_eq "strata: 'image lss' is not a strata command." "$(head -n 1 <<<"$ERR")" "[$CASE] image lss: message"
assert_match $'\tls' "$ERR" "[$CASE] image lss: suggests ls"
assert_eq "See 'strata image --help'." "$(tail -n 1 <<<"$ERR")" "[$CASE] image lss: points at image --help"
srun frobnicate --help
assert_eq 1 "$RC" "[$CASE] an unknown command with --help is still unknown"

CASE=bad-flag
srun images --foo
assert_eq "125 unknown flag: --foo" "$RC $(head -n 1 <<<"$ERR" | sed 's/^strata: //; s/\.$//')" "[$CASE] images --foo"
assert_match "See 'strata images --help'" "$ERR" "[$CASE] points at the command's help"
srun --foo
assert_eq "125 strata: unknown flag: --foo." "$RC $(head -n 1 <<<"$ERR")" "[$CASE] strata --foo"
srun --foo images
assert_eq "125 strata: unknown flag: --foo." "$RC $(head -n 1 <<<"$ERR")" "[$CASE] strata --foo images"
srun rmi --foo
assert_eq "125 strata: unknown flag: --foo." "$RC $(head -n 1 <<<"$ERR")" "[$CASE] a bad flag comes before a missing argument"
srun history -H=maybe x
assert_eq 125 "$RC" "[$CASE] a flag value that does not convert: $ERR"
srun --root
assert_eq 125 "$RC" "[$CASE] a flag without its value: $ERR"
srun image prune --filter nokey
assert_eq 125 "$RC" "[$CASE] --filter without '=': $ERR"
assert_match "bad format of filter \(expected name=value\)" "$ERR" "[$CASE] says docker's words"

CASE=arguments
srun images a b c
assert_eq 1 "$RC" "[$CASE] too many arguments: exit 1, as docker"
assert_match "\"strata images\" requires at most 1 argument; not expected: b c\." "$ERR" \
  "[$CASE] extra arguments are listed in command-line order"
srun rmi
assert_eq 1 "$RC" "[$CASE] missing argument: exit 1"
assert_match "\"strata rmi\" requires at least 1 argument" "$ERR" "[$CASE] rmi without IMAGE"
srun tag onlyone
assert_match "\"strata tag\" requires exactly 2 arguments" "$ERR" "[$CASE] tag with one argument"

CASE=help-version
srun help
assert_eq 0 "$RC" "[$CASE] strata help exits 0"
assert_match "^Subcommands:" "$OUT" "[$CASE] strata help lists the commands"
srun help images
assert_match "--digests" "$OUT" "[$CASE] strata help images shows images' flags"
srun
assert_eq 0 "$RC" "[$CASE] strata alone shows help"
assert_match "^Subcommands:" "$OUT" "[$CASE] strata alone lists the commands"
srun image
assert_eq 0 "$RC" "[$CASE] strata image shows the group's help"
assert_match "^  prune" "$OUT" "[$CASE] image's help lists prune"
assert_match "^  ls" "$OUT" "[$CASE] image's help lists ls"
srun version
want=$OUT
srun --version
assert_eq "0 $want" "$RC $OUT" "[$CASE] --version prints what version prints"
srun -v
assert_eq "0 $want" "$RC $OUT" "[$CASE] -v too"
assert_match "^strata version [0-9]" "$want" "[$CASE] the version line"

# ---------------------------------------------------------------------------------------------
CASE=image-aliases
make_image alias/one:1 1000
# Compared without the age columns, which tick while the test runs.
ageless() { jq -c 'del(.CreatedSince)'; }
srun image ls --format json
assert_eq "0 $(strata images --format json | ageless)" "$RC $(ageless <<<"$OUT")" "[$CASE] image ls = images"
srun image list -q
assert_eq "$(strata images -q)" "$OUT" "[$CASE] image list -q = images -q"
srun image inspect alias/one:1
assert_eq "$(strata inspect alias/one:1)" "$OUT" "[$CASE] image inspect = inspect"
srun image history --format json alias/one:1
assert_eq "$(strata history --format json alias/one:1 | ageless)" "$(ageless <<<"$OUT")" "[$CASE] image history = history"
srun image tag alias/one:1 alias/two:1
assert_eq 0 "$RC" "[$CASE] image tag: $ERR"
assert_eq "$(strata_image_id alias/one:1)" "$(strata_image_id alias/two:1)" \
  "[$CASE] image tag made the second name"
srun image save -o "$WORK/one.tar" alias/one:1
assert_eq 0 "$RC" "[$CASE] image save: $ERR"
srun image rm alias/two:1
assert_eq "0 Untagged: alias/two:1" "$RC $OUT" "[$CASE] image rm = rmi"
srun image load -i "$WORK/one.tar"
assert_eq 0 "$RC" "[$CASE] image load: $ERR"
srun image ls --foo
assert_eq 125 "$RC" "[$CASE] an alias refuses a bad flag like its command"
srun image ls --help
assert_match "--digests" "$OUT" "[$CASE] image ls --help is images' help"

# ---------------------------------------------------------------------------------------------
CASE=prune-prompt
rm -rf "$ROOT"
make_image prune/a:1 2000
make_image prune/b:1 3000
before=$(strata images -q | sort)
prun n image prune -a
assert_eq 0 "$RC" "[$CASE] answering n: exit 0, as docker: $ERR"
assert_eq "WARNING! This will remove all images without at least one container associated to them.
Are you sure you want to continue? [y/N] Total reclaimed space: 0B" "$OUT" "[$CASE] the question, then nothing reclaimed"
assert_eq "$before" "$(strata images -q | sort)" "[$CASE] echo n | image prune -a keeps every image"
prun "" image prune -a
assert_eq "$before" "$(strata images -q | sort)" "[$CASE] no answer (end of input) keeps every image"
prun "yes" image prune -a
assert_eq "$before" "$(strata images -q | sort)" "[$CASE] 'yes' is not 'y': kept"
prun n image prune
assert_match "^WARNING! This will remove all dangling images\.$" "$OUT" "[$CASE] the dangling warning"
prun y image prune -a --filter label=role=prune/a:1
assert_eq 0 "$RC" "[$CASE] answering y: $ERR"
assert_match "Are you sure you want to continue\? \[y/N\] Deleted Images:" "$OUT" "[$CASE] y deletes"
assert_match "^untagged: prune/a:1$" "$OUT" "[$CASE] untagged line in lower case"
assert_match "^deleted: sha256:[0-9a-f]{64}$" "$OUT" "[$CASE] deleted lines"
assert_match "^Total reclaimed space: 2[.0-9]*kB$" "$OUT" "[$CASE] reclaimed is the layer's size (2000 bytes + a few)"
assert_eq "prune/b" "$(strata images --format json | jq -r .Repository)" "[$CASE] the label filter kept prune/b"
srun image prune -a -f --filter until=1h
assert_eq "0 Total reclaimed space: 0B" "$RC $OUT" "[$CASE] until=1h keeps an image made just now: $ERR"
srun image prune -a --force --filter 'until=-1h'
assert_eq 0 "$RC" "[$CASE] -f does not ask: $ERR"
assert_eq "" "$(strata images -q)" "[$CASE] until=-1h (an hour from now) removes it"
srun image prune -f --filter foo=bar
assert_eq "1 Error: invalid filter 'foo'" "$RC $ERR" "[$CASE] an unknown filter key"
srun image prune -f --filter until=soon
assert_match "failed to parse value as time or duration: \"soon\"" "$ERR" "[$CASE] a bad until value"

# ---------------------------------------------------------------------------------------------
CASE=completion
srun completion bash
assert_eq 0 "$RC" "[$CASE] completion bash: $ERR"
printf '%s\n' "$OUT" >"$WORK/strata.bash"
if bash -n "$WORK/strata.bash" 2>"$WORK/bash-n.err"; then ok "[$CASE] bash -n accepts the script"; else
  not_ok "[$CASE] bash -n: $(cat "$WORK/bash-n.err")"
fi
# complete_words WORD...: what the script offers for the last word (in a clean bash).
complete_words() {
  bash -c 'source "$1"; shift; COMP_WORDS=(strata "$@"); COMP_CWORD=$#; _strata; printf "%s\n" "${COMPREPLY[@]}"' \
    _ "$WORK/strata.bash" "$@" | sort | tr '\n' ' '
}
assert_match "^complete -o default -F _strata strata$" \
  "$(bash -c 'source "$1"; complete -p strata' _ "$WORK/strata.bash")" "[$CASE] complete -p strata after sourcing"
top=$("$STRATA" --help | awk '/^Subcommands:/ {f = 1; next} f && /^  [a-z]/ {print $1}' | sort | tr '\n' ' ')
assert_eq "$top" "$(complete_words '')" "[$CASE] every subcommand of 'strata --help' is offered"
sub=$("$STRATA" image --help | awk '/^Subcommands:/ {f = 1; next} f && /^  [a-z]/ {print $1}' | sort | tr '\n' ' ')
assert_eq "$sub" "$(complete_words image '')" "[$CASE] every subcommand of 'strata image' is offered"
assert_eq "image images " "$(complete_words --root /x ima)" "[$CASE] a global flag's value is skipped"
assert_match "--digests" "$(complete_words images --d)" "[$CASE] flags of images"
assert_match "--digests" "$(complete_words image ls --d)" "[$CASE] flags of image ls are images' flags"
assert_match "--filter" "$(complete_words image prune --)" "[$CASE] flags of image prune"
for shell in zsh fish; do
  srun completion "$shell"
  missing=""
  for c in $top; do grep -q -- "$c" <<<"$OUT" || missing+=" $c"; done
  assert_eq "0 " "$RC $missing" "[$CASE] completion $shell names every subcommand"
  if command -v "$shell" >/dev/null; then
    printf '%s\n' "$OUT" >"$WORK/strata.$shell"
    if "$shell" -n "$WORK/strata.$shell"; then ok "[$CASE] $shell -n accepts it"; else not_ok "[$CASE] $shell -n"; fi
  else
    note "[$CASE] $shell is not installed: syntax not checked"
  fi
done
# What zsh and fish offer, when they are installed (zsh's _describe and _files stubbed: the
# script's own choice of entries is what is checked).
if command -v zsh >/dev/null; then
  zsh_offers() {
    strata completion zsh >"$WORK/_strata"
    zsh -c 'compdef() { :; }; _describe() { shift 3; print -l -- "${(@P)1}"; }; _files() { echo FILES; }
      source "$1"; shift; words=(strata "$@"); CURRENT=$#words; PREFIX=${words[-1]}; _strata' \
      _ "$WORK/_strata" "$@" | cut -d: -f1 | sort | tr '\n' ' '
  }
  assert_eq "$sub" "$(zsh_offers image '')" "[$CASE] zsh: every subcommand of 'strata image'"
  assert_match "(^| )--digests " "$(zsh_offers --root /x images --d)" "[$CASE] zsh: flags of images after a global flag"
  assert_eq "FILES " "$(zsh_offers save -o '')" "[$CASE] zsh: a flag's value is a file"
fi
if command -v fish >/dev/null; then
  fish_offers() {
    strata completion fish >"$WORK/strata.fish"
    fish -c "source $WORK/strata.fish; complete -C'strata $1'" | cut -f1 | sort | tr '\n' ' '
  }
  assert_eq "$sub" "$(fish_offers 'image ')" "[$CASE] fish: every subcommand of 'strata image'"
  assert_match "(^| )--digests " "$(fish_offers '--root /x image ls --d')" "[$CASE] fish: flags of image ls after a global flag"
fi
srun completion tcsh
assert_eq 125 "$RC" "[$CASE] an unsupported shell is a bad argument: $ERR"

CASE=man-page
srun man
assert_eq 0 "$RC" "[$CASE] strata man: $ERR"
printf '%s\n' "$OUT" >"$WORK/strata.1"
assert_match '^\.TH STRATA 1' "$OUT" "[$CASE] a man(7) page"
for c in $top; do
  grep -q "^\.SS \"strata $c" <<<"$OUT" || not_ok "[$CASE] no section for $c"
done
if grep -q '^\.SS "strata image prune' <<<"$OUT"; then ok "[$CASE] nested commands have sections"; else
  not_ok "[$CASE] no section for image prune"
fi
if command -v groff >/dev/null; then
  warnings=$(groff -man -z -ww "$WORK/strata.1" 2>&1)
  assert_eq "" "$warnings" "[$CASE] groff -man -z -ww: no warnings"
fi
if command -v man >/dev/null; then
  rendered=$(MANWIDTH=100 man -l "$WORK/strata.1" 2>"$WORK/man.err")
  assert_match "image prune" "$rendered" "[$CASE] man -l renders it"
  assert_eq "" "$(cat "$WORK/man.err")" "[$CASE] man -l: nothing on stderr"
fi
if [[ -f $(dirname "$STRATA")/strata.1 ]]; then
  assert_files_eq "$WORK/strata.1" "$(dirname "$STRATA")/strata.1" "[$CASE] the build wrote strata.1 beside the binary"
fi

# ---------------------------------------------------------------------------------------------
CASE=messages
make_image msg/one:1 10
srun save -o /nonexistent/x.tar msg/one:1
assert_eq "1 Error: open /nonexistent/x.tar: No such file or directory" "$RC $ERR" \
  "[$CASE] save -o into a missing directory names the user's path"

# push: only the local lookup's not-found reads as docker's message (port 9 is closed: the
# registry is never reached for the missing image, and fails as itself for the present one).
srun push 127.0.0.1:9/msg/none:1
assert_eq "1 Error: An image does not exist locally with the tag: 127.0.0.1:9/msg/none:1" "$RC $ERR" \
  "[$CASE] push of an image the store does not have"
srun tag msg/one:1 127.0.0.1:9/msg/one:1
srun push 127.0.0.1:9/msg/one:1
assert_eq 1 "$RC" "[$CASE] push to a closed port fails"
assert_match "127\.0\.0\.1:9" "$ERR" "[$CASE] and says why: $ERR"
assert_eq 0 "$(grep -c "does not exist locally" <<<"$ERR")" "[$CASE] not that the image is missing"

mkdir -p "$WORK/dockercfg"
printf '{not json' >"$WORK/dockercfg/config.json"
RC=0
ERR=$(DOCKER_CONFIG=$WORK/dockercfg "$STRATA" --root "$ROOT" pull 127.0.0.1:9/none:1 2>&1 >/dev/null) || RC=$?
assert_eq 1 "$(grep -c "^WARNING: Error loading config file: $WORK/dockercfg/config.json: " <<<"$ERR")" \
  "[$CASE] a broken config.json is warned about once: $ERR"
assert_ne 0 "$RC" "[$CASE] and the command goes on (to fail on the closed port)"

if [[ $(id -u) == 0 ]] && command -v setpriv >/dev/null; then
  # As a user whose passwd home is /nonexistent, without HOME: never a store under the cwd.
  mkdir -p "$WORK/nobody/cwd"
  cp "$STRATA" "$WORK/nobody/strata"
  chmod 755 "$WORK" "$WORK/nobody" "$WORK/nobody/strata"
  chmod 777 "$WORK/nobody/cwd"
  RC=0
  ERR=$(cd "$WORK/nobody/cwd" && env -u HOME -u XDG_DATA_HOME -u STRATA_ROOT \
    setpriv --reuid=65534 --regid=65534 --clear-groups "$WORK/nobody/strata" images 2>&1) || RC=$?
  assert_eq "" "$(ls -A "$WORK/nobody/cwd")" "[$CASE] HOME unset: nothing created in the working directory"
  assert_match "$(getent passwd 65534 | cut -d: -f6)/\.local/share/strata" "$ERR" \
    "[$CASE] HOME unset: the store goes under the passwd home directory (exit $RC)"
else
  note "[$CASE] not root or no setpriv: HOME-unset case not run"
fi

# ---------------------------------------------------------------------------------------------
# The same images pruned by docker and by strata: the same removals and the same reclaimed space.
CASE=prune-vs-docker
if command -v dockerd >/dev/null && [[ $(id -u) == 0 ]]; then
  source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
  ensure_fixtures
  rm -rf "$ROOT"
  srun load -i "$FIX/family.tar"
  ((RC == 0)) || fatal "setup: strata load family.tar: $ERR"
  start_private_dockerd PEER
  DOCKER_HOST=$PEER dk load -i "$FIX/family.tar" >/dev/null
  docker_out=$(DOCKER_HOST=$PEER dk image prune -a -f)
  srun image prune -a -f
  assert_eq 0 "$RC" "[$CASE] strata image prune -a -f: $ERR"
  assert_eq "$(grep '^Total reclaimed space' <<<"$docker_out")" "$(grep '^Total reclaimed space' <<<"$OUT")" \
    "[$CASE] reclaimed space as docker counts it"
  assert_same_text "$(grep -E '^(untagged|deleted): ' <<<"$docker_out" | sort)" \
    "$(grep -E '^(untagged|deleted): ' <<<"$OUT" | sort)" "[$CASE] the same untagged/deleted lines"
  assert_eq "$(head -n 1 <<<"$docker_out")" "$(head -n 1 <<<"$OUT")" "[$CASE] the same header"

  # rmi of a child whose parent lost its tag: the parent goes with it, unless --no-prune.
  for flag in --no-prune ""; do
    CASE="rmi $flag"
    strata load -i "$FIX/parent.tar" >/dev/null
    DOCKER_HOST=$PEER dk load -i "$FIX/parent.tar" >/dev/null
    for step in "$FIXTURE_REPO/rich:1" "$FIXTURE_REPO/child:1"; do
      want=$(DOCKER_HOST=$PEER dk rmi $flag "$step" 2>&1 | sort)
      srun rmi $flag "$step"
      assert_eq 0 "$RC" "[$CASE] strata rmi $flag $step: $ERR"
      assert_same_text "$want" "$(sort <<<"$OUT")" "[$CASE] rmi $step: the same lines as docker"
    done
    assert_eq "$(DOCKER_HOST=$PEER dk images -a -q | sort)" "$(strata images -a -q | sort)" \
      "[$CASE] the same images are left as in docker"
    strata image prune -a -f >/dev/null
    DOCKER_HOST=$PEER dk image prune -a -f >/dev/null
  done
else
  note "[$CASE] no dockerd (or not root): comparison with docker's prune not run"
fi

finish
