#!/usr/bin/env bash
# Installs every build and test dependency of strata on Debian 12 (run as root, or with sudo
# available). Idempotent: installs only what is missing and runs `apt-get update` only then.
set -euo pipefail

BUILD_PKGS=(
  g++ cmake ninja-build pkg-config git
  libssl-dev libcrypt-dev libcurl4-openssl-dev zlib1g-dev libisal-dev libzstd-dev libsqlite3-dev
  nlohmann-json3-dev libcli11-dev libgtest-dev libexpected-dev libtomlplusplus-dev clang-format
  shellcheck ccache
)
# Real peers for tests/integration and bench/: docker 20.10 (dockerd + client + containerd +
# runc), skopeo, umoci, the registry, crun, busybox for the base image, the shell tools the
# test scripts use (zsh, fish, groff and man-db check the generated completions and man page),
# and wrk (with apache2-utils' ab) for bench/registry_server.sh.
PEER_PKGS=(
  docker.io skopeo umoci docker-registry crun busybox-static
  jq python3 tar coreutils util-linux time openssl apache2-utils curl wrk zsh fish groff man-db
)

SUDO=()
if [[ $(id -u) != 0 ]]; then
  command -v sudo >/dev/null || {
    echo "install-deps: run as root (or install sudo)" >&2
    exit 1
  }
  SUDO=(sudo)
fi

missing=()
for p in "${BUILD_PKGS[@]}" "${PEER_PKGS[@]}"; do
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null) != installed ]]; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "install-deps: all ${#BUILD_PKGS[@]} build + ${#PEER_PKGS[@]} peer packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
# Keep package scripts from starting services (docker.io would start a system dockerd; the
# tests run their own). Only when no policy is in place already, and removed afterwards.
policy=/usr/sbin/policy-rc.d
if [[ ! -e $policy ]]; then
  printf '#!/bin/sh\nexit 101\n' | "${SUDO[@]}" tee "$policy" >/dev/null
  "${SUDO[@]}" chmod +x "$policy"
  trap '"${SUDO[@]}" rm -f "$policy"' EXIT
fi
"${SUDO[@]}" apt-get update -q
"${SUDO[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}" </dev/null
