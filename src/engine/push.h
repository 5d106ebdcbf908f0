// Push: docker push of one tag or, with --all-tags, of every local tag of a repository, to the
// registry the name policy names (never a mirror). Images are looked up locally before any
// registry is asked, so that a missing local image is a not-found error of its own and a
// registry's 404 during the push is reported as itself. Not thread-safe (one Engine, one
// operation).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "archive/compression.h"
#include "engine/engine.h"
#include "registry/image_push.h"

namespace strata {

struct PushRequest {
  std::string name;       // as the user wrote it; ":latest" when it names no tag
  bool all_tags = false;  // every local tag of the repository (the name's tag is ignored)
  // Compression of layers that have no compressed form yet. Anything but gzip (docker's) is
  // "forced": a recorded manifest with another compression is not reused.
  Compression compression = Compression::kGzip;
  int compression_level = -1;  // gzip -1..9 (-1: zlib's default), zstd 1..19
  int max_concurrent_uploads = 5;
  uint64_t chunk_size = 0;  // 0: one request per stored blob
};

struct PushEvents {
  // The references to push are known and exist locally up to the first one (docker's "The push
  // refers to repository [NAME]" goes here). `repository` is the fully qualified name.
  std::function<void(const Reference& repository)> started;
  // Before one reference is uploaded: returns its layer progress callback (may be empty).
  std::function<LayerProgressFn(const Reference& ref)> pushing;
  // One reference is pushed.
  std::function<void(const Reference& ref, const PushResult& result)> pushed;
};

struct PushedImage {
  Reference ref;
  PushResult result;
};

// Errors: kInvalidArgument for a digest reference; kNotFound ("An image does not exist locally
// with the tag: NAME") when a tag to push, or with --all-tags any tag of the repository, is not
// in the store; otherwise the registry's error, with its kind.
Result<std::vector<PushedImage>> Push(Engine& engine, const PushRequest& request,
                                      const PushEvents& events = {});

}  // namespace strata
