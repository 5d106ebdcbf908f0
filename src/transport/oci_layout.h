// oci:DIR[:TAG] — an OCI image layout directory (OCI image-spec, image-layout.md): the file
// `oci-layout` ({"imageLayoutVersion": "1.0.0"}), `index.json` (an OCI index whose entries name
// images by the org.opencontainers.image.ref.name annotation) and blobs/<alg>/<hex>.
// Reading verifies every document against the descriptor that points at it; writing adds one
// image to a new or existing layout, blobs first (each renamed into place whole) and index.json
// last, so a reader never sees an index entry whose blobs are missing.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/manifest.h"
#include "transport/image_transport.h"
#include "util/result.h"

namespace strata {

inline constexpr std::string_view kOciLayoutFileContent = R"({"imageLayoutVersion": "1.0.0"})";

std::string OciBlobPath(const std::string& dir, const Digest& digest);

// Reads DIR/oci-layout (must declare an imageLayoutVersion 1.x) and the entries of
// DIR/index.json.
Result<std::vector<IndexEntry>> ReadOciIndex(const std::string& dir);

// The entry whose ref.name annotation is `tag`; with an empty tag, the only entry. Errors list
// the tags the layout has.
Result<IndexEntry> FindOciIndexEntry(const std::vector<IndexEntry>& entries, const std::string& tag,
                                     const std::string& dir);

// index.json after adding `manifest` with `annotations` to `existing` (empty: a new index).
// With `replace`, an entry with the same ref.name annotation is replaced (without a ref.name,
// an unnamed entry for the same digest is). Other members and entries are kept as they were.
Result<std::string> AddToOciIndex(std::string_view existing, const Descriptor& manifest,
                                  const std::map<std::string, std::string>& annotations,
                                  bool replace = true);

class OciLayoutSource : public ImageSource {
 public:
  // The image tagged `tag` (or the only image); an index is resolved to `platform` (default:
  // this host's), failing with the platforms it has when it has no image for it.
  static Result<std::unique_ptr<OciLayoutSource>> Open(
      const std::string& dir, const std::string& tag,
      const std::optional<Platform>& platform = std::nullopt);
  // The image an index entry names (for reading every image of a layout).
  static Result<std::unique_ptr<OciLayoutSource>> OpenEntry(
      const std::string& dir, const IndexEntry& entry,
      const std::optional<Platform>& platform = std::nullopt);

  Result<ManifestBlob> GetManifest() override { return manifest_; }
  Result<std::unique_ptr<Reader>> GetBlob(const Descriptor& blob) override;
  Result<std::optional<ManifestBlob>> GetIndex() override { return index_; }
  Result<ManifestBlob> GetIndexedManifest(const Descriptor& manifest) override;

 private:
  OciLayoutSource(std::string dir, ManifestBlob manifest, std::optional<ManifestBlob> index)
      : dir_(std::move(dir)), manifest_(std::move(manifest)), index_(std::move(index)) {}
  std::string dir_;
  ManifestBlob manifest_;
  std::optional<ManifestBlob> index_;  // the entry's index, when it named one
};

// What an OCI layout stores for a manifest: OCI manifests and indexes as they are, a Docker
// schema2 manifest or manifest list converted to OCI as skopeo converts them (media types
// only: the config and layer blobs are the same bytes). For an index, `converted` maps the
// digests of image manifests converted earlier to their new descriptors. Other types fail.
Result<ManifestBlob> OciManifestForLayout(const ManifestBlob& manifest,
                                          const std::map<Digest, Descriptor>& converted = {});

class OciLayoutDestination : public ImageDestination {
 public:
  // DIR may be missing (it is created), an empty directory, or an existing layout, which gets
  // the image added to its index (replacing an entry with the same tag).
  static Result<std::unique_ptr<OciLayoutDestination>> Open(const std::string& dir,
                                                            const std::string& tag);
  ~OciLayoutDestination() override;  // removes DIR again if it created it and did not commit

  bool HasBlob(const Descriptor& blob) override;
  Status PutBlob(const Descriptor& blob, BlobRole role, Reader& content) override;
  Status PutManifest(const ManifestBlob& manifest) override;
  bool CanStoreIndex() const override { return true; }
  Status PutIndexedManifest(const ManifestBlob& manifest) override;
  Status Commit() override;

 private:
  OciLayoutDestination(std::string dir, std::string tag, bool created)
      : dir_(std::move(dir)), tag_(std::move(tag)), created_(created) {}
  std::string dir_;
  std::string tag_;
  bool created_;
  bool committed_ = false;
  std::optional<ManifestBlob> manifest_;
  std::map<Digest, Descriptor> converted_;  // image manifests of an index, as stored
};

}  // namespace strata
