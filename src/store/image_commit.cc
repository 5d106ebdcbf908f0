#include "store/image_commit.h"

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <ctime>

#include "image/chain_id.h"
#include "image/image_config.h"
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

Status CheckLayerDiffId(size_t index, const std::string& origin, const Digest& expected,
                        const Digest& actual) {
  if (actual == expected) return {};
  return Fail(ErrorCode::kCorrupt, "invalid diffID for layer " + std::to_string(index) +
                                       (origin.empty() ? "" : " (" + origin + ")") +
                                       ": the config expects " + expected.str() +
                                       " but the layer hashes to " + actual.str());
}

// Step 1: config, manifest and staged layers agree. Returns the config's diffIDs.
Result<std::vector<Digest>> CheckIngestImage(const IngestImage& image) {
  const Digest id = Digest::Sha256Of(image.config_bytes);
  auto config = ImageConfig::Parse(image.config_bytes);
  if (!config) return Wrap("image config " + id.str(), config.error());
  std::vector<Digest> diff_ids = config->diff_ids();
  if (diff_ids.size() != image.layers.size()) {
    return Fail(ErrorCode::kInvalidArgument, "image config " + id.str() + " lists " +
                                                 std::to_string(diff_ids.size()) + " layers but " +
                                                 image.listed_by + " names " +
                                                 std::to_string(image.layers.size()));
  }
  if (image.manifest) {
    auto manifest = ParseImageManifest(image.manifest->bytes, image.manifest->media_type);
    if (!manifest) return Wrap(image.listed_by, manifest.error());
    if (manifest->config.digest != id) {
      return Fail(
          ErrorCode::kInvalidArgument,
          image.listed_by + " names config " + manifest->config.digest.str() + ", not " + id.str());
    }
    if (manifest->layers.size() != diff_ids.size()) {
      return Fail(ErrorCode::kInvalidArgument, "image config " + id.str() + " lists " +
                                                   std::to_string(diff_ids.size()) +
                                                   " layers but " + image.listed_by + " names " +
                                                   std::to_string(manifest->layers.size()));
    }
    for (size_t i = 0; i < diff_ids.size(); ++i) {
      const auto& blob = image.layers[i].blob;
      if (blob && blob->digest != manifest->layers[i].digest) {
        return Fail(ErrorCode::kInvalidArgument,
                    "layer " + std::to_string(i) + " of " + image.listed_by + " is blob " +
                        manifest->layers[i].digest.str() + ", not " + blob->digest.str());
      }
    }
  }
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    const IngestLayer& layer = image.layers[i];
    if (layer.staged != nullptr) {
      STRATA_TRY(CheckLayerDiffId(i, layer.origin, diff_ids[i], layer.staged->diff_id));
    }
  }
  return diff_ids;
}

