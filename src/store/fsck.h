// The store check: re-hashes every blob the metadata names (configs, layer tars, compressed
// layer blobs) and checks that every image's layer chain and every reference resolve. With
// `repair`, removes references to missing images and images whose config or layers are gone or
// corrupt, then collects garbage (store/image_delete.h), which removes every file and snapshot
// nothing references and reports them in `repairs`. Without `repair`, unreferenced files are not
// listed: `strata gc` reports them as it removes them.
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
