// dir:DIR — skopeo's directory transport: every blob in a file named by its sha256 hex,
// `manifest.json` (the manifest bytes, whose sha256 is the image digest) and a `version` file
// holding "Directory Transport Version: 1.1\n". A manifest list is kept as manifest.json with
// the chosen instance as <hex>.manifest.json, as containers/image writes it.
// Writing builds the whole directory under a temporary name beside DIR and swaps it in on
// commit; an existing DIR is replaced only when it is empty or an earlier dir: output.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "transport/image_transport.h"
#include "util/result.h"

namespace strata {

inline constexpr std::string_view kDirTransportVersion = "Directory Transport Version: 1.1\n";

class DirSource : public ImageSource {
 public:
  // A manifest list is resolved to `platform` (default: this host's).
  static Result<std::unique_ptr<DirSource>> Open(
      const std::string& dir, const std::optional<Platform>& platform = std::nullopt);
  Result<ManifestBlob> GetManifest() override { return manifest_; }
  Result<std::unique_ptr<Reader>> GetBlob(const Descriptor& blob) override;

 private:
  DirSource(std::string dir, ManifestBlob manifest)
      : dir_(std::move(dir)), manifest_(std::move(manifest)) {}
  std::string dir_;
  ManifestBlob manifest_;
};

class DirDestination : public ImageDestination {
 public:
  static Result<std::unique_ptr<DirDestination>> Open(const std::string& dir);
  ~DirDestination() override;  // removes the temporary directory unless committed

  Status PutBlob(const Descriptor& blob, BlobRole role, Reader& content) override;
  Status PutManifest(const ManifestBlob& manifest) override;
  Status Commit() override;

 private:
  DirDestination(std::string dir, std::string temp)
      : dir_(std::move(dir)), temp_(std::move(temp)) {}
  std::string dir_;
  std::string temp_;
  bool has_manifest_ = false;
  bool committed_ = false;
};

}  // namespace strata