namespace {

// Step 2: every blob the transaction will name exists before it commits.
Status CommitBlobs(ContentStore& content, IngestImage& image) {
  for (IngestLayer& layer : image.layers) {
    if (layer.staged != nullptr) STRATA_TRY(CommitStagedLayer(content, *layer.staged));
    std::optional<BlobWriter>* writer = layer.blob_writer;
    if (writer == nullptr || !*writer || !layer.blob) continue;
    if (content.Exists(layer.blob->digest)) {
      (*writer)->Abort();
    } else {
      STRATA_TRY((*writer)->Commit(layer.blob->digest));
    }
    writer->reset();
  }
  STRATA_TRY(content.Put(image.config_bytes));
  if (image.manifest) STRATA_TRY(content.Put(image.manifest->bytes));
  return {};
}

// Records one image's layers by chainID; a known layer that was not unpacked takes the
// directory staging unpacked.
Status RecordLayers(Store& store, IngestImage& image, const std::vector<Digest>& diff_ids) {
  Metadata& md = store.metadata();
  std::vector<Digest> chain = ChainIds(diff_ids);
  for (size_t i = 0; i < chain.size(); ++i) {
    STRATA_ASSIGN(existing, md.GetLayer(chain[i]));
    StagedLayer* staged = image.layers[i].staged;
    if (existing) {
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
                       .diff_id = diff_ids[i],
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
  return {};
}

// Points refs at an image inside an open transaction; appends the tags that moved.
Result<bool> PutReferences(Metadata& md, const Digest& id, const std::vector<Reference>& refs,
                           std::vector<CommitEvent>& events) {
  bool changed = false;
  for (const Reference& ref : refs) {
    STRATA_ASSIGN(old, md.GetRef(ref.String()));
    if (old && old->image_id == id) continue;
    if (old) events.push_back({CommitEvent::kTagMoved, ref.FamiliarString(), old->image_id});
    STRATA_TRY(PutReference(md, ref, id));
    changed = true;
  }
  return changed;
}

}  // namespace

Result<IngestResult> IngestImages(Store& store, std::vector<IngestImage>& images) {
  IngestResult result;
  std::vector<std::vector<Digest>> diff_ids;
  for (const IngestImage& image : images) {
    result.image_ids.push_back(Digest::Sha256Of(image.config_bytes));
    STRATA_ASSIGN(ids, CheckIngestImage(image));
    diff_ids.push_back(std::move(ids));
  }
  for (IngestImage& image : images) STRATA_TRY(CommitBlobs(store.content(), image));

  Metadata& md = store.metadata();
  STRATA_ASSIGN(tx, md.Begin());
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  const std::string tag_time = NowRfc3339Nano();
  for (size_t n = 0; n < images.size(); ++n) {
    IngestImage& image = images[n];
    const Digest& id = result.image_ids[n];
    // Which compressed blob carries which diffID goes in before the layers: a layer staged
    // without its tar (StageOptions::store_tar = false) is only readable through this record.
    for (size_t i = 0; i < image.layers.size(); ++i) {
      const auto& blob = image.layers[i].blob;
      if (!blob || blob->digest == diff_ids[n][i]) continue;
      STRATA_TRY(md.AddLayerBlob(LayerBlob{.diff_id = diff_ids[n][i],
                                           .digest = blob->digest,
                                           .media_type = blob->media_type,
                                           .size = blob->size}));
    }
    STRATA_TRY(RecordLayers(store, image, diff_ids[n]));
    const std::vector<Digest> chain = ChainIds(diff_ids[n]);
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
        result.events.push_back({CommitEvent::kTagMoved, tag.FamiliarString(), old->image_id});
      }
      STRATA_TRY(PutReference(md, tag, id));
      STRATA_TRY(md.SetLastTagTime(id, tag_time));
    }
    if (image.manifest) {
      STRATA_TRY(
          md.AddImageManifest(ImageManifestRecord{.image_id = id,
                                                  .digest = Digest::Sha256Of(image.manifest->bytes),
                                                  .media_type = image.manifest->media_type}));
    }
    if (image.source) {
      std::vector<Digest> blobs{id};
      for (const IngestLayer& layer : image.layers) {
        if (layer.blob) blobs.push_back(layer.blob->digest);
      }
      for (const Digest& d : blobs) {
        STRATA_TRY(md.AddBlobSource(BlobSource{d, image.source->domain(), image.source->path()}));
      }
    }
  }
  STRATA_TRY(tx.Commit());
  return result;
}

Result<std::vector<CommitEvent>> AddReferences(Store& store, const Digest& image_id,
                                               const std::vector<Reference>& refs) {
  std::vector<CommitEvent> events;
  if (refs.empty()) return events;
  Metadata& md = store.metadata();
  STRATA_ASSIGN(tx, md.Begin());
  STRATA_ASSIGN(changed, PutReferences(md, image_id, refs, events));
  if (changed) STRATA_TRY(md.SetLastTagTime(image_id, NowRfc3339Nano()));
  STRATA_TRY(tx.Commit());
  return events;
}

Result<std::vector<CommitEvent>> TagImage(Store& store, const Digest& image_id,
                                          const Reference& tag) {
  if (tag.digest()) {
    return Fail(ErrorCode::kInvalidArgument, "refusing to create a tag with a digest reference");
  }
  if (tag.path() == "library/sha256" || tag.path() == "sha256") {
    return Fail(ErrorCode::kInvalidArgument,
                "refusing to create an ambiguous tag using digest algorithm as name");
  }
  std::vector<CommitEvent> events;
  Metadata& md = store.metadata();
  STRATA_ASSIGN(tx, md.Begin());
  STRATA_TRY(PutReferences(md, image_id, {TagNameOnly(tag)}, events));
  STRATA_TRY(md.SetLastTagTime(image_id, NowRfc3339Nano()));
  STRATA_TRY(tx.Commit());
  return events;
}

}  // namespace strata
