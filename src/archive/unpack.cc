#include "archive/unpack.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <optional>
#include <string_view>
#include <unordered_set>
#include <utility>
#include <vector>

#include "archive/root_fs.h"
#include "util/clean_path.h"
#include "util/file.h"

namespace strata {
namespace {

constexpr std::string_view kWhiteoutPrefix = ".wh.";
constexpr std::string_view kWhiteoutMetaPrefix = ".wh..wh.";
constexpr std::string_view kOpaqueMarker = ".wh..wh..opq";
constexpr std::string_view kAufsLinkDir = ".wh..wh.plnk";
// overlayfs: a directory with this xattr set to "y" hides the lower layers' contents of it.
constexpr const char* kOverlayOpaqueXattr = "trusted.overlay.opaque";
constexpr std::string_view kOverlayXattrPrefix = "trusted.overlay.";

// "a/b/c" -> {"a/b", "c"}; "c" -> {"", "c"}.
std::pair<std::string, std::string> SplitParent(const std::string& rel) {
  size_t slash = rel.rfind('/');
  if (slash == std::string::npos) return {"", rel};
  return {rel.substr(0, slash), rel.substr(slash + 1)};
}

std::string FirstComponent(const std::string& rel) { return rel.substr(0, rel.find('/')); }

// The names in a directory (given by any descriptor, O_PATH included). Returns 0 or an errno.
int ListNames(int dir_fd, std::vector<std::string>* names) {
  int fd = ::openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  DIR* dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return err;
  }
  for (;;) {
    errno = 0;
    struct dirent* d = ::readdir(dir);
    if (d == nullptr) break;
    if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
    names->emplace_back(d->d_name);
  }
  int err = errno;
  ::closedir(dir);
  return err;
}

// Removes `name` in `dir_fd` and, if it is a directory, everything below it, never following
// symlinks. A missing name is not an error. Returns 0 or an errno value.
int RemoveAllAt(int dir_fd, const std::string& name) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return 0;
  if (errno != EISDIR) return errno;
  int fd = ::openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return errno == ENOENT ? 0 : errno;
  UniqueFd dir(fd);
  std::vector<std::string> names;
  if (int err = ListNames(dir.get(), &names); err != 0) return err;
  for (const std::string& child : names) {
    if (int err = RemoveAllAt(dir.get(), child); err != 0) return err;
  }
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) return errno;
  return 0;
}

struct timespec ToTimespec(TarTime t) {
  struct timespec ts;
  ts.tv_sec = static_cast<time_t>(t.seconds);
  ts.tv_nsec = static_cast<long>(t.nanos);
  return ts;
}

// The process umask, read without changing it (umask(2) would, for every thread).
mode_t ProcessUmask() {
  if (auto status = ReadFile("/proc/self/status")) {
    const size_t at = status->find("\nUmask:");
    if (at != std::string::npos) {
      return static_cast<mode_t>(std::strtoul(status->c_str() + at + 7, nullptr, 8));
    }
  }
  return 07777;  // unknown: every mode gets an explicit chmod
}

class Unpacker {
 public:
  Unpacker(TarReader& tar, RootFs root, const UnpackOptions& options)
      : tar_(tar),
        root_(std::move(root)),
        options_(options),
        overlay_(options.whiteouts == WhiteoutForm::kOverlay),
        chown_(options.apply_ownership && ::geteuid() == 0 && !options.simulate_unprivileged),
        count_owners_(options.apply_ownership && !chown_),
        euid_(::geteuid()),
        egid_(::getegid()),
        umask_(ProcessUmask()),
        buffer_(1 << 20) {}

  ~Unpacker() {
    if (!aufs_dir_name_.empty()) RemoveAllAt(root_.fd(), aufs_dir_name_);
  }

