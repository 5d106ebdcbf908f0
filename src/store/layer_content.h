// A layer's uncompressed tar, wherever the store keeps it: as the blob named by its diffID
// (load, import), or only in a compressed form the store also holds (pull keeps the registry's
// blob, which a push re-serves unchanged, and does not write the tar a second time). Reading
// the compressed form decompresses it on the fly and checks it against the diffID, so callers
// (save, push, unpack, fsck) get the same verified bytes either way. Thread-safe.
#pragma once

#include <memory>
#include <optional>

#include "digest/digest.h"
#include "store/store.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

// The stored compressed blob that carries the diffID, if the tar itself is not stored.
Result<std::optional<Digest>> CompressedLayerBlob(Store& store, const Digest& diff_id);

// Whether the store can produce the layer's tar.
Result<bool> HasLayerTar(Store& store, const Digest& diff_id);

// The tar's size in bytes (from the layer records when only a compressed form is stored).
Result<int64_t> LayerTarSize(Store& store, const Digest& diff_id);

// A reader of the tar that fails, instead of handing out its last bytes, unless they hash to the
// diffID (and a compressed form to its own digest): what it completes is verified. Errors name
// the layer, the damaged blob and `strata fsck`.
Result<std::unique_ptr<Reader>> OpenLayerTar(Store& store, const Digest& diff_id);

// The same in two steps, for worker threads that must not touch the metadata database: find
// where the tar is (on the caller's thread), then open it (anywhere).
struct LayerTarSource {
  Digest diff_id;
  std::optional<Digest> compressed;  // set when only the compressed form is stored
  int64_t tar_size = -1;             // with `compressed`: the tar's recorded size, if known
};
Result<LayerTarSource> FindLayerTar(Store& store, const Digest& diff_id);
Result<std::unique_ptr<Reader>> OpenLayerTar(const ContentStore& content,
                                             const LayerTarSource& source);

}  // namespace strata
