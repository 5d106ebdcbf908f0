#include "registry/image_pull.h"

#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "image/image_config.h"
#include "oci/platform.h"
#include "store/layer_content.h"
#include "store/layer_unpack.h"
#include "store/sqlite.h"
#include "transport/image_transport.h"
#include "transport/store_transport.h"
#include "util/cancel.h"
#include "util/debug_log.h"
#include "util/file.h"
#include "util/parallel.h"

namespace strata {
namespace {

constexpr uint64_t kMaxConfigSize = 8 << 20;

std::string ShortId(const Digest& d) { return d.hex().substr(0, 12); }

// Fails every read once the pull has been abandoned (another layer failed, or the user pressed
// Ctrl-C), so a worker stops downloading a layer nobody will commit.
class CancellableReader : public Reader {
 public:
  CancellableReader(Reader& source, const std::atomic<bool>& cancelled)
      : source_(source), cancelled_(cancelled) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    if (CancelRequested()) return Failed(CancelledError());
    if (cancelled_.load(std::memory_order_relaxed))
      return Failed(Error{"cancelled", ErrorCode::kCancelled});
    auto n = source_.Read(buffer, size);
    if (!n) failed_ = true;
    return n;
  }
  // Whether the input broke off (as opposed to its bytes failing a check).
  bool failed() const { return failed_; }

 private:
  tl::unexpected<Error> Failed(Error e) {
    failed_ = true;
    return tl::unexpected(std::move(e));
  }
  Reader& source_;
  const std::atomic<bool>& cancelled_;
  bool failed_ = false;
};

// The bytes an earlier attempt kept (ContentStore::PartialPath), then the rest from the registry.
class ResumedBlobReader : public Reader {
 public:
  ResumedBlobReader(UniqueFd partial, std::string path, std::unique_ptr<Reader> rest)
      : partial_(partial.release(), std::move(path), /*owns=*/true), rest_(std::move(rest)) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    if (!partial_done_) {
      STRATA_ASSIGN(n, partial_.Read(buffer, size));
      if (n > 0) return n;
      partial_done_ = true;
    }
    return rest_ ? rest_->Read(buffer, size) : Result<size_t>(0);
  }

 private:
  FdReader partial_;
  bool partial_done_ = false;
  std::unique_ptr<Reader> rest_;
};

// The layer blob's bytes: from the registry, or, when an earlier pull kept part of it, that part
// followed by the rest with a Range request. Every byte is verified all the same.
Result<std::unique_ptr<Reader>> OpenLayerBlob(Store& store, const PullSource& source,
                                              const Descriptor& blob,
                                              const ByteProgressFn& progress) {
  const std::string partial = store.content().PartialPath(blob.digest);
  struct stat st;
  const bool have = ::stat(partial.c_str(), &st) == 0 && st.st_size > 0;
  if (!have || st.st_size > blob.size) {
    if (have) ::unlink(partial.c_str());
    return source.client->GetBlob(source.repository, blob, progress);
  }
  auto fd = OpenRead(partial);
  if (!fd) return source.client->GetBlob(source.repository, blob, progress);
  const uint64_t offset = static_cast<uint64_t>(st.st_size);
  DebugLog("layer " + ShortId(blob.digest) + ": resuming at byte " + std::to_string(offset) +
           " of " + std::to_string(blob.size) + " from a partial download");
  std::unique_ptr<Reader> rest;
  if (offset < static_cast<uint64_t>(blob.size)) {
    STRATA_ASSIGN(r, source.client->GetBlobFrom(source.repository, blob, offset, progress));
    rest = std::move(r);
  }
  return std::unique_ptr<Reader>(new ResumedBlobReader(std::move(*fd), partial, std::move(rest)));
}

