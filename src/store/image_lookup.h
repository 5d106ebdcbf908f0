// Finding images the way docker does: a tag or digest reference first, then a full image ID
// ("sha256:<hex>" or 64 hex), then a unique ID prefix.
#pragma once

#include <string_view>

#include "digest/digest.h"
#include "image/image_config.h"
#include "store/store.h"
#include "util/result.h"

namespace strata {

Result<Digest> ResolveImage(Store& store, std::string_view text);

// Reads and verifies the config blob of a stored image.
Result<ImageConfig> LoadImageConfig(Store& store, const Digest& id);

}  // namespace strata
