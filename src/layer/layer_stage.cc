#include "layer/layer_stage.h"

#include <unordered_set>
#include <vector>

#include "archive/clean_path.h"
#include "archive/compression.h"
#include "archive/layer_size.h"
#include "archive/tar_reader.h"

namespace strata {
namespace {

// Passes bytes through to the staging blob as the tar parser pulls them, so the blob, its hash
// and the parse all come from one read of the input.
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

Status CheckEntry(const TarEntry& entry) {
  auto path = RootRelative(entry.name);
  if (!path) return Fail("invalid tar entry \"" + entry.name + "\": path escapes the root");
  std::string_view base = *path;
  if (auto slash = base.rfind('/'); slash != std::string_view::npos) base = base.substr(slash + 1);
  if (base.starts_with(".wh.") && !base.starts_with(".wh..wh.")) {
    std::string_view target = base.substr(4);
    if (target.empty() || target == "." || target == "..") {
      return Fail("invalid whiteout entry \"" + entry.name + "\"");
    }
  }
  if (entry.type == TarType::kHardlink) {
    auto target = RootRelative(entry.linkname);
    if (!target || target->empty()) {
      return Fail("invalid tar entry \"" + entry.name + "\": hard link target \"" + entry.linkname +
                  "\" escapes the root");
    }
  }
  return {};
}

}  // namespace

Result<StagedLayer> StageLayer(const ContentStore& content, Reader& input) {
  Compression compression = Compression::kNone;
  STRATA_ASSIGN(decoded, AutoDecompress(input, &compression));
  STRATA_ASSIGN(blob, content.NewWriter());
  TeeReader tee(*decoded, blob);
  TarReader tar(tee);
  LayerSizeCounter size;
  for (;;) {
    STRATA_ASSIGN(entry, tar.Next());
    if (!entry) break;
    STRATA_TRY(CheckEntry(*entry));
    size.Add(*entry);
  }
  STRATA_TRY(tar.DrainRest());
  STRATA_ASSIGN(diff_id, blob.Finish());
  StagedLayer out{.diff_id = diff_id,
                  .tar_size = blob.size(),
                  .size = size.total(),
                  .compression = std::string(CompressionName(compression)),
                  .blob = std::move(blob)};
  return out;
}

Status CommitStagedLayer(const ContentStore& content, StagedLayer& layer) {
  if (!layer.blob) return {};
  if (content.Exists(layer.diff_id)) {
    layer.blob->Abort();
  } else {
    STRATA_TRY(layer.blob->Commit(layer.diff_id));
  }
  layer.blob.reset();
  return {};
}

}  // namespace strata
