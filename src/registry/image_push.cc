#include "registry/image_push.h"

#include <atomic>
#include <mutex>
#include <thread>

#include "archive/compressing_reader.h"
#include "image/image_config.h"
#include "oci/manifest.h"
#include "reference/reference.h"
#include "store/image_commit.h"
#include "store/image_lookup.h"
#include "store/layer_content.h"
#include "store/sqlite.h"
#include "transport/image_transport.h"
#include "util/parallel.h"

namespace strata {
namespace {

constexpr uint64_t kMaxManifestSize = 4 << 20;

bool HasCompression(std::string_view media_type, Compression c) {
  if (c == Compression::kGzip) {
    return media_type == kDockerLayerGzipMediaType || media_type == kOciLayerGzipMediaType;
  }
  if (c == Compression::kZstd) return media_type == kOciLayerZstdMediaType;
  return false;
}

bool IsCompressedLayer(std::string_view media_type) {
  return HasCompression(media_type, Compression::kGzip) ||
         HasCompression(media_type, Compression::kZstd);
}

// One blob to get into the repository, with what the store knows about where it already is.
struct BlobTask {
  std::string id;                                // progress row: short diffID, as docker push shows
  std::optional<Digest> diff_id;                 // for layers
  std::optional<LayerTarSource> tar;             // where its tar is (found on the planning thread)
  std::vector<Descriptor> candidates;            // known compressed forms (same bytes elsewhere)
  std::vector<std::vector<BlobSource>> sources;  // per candidate
  std::vector<bool> stored;                      // per candidate: the content store has its bytes
  // Set by the worker.
  std::optional<Descriptor> pushed;  // the form that is now in the repository
  bool compressed_now = false;       // produced by this push (record it as the diffID's blob)
};

enum class KnownBlobOutcome { kInRepository, kUnavailable };

struct PushContext {
  Store& store;
  const PushTarget& target;
  const PushOptions& options;
  std::atomic<bool> cancelled{false};

  void Report(const std::string& id, LayerStatus status, uint64_t current = 0, uint64_t total = 0,
              std::string detail = {}) {
    if (options.progress && !id.empty()) {
      options.progress(LayerProgress{id, status, current, total, detail});
    }
  }

  // Gets a blob with a known digest into the repository: already there (HEAD), mounted from a
  // sibling repository, or uploaded from the content store.
  Result<KnownBlobOutcome> PushKnown(BlobTask& task, size_t c) {
    RegistryClient& client = *target.client;
    const Descriptor& blob = task.candidates[c];
    STRATA_ASSIGN(exists, client.BlobExists(target.repository, blob.digest));
    if (exists) {
      Report(task.id, LayerStatus::kAlreadyExists);
      return KnownBlobOutcome::kInRepository;
    }
    for (const BlobSource& s : task.sources[c]) {
      if (s.registry != target.registry || s.repository == target.repository) continue;
      STRATA_ASSIGN(mounted, client.MountBlob(target.repository, blob.digest, s.repository));
      if (mounted) {
        Report(task.id, LayerStatus::kMounted, 0, 0, s.repository);
        return KnownBlobOutcome::kInRepository;
      }
    }
    if (!task.stored[c]) return KnownBlobOutcome::kUnavailable;
    const uint64_t total = static_cast<uint64_t>(blob.size);
    STRATA_TRY(client.UploadBlob(
        target.repository, blob,
        // Checked while it is sent: a damaged blob fails the upload before the registry has it.
        [&] { return store.content().OpenVerified(blob.digest, static_cast<uint64_t>(blob.size)); },
        options.chunk_size,
        [&](uint64_t done) { Report(task.id, LayerStatus::kPushing, done, total); }));
    Report(task.id, LayerStatus::kPushed);
    return KnownBlobOutcome::kInRepository;
  }

  // Compresses the layer's tar while uploading it.
  Result<Descriptor> PushCompressed(BlobTask& task) {
    if (!task.tar) return Fail("layer " + task.diff_id->str() + " is missing from the store");
    STRATA_ASSIGN(tar, OpenLayerTar(store.content(), *task.tar));
    STRATA_ASSIGN(compressed,
                  NewCompressingReader(*tar, options.compression, options.compression_level));
    const std::string media_type(options.compression == Compression::kZstd
                                     ? kOciLayerZstdMediaType
                                     : kDockerLayerGzipMediaType);
    STRATA_ASSIGN(blob, target.client->UploadStream(
                            target.repository, *compressed, media_type,
                            [&](uint64_t done) { Report(task.id, LayerStatus::kPushing, done); }));
    Report(task.id, LayerStatus::kPushed);
    return blob;
  }

