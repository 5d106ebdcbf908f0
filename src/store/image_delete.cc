#include "store/image_delete.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "reference/reference.h"
#include "store/image_lookup.h"

namespace strata {
namespace {

// Bytes of the regular files under `dir` (best effort).
uint64_t TreeSize(const std::string& dir) {
  uint64_t total = 0;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::error_code size_ec;
    if (it->is_regular_file(size_ec) && !it->is_symlink(size_ec)) {
      const auto size = it->file_size(size_ec);
      if (!size_ec) total += size;
    }
  }
  return total;
}

std::string FamiliarRef(const RefRecord& ref) {
  auto parsed = ParseReference(ref.name);
  return parsed ? parsed->FamiliarString() : ref.name;
}

// Removes every snapshot directory that no domain's gc_snapshots_* view names (the images
// domain's names the unpacked layers left after the dead ones' rows went), staging leftovers of
// interrupted unpacks included, and the layers/ directory of releases before snapshots. Returns
// the bytes reclaimed.
Result<int64_t> CollectSnapshots(Store& store) {
  STRATA_ASSIGN(roots, store.metadata().DomainSnapshotRoots());
  std::set<std::string> keep;
  for (const Metadata::SnapshotRoot& root : roots) keep.insert(root.id);
  STRATA_ASSIGN(reclaimed, store.snapshots().RemoveAllExcept(keep));
  // images schema step 2 marked every layer of that directory not unpacked: nothing reads it.
  const std::string legacy = store.root() + "/layers";
  if (PathExists(legacy)) {
    reclaimed += static_cast<int64_t>(TreeSize(legacy));
    STRATA_TRY(RemoveAll(legacy));
  }
  return reclaimed;
}

// Deletes one image row and its references (caller checked it may go).
Status DeleteImageRecord(Metadata& md, const Digest& id, DeleteReport& report) {
  STRATA_ASSIGN(refs, md.RefsForImage(id));
  for (const RefRecord& ref : refs) {
    STRATA_TRY(md.DeleteRef(ref.name));
    report.Untagged(FamiliarRef(ref));
  }
  STRATA_TRY(md.DeleteImageManifests(id));
  STRATA_TRY(md.DeleteImage(id));
  report.Deleted(id.str());
  return {};
}

// docker's isSingleReference: no reference, or one, or one tag (else the first digest reference)
// with digest references of its repository only. Two tags are two references even in one
// repository.
bool IsSingleReference(const std::vector<RefRecord>& refs) {
  if (refs.size() <= 1) return true;
  const RefRecord* tag = nullptr;
  std::set<std::string> digest_repositories;
  for (const RefRecord& r : refs) {
    if (r.is_digest) {
      digest_repositories.insert(r.repository);
    } else if (tag != nullptr) {
      return false;
    } else {
      tag = &r;
    }
  }
  const std::string& repository = tag != nullptr ? tag->repository : refs[0].repository;
  return digest_repositories.size() == 1 && digest_repositories.count(repository) == 1;
}

// Docker's prune of the parent chain after a delete: parents go while they are untagged and
// childless.
Status PruneParents(Metadata& md, std::optional<Digest> parent, DeleteReport& report) {
  while (parent) {
    STRATA_ASSIGN(record, md.GetImage(*parent));
    if (!record) return {};
    STRATA_ASSIGN(refs, md.RefsForImage(*parent));
    STRATA_ASSIGN(children, md.Children(*parent));
    if (!refs.empty() || !children.empty()) return {};
    STRATA_TRY(DeleteImageRecord(md, *parent, report));
    parent = record->parent;
  }
  return {};
}

Result<DeleteReport> CollectGarbageLocked(Store& store, DeleteReport report) {
  Metadata& md = store.metadata();
  ContentStore& content = store.content();
  STRATA_ASSIGN(images, md.ListImages());
  STRATA_ASSIGN(layers, md.ListLayers());
  std::map<std::string, const LayerRecord*> by_chain;
  for (const LayerRecord& l : layers) by_chain[l.chain_id.str()] = &l;

  std::set<std::string> live_chains;
  std::set<Digest> live_blobs;
  for (const ImageRecord& image : images) {
    live_blobs.insert(image.id);
    std::optional<Digest> chain = image.top_layer;
    while (chain && live_chains.insert(chain->str()).second) {
      auto it = by_chain.find(chain->str());
      if (it == by_chain.end()) break;
      chain = it->second->parent;
    }
  }
  // Layers: remove rows first (one transaction), then their files; a crash in between leaves
  // only unreferenced files, which the next gc removes.
  std::vector<const LayerRecord*> dead;
  for (const LayerRecord& l : layers) {
    if (live_chains.count(l.chain_id.str())) {
      live_blobs.insert(l.diff_id);
    } else {
      dead.push_back(&l);
    }
  }
  {
    STRATA_ASSIGN(tx, md.Begin());
    for (const LayerRecord* l : dead) {
      STRATA_TRY(md.DeleteLayer(l->chain_id));
      report.Deleted(l->chain_id.str());
      report.removed_layers_size += l->size;
    }
    STRATA_ASSIGN(blobs, md.ListLayerBlobs());
    for (const LayerBlob& b : blobs) {
      if (!live_blobs.count(b.diff_id)) {
        STRATA_TRY(md.DeleteLayerBlobs(b.diff_id));
      }
    }
    STRATA_TRY(tx.Commit());
  }
  STRATA_ASSIGN(blobs, md.ListLayerBlobs());
  for (const LayerBlob& b : blobs) live_blobs.insert(b.digest);
  std::set<Digest> image_ids;
  for (const ImageRecord& image : images) image_ids.insert(image.id);
  STRATA_ASSIGN(manifests, md.ListImageManifests());
  for (const ImageManifestRecord& m : manifests) {
    if (image_ids.count(m.image_id)) live_blobs.insert(m.digest);
  }
  STRATA_ASSIGN(roots, md.DomainGcRoots());
  for (const Metadata::GcRoot& root : roots) live_blobs.insert(root.digest);

  STRATA_ASSIGN(reclaimed, CollectSnapshots(store));
  report.reclaimed_bytes += reclaimed;
  STRATA_ASSIGN(all_blobs, content.List());
  for (const Digest& blob : all_blobs) {
    if (live_blobs.count(blob)) continue;
    auto size = content.Size(blob);
    if (size) report.reclaimed_bytes += static_cast<int64_t>(*size);
    STRATA_TRY(content.Delete(blob));
  }
  STRATA_ASSIGN(ingest_freed, content.CleanIngest(kIngestKeepSeconds, kPartialKeepSeconds));
  report.reclaimed_bytes += static_cast<int64_t>(ingest_freed);
  return report;
}

// The images docker's prune starts from: without `all` the childless ones without a tag;
// with `all` every image except untagged ones with children (intermediate images, which go
// with their last child). `filter` then picks by creation time and labels.
Result<std::vector<Digest>> PruneCandidates(Store& store, bool all, const PruneFilter& filter) {
  Metadata& md = store.metadata();
  STRATA_ASSIGN(images, md.ListImages());
  std::vector<Digest> out;
  for (const ImageRecord& image : images) {
    STRATA_ASSIGN(children, md.Children(image.id));
    STRATA_ASSIGN(refs, md.RefsForImage(image.id));
    const bool tagged =
        std::any_of(refs.begin(), refs.end(), [](const RefRecord& r) { return !r.is_digest; });
    if (!all && (!children.empty() || tagged)) continue;
    if (refs.empty() && !children.empty()) continue;
    if (filter.NeedsConfig()) {
      STRATA_ASSIGN(config, LoadImageConfig(store, image.id));
      using Labels = std::map<std::string, std::string>;
      std::optional<Labels> labels;
      if (config.config()) labels = config.config()->labels.value_or(Labels{});
      if (!filter.Selects(config.created(), labels)) continue;
    }
    out.push_back(image.id);
  }
  return out;
}

// docker's ImageDelete of each reference of a prune candidate: an image that (still) has
// children keeps existing untagged; otherwise it goes, with its untagged childless parents.
Status PruneImage(Metadata& md, const Digest& id, DeleteReport& report) {
  STRATA_ASSIGN(record, md.GetImage(id));
  if (!record) return {};  // went already as the parent of an earlier candidate
  STRATA_ASSIGN(children, md.Children(id));
  if (!children.empty()) {
    STRATA_ASSIGN(refs, md.RefsForImage(id));
    for (const RefRecord& ref : refs) {
      STRATA_TRY(md.DeleteRef(ref.name));
      report.Untagged(FamiliarRef(ref));
    }
    return {};
  }
  STRATA_TRY(DeleteImageRecord(md, id, report));
  return PruneParents(md, record->parent, report);
}

}  // namespace

