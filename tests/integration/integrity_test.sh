#!/usr/bin/env bash
# What leaves the store is what its digests name, and what an interrupted or refused operation
# leaves behind is what it says: `save` and `push` of a damaged layer (kept as its tar, or as the
# compressed blob a pull kept) fail naming the image, the layer and `strata fsck`, with no output
# file and no manifest in the registry; `fsck --repair` names each image it removes with its tags
# and how to get it back; Ctrl-C during a pull and SIGTERM during a load leave nothing unpacked,
# exit 130 / 143, and the next pull continues the partial download with a Range request;
# read-only commands work on a store the user cannot write (another owner, a read-only mount).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
source "$(dirname "${BASH_SOURCE[0]}")/registry_lib.sh"
need_peer docker-registry python3 jq curl setpriv
need_strata_cmd import save push pull fsck gc

start_registry REG
start_registry REG2
note "registries at $REG and $REG2"

# in_store DIR ARGS...: strata on another store; sets RC/OUT/ERR like srun.
in_store() {
  local dir=$1
  shift
  RC=0
  OUT=$("$STRATA" --root "$dir" "$@" 2>"$WORK/err" </dev/null) || RC=$?
  ERR=$(cat "$WORK/err")
}
image_id_in() { "$STRATA" --root "$1" inspect "$2" 2>/dev/null | jq -r '.[0].Id'; }
# flip_byte FILE OFFSET: damages one byte in place.
flip_byte() {
  "$REGISTRY_PYTHON" - "$1" "$2" <<'EOF'
import sys
path, offset = sys.argv[1], int(sys.argv[2])
with open(path, "r+b") as f:
    f.seek(offset)
    b = f.read(1)
    f.seek(offset)
    f.write(bytes([b[0] ^ 0x01]))
EOF
}
blob_path() { echo "$1/blobs/sha256/${2#sha256:}"; }
# no_manifest ADDR REPO TAG MESSAGE
no_manifest() {
  if registry_manifest_digest "$1" "$2" "$3" >/dev/null 2>&1; then not_ok "$4"; else ok "$4"; fi
}

