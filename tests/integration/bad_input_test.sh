#!/usr/bin/env bash
# Broken and hostile docker-archive inputs. Each must make `strata load` exit non-zero with a
# message naming the problem, leave the store exactly as it was (same images, same files, no
# temp leftovers) and write nothing outside it. The archives are made here by a Python script
# (no docker needed); a valid archive made the same way must load, so the script is sound.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need_peer python3 jq
need_strata_cmd load images

BAD=$WORK/bad
OUTSIDE=$WORK/outside # hostile entries aim here; it must stay as it is
mkdir -p "$BAD" "$OUTSIDE"
echo "victim content" >"$OUTSIDE/victim"

python3 - "$BAD" "$OUTSIDE" <<'PY'
import hashlib, io, json, os, sys, tarfile
bad, outside = sys.argv[1], sys.argv[2]
UP = '../' * 40  # enough to climb out of any store directory
outside_rel = outside.lstrip('/')

def entry(name, typ=tarfile.REGTYPE, data=b'', linkname='', mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.linkname = typ, mode, 1700000000, linkname
    ti.uname = ti.gname = 'root'
    if typ == tarfile.REGTYPE:
        ti.size = len(data)
    return ti, data

def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt) as tf:
        for ti, data in entries:
            tf.addfile(ti, io.BytesIO(data) if ti.type == tarfile.REGTYPE else None)
    return buf.getvalue()

def sha(b):
    return 'sha256:' + hashlib.sha256(b).hexdigest()

# GOOD_LAYER is what the good image loaded first has; the broken archives use NEW_LAYER, which
# the store does not have yet, so a loader cannot skip it as "already present".
GOOD_LAYER = tar_bytes([entry('etc', tarfile.DIRTYPE, mode=0o755),
                        entry('etc/hello', data=b'hello world\n' * 100)])
NEW_LAYER = tar_bytes([entry('srv', tarfile.DIRTYPE, mode=0o755),
                       entry('srv/data', data=b'fresh layer\n' * 100)])

def config(diff_ids, **over):
    c = {'architecture': 'amd64', 'os': 'linux', 'created': '2023-11-14T22:13:20Z',
         'config': {'Cmd': ['/bin/sh']},
         'history': [{'created': '2023-11-14T22:13:20Z', 'created_by': 'test'}
                     for _ in diff_ids],
         'rootfs': {'type': 'layers', 'diff_ids': diff_ids}}
    c.update(over)
    return json.dumps(c, separators=(',', ':')).encode()

def archive(name, layers=(NEW_LAYER,), cfg=None, manifest=None, tags=('bad/img:1',),
            extra=(), layer_names=None, cfg_name=None):
    """Writes BAD/name.tar: a docker-archive. manifest/cfg may be bytes to override."""
    layers = list(layers)
    if cfg is None:
        cfg = config([sha(l) for l in layers])
    cfg_name = cfg_name or hashlib.sha256(cfg).hexdigest() + '.json'
    layer_names = layer_names or [hashlib.sha256(l).hexdigest() + '/layer.tar' for l in layers]
    if manifest is None:
        manifest = json.dumps([{'Config': cfg_name, 'RepoTags': list(tags),
                                'Layers': layer_names}]).encode()
    ents = []
    for ln, l in zip(layer_names, layers):
        if '/' in ln and not ln.startswith(('/', '.')):
            ents.append(entry(ln.split('/')[0], tarfile.DIRTYPE, mode=0o755))
        ents.append(entry(ln, data=l))
    ents.append(entry(cfg_name, data=cfg))
    ents.extend(extra)
    if manifest is not False:
        ents.append(entry('manifest.json', data=manifest))
    data = tar_bytes(ents, tarfile.GNU_FORMAT)
    with open(f'{bad}/{name}.tar', 'wb') as f:
        f.write(data)
    return data

# A valid image (loaded first) and a valid second image (proves the loader accepts our format).
archive('good', layers=(GOOD_LAYER,), tags=('good/img:1',))
archive('good2', layers=(tar_bytes([entry('other', data=b'x')]),), tags=('good/other:1',))

# Layer bytes changed after the config was written: diffID mismatch.
corrupt = bytearray(NEW_LAYER)
corrupt[1024 + 100] ^= 0x01  # inside etc/hello's data
archive('corrupt-layer', layers=(bytes(corrupt),), cfg=config([sha(NEW_LAYER)]))
# Config lists another diff_id than the layer's.
archive('diffid-mismatch', cfg=config(['sha256:' + 'ab' * 32]))
# More layers than diff_ids / fewer.
archive('too-many-layers', layers=(NEW_LAYER, tar_bytes([entry('x', data=b'x')])),
        cfg=config([sha(NEW_LAYER)]))
