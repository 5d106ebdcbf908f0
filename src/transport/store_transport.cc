#include "transport/store_transport.h"

#include <sys/stat.h>

#include <set>

#include "archive/compression.h"
#include "store/image_lookup.h"
#include "store/layer_content.h"

namespace strata {
namespace {

constexpr uint64_t kMaxManifestSize = 8 << 20;

// Passes what its consumer reads through to a blob writer, so the compressed blob is kept and
// hashed by the same read that feeds the decompressor.
class TeeReader : public Reader {
 public:
  TeeReader(Reader& source, BlobWriter& sink) : source_(source), sink_(sink) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    STRATA_ASSIGN(n, source_.Read(buffer, size));
    if (n > 0) STRATA_TRY(sink_.Write(buffer, n));
    return n;
  }

 private:
  Reader& source_;
  BlobWriter& sink_;
};

std::string SizeMismatch(const Descriptor& blob, uint64_t actual) {
  return "layer blob " + blob.digest.str() + " has " + std::to_string(actual) +
         " bytes, its descriptor states " + std::to_string(blob.size);
}

// Whether a recorded manifest can be served as it is: it names this image's config and, for
// every diffID, a blob the store holds that is known to carry that diffID.
Result<bool> UsableManifest(Store& store, const ImageConfig& config, const ImageManifest& m) {
  if (m.config.digest != config.id()) return false;
  const auto& diff_ids = config.diff_ids();
  if (m.layers.size() != diff_ids.size()) return false;
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    const Digest& d = m.layers[i].digest;
    if (!store.content().Exists(d)) return false;
    if (d == diff_ids[i]) continue;
    STRATA_ASSIGN(known, store.metadata().LayerBlobs(diff_ids[i]));
    bool found = false;
    for (const LayerBlob& b : known) found |= b.digest == d;
    if (!found) return false;
  }
  return true;
}

}  // namespace

Result<ManifestBlob> GenerateManifest(Store& store, const ImageConfig& config, bool oci) {
  Descriptor config_descriptor{std::string(oci ? kOciConfigMediaType : kDockerConfigMediaType),
                               config.id(), static_cast<int64_t>(config.bytes().size())};
  std::vector<Descriptor> layers;
  for (const Digest& diff_id : config.diff_ids()) {
    auto size = LayerTarSize(store, diff_id);
    if (!size) {
      return Fail("image " + config.id().str() + ": layer " + diff_id.str() +
                  " is missing from the store");
    }
    layers.push_back({std::string(oci ? kOciLayerMediaType : kDockerLayerMediaType), diff_id,
                      static_cast<int64_t>(*size)});
  }
  if (oci) {
    return ManifestBlob{MarshalOciManifest(config_descriptor, layers),
                        std::string(kOciManifestMediaType), true};
  }
  return ManifestBlob{MarshalDockerManifest(config_descriptor, layers),
                      std::string(kDockerManifestMediaType), true};
}

namespace {

// Remembers whether reading the input itself failed (as opposed to the bytes failing a check).
class InputFailureReader : public Reader {
 public:
  explicit InputFailureReader(Reader& inner) : inner_(inner) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    auto n = inner_.Read(buffer, size);
    failed_ = failed_ || !n;
    return n;
  }
  bool failed() const { return failed_; }

 private:
  Reader& inner_;
  bool failed_ = false;
};

// After a failure: keeps what the writer got when the input broke off and a partial path is set.
void KeepPartial(BlobWriter& writer, const InputFailureReader& input, const StageOptions& options) {
  if (!input.failed() || options.partial_path.empty() || writer.size() == 0) return;
  struct stat st;
  if (::stat(options.partial_path.c_str(), &st) == 0 &&
      static_cast<uint64_t>(st.st_size) >= writer.size()) {
    return;  // an earlier attempt got further
  }
  (void)writer.KeepAs(options.partial_path);
}

