// Pulling one image from a registry into the store, as `docker pull` does: resolve the reference
// to a manifest (choosing the platform from an index), fetch the config, then every layer the
// store does not have, in parallel, each in one streaming pass (download, sha256 of the blob,
// decompress, sha256 of the tar, store, and unpack when asked) checked against the blob's
// distribution digest and the config's diffID. Nothing becomes visible unless every check
// passes: then the image, its tag and digest references, and where its blobs came from are
// committed together. Not thread-safe per store (one pull at a time per Store object).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "archive/unpack.h"
#include "oci/manifest.h"
#include "reference/reference.h"
#include "registry/registry_client.h"
#include "registry/transfer_progress.h"
#include "store/image_commit.h"
#include "store/store.h"

namespace strata {

struct PullOptions {
  std::optional<Platform> platform;  // default: the host's
  int max_concurrent_downloads = 3;  // docker's default
  bool unpack = true;                // leave every layer unpacked, ready to run
  LayerProgressFn progress;
};

// Where to fetch from: the endpoint's client and the repository path on that endpoint (which
// differs from the name's path when a mirror or a location rewrite applies).
struct PullSource {
  RegistryClient* client = nullptr;
  std::string repository;
};

struct PullResult {
  Digest digest;  // of the manifest (or index) the reference named: "Digest: ..."
  Digest image_id;
  bool up_to_date = false;  // the image was there and the reference already pointed at it
  std::vector<CommitEvent> events;
  UnpackLosses unpack_losses;  // with unpack: what could not be reproduced unprivileged
};

// Pulls `name` (a tagged or digested, fully qualified reference). The local references set are
// `name` itself and, for a tag, name@digest (docker's RepoDigests).
Result<PullResult> PullImage(Store& store, const PullSource& source, const Reference& name,
                             const PullOptions& options);

}  // namespace strata