  Result<UnpackStats> Run() {
    // Into an empty directory that is not setgid, a new node gets our own uid and gid, so a chown
    // to those changes nothing and is skipped (one syscall less per file, which is most of the
    // cost of unpacking small files).
    struct stat st;
    own_ids_are_exact_ = ::fstat(root_.fd(), &st) == 0 && (st.st_mode & S_ISGID) == 0 &&
                         IsEmptyDirectory("/proc/self/fd/" + std::to_string(root_.fd()));
    for (;;) {
      STRATA_ASSIGN(entry, tar_.Next());
      if (!entry) break;
      STRATA_TRY(Apply(*entry));
    }
    STRATA_TRY(ApplyDirectoryMetadata());
    return stats_;
  }

 private:
  struct CachedDir {
    std::string rel;
    UniqueFd fd;
  };

  struct DirMeta {
    std::string rel;
    int64_t mode;
    TarTime mtime;
  };

  tl::unexpected<Error> EntryError(const TarEntry& e, const std::string& what, int err) {
    return Fail("unpacking tar entry " + e.name + ": " + what + ": " + std::strerror(err));
  }

  // A refused chown (EPERM, or EINVAL for an id a user namespace does not map) leaves the
  // entry with our ownership, counted for the caller's warning; other errors stop the unpack.
  Status ChownFailed(const TarEntry& e, int err) {
    if (err != EPERM && err != EINVAL) return EntryError(e, "chown", err);
    ++stats_.owners_not_applied;
    return {};
  }

  // Not chowning (unprivileged): an entry owned by someone else keeps our ownership.
  void NoteOwnerKept(const TarEntry& e) {
    if (count_owners_ && (e.uid != euid_ || e.gid != egid_)) {
      ++stats_.owners_not_applied;
    }
  }

  Status Apply(const TarEntry& e) {
    ++stats_.entries;
    stats_.tar_size += e.size;
    std::optional<std::string> rel = RootRelative(e.name);
    if (!rel) return Fail("invalid tar entry " + e.name + ": path escapes the root");

    // AUFS metadata directories at the top ("/.wh..wh.plnk/..." and friends) are not unpacked;
    // files in the hard-link directory are kept aside as link targets.
    if (rel->starts_with(kWhiteoutMetaPrefix) && *rel != kOpaqueMarker) {
      if (FirstComponent(*rel) == kAufsLinkDir && rel->size() > kAufsLinkDir.size() &&
          e.type == TarType::kRegular) {
        return KeepAufsLinkTarget(e, *rel);
      }
      ++stats_.skipped_entries;
      return {};
    }

    auto [parent, base] = SplitParent(*rel);
    if (base.starts_with(kWhiteoutPrefix)) {
      parent_cache_.reset();  // what it removes may be (or hold) the cached directory
      if (base == kOpaqueMarker) return overlay_ ? MarkOpaque(e, parent) : ApplyOpaque(e, parent);
      if (base.starts_with(kWhiteoutMetaPrefix)) {
        ++stats_.skipped_entries;
        return {};
      }
      const std::string name = base.substr(kWhiteoutPrefix.size());
      return overlay_ ? MarkWhiteout(e, parent, name) : ApplyWhiteout(e, parent, name);
    }

    if (rel->empty()) return ApplyRootEntry(e);

    // Entries of a tar mostly come directory by directory: keep the last parent open instead of
    // resolving it again (an openat2 and a close per file). Creating `rel` cannot change what
    // its own parent resolves to; only whiteouts and opaque markers remove directories, and they
    // drop the cache.
    if (!parent_cache_ || parent_cache_->rel != parent) {
      parent_cache_.reset();
      UniqueFd parent_fd;
      if (int err = root_.MakeDirs(parent, &parent_fd); err != 0) {
        return EntryError(e, "parent directory /" + parent, err);
      }
      parent_cache_ = CachedDir{parent, std::move(parent_fd)};
    }
    STRATA_TRY(CreateEntry(e, parent_cache_->fd.get(), base, *rel));
    unpacked_.insert(*rel);
    return {};
  }