  Status PushLayer(BlobTask& task) {
    for (size_t c = 0; c < task.candidates.size(); ++c) {
      STRATA_ASSIGN(outcome, PushKnown(task, c));
      if (outcome == KnownBlobOutcome::kInRepository) {
        task.pushed = task.candidates[c];
        return {};
      }
    }
    if (!task.diff_id) return Fail("blob " + task.id + " is not in the store");
    STRATA_ASSIGN(blob, PushCompressed(task));
    task.pushed = blob;
    task.compressed_now = true;
    return {};
  }
};

Result<BlobTask> PlanBlob(Store& store, std::string id, std::optional<Digest> diff_id,
                          std::vector<Descriptor> candidates) {
  BlobTask task;
  task.id = std::move(id);
  task.diff_id = std::move(diff_id);
  if (task.diff_id) {
    auto tar = FindLayerTar(store, *task.diff_id);
    if (tar) task.tar = *tar;
  }
  for (Descriptor& d : candidates) {
    STRATA_ASSIGN(sources, store.metadata().BlobSources(d.digest));
    task.sources.push_back(std::move(sources));
    task.stored.push_back(store.content().Exists(d.digest));
    task.candidates.push_back(std::move(d));
  }
  return task;
}

// The image's recorded manifest, when its layers are compressed and each is either in the store
// or known to be in this registry.
Result<std::optional<std::pair<ManifestBlob, ImageManifest>>> ReusableManifest(
    Store& store, const ImageConfig& config, const PushTarget& target, const PushOptions& options) {
  using Found = std::optional<std::pair<ManifestBlob, ImageManifest>>;
  STRATA_ASSIGN(records, store.metadata().ImageManifests(config.id()));
  for (const ImageManifestRecord& r : records) {
    if (!IsImageManifestMediaType(r.media_type)) continue;
    auto bytes = store.content().ReadVerified(r.digest, kMaxManifestSize);
    if (!bytes) continue;
    auto parsed = ParseImageManifest(*bytes, r.media_type);
    if (!parsed || parsed->config.digest != config.id()) continue;
    if (parsed->layers.size() != config.diff_ids().size()) continue;
    bool usable = true;
    for (const Descriptor& l : parsed->layers) {
      if (!IsCompressedLayer(l.media_type) ||
          (options.compression_forced && !HasCompression(l.media_type, options.compression))) {
        usable = false;
        break;
      }
      if (store.content().Exists(l.digest)) continue;
      STRATA_ASSIGN(sources, store.metadata().BlobSources(l.digest));
      bool known = false;
      for (const BlobSource& s : sources) known |= s.registry == target.registry;
      if (!known) {
        usable = false;
        break;
      }
    }
    if (usable) return Found(std::make_pair(ManifestBlob{*bytes, r.media_type, false}, *parsed));
  }
  return Found();
}

Status RunTasks(PushContext& ctx, std::vector<BlobTask>& tasks) {
  auto push = [&](size_t i) -> Status {
    auto st = ctx.PushLayer(tasks[i]);
    if (!st) return Wrap("layer " + tasks[i].id, st.error());
    return {};
  };
  return RunParallel(tasks.size(), ctx.options.max_concurrent_uploads, push, ctx.cancelled);
}

}  // namespace

Result<PushResult> PushImage(Store& store, const PushTarget& target, const Digest& image_id,
                             const std::string& tag, const PushOptions& options) {
  STRATA_ASSIGN(lock, store.LockShared());
  STRATA_ASSIGN(config, LoadImageConfig(store, image_id));
  const std::vector<Digest>& diff_ids = config.diff_ids();
  PushContext ctx{store, target, options};

  STRATA_ASSIGN(reusable, ReusableManifest(store, config, target, options));
  std::vector<BlobTask> tasks;  // one per distinct layer blob, top layer first (docker's order)
  std::vector<size_t> task_of_layer(diff_ids.size());
  for (size_t k = diff_ids.size(); k-- > 0;) {
    const Digest& diff_id = diff_ids[k];
    size_t found = tasks.size();
    for (size_t t = 0; t < tasks.size(); ++t) {
      if (tasks[t].diff_id == diff_id) found = t;
    }
    if (found == tasks.size()) {
      std::vector<Descriptor> candidates;
      if (reusable) {
        candidates.push_back(reusable->second.layers[k]);
      } else {
        STRATA_ASSIGN(known, store.metadata().LayerBlobs(diff_id));
        for (const LayerBlob& b : known) {
          if (HasCompression(b.media_type, options.compression)) {
            candidates.push_back({b.media_type, b.digest, b.size});
          }
        }
      }
      STRATA_ASSIGN(task, PlanBlob(store, diff_id.hex().substr(0, 12), diff_id, candidates));
      if (reusable) task.diff_id.reset();  // the recorded blob must be used as it is
      tasks.push_back(std::move(task));
      ctx.Report(tasks.back().id, LayerStatus::kPreparing);
    }
    task_of_layer[k] = found;
  }
  if (auto pushed = RunTasks(ctx, tasks); !pushed) {
    return Wrap("image " + image_id.str(), pushed.error());  // no manifest names a failed layer
  }

  // The config, then the manifest.
  const bool oci = !reusable && options.compression == Compression::kZstd;
  const Descriptor config_blob =
      reusable ? reusable->second.config
               : Descriptor{std::string(oci ? kOciConfigMediaType : kDockerConfigMediaType),
                            config.id(), static_cast<int64_t>(config.bytes().size())};
  ManifestBlob manifest = reusable ? reusable->first : ManifestBlob{};
  if (!reusable) {
    std::vector<Descriptor> layers;
    for (size_t k = 0; k < diff_ids.size(); ++k) {
      Descriptor d = *tasks[task_of_layer[k]].pushed;
      const bool gzip = HasCompression(d.media_type, Compression::kGzip);
      d.media_type = !oci ? kDockerLayerGzipMediaType
                          : (gzip ? kOciLayerGzipMediaType : kOciLayerZstdMediaType);
      layers.push_back(d);
    }
    manifest = oci ? ManifestBlob{MarshalOciManifest(config_blob, layers),
                                  std::string(kOciManifestMediaType), false}
                   : ManifestBlob{MarshalDockerPushManifest(config_blob, layers),
                                  std::string(kDockerManifestMediaType), false};
  }
  // The config like a layer (HEAD, mount, upload), without a progress row.
  STRATA_ASSIGN(config_task, PlanBlob(store, "", std::nullopt, {config_blob}));
  config_task.stored[0] = true;
  auto config_pushed = ctx.PushKnown(config_task, 0);
  if (!config_pushed) return Wrap("image config " + config.id().str(), config_pushed.error());
  RegistryClient& client = *target.client;
  const Digest digest = manifest.digest();
  STRATA_ASSIGN(registry_digest,
                client.PutManifest(target.repository, tag.empty() ? digest.str() : tag, manifest));
  if (registry_digest != digest) {
    return Fail("the registry stored manifest " + registry_digest.str() + " but strata sent " +
                digest.str());
  }

  // Remember what is where, and the digest reference docker adds after a push.
  STRATA_TRY(store.content().Put(manifest.bytes));
  Metadata& md = store.metadata();
  STRATA_ASSIGN(tx, md.Begin());
  for (const BlobTask& task : tasks) {
    if (task.compressed_now) {
      STRATA_TRY(md.AddLayerBlob(LayerBlob{*task.diff_id, task.pushed->digest,
                                           task.pushed->media_type, task.pushed->size}));
    }
    STRATA_TRY(
        md.AddBlobSource(BlobSource{task.pushed->digest, target.registry, target.repository}));
  }
  STRATA_TRY(md.AddBlobSource(BlobSource{config.id(), target.registry, target.repository}));
  STRATA_TRY(md.AddImageManifest(ImageManifestRecord{
      .image_id = config.id(), .digest = digest, .media_type = manifest.media_type}));
  auto name = ParseNormalizedNamed(target.registry + "/" + target.repository);
  if (name) STRATA_TRY(PutReference(md, name->NameOnly().WithDigest(digest), config.id()));
  STRATA_TRY(tx.Commit());
  return PushResult{digest, static_cast<int64_t>(manifest.bytes.size())};
}

}  // namespace strata
