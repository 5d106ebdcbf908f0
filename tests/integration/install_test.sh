#!/usr/bin/env bash
# libstrata as an installed library: `cmake --install` of the build that made the strata binary
# under test puts lib/libstrata.a, the headers under include/strata/<module>/, a CMake package
# (lib/cmake/strata) and lib/pkgconfig/strata.pc into a fresh prefix; examples/list_images is
# then built against that prefix twice, with find_package(strata) and with
# `pkg-config --cflags --libs strata`, and both builds list the images of a store holding an
# imported image exactly as `strata images -a -q --no-trunc` does.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" "$@"
need_peer cmake pkg-config g++ tar
need_strata_cmd import images

BUILD=$(dirname "$STRATA")
[[ -f $BUILD/CMakeCache.txt ]] || fatal "$BUILD (beside $STRATA) is not a CMake build directory"
PREFIX=$WORK/prefix
EXAMPLE=$REPO_ROOT/examples/list_images

# --- install ---------------------------------------------------------------------------------
if cmake --install "$BUILD" --prefix "$PREFIX" >"$WORK/install.log" 2>&1; then
  ok "cmake --install $BUILD --prefix PREFIX"
else
  fatal "cmake --install failed: $(tail -n 20 "$WORK/install.log")"
fi
for f in lib/libstrata.a include/strata/store/store.h include/strata/store/image_views.h \
  include/strata/util/result.h lib/cmake/strata/strataConfig.cmake \
  lib/cmake/strata/strataConfigVersion.cmake lib/cmake/strata/strataTargets.cmake \
  lib/pkgconfig/strata.pc; do
  [[ -f $PREFIX/$f ]] && ok "installed $f" || not_ok "installed $f: missing"
done
leaked=$(cd "$PREFIX" && find . \( -path './include/strata/cli*' -o -name '*_test*' -o -name '*.cc' \) | head)
assert_eq "" "$leaked" "no CLI headers, tests or sources installed"

# --- a store with one imported image ---------------------------------------------------------
mkdir -p "$WORK/rootfs/etc"
echo "hello from install_test" >"$WORK/rootfs/etc/motd"
tar -C "$WORK/rootfs" -cf "$WORK/tiny.tar" .
strata import "$WORK/tiny.tar" example/tiny:1 >"$WORK/import.out"
strata import "$WORK/tiny.tar" >/dev/null # same content, untagged: the same image
want_ids=$(strata images -a -q --no-trunc)
[[ -n $want_ids ]] || fatal "strata images lists nothing after an import"

# check_listing NAME BINARY: its output names the store's images as `strata images` does.
check_listing() {
  local out
  if ! out=$("$2" "$ROOT" 2>"$WORK/$1.err"); then
    not_ok "$1: list_images $ROOT failed: $(cat "$WORK/$1.err")"
    return
  fi
  assert_same_text "$want_ids" "$(cut -f1 <<<"$out")" "$1: the image IDs strata images -a -q --no-trunc lists"
  assert_match $'\texample/tiny:1\t[0-9]+$' "$out" "$1: the image's tag and size"
}

# --- the example with find_package(strata) --------------------------------------------------
gen=()
command -v ninja >/dev/null && gen=(-G Ninja)
if cmake -S "$EXAMPLE" -B "$WORK/example-cmake" "${gen[@]}" -DCMAKE_PREFIX_PATH="$PREFIX" \
  -DCMAKE_BUILD_TYPE=Release >"$WORK/example-cmake.log" 2>&1 &&
  cmake --build "$WORK/example-cmake" >>"$WORK/example-cmake.log" 2>&1; then
  ok "examples/list_images builds with find_package(strata)"
  # The build must have used the installed headers, not the source tree's.
  if grep -rq -- "$REPO_ROOT/src" "$WORK/example-cmake/CMakeFiles" "$WORK/example-cmake/build.ninja" 2>/dev/null; then
    not_ok "the find_package build points into the source tree ($REPO_ROOT/src)"
  else
    ok "the find_package build uses only the installed prefix"
  fi
  check_listing find_package "$WORK/example-cmake/list_images"
else
  not_ok "examples/list_images with find_package(strata): $(tail -n 30 "$WORK/example-cmake.log")"
fi

# --- the example with pkg-config -------------------------------------------------------------
export PKG_CONFIG_PATH=$PREFIX/lib/pkgconfig
assert_eq 0.1.0 "$(pkg-config --modversion strata 2>&1)" "pkg-config knows strata"
# shellcheck disable=SC2046 # word splitting of pkg-config's flags is wanted
if g++ -O0 -o "$WORK/list_images_pc" "$EXAMPLE/list_images.cc" $(pkg-config --cflags --libs strata) \
  >"$WORK/example-pc.log" 2>&1; then
  ok "examples/list_images builds with pkg-config --cflags --libs strata"
  check_listing pkg-config "$WORK/list_images_pc"
else
  not_ok "g++ … \$(pkg-config --cflags --libs strata): $(tail -n 30 "$WORK/example-pc.log")"
fi

finish
