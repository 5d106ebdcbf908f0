// Adding images to the store: commits staged layer blobs and config blobs, then records layers
// (by chainID), images, parent links and tags in one metadata transaction. A failure before the
// transaction commits leaves only unreferenced blobs, which gc removes; the store's view
// (images, tags) never shows half an image.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "layer/layer_stage.h"
#include "reference/reference.h"
#include "store/store.h"
#include "util/result.h"

namespace strata {

struct NewImage {
  std::string config_bytes;      // exact bytes; the image ID is their sha256
  std::vector<Digest> diff_ids;  // from the config, bottom to top
  // For each diff_id: the staged layer carrying it, or null when the store already has the chain.
  std::vector<StagedLayer*> layers;
  std::optional<Digest> parent;
  std::vector<Reference> tags;  // tagged references to point at this image (moved if needed)
};

struct CommitEvent {
  enum Kind { kTagMoved } kind;
  std::string tag;  // familiar form
  Digest old_image;
};

// Returns the tags that moved away from another image, for "renaming the old one" messages.
Result<std::vector<CommitEvent>> CommitImages(Store& store, std::vector<NewImage>& images);

// Records one tag (or digest) reference. Used by tag, load, import.
Status PutReference(Metadata& metadata, const Reference& ref, const Digest& image_id);

// Current time as Go's RFC3339Nano in UTC (for lastUpdated-style stamps).
std::string NowRfc3339Nano();

}  // namespace strata
