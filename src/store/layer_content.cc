#include "store/layer_content.h"

#include "archive/compression.h"

namespace strata {
namespace {

std::string DamagedLayer(const Digest& diff_id, const Digest& blob, const std::string& what) {
  return "layer " + diff_id.str() + ": its stored compressed blob " + blob.str() + " " + what +
         "; run `strata fsck` to see what it damages (`strata fsck --repair` removes those images)";
}

// Decompresses a stored blob (itself read through ContentStore::OpenVerified) and checks the
// result against the diffID: when the tar size is known, before the last byte is handed out,
// else at the end.
class VerifiedLayerReader : public Reader {
 public:
  VerifiedLayerReader(std::unique_ptr<Reader> file, const LayerTarSource& source)
      : file_(std::move(file)), blob_(*file_), source_(source) {}
  Status Init() {
    auto plain = AutoDecompress(blob_);
    if (!plain) {
      // Damaged, unless reading the blob failed for a reason of its own (a cancellation).
      const ErrorCode code = blob_.failed ? plain.error().code : ErrorCode::kCorrupt;
      return Fail(code, DamagedLayer(source_.diff_id, *source_.compressed,
                                     "cannot be read: " + plain.error().message));
    }
    plain_ = std::move(*plain);
    return {};
  }
  Result<size_t> Read(char* buffer, size_t size) override {
    if (checked_) return 0;
    auto n = plain_->Read(buffer, size);
    if (!n) return Explain(n.error());
    read_ += *n;
    hasher_.Update(buffer, *n);
    if (*n > 0 && (source_.tar_size < 0 || read_ < static_cast<uint64_t>(source_.tar_size))) {
      return *n;
    }
    STRATA_TRY(Check());
    return *n;
  }

 private:
  // The compressed blob, remembering whether reading it failed (its own digest check, which
  // explains itself) rather than decompressing it.
  class BlobReader : public Reader {
   public:
    explicit BlobReader(Reader& file) : file_(file) {}
    Result<size_t> Read(char* buffer, size_t size) override {
      auto n = file_.Read(buffer, size);
      failed = failed || !n;
      return n;
    }
    bool failed = false;

   private:
    Reader& file_;
  };

  // A failure of the blob keeps its kind (corrupt, cancelled); one of decompressing is corrupt.
  tl::unexpected<Error> Explain(const Error& cause) const {
    if (blob_.failed) return Wrap("layer " + source_.diff_id.str(), cause);
    return Fail(ErrorCode::kCorrupt, DamagedLayer(source_.diff_id, *source_.compressed,
                                                  "cannot be decompressed: " + cause.message));
  }
  Status Check() {
    checked_ = true;
    auto rest = Drain(*plain_);  // to the end of the compressed stream
    if (!rest) return Explain(rest.error());
    auto tail = Drain(blob_);  // to the end of the blob, which checks its own digest
    if (!tail) return Explain(tail.error());
    if (*rest > 0) {
      return Fail(ErrorCode::kCorrupt,
                  DamagedLayer(source_.diff_id, *source_.compressed,
                               "decompresses to more than the " + std::to_string(source_.tar_size) +
                                   " bytes recorded"));
    }
    Digest got = hasher_.Finish();
    if (got != source_.diff_id ||
        (source_.tar_size >= 0 && read_ != static_cast<uint64_t>(source_.tar_size))) {
      return Fail(ErrorCode::kCorrupt, DamagedLayer(source_.diff_id, *source_.compressed,
                                                    "decompresses to " + got.str() + " (" +
                                                        std::to_string(read_) + " bytes)"));
    }
    return {};
  }

  std::unique_ptr<Reader> file_;
  BlobReader blob_;
  std::unique_ptr<Reader> plain_;
  LayerTarSource source_;
  Hasher hasher_;
  uint64_t read_ = 0;
  bool checked_ = false;
};

}  // namespace

Result<std::optional<Digest>> CompressedLayerBlob(Store& store, const Digest& diff_id) {
  STRATA_ASSIGN(blobs, store.metadata().LayerBlobs(diff_id));
  for (const LayerBlob& b : blobs) {
    if (b.digest != diff_id && store.content().Exists(b.digest)) {
      return std::optional<Digest>(b.digest);
    }
  }
  return std::optional<Digest>();
}

Result<bool> HasLayerTar(Store& store, const Digest& diff_id) {
  if (store.content().Exists(diff_id)) return true;
  STRATA_ASSIGN(compressed, CompressedLayerBlob(store, diff_id));
  return compressed.has_value();
}

Result<int64_t> LayerTarSize(Store& store, const Digest& diff_id) {
  if (auto size = store.content().Size(diff_id)) return static_cast<int64_t>(*size);
  STRATA_ASSIGN(record, store.metadata().FindLayerByDiffId(diff_id));
  if (!record) return Fail("layer " + diff_id.str() + " is missing from the store");
  return record->tar_size;
}

Result<LayerTarSource> FindLayerTar(Store& store, const Digest& diff_id) {
  if (store.content().Exists(diff_id)) return LayerTarSource{diff_id, std::nullopt, -1};
  STRATA_ASSIGN(compressed, CompressedLayerBlob(store, diff_id));
  if (!compressed) return Fail("layer " + diff_id.str() + " is missing from the store");
  STRATA_ASSIGN(record, store.metadata().FindLayerByDiffId(diff_id));
  return LayerTarSource{diff_id, compressed, record ? record->tar_size : -1};
}

Result<std::unique_ptr<Reader>> OpenLayerTar(const ContentStore& content,
                                             const LayerTarSource& source) {
  if (!source.compressed) return content.OpenVerified(source.diff_id);
  STRATA_ASSIGN(file, content.OpenVerified(*source.compressed));
  auto reader = std::make_unique<VerifiedLayerReader>(std::move(file), source);
  STRATA_TRY(reader->Init());
  return std::unique_ptr<Reader>(std::move(reader));
}

Result<std::unique_ptr<Reader>> OpenLayerTar(Store& store, const Digest& diff_id) {
  STRATA_ASSIGN(source, FindLayerTar(store, diff_id));
  return OpenLayerTar(store.content(), source);
}

}  // namespace strata
