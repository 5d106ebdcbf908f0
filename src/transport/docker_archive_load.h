// `load`: reads a docker-archive (the format of `docker save`, both Docker 20.10's
// <v1id>/layer.tar layout and the OCI-layout based one of Docker 25+) in a single streaming pass:
// every layer is decompressed if needed, hashed, size-counted and staged into the content store as
// it goes by; small JSON members are kept in memory. Only after manifest.json has been read and
// every diffID checked against its config are the images committed, so bad input leaves the
// store as it was.
#pragma once

#include <string>
#include <vector>

#include "archive/unpack.h"
#include "store/store.h"
#include "transport/image_transport.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

struct LoadedImage {
  Digest id;
  std::vector<std::string> tags;  // familiar form, as named in the archive
};

struct LoadReport {
  std::vector<LoadedImage> images;
  std::vector<std::string> messages;  // "The image X already exists, renaming ..." lines
  UnpackLosses unpack_losses;         // with unpack: what could not be reproduced unprivileged
};

struct LoadOptions {
  // Also unpack every new layer into the store while it is read (docker load leaves layers
  // unpacked, ready to run).
  bool unpack = false;
  // Bytes of each layer member read so far (docker load's "Loading layer" bars).
  BlobProgressFn progress;
};

Result<LoadReport> LoadDockerArchive(Store& store, Reader& archive,
                                     const LoadOptions& options = {});

}  // namespace strata
