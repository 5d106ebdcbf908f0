// The store check: re-hashes every blob the metadata names (configs, layer tars, compressed
// layer blobs), checks that every image's layer chain and every reference resolve, and lists
// what nothing references. With `repair`, removes references to missing images, images whose
// config or layers are gone or corrupt, and every unreferenced file.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"
#include "util/result.h"

namespace strata {

struct FsckReport {
  std::vector<std::string> problems;  // each names the object and what is wrong
  std::vector<std::string> repairs;   // what `repair` did
  int blobs_checked = 0;
  uint64_t bytes_checked = 0;
};

Result<FsckReport> CheckStore(Store& store, bool repair);

}  // namespace strata
