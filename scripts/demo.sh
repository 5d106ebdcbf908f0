#!/usr/bin/env bash
# strata's main job on an embedded default: build a tiny rootfs (busybox), import it as an image,
# then list it, show its history and inspect it, save it as a docker-archive and load it back into
# a second store, which must give the same image ID.
set -euo pipefail
cd "$(dirname "$0")/.."
S=./build/strata
work=$(mktemp -d /tmp/strata-demo.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc"
cp "$(command -v busybox)" "$work/rootfs/bin/busybox"
for applet in sh ls cat echo; do ln -s busybox "$work/rootfs/bin/$applet"; done
echo "root:x:0:0:root:/root:/bin/sh" > "$work/rootfs/etc/passwd"

set -x
$S --root "$work/store" import "$work/rootfs" demo/busybox:1 -c 'CMD ["sh"]' -c 'ENV GREETING=hello'
$S --root "$work/store" images
$S --root "$work/store" history demo/busybox:1
$S --root "$work/store" inspect demo/busybox:1
$S --root "$work/store" save -o "$work/demo.tar" demo/busybox:1
$S --root "$work/store2" load -i "$work/demo.tar"
$S --root "$work/store2" images --no-trunc
$S --root "$work/store2" fsck