// The image manifest the reference names, resolving an index to the wanted platform.
Result<ManifestBlob> FetchImageManifest(RegistryClient& client, const std::string& repo,
                                        const ManifestBlob& top, const PullOptions& options) {
  if (!IsIndexMediaType(top.media_type)) return top;
  STRATA_ASSIGN(entries, ParseIndex(top.bytes));
  const Platform want = options.platform.value_or(HostPlatform());
  STRATA_ASSIGN(entry, SelectPlatform(entries, want.os, want.architecture, want.variant));
  const Descriptor& d = entry.descriptor;
  STRATA_ASSIGN(manifest, client.GetManifest(repo, d.digest.str()));
  if (!IsImageManifestMediaType(manifest.media_type)) {
    return Fail("manifest " + d.digest.str() + " for " + FormatPlatform(want) +
                " is not an image manifest (" + manifest.media_type + ")");
  }
  if (static_cast<int64_t>(manifest.bytes.size()) != d.size) {
    return Fail("manifest " + d.digest.str() + " has " + std::to_string(manifest.bytes.size()) +
                " bytes, the index states " + std::to_string(d.size));
  }
  return manifest;
}

Result<std::string> FetchConfig(Store& store, RegistryClient& client, const std::string& repo,
                                const Descriptor& config) {
  if (store.content().Exists(config.digest)) {
    auto bytes = store.content().ReadVerified(config.digest, kMaxConfigSize);
    if (bytes) return bytes;
  }
  STRATA_ASSIGN(reader, client.GetBlob(repo, config));
  auto bytes = ReadVerifiedBlob(*reader, config, kMaxConfigSize);
  if (!bytes) return Wrap("image config " + config.digest.str(), bytes.error());
  return bytes;
}

// A layer the store already holds: its staged form without a blob to commit.
Result<std::optional<StagedBlob>> ExistingLayer(Store& store, const Descriptor& blob,
                                                const Digest& diff_id) {
  STRATA_ASSIGN(has_tar, HasLayerTar(store, diff_id));
  if (!has_tar) return std::optional<StagedBlob>();
  STRATA_ASSIGN(record, store.metadata().FindLayerByDiffId(diff_id));
  if (!record) return std::optional<StagedBlob>();
  StagedLayer layer{.diff_id = diff_id,
                    .tar_size = static_cast<uint64_t>(record->tar_size),
                    .size = record->size,
                    .compression = "none",
                    .blob = std::nullopt,
                    .unpacked_dir = {},
                    .unpack_losses = {}};
  return std::optional<StagedBlob>(
      StagedBlob{.blob = blob, .layer = std::move(layer), .compressed = std::nullopt});
}

// One layer blob to download; `index` is its first position in the manifest.
struct LayerJob {
  Descriptor blob;
  Digest diff_id;
  size_t index = 0;
  std::shared_ptr<StagedBlob> staged;
};

void Report(const PullOptions& options, const std::string& id, LayerStatus status,
            uint64_t current = 0, uint64_t total = 0) {
  if (options.progress) options.progress(LayerProgress{id, status, current, total, {}});
}

