#include "registry/transfer_progress.h"

namespace strata {

std::string LayerStatusText(const LayerProgress& p, bool push) {
  switch (p.status) {
    case LayerStatus::kWaiting:
      return "Waiting";
    case LayerStatus::kPullingFsLayer:
      return "Pulling fs layer";
    case LayerStatus::kDownloading:
      return "Downloading";
    case LayerStatus::kVerifying:
      return "Verifying Checksum";
    case LayerStatus::kDownloadComplete:
      return "Download complete";
    case LayerStatus::kExtracting:
      return "Extracting";
    case LayerStatus::kPullComplete:
      return "Pull complete";
    case LayerStatus::kAlreadyExists:
      return push ? "Layer already exists" : "Already exists";
    case LayerStatus::kPreparing:
      return "Preparing";
    case LayerStatus::kPushing:
      return "Pushing";
    case LayerStatus::kPushed:
      return "Pushed";
    case LayerStatus::kMounted:
      return "Mounted from " + p.detail;
  }
  return "";
}

}  // namespace strata