archive('too-few-layers', cfg=config([sha(NEW_LAYER), sha(NEW_LAYER)]))
# Truncated archive: cut in the middle of the layer data.
whole = archive('truncated-src')
with open(f'{bad}/truncated.tar', 'wb') as f:
    f.write(whole[:1024 + 700])
os.remove(f'{bad}/truncated-src.tar')
# Not a tar at all; empty file.
with open(f'{bad}/garbage.tar', 'wb') as f:
    f.write(b'this is not a tar archive\n' * 100)
open(f'{bad}/empty.tar', 'wb').close()
# manifest.json problems.
archive('manifest-missing', manifest=False)
archive('manifest-not-json', manifest=b'[{"Config": "abc.json", "Layers": [')
archive('manifest-object', manifest=b'{"Config": "x.json"}')
archive('manifest-no-config', manifest=json.dumps(
    [{'RepoTags': ['bad/img:1'], 'Layers': [hashlib.sha256(NEW_LAYER).hexdigest() + '/layer.tar']}]).encode())
archive('manifest-missing-layer-file', layer_names=['0' * 64 + '/layer.tar'],
        manifest=json.dumps([{'Config': hashlib.sha256(config([sha(NEW_LAYER)])).hexdigest() + '.json',
                              'RepoTags': ['bad/img:1'], 'Layers': ['f' * 64 + '/layer.tar']}]).encode())
archive('manifest-config-escape', manifest=json.dumps(
    [{'Config': UP + outside_rel + '/victim', 'RepoTags': ['bad/img:1'],
      'Layers': [hashlib.sha256(NEW_LAYER).hexdigest() + '/layer.tar']}]).encode())
archive('manifest-layer-escape', manifest=json.dumps(
    [{'Config': hashlib.sha256(config([sha(NEW_LAYER)])).hexdigest() + '.json',
      'RepoTags': ['bad/img:1'], 'Layers': [UP + outside_rel + '/victim']}]).encode())
archive('manifest-bad-tag', tags=('Not A Valid/Reference!!',))
# Config problems.
archive('config-not-json', cfg=b'{"rootfs": {"type": "layers", "diff_ids": [')
archive('config-no-rootfs', cfg=json.dumps({'architecture': 'amd64', 'os': 'linux'}).encode())
archive('config-bad-digest', cfg=config(['md5:d41d8cd98f00b204e9800998ecf8427e']))
archive('config-history-too-long', cfg=config([sha(NEW_LAYER)], history=[
    {'created_by': 'a'}, {'created_by': 'b'}]))
# The archive itself has an entry climbing out of wherever it is unpacked.
archive('outer-dotdot', extra=[entry(UP + outside_rel + '/outer-escape', data=b'escaped\n')])

# Hostile layer entries (the diff_ids are right: only the entries are wrong).
hostile = {
    'layer-dotdot': [entry(UP + outside_rel + '/dotdot-escape', data=b'escaped\n')],
    'layer-absolute': [entry(outside + '/abs-escape', data=b'escaped\n')],
    'layer-hardlink-out': [entry('hl', tarfile.LNKTYPE, linkname=UP + outside_rel + '/victim')],
    'layer-hardlink-abs': [entry('hl', tarfile.LNKTYPE, linkname=outside + '/victim'),
                           entry('hl', data=b'overwritten through hard link\n')],
    'layer-symlink-then-write': [entry('esc', tarfile.SYMTYPE, linkname=UP + outside_rel),
                                 entry('esc/symlink-escape', data=b'escaped\n')],
    'layer-symlink-abs-then-write': [entry('esca', tarfile.SYMTYPE, linkname=outside),
                                     entry('esca/symlink-abs-escape', data=b'escaped\n')],
    'layer-symlink-victim-overwrite': [entry('v', tarfile.SYMTYPE, linkname=UP + outside_rel + '/victim'),
                                       entry('v', data=b'overwritten through symlink\n')],
    'layer-whiteout-parent': [entry('etc', tarfile.DIRTYPE, mode=0o755), entry('etc/.wh...')],
}
for name, ents in hostile.items():
    l = tar_bytes(ents)
    archive(name, layers=(NEW_LAYER, l))
PY

# The store starts with one good image.
srun load -i "$BAD/good.tar"
assert_eq 0 "$RC" "valid archive made by this test loads: $ERR"
((RC == 0)) || fatal "the valid archive does not load; every other result would be meaningless"
assert_match '^Loaded image: good/img:1$' "$OUT" "load prints the tag"

outside_state() { (cd "$OUTSIDE" && find . -printf '%p %y %s %n\n' | sort && cat victim); }
OUTSIDE_BEFORE=$(outside_state)

