// An image's layers as snapshots (snapshot/snapshotter.h): the stack a container's root
// filesystem is mounted from. The images domain names each unpacked layer's snapshot by its
// cache-id; this file turns an image into that chain.
#pragma once

#include <string>
#include <vector>

#include "digest/digest.h"
#include "snapshot/snapshotter.h"
#include "store/store.h"
#include "util/result.h"

namespace strata {

// The snapshot ids (cache-ids) of the image's layers, nearest (top) first, as the snapshotter
// takes parents. A layer that is not unpacked is a NotFound error naming it (UnpackImage first).
Result<std::vector<std::string>> ImageSnapshotChain(Store& store, const Digest& image_id);

// A read-only view of the image's root filesystem: the mounts of its layer stack.
Result<std::vector<Mount>> ImageView(Store& store, const Digest& image_id);

}  // namespace strata
