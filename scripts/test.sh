#!/usr/bin/env bash
# Runs every test: the unit tests and the real-peer integration tests (tests/integration/),
# from an existing build in ./build (see README). Extra arguments go to ctest, e.g.
#   scripts/test.sh -L integration        scripts/test.sh -R docker_load
# The integration tests share one dockerd (scripts/peers.sh); it is stopped when this ends.
set -euo pipefail
cd "$(dirname "$0")/.."
trap 'bash scripts/peers.sh stop || true' EXIT
ctest --test-dir build --output-on-failure "$@"
