// Unpacking stored layers into snapshots (snapshot/snapshotter.h), each layer into its own
// directory in the form overlayfs lower directories take (whiteouts as 0/0 devices, opaque
// directories by xattr, as docker's overlay2 keeps them). A layer is unpacked into a staging
// directory that the snapshotter moves into place as the snapshot named by its cache-id, then
// marked unpacked in the metadata, so a crash leaves either nothing the images domain names or a
// complete snapshot. Independent layers unpack in parallel.
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
