#include "layer/layer_stage.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <functional>
#include <thread>
#include <unordered_map>
#include <utility>
#include <vector>

#include "archive/compression.h"
#include "archive/layer_size.h"
#include "archive/tar_reader.h"
#include "archive/tar_writer.h"
#include "archive/unpack.h"
#include "util/byte_pipe.h"
#include "util/clean_path.h"
#include "util/debug_log.h"
#include "util/file.h"

namespace strata {
namespace {

// Passes bytes through to the staging blob as the tar parser pulls them, so the blob, its hash
// and the parse all come from one read of the input.
class TeeReader : public Reader {
 public:
  // Exactly one of `sink` (store the tar, hashed as it is written) and `hasher` (only hash it).
  TeeReader(Reader& source, BlobWriter* sink, Hasher* hasher, Writer* second)
      : source_(source), sink_(sink), hasher_(hasher), second_(second) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    STRATA_ASSIGN(n, source_.Read(buffer, size));
    if (n == 0) return n;
    if (sink_ != nullptr) {
      STRATA_TRY(sink_->Write(buffer, n));
    } else {
      hasher_->Update(buffer, n);
    }
    if (second_ != nullptr) STRATA_TRY(second_->Write(buffer, n));
    count_ += n;
    if (milestone_ && count_ >= milestone_at_) std::exchange(milestone_, nullptr)();
    return n;
  }
  uint64_t count() const { return count_; }
  // Calls `fn` once, as soon as `at` bytes have passed.
  void OnceAt(uint64_t at, std::function<void()> fn) {
    milestone_at_ = at;
    milestone_ = std::move(fn);
  }

 private:
  Reader& source_;
  BlobWriter* sink_;
  Hasher* hasher_;
  Writer* second_;
  uint64_t count_ = 0;
  uint64_t milestone_at_ = 0;
  std::function<void()> milestone_;
};

// Unpacks the stream it is fed on a thread of its own, so a layer is extracted while it is
// being hashed and stored instead of being read back afterwards.
class BackgroundUnpack {
 public:
  explicit BackgroundUnpack(std::string dir) : dir_(std::move(dir)) {}
  ~BackgroundUnpack() {
    if (thread_.joinable()) {
      pipe_.CloseWrite();
      thread_.join();
    }
  }

  Status Start() {
    STRATA_TRY(RemoveAll(dir_));
    if (::mkdir(dir_.c_str(), 0755) != 0) {
      return Fail("create " + dir_ + ": " + std::strerror(errno));
    }
    thread_ = std::thread([this] {
      thread_id_.store(static_cast<int>(::gettid()));
      TarReader tar(pipe_.reader());
      auto stats = UnpackLayer(tar, dir_, {.whiteouts = WhiteoutForm::kOverlay});
      if (!stats) status_ = tl::unexpected(stats.error());
      if (stats) losses_.Add(*stats);
      if (DebugLogEnabled() && stats) {
        DebugLog("unpacked " + std::to_string(stats->entries) + " entries into " + dir_);
      }
      pipe_.Abandon();  // whatever follows the end marker is not needed here
    });
    return {};
  }
  Writer& input() { return pipe_.writer(); }
  // What could not be reproduced (valid after Finish()).
  const UnpackLosses& losses() const { return losses_; }
  // The unpacking thread's id, 0 until it has started.
  int thread_id() const { return thread_id_.load(); }

  // Ends the stream and waits; the error, if any, is the unpacker's.
  Status Finish() {
    pipe_.CloseWrite();
    thread_.join();
    return status_;
  }

 private:
  std::string dir_;
  std::atomic<int> thread_id_{0};
  BytePipe pipe_;
  std::thread thread_;
  Status status_;
  UnpackLosses losses_;
};

// Refuses entries that could write outside the layer root when unpacked: names that climb out
// or are absolute, hard links to such targets, and entries placed under a symlink this same layer
// created (the write would go wherever the link points). Docker's own layers contain none.
class EntryChecker {
 public:
  Status Check(const TarEntry& entry) {
    auto path = RootRelative(entry.name);
    if (!path) return Invalid(entry, "path escapes the root");
    if (entry.name.starts_with("/")) return Invalid(entry, "absolute path");
    std::string_view base = *path;
    if (auto slash = base.rfind('/'); slash != std::string_view::npos) {
      base = base.substr(slash + 1);
    }
    if (base.starts_with(".wh.") && !base.starts_with(".wh..wh.")) {
      std::string_view target = base.substr(4);
      if (target.empty() || target == "." || target == "..") {
        return Fail("invalid whiteout entry \"" + entry.name + "\"");
      }
    }
    if (entry.type == TarType::kHardlink) {
      auto target = RootRelative(entry.linkname);
      if (!target || target->empty() || entry.linkname.starts_with("/")) {
        return Invalid(entry, "hard link target \"" + entry.linkname + "\" escapes the root");
      }
    }
    for (size_t slash = path->find('/'); slash != std::string::npos;
         slash = path->find('/', slash + 1)) {
      auto link = symlinks_.find(path->substr(0, slash));
      if (link != symlinks_.end()) {
        return Invalid(
            entry, "its parent \"" + link->first + "\" is a symlink to \"" + link->second + "\"");
      }
    }
    if (entry.type == TarType::kSymlink) {
      symlinks_[*path] = entry.linkname;
    } else {
      symlinks_.erase(*path);
    }
    return {};
  }

