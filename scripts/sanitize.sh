#!/usr/bin/env bash
# Builds the unit tests with AddressSanitizer, LeakSanitizer and UndefinedBehaviorSanitizer
# (cmake -DSTRATA_SANITIZE=ON) in build-asan/ and runs them; any finding fails the run.
# Lean on purpose (CI runs it after the main build): only strata_unit_tests and the library,
# -O1 and -g1 (enough for symbolised stack traces), asserts on. Warnings are the main build's
# job (-Werror there), not this one's. Extra arguments go to the test binary, e.g.
#   scripts/sanitize.sh --gtest_filter='BytePipe*'
# JOBS overrides the build parallelism (default: nproc); ccache is used when installed
# (CMakeLists.txt sets it up, with the sloppiness that precompiled headers need; -U drops the
# plain ccache launcher that earlier versions of this script left in build-asan's cache).
set -euo pipefail
cd "$(dirname "$0")/.."

cmake -S . -B build-asan -G Ninja -DSTRATA_SANITIZE=ON -DSTRATA_WERROR=OFF \
  -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG="-O1 -g1" -UCMAKE_CXX_COMPILER_LAUNCHER >/dev/null
cmake --build build-asan -j "${JOBS:-$(nproc)}" --target strata_unit_tests

# halt_on_error: the first report ends the run (non-zero), so a finding cannot scroll by in a
# passing job (UBSan is compiled not to recover either). detect_leaks: LeakSanitizer checks at
# exit; it must be able to ptrace the process's own threads, which root on a CI VM can.
# detect_stack_use_after_return costs little here (the run takes under a minute).
export ASAN_OPTIONS=halt_on_error=1:detect_leaks=1:abort_on_error=0:strict_string_checks=1:check_initialization_order=1:strict_init_order=1:detect_stack_use_after_return=1${ASAN_OPTIONS:+:$ASAN_OPTIONS}
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
build-asan/strata_unit_tests --gtest_brief=1 "$@"
