// Legacy v1 layer IDs and `<v1id>/json` documents as Docker 20.10's `docker save` writes them
// (image/tarexport/save.go + image/v1/imagev1.go CreateID). Docker 25+ still writes the same json
// documents as unreferenced blobs. Pure functions; thread-safe.
//
// For layer i of N: the V1Image is the image's own (decoded) V1Image part for the top layer and a
// zero V1Image created at time.Unix(0,0) for the others. Its ID is sha256 of
//   json.Marshal(v1 image without id) decoded to a map, plus "layer_id": ChainID(layers 0..i) and,
//   for i > 0, "parent": "sha256:<v1 id of layer i-1>", re-marshalled with sorted top-level keys.
// The json file is json.Marshal(v1 image) after setting id, parent (hex) and os = the image's os
// (os is set after hashing, so it is in non-top files but not in their hash).
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "image/image_config.h"
#include "util/result.h"

namespace strata {

struct V1Layer {
  std::string id;      // 64 hex: the directory name in the archive
  std::string parent;  // the previous layer's id, empty for the bottom layer
  std::string json;    // exact bytes of <id>/json (no trailing newline)
  Digest diff_id;
  Digest chain_id;
};

struct V1Options {
  // UTC offset (seconds east) of the saving daemon's local zone at the Unix epoch: non-top
  // layers are created at time.Unix(0,0) in local time, so their IDs depend on it. 0 = TZ=UTC.
  int32_t epoch_utc_offset = 0;
};

// image/v1 CreateID: the v1 ID of `image` (its id field ignored) on the chain `layer_id`.
Digest CreateV1Id(const V1Image& image, const Digest& layer_id,
                  const std::optional<Digest>& parent);

// Every layer of the image, bottom to top. Fails like Docker on an image without layers
// ("empty export - not implemented").
Result<std::vector<V1Layer>> ComputeV1Layers(const ImageConfig& config,
                                             const V1Options& options = {});
Result<std::vector<V1Layer>> ComputeV1Layers(const V1Image& top, std::span<const Digest> diff_ids,
                                             const V1Options& options = {});

}  // namespace strata
