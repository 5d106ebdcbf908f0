// OCI archives and the store: `load` of an OCI archive without a Docker manifest.json (every
// image of its index, all verified before any is committed) and `save --format oci`, which
// writes the images as an OCI archive the way Docker 25 does: one index.json entry per tag with
// io.containerd.image.name (the full reference) and org.opencontainers.image.ref.name (the tag),
// plus a Docker manifest.json so that `docker load` reads it as well.
#pragma once

#include <vector>

#include "store/store.h"
#include "transport/docker_archive_load.h"
#include "transport/docker_archive_save.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

// Loads every image an OCI archive's index.json names. An entry is tagged by its
// io.containerd.image.name annotation, else by a ref.name that is a whole name:tag; otherwise
// the image is loaded untagged.
// `progress` as for LoadOptions.
Result<LoadReport> LoadOciArchive(Store& store, Reader& archive,
                                  const BlobProgressFn& progress = nullptr);

// `load` of what `fd` holds (a file, or a stream such as a pipe on stdin): an OCI archive
// (LoadOciArchive) or else a docker-archive (LoadDockerArchive). An uncompressed tar file is
// told apart by its tar headers; a stream or compressed file whose first member belongs to an
// OCI layout (an OCI archive, or Docker 25's save, whose manifest.json comes last) is first
// spooled, decompressed, to a scratch file; anything else is read once, as it comes. `name` is
// for messages.
Result<LoadReport> LoadArchiveFd(Store& store, int fd, const std::string& name,
                                 const LoadOptions& options = {});

// Writes the images as an OCI archive. Each image's recorded OCI manifest is used when the
// store still holds its blobs, else an uncompressed one is generated.
// `progress` hears of the bytes of every layer written.
Status SaveOciArchive(Store& store, const std::vector<SaveRequest>& images, Writer& out,
                      const BlobProgressFn& progress = nullptr);

}  // namespace strata
