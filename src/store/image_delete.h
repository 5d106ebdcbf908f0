// Removing images like `docker rmi` and `docker image prune`, and collecting what nothing
// references any more (layers, blobs, unpacked layer directories, stale temporary files).
// Runs under the store's exclusive lock so no concurrent load loses blobs it just wrote.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "store/prune_filter.h"
#include "store/store.h"
#include "util/result.h"

namespace strata {

// One removal, as docker's API reports it (an ImageDeleteResponseItem): a reference untagged, or
// an image ID or released layer's chainID deleted.
struct ImageRemoval {
  enum class Kind { kUntagged, kDeleted };
  Kind kind;
  std::string name;  // familiar reference ("busybox:latest"), or "sha256:<hex>"
};

// Output lines in docker's words: "Untagged: busybox:latest", "Deleted: sha256:<id>" (images
// and, after them, the chainIDs of released layers).
struct DeleteReport {
  std::vector<std::string> lines;
  std::vector<ImageRemoval> removals;  // the same as `lines`, one each, for callers that decide
  void Untagged(std::string ref) {
    lines.push_back("Untagged: " + ref);
    removals.push_back({ImageRemoval::Kind::kUntagged, std::move(ref)});
  }
  void Deleted(std::string id) {
    lines.push_back("Deleted: " + id);
    removals.push_back({ImageRemoval::Kind::kDeleted, std::move(id)});
  }
  int64_t reclaimed_bytes = 0;  // bytes of the blobs deleted from the content store
  // Sum of the DiffSize of the layers deleted: what docker's prune reports as reclaimed space.
  int64_t removed_layers_size = 0;
};

// `rmi NAME|ID`, as docker 20.10's ImageDelete: a reference only untags (a tag also takes the
// digest references of its repository when it was the repository's last tag) unless no
// reference is left, and an image with children then stays; an ID deletes the image (refusing
// one with child images always, and unless forced one with more references than one tag and
// digests of its repository); untagged, childless parents are pruned with it unless
// `prune_parents` is false (`rmi --no-prune`).
Result<DeleteReport> RemoveImage(Store& store, const std::string& name, bool force,
                                 bool prune_parents = true);

// `image prune`: dangling images (no tags, no children), or with `all` every image that is
// tagged or has no children, among those `filter` selects; as docker, each goes with its
// references, an image with children only loses its tags, and untagged childless parents of a
// deleted image go too.
Result<DeleteReport> PruneImages(Store& store, bool all, const PruneFilter& filter = {});

// How long gc leaves files in ingest/: temporary files of blobs being written (those of a crashed
// or killed process), and the partial downloads a broken or cancelled pull keeps so that the
// next pull of the same blob continues where it stopped.
constexpr int64_t kIngestKeepSeconds = 3600;
constexpr int64_t kPartialKeepSeconds = 24 * 3600;

// Removes layers no image uses, blobs nothing names, unpacked directories of removed layers and
// ingest leftovers (see above). Caller must hold the exclusive lock. reclaimed_bytes counts
// every file removed.
Result<DeleteReport> CollectGarbage(Store& store);

}  // namespace strata