  static Status CheckWhiteoutName(const TarEntry& e, const std::string& name) {
    if (name.empty() || name == "." || name == "..") {
      return Fail("invalid whiteout " + e.name + ": it would remove \"" +
                  (name.empty() ? "." : name) + "\"");
    }
    return {};
  }

  // kOverlay: the whiteout becomes a 0/0 character device in this layer's directory, replacing
  // what this layer itself put at the name (the naive applier would have removed that too).
  Status MarkWhiteout(const TarEntry& e, const std::string& parent, const std::string& name) {
    STRATA_TRY(CheckWhiteoutName(e, name));
    UniqueFd parent_fd;
    int err = root_.MakeDirs(parent, &parent_fd);
    if (err == ENOENT || err == ENOTDIR) return {};  // under this layer's own non-directory
    if (err != 0) return EntryError(e, "parent directory /" + parent, err);
    if ((err = RemoveAllAt(parent_fd.get(), name)) != 0) {
      return EntryError(e, "remove", err);
    }
    if (::mknodat(parent_fd.get(), name.c_str(), S_IFCHR, makedev(0, 0)) != 0) {
      if (errno != EPERM && errno != EACCES) return EntryError(e, "mknod whiteout", errno);
      ++stats_.whiteouts_not_marked;  // a kernel before 5.8 without CAP_MKNOD
      return {};
    }
    ++stats_.whiteouts;
    return {};
  }

  // kOverlay: the opaque marker becomes an xattr of its directory (created if this layer did not
  // declare it); nothing is removed. A symlink at the directory's name is not followed.
  Status MarkOpaque(const TarEntry& e, const std::string& dir) {
    UniqueFd dir_fd;
    if (dir.empty()) {
      if (int err = root_.OpenDir("", &dir_fd); err != 0) return EntryError(e, "open root", err);
      return SetOpaque(e, dir_fd.get());
    }
    auto [grandparent, base] = SplitParent(dir);
    UniqueFd parent_fd;
    int err = root_.MakeDirs(grandparent, &parent_fd);
    if (err == ENOENT || err == ENOTDIR) return {};
    if (err != 0) return EntryError(e, "parent directory /" + grandparent, err);
    if (::mkdirat(parent_fd.get(), base.c_str(), 0755) == 0) {
      ::fchmodat(parent_fd.get(), base.c_str(), 0755, 0);
    } else if (errno != EEXIST) {
      return EntryError(e, "mkdir /" + dir, errno);
    }
    int fd = ::openat(parent_fd.get(), base.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) {
      if (errno == ENOTDIR || errno == ELOOP) return {};  // not a directory: nothing to mark
      return EntryError(e, "open /" + dir, errno);
    }
    dir_fd = UniqueFd(fd);
    return SetOpaque(e, dir_fd.get());
  }

  // Sets trusted.overlay.opaque on the directory `fd` (any descriptor, O_PATH included), or
  // counts it when the process may not set trusted attributes.
  Status SetOpaque(const TarEntry& e, int fd) {
    if (options_.simulate_unprivileged) {
      ++stats_.opaque_not_marked;
      return {};
    }
    const std::string path = "/proc/self/fd/" + std::to_string(fd);
    if (::setxattr(path.c_str(), kOverlayOpaqueXattr, "y", 1, 0) != 0) {
      if (errno != EPERM && errno != EACCES && errno != ENOTSUP) {
        return EntryError(e, "set opaque xattr", errno);
      }
      ++stats_.opaque_not_marked;
      return {};
    }
    ++stats_.opaque_dirs;
    return {};
  }

  // A tar's own overlay attributes would let it redirect or hide what the markers above decide.
  bool SkipXattr(const std::string& key) const {
    return overlay_ && key.starts_with(kOverlayXattrPrefix);
  }

