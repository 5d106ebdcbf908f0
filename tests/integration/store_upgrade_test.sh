#!/usr/bin/env bash
# A store written by the last release before metadata domains (layout 1, commit 7b6138f; made by
# tests/fixtures/make_store_layout1.sh and kept as tests/fixtures/store-layout1.tar.gz) opens in
# this strata: through a read-only mount it is read without changing a byte; the first command
# that can write the store upgrades it in place to layout 2 (schema_domains, the registry's gc roots as a view);
# afterwards images, tags, history, fsck and gc behave as before, gc keeps the embedded
# registry's blobs, and `registry serve` on the upgraded store serves its repository. The
# fixture's unpacked layer (layers/<cache-id>, the naive form) is marked not unpacked by images
# step 2, unpacked again on demand as a snapshot (snapshots/<cache-id>/fs), and gc removes layers/.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer python3 curl jq
need_strata_cmd images tag fsck gc "registry serve" inspect

FIXTURE=$REPO_ROOT/tests/fixtures/store-layout1.tar.gz
[[ -f $FIXTURE ]] || fatal "missing fixture $FIXTURE"
mkdir -p "$ROOT"
tar -xzf "$FIXTURE" -C "$ROOT"
PORT=$(cat "$ROOT/.fixture-port")

# sql QUERY: one value from the store's database, read with Python's sqlite3 (read-only).
sql() {
  python3 - "$ROOT/strata.db" "$1" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
row = db.execute(sys.argv[2]).fetchone()
print("" if row is None else row[0])
PY
}

assert_eq 1 "$(sql 'PRAGMA user_version')" "the fixture is a layout-1 store"
fixture_id=$(sql "SELECT image_id FROM refs WHERE name = 'docker.io/fixture/app:1'")
[[ $fixture_id == sha256:* ]] || fatal "fixture has no docker.io/fixture/app:1 ref"
registry_blobs=$(sql 'SELECT count(*) FROM registry_blobs')
cache_id=$(sql 'SELECT cache_id FROM layers WHERE unpacked = 1')
[[ -n $cache_id && -f $ROOT/layers/$cache_id/etc/fixture ]] ||
  fatal "fixture has no unpacked layer in layers/"
note "fixture image $fixture_id, $registry_blobs registry blob links"

# Through a read-only bind mount (as root): the old layout is read without writing a byte.
mkdir -p "$WORK/mnt"
if mount --bind "$ROOT" "$WORK/mnt" 2>/dev/null; then
  at_exit "umount '$WORK/mnt' 2>/dev/null || true"
  if mount -o remount,bind,ro "$WORK/mnt" 2>/dev/null; then
    before=$(sha256sum <"$ROOT/strata.db")
    OUT=$("$STRATA" --root "$WORK/mnt" images --format '{{.Repository}}:{{.Tag}} {{.ID}}' 2>&1) &&
      RC=0 || RC=$?
    assert_eq 0 "$RC" "images on a read-only mount of a layout-1 store: $OUT"
    assert_match "^fixture/app:1 ${fixture_id:7:12}" "$OUT" "lists the fixture's tag and ID"
    assert_match "127.0.0.1:$PORT/lib/app:1" "$OUT" "and the pulled reference"
    OUT=$("$STRATA" --root "$WORK/mnt" inspect fixture/app:1 2>&1) && RC=0 || RC=$?
    assert_eq "$fixture_id" "$(jq -r '.[0].Id' <<<"$OUT" 2>/dev/null)" "inspect reads it"
    assert_eq "$before" "$(sha256sum <"$ROOT/strata.db")" "and the database is not written"
    assert_eq 1 "$(sql 'PRAGMA user_version')" "still layout 1 after reads"
  else
    note "no read-only remount here: the read-only part is skipped"
  fi
  umount "$WORK/mnt"
else
  note "mount --bind is not permitted here: the read-only part is skipped"
fi

