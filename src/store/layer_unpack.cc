#include "store/layer_unpack.h"

#include <sys/stat.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <mutex>
#include <thread>

#include "archive/tar_reader.h"
#include "archive/unpack.h"
#include "image/chain_id.h"
#include "store/image_lookup.h"
#include "store/layer_content.h"

namespace strata {
namespace {

// Unpacks one layer tar, in the overlay form, into a staging directory that becomes the layer's
// snapshot (named by its cache-id).
Result<UnpackStats> UnpackOne(Snapshotter& snapshots, const ContentStore& content,
                              const LayerRecord& layer, const LayerTarSource& source) {
  const std::string staging = snapshots.NewStagingDir();
  if (::mkdir(staging.c_str(), 0755) != 0) {
    return Fail("create " + staging + ": " + std::strerror(errno));
  }
  STRATA_ASSIGN(reader, OpenLayerTar(content, source));
  TarReader tar(*reader);
  auto stats = UnpackLayer(tar, staging, {.whiteouts = WhiteoutForm::kOverlay});
  if (!stats) {
    (void)RemoveAll(staging);
    return Wrap("unpacking layer " + layer.chain_id.str(), stats.error());
  }
  STRATA_TRY(snapshots.CommitStaged(staging, layer.cache_id));
  return *stats;
}

}  // namespace

Result<UnpackReport> UnpackLayers(Store& store, const std::vector<Digest>& chain_ids,
                                  int parallelism) {
  // Shared: a gc (exclusive) would take the staging directories for leftovers.
  STRATA_ASSIGN(lock, store.LockShared());
  std::vector<LayerRecord> todo;
  std::vector<LayerTarSource> sources;
  for (const Digest& chain : chain_ids) {
    STRATA_ASSIGN(layer, store.metadata().GetLayer(chain));
    if (!layer) return Fail("layer " + chain.str() + " is not in the store");
    if (layer->unpacked) continue;
    STRATA_ASSIGN(source, FindLayerTar(store, layer->diff_id));
    todo.push_back(*layer);
    sources.push_back(source);
  }
  UnpackReport report;
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::optional<Error> first_error;
  std::vector<Digest> done;
  auto worker = [&] {
    for (size_t i = next++; i < todo.size(); i = next++) {
      auto stats = UnpackOne(store.snapshots(), store.content(), todo[i], sources[i]);
      std::lock_guard<std::mutex> lock(mu);
      if (!stats) {
        if (!first_error) first_error = stats.error();
        continue;
      }
      report.files += stats->entries;
      report.losses.Add(*stats);
      done.push_back(todo[i].chain_id);
      ++report.layers_unpacked;
    }
  };
  std::vector<std::thread> threads;
  for (int t = 1; t < parallelism && static_cast<size_t>(t) < todo.size(); ++t) {
    threads.emplace_back(worker);
  }
  worker();
  for (std::thread& t : threads) t.join();
  // Metadata is only touched from this thread: one SQLite connection is not shared. Layers that
  // did unpack are recorded even when another failed.
  if (!done.empty()) {
    STRATA_ASSIGN(tx, store.metadata().Begin());
    for (const Digest& chain : done) STRATA_TRY(store.metadata().SetLayerUnpacked(chain, true));
    STRATA_TRY(tx.Commit());
  }
  if (first_error) return tl::unexpected(*first_error);
  return report;
}

Result<UnpackReport> UnpackImage(Store& store, const Digest& image_id, int parallelism) {
  STRATA_ASSIGN(config, LoadImageConfig(store, image_id));
  return UnpackLayers(store, ChainIds(config.diff_ids()), parallelism);
}

}  // namespace strata