  Status ApplyWhiteout(const TarEntry& e, const std::string& parent, const std::string& name) {
    STRATA_TRY(CheckWhiteoutName(e, name));
    UniqueFd parent_fd;
    int err = root_.MakeDirs(parent, &parent_fd);
    if (err == ENOENT || err == ENOTDIR) return {};  // nothing there to hide
    if (err != 0) return EntryError(e, "parent directory /" + parent, err);
    if ((err = RemoveAllAt(parent_fd.get(), name)) != 0) return EntryError(e, "remove", err);
    ++stats_.whiteouts;
    return {};
  }

  Status ApplyOpaque(const TarEntry& e, const std::string& dir) {
    UniqueFd dir_fd;
    if (dir.empty()) {
      if (int err = root_.OpenDir("", &dir_fd); err != 0) return EntryError(e, "open root", err);
    } else {
      auto [grandparent, base] = SplitParent(dir);
      UniqueFd parent_fd;
      int err = root_.MakeDirs(grandparent, &parent_fd);
      if (err == ENOENT || err == ENOTDIR) return {};
      if (err != 0) return EntryError(e, "parent directory /" + grandparent, err);
      struct stat st;
      if (::fstatat(parent_fd.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) return EntryError(e, "lstat /" + dir, errno);
        // Docker creates the directory holding the marker; there is nothing in it to hide.
        if (::mkdirat(parent_fd.get(), base.c_str(), 0755) != 0) {
          return EntryError(e, "mkdir /" + dir, errno);
        }
        ::fchmodat(parent_fd.get(), base.c_str(), 0755, 0);
        ++stats_.opaque_dirs;
        return {};
      }
      // A symlink (or anything not a directory) is not descended into, as Go's WalkDir does not.
      if (!S_ISDIR(st.st_mode)) return {};
      int fd =
          ::openat(parent_fd.get(), base.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return EntryError(e, "open /" + dir, errno);
      dir_fd = UniqueFd(fd);
    }
    STRATA_TRY(RemoveAllNotUnpacked(e, dir_fd.get(), dir));
    ++stats_.opaque_dirs;
    return {};
  }

  // Removes every child of `dir_fd` that this layer did not create, descending into the
  // directories it did (their older contents are hidden too).
  Status RemoveAllNotUnpacked(const TarEntry& e, int dir_fd, const std::string& dir) {
    std::vector<std::string> names;
    if (int err = ListNames(dir_fd, &names); err != 0) return EntryError(e, "list /" + dir, err);
    for (const std::string& name : names) {
      std::string child = dir.empty() ? name : dir + "/" + name;
      if (!unpacked_.count(child)) {
        if (int err = RemoveAllAt(dir_fd, name); err != 0) {
          return EntryError(e, "remove /" + child, err);
        }
        continue;
      }
      int fd = ::openat(dir_fd, name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) continue;  // not a directory: kept as is
      UniqueFd child_fd(fd);
      STRATA_TRY(RemoveAllNotUnpacked(e, child_fd.get(), child));
    }
    return {};
  }

  Status ApplyRootEntry(const TarEntry& e) {
    if (e.type != TarType::kDirectory) {
      ++stats_.skipped_entries;  // a file cannot replace the root; containerd ignores these too
      return {};
    }
    int fd = ::openat(root_.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return EntryError(e, "open root", errno);
    UniqueFd dir(fd);
    NoteOwnerKept(e);
    if (chown_ && ::fchown(dir.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0) {
      STRATA_TRY(ChownFailed(e, errno));
    }
    SetXattrsFd(dir.get(), e);
    dirs_.push_back(DirMeta{"", e.mode, e.mtime});
    return {};
  }

  Status KeepAufsLinkTarget(const TarEntry& e, const std::string& rel) {
    if (aufs_dir_name_.empty()) {
      std::string name = ".strata-plnk-" + RandomHexId().substr(0, 16);
      if (::mkdirat(root_.fd(), name.c_str(), 0700) != 0) {
        return EntryError(e, "create temporary directory", errno);
      }
      aufs_dir_name_ = name;
      unpacked_.insert(name);  // a root opaque marker must not remove it
      int fd = ::openat(root_.fd(), name.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return EntryError(e, "open temporary directory", errno);
      aufs_dir_ = UniqueFd(fd);
    }
    return CreateEntry(e, aufs_dir_.get(), SplitParent(rel).second, rel);
  }

  Status CreateEntry(const TarEntry& e, int parent_fd, const std::string& base,
                     const std::string& rel) {
    if (e.type == TarType::kOther) {
      return Fail("unpacking tar entry " + e.name + ": unsupported entry type '" +
                  std::string(1, e.typeflag) + "'");
    }
    // A hard link's inode is another entry's; a device node is counted once it exists.
    if (e.type != TarType::kHardlink && e.type != TarType::kCharDevice &&
        e.type != TarType::kBlockDevice) {
      NoteOwnerKept(e);
    }
    // The common case is a new path: try to create it, and look at what is there only if that
    // fails with EEXIST.
    if (e.type == TarType::kRegular) {
      int fd = ::openat(parent_fd, base.c_str(),
                        O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, CreateMode(e));
      if (fd >= 0) return WriteRegular(e, UniqueFd(fd));
      if (errno != EEXIST) return EntryError(e, "create", errno);
    } else if (e.type == TarType::kDirectory) {
      if (::mkdirat(parent_fd, base.c_str(), 0755) == 0) {
        return FinishNewDirectory(e, parent_fd, base, rel);
      }
      if (errno != EEXIST) return EntryError(e, "mkdir", errno);
    } else if (e.type == TarType::kSymlink) {
      if (::symlinkat(e.linkname.c_str(), parent_fd, base.c_str()) == 0) {
        return FinishNode(e, parent_fd, base.c_str(), /*is_symlink=*/true);
      }
      if (errno != EEXIST) return EntryError(e, "symlink", errno);
    }
    struct stat st;
    bool exists = ::fstatat(parent_fd, base.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
    if (!exists && errno != ENOENT) return EntryError(e, "lstat", errno);
    // kOverlay: a directory where this layer put a whiteout hides the lower one's contents.
    const bool over_whiteout = overlay_ && exists && S_ISCHR(st.st_mode) && st.st_rdev == 0 &&
                               e.type == TarType::kDirectory;
    if (exists && !(S_ISDIR(st.st_mode) && e.type == TarType::kDirectory)) {
      if (int err = RemoveAllAt(parent_fd, base); err != 0) {
        return EntryError(e, "remove existing /" + rel, err);
      }
      exists = false;
    }
    const char* name = base.c_str();
    switch (e.type) {
      case TarType::kDirectory: {
        if (!exists) {
          if (::mkdirat(parent_fd, name, 0755) != 0) return EntryError(e, "mkdir", errno);
          if (over_whiteout) {
            int fd = ::openat(parent_fd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (fd < 0) return EntryError(e, "open directory", errno);
            UniqueFd dir(fd);
            STRATA_TRY(SetOpaque(e, dir.get()));
          }
          return FinishNewDirectory(e, parent_fd, base, rel);
        }
        int fd = ::openat(parent_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) return EntryError(e, "open directory", errno);
        UniqueFd dir(fd);
        if (chown_ &&
            ::fchown(dir.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0) {
          STRATA_TRY(ChownFailed(e, errno));
        }
        SetXattrsFd(dir.get(), e);
        dirs_.push_back(DirMeta{rel, e.mode, e.mtime});  // mode and mtime at the end
        return {};
      }
      case TarType::kRegular: {
        int fd = ::openat(parent_fd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                          CreateMode(e));
        if (fd < 0) return EntryError(e, "create", errno);
        return WriteRegular(e, UniqueFd(fd));
      }
      case TarType::kSymlink:
        if (::symlinkat(e.linkname.c_str(), parent_fd, name) != 0) {
          return EntryError(e, "symlink", errno);
        }
        return FinishNode(e, parent_fd, name, /*is_symlink=*/true);
      case TarType::kHardlink:
        return CreateHardlink(e, parent_fd, name);
      case TarType::kCharDevice:
      case TarType::kBlockDevice:
      case TarType::kFifo: {
        mode_t type = e.type == TarType::kFifo         ? S_IFIFO
                      : e.type == TarType::kCharDevice ? S_IFCHR
                                                       : S_IFBLK;
        dev_t dev = e.type == TarType::kFifo ? 0
                                             : makedev(static_cast<unsigned>(e.devmajor),
                                                       static_cast<unsigned>(e.devminor));
        const bool device = e.type != TarType::kFifo;
        if (device && options_.simulate_unprivileged) {
          ++stats_.skipped_devices;
          return {};
        }
        if (::mknodat(parent_fd, name, type | 0600, dev) != 0) {
          if (device && (errno == EPERM || errno == EACCES)) {
            ++stats_.skipped_devices;  // unprivileged: Docker skips devices in a userns too
            return {};
          }
          return EntryError(e, "mknod", errno);
        }
        if (device) NoteOwnerKept(e);
        return FinishNode(e, parent_fd, name, /*is_symlink=*/false);
      }
      case TarType::kOther:
        break;
    }
    return {};
  }

  // A directory this entry just created: ownership and xattrs now (through a descriptor only
  // when there is something to set), mode and times at the end.
  Status FinishNewDirectory(const TarEntry& e, int parent_fd, const std::string& base,
                            const std::string& rel) {
    const bool set_xattrs = options_.apply_xattrs && !e.xattrs.empty();
    if (NeedsChown(e) || set_xattrs) {
      int fd = ::openat(parent_fd, base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return EntryError(e, "open directory", errno);
      UniqueFd dir(fd);
      if (NeedsChown(e) &&
          ::fchown(dir.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0) {
        STRATA_TRY(ChownFailed(e, errno));
      }
      SetXattrsFd(dir.get(), e);
    }
    dirs_.push_back(DirMeta{rel, e.mode, e.mtime});
    return {};
  }

  // Whether a node created now needs a chown to get the entry's owner.
  bool NeedsChown(const TarEntry& e) const {
    return chown_ && !(own_ids_are_exact_ && e.uid == euid_ && e.gid == egid_);
  }

  // The mode a regular file is created with: the entry's own when the umask keeps it whole
  // (then no chmod is needed), else owner-only until the chmod.
  mode_t CreateMode(const TarEntry& e) const {
    const auto mode = static_cast<mode_t>(e.mode & 07777);
    return ModeIsExactAtCreate(mode) ? mode : 0600;
  }
  bool ModeIsExactAtCreate(mode_t mode) const {
    return (mode & 07000) == 0 && (mode & umask_) == 0;
  }

  Status WriteRegular(const TarEntry& e, UniqueFd fd) {
    Reader& content = tar_.content();
    for (;;) {
      STRATA_ASSIGN(n, content.Read(buffer_.data(), buffer_.size()));
      if (n == 0) break;
      const char* p = buffer_.data();
      size_t left = n;
      while (left > 0) {
        ssize_t w = ::write(fd.get(), p, left);
        if (w < 0) {
          if (errno == EINTR) continue;
          return EntryError(e, "write", errno);
        }
        p += w;
        left -= static_cast<size_t>(w);
      }
      stats_.content_bytes += static_cast<int64_t>(n);
    }
    const bool chowned = NeedsChown(e);
    if (chowned && ::fchown(fd.get(), static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid)) != 0) {
      STRATA_TRY(ChownFailed(e, errno));
    }
    SetXattrsFd(fd.get(), e);
    // A chown clears setuid/setgid, and a mode the umask cut needs setting: only then chmod.
    const auto mode = static_cast<mode_t>(e.mode & 07777);
    if ((chowned || !ModeIsExactAtCreate(mode)) && ::fchmod(fd.get(), mode) != 0) {
      return EntryError(e, "chmod", errno);
    }
    struct timespec times[2] = {ToTimespec(e.mtime), ToTimespec(e.mtime)};
    if (::futimens(fd.get(), times) != 0) return EntryError(e, "set times", errno);
    return {};
  }

  Status CreateHardlink(const TarEntry& e, int parent_fd, const char* name) {
    // Docker joins the target to the root inside a chroot: ".." cannot leave the root.
    std::string target = ClampedRootRelative(e.linkname);
    if (target.empty()) return Fail("unpacking tar entry " + e.name + ": hard link to the root");
    auto [target_parent, target_base] = SplitParent(target);
    UniqueFd target_dir;
    int target_dir_fd;
    if (aufs_dir_ && FirstComponent(target) == kAufsLinkDir) {
      target_dir_fd = aufs_dir_.get();
    } else {
      if (int err = root_.OpenDir(target_parent, &target_dir); err != 0) {
        return EntryError(e, "hard link target /" + target, err);
      }
      target_dir_fd = target_dir.get();
    }
    // flags 0: a symlink target is linked itself, never followed.
    if (::linkat(target_dir_fd, target_base.c_str(), parent_fd, name, 0) != 0) {
      return EntryError(e, "hard link to /" + target, errno);
    }
    struct stat st;
    if (::fstatat(parent_fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
      return EntryError(e, "lstat", errno);
    }
    return FinishNode(e, parent_fd, name, S_ISLNK(st.st_mode));
  }

  // Ownership, xattrs, mode and times for a node addressed by (parent, name) that is not a
  // directory or regular file we hold open. A symlink keeps its mode (Linux has none to set)
  // and, when reached through a hard link, its times, as Docker does.
  Status FinishNode(const TarEntry& e, int parent_fd, const char* name, bool is_symlink) {
    // A hard link's inode is not new: it may carry another entry's owner.
    const bool chown = e.type == TarType::kHardlink ? chown_ : NeedsChown(e);
    if (chown && ::fchownat(parent_fd, name, static_cast<uid_t>(e.uid), static_cast<gid_t>(e.gid),
                            AT_SYMLINK_NOFOLLOW) != 0) {
      STRATA_TRY(ChownFailed(e, errno));
    }
    if (options_.apply_xattrs && !e.xattrs.empty()) {
      // The parent descriptor's /proc link names the directory itself; l*xattr does not follow
      // `name`.
      std::string path = "/proc/self/fd/" + std::to_string(parent_fd) + "/" + name;
      for (const auto& [key, value] : e.xattrs) {
        if (SkipXattr(key)) continue;
        if (::lsetxattr(path.c_str(), key.c_str(), value.data(), value.size(), 0) != 0) {
          ++stats_.xattr_failures;
        }
      }
    }
    if (is_symlink) {
      if (e.type == TarType::kHardlink) return {};
    } else if (::fchmodat(parent_fd, name, static_cast<mode_t>(e.mode & 07777), 0) != 0) {
      return EntryError(e, "chmod", errno);
    }
    struct timespec times[2] = {ToTimespec(e.mtime), ToTimespec(e.mtime)};
    if (::utimensat(parent_fd, name, times, AT_SYMLINK_NOFOLLOW) != 0) {
      return EntryError(e, "set times", errno);
    }
    return {};
  }

  void SetXattrsFd(int fd, const TarEntry& e) {
    if (!options_.apply_xattrs) return;
    for (const auto& [key, value] : e.xattrs) {
      if (SkipXattr(key)) continue;
      if (::fsetxattr(fd, key.c_str(), value.data(), value.size(), 0) != 0) {
        ++stats_.xattr_failures;
      }
    }
  }

  // Directory modes and mtimes go last: creating children changes a directory's mtime, and a
  // read-only mode would stop an unprivileged unpack from filling the directory.
  Status ApplyDirectoryMetadata() {
    for (const DirMeta& d : dirs_) {
      struct timespec times[2] = {ToTimespec(d.mtime), ToTimespec(d.mtime)};
      const mode_t mode = static_cast<mode_t>(d.mode & 07777);
      auto fail = [&](const char* op) {
        return Fail("unpacking directory /" + d.rel + ": " + op + ": " + std::strerror(errno));
      };
      if (d.rel.empty()) {
        int fd = ::openat(root_.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) return fail("open");
        UniqueFd dir(fd);
        if (::fchmod(dir.get(), mode) != 0) return fail("chmod");
        if (::futimens(dir.get(), times) != 0) return fail("set times");
        continue;
      }
      auto [parent, base] = SplitParent(d.rel);
      UniqueFd parent_fd;
      if (root_.OpenDir(parent, &parent_fd) != 0) continue;  // removed by a later entry
      struct stat st;
      if (::fstatat(parent_fd.get(), base.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0 ||
          !S_ISDIR(st.st_mode)) {
        continue;  // replaced by a later entry
      }
      if (::fchmodat(parent_fd.get(), base.c_str(), mode, 0) != 0) return fail("chmod");
      if (::utimensat(parent_fd.get(), base.c_str(), times, AT_SYMLINK_NOFOLLOW) != 0) {
        return fail("set times");
      }
    }
    return {};
  }

  TarReader& tar_;
  RootFs root_;
  const UnpackOptions& options_;
  const bool overlay_;  // WhiteoutForm::kOverlay
  const bool chown_;
  const bool count_owners_;  // entries whose owner is not applied are counted
  const uid_t euid_;
  const gid_t egid_;
  const mode_t umask_;
  bool own_ids_are_exact_ = false;
  std::vector<char> buffer_;
  UnpackStats stats_;
  std::unordered_set<std::string> unpacked_;
  std::vector<DirMeta> dirs_;
  std::string aufs_dir_name_;
  UniqueFd aufs_dir_;
  std::optional<CachedDir> parent_cache_;  // the directory the last entry went into
};

}  // namespace

std::string DescribeUnpackLosses(const UnpackLosses& losses) {
  if (!losses.any()) return "";
  std::vector<std::string> parts;
  auto count = [](int64_t n, const char* one, const char* many) {
    return std::to_string(n) + (n == 1 ? one : many);
  };
  if (losses.devices > 0) {
    parts.push_back(count(losses.devices, " device node was", " device nodes were") +
                    " not created");
  }
  if (losses.owners > 0) {
    parts.push_back(count(losses.owners, " file keeps", " files keep") +
                    " your ownership instead of the archive's");
  }
  if (losses.whiteouts > 0) {
    parts.push_back(count(losses.whiteouts, " deleted file was", " deleted files were") +
                    " not marked as deleted");
  }
  if (losses.opaque_dirs > 0) {
    parts.push_back(count(losses.opaque_dirs, " opaque directory was", " opaque directories were") +
                    " not marked opaque");
  }
  std::string text = "unpacking as uid " + std::to_string(::geteuid()) + ": " + parts[0];
  for (size_t i = 1; i < parts.size(); ++i) {
    text += (i + 1 == parts.size() ? " and " : ", ") + parts[i];
  }
  const int64_t total = losses.devices + losses.owners + losses.whiteouts + losses.opaque_dirs;
  const char* what = total == 1 ? "it" : "them";
  if (::geteuid() == 0) {  // root without CAP_MKNOD / CAP_CHOWN, or in a user namespace
    const bool markers = losses.whiteouts > 0 || losses.opaque_dirs > 0;
    return text + "; run with CAP_MKNOD" +
           (markers ? ", CAP_CHOWN and CAP_SYS_ADMIN" : " and CAP_CHOWN") +
           " outside a user namespace to keep " + what;
  }
  return text + "; run as root to keep " + what;
}

Result<UnpackStats> UnpackLayer(TarReader& tar, const std::string& root_dir,
                                const UnpackOptions& options) {
  STRATA_ASSIGN(root, RootFs::Open(root_dir, options.use_openat2));
  Unpacker unpacker(tar, std::move(root), options);
  return unpacker.Run();
}

}  // namespace strata
