// The engine's archive operations: load (docker and OCI archives), save, import. The caller owns
// the streams: a load reads the fd it is given, a save writes the Writer it is given, an import
// from "-" reads the Reader it is given (the CLI passes its stdin and stdout; an API server would
// pass the request and response bodies). Named as docker's API client names them (ImageLoad,
// ImageSave, ImageImport). Not thread-safe (see Engine).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include "archive/unpack.h"
#include "digest/digest.h"
#include "engine/engine.h"
#include "transport/docker_archive_load.h"
#include "transport/image_transport.h"
#include "util/io.h"

namespace strata {

// --- load ----------------------------------------------------------------------------------------

struct ImageLoadRequest {
  int fd = -1;            // the archive: a file or a stream (a pipe is read once, as it comes)
  std::string name = {};  // of the input, for messages ("stdin", the path)
  bool unpack = false;    // also unpack every layer of the loaded images, ready to run
};

struct ImageLoadEvents {
  BlobProgressFn layer_progress;  // bytes of each layer member read so far
};

struct ImageLoadResult {
  std::vector<LoadedImage> images = {};
  std::vector<std::string> messages = {};  // "The image X already exists, renaming ..." lines
  UnpackLosses unpack_losses;              // with unpack: what could not be reproduced unprivileged
};

// docker load: a docker-archive, or an OCI archive (told apart by its members), committed in one
// transaction; with unpack, every image's layers are then unpacked.
Result<ImageLoadResult> ImageLoad(Engine& engine, const ImageLoadRequest& request,
                                  const ImageLoadEvents& events = {});

// --- save ----------------------------------------------------------------------------------------

enum class ArchiveFormat { kDocker, kOci };

struct ImageSaveRequest {
  // docker save's arguments: a name without a tag is every tag of its repository, a tag that
  // tag, an ID the image without tags.
  std::vector<std::string> names = {};
  ArchiveFormat format = ArchiveFormat::kDocker;
  // Called once every name is resolved (so a bad name fails before any output exists); the
  // archive goes to the Writer it returns, which the caller owns and makes durable.
  std::function<Result<Writer*>()> open_output;
};

struct ImageSaveEvents {
  BlobProgressFn layer_progress;  // bytes of each layer written so far
};

// docker save. Every name is resolved before the output is opened (a missing one is kNotFound).
Status ImageSave(Engine& engine, const ImageSaveRequest& request,
                 const ImageSaveEvents& events = {});

// --- import --------------------------------------------------------------------------------------

struct ImageImportRequest {
  std::string source = {};                // a tar file (plain or compressed), a directory, or "-"
  Reader* input = nullptr;                // for "-": the tar stream
  std::string reference = {};             // optional REPOSITORY[:TAG]
  std::vector<std::string> changes = {};  // Dockerfile instructions: CMD, ENV, ...
  std::string message = {};               // history comment; default "Imported from <source>"
};

// docker import: a one-layer image of the tarball or directory. Returns its ID.
Result<Digest> ImageImport(Engine& engine, const ImageImportRequest& request);

}  // namespace strata
