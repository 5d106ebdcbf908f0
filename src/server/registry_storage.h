// What the embedded registry stores, behind the interface a second backend (an S3-compatible
// object store) would implement. Three parts with different consistency needs
// (docs/registry-server.md):
//   blobs       immutable, content-addressed, shared by every repository; a blob is visible only
//               once all its bytes are stored and verified (read-after-write for a new key);
//   uploads     a blob being received, appended to by one request at a time; bytes acknowledged
//               to the client (202/201) survive a crash;
//   the index   per repository: which blobs it may serve, its manifests and tags. Small rows
//               that must change atomically (a manifest and its tag together), and a tag read
//               must see the latest write (strong consistency).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "digest/digest.h"
#include "util/file.h"
#include "util/result.h"

namespace strata::server {

struct ManifestInfo {
  Digest digest;
  std::string media_type;
  uint64_t size = 0;
  // OCI 1.1 referrers: the manifest this one refers to, its artifactType (or config media type)
  // and annotations (JSON object text, or empty).
  std::optional<Digest> subject;
  std::string artifact_type;
  std::string annotations;
};

// A blob to send: an open file and its size (an object store would give a URL to redirect to).
struct BlobFile {
  UniqueFd fd;
  uint64_t size = 0;
};

// A blob being received. Used by one request at a time (the API layer serialises).
class Upload {
 public:
  virtual ~Upload() = default;
  virtual const std::string& id() const = 0;
  virtual const std::string& repository() const = 0;
  virtual uint64_t size() const = 0;
  virtual Status Append(std::string_view data) = 0;
  virtual Status Sync() = 0;  // what was appended is durable
};

class RegistryStorage {
 public:
  virtual ~RegistryStorage() = default;

  // Blobs.
  virtual Result<std::optional<uint64_t>> BlobSize(const Digest& digest) = 0;
  // A blob that is not there fails with kNotFound (a 404); another failure is the server's.
  virtual Result<BlobFile> OpenBlob(const Digest& digest) = 0;

  // Uploads.
  virtual Result<std::shared_ptr<Upload>> CreateUpload(const std::string& repository) = 0;
  // nullptr when the repository has no upload with that id.
  virtual Result<std::shared_ptr<Upload>> FindUpload(const std::string& repository,
                                                     const std::string& id) = 0;
  // Checks the bytes against `digest`; only if they match is the blob stored and linked to the
  // upload's repository. The upload is gone either way. The error names both digests.
  virtual Status CommitUpload(Upload& upload, const Digest& digest) = 0;
  virtual Status CancelUpload(Upload& upload) = 0;

  // The repository index.
  virtual Result<bool> RepositoryHasBlob(const std::string& repository, const Digest& digest) = 0;
  virtual Status LinkBlob(const std::string& repository, const Digest& digest) = 0;
  virtual Result<bool> UnlinkBlob(const std::string& repository, const Digest& digest) = 0;
  // `reference`: a tag, or a digest text.
  virtual Result<std::optional<ManifestInfo>> FindManifest(const std::string& repository,
                                                           const std::string& reference) = 0;
  // Stores the manifest bytes and records them (and the tag, if any) in one step.
  virtual Status PutManifest(const std::string& repository, const ManifestInfo& info,
                             std::string_view bytes, const std::optional<std::string>& tag) = 0;
  // Removes the manifest and every tag pointing at it; false if it was not there.
  virtual Result<bool> DeleteManifest(const std::string& repository, const Digest& digest) = 0;
  virtual Result<bool> DeleteTag(const std::string& repository, const std::string& tag) = 0;
  virtual Result<std::vector<std::string>> Tags(const std::string& repository) = 0;  // sorted
  virtual Result<bool> RepositoryExists(const std::string& repository) = 0;
  // Sorted names after `after` (exclusive), at most `limit`.
  virtual Result<std::vector<std::string>> Repositories(const std::string& after, size_t limit) = 0;
  virtual Result<std::vector<ManifestInfo>> Referrers(const std::string& repository,
                                                      const Digest& subject) = 0;
};

}  // namespace strata::server
