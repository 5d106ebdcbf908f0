#!/usr/bin/env bash
# Unpacked layers are overlayfs lower directories (src/snapshot/snapshotter.h): a three-layer
# image, whose second layer deletes a file (a whiteout) and empties a directory (an opaque
# marker), is loaded with `load --unpack` (layers unpacked while staged) and, in a second store,
# without it (unpacked on demand by the hidden `snapshot mounts`). In both, the snapshots hold a
# 0/0 character device for the whiteout, trusted.overlay.opaque on the opaque directory and no
# ".wh." file; `snapshot mounts` gives an overlay mount that really mounts (as root) and shows the
# file deleted, the directory's older contents hidden and the top layer's version of a file. gc
# keeps the snapshots while the image lives and removes them with it.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need_peer python3
need_strata_cmd load gc rmi
[[ $(id -u) == 0 ]] || skip "needs root (overlayfs mounts, trusted.overlay xattrs)"

python3 - "$WORK/stack.tar" <<'PY'
import hashlib, io, json, sys, tarfile

def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt) as tf:
        for ti, data in entries:
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def entry(name, typ=tarfile.REGTYPE, data=None, mode=0o644):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime = typ, mode, 1700000000
    if data is not None:
        ti.size = len(data)
    return ti, data

def d(name):
    return entry(name, tarfile.DIRTYPE, mode=0o755)

layers = [
    tar_bytes([d('etc/'), entry('etc/keep', data=b'one\n'), entry('etc/gone', data=b'gone\n'),
               d('opaque/'), entry('opaque/old', data=b'old\n'), d('opaque/sub/'),
               entry('opaque/sub/deep', data=b'deep\n')]),
    tar_bytes([d('etc/'), entry('etc/.wh.gone', data=b''), d('opaque/'),
               entry('opaque/.wh..wh..opq', data=b''), entry('opaque/new', data=b'new\n')]),
    tar_bytes([d('etc/'), entry('etc/keep', data=b'three\n')]),
]
diff_ids = ['sha256:' + hashlib.sha256(l).hexdigest() for l in layers]
cfg = json.dumps({'architecture': 'amd64', 'os': 'linux', 'created': '2023-11-14T22:13:20Z',
                  'config': {'Cmd': ['/bin/sh']},
                  'history': [{'created': '2023-11-14T22:13:20Z', 'created_by': 'layer %d' % i}
                              for i in range(len(layers))],
                  'rootfs': {'type': 'layers', 'diff_ids': diff_ids}},
                 separators=(',', ':')).encode()
cfg_name = hashlib.sha256(cfg).hexdigest() + '.json'
names = [hashlib.sha256(l).hexdigest() + '/layer.tar' for l in layers]
manifest = json.dumps([{'Config': cfg_name, 'RepoTags': ['snap/stack:1'],
                        'Layers': names}]).encode()
members = [entry(n, data=l) for n, l in zip(names, layers)]
archive = tar_bytes(members + [entry(cfg_name, data=cfg), entry('manifest.json', data=manifest)],
                    tarfile.GNU_FORMAT)
open(sys.argv[1], 'wb').write(archive)
PY

# xattr PATH NAME: the attribute's value, or "<none>".
xattr() {
  python3 -c 'import os, sys
try: print(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
except OSError: print("<none>")' "$1" "$2"
}

# check_store ROOT WHAT: `snapshot mounts`, the overlay form on disk, then the mounted stack.
check_store() {
  local root=$1 what=$2 mounts type source options opaque
  # First: it unpacks what is not unpacked yet.
  mounts=$("$STRATA" --root "$root" snapshot mounts snap/stack:1 2>"$WORK/mounts.err") &&
    RC=0 || RC=$?
  assert_eq 0 "$RC" "$what: snapshot mounts: $(cat "$WORK/mounts.err")"
  assert_eq 3 "$(find "$root/snapshots" -mindepth 1 -maxdepth 1 | wc -l)" \
    "$what: three snapshots, no staging directory left"
  assert_eq "" "$(find "$root/snapshots" -name '.wh.*')" "$what: no .wh. file in any snapshot"
  assert_eq 1 "$(find "$root/snapshots" -type c -name gone | wc -l)" \
    "$what: the whiteout is a character device"
  assert_eq "0:0" "$(find "$root/snapshots" -type c -name gone -exec stat -c '%t:%T' {} \;)" \
    "$what: numbered 0/0"
  opaque=$(for dir in "$root"/snapshots/*/fs/opaque; do
    if [[ -e $dir/new ]]; then echo "$dir"; fi
  done)
  assert_eq "y" "$(xattr "$opaque" trusted.overlay.opaque)" \
    "$what: the opaque directory carries trusted.overlay.opaque=y"

  assert_eq 1 "$(grep -c . <<<"$mounts")" "$what: one mount for the stack"
  read -r type source options <<<"$mounts"
  assert_eq overlay "$type" "$what: an overlay mount"
  assert_match '^ro,lowerdir=[^,]+:[^,]+:[^,]+$' "$options" "$what: read-only, three lowers"
  mkdir -p "$WORK/mnt"
  if ! mount -t "$type" -o "$options" "$source" "$WORK/mnt" 2>"$WORK/mount.err"; then
    not_ok "$what: mount -t $type -o $options: $(cat "$WORK/mount.err")"
    return
  fi
  assert_eq "three" "$(cat "$WORK/mnt/etc/keep")" "$what: the top layer's etc/keep wins"
  if [[ -e $WORK/mnt/etc/gone ]]; then
    not_ok "$what: etc/gone is visible"
  else
    ok "$what: the deleted etc/gone is absent"
  fi
  assert_eq "new" "$(find "$WORK/mnt/opaque" -mindepth 1 -printf '%P ' | sed 's/ $//')" \
    "$what: the opaque directory hides the lower layer's old and sub/"
  assert_eq "" "$(find "$WORK/mnt" -name '.wh.*')" "$what: no .wh. file in the mounted tree"
  if umount "$WORK/mnt"; then ok "$what: unmounted"; else not_ok "$what: umount failed"; fi
}

srun load --unpack -i "$WORK/stack.tar"
assert_eq 0 "$RC" "load --unpack: $ERR"
assert_eq "" "$ERR" "no warning: nothing was lost as root"
check_store "$ROOT" "load --unpack"

# On demand: loaded without --unpack, unpacked by `snapshot mounts` (store/layer_unpack.cc).
ROOT2=$WORK/root2
"$STRATA" --root "$ROOT2" load -i "$WORK/stack.tar" >/dev/null 2>"$WORK/load2.err" ||
  not_ok "load without --unpack: $(cat "$WORK/load2.err")"
assert_eq 0 "$(find "$ROOT2/snapshots" -mindepth 1 | wc -l)" "load alone unpacks nothing"
check_store "$ROOT2" "unpacked on demand"

# gc keeps the snapshots of a live image and removes them with it.
srun gc
assert_eq 0 "$RC" "gc: $ERR"
assert_eq 3 "$(find "$ROOT/snapshots" -mindepth 1 -maxdepth 1 | wc -l)" "gc keeps live snapshots"
srun rmi snap/stack:1
assert_eq 0 "$RC" "rmi: $ERR"
assert_eq 0 "$(find "$ROOT/snapshots" -mindepth 1 -maxdepth 1 | wc -l)" \
  "rmi's gc removes the image's snapshots"
finish
