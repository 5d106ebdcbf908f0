#include "migrate/migration.h"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "archive/dir_tar.h"
#include "archive/tree_changes.h"
#include "image/chain_id.h"
#include "image/image_config.h"
#include "layer/layer_stage.h"
#include "migrate/tar_split.h"
#include "migrate/v1_image_config.h"
#include "store/image_commit.h"
#include "util/file.h"
#include "util/json_depth.h"
#include "util/parallel.h"

namespace strata {
namespace {

// One layer's bytes, read once however many images use it.
struct LayerJob {
  const PlannedLayer* planned = nullptr;
  std::optional<StagedLayer> staged;
  std::string error;
  bool done = false;
};

// The 12 hex digits a progress row names a layer by: its recorded diffID, else the last long
// hex word of its description.
std::string LayerProgressId(const PlannedLayer& layer) {
  if (layer.recorded_diff_id) return layer.recorded_diff_id->hex().substr(0, 12);
  std::string best;
  std::string word;
  for (char c : layer.source + " ") {
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
      word += c;
      continue;
    }
    if (word.size() >= 12) best = word.substr(0, 12);
    word.clear();
  }
  return best.empty() ? layer.source : best;
}

Result<StagedLayer> StageFromSource(const ContentStore& content, const PlannedLayer& layer,
                                    const BlobProgressFn& progress) {
  if (layer.kind == PlannedLayer::Source::kAufsBranch) {
    return StageDirectory(content, layer.files_dir, DirTarOptions{.skip_aufs_metadata = true});
  }
  if (layer.kind == PlannedLayer::Source::kTreeDiff) {
    STRATA_ASSIGN(changes, TreeChanges(layer.files_dir, layer.parent_files_dir));
    return StageProducedTar(content, layer.files_dir, [&](TarWriter& tar) {
      return WriteChangesTar(layer.files_dir, changes, tar);
    });
  }
  STRATA_ASSIGN(assembler, TarSplitAssembler::Open(layer.tar_split, layer.files_dir));
  if (!progress) return StageLayer(content, *assembler);
  ProgressReader counted(*assembler, progress, LayerProgressId(layer), 0);
  return StageLayer(content, counted);
}

Result<StagedLayer> ReadLayer(const ContentStore& content, const PlannedLayer& layer,
                              const BlobProgressFn& progress) {
  if (!layer.problem.empty()) return Fail(layer.problem);
  STRATA_ASSIGN(staged, StageFromSource(content, layer, progress));
  if (layer.recorded_diff_id && staged.diff_id != *layer.recorded_diff_id) {
    return Fail("its files reassemble to " + staged.diff_id.str() + " but Docker recorded " +
                layer.recorded_diff_id->str() + ": the files under " + layer.files_dir +
                " were modified");
  }
  return staged;
}

// Reads layer jobs on a pool in the background; the committing thread waits for the ones it
// needs, in order, so images are committed while later layers are still being read.
class LayerReaders {
 public:
  LayerReaders(const ContentStore& content, std::vector<LayerJob>& jobs, int workers,
               const MigrationProgressFn& progress, const BlobProgressFn& layer_progress)
      : content_(content),
        jobs_(jobs),
        workers_(workers),
        progress_(progress),
        layer_progress_(layer_progress) {
    state_.layers_total = jobs.size();
  }
  ~LayerReaders() { Stop(); }

  void Start() {
    runner_ = std::thread([this] {
      (void)RunParallel(
          jobs_.size(), workers_, [this](size_t i) { return Run(i); }, cancel_);
    });
  }
  // Stops handing out layers and waits for those being read.
  void Stop() {
    cancel_ = true;
    if (runner_.joinable()) runner_.join();
  }
  LayerJob& Wait(size_t i) {
    std::unique_lock<std::mutex> lock(mu_);
    cv_.wait(lock, [&] { return jobs_[i].done; });
    return jobs_[i];
  }
  uint64_t bytes_read() const { return state_.bytes_done; }

 private:
  Status Run(size_t i) {
    auto staged = ReadLayer(content_, *jobs_[i].planned, layer_progress_);
    std::lock_guard<std::mutex> lock(mu_);
    LayerJob& job = jobs_[i];
    if (staged) {
      state_.bytes_done += staged->tar_size;
      job.staged.emplace(std::move(*staged));
    } else {
      job.error = job.planned->source + ": " + staged.error().message;
    }
    job.done = true;
    ++state_.layers_done;
    if (progress_) progress_(state_);
    cv_.notify_all();
    return {};  // one bad layer must not stop the others
  }

