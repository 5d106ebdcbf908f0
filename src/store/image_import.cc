#include "store/image_import.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>

#include "archive/dir_tar.h"
#include "archive/tar_writer.h"
#include "image/config_changes.h"
#include "image/image_config.h"
#include "layer/layer_stage.h"
#include "reference/reference.h"
#include "store/image_commit.h"
#include "util/file.h"

namespace strata {
namespace {}  // namespace

Result<Digest> ImportImage(Store& store, const ImportRequest& request) {
  std::optional<Reference> tag;
  if (!request.reference.empty()) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(request.reference));
    if (ref.digest()) return Fail("import reference \"" + request.reference + "\" has a digest");
    tag = TagNameOnly(ref);
  }
  ImportOptions options;
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  options.created.unix_seconds = ns / 1000000000;
  options.created.nanos = static_cast<int32_t>(ns % 1000000000);
  options.comment =
      request.message.empty()
          ? "Imported from " + (request.source == "-" ? std::string("-") : request.source)
          : request.message;
  STRATA_ASSIGN(config, ApplyChanges(ContainerConfig{}, request.changes));
  options.config = std::move(config);

  if (request.source == "-" && !request.input) {
    return Fail(ErrorCode::kInvalidArgument, "import from \"-\" needs an input stream");
  }
  STRATA_ASSIGN(lock, store.LockShared());
  std::optional<StagedLayer> layer;
  struct stat st;
  if (request.source != "-" && ::stat(request.source.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
    STRATA_ASSIGN(staged, StageDirectory(store.content(), request.source, {}));
    layer.emplace(std::move(staged));
  } else {
    UniqueFd fd;
    std::optional<FdReader> file;
    if (request.source != "-") {
      STRATA_ASSIGN(opened, OpenRead(request.source));
      fd = std::move(opened);
      file.emplace(fd.get(), request.source);
    }
    Reader* reader = file ? &*file : request.input;
    auto staged = StageLayer(store.content(), *reader);
    if (!staged) return Wrap("importing " + request.source, staged.error());
    layer.emplace(std::move(*staged));
  }
  ImageSpec spec = NewImportImageSpec(layer->diff_id, options);
  IngestImage image;
  image.config_bytes = spec.Marshal();
  image.layers = {IngestLayer{
      .staged = &*layer, .blob = std::nullopt, .blob_writer = nullptr, .origin = request.source}};
  if (tag) image.tags.push_back(*tag);
  std::vector<IngestImage> images;
  images.push_back(std::move(image));
  STRATA_ASSIGN(result, IngestImages(store, images));
  return result.image_ids[0];
}

}  // namespace strata
