#!/usr/bin/env bash
# `strata save` (docker format) -> `docker load` into an empty dockerd must give the same image
# IDs, tags, parent links and layers as the originals. Whether the archive is byte-identical to
# `docker save`'s is reported, not required.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/fixtures.sh"
need_peer jq
ensure_fixtures
need_strata_cmd load save inspect

R=$FIXTURE_REPO
for a in family paxattr gnutar base; do
  srun load -i "$FIX/$a.tar"
  ((RC == 0)) || fatal "setup: strata load -i $a.tar failed (exit $RC): $ERR"
done

# peer_load CASE ARCHIVE: docker load into a fresh private daemon; sets PEER and LOAD_OUT.
peer_load() {
  start_private_dockerd PEER
  LOAD_RC=0
  LOAD_OUT=$(DOCKER_HOST=$PEER dk load -i "$2" 2>&1) || LOAD_RC=$?
  assert_eq 0 "$LOAD_RC" "[$1] docker load accepts strata's archive: $LOAD_OUT"
}

# peer_expect CASE REF ID LAYERS_JSON: the peer holds REF as image ID with those layers.
peer_expect() {
  local js
  js=$(DOCKER_HOST=$PEER dk image inspect "$2" 2>&1) || {
    not_ok "[$1] docker has $2 after loading: $js"
    return
  }
  assert_eq "$3" "$(jq -r '.[0].Id' <<<"$js")" "[$1] $2: image ID after docker load"
  assert_eq "$4" "$(jq -c '.[0].RootFS.Layers' <<<"$js")" "[$1] $2: RootFS.Layers"
}

layers_of() { dk image inspect -f '{{json .RootFS.Layers}}' "$1"; }

# compare_with_docker_save CASE STRATA_TAR DOCKER_TAR: report (never fail) on byte identity;
# when they differ, name the first differing entries and header fields.
# (docker save itself is not deterministic for multi-image saves: which v1 directory holds a
# shared layer.tar and which gets the symlink follows Go map order, so only single-image
# archives can be expected to match byte for byte.)
compare_with_docker_save() {
  local c=$1 s=$2 d=$3
  if cmp -s "$s" "$d"; then
    note "[$c] byte-identical to docker save's archive"
    return
  fi
  note "[$c] NOT byte-identical to docker save's archive ($(stat -c %s "$s") vs $(stat -c %s "$d") bytes)"
  python3 - "$s" "$d" <<'PY' | sed "s/^/# [$c]   /"
import sys, tarfile
FIELDS = [('name', 0, 100), ('mode', 100, 8), ('uid', 108, 8), ('gid', 116, 8),
          ('size', 124, 12), ('mtime', 136, 12), ('chksum', 148, 8), ('typeflag', 156, 1),
          ('linkname', 157, 100), ('magic', 257, 6), ('version', 263, 2), ('uname', 265, 32),
          ('gname', 297, 32), ('devmajor', 329, 8), ('devminor', 337, 8), ('prefix', 345, 155),
          ('pad', 500, 12)]
def entries(path):
    data = open(path, 'rb').read()
    with tarfile.open(path) as t:
        return [(m.name, data[m.offset:m.offset_data], data[m.offset_data:m.offset_data + m.size])
                for m in t.getmembers()], data
sa, sdata = entries(sys.argv[1])
da, ddata = entries(sys.argv[2])
if [e[0] for e in sa] != [e[0] for e in da]:
    print('entry order differs: strata', [e[0][:40] for e in sa][:6], 'docker', [e[0][:40] for e in da][:6])
shown = 0
for (n, sh, sd), (_, dh, dd) in zip(sa, da):
    if sh != dh:
        diffs = []
        for f, o, l in FIELDS:
            if sh[o:o + l] != dh[o:o + l] and f != 'chksum':
                diffs.append('%s strata=%r docker=%r' % (f, sh[o:o + l].rstrip(b'\0'), dh[o:o + l].rstrip(b'\0')))
        if len(sh) != len(dh):
            diffs.append('header length strata=%d docker=%d (PAX/GNU extension records)' % (len(sh), len(dh)))
        print('entry %s: %s' % (n[:70], '; '.join(diffs) or 'header bytes differ'))
        shown += 1
    elif sd != dd:
        print('entry %s: content differs' % n[:70])
        shown += 1
    if shown >= 5:
        break
if shown == 0 and len(sdata) != len(ddata):
    print('entries equal; trailer differs (%d vs %d bytes)' % (len(sdata), len(ddata)))
PY
}

