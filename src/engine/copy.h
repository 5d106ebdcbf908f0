// Copy: skopeo copy between docker://, docker-archive:, oci:, oci-archive:, dir: and the store
// (transport/image_copy.h has the names and what each transport keeps). The store is opened only
// when one side is the store, the registries only when one side is docker://. Not thread-safe
// (one Engine, one operation).
#pragma once

#include <optional>
#include <string>

#include "engine/engine.h"
#include "transport/image_copy.h"

namespace strata {

// skopeo's per-side registry options (--src-tls-verify, --src-creds, and --dest-*), used only
// for a docker:// image on that side; unset keeps the policy's and the credential store's.
struct CopySide {
  std::optional<bool> tls_verify;  // false: no certificate checks, and plain http allowed
  std::optional<Credentials> credentials;
};

struct CopyRequest {
  std::string source;                // TRANSPORT:DETAILS, or a store name
  std::string destination;           // the same
  bool all = false;                  // an index and every image in it
  std::optional<Platform> platform;  // the image of an index to copy; default: the host's
  CopySide source_side;
  CopySide destination_side;
};

struct CopyEvents {
  // skopeo's lines: "Getting image source signatures", "Copying blob ...", "Writing manifest
  // to image destination", ...
  ProgressFn line;
  // Bytes of each blob copied so far, for progress bars.
  BlobProgressFn blob_progress;
};

// Errors: kInvalidArgument for a name no transport reads and for credentials without a user
// name; otherwise the failing side's error, with its kind. The result's messages are tags moved
// away from other images in the store.
Result<CopyResult> Copy(Engine& engine, const CopyRequest& request, const CopyEvents& events = {});

}  // namespace strata
