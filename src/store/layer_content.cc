#include "store/layer_content.h"

#include "archive/compression.h"

namespace strata {
namespace {

// Decompresses a stored blob and checks the result against the diffID at the end.
class VerifiedLayerReader : public Reader {
 public:
  VerifiedLayerReader(std::unique_ptr<FdReader> file, Digest diff_id)
      : file_(std::move(file)), diff_id_(std::move(diff_id)) {}
  Status Init() {
    STRATA_ASSIGN(plain, AutoDecompress(*file_));
    plain_ = std::move(plain);
    return {};
  }
  Result<size_t> Read(char* buffer, size_t size) override {
    STRATA_ASSIGN(n, plain_->Read(buffer, size));
    if (n > 0) {
      hasher_.Update(buffer, n);
      return n;
    }
    if (!checked_) {
      checked_ = true;
      Digest got = hasher_.Finish();
      if (got != diff_id_) {
        return Fail("layer " + diff_id_.str() + ": its stored compressed form decompresses to " +
                    got.str());
      }
    }
    return 0;
  }

 private:
  std::unique_ptr<FdReader> file_;
  std::unique_ptr<Reader> plain_;
  Digest diff_id_;
  Hasher hasher_;
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
  if (store.content().Exists(diff_id)) return LayerTarSource{diff_id, std::nullopt};
  STRATA_ASSIGN(compressed, CompressedLayerBlob(store, diff_id));
  if (!compressed) return Fail("layer " + diff_id.str() + " is missing from the store");
  return LayerTarSource{diff_id, compressed};
}

Result<std::unique_ptr<Reader>> OpenLayerTar(const ContentStore& content,
                                             const LayerTarSource& source) {
  if (!source.compressed) {
    STRATA_ASSIGN(fd, content.OpenBlob(source.diff_id));
    return std::unique_ptr<Reader>(
        new FdReader(fd.release(), content.BlobPath(source.diff_id), true));
  }
  STRATA_ASSIGN(fd, content.OpenBlob(*source.compressed));
  auto file = std::make_unique<FdReader>(fd.release(), content.BlobPath(*source.compressed), true);
  auto reader = std::make_unique<VerifiedLayerReader>(std::move(file), source.diff_id);
  STRATA_TRY(reader->Init());
  return std::unique_ptr<Reader>(std::move(reader));
}

Result<std::unique_ptr<Reader>> OpenLayerTar(Store& store, const Digest& diff_id) {
  STRATA_ASSIGN(source, FindLayerTar(store, diff_id));
  return OpenLayerTar(store.content(), source);
}

}  // namespace strata