# --- one image, tagged
CASE=rich
srun save -o "$WORK/rich.tar" "$R/rich:1"
assert_eq 0 "$RC" "[$CASE] strata save -o rich.tar $R/rich:1: $ERR"
if ((RC == 0)); then
  # The archive must carry the config bytes and every layer unchanged.
  cfg=$(tar -xOf "$WORK/rich.tar" manifest.json | jq -r '.[0].Config')
  assert_eq "$RICH_ID" "sha256:$(tar -xOf "$WORK/rich.tar" "$cfg" | sha256sum | cut -d' ' -f1)" \
    "[$CASE] config file in the archive hashes to the image ID"
  got=$(tar -xOf "$WORK/rich.tar" manifest.json | jq -r '.[0].Layers[]' | while read -r l; do
    echo "sha256:$(tar -xOf "$WORK/rich.tar" "$l" | sha256sum | cut -d' ' -f1)"
  done | jq -R . | jq -s -c .)
  assert_eq "$(layers_of "$R/rich:1")" "$got" "[$CASE] layer files hash to the diff_ids, in order"
  peer_load "$CASE" "$WORK/rich.tar"
  assert_eq "Loaded image: $R/rich:1" "$LOAD_OUT" "[$CASE] docker load output"
  peer_expect "$CASE" "$R/rich:1" "$RICH_ID" "$(layers_of "$R/rich:1")"
  assert_eq "$(dk history --no-trunc --format '{{.CreatedBy}}|{{.Size}}|{{.Comment}}' "$R/rich:1")" \
    "$(DOCKER_HOST=$PEER dk history --no-trunc --format '{{.CreatedBy}}|{{.Size}}|{{.Comment}}' "$R/rich:1")" \
    "[$CASE] docker history of the reloaded image matches the original's"
  dk save -o "$WORK/rich-docker.tar" "$R/rich:1"
  compare_with_docker_save "$CASE" "$WORK/rich.tar" "$WORK/rich-docker.tar"
fi

# --- default format named explicitly, two tags of one image
CASE=alias
srun load -i "$FIX/rich-alias.tar"
srun save --format docker -o "$WORK/alias.tar" "$R/rich:1" "$R/rich:alias"
assert_eq 0 "$RC" "[$CASE] strata save --format docker, two tags: $ERR"
if ((RC == 0)); then
  peer_load "$CASE" "$WORK/alias.tar"
  assert_eq "$(printf 'Loaded image: %s\n' "$R/rich:1" "$R/rich:alias" | sort)" \
    "$(sort <<<"$LOAD_OUT")" "[$CASE] docker load output names both tags"
  assert_eq "$RICH_ID" "$(DOCKER_HOST=$PEER dk image inspect -f '{{.Id}}' "$R/rich:alias")" \
    "[$CASE] second tag points at the same image"
fi

# --- image + its child: the manifest's Parent lets docker restore the link
CASE=parent
srun save -o "$WORK/parent.tar" "$R/rich:1" "$R/child:1"
assert_eq 0 "$RC" "[$CASE] strata save of an image and its child: $ERR"
if ((RC == 0)); then
  peer_load "$CASE" "$WORK/parent.tar"
  peer_expect "$CASE" "$R/child:1" "$CHILD_ID" "$(layers_of "$R/child:1")"
  peer_expect "$CASE" "$R/rich:1" "$RICH_ID" "$(layers_of "$R/rich:1")"
  assert_eq "$RICH_ID" "$(DOCKER_HOST=$PEER dk image inspect -f '{{.Parent}}' "$R/child:1")" \
    "[$CASE] docker restored child's parent link from the manifest"
  assert_eq "$(printf '%s\n' "$CHILD_ID" "$RICH_ID")" \
    "$(DOCKER_HOST=$PEER dk history -q --no-trunc "$R/child:1" | grep -v missing)" \
    "[$CASE] docker history of child shows both IDs"
  dk save -o "$WORK/parent-docker.tar" "$R/rich:1" "$R/child:1"
  compare_with_docker_save "$CASE" "$WORK/parent.tar" "$WORK/parent-docker.tar"
