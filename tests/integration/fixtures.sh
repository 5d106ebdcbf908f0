# Test images, built once in the shared dockerd (scripts/peers.sh) and reused by tag.
#
# Source after lib.sh and call `ensure_fixtures`; it sets FIX to a directory holding the
# `docker save` archives listed below (built on first use, under a lock, < 1 min).
# Run directly (`bash tests/integration/fixtures.sh`) to (re)build them by hand.
#
# Images (all tags under strata-it/):
#   base:1        busybox-static rootfs via `docker import` (-c CMD, -m message); 1 layer
#   rich:1        legacy builder, FROM base:1: ENV/LABEL/WORKDIR/EXPOSE/VOLUME/STOPSIGNAL/
#                 HEALTHCHECK/CMD (empty_layer history), whiteouts, an opaque directory,
#                 hard links (same layer, and to a file of a lower layer), relative/absolute/
#                 dangling symlinks, names > 100 bytes and paths > 255 bytes, non-ASCII names,
#                 fifo, char/block device nodes, setuid + sticky modes, an empty-diff RUN,
#                 a file with a security.capability xattr (ADD of a tar), a modified lower file
#   rich:alias    second tag of rich:1
#   child:1       FROM rich:1 + one RUN (its parent is rich:1; rich has no ONBUILD so that
#                 child's history is rich's plus one entry, which docker save/load needs to
#                 keep the Parent link)
#   sibling:1     FROM rich:1 + LABEL + ONBUILD (metadata only: rich:1's layers, other config)
#   paxattr:1     `docker import` of a PAX tar made here: PAX global header, user.* and
#                 security.capability xattrs, PAX long path/linkpath, non-ASCII path, uid/gid
#                 > 2^21, fractional mtime, hard link, fifo, char + block devices
#   gnutar:1      `docker import` of a GNU tar (--format=gnu): ././@LongLink names and link
#                 targets (docker refuses GNU sparse entries, type 'S', so there is none)
# Archives in $FIX: base.tar rich.tar rich-alias.tar (both tags) parent.tar (rich:1 + child:1)
#   family.tar (rich:1 child:1 sibling:1) paxattr.tar gnutar.tar, and ids.env with
#   <NAME>_ID=sha256:... for each image.

FIXTURE_VERSION=4
FIXTURE_REPO=strata-it

_fixture_py_tars() {
  # $1 = output dir. Writes caps.tar (one file with security.capability) and paxattr.tar.
  python3 - "$1" <<'PY'
import io, sys, tarfile
out = sys.argv[1]
# security.capability v2: cap_net_raw (bit 13) permitted + effective flag.
cap = bytes([0x01, 0x00, 0x00, 0x02, 0x00, 0x20, 0x00, 0x00] + [0] * 12).decode('latin-1')

def add(tf, name, typ=tarfile.REGTYPE, data=b'', mode=0o644, **kw):
    ti = tarfile.TarInfo(name)
    ti.type = typ
    ti.mode = mode
    ti.mtime = kw.pop('mtime', 1700000000)
    ti.uid = kw.pop('uid', 0)
    ti.gid = kw.pop('gid', 0)
    ti.uname = kw.pop('uname', 'root')
    ti.gname = kw.pop('gname', 'root')
    for k, v in kw.items():
        setattr(ti, k, v)
    if typ == tarfile.REGTYPE:
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
    else:
        tf.addfile(ti)

with tarfile.open(f'{out}/caps.tar', 'w', format=tarfile.PAX_FORMAT, encoding='utf-8') as tf:
    add(tf, 'pinger', data=b'ping\n', mode=0o755,
        pax_headers={'SCHILY.xattr.security.capability': cap})

long_dir = 'pax/' + 'p' * 120
long_file = long_dir + '/' + 'q' * 150 + '.txt'
with tarfile.open(f'{out}/paxattr.tar', 'w', format=tarfile.PAX_FORMAT, encoding='utf-8',
                  pax_headers={'comment': 'strata fixture global header'}) as tf:
    add(tf, 'etc', tarfile.DIRTYPE, mode=0o755)
    add(tf, 'etc/hello', data=b'hello from paxattr\n')
    add(tf, 'xattr', tarfile.DIRTYPE, mode=0o755)
    add(tf, 'xattr/user-attrs', data=b'user xattrs\n',
        pax_headers={'SCHILY.xattr.user.strata': 'fixture', 'SCHILY.xattr.user.second': 'two'})
    add(tf, 'xattr/capable', data=b'cap\n', mode=0o755,
        pax_headers={'SCHILY.xattr.security.capability': cap})
    add(tf, 'pax', tarfile.DIRTYPE, mode=0o755)
    add(tf, long_dir, tarfile.DIRTYPE, mode=0o755)
    add(tf, long_file, data=b'long path via PAX\n')
    add(tf, 'pax/long-link', tarfile.SYMTYPE, linkname='/' + long_file, mode=0o777)
    add(tf, 'pax/\u00fcn\u00ef\u0063\u00f8d\u00e9-\u540d\u524d.txt', data=b'unicode\n')
    add(tf, 'pax/big-ids', data=b'ids\n', uid=3000000, gid=3000001, uname='bigu', gname='bigg')
    add(tf, 'pax/frac-mtime', data=b'frac\n', pax_headers={'mtime': '1700000000.123456789'})
    add(tf, 'pax/hardlink', tarfile.LNKTYPE, linkname='etc/hello')
    add(tf, 'dev', tarfile.DIRTYPE, mode=0o755)
    add(tf, 'dev/fifo', tarfile.FIFOTYPE, mode=0o600)
    add(tf, 'dev/null', tarfile.CHRTYPE, mode=0o666, devmajor=1, devminor=3)
    add(tf, 'dev/loop9', tarfile.BLKTYPE, mode=0o660, devmajor=7, devminor=9)
PY
}