# The first command that can write the store upgrades it, even one that only reads (as
# dockerd migrates its store when it starts).
srun images --format '{{.Repository}}:{{.Tag}}'
assert_eq 0 "$RC" "images on the writable layout-1 store: $ERR"
assert_match "^fixture/app:1$" "$OUT" "lists the fixture's tag"
srun tag fixture/app:1 fixture/app:upgraded
assert_eq 0 "$RC" "tag on the upgraded store: $ERR"
assert_eq 2 "$(sql 'PRAGMA user_version')" "upgraded to layout 2"
assert_eq 2 "$(sql "SELECT version FROM schema_domains WHERE name = 'images'")" \
  "images domain recorded at version 2 (snapshots)"
assert_eq 0 "$(sql 'SELECT count(*) FROM layers WHERE unpacked = 1')" \
  "the old release's unpacked layer no longer counts as unpacked"
srun snapshot mounts fixture/app:1
assert_eq 0 "$RC" "snapshot mounts unpacks the layer again: $ERR"
assert_eq "bind $ROOT/snapshots/$cache_id/fs ro,rbind" "$OUT" "as the snapshot named by its cache-id"
assert_eq 1 "$(sql 'SELECT count(*) FROM layers WHERE unpacked = 1')" "recorded as unpacked"
[[ -f $ROOT/snapshots/$cache_id/fs/etc/fixture ]] && ok "the snapshot holds the layer's file" ||
  not_ok "snapshots/$cache_id/fs/etc/fixture is missing"
assert_eq 2 "$(sql "SELECT version FROM schema_domains WHERE name = 'registry'")" \
  "registry domain recorded at version 2 (its gc roots view)"
assert_eq "$registry_blobs" "$(sql 'SELECT count(*) FROM registry_blobs')" \
  "the registry's rows survive the upgrade"
assert_eq "$fixture_id" "$(sql "SELECT image_id FROM refs WHERE name = 'docker.io/fixture/app:upgraded'")" \
  "the new tag was written"

# The upgraded store behaves: fsck clean, gc keeps every blob the registry names.
srun fsck
assert_eq 0 "$RC" "fsck of the upgraded store: $OUT $ERR"
roots=$(python3 - "$ROOT/strata.db" <<'PY'
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
for (d,) in db.execute("SELECT digest FROM gc_roots_registry"):
    print(d)
PY
)
[[ -n $roots ]] || not_ok "gc_roots_registry names no blob"
srun rmi fixture/app:1 fixture/app:upgraded "127.0.0.1:$PORT/lib/app:1"
assert_eq 0 "$RC" "rmi of every local tag: $ERR"
srun gc
assert_eq 0 "$RC" "gc: $ERR"
missing=0
while read -r d; do
  [[ -z $d ]] || [[ -f $ROOT/blobs/sha256/${d#sha256:} ]] || missing=$((missing + 1))
done <<<"$roots"
assert_eq 0 "$missing" "gc kept every blob of the registry's repositories (no local image left)"
[[ ! -e $ROOT/layers ]] && ok "gc removed the old release's layers/" || not_ok "layers/ is still there"
assert_eq 0 "$(find "$ROOT/snapshots" -mindepth 1 | wc -l)" "and the snapshot of the removed image"

# The embedded registry on the upgraded store serves what the old release stored.
start_strata_registry() {
  local port
  port=$(_free_port)
  _spawn SERVE_PID "$WORK/serve.log" "$STRATA" --root "$ROOT" registry serve --addr "127.0.0.1:$port"
  for _ in $(seq 50); do
    curl -fs "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break
    sleep 0.2
  done
  SERVE=127.0.0.1:$port
}
start_strata_registry
code=$(curl -s -o "$WORK/manifest" -w '%{http_code}' \
  -H 'Accept: application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json' \
  "http://$SERVE/v2/lib/app/manifests/1")
assert_eq 200 "$code" "registry serve on the upgraded store serves lib/app:1"
cfg=$(jq -r '.config.digest' "$WORK/manifest" 2>/dev/null || true)
assert_eq "$fixture_id" "$cfg" "its config is the fixture image"
srun pull "$SERVE/lib/app:1"
assert_eq 0 "$RC" "strata pulls it back from the upgraded store's registry: $ERR"
srun fsck
assert_eq 0 "$RC" "fsck after the pull"
finish
