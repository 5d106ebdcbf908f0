// `strata copy SRC DST`, skopeo copy's model: an image name is TRANSPORT:DETAILS with
//   docker-archive:PATH[:REF]   a docker save tar (REF picks one image of several; on writing
//                               it is the RepoTag)
//   oci:DIR[:TAG]               an OCI layout directory; TAG is the ref.name annotation
//   oci-archive:PATH[:TAG]      a tar of an OCI layout
//   dir:DIR                     skopeo's directory transport
//   docker://NAME               an image in a registry (NAME resolved by the registry policy)
//   strata:NAME, or a bare NAME the local store (NAME a tag, digest reference or image ID)
// Between two transports other than the store and docker-archive, the manifest and every blob
// are copied as they are (each verified on the way), so the manifest digest stays the same.
// docker-archive has no manifest: it is read by loading it into a scratch store and written by
// a docker save of one image.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/store.h"
#include "transport/image_transport.h"
#include "util/result.h"

namespace strata {

enum class Transport { kStore, kDockerArchive, kOci, kOciArchive, kDir, kDocker };

// Opens docker:// images; the registry module provides it (name policy, credentials,
// endpoints), so this module knows nothing of HTTP.
class RegistryOpener {
 public:
  virtual ~RegistryOpener() = default;
  // `platform` picks the image of an index (default: this host's; see SelectIndexEntry).
  virtual Result<std::unique_ptr<ImageSource>> OpenSource(
      const std::string& name, const std::optional<Platform>& platform) = 0;
  // `name` must carry a tag or digest (docker:// destinations default to :latest).
  virtual Result<std::unique_ptr<ImageDestination>> OpenDestination(const std::string& name) = 0;
};

struct ImageName {
  Transport transport = Transport::kStore;
  std::string path;  // file or directory; empty for the store
  std::string ref;   // TAG / REF / NAME; may be empty
};

// Splits TRANSPORT:PATH[:REF] at the first ':' after the transport, as containers/image does
// (dir: takes the whole rest as its path; docker:// the whole rest as its reference). Anything
// without a known transport prefix names the store. Other skopeo transports
// (containers-storage:, docker-daemon:, ...) are refused by name.
Result<ImageName> ParseImageName(std::string_view text);

struct CopyOptions {
  // Which image of an index (a multi-platform image) to copy, for every transport; default:
  // this host's platform. A platform the index lacks is refused, naming the ones it has.
  std::optional<Platform> platform;
  // Copy an index and every image it names (skopeo copy --all) when the source names one; the
  // destination must hold indexes (oci:, oci-archive:, docker://).
  bool all = false;
  // Bytes of each layer copied so far, for progress bars.
  BlobProgressFn blob_progress;
};

struct CopyResult {
  std::optional<Digest> image_id;     // when the destination is the store
  std::vector<std::string> messages;  // tags moved away from other images
};

// Copies one image (or, with options.all, an index and its images). `store` may be null unless
// one of the names is the store; `registries` may be null unless one is docker://.
Result<CopyResult> CopyImage(Store* store, const ImageName& from, const ImageName& to,
                             const ProgressFn& progress = nullptr,
                             RegistryOpener* registries = nullptr, const CopyOptions& options = {});

}  // namespace strata