_fixture_build() {
  # Runs with the fixtures lock held and DOCKER_HOST set to the shared daemon.
  local fix=$1 tmp
  tmp=$(mktemp -d "$IT_DIR/fixture-build.XXXXXX")
  local r=$FIXTURE_REPO

  # --- base: busybox-static + applet symlinks, imported.
  mkdir -p "$tmp/rootfs/bin" "$tmp/rootfs/etc" "$tmp/rootfs/tmp" "$tmp/rootfs/root" \
    "$tmp/rootfs/dev" "$tmp/rootfs/proc" "$tmp/rootfs/sys"
  local bb
  bb=$(command -v busybox || true)
  [[ -n $bb ]] || bb=/bin/busybox
  [[ -x $bb ]] || fatal "busybox not found (apt-get install busybox-static)"
  cp "$bb" "$tmp/rootfs/bin/busybox"
  local a
  for a in $("$tmp/rootfs/bin/busybox" --list); do
    [[ $a == busybox || -e $tmp/rootfs/bin/$a ]] || ln -s busybox "$tmp/rootfs/bin/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\n' >"$tmp/rootfs/etc/passwd"
  printf 'root:x:0:\n' >"$tmp/rootfs/etc/group"
  chmod 1777 "$tmp/rootfs/tmp"
  tar -C "$tmp/rootfs" --numeric-owner --owner=0 --group=0 --sort=name \
    --mtime=@1700000000 -cf "$tmp/base-rootfs.tar" .
  dk import -c 'CMD ["sh"]' -m "strata fixture base" "$tmp/base-rootfs.tar" "$r/base:1" >/dev/null

  # --- rich: the legacy builder makes one image per instruction (parent links, empty layers).
  local ctx=$tmp/rich a100 b100 c100 n150 uni
  mkdir -p "$ctx"
  _fixture_py_tars "$tmp"
  cp "$tmp/caps.tar" "$ctx/caps.tar"
  a100=$(printf 'a%.0s' {1..100})
  b100=$(printf 'b%.0s' {1..100})
  c100=$(printf 'c%.0s' {1..100})
  n150=$(printf 'n%.0s' {1..150})
  uni='héllo wörld ☃ 日本語.txt'
  cat >"$ctx/Dockerfile" <<EOF
FROM $r/base:1
ENV FIXTURE=rich LANG=C.UTF-8
LABEL org.strata.fixture="rich" org.strata.unicode="héllo ☃"
WORKDIR /srv/app
EXPOSE 8080/tcp 53/udp
RUN mkdir -p /data/keep /data/gone/sub /data/opq/sub && echo keep > /data/keep/k && echo gone > /data/gone/sub/g && echo one > /data/opq/sub/a && echo two > /data/opq/b && echo k > /k && echo del > /data/del.txt && echo lower > /data/hl-src
RUN rm /k /data/del.txt && rm -rf /data/gone
RUN rm -rf /data/opq && mkdir -p /data/opq && echo three > /data/opq/c
RUN mkdir /links && echo orig > /links/orig && ln /links/orig /links/hard && ln /links/orig /links/hard2 && ln -s orig /links/rel && ln -s /links/orig /links/abs && ln -s ../data/keep /links/reldir && ln -s /does/not/exist /links/dangling && ln /data/hl-src /links/hl-lower
RUN mkdir -p /long/$a100/$b100/$c100 && echo deep > /long/$a100/$b100/$c100/deep-file.txt && echo long > /long/$n150 && ln /long/$n150 /long/hardlink-to-long && ln -s /long/$a100/$b100/$c100/deep-file.txt /long/symlink-long-target
RUN mkdir /unicode && echo unicode > '/unicode/$uni' && ln -s '$uni' /unicode/lien-ü
RUN mkdir -p /special && mkfifo /special/fifo && (mknod /special/null c 1 3 || echo no-mknod > /special/null) && (mknod /special/loop9 b 7 9 || echo no-mknod > /special/loop9) && echo suid > /special/setuid && chmod 4755 /special/setuid && mkdir -m 1777 /special/sticky && echo ro > /special/readonly && chmod 0400 /special/readonly
RUN true
ADD caps.tar /caps/
RUN echo appended >> /data/keep/k
VOLUME /vol
STOPSIGNAL SIGTERM
HEALTHCHECK --interval=30s --timeout=5s CMD true
CMD ["sh", "-c", "echo rich"]
EOF
  DOCKER_BUILDKIT=0 dk build -q --network none --force-rm -t "$r/rich:1" "$ctx" >/dev/null
  dk tag "$r/rich:1" "$r/rich:alias"

  mkdir -p "$tmp/child" "$tmp/sibling"
  printf 'FROM %s/rich:1\nRUN echo child > /child.txt\n' "$r" >"$tmp/child/Dockerfile"
  printf 'FROM %s/rich:1\nLABEL org.strata.sibling=yes\nONBUILD RUN echo onbuild\n' "$r" \
    >"$tmp/sibling/Dockerfile"
  DOCKER_BUILDKIT=0 dk build -q --network none --force-rm -t "$r/child:1" "$tmp/child" >/dev/null
  DOCKER_BUILDKIT=0 dk build -q --network none --force-rm -t "$r/sibling:1" "$tmp/sibling" >/dev/null

  # --- paxattr: imported as is (docker keeps the tar bytes: layer.tar == our tar).
  dk import -c 'CMD ["/bin/sh"]' "$tmp/paxattr.tar" "$r/paxattr:1" >/dev/null

  # --- gnutar: GNU format with long-name records.
  local g=$tmp/gnu
  mkdir -p "$g/gnu/$a100"
  echo "gnu long" >"$g/gnu/$a100/$n150"
  ln -s "$a100/$n150" "$g/gnu/symlink-long-target-$b100"
  ln "$g/gnu/$a100/$n150" "$g/gnu/hardlink-long-target"
  tar -C "$g" --format=gnu --numeric-owner --owner=0 --group=0 --sort=name \
    --mtime=@1700000000 -cf "$tmp/gnutar.tar" gnu
  dk import "$tmp/gnutar.tar" "$r/gnutar:1" >/dev/null

  # --- archives
  mkdir -p "$fix.new"
  dk save -o "$fix.new/base.tar" "$r/base:1"
  dk save -o "$fix.new/rich.tar" "$r/rich:1"
  dk save -o "$fix.new/rich-alias.tar" "$r/rich:1" "$r/rich:alias"
  dk save -o "$fix.new/parent.tar" "$r/rich:1" "$r/child:1"
  dk save -o "$fix.new/family.tar" "$r/rich:1" "$r/child:1" "$r/sibling:1"
  dk save -o "$fix.new/paxattr.tar" "$r/paxattr:1"
  dk save -o "$fix.new/gnutar.tar" "$r/gnutar:1"
  cp "$tmp/paxattr.tar" "$fix.new/paxattr-layer.tar"
  cp "$tmp/gnutar.tar" "$fix.new/gnutar-layer.tar"
  local n
  for n in base rich child sibling paxattr gnutar; do
    echo "${n^^}_ID=$(dk image inspect -f '{{.Id}}' "$r/$n:1")"
  done >"$fix.new/ids.env"
  rm -rf "$fix"
  mv "$fix.new" "$fix"
  dk tag "$r/base:1" "$r/fixtures:v$FIXTURE_VERSION"
  rm -rf "$tmp"
}