// Downloads and stages the jobs with up to max_concurrent_downloads workers; stops at the first
// failure and returns it.
Status DownloadLayers(Store& store, const PullSource& source, std::vector<LayerJob>& jobs,
                      const PullOptions& options) {
  std::atomic<bool> cancelled{false};
  auto download = [&](size_t i) -> Status {
    LayerJob& job = jobs[i];
    const std::string id = ShortId(job.blob.digest);
    const uint64_t total = static_cast<uint64_t>(job.blob.size);
    Report(options, id, LayerStatus::kDownloading, 0, total);
    DebugLog("layer " + id + ": downloading " + std::to_string(total) + " bytes");
    auto reader = OpenLayerBlob(store, source, job.blob, [&](uint64_t done) {
      Report(options, id, LayerStatus::kDownloading, done, total);
    });
    if (!reader) return Wrap("layer " + job.blob.digest.str(), reader.error());
    CancellableReader input(**reader, cancelled);
    StageOptions stage;
    if (options.unpack) stage.unpack_dir = store.snapshots().NewStagingDir();
    // The registry's blob is kept (a push re-serves it); the tar is derived from it when
    // needed, so it is not written a second time.
    stage.store_tar = false;
    // Staged on a thread that ends with the layer, so that it may lower its own priority.
    stage.yield_if_cheap = options.unpack;
    // A download that breaks off keeps what it got; the next pull continues from there.
    const std::string partial = store.content().PartialPath(job.blob.digest);
    stage.partial_path = partial;
    std::optional<Result<StagedBlob>> result;
    std::thread([&] {
      result.emplace(StageLayerBlob(store.content(), job.blob, input, stage));
    }).join();
    Result<StagedBlob>& staged = *result;
    // Bytes that failed a check are worth nothing to a later attempt.
    if (staged || !input.failed()) ::unlink(partial.c_str());
    if (!staged) return Wrap("layer " + job.blob.digest.str(), staged.error());
    // The ingest checks it too; checked here, a wrong layer stops the other downloads at once.
    if (auto checked = CheckLayerDiffId(job.index, "blob " + job.blob.digest.str(), job.diff_id,
                                        staged->layer.diff_id);
        !checked) {
      if (!staged->layer.unpacked_dir.empty()) (void)RemoveAll(staged->layer.unpacked_dir);
      return checked;
    }
    DebugLog("layer " + id + ": verified, " + std::to_string(staged->layer.tar_size) +
             " bytes uncompressed" + (options.unpack ? ", unpacked" : ""));
    Report(options, id, LayerStatus::kVerifying);
    Report(options, id, LayerStatus::kDownloadComplete);
    job.staged = std::make_shared<StagedBlob>(std::move(*staged));
    return {};
  };
  return RunParallel(jobs.size(), options.max_concurrent_downloads, download, cancelled);
}

// Removes what staging unpacked for layers that will not be committed.
void DiscardUnpacked(std::vector<LayerJob>& jobs) {
  for (LayerJob& job : jobs) {
    if (job.staged && !job.staged->layer.unpacked_dir.empty()) {
      (void)RemoveAll(job.staged->layer.unpacked_dir);
      job.staged->layer.unpacked_dir.clear();
    }
  }
}

Result<bool> UpToDate(Store& store, const Digest& image_id, const std::vector<Reference>& refs) {
  STRATA_ASSIGN(image, store.metadata().GetImage(image_id));
  if (!image) return false;
  for (const Reference& ref : refs) {
    STRATA_ASSIGN(existing, store.metadata().GetRef(ref.String()));
    if (!existing || existing->image_id != image_id) return false;
  }
  return true;
}

}  // namespace

