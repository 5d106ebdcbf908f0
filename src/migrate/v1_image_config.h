// The image config Docker 1.10's migration made from a legacy (pre-1.10) v1 image JSON, byte for
// byte, so that a migrated image gets the image ID Docker gave it (migrate/v1 + image/v1
// MakeConfigFromV1Config): the v1 JSON as a key map without id, parent, Size, parent_id,
// layer_id and throwaway, plus rootfs (the parent's diffIDs and this layer's) and history (the
// parent's entries and one for this image), re-marshalled with sorted top-level keys. JSON written
// by Docker older than 1.8.3 is first normalised through Docker 1.10's V1Image struct, which
// drops unknown fields. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "digest/digest.h"
#include "util/result.h"

namespace strata {

// `parent_config` is the migrated config of the parent image ("" for a base image); its rootfs
// and history are continued.
Result<std::string> ConfigFromV1Image(std::string_view v1_json, std::string_view parent_config,
                                      const Digest& diff_id);

// Docker's versions.LessThan on dotted numeric versions ("" is less than anything).
bool DockerVersionLess(std::string_view a, std::string_view b);

}  // namespace strata