Result<StagedBlob> StageLayerBlobOnce(const ContentStore& content, const Descriptor& blob,
                                      Reader& input, const StageOptions& options) {
  if (blob.digest.algorithm() != DigestAlgorithm::kSha256) {
    return Fail("only sha256 layer digests are supported");
  }
  // The media type is not trusted (skopeo's dir: writes uncompressed layers as ...tar.gzip):
  // the first bytes decide.
  InputFailureReader source(input);
  PeekReader peek(source);
  STRATA_ASSIGN(head, peek.Peek(6));
  if (DetectCompression(head) == Compression::kNone) {
    StageOptions keep = options;
    keep.store_tar = true;  // the blob is the tar itself
    STRATA_ASSIGN(layer, StageLayer(content, peek, keep));
    STRATA_TRY(Drain(peek));
    if (layer.diff_id != blob.digest) {
      return Fail(
          ErrorCode::kCorrupt,
          "the blob does not match its digest: the content hashes to " + layer.diff_id.str());
    }
    if (layer.tar_size != static_cast<uint64_t>(blob.size)) {
      return Fail(SizeMismatch(blob, layer.tar_size));
    }
    return StagedBlob{.blob = blob, .layer = std::move(layer), .compressed = std::nullopt};
  }
  STRATA_ASSIGN(writer, content.NewWriter(blob.digest.algorithm()));
  TeeReader tee(peek, writer);
  auto staged = StageLayer(content, tee, options);
  if (!staged) {
    if (source.failed()) {
      KeepPartial(writer, source, options);
      return tl::unexpected(staged.error());
    }
    // Bad bytes from a source usually show up first as a decompression or tar error; when the
    // blob does not match its digest either, that is the cause worth naming.
    if (Drain(tee)) {
      auto digest = writer.Finish();
      if (digest && *digest != blob.digest) {
        return Fail(ErrorCode::kCorrupt,
                    "the blob does not match its digest: the content hashes to " + digest->str() +
                        " (" + staged.error().message + ")");
      }
    }
    return tl::unexpected(staged.error());
  }
  StagedLayer layer = std::move(*staged);
  if (auto drained = Drain(tee); !drained) {
    KeepPartial(writer, source, options);
    return tl::unexpected(drained.error());
  }
  STRATA_ASSIGN(digest, writer.Finish());
  if (digest != blob.digest) {
    return Fail(ErrorCode::kCorrupt,
                "the blob does not match its digest: the content hashes to " + digest.str());
  }
  if (writer.size() != static_cast<uint64_t>(blob.size)) {
    return Fail(SizeMismatch(blob, writer.size()));
  }
  return StagedBlob{.blob = blob, .layer = std::move(layer), .compressed = std::move(writer)};
}

}  // namespace

Result<StagedBlob> StageLayerBlob(const ContentStore& content, const Descriptor& blob,
                                  Reader& input, const StageOptions& options) {
  auto staged = StageLayerBlobOnce(content, blob, input, options);
  // A layer unpacked while staged but then refused (digest, size) must not leave its directory.
  if (!staged && !options.unpack_dir.empty()) (void)RemoveAll(options.unpack_dir);
  return staged;
}

// --- StoreImageSource ----------------------------------------------------------------------------

Result<std::unique_ptr<StoreImageSource>> StoreImageSource::Open(Store& store, const Digest& image,
                                                                 ManifestChoice choice) {
  STRATA_ASSIGN(lock, store.LockShared());
  STRATA_ASSIGN(config, LoadImageConfig(store, image));
  STRATA_ASSIGN(records, store.metadata().ImageManifests(image));
  for (const ImageManifestRecord& r : records) {
    if (choice == ManifestChoice::kOci && r.media_type != kOciManifestMediaType) continue;
    if (!store.content().Exists(r.digest)) continue;
    auto bytes = store.content().ReadVerified(r.digest, kMaxManifestSize);
    if (!bytes) continue;
    auto parsed = ParseImageManifest(*bytes, r.media_type);
    if (!parsed) continue;
    STRATA_ASSIGN(usable, UsableManifest(store, config, *parsed));
    if (!usable) continue;
    return std::unique_ptr<StoreImageSource>(new StoreImageSource(
        store, std::move(lock), ManifestBlob{std::move(*bytes), r.media_type, false}));
  }
  STRATA_ASSIGN(generated, GenerateManifest(store, config, choice == ManifestChoice::kOci));
  return std::unique_ptr<StoreImageSource>(
      new StoreImageSource(store, std::move(lock), std::move(generated)));
}

