#!/usr/bin/env bash
# Fails (exit 1, listing them) if any tracked C++ source differs from what clang-format makes of
# it with the repo's .clang-format: src/**/*.{h,cc}, examples/**/*.{h,cc}, tests/**/*.cc.
# The reference is Debian 12's clang-format 14 (scripts/install-deps.sh); other versions format
# some constructs differently, so they are used with a warning. CLANG_FORMAT overrides the binary.
# To fix: clang-format -i FILE…
set -euo pipefail
cd "$(dirname "$0")/.."

cf=${CLANG_FORMAT:-}
if [[ -z $cf ]]; then
  for c in clang-format-14 clang-format; do
    if command -v "$c" >/dev/null; then
      cf=$c
      break
    fi
  done
fi
if [[ -z $cf ]]; then
  echo "check-format: clang-format not found (scripts/install-deps.sh installs it)" >&2
  exit 2
fi
version=$("$cf" --version)
if [[ $version != *" version 14."* ]]; then
  echo "check-format: warning: $version is not clang-format 14; results may differ from CI" >&2
fi

bad=()
count=0
while IFS= read -r -d '' f; do
  count=$((count + 1))
  if ! "$cf" --style=file "$f" | cmp -s - "$f"; then
    bad+=("$f")
  fi
done < <(git ls-files -z -- ':(glob)src/**/*.h' ':(glob)src/**/*.cc' \
  ':(glob)examples/**/*.h' ':(glob)examples/**/*.cc' ':(glob)tests/**/*.cc')

if ((${#bad[@]} > 0)); then
  echo "check-format: ${#bad[@]} of $count files differ from $cf (fix: $cf -i FILE…):" >&2
  printf '  %s\n' "${bad[@]}" >&2
  exit 1
fi
echo "check-format: $count files formatted"
