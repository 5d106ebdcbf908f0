#include "snapshot/snapshotter.h"

#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <utility>

#include "util/file.h"

namespace strata {
namespace {

constexpr size_t kMaxIdLength = 128;
constexpr const char* kStagingSuffix = ".staging";

tl::unexpected<Error> SysFail(const std::string& what, const std::string& path) {
  return Fail(what + " " + path + ": " + std::strerror(errno));
}

// Bytes of regular files (each inode once) and inodes under `dir`, never following symlinks.
// Best effort: what cannot be read is not counted.
SnapshotUsage TreeUsage(const std::string& dir) {
  SnapshotUsage usage;
  std::set<std::pair<dev_t, ino_t>> linked;  // inodes with several names, counted once
  auto count = [&](const std::string& path) {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0) return;
    if (st.st_nlink > 1 && !S_ISDIR(st.st_mode) && !linked.insert({st.st_dev, st.st_ino}).second) {
      return;
    }
    ++usage.inodes;
    if (S_ISREG(st.st_mode)) usage.bytes += static_cast<int64_t>(st.st_size);
  };
  count(dir);
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(dir, ec);
       !ec && it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    count(it->path().string());
  }
  return usage;
}

}  // namespace

std::string Mount::OptionsString() const {
  std::string out;
  for (const std::string& o : options) out += (out.empty() ? "" : ",") + o;
  return out;
}

Status Snapshotter::CheckId(const std::string& id) {
  bool valid = !id.empty() && id.size() <= kMaxIdLength;
  for (char c : id) {
    valid = valid && ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '_' || c == '-');
  }
  if (valid) return {};
  return Fail(ErrorCode::kInvalidArgument,
              "invalid snapshot id \"" + id + "\": want 1 to 128 of [A-Za-z0-9_-]");
}

bool Snapshotter::Exists(const std::string& id) const {
  return CheckId(id) && IsDirectory(FilesDir(id));
}

std::string Snapshotter::NewStagingDir() const {
  return dir_ + "/" + RandomHexId().substr(0, 32) + kStagingSuffix;
}

Status Snapshotter::CommitStaged(const std::string& staging_dir, const std::string& id) {
  STRATA_TRY(CheckId(id));
  if (!staging_dir.starts_with(dir_ + "/") || !staging_dir.ends_with(kStagingSuffix)) {
    return Fail(ErrorCode::kInvalidArgument,
                staging_dir + " is not a staging directory of " + dir_);
  }
  // <holder>/fs is assembled under a staging name, then appears as <id> in one rename.
  const std::string holder = NewStagingDir();
  if (::mkdir(holder.c_str(), 0700) != 0) return SysFail("create", holder);
  if (::rename(staging_dir.c_str(), (holder + "/fs").c_str()) != 0) {
    auto failed = SysFail("rename", staging_dir);
    (void)RemoveAll(holder);
    return failed;
  }
  STRATA_TRY(RemoveAll(SnapshotDir(id)));
  if (::rename(holder.c_str(), SnapshotDir(id).c_str()) != 0) return SysFail("rename", holder);
  return {};
}

Result<std::string> Snapshotter::LowerDirs(const std::vector<std::string>& parents) const {
  std::string lower;
  for (const std::string& parent : parents) {
    STRATA_TRY(CheckId(parent));
    if (!IsDirectory(FilesDir(parent))) {
      return Fail(ErrorCode::kNotFound, "snapshot " + parent + " does not exist");
    }
    if (PathExists(WorkDir(parent))) {
      return Fail(ErrorCode::kInvalidArgument,
                  "snapshot " + parent + " is active: only committed snapshots can be parents");
    }
    lower += (lower.empty() ? "" : ":") + FilesDir(parent);
  }
  return lower;
}