Result<DeleteReport> CollectGarbage(Store& store) { return CollectGarbageLocked(store, {}); }

Result<DeleteReport> RemoveImage(Store& store, const std::string& name, bool force,
                                 bool prune_parents) {
  STRATA_ASSIGN(lock, store.LockExclusive());
  Metadata& md = store.metadata();
  STRATA_ASSIGN(id, ResolveImage(store, name));
  STRATA_ASSIGN(record, md.GetImage(id));
  if (!record) return Fail(ErrorCode::kNotFound, "No such image: " + name);
  STRATA_ASSIGN(refs, md.RefsForImage(id));
  STRATA_ASSIGN(children, md.Children(id));

  DeleteReport report;
  STRATA_ASSIGN(tx, md.Begin());
  // Named by one of its references (docker's ImageDelete with a reference): that reference goes,
  // and a tag takes with it the digest references of its repository when no other tag of that
  // repository is left. The image goes only when no reference is left and no child needs it.
  std::optional<RefRecord> named;
  if (auto ref = ParseNormalizedNamed(name)) {
    std::string key = TagNameOnly(*ref).String();
    for (const RefRecord& r : refs) {
      if (r.name == key) named = r;
    }
  }
  if (named) {
    STRATA_TRY(md.DeleteRef(named->name));
    report.Untagged(FamiliarRef(*named));
    const bool repository_tag_left = std::any_of(refs.begin(), refs.end(), [&](const RefRecord& r) {
      return !r.is_digest && r.name != named->name && r.repository == named->repository;
    });
    size_t refs_left = 0;
    for (const RefRecord& r : refs) {
      if (r.name == named->name) continue;
      if (!named->is_digest && !repository_tag_left && r.is_digest &&
          r.repository == named->repository) {
        STRATA_TRY(md.DeleteRef(r.name));
        report.Untagged(FamiliarRef(r));
        continue;
      }
      ++refs_left;
    }
    if (refs_left > 0 || !children.empty()) {  // an image with children stays, as in docker
      STRATA_TRY(tx.Commit());
      return report;
    }
  } else {
    // By ID: docker checks for children first, then (unless forced) for references other than
    // one tag and digests of its repository (isSingleReference).
    if (!children.empty()) {
      return Fail(ErrorCode::kConflict,
                  "conflict: unable to delete " + id.short_id() +
                      " (cannot be forced) - image has dependent child images");
    }
    if (!force && !IsSingleReference(refs)) {
      return Fail(ErrorCode::kConflict,
                  "conflict: unable to delete " + id.short_id() +
                      " (must be forced) - image is referenced in multiple repositories");
    }
  }
  STRATA_TRY(DeleteImageRecord(md, id, report));
  if (prune_parents) STRATA_TRY(PruneParents(md, record->parent, report));
  STRATA_TRY(tx.Commit());
  return CollectGarbageLocked(store, std::move(report));
}

Result<DeleteReport> PruneImages(Store& store, bool all, const PruneFilter& filter) {
  STRATA_ASSIGN(lock, store.LockExclusive());
  Metadata& md = store.metadata();
  STRATA_ASSIGN(candidates, PruneCandidates(store, all, filter));
  DeleteReport report;
  STRATA_ASSIGN(tx, md.Begin());
  for (const Digest& id : candidates) STRATA_TRY(PruneImage(md, id, report));
  STRATA_TRY(tx.Commit());
  return CollectGarbageLocked(store, std::move(report));
}

}  // namespace strata