Result<std::unique_ptr<Reader>> StoreImageSource::GetBlob(const Descriptor& blob) {
  // A layer tar the store keeps only compressed is produced from that form.
  if (!store_.content().Exists(blob.digest)) return OpenLayerTar(store_, blob.digest);
  // Checked while it is read: a damaged blob fails the copy before its last byte.
  return store_.content().OpenVerified(blob.digest, static_cast<uint64_t>(blob.size));
}

// --- StoreImageDestination -----------------------------------------------------------------------

Result<std::unique_ptr<StoreImageDestination>> StoreImageDestination::Open(
    Store& store, std::vector<Reference> tags) {
  STRATA_ASSIGN(lock, store.LockShared());
  return std::unique_ptr<StoreImageDestination>(
      new StoreImageDestination(store, std::move(lock), std::move(tags)));
}

Status StoreImageDestination::PutBlob(const Descriptor& blob, BlobRole role, Reader& content) {
  if (role == BlobRole::kConfig) {
    auto bytes = ReadVerifiedBlob(content, blob);
    if (!bytes) return Wrap("image config", bytes.error());
    config_ = blob;
    config_bytes_ = std::move(*bytes);
    return {};
  }
  auto st = PutLayer(blob, content);
  if (!st) return Wrap("layer blob " + blob.digest.str(), st.error());
  return {};
}

Status StoreImageDestination::PutLayer(const Descriptor& blob, Reader& content) {
  for (const auto& s : staged_) {
    if (s->blob.digest == blob.digest) return {};
  }
  STRATA_ASSIGN(staged, StageLayerBlob(store_.content(), blob, content));
  staged_.push_back(std::make_shared<StagedBlob>(std::move(staged)));
  return {};
}

Status StoreImageDestination::PutManifest(const ManifestBlob& manifest) {
  manifest_ = manifest;
  return {};
}

Result<PendingImport> StoreImageDestination::Prepare() {
  if (!manifest_) return Fail("no manifest was copied");
  const std::string what = "manifest " + manifest_->digest().str();
  auto parsed = ParseImageManifest(manifest_->bytes, manifest_->media_type);
  if (!parsed) return Wrap(what, parsed.error());
  if (!config_ || config_->digest != parsed->config.digest) {
    return Fail(what + ": its config " + parsed->config.digest.str() + " was not copied");
  }
  std::vector<std::shared_ptr<StagedBlob>> layers;
  for (const Descriptor& d : parsed->layers) {
    std::shared_ptr<StagedBlob> found;
    for (const auto& s : staged_) {
      if (s->blob.digest == d.digest) found = s;
    }
    if (!found) return Fail(what + ": layer blob " + d.digest.str() + " was not copied");
    layers.push_back(std::move(found));
  }
  return MakePendingImport(config_bytes_, *manifest_, std::move(layers), tags_);
}

Status StoreImageDestination::Commit() {
  STRATA_ASSIGN(pending, Prepare());
  std::vector<PendingImport> imports;
  imports.push_back(std::move(pending));
  STRATA_ASSIGN(result, CommitImports(store_, imports));
  image_id_ = result.image_ids[0];
  events_ = std::move(result.events);
  return {};
}

PendingImport MakePendingImport(std::string config_bytes, const ManifestBlob& manifest,
                                std::vector<std::shared_ptr<StagedBlob>> staged,
                                std::vector<Reference> tags) {
  PendingImport pending;
  IngestImage& image = pending.image;
  image.config_bytes = std::move(config_bytes);
  image.tags = std::move(tags);
  if (!manifest.generated) {
    image.manifest = IngestManifest{.bytes = manifest.bytes, .media_type = manifest.media_type};
  }
  image.listed_by = "manifest " + manifest.digest().str();
  for (const auto& blob : staged) {
    IngestLayer layer{.staged = &blob->layer,
                      .blob = std::nullopt,
                      .blob_writer = &blob->compressed,
                      .origin = "blob " + blob->blob.digest.str()};
    if (!manifest.generated) layer.blob = blob->blob;
    image.layers.push_back(std::move(layer));
  }
  pending.staged = std::move(staged);
  return pending;
}

Result<IngestResult> CommitImports(Store& store, std::vector<PendingImport>& imports) {
  std::vector<IngestImage> images;
  for (PendingImport& import : imports) images.push_back(import.image);
  return IngestImages(store, images);
}

}  // namespace strata
