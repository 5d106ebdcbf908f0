// `save`: writes images as a docker-archive, in the layout Docker 20.10 writes (<v1id>/VERSION,
// json, layer.tar; <config>.json; manifest.json; repositories) so that `docker load` gives the
// same image IDs. Layer tars are copied straight from the content store: they are the exact
// bytes the diffIDs name, so nothing is re-assembled; they are hashed while copied, and a layer
// whose bytes no longer match its diffID fails the save (naming the image, the layer and
// `strata fsck`) before its last byte is written.
#pragma once

#include <string>
#include <vector>

#include "reference/reference.h"
#include "store/store.h"
#include "transport/image_transport.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

struct SaveRequest {
  Digest image;
  std::vector<Reference> tags;  // tags to record for it (RepoTags / repositories)
};

// Resolves `docker save` arguments: a name without tag selects every tag of that repository,
// a tag selects that tag, an ID selects the image without tags.
Result<std::vector<SaveRequest>> ResolveSaveArguments(Store& store,
                                                      const std::vector<std::string>& names);

// `progress` hears of the bytes of every layer.tar written.
Status SaveDockerArchive(Store& store, const std::vector<SaveRequest>& images, Writer& out,
                         const BlobProgressFn& progress = nullptr);

}  // namespace strata
