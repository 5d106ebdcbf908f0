// Progress of the layers of a pull or push, as docker reports them: one row per layer, keyed by
// the short (12 hex) distribution digest, moving through statuses. The library only reports;
// the CLI renders rows (in place on a terminal, one line per final status otherwise). Callbacks
// come from worker threads, one layer at a time per thread: a renderer must be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace strata {

enum class LayerStatus {
  kWaiting,           // "Waiting": queued behind the concurrency limit
  kPullingFsLayer,    // "Pulling fs layer"
  kDownloading,       // "Downloading" (current/total bytes)
  kVerifying,         // "Verifying Checksum"
  kDownloadComplete,  // "Download complete"
  kExtracting,        // "Extracting"
  kPullComplete,      // "Pull complete"
  kAlreadyExists,     // "Already exists" (pull) / "Layer already exists" (push)
  kPreparing,         // "Preparing" (push)
  kPushing,           // "Pushing" (current/total bytes)
  kPushed,            // "Pushed"
  kMounted,           // "Mounted from <repository>"
};

struct LayerProgress {
  std::string id;  // 12 hex digits of the layer's distribution digest (or diffID for pushes)
  LayerStatus status = LayerStatus::kWaiting;
  uint64_t current = 0;
  uint64_t total = 0;
  std::string detail;  // the repository for kMounted
};

using LayerProgressFn = std::function<void(const LayerProgress&)>;

// Docker's words for a status ("Pull complete", "Layer already exists" for a push, ...).
std::string LayerStatusText(const LayerProgress& progress, bool push);

}  // namespace strata
