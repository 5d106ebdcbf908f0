// The local store as a copy source and destination.
// Exporting serves the manifest an import recorded for the image when every blob it names is
// still in the store (so the manifest digest survives a round trip unchanged); otherwise a
// manifest made from the config and the uncompressed layer tars, as Docker 25's save does.
// Importing stages each layer in one streaming pass: the blob is hashed and kept as it came
// (when compressed), decompressed, and its tar hashed and written under its diffID. Nothing
// becomes visible until the store's ingest has checked the config against the manifest and every
// diffID against the config; then it commits the blobs and records the image, its tags, which
// compressed blobs carry its layers and its manifest in one transaction.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "image/image_config.h"
#include "layer/layer_stage.h"
#include "reference/reference.h"
#include "store/image_commit.h"
#include "store/store.h"
#include "transport/image_transport.h"

namespace strata {

enum class ManifestChoice {
  kOci,  // a recorded OCI manifest, else a generated OCI one (for oci:, oci-archive:)
  kAny,  // any recorded manifest, else a generated Docker schema2 one (for dir:)
};

// The manifest strata writes for a stored image that has no usable recorded one: the config
// and the uncompressed layer tars (digest = diffID), with OCI or Docker schema2 media types.
Result<ManifestBlob> GenerateManifest(Store& store, const ImageConfig& config, bool oci);

class StoreImageSource : public ImageSource {
 public:
  // Holds the store's shared lock while it lives, so gc cannot remove what it serves.
  static Result<std::unique_ptr<StoreImageSource>> Open(Store& store, const Digest& image,
                                                        ManifestChoice choice);
  Result<ManifestBlob> GetManifest() override { return manifest_; }
  Result<std::unique_ptr<Reader>> GetBlob(const Descriptor& blob) override;

 private:
  StoreImageSource(Store& store, StoreLock lock, ManifestBlob manifest)
      : store_(store), lock_(std::move(lock)), manifest_(std::move(manifest)) {}
  Store& store_;
  StoreLock lock_;
  ManifestBlob manifest_;
};

// One layer blob as an import received it.
struct StagedBlob {
  Descriptor blob;
  StagedLayer layer;                     // the uncompressed tar, under its diffID
  std::optional<BlobWriter> compressed;  // the blob as it came, when it was compressed
};

// Stages one layer blob in a single pass (see the file comment), failing unless the bytes have
// the descriptor's digest and size. Uncompressed blobs are their own diffID. Thread-safe for
// different blobs.
Result<StagedBlob> StageLayerBlob(const ContentStore& content, const Descriptor& blob,
                                  Reader& input, const StageOptions& options = {});

// An image ready for the store's ingest (store/image_commit.h), with the staged blobs its
// request points into.
struct PendingImport {
  IngestImage image;
  std::vector<std::shared_ptr<StagedBlob>> staged;  // owns what image.layers point to
};

// The ingest request of an image whose layer i came as staged[i] (shared when a blob repeats).
// A generated manifest is not recorded, nor are the blobs it names.
PendingImport MakePendingImport(std::string config_bytes, const ManifestBlob& manifest,
                                std::vector<std::shared_ptr<StagedBlob>> staged,
                                std::vector<Reference> tags);

// Ingests the images, all in one metadata transaction.
Result<IngestResult> CommitImports(Store& store, std::vector<PendingImport>& imports);

class StoreImageDestination : public ImageDestination {
 public:
  // `tags` (tagged references) are pointed at the image on commit.
  static Result<std::unique_ptr<StoreImageDestination>> Open(Store& store,
                                                             std::vector<Reference> tags);

  Status PutBlob(const Descriptor& blob, BlobRole role, Reader& content) override;
  Status PutManifest(const ManifestBlob& manifest) override;
  // Pairs the manifest's layers with the blobs copied; the destination is used up. The ingest
  // checks config, manifest and diffIDs.
  Result<PendingImport> Prepare();
  Status Commit() override;  // Prepare() and CommitImports() of this image

  // Set by Commit().
  const std::optional<Digest>& image_id() const { return image_id_; }
  const std::vector<CommitEvent>& events() const { return events_; }

 private:
  StoreImageDestination(Store& store, StoreLock lock, std::vector<Reference> tags)
      : store_(store), lock_(std::move(lock)), tags_(std::move(tags)) {}
  Status PutLayer(const Descriptor& blob, Reader& content);

  Store& store_;
  StoreLock lock_;
  std::vector<Reference> tags_;
  std::vector<std::shared_ptr<StagedBlob>> staged_;
  std::optional<Descriptor> config_;
  std::string config_bytes_;
  std::optional<ManifestBlob> manifest_;
  std::optional<Digest> image_id_;
  std::vector<CommitEvent> events_;
};

}  // namespace strata
