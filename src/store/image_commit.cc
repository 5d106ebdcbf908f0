#include "store/image_commit.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "image/chain_id.h"
#include "util/go_time.h"

namespace strata {

std::string NowRfc3339Nano() {
  auto now = std::chrono::system_clock::now().time_since_epoch();
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now).count();
  return GoFormatTime(ns / 1000000000, static_cast<int>(ns % 1000000000));
}

Status PutReference(Metadata& metadata, const Reference& ref, const Digest& image_id) {
  return metadata.PutRef(RefRecord{.name = ref.String(),
                                   .repository = ref.Name(),
                                   .is_digest = ref.digest().has_value(),
                                   .image_id = image_id});
}

namespace {

// The layer unpacked while staged becomes the snapshot named by its cache-id (replacing one).
Status MoveUnpacked(Store& store, StagedLayer& staged, const std::string& cache_id) {
  STRATA_TRY(store.snapshots().CommitStaged(staged.unpacked_dir, cache_id));
  staged.unpacked_dir.clear();
  return {};
}

}  // namespace

Result<std::vector<CommitEvent>> CommitImages(Store& store, std::vector<NewImage>& images) {
  ContentStore& content = store.content();
  // A staged layer must carry the diffID the image names, or the layer recorded for it would
  // name a tar the store does not have.
  for (const NewImage& image : images) {
    if (image.layers.size() != image.diff_ids.size()) {
      return Fail("image " + Digest::Sha256Of(image.config_bytes).str() + " names " +
                  std::to_string(image.diff_ids.size()) + " layers but " +
                  std::to_string(image.layers.size()) + " are given");
    }
    for (size_t i = 0; i < image.layers.size(); ++i) {
      if (image.layers[i] != nullptr && image.layers[i]->diff_id != image.diff_ids[i]) {
        return Fail("layer " + std::to_string(i) + " of image " +
                    Digest::Sha256Of(image.config_bytes).str() + " should be " +
                    image.diff_ids[i].str() + " but the staged layer is " +
                    image.layers[i]->diff_id.str());
      }
    }
  }
  // Blobs first: once the transaction below commits, every blob it names must exist.
  for (NewImage& image : images) {
    for (StagedLayer* layer : image.layers) {
      if (layer != nullptr) STRATA_TRY(CommitStagedLayer(content, *layer));
    }
    STRATA_TRY(content.Put(image.config_bytes));
  }

  Metadata& md = store.metadata();
  STRATA_ASSIGN(tx, md.Begin());
  std::vector<CommitEvent> events;
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  const std::string tag_time = NowRfc3339Nano();
  for (NewImage& image : images) {
    std::vector<Digest> chain = ChainIds(image.diff_ids);
    for (size_t i = 0; i < chain.size(); ++i) {
      STRATA_ASSIGN(existing, md.GetLayer(chain[i]));
      StagedLayer* staged = image.layers[i];
      if (existing) {
        // Known layer, but not unpacked yet: use what staging unpacked instead of discarding it.
        if (!existing->unpacked && staged != nullptr && !staged->unpacked_dir.empty()) {
          STRATA_TRY(MoveUnpacked(store, *staged, existing->cache_id));
          STRATA_TRY(md.SetLayerUnpacked(chain[i], true));
        }
        continue;
      }
      if (staged == nullptr) {
        return Fail("layer " + chain[i].str() + " is neither staged nor in the store");
      }
      LayerRecord record{.chain_id = chain[i],
                         .diff_id = image.diff_ids[i],
                         .parent = i == 0 ? std::nullopt : std::optional<Digest>(chain[i - 1]),
                         .size = staged->size,
                         .tar_size = static_cast<int64_t>(staged->tar_size),
                         .cache_id = RandomHexId(),
                         .unpacked = false};
      // Unpacked while staged: move it into place now. A crash before the transaction commits
      // leaves a directory no layer names, which gc removes.
      if (!staged->unpacked_dir.empty()) {
        STRATA_TRY(MoveUnpacked(store, *staged, record.cache_id));
        record.unpacked = true;
      }
      STRATA_TRY(md.PutLayer(record));
    }
    Digest id = Digest::Sha256Of(image.config_bytes);
    STRATA_TRY(md.PutImage(
        ImageRecord{.id = id,
                    .parent = image.parent,
                    .top_layer = chain.empty() ? std::nullopt : std::optional<Digest>(chain.back()),
                    .added_at = now,
                    .last_tag_time = std::nullopt}));
    if (image.parent) STRATA_TRY(md.SetParent(id, image.parent));
    for (const Reference& tag : image.tags) {
      STRATA_ASSIGN(old, md.GetRef(tag.String()));
      if (old && old->image_id != id) {
        events.push_back({CommitEvent::kTagMoved, tag.FamiliarString(), old->image_id});
      }
      STRATA_TRY(PutReference(md, tag, id));
      STRATA_TRY(md.SetLastTagTime(id, tag_time));
    }
  }
  STRATA_TRY(tx.Commit());
  return events;
}

}  // namespace strata