 private:
  static tl::unexpected<Error> Invalid(const TarEntry& entry, const std::string& why) {
    return Fail("invalid tar entry \"" + entry.name + "\": " + why);
  }
  std::unordered_map<std::string, std::string> symlinks_;
};

// StageOptions::yield_if_cheap: a layer is cheap to unpack below this many entries per MiB
// (each entry costs the unpacking thread some 30 µs; a MiB costs the staging thread ~3 ms), as
// judged after this much of its tar.
constexpr uint64_t kCheapEntriesPerMiB = 16;
constexpr uint64_t kJudgeAfterBytes = 16 << 20;
constexpr int kYieldNice = 5;

// Raises the nice value of the calling thread and of thread `other` (if not 0) by kYieldNice.
void YieldCpu(int other) {
  errno = 0;
  const int nice = ::getpriority(PRIO_PROCESS, 0);
  if (nice == -1 && errno != 0) return;
  const int target = std::min(nice + kYieldNice, 19);
  (void)::setpriority(PRIO_PROCESS, 0, target);
  if (other != 0) (void)::setpriority(PRIO_PROCESS, static_cast<id_t>(other), target);
}

}  // namespace

Result<StagedLayer> StageLayer(const ContentStore& content, Reader& input,
                               const StageOptions& options) {
  Compression compression = Compression::kNone;
  STRATA_ASSIGN(decoded, AutoDecompress(input, &compression));
  std::optional<BlobWriter> blob;
  Hasher hasher;
  if (options.store_tar) {
    STRATA_ASSIGN(writer, content.NewWriter());
    blob.emplace(std::move(writer));
  }
  std::optional<BackgroundUnpack> unpack;
  if (!options.unpack_dir.empty()) {
    unpack.emplace(options.unpack_dir);
    STRATA_TRY(unpack->Start());
  }
  // On any error below the partial directory goes; the destructor stops the thread first.
  struct RemoveOnError {
    std::optional<BackgroundUnpack>& unpack;
    const std::string& dir;
    bool armed = true;
    ~RemoveOnError() {
      if (!armed || dir.empty()) return;
      unpack.reset();
      (void)RemoveAll(dir);
    }
  } cleanup{unpack, options.unpack_dir};
  TeeReader tee(*decoded, blob ? &*blob : nullptr, &hasher, unpack ? &unpack->input() : nullptr);
  TarReader tar(tee);
  LayerSizeCounter size;
  EntryChecker checker;
  uint64_t entries = 0;
  if (options.yield_if_cheap && unpack) {
    tee.OnceAt(kJudgeAfterBytes, [&] {
      if (entries * (1 << 20) / tee.count() < kCheapEntriesPerMiB) YieldCpu(unpack->thread_id());
    });
  }
  for (;;) {
    STRATA_ASSIGN(entry, tar.Next());
    if (!entry) break;
    STRATA_TRY(checker.Check(*entry));
    size.Add(*entry);
    ++entries;
  }
  STRATA_TRY(tar.DrainRest());
  if (unpack) {
    auto st = unpack->Finish();
    if (!st) return Wrap("unpacking into " + options.unpack_dir, st.error());
  }
  Digest diff_id = hasher.Finish();
  if (blob) {
    STRATA_ASSIGN(stored, blob->Finish());
    diff_id = stored;
  }
  cleanup.armed = false;
  StagedLayer out{.diff_id = diff_id,
                  .tar_size = tee.count(),
                  .size = size.total(),
                  .compression = std::string(CompressionName(compression)),
                  .blob = std::move(blob),
                  .unpacked_dir = options.unpack_dir,
                  .unpack_losses = unpack ? unpack->losses() : UnpackLosses{}};
  return out;
}

Status CommitStagedLayer(const ContentStore& content, StagedLayer& layer) {
  if (!layer.blob) return {};
  if (content.Exists(layer.diff_id)) {
    layer.blob->Abort();
  } else {
    STRATA_TRY(layer.blob->Commit(layer.diff_id));
  }
  layer.blob.reset();
  return {};
}

Result<StagedLayer> StageProducedTar(const ContentStore& content, const std::string& what,
                                     const std::function<Status(TarWriter&)>& produce) {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0) return Fail(std::string("pipe: ") + std::strerror(errno));
  UniqueFd read_end(fds[0]);
  Status writer_status;
  std::thread writer([&, write_fd = fds[1]] {
    UniqueFd owned(write_fd);
    FdWriter out(write_fd, "tar stream of " + what);
    TarWriter tar(out);
    writer_status = produce(tar);
    if (writer_status) writer_status = tar.Close();
  });
  FdReader reader(read_end.get(), "tar stream of " + what);
  auto staged = StageLayer(content, reader);
  read_end = UniqueFd();  // unblocks the writer if staging stopped early
  writer.join();
  if (!writer_status) return Wrap("archiving " + what, writer_status.error());
  return staged;
}

Result<StagedLayer> StageDirectory(const ContentStore& content, const std::string& dir,
                                   const DirTarOptions& tar_options) {
  return StageProducedTar(
      content, dir, [&](TarWriter& tar) { return WriteDirectoryTree(dir, tar, tar_options); });
}

}  // namespace strata