fi

# --- three images sharing layers: each layer must still load
CASE=family
srun save -o "$WORK/family.tar" "$R/rich:1" "$R/child:1" "$R/sibling:1"
assert_eq 0 "$RC" "[$CASE] strata save of three images sharing layers: $ERR"
if ((RC == 0)); then
  peer_load "$CASE" "$WORK/family.tar"
  peer_expect "$CASE" "$R/sibling:1" "$SIBLING_ID" "$(layers_of "$R/sibling:1")"
  peer_expect "$CASE" "$R/child:1" "$CHILD_ID" "$(layers_of "$R/child:1")"
  n_docker=$(dk save "$R/rich:1" "$R/child:1" "$R/sibling:1" | tar -t | grep -c 'layer.tar$')
  n_strata=$(tar -tf "$WORK/family.tar" | grep -c 'layer.tar$' || true)
  note "[$CASE] layer.tar entries: docker=$n_docker strata=$n_strata"
  if ((n_strata > 0)) && [[ $(stat -c %s "$WORK/family.tar") -lt $(($(stat -c %s "$FIX/rich.tar") * 2)) ]]; then
    ok "[$CASE] shared layers are stored once (archive smaller than 2x one image)"
  else
    not_ok "[$CASE] shared layers are stored once (archive smaller than 2x one image)"
  fi
fi

# --- by ID: no tags in the archive
CASE=by-id
srun save -o "$WORK/byid.tar" "$SIBLING_ID"
assert_eq 0 "$RC" "[$CASE] strata save by image ID: $ERR"
if ((RC == 0)); then
  assert_eq "null" "$(tar -xOf "$WORK/byid.tar" manifest.json | jq -c '.[0].RepoTags')" \
    "[$CASE] manifest RepoTags is null"
  peer_load "$CASE" "$WORK/byid.tar"
  assert_eq "Loaded image ID: $SIBLING_ID" "$LOAD_OUT" "[$CASE] docker load output"
fi

# --- layers with PAX/GNU/xattr/device entries come back byte-exact
for CASE in paxattr gnutar; do
  srun save -o "$WORK/$CASE.tar" "$R/$CASE:1"
  assert_eq 0 "$RC" "[$CASE] strata save: $ERR"
  ((RC == 0)) || continue
  l=$(tar -xOf "$WORK/$CASE.tar" manifest.json | jq -r '.[0].Layers[0]')
  if cmp -s <(tar -xOf "$WORK/$CASE.tar" "$l") "$FIX/$CASE-layer.tar"; then
    ok "[$CASE] layer bytes identical to the tar given to docker import"
  else
    not_ok "[$CASE] layer bytes identical to the tar given to docker import"
  fi
  peer_load "$CASE" "$WORK/$CASE.tar"
  upper=${CASE^^}_ID
  peer_expect "$CASE" "$R/$CASE:1" "${!upper}" "$(layers_of "$R/$CASE:1")"
done

# --- errors
CASE=errors
srun save -o "$WORK/none.tar" "$R/does-not-exist:1"
assert_ne 0 "$RC" "[$CASE] save of an unknown image fails"
assert_match 'does-not-exist' "$ERR" "[$CASE] message names the image"
[[ ! -s $WORK/none.tar ]] && ok "[$CASE] no partial output file" ||
  not_ok "[$CASE] no partial output file (found $(stat -c %s "$WORK/none.tar") bytes)"

finish