# expect_refused NAME REGEX [LOAD_FLAGS...]: load fails, message matches, nothing changed.
expect_refused() {
  local name=$1 re=$2 before
  shift 2
  before=$(store_state)
  srun load "$@" -i "$BAD/$name.tar"
  local what="$name${*:+ ($*)}"
  if ((RC != 0)); then ok "[$what] refused (exit $RC)"; else not_ok "[$what] refused (exit 0; out: $OUT)"; fi
  assert_match "$re" "$ERR" "[$what] message: $(head -c 300 <<<"$ERR")"
  assert_same_text "$before" "$(store_state)" "[$what] store unchanged (images and files)"
  assert_same_text "$OUTSIDE_BEFORE" "$(outside_state)" "[$what] nothing written outside the store"
}

# expect_safe NAME [LOAD_FLAGS...]: for layers that Docker accepts by resolving names inside the
# image root (chroot semantics): strata may refuse or accept, but must write nothing outside, and
# must leave the store unchanged when it refuses.
expect_safe() {
  local name=$1 before
  shift
  before=$(store_state)
  srun load "$@" -i "$BAD/$name.tar"
  local what="$name${*:+ ($*)}"
  if ((RC == 0)); then
    note "[$what] accepted (Docker accepts it too)"
  else
    note "[$what] refused (exit $RC): $(head -c 200 <<<"$ERR")"
    assert_same_text "$before" "$(store_state)" "[$what] refused: store unchanged"
  fi
  assert_same_text "$OUTSIDE_BEFORE" "$(outside_state)" "[$what] nothing written outside the store"
}

DIGEST_RE='diff.?id|digest|mismatch|sha256|checksum|verif'
expect_refused corrupt-layer "$DIGEST_RE"
expect_refused diffid-mismatch "$DIGEST_RE"
expect_refused too-many-layers 'layer|diff.?id'
expect_refused too-few-layers 'layer|diff.?id'
expect_refused truncated 'truncat|unexpected (end|eof)|short|incomplete|eof|premature'
expect_refused garbage 'tar|archive|header|manifest'
expect_refused empty 'empty|tar|archive|manifest|eof'
expect_refused manifest-missing 'manifest'
expect_refused manifest-not-json 'manifest'
expect_refused manifest-object 'manifest'
expect_refused manifest-no-config 'config'
expect_refused manifest-missing-layer-file 'f{12}|layer|missing|not found|no such'
expect_refused manifest-config-escape '\.\./|path|outside|invalid|escape'
expect_refused manifest-layer-escape '\.\./|path|outside|invalid|escape'
expect_refused manifest-bad-tag 'reference|tag|name|invalid'
expect_refused config-not-json 'config|json|parse'
expect_refused config-no-rootfs 'rootfs'
expect_refused config-bad-digest 'digest|md5|algorithm|diff.?id'
expect_refused config-history-too-long 'history|layer'
expect_refused outer-dotdot '\.\./|path|outside|invalid|escape|breakout'

# Refused outright. (Docker itself accepts ../ and absolute names by clamping them inside the
# root, and fails the hard links because their targets do not exist inside it.)
HOSTILE=(layer-dotdot layer-absolute layer-hardlink-out layer-hardlink-abs layer-symlink-then-write)
HOSTILE_RE='\.\./|path|outside|escape|breakout|absolute|link|invalid|unsafe'
# Legitimate in Docker's chroot semantics (an absolute symlink resolves inside the root, like
# usrmerge's /lib -> /usr/lib; a file entry replaces a symlink rather than writing through it).
SAFE=(layer-symlink-abs-then-write layer-symlink-victim-overwrite)
for h in "${HOSTILE[@]}"; do
  expect_refused "$h" "$HOSTILE_RE"
done
for h in "${SAFE[@]}"; do
  expect_safe "$h"
done
expect_refused layer-whiteout-parent 'whiteout|invalid|\.wh\.'

# Loaders that unpack layers get the hostile entries again.
if has_strata_flag load --unpack; then
  for h in "${HOSTILE[@]}"; do
    expect_refused "$h" "$HOSTILE_RE" --unpack
  done
  for h in "${SAFE[@]}"; do
    expect_safe "$h" --unpack
  done
  expect_refused layer-whiteout-parent 'whiteout|invalid|\.wh\.' --unpack
else
  note "strata load has no --unpack; hostile entries only checked on plain load"
fi

# After all that, the good second image still loads and the first is intact.
srun load -i "$BAD/good2.tar"
assert_eq "0 Loaded image: good/other:1" "$RC $OUT" "a valid load still works afterwards: $ERR"
assert_eq 2 "$(strata inspect good/img:1 good/other:1 2>&1 | jq length 2>&1)" \
  "both good images are still there"
if has_strata_cmd fsck; then
  srun fsck
  assert_eq 0 "$RC" "strata fsck is clean afterwards: $ERR $OUT"
fi

finish
