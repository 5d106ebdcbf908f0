// Garbage collection for the embedded registry. Per repository, a blob link that no manifest
// of that repository references is removed (unless younger than the grace period: a push
// uploads its blobs before its manifest); with delete_untagged, so are manifests that no tag,
// no kept index and no kept subject reaches. Then the store's own gc deletes every blob file
// nothing references any more (registry, local images). Holds the store's exclusive lock, so a
// server running on the same store waits at its next commit instead of racing it.
#pragma once

#include <string>
#include <vector>

#include "store/store.h"
#include "util/result.h"

namespace strata::server {

struct RegistryGcOptions {
  int64_t grace_seconds = 3600;
  bool delete_untagged = false;
  bool dry_run = false;
};

struct RegistryGcReport {
  std::vector<std::string> lines;
  size_t unlinked_blobs = 0;
  size_t removed_manifests = 0;
  size_t deleted_blobs = 0;
};

Result<RegistryGcReport> CollectRegistryGarbage(Store& store, const RegistryGcOptions& options);

}  // namespace strata::server
