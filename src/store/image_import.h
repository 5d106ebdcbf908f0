// `import`: a tarball (plain or compressed, from a file or stdin) or a directory becomes a
// one-layer image, as `docker import` makes it: the layer's diffID is the sha256 of the
// uncompressed tar, the config carries one history entry and the --change instructions.
#pragma once

#include <string>
#include <vector>

#include "digest/digest.h"
#include "store/store.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

struct ImportRequest {
  std::string source;                // path of a tar file or a directory, or "-" for stdin
  std::string reference;             // optional REPOSITORY[:TAG]
  std::vector<std::string> changes;  // Dockerfile instructions: CMD, ENV, ...
  std::string message;               // history comment; default "Imported from <source>"
  Reader* input = nullptr;           // for source "-": the tar stream (the caller's stdin)
};

Result<Digest> ImportImage(Store& store, const ImportRequest& request);

}  // namespace strata