# ensure_fixtures: the shared daemon holds every fixture image and $FIX every archive.
ensure_fixtures() {
  need_peer docker python3 tar
  [[ -n ${SHARED_DOCKER_HOST:-} ]] || use_shared_dockerd
  FIX=$IT_DIR/fixtures-v$FIXTURE_VERSION
  exec 7>"$IT_DIR/fixtures.lock"
  flock -x 7
  if [[ ! -f $FIX/ids.env ]] ||
    ! dk image inspect "$FIXTURE_REPO/fixtures:v$FIXTURE_VERSION" >/dev/null 2>&1; then
    local t0=$SECONDS
    note "building fixture images (version $FIXTURE_VERSION)"
    rm -rf "$IT_DIR"/fixtures-v* "$IT_DIR"/fixture-build.*
    _fixture_build "$FIX"
    dk image prune -f >/dev/null # images of older fixture versions
    note "fixtures built in $((SECONDS - t0)) s"
  fi
  flock -u 7
  exec 7>&-
  # shellcheck disable=SC1091
  source "$FIX/ids.env"
}

if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  # Standalone: bash tests/integration/fixtures.sh [--rebuild]
  source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" /bin/true
  use_shared_dockerd
  if [[ ${1:-} == --rebuild ]]; then
    dk rmi "$FIXTURE_REPO/fixtures:v$FIXTURE_VERSION" >/dev/null 2>&1 || true
  fi
  ensure_fixtures
  note "fixtures in $FIX"
  cat "$FIX/ids.env"
fi
