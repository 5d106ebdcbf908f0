// Snapshots: the directories that hold unpacked layers (committed snapshots) and, later,
// containers' writable layers (active snapshots), kept as containerd's overlayfs snapshotter
// keeps them. This is the only code that knows their layout, under the store's snapshots/:
//   <id>/fs          a snapshot's files: a layer's diff in overlay form (archive/unpack.h,
//                    WhiteoutForm::kOverlay), or an active snapshot's upper directory
//   <id>/work        an active snapshot's overlayfs work directory (its presence makes it active)
//   <random>.staging a layer being unpacked (NewStagingDir), renamed into place by CommitStaged
//
// The snapshotter keeps no metadata of its own. Which snapshots are live, and what their parents
// are, is their owners' business: the images domain's layers table names committed layers by
// cache-id, and a containers domain will name its writable layers. Owners name the snapshots they
// keep in views gc_snapshots_<domain> (store/metadata.h), and gc removes every snapshot no view
// names (RemoveAllExcept), so a snapshot another domain owns survives a gc that does not know it.
//
// Mounts are described, not performed: the caller (a runtime, a test) mounts them. Parents are
// given nearest first, as overlayfs' lowerdir lists them.
//
// Thread safety: the methods touch only the file system and may run concurrently on different
// ids. Callers serialise changes to one id, and gc against everything else (the store's lock).
// Crashes: a committed snapshot appears by one rename of its staging directory, so a crash leaves
// a complete snapshot or a staging leftover, which gc removes.
#pragma once

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "util/result.h"

namespace strata {

enum class SnapshotKind {
  kCommitted,  // read-only, a lower layer of others
  kActive,     // writable: an upper and a work directory
};

struct SnapshotInfo {
  std::string id;
  SnapshotKind kind = SnapshotKind::kCommitted;
};

// A mount as mount(8) takes it: `mount -t TYPE -o OPTIONS SOURCE TARGET`.
struct Mount {
  std::string type;                   // "overlay" or "bind"
  std::string source;                 // "overlay", or the directory bound
  std::vector<std::string> options;   // "ro", "rbind", "lowerdir=A:B", "upperdir=U", ...
  std::string OptionsString() const;  // joined with ','
};

// containerd's snapshots.Usage: bytes of the regular files (each inode once) and inodes used.
struct SnapshotUsage {
  int64_t bytes = 0;
  int64_t inodes = 0;
};

class Snapshotter {
 public:
  // Over `dir` (<store>/snapshots), which the store creates.
  explicit Snapshotter(std::string dir) : dir_(std::move(dir)) {}

  const std::string& dir() const { return dir_; }

  // A snapshot id names a directory: 1 to 128 of [A-Za-z0-9_-]. The store's cache-ids are 64 hex
  // digits. Invalid arguments otherwise (nothing named ".." or "a/b" ever reaches the disk).
  static Status CheckId(const std::string& id);

  // The directory holding snapshot `id`'s files (for committed ones, the layer's content).
  std::string FilesDir(const std::string& id) const { return dir_ + "/" + id + "/fs"; }
  bool Exists(const std::string& id) const;

  // --- Committed snapshots from an unpack.
  // A fresh path under dir() that does not exist yet, for a layer to be unpacked into (in the
  // overlay form); the unpacker creates it. Gc removes it unless it is committed.
  std::string NewStagingDir() const;
  // Moves `staging_dir` (from NewStagingDir) into place as the committed snapshot `id`,
  // replacing a snapshot of that id. `staging_dir` is gone afterwards.
  Status CommitStaged(const std::string& staging_dir, const std::string& id);

  // --- Active snapshots (containerd's Prepare, Commit, Mounts).
  // Creates the active snapshot `id` over the committed `parents` (nearest first, may be empty)
  // and returns its mounts. Already exists if `id` does.
  Result<std::vector<Mount>> Prepare(const std::string& id,
                                     const std::vector<std::string>& parents);
  // The mounts of the existing active snapshot `id` over `parents`.
  Result<std::vector<Mount>> Mounts(const std::string& id,
                                    const std::vector<std::string>& parents) const;
  // Makes the active snapshot `id` committed: its upper directory becomes a lower for others.
  Status Commit(const std::string& id);
  // A read-only view of the committed `parents` (nearest first, at least one). Nothing is created
  // for it, so there is nothing to remove: one layer is a read-only bind mount of its files,
  // several an overlay of lower directories only.
  Result<std::vector<Mount>> View(const std::vector<std::string>& parents) const;

  // Removes snapshot `id` (not an error if it does not exist).
  Status Remove(const std::string& id);
  // Every snapshot, by id (staging leftovers are not snapshots and are not listed).
  Result<std::vector<SnapshotInfo>> List() const;
  Result<SnapshotUsage> Usage(const std::string& id) const;

  // Gc: removes every directory under dir() that `keep` does not name, staging leftovers
  // included, and returns the bytes of regular files that went.
  Result<int64_t> RemoveAllExcept(const std::set<std::string>& keep);

 private:
  std::string SnapshotDir(const std::string& id) const { return dir_ + "/" + id; }
  std::string WorkDir(const std::string& id) const { return dir_ + "/" + id + "/work"; }
  Result<std::string> LowerDirs(const std::vector<std::string>& parents) const;

  std::string dir_;
};

}  // namespace strata
