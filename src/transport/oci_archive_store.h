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
Result<LoadReport> LoadOciArchive(Store& store, Reader& archive);

// Writes the images as an OCI archive. Each image's recorded OCI manifest is used when the
// store still holds its blobs, else an uncompressed one is generated.
Status SaveOciArchive(Store& store, const std::vector<SaveRequest>& images, Writer& out);

}  // namespace strata