# An image with one 16 MiB layer of random bytes (incompressible: 16 MiB on the wire too).
mkdir -p "$WORK/rootfs/data"
head -c $((16 << 20)) /dev/urandom >"$WORK/rootfs/data/random.bin"
echo "small" >"$WORK/rootfs/data/small.txt"
S0=$WORK/s0
in_store "$S0" import "$WORK/rootfs" big:1
assert_eq 0 "$RC" "import of the test image ($ERR)"
DIFF=$("$STRATA" --root "$S0" inspect big:1 | jq -r '.[0].RootFS.Layers[0]')
BIG_ID=$(image_id_in "$S0" big:1)
in_store "$S0" tag big:1 "$REG/big:1"
in_store "$S0" push "$REG/big:1"
assert_eq 0 "$RC" "push of the intact image ($ERR)"
BLOB=$(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REG/v2/big/manifests/1" | jq -r '.layers[0].digest')
BLOB_SIZE=$(curl -s -H 'Accept: application/vnd.docker.distribution.manifest.v2+json' \
  "http://$REG/v2/big/manifests/1" | jq -r '.layers[0].size')
note "layer $DIFF, pushed as $BLOB ($BLOB_SIZE bytes)"

# --- save and push of a damaged layer kept as its tar -------------------------------------------
S1=$WORK/s1
in_store "$S1" import "$WORK/rootfs" big:1
in_store "$S1" tag big:1 other:2
BIG1_ID=$(image_id_in "$S1" big:1)  # import records the time: not S0's ID
flip_byte "$(blob_path "$S1" "$DIFF")" $((8 << 20))

in_store "$S1" save -o "$WORK/saved.tar" big:1
assert_ne 0 "$RC" "save of an image with a damaged layer fails"
assert_match "image big:1 \($BIG1_ID\)" "$ERR" "the error names the image"
assert_match "layer $DIFF" "$ERR" "the error names the layer"
assert_match "strata fsck" "$ERR" "the error says to run strata fsck"
[[ ! -e $WORK/saved.tar ]] && ok "save -o: no output file" || not_ok "save -o left $WORK/saved.tar"
[[ -z $(find "$WORK" -maxdepth 1 -name 'saved.tar*') ]] && ok "save -o: no temporary file left" ||
  not_ok "save -o left $(find "$WORK" -maxdepth 1 -name 'saved.tar*')"
RC=0
"$STRATA" --root "$S1" save big:1 >"$WORK/stdout.tar" 2>"$WORK/err" || RC=$?
assert_ne 0 "$RC" "save to stdout of a damaged layer exits non-zero"
assert_match "strata fsck" "$(cat "$WORK/err")" "save to stdout: the error says to run strata fsck"
if "$REGISTRY_PYTHON" -c 'import sys, tarfile
with tarfile.open(sys.argv[1]) as t:
    for m in t:
        if m.isfile():
            t.extractfile(m).read()' "$WORK/stdout.tar" 2>/dev/null; then
  not_ok "save to stdout wrote a complete archive with the damaged layer"
else
  ok "save to stdout stopped before the damaged layer's end (the archive is incomplete)"
fi

in_store "$S1" tag big:1 "$REG2/bad/tar:1"
in_store "$S1" push "$REG2/bad/tar:1"
assert_ne 0 "$RC" "push of an image with a damaged layer fails"
assert_match "layer $DIFF|$DIFF" "$ERR" "the push error names the layer"
assert_match "strata fsck" "$ERR" "the push error says to run strata fsck"
no_manifest "$REG2" bad/tar 1 "the registry got no manifest for the damaged image"

# --- save and push of a damaged compressed blob kept by a pull ----------------------------------
S2=$WORK/s2
in_store "$S2" pull "$REG/big:1"
assert_eq 0 "$RC" "pull of the intact image ($ERR)"
flip_byte "$(blob_path "$S2" "$BLOB")" $((BLOB_SIZE / 2))
in_store "$S2" save -o "$WORK/saved2.tar" "$REG/big:1"
assert_ne 0 "$RC" "save of a pulled image whose compressed blob is damaged fails"
assert_match "layer $DIFF" "$ERR" "the error names the layer"
assert_match "$BLOB" "$ERR" "the error names the damaged blob"
assert_match "strata fsck" "$ERR" "the error says to run strata fsck"
[[ ! -e $WORK/saved2.tar ]] && ok "no output file" || not_ok "save -o left $WORK/saved2.tar"

# To another registry, so the blob cannot be mounted: it must be uploaded from the store.
in_store "$S2" tag "$REG/big:1" "$REG2/bad/blob:1"
in_store "$S2" push "$REG2/bad/blob:1"
assert_ne 0 "$RC" "push of a damaged compressed blob fails"
assert_match "$BLOB" "$ERR" "the push error names the blob"
assert_match "corrupt" "$ERR" "the push error says it is corrupt"
assert_match "strata fsck" "$ERR" "the push error says to run strata fsck"
no_manifest "$REG2" bad/blob 1 "the registry got no manifest"
rc=0
registry_has_blob "$REG2" bad/blob "$BLOB" || rc=$?
assert_eq 1 "$rc" "the registry did not commit the damaged blob"

# --- fsck --repair: names what it removes and how to get it back -----------------------------------
in_store "$S1" fsck --repair
assert_match "removed damaged image $BIG1_ID \(.*big:1.*\); to get it back: re-load it from the archive" \
  "$OUT" "fsck --repair names a loaded image and says to re-load it"
assert_match "removed damaged image $BIG1_ID \(.*other:2.*\)" "$OUT" "with each of its tags"
in_store "$S2" fsck --repair
assert_match "removed damaged image $BIG_ID \(.*$REG/big:1.*\); to get it back: strata pull $REG/big:1" \
  "$OUT" "fsck --repair names a pulled image and the pull that brings it back"
in_store "$S2" pull "$REG/big:1"
assert_eq 0 "$RC" "the suggested pull brings it back ($ERR)"

# --- Ctrl-C during a pull, then a resumed pull -------------------------------------------------------
RULES=$WORK/faults.json
start_fault_proxy PROXY "$REG" "$RULES"
# The first 4 MiB arrive, the connection drops, and the resumed request hangs: Ctrl-C then.
set_faults "$RULES" "[{\"path\": \"/blobs/$BLOB\", \"method\": \"GET\", \"drop_after\": 4194304, \"times\": 1},
  {\"path\": \"/blobs/$BLOB\", \"method\": \"GET\", \"delay_ms\": 20000, \"times\": 1}]"
S3=$WORK/s3
"$STRATA" --root "$S3" --debug pull "$PROXY/big:1" >"$WORK/pull1.out" 2>"$WORK/pull1.err" </dev/null &
PULL_PID=$!
for ((i = 0; i < 100; i++)); do
  (($(grep -c "/blobs/$BLOB" "$RULES.log") >= 1)) && break
  sleep 0.1
done
sleep 1.5
[[ -n $(find "$S3/snapshots" -maxdepth 1 -name "*.staging" 2>/dev/null) ]] &&
  note "unpacking while interrupted: $(find "$S3/snapshots" -maxdepth 1 -name "*.staging")"
T0=$SECONDS
kill -INT "$PULL_PID"
RC=0
wait "$PULL_PID" || RC=$?
assert_eq 130 "$RC" "Ctrl-C during a pull exits 130 ($(tail -n 3 "$WORK/pull1.err"))"
((SECONDS - T0 <= 3)) && ok "the pull stopped promptly" || not_ok "the pull took $((SECONDS - T0)) s to stop"
[[ -z $(find "$S3/snapshots" -mindepth 1 -maxdepth 1 2>/dev/null) ]] &&
  ok "no snapshots/*.staging left" || not_ok "left: $(find "$S3/snapshots" -mindepth 1 -maxdepth 1)"
[[ -z $("$STRATA" --root "$S3" images -q) ]] && ok "no image after the cancelled pull" ||
  not_ok "an image is visible after the cancelled pull"
PARTIAL=$(find "$S3/ingest" -name 'partial-*' 2>/dev/null)
assert_eq "$S3/ingest/partial-sha256-${BLOB#sha256:}" "$PARTIAL" "the partial download is kept"
assert_eq 4194304 "$(stat -c %s "$PARTIAL" 2>/dev/null)" "with the 4 MiB that arrived"
[[ $(find "$S3/ingest" -type f | wc -l) -eq 1 ]] && ok "nothing else in ingest/" ||
  not_ok "ingest/ holds $(ls "$S3/ingest")"

clear_faults "$RULES"
LINES=$(wc -l <"$RULES.log")
in_store "$S3" --debug pull "$PROXY/big:1"
assert_eq 0 "$RC" "the repeated pull succeeds ($ERR)"
assert_match "bytes=4194304- " "$(tail -n +"$((LINES + 1))" "$RULES.log" | grep "/blobs/$BLOB")" \
  "the repeated pull asks only for the rest (Range: bytes=4194304-)"
assert_match "resuming at byte 4194304 of $BLOB_SIZE" "$ERR" "--debug says it resumes"
assert_eq "$BIG_ID" "$(image_id_in "$S3" "$PROXY/big:1")" "the resumed image has the right ID"
[[ -z $(find "$S3/ingest" -type f) ]] && ok "the partial download is gone once used" ||
  not_ok "ingest/ still holds $(ls "$S3/ingest")"
in_store "$S3" fsck
assert_eq 0 "$RC" "fsck of the resumed pull is clean ($OUT)"

in_store "$S3" gc --help
assert_match "24 hours" "$OUT" "gc --help says how long partial downloads are kept"

# --- SIGTERM during a load ---------------------------------------------------------------------------
in_store "$S0" save -o "$WORK/big.tar" big:1
assert_eq 0 "$RC" "save of the intact image ($ERR)"
mkfifo "$WORK/load.fifo"
# The first 10 MiB of the archive, then nothing: the load waits on the pipe.
"$REGISTRY_PYTHON" -c 'import sys, time
out = open(sys.argv[2], "wb")
out.write(open(sys.argv[1], "rb").read(10 << 20))
out.flush()
time.sleep(60)' "$WORK/big.tar" "$WORK/load.fifo" </dev/null >/dev/null 2>&1 &
WRITER=$!
at_exit "kill $WRITER 2>/dev/null || true"
S4=$WORK/s4
"$STRATA" --root "$S4" load --unpack -i "$WORK/load.fifo" >"$WORK/load.out" 2>"$WORK/load.err" &
LOAD_PID=$!
for ((i = 0; i < 100; i++)); do
  [[ -n $(find "$S4/ingest" -type f 2>/dev/null) ]] && break
  sleep 0.1
done
sleep 0.5
T0=$SECONDS
kill -TERM "$LOAD_PID"
RC=0
wait "$LOAD_PID" || RC=$?
kill "$WRITER" 2>/dev/null || true
assert_eq 143 "$RC" "SIGTERM during a load exits 143 ($(cat "$WORK/load.err"))"
((SECONDS - T0 <= 3)) && ok "the load stopped promptly" || not_ok "the load took $((SECONDS - T0)) s to stop"
[[ -z $(find "$S4/ingest" "$S4/snapshots" -mindepth 1 2>/dev/null) ]] &&
  ok "a cancelled load leaves nothing in ingest/ and snapshots/" ||
  not_ok "left: $(find "$S4/ingest" "$S4/snapshots" -mindepth 1)"

# --- read-only stores ---------------------------------------------------------------------------------
# A store that uid 65534 can read but not write.
RO=$(mktemp -d /tmp/strata-ro.XXXXXX)
at_exit "rm -rf '$RO'"
chmod 755 "$RO"
cp -a "$S0" "$RO/store"
chmod -R go+rX "$RO/store"
mkdir -m 777 "$RO/out"
before=$(cd "$RO/store" && find . -printf '%p %s %m\n' | sort)
cp "$STRATA" "$RO/strata"
chmod 755 "$RO/strata"
nobody() {
  RC=0
  OUT=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$RO/strata" --root "$RO/store" "$@" \
    2>"$RO/out/err" </dev/null) || RC=$?
  ERR=$(cat "$RO/out/err")
}
nobody images
assert_eq 0 "$RC" "images on a store the user cannot write ($ERR)"
assert_match "^big +1 " "$OUT" "and lists the image"
nobody inspect big:1
assert_eq 0 "$RC" "inspect on a read-only store ($ERR)"
nobody history big:1
assert_eq 0 "$RC" "history on a read-only store ($ERR)"
nobody save -o "$RO/out/ro.tar" big:1
assert_eq 0 "$RC" "save on a read-only store ($ERR)"
nobody fsck
assert_eq 0 "$RC" "fsck (without --repair) on a read-only store ($ERR)"
nobody tag big:1 big:2
assert_ne 0 "$RC" "a command that writes fails on it"
assert_match "not writable by uid 65534" "$ERR" "and says the store is not writable by this user"
assert_same_text "$before" "$(cd "$RO/store" && find . -printf '%p %s %m\n' | sort)" \
  "the read-only commands changed nothing in the store"

# The same store through a read-only bind mount, as root.
mkdir "$RO/mnt"
if mount --bind "$RO/store" "$RO/mnt" 2>/dev/null; then
  at_exit "umount '$RO/mnt' 2>/dev/null || true"
  if mount -o remount,bind,ro "$RO/mnt" 2>/dev/null; then
    in_store "$RO/mnt" images
    assert_eq 0 "$RC" "images on a read-only mount ($ERR)"
    assert_match "^big +1 " "$OUT" "and lists the image"
    in_store "$RO/mnt" save -o "$RO/out/mnt.tar" big:1
    assert_eq 0 "$RC" "save on a read-only mount ($ERR)"
    in_store "$RO/mnt" tag big:1 big:3
    assert_ne 0 "$RC" "tag on a read-only mount fails"
    assert_match "read-only filesystem" "$ERR" "and says the filesystem is read-only"
  else
    note "no read-only remount here: that part is skipped"
  fi
  umount "$RO/mnt"
else
  note "mount --bind is not permitted here: that part is skipped"
fi

# A store on a full filesystem: reading works, writing says what is wrong and what to do.
mkdir "$RO/full"
if mount -t tmpfs -o size=4m tmpfs "$RO/full" 2>/dev/null; then
  at_exit "umount '$RO/full' 2>/dev/null || true"
  mkdir -p "$WORK/small/d"
  echo small >"$WORK/small/d/f"
  in_store "$RO/full/store" import "$WORK/small" small:1
  assert_eq 0 "$RC" "import into the small filesystem ($ERR)"
  head -c $((8 << 20)) /dev/zero >"$RO/full/filler" 2>/dev/null || true
  in_store "$RO/full/store" images
  assert_eq 0 "$RC" "images on a full filesystem ($ERR)"
  assert_match "^small +1 " "$OUT" "and lists the image"
  in_store "$RO/full/store" import "$WORK/rootfs" big:9
  assert_ne 0 "$RC" "an import into a full filesystem fails"
  assert_match "no space left" "$ERR" "and says there is no space left"
  assert_match "free space" "$ERR" "and what to do"
  umount "$RO/full"
else
  note "tmpfs mounts are not permitted here: the full-disk part is skipped"
fi

finish