  const ContentStore& content_;
  std::vector<LayerJob>& jobs_;
  int workers_;
  const MigrationProgressFn& progress_;
  const BlobProgressFn& layer_progress_;
  std::mutex mu_;
  std::condition_variable cv_;
  MigrationProgress state_;
  std::atomic<bool> cancel_{false};
  std::thread runner_;
};

// Where a resumed legacy migration finds what it already did: v1 ID -> image ID, kept in the
// store per source data root (what .migration-v1-images.json was to Docker).
class LegacyState {
 public:
  LegacyState(const Store& store, const std::string& data_root) {
    char* real = ::realpath(data_root.c_str(), nullptr);
    const std::string key = real != nullptr ? real : data_root;
    ::free(real);
    dir_ = store.root() + "/migrations";
    path_ = dir_ + "/legacy-" + Digest::Sha256Of(key).hex() + ".json";
    if (auto bytes = ReadFile(path_)) {
      auto j = ParseUntrustedJson(*bytes);
      if (j.is_object()) map_ = std::move(j);  // a damaged file only costs a re-read
    }
  }
  std::optional<Digest> Get(const std::string& v1_id) const {
    auto it = map_.find(v1_id);
    if (it == map_.end() || !it->is_string()) return std::nullopt;
    auto d = Digest::Parse(it->get<std::string>());
    return d ? std::optional<Digest>(*d) : std::nullopt;
  }
  Status Put(const std::string& v1_id, const Digest& id) {
    map_[v1_id] = id.str();
    STRATA_TRY(MakeDirs(dir_));
    return WriteFileAtomic(path_, map_.dump(), 0600);
  }

 private:
  std::string dir_, path_;
  nlohmann::json map_ = nlohmann::json::object();
};

std::string TagMovedMessage(const CommitEvent& ev) {
  return "The image " + ev.tag + " already exists, renaming the old one with ID " +
         ev.old_image.str() + " to empty string";
}

std::string LayoutName(const MigrationPlan& plan) {
  return plan.layout == MigrationPlan::Layout::kCurrent
             ? "Docker data root " + plan.data_root + " (image/" + plan.driver + ")"
             : "legacy Docker graph " + plan.data_root + " (" + plan.driver + ")";
}

}  // namespace

