#include "store/image_snapshots.h"

#include "image/chain_id.h"
#include "store/image_lookup.h"

namespace strata {

Result<std::vector<std::string>> ImageSnapshotChain(Store& store, const Digest& image_id) {
  STRATA_ASSIGN(config, LoadImageConfig(store, image_id));
  std::vector<std::string> chain;
  for (const Digest& chain_id : ChainIds(config.diff_ids())) {
    STRATA_ASSIGN(layer, store.metadata().GetLayer(chain_id));
    if (!layer || !layer->unpacked) {
      return Fail(ErrorCode::kNotFound,
                  "layer " + chain_id.str() + " of image " + image_id.str() + " is not unpacked");
    }
    chain.insert(chain.begin(), layer->cache_id);
  }
  return chain;
}

Result<std::vector<Mount>> ImageView(Store& store, const Digest& image_id) {
  STRATA_ASSIGN(chain, ImageSnapshotChain(store, image_id));
  if (chain.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "image " + image_id.str() + " has no layers");
  }
  return store.snapshots().View(chain);
}

}  // namespace strata