Result<std::vector<Mount>> Snapshotter::Prepare(const std::string& id,
                                                const std::vector<std::string>& parents) {
  STRATA_TRY(CheckId(id));
  STRATA_TRY(LowerDirs(parents));  // the parents exist and are committed
  if (::mkdir(SnapshotDir(id).c_str(), 0700) != 0) {
    if (errno == EEXIST) {
      return Fail(ErrorCode::kAlreadyExists, "snapshot " + id + " already exists");
    }
    return SysFail("create", SnapshotDir(id));
  }
  if (::mkdir(FilesDir(id).c_str(), 0755) != 0 || ::mkdir(WorkDir(id).c_str(), 0700) != 0) {
    auto failed = SysFail("create", FilesDir(id));
    (void)RemoveAll(SnapshotDir(id));
    return failed;
  }
  return Mounts(id, parents);
}

Result<std::vector<Mount>> Snapshotter::Mounts(const std::string& id,
                                               const std::vector<std::string>& parents) const {
  STRATA_TRY(CheckId(id));
  if (!PathExists(WorkDir(id))) {
    return Fail(ErrorCode::kNotFound, "snapshot " + id + " is not an active snapshot");
  }
  // overlayfs splits its options at ',' and its lower directories at ':'.
  if (dir_.find_first_of(",:") != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "the snapshot directory " + dir_ + " holds ',' or ':', which overlayfs can't take");
  }
  if (parents.empty()) return std::vector<Mount>{{"bind", FilesDir(id), {"rbind", "rw"}}};
  STRATA_ASSIGN(lower, LowerDirs(parents));
  return std::vector<Mount>{
      {"overlay",
       "overlay",
       {"workdir=" + WorkDir(id), "upperdir=" + FilesDir(id), "lowerdir=" + lower}}};
}

Status Snapshotter::Commit(const std::string& id) {
  STRATA_TRY(CheckId(id));
  if (!PathExists(WorkDir(id))) {
    return Fail(ErrorCode::kNotFound, "snapshot " + id + " is not an active snapshot");
  }
  return RemoveAll(WorkDir(id));
}

Result<std::vector<Mount>> Snapshotter::View(const std::vector<std::string>& parents) const {
  if (parents.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "a view needs at least one committed snapshot");
  }
  if (dir_.find_first_of(",:") != std::string::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "the snapshot directory " + dir_ + " holds ',' or ':', which overlayfs can't take");
  }
  STRATA_ASSIGN(lower, LowerDirs(parents));
  if (parents.size() == 1) return std::vector<Mount>{{"bind", lower, {"ro", "rbind"}}};
  return std::vector<Mount>{{"overlay", "overlay", {"ro", "lowerdir=" + lower}}};
}

Status Snapshotter::Remove(const std::string& id) {
  STRATA_TRY(CheckId(id));
  return RemoveAll(SnapshotDir(id));
}

Result<std::vector<SnapshotInfo>> Snapshotter::List() const {
  if (!PathExists(dir_)) return std::vector<SnapshotInfo>{};  // a store only ever read
  STRATA_ASSIGN(names, ListDirectory(dir_));
  std::vector<SnapshotInfo> out;
  for (const std::string& name : names) {
    if (!CheckId(name) || !IsDirectory(FilesDir(name))) continue;
    out.push_back(
        {name, PathExists(WorkDir(name)) ? SnapshotKind::kActive : SnapshotKind::kCommitted});
  }
  return out;
}

Result<SnapshotUsage> Snapshotter::Usage(const std::string& id) const {
  STRATA_TRY(CheckId(id));
  if (!IsDirectory(FilesDir(id))) {
    return Fail(ErrorCode::kNotFound, "snapshot " + id + " does not exist");
  }
  return TreeUsage(FilesDir(id));
}

Result<int64_t> Snapshotter::RemoveAllExcept(const std::set<std::string>& keep) {
  if (!PathExists(dir_)) return int64_t{0};
  STRATA_ASSIGN(names, ListDirectory(dir_));
  int64_t reclaimed = 0;
  for (const std::string& name : names) {
    if (keep.count(name)) continue;
    reclaimed += TreeUsage(dir_ + "/" + name).bytes;
    STRATA_TRY(RemoveAll(dir_ + "/" + name));
  }
  return reclaimed;
}

}  // namespace strata
