// load, save, import.
#include "engine/archive.h"

#include "store/image_import.h"
#include "store/layer_unpack.h"
#include "transport/docker_archive_save.h"
#include "transport/oci_archive_store.h"

namespace strata {

Result<ImageLoadResult> ImageLoad(Engine& engine, const ImageLoadRequest& request,
                                  const ImageLoadEvents& events) {
  if (request.fd < 0) return Fail(ErrorCode::kInvalidArgument, "load: no input");
  STRATA_ASSIGN(store, engine.store());
  LoadOptions options{.unpack = request.unpack, .progress = events.layer_progress};
  // An OCI archive without Docker's manifest.json goes to the OCI loader.
  STRATA_ASSIGN(report, LoadArchiveFd(*store, request.fd, request.name, options));
  ImageLoadResult result{.images = std::move(report.images),
                         .messages = std::move(report.messages),
                         .unpack_losses = report.unpack_losses};
  if (request.unpack) {
    for (const LoadedImage& image : result.images) {
      STRATA_ASSIGN(unpacked, UnpackImage(*store, image.id));
      result.unpack_losses.Add(unpacked.losses);
    }
  }
  return result;
}

Status ImageSave(Engine& engine, const ImageSaveRequest& request, const ImageSaveEvents& events) {
  if (!request.open_output) return Fail(ErrorCode::kInvalidArgument, "save: no output");
  STRATA_ASSIGN(store, engine.store(StoreAccess::kReadOnly));
  STRATA_ASSIGN(images, ResolveSaveArguments(*store, request.names));
  STRATA_ASSIGN(out, request.open_output());
  if (request.format == ArchiveFormat::kOci) {
    return SaveOciArchive(*store, images, *out, events.layer_progress);
  }
  return SaveDockerArchive(*store, images, *out, events.layer_progress);
}

Result<Digest> ImageImport(Engine& engine, const ImageImportRequest& request) {
  STRATA_ASSIGN(store, engine.store());
  return ImportImage(*store, ImportRequest{.source = request.source,
                                           .reference = request.reference,
                                           .changes = request.changes,
                                           .message = request.message,
                                           .input = request.input});
}

}  // namespace strata
