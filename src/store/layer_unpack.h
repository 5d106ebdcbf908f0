// Unpacking stored layers into <root>/layers/<cache-id>/, each layer into its own directory (the
// shape overlayfs lower directories take, as docker's overlay2 keeps them). A layer directory is
// built under a temporary name and renamed into place, then marked unpacked in the metadata, so a
// crash leaves either nothing or a complete directory. Independent layers unpack in parallel.
#pragma once

#include <vector>

#include "archive/unpack.h"
#include "digest/digest.h"
#include "store/store.h"
#include "util/result.h"

namespace strata {

struct UnpackReport {
  int layers_unpacked = 0;
  int64_t files = 0;
  UnpackLosses losses;  // what an unprivileged unpack could not reproduce (for a warning)
};

// Unpacks every layer of the given chains (chainIDs) that is not unpacked yet.
Result<UnpackReport> UnpackLayers(Store& store, const std::vector<Digest>& chain_ids,
                                  int parallelism = 2);

// Unpacks every layer of a stored image.
Result<UnpackReport> UnpackImage(Store& store, const Digest& image_id, int parallelism = 2);

}  // namespace strata