Result<PullResult> PullImage(Store& store, const PullSource& source, const Reference& name,
                             const PullOptions& options) {
  RegistryClient& client = *source.client;
  const std::string& repo = source.repository;
  const std::string reference =
      name.digest() ? name.digest()->str() : name.tag().value_or("latest");
  STRATA_ASSIGN(lock, store.LockShared());

  STRATA_ASSIGN(top, client.GetManifest(repo, reference));
  const Digest top_digest = name.digest() ? *name.digest() : top.digest();
  STRATA_ASSIGN(manifest, FetchImageManifest(client, repo, top, options));
  auto parsed = ParseImageManifest(manifest.bytes, manifest.media_type);
  if (!parsed) return Wrap("manifest " + manifest.digest().str(), parsed.error());
  DebugLog("manifest " + manifest.digest().str() + " fetched");
  STRATA_ASSIGN(config_bytes, FetchConfig(store, client, repo, parsed->config));
  // The ingest's checks, before any layer is fetched: the diffIDs pair with the manifest's blobs.
  IngestImage planned;
  planned.config_bytes = config_bytes;
  planned.manifest = IngestManifest{.bytes = manifest.bytes, .media_type = manifest.media_type};
  planned.listed_by = "manifest " + manifest.digest().str();
  for (const Descriptor& blob : parsed->layers) {
    planned.layers.push_back(
        IngestLayer{.staged = nullptr, .blob = blob, .blob_writer = nullptr, .origin = {}});
  }
  STRATA_ASSIGN(diff_ids, CheckIngestImage(planned));
  const Digest image_id = Digest::Sha256Of(config_bytes);

  std::vector<Reference> refs;
  if (name.tag()) refs.push_back(name.WithoutDigest());
  refs.push_back(name.NameOnly().WithDigest(top_digest));

  PullResult result{.digest = top_digest,
                    .image_id = image_id,
                    .up_to_date = false,
                    .events = {},
                    .unpack_losses = {}};
  STRATA_ASSIGN(up_to_date, UpToDate(store, image_id, refs));

  // Plan: every distinct blob is either in the store already or downloaded once.
  std::vector<std::shared_ptr<StagedBlob>> layers(diff_ids.size());
  std::vector<LayerJob> jobs;
  std::map<Digest, size_t> job_of_blob;
  std::vector<std::optional<size_t>> layer_job(diff_ids.size());
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    const Descriptor& blob = parsed->layers[i];
    STRATA_ASSIGN(existing, ExistingLayer(store, blob, diff_ids[i]));
    if (existing) {
      layers[i] = std::make_shared<StagedBlob>(std::move(*existing));
      // docker prints no layer rows for an image that is up to date.
      if (!up_to_date) Report(options, ShortId(blob.digest), LayerStatus::kAlreadyExists);
      continue;
    }
    auto [it, inserted] = job_of_blob.emplace(blob.digest, jobs.size());
    if (inserted) {
      jobs.push_back(LayerJob{blob, diff_ids[i], i, nullptr});
      Report(options, ShortId(blob.digest), LayerStatus::kPullingFsLayer);
    } else if (jobs[it->second].diff_id != diff_ids[i]) {
      return Fail("manifest " + manifest.digest().str() + " uses blob " + blob.digest.str() +
                  " for two layers the config gives different diffIDs");
    }
    layer_job[i] = it->second;
  }
  for (size_t j = static_cast<size_t>(std::max(1, options.max_concurrent_downloads));
       j < jobs.size(); ++j) {
    Report(options, ShortId(jobs[j].blob.digest), LayerStatus::kWaiting);
  }

  auto downloaded = DownloadLayers(store, source, jobs, options);
  if (!downloaded) {
    DiscardUnpacked(jobs);
    return tl::unexpected(downloaded.error());
  }
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    if (layer_job[i]) layers[i] = jobs[*layer_job[i]].staged;
  }

  std::vector<PendingImport> imports;
  imports.push_back(MakePendingImport(config_bytes, manifest, layers, refs));
  imports[0].image.source = name;
  DebugLog("layers staged; committing");
  auto committed = CommitImports(store, imports);
  if (!committed) {
    DiscardUnpacked(jobs);
    return tl::unexpected(committed.error());
  }
  result.events = std::move(committed->events);
  for (const LayerJob& job : jobs) {  // the unpacked directories the commit moved into place
    if (job.staged && job.staged->layer.unpacked_dir.empty()) {
      result.unpack_losses.Add(job.staged->layer.unpack_losses);
    }
  }
  for (const LayerJob& job : jobs)
    Report(options, ShortId(job.blob.digest), LayerStatus::kPullComplete);
  DebugLog("image " + image_id.str() + " committed");
  if (options.unpack) {
    auto unpacked = UnpackImage(store, image_id);
    if (!unpacked) return Wrap("unpacking image " + image_id.str(), unpacked.error());
    result.unpack_losses.Add(unpacked->losses);
    DebugLog("image " + image_id.str() + " ready to run");
  }
  result.up_to_date = up_to_date && jobs.empty();
  return result;
}

}  // namespace strata
