// Pushing one stored image to a registry repository, as `docker push` does: each layer is
// uploaded unless the repository has it already (known from where the store saw its blobs, then
// checked with a HEAD), mounted from a sibling repository of the same registry when one holds
// it, else compressed on the fly while it is uploaded (hashed in the same pass, so the layer is
// read once). Then the config and the manifest. An image whose recorded manifest is still fully
// available (pulled, loaded from OCI) is pushed with that manifest byte for byte, so its digest
// does not change. The store remembers each layer's compressed digest and where it now is, so
// a second push is a few HEAD requests. Not thread-safe per store.
#pragma once

#include <optional>
#include <string>

#include "archive/compression.h"
#include "digest/digest.h"
#include "registry/registry_client.h"
#include "registry/transfer_progress.h"
#include "store/store.h"

namespace strata {

struct PushOptions {
  // Compression of layers that have no compressed form yet; when set explicitly (not the
  // default), a recorded manifest with another compression is not reused.
  Compression compression = Compression::kGzip;
  bool compression_forced = false;
  int compression_level = -1;      // gzip -1..9, zstd 0..19
  int max_concurrent_uploads = 5;  // docker's default
  uint64_t chunk_size = 0;         // 0: monolithic uploads of known blobs
  LayerProgressFn progress;
};

struct PushTarget {
  RegistryClient* client = nullptr;
  std::string registry;    // the name's domain ("127.0.0.1:5000"), for the store's records
  std::string repository;  // path on the registry ("team/app")
};

struct PushResult {
  Digest digest;  // of the manifest pushed
  int64_t size = 0;
};

// Pushes the image and points `tag` (or, when empty, only the digest) at it.
Result<PushResult> PushImage(Store& store, const PushTarget& target, const Digest& image_id,
                             const std::string& tag, const PushOptions& options);

}  // namespace strata
