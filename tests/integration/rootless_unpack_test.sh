#!/usr/bin/env bash
# `strata load --unpack` as an unprivileged user (nobody, via setpriv) of an archive whose layer
# holds a device node and files owned by other users: the load succeeds, the device node is not
# created and the files keep nobody's ownership, and strata says so in one warning naming both
# counts (instead of dropping them silently). As root the same archive unpacks whole, without a
# warning about ownership.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need_peer python3 setpriv
need_strata_cmd load images
[[ $(id -u) == 0 ]] || skip "needs root (to run strata as nobody through setpriv)"

NOBODY=65534
chmod 711 "$WORK" # nobody may reach its own directory below
mkdir -p "$WORK/nobody"
python3 - "$WORK/nobody/rootless.tar" <<'PY'
import hashlib, io, json, sys, tarfile

def tar_bytes(entries, fmt=tarfile.PAX_FORMAT):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode='w', format=fmt) as tf:
        for ti, data in entries:
            tf.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()

def entry(name, typ=tarfile.REGTYPE, data=None, uid=0, gid=0, mode=0o644, dev=(0, 0)):
    ti = tarfile.TarInfo(name)
    ti.type, ti.mode, ti.mtime, ti.uid, ti.gid = typ, mode, 1700000000, uid, gid
    ti.devmajor, ti.devminor = dev
    if data is not None:
        ti.size = len(data)
    return ti, data

# Owned by someone else than nobody: dev/, etc/ (root), etc/owned (1234). Not created: dev/null.
layer = tar_bytes([
    entry('dev/', tarfile.DIRTYPE, mode=0o755),
    entry('dev/null', tarfile.CHRTYPE, mode=0o666, dev=(1, 3)),
    entry('etc/', tarfile.DIRTYPE, mode=0o755),
    entry('etc/owned', data=b'owned by 1234\n', uid=1234, gid=1234),
])
diff_id = 'sha256:' + hashlib.sha256(layer).hexdigest()
cfg = json.dumps({'architecture': 'amd64', 'os': 'linux', 'created': '2023-11-14T22:13:20Z',
                  'config': {'Cmd': ['/bin/sh']},
                  'history': [{'created': '2023-11-14T22:13:20Z', 'created_by': 'test'}],
                  'rootfs': {'type': 'layers', 'diff_ids': [diff_id]}},
                 separators=(',', ':')).encode()
cfg_name = hashlib.sha256(cfg).hexdigest() + '.json'
layer_name = hashlib.sha256(layer).hexdigest() + '/layer.tar'
manifest = json.dumps([{'Config': cfg_name, 'RepoTags': ['rootless/test:1'],
                        'Layers': [layer_name]}]).encode()
archive = tar_bytes([entry(layer_name, data=layer), entry(cfg_name, data=cfg),
                     entry('manifest.json', data=manifest)], tarfile.GNU_FORMAT)
open(sys.argv[1], 'wb').write(archive)
PY
chown -R "$NOBODY:$NOBODY" "$WORK/nobody"

# as_nobody ARGS...: strata as uid/gid 65534 with no supplementary groups, on nobody's store.
as_nobody() {
  HOME=$WORK/nobody setpriv --reuid=$NOBODY --regid=$NOBODY --clear-groups \
    "$STRATA" --root "$WORK/nobody/store" "$@"
}

if as_nobody load --unpack -i "$WORK/nobody/rootless.tar" >"$WORK/load.out" 2>"$WORK/load.err"; then
  ok "load --unpack as nobody succeeds"
else
  not_ok "load --unpack as nobody failed: $(cat "$WORK/load.err")"
fi
assert_match '^Loaded image: rootless/test:1$' "$(cat "$WORK/load.out")" "the image is loaded"
assert_eq "warning: unpacking as uid $NOBODY: 1 device node was not created and 3 files keep your ownership instead of the archive's; run as root to keep them" \
  "$(cat "$WORK/load.err")" "one warning naming the device nodes and owners dropped"
owned=$(find "$WORK/nobody/store/snapshots" -path '*/etc/owned' -printf '%U:%G\n' 2>/dev/null)
assert_eq "$NOBODY:$NOBODY" "$owned" "etc/owned keeps nobody's ownership"
devs=$(find "$WORK/nobody/store/snapshots" -path '*/dev/*' 2>/dev/null | wc -l)
assert_eq 0 "$devs" "dev/null was not created"

# A second load of the same archive has nothing left to unpack: no warning.
as_nobody load --unpack -i "$WORK/nobody/rootless.tar" >/dev/null 2>"$WORK/load2.err" || true
assert_eq "" "$(cat "$WORK/load2.err")" "nothing unpacked again, nothing to warn about"

# As root: owners are applied; only a device node may be missing (a container without
# CAP_MKNOD), and then the warning says exactly that.
strata load --unpack -i "$WORK/nobody/rootless.tar" >/dev/null 2>"$WORK/root.err"
owned=$(find "$ROOT/snapshots" -path '*/etc/owned' -printf '%U:%G\n')
assert_eq "1234:1234" "$owned" "as root, etc/owned gets the archive's owner"
if [[ -z $(find "$ROOT/snapshots" -path '*/dev/null') ]]; then
  assert_eq "warning: unpacking as uid 0: 1 device node was not created; run with CAP_MKNOD and CAP_CHOWN outside a user namespace to keep it" \
    "$(cat "$WORK/root.err")" "as root without CAP_MKNOD: only the device node is reported"
else
  assert_eq "" "$(cat "$WORK/root.err")" "as root: no warning"
fi

finish
