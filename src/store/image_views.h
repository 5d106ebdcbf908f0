// Read-only views of stored images for `history`, `images` and `inspect`, computed exactly as
// Docker 20.10 computes them (daemon/images/image_history.go, images.go, image inspect).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "store/store.h"
#include "util/result.h"

namespace strata {

struct HistoryRow {
  std::optional<Digest> id;  // none: "<missing>" (no local image at that depth of the Parent chain)
  std::string created;       // RFC3339Nano from the config history entry
  std::string created_by;
  std::string comment;
  int64_t size = 0;               // the layer's DiffSize, 0 for empty_layer entries
  std::vector<std::string> tags;  // familiar tag references of the image at that row
};

// Rows newest first, like `docker history`.
Result<std::vector<HistoryRow>> ImageHistory(Store& store, const Digest& id);

struct ImageSummary {
  Digest id;
  std::optional<Digest> parent;
  std::vector<std::string> repo_tags;     // familiar "name:tag"
  std::vector<std::string> repo_digests;  // familiar "name@sha256:..."
  std::string created;                    // config "created"
  int64_t size = 0;                       // sum of the chain's DiffSizes
  bool has_children = false;
  nlohmann::ordered_json labels;  // config.Labels: an object, or null when the image has none
};

// All images, newest first.
Result<std::vector<ImageSummary>> ListImages(Store& store);

// `docker image inspect` JSON object for one image.
Result<nlohmann::ordered_json> InspectImage(Store& store, const Digest& id);

// Sum of DiffSizes of the chain ending at `top` (0 when none).
Result<int64_t> ChainSize(Metadata& metadata, const std::optional<Digest>& top);

}  // namespace strata