Result<MigrationReport> MigrateDockerRoot(Store& store, const std::string& data_root,
                                          const MigrationOptions& options,
                                          const MigrationProgressFn& progress) {
  STRATA_ASSIGN(plan, PlanDockerMigration(data_root, options.driver));
  const bool legacy = plan.layout == MigrationPlan::Layout::kLegacy;
  MigrationReport report;
  report.layout = LayoutName(plan);
  report.dry_run = options.dry_run;
  STRATA_ASSIGN(lock, store.LockShared());
  Metadata& md = store.metadata();
  std::optional<LegacyState> state;
  if (legacy) state.emplace(store, data_root);

  const size_t n = plan.images.size();
  // Images a previous run (or a load or pull) already brought in.
  std::vector<std::optional<Digest>> image_id(n);
  std::vector<bool> present(n, false);
  for (size_t i = 0; i < n; ++i) {
    const PlannedImage& image = plan.images[i];
    if (!image.problem.empty()) continue;
    std::optional<Digest> id =
        legacy ? state->Get(image.source) : Digest::Sha256Of(image.config_bytes);
    if (!id) continue;
    STRATA_ASSIGN(row, md.GetImage(*id));
    if (row) {
      present[i] = true;
      image_id[i] = *id;
    }
  }

  // Decide which layers to read: each diffID once, none the store already has.
  std::vector<LayerJob> jobs;
  std::vector<int> job_of_layer(plan.layers.size(), -1);
  std::map<Digest, int> job_by_diff;
  std::map<Digest, StagedLayer> known_by_diff;  // in the store under another chain
  for (size_t i = 0; i < n; ++i) {
    const PlannedImage& image = plan.images[i];
    if (present[i] || !image.problem.empty() || image.layers.empty()) continue;
    const std::vector<Digest> chain = ChainIds(image.diff_ids);
    const size_t first = legacy ? image.layers.size() - 1 : 0;  // legacy: only its own layer
    for (size_t pos = first; pos < image.layers.size(); ++pos) {
      const size_t l = image.layers[pos];
      if (job_of_layer[l] >= 0) continue;
      if (!legacy) {
        STRATA_ASSIGN(have, md.GetLayer(chain[pos]));
        if (have) {
          ++report.layers_present;
          continue;
        }
        const Digest& diff = image.diff_ids[pos];
        if (auto it = job_by_diff.find(diff); it != job_by_diff.end()) {
          job_of_layer[l] = it->second;
          continue;
        }
        if (known_by_diff.count(diff) != 0) continue;
        STRATA_ASSIGN(other, md.FindLayerByDiffId(diff));
        if (other) {
          known_by_diff.emplace(diff,
                                StagedLayer{.diff_id = diff,
                                            .tar_size = static_cast<uint64_t>(other->tar_size),
                                            .size = other->size,
                                            .compression = "none",
                                            .blob = std::nullopt,
                                            .unpacked_dir = {},
                                            .unpack_losses = {}});
          ++report.layers_present;
          continue;
        }
        job_by_diff.emplace(diff, static_cast<int>(jobs.size()));
      }
      job_of_layer[l] = static_cast<int>(jobs.size());
      LayerJob job;
      job.planned = &plan.layers[l];
      jobs.push_back(std::move(job));
    }
  }

  if (options.dry_run) {
    report.layers_read = jobs.size();
    for (size_t i = 0; i < n; ++i) {
      const PlannedImage& image = plan.images[i];
      if (!image.problem.empty()) {
        report.failed.push_back({image.source, image.names, image.problem});
      } else {
        std::optional<Digest> id = image_id[i];
        if (!id && !legacy) id = Digest::Sha256Of(image.config_bytes);
        report.migrated.push_back({image.source, id, image.names, present[i]});
      }
    }
    return report;
  }

  const int workers = options.jobs > 0
                          ? options.jobs
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  // Migration writes gigabytes of layers and nothing else: direct writes spare the CPU that
  // copying them into the page cache would take (see BlobWriteMode).
  store.content().set_write_mode(BlobWriteMode::kDirect);
  LayerReaders readers(store.content(), jobs, workers, progress, options.layer_progress);
  readers.Start();

  std::vector<std::string> config_of(n);  // legacy: children continue their parent's config
  std::vector<bool> failed(n, false);
  auto fail = [&](size_t i, std::string reason) {
    failed[i] = true;
    report.failed.push_back({plan.images[i].source, plan.images[i].names, std::move(reason)});
  };
  for (size_t i = 0; i < n; ++i) {
    const PlannedImage& image = plan.images[i];
    if (!image.problem.empty()) {
      fail(i, image.problem);
      continue;
    }
    if (legacy && image.parent && failed[*image.parent]) {
      fail(i, "its parent " + plan.images[*image.parent].source + " did not migrate");
      continue;
    }
    if (present[i]) {
      // The image stays as it is and gains the names it has in the data root.
      auto events = AddReferences(store, *image_id[i], image.references);
      if (!events) {
        fail(i, events.error().message);
        continue;
      }
      for (const CommitEvent& ev : *events) report.messages.push_back(TagMovedMessage(ev));
      report.migrated.push_back({image.source, image_id[i], image.names, true});
      continue;
    }
    // Wait for this image's layers.
    std::string layer_error;
    for (size_t l : image.layers) {
      if (job_of_layer[l] < 0) continue;
      LayerJob& job = readers.Wait(static_cast<size_t>(job_of_layer[l]));
      if (!job.error.empty() && layer_error.empty()) layer_error = job.error;
    }
    if (!layer_error.empty()) {
      fail(i, layer_error);
      continue;
    }
    IngestImage ni;
    std::vector<StagedLayer*> staged_layers;
    if (legacy) {
      std::string parent_config;
      if (image.parent) {
        const size_t p = *image.parent;
        if (config_of[p].empty() && image_id[p]) {
          auto bytes = store.content().ReadVerified(*image_id[p]);
          if (!bytes) {
            fail(i, "reading the migrated config of its parent: " + bytes.error().message);
            continue;
          }
          config_of[p] = std::move(*bytes);
        }
        parent_config = config_of[p];
      }
      LayerJob& own = jobs[job_of_layer[image.layers.back()]];
      auto config = ConfigFromV1Image(image.v1_json, parent_config, own.staged->diff_id);
      if (!config) {
        fail(i, "graph/" + image.source + "/json: " + config.error().message);
        continue;
      }
      auto parsed = ImageConfig::Parse(*config);
      if (!parsed) {
        fail(i, parsed.error().message);
        continue;
      }
      ni.config_bytes = std::move(*config);
      staged_layers.assign(parsed->diff_ids().size(), nullptr);  // the ancestors' are committed
      staged_layers.back() = &*own.staged;
    } else {
      ni.config_bytes = image.config_bytes;
      for (size_t pos = 0; pos < image.layers.size(); ++pos) {
        const int j = job_of_layer[image.layers[pos]];
        StagedLayer* staged = nullptr;
        if (j >= 0) {
          staged = &*jobs[j].staged;
        } else if (auto it = known_by_diff.find(image.diff_ids[pos]); it != known_by_diff.end()) {
          staged = &it->second;
        }
        staged_layers.push_back(staged);  // null: the chain was already in the store
      }
    }
    if (image.parent && image_id[*image.parent]) ni.parent = image_id[*image.parent];
    ni.tags = image.references;
    for (size_t pos = 0; pos < staged_layers.size(); ++pos) {
      ni.layers.push_back(IngestLayer{.staged = staged_layers[pos],
                                      .blob = std::nullopt,
                                      .blob_writer = nullptr,
                                      .origin = image.source});
    }
    ni.listed_by = image.source;
    const Digest id = Digest::Sha256Of(ni.config_bytes);
    // Each image is one transaction, so an interrupted migration keeps the images it finished.
    std::vector<IngestImage> batch;
    batch.push_back(std::move(ni));
    auto committed = IngestImages(store, batch);
    if (!committed) {
      fail(i, committed.error().message);
      continue;
    }
    for (const CommitEvent& ev : committed->events) {
      report.messages.push_back(TagMovedMessage(ev));
    }
    image_id[i] = id;
    if (legacy) {
      config_of[i] = batch[0].config_bytes;
      STRATA_TRY(state->Put(image.source, id));
    }
    report.migrated.push_back({image.source, id, image.names, false});
  }
  readers.Stop();
  for (const LayerJob& job : jobs) report.layers_read += job.done && job.error.empty();
  report.bytes_read = readers.bytes_read();
  return report;
}

}  // namespace strata
