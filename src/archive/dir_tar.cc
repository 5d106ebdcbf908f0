#include "archive/dir_tar.h"

#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <map>
#include <utility>
#include <vector>

#include "util/file.h"
#include "util/io.h"

namespace strata {
namespace {

std::string Errno(const std::string& op, const std::string& path) {
  return op + " " + path + ": " + std::strerror(errno);
}

class TreeWriter {
 public:
  TreeWriter(const std::string& root, TarWriter& tar, const DirTarOptions& options)
      : root_(root), tar_(tar), options_(options) {}

  Status WalkDir(int dir_fd, const std::string& prefix) {
    STRATA_ASSIGN(names, ListDir(dir_fd, prefix));
    for (const std::string& name : names) {
      if (options_.skip_aufs_metadata && prefix.empty() && name.starts_with(".wh..wh.") &&
          name != ".wh..wh..opq") {
        continue;
      }
      STRATA_TRY(WriteEntry(dir_fd, name, prefix + name, /*recurse=*/true));
    }
    return {};
  }

  // The entry for `name` in `dir_fd` (at `rel` below the root); a directory's contents follow
  // when `recurse`.
  Status WriteEntry(int dir_fd, const std::string& name, const std::string& rel, bool recurse) {
    struct stat st;
    if (::fstatat(dir_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) return {};  // removed during the walk, as WalkDir tolerates
      return Fail(Errno("lstat", Path(rel)));
    }
    if (S_ISSOCK(st.st_mode)) return {};
    TarEntry entry;
    entry.name = S_ISDIR(st.st_mode) ? rel + "/" : rel;
    entry.mode = st.st_mode & (S_IFMT | 07777);
    entry.uid = st.st_uid;
    entry.gid = st.st_gid;
    entry.mtime = TarTime{st.st_mtim.tv_sec, 0};
    if (S_ISDIR(st.st_mode)) {
      entry.type = TarType::kDirectory;
    } else if (S_ISREG(st.st_mode)) {
      entry.type = TarType::kRegular;
      entry.size = st.st_size;
    } else if (S_ISLNK(st.st_mode)) {
      entry.type = TarType::kSymlink;
      STRATA_ASSIGN(target, ReadLink(dir_fd, name, rel));
      entry.linkname = std::move(target);
    } else if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) {
      entry.type = S_ISCHR(st.st_mode) ? TarType::kCharDevice : TarType::kBlockDevice;
      entry.devmajor = major(st.st_rdev);
      entry.devminor = minor(st.st_rdev);
    } else if (S_ISFIFO(st.st_mode)) {
      entry.type = TarType::kFifo;
    } else {
      return {};
    }
    if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
      auto [it, inserted] = seen_.emplace(std::make_pair(st.st_dev, st.st_ino), rel);
      if (!inserted) {
        entry.type = TarType::kHardlink;
        entry.linkname = it->second;
        entry.size = 0;
      }
    }
    if (options_.user_names) {
      entry.uname = UserName(st.st_uid);
      entry.gname = GroupName(st.st_gid);
    }
    STRATA_TRY(ReadXattrs(rel, &entry));
    STRATA_TRY(tar_.WriteHeader(entry));
    if (entry.type == TarType::kRegular && entry.size > 0) {
      int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return Fail(Errno("open", Path(rel)));
      FdReader file(fd, Path(rel), /*owns=*/true);
      auto copied = tar_.CopyContent(file);
      if (!copied) return Wrap("archiving " + Path(rel) + " (did it change?)", copied.error());
    }
    if (entry.type == TarType::kDirectory && recurse) {
      int fd = ::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) return Fail(Errno("open directory", Path(rel)));
      UniqueFd child(fd);
      STRATA_TRY(WalkDir(child.get(), rel + "/"));
    }
    return {};
  }

 private:
  std::string Path(const std::string& rel) const { return root_ + "/" + rel; }

  Result<std::vector<std::string>> ListDir(int dir_fd, const std::string& prefix) {
    int fd = ::dup(dir_fd);
    if (fd < 0) return Fail(Errno("dup", Path(prefix)));
    DIR* dir = ::fdopendir(fd);
    if (dir == nullptr) {
      ::close(fd);
      return Fail(Errno("opendir", Path(prefix)));
    }
    ::rewinddir(dir);
    std::vector<std::string> names;
    for (;;) {
      errno = 0;
      struct dirent* d = ::readdir(dir);
      if (d == nullptr) break;
      if (std::strcmp(d->d_name, ".") == 0 || std::strcmp(d->d_name, "..") == 0) continue;
      names.emplace_back(d->d_name);
    }
    int saved = errno;
    ::closedir(dir);
    if (saved != 0) {
      errno = saved;
      return Fail(Errno("readdir", Path(prefix)));
    }
    std::sort(names.begin(), names.end());
    return names;
  }

  Result<std::string> ReadLink(int dir_fd, const std::string& name, const std::string& rel) {
    std::string target(256, '\0');
    for (;;) {
      ssize_t n = ::readlinkat(dir_fd, name.c_str(), target.data(), target.size());
      if (n < 0) return Fail(Errno("readlink", Path(rel)));
      if (static_cast<size_t>(n) < target.size()) {
        target.resize(static_cast<size_t>(n));
        return target;
      }
      target.resize(target.size() * 2);
    }
  }

  Status ReadXattrs(const std::string& rel, TarEntry* entry) {
    const std::string path = Path(rel);
    std::vector<std::string> names;
    if (options_.all_xattrs) {
      ssize_t size = ::llistxattr(path.c_str(), nullptr, 0);
      if (size < 0) {
        if (errno == ENOTSUP || errno == EPERM) return {};
        return Fail(Errno("list xattrs of", path));
      }
      std::string list(static_cast<size_t>(size), '\0');
      size = ::llistxattr(path.c_str(), list.data(), list.size());
      if (size < 0) return Fail(Errno("list xattrs of", path));
      list.resize(static_cast<size_t>(size));
      for (size_t start = 0; start < list.size();) {
        size_t end = list.find('\0', start);
        if (end == std::string::npos) end = list.size();
        if (end > start) names.push_back(list.substr(start, end - start));
        start = end + 1;
      }
      std::sort(names.begin(), names.end());
    } else {
      names.push_back("security.capability");
    }
    for (const std::string& key : names) {
      ssize_t size = ::lgetxattr(path.c_str(), key.c_str(), nullptr, 0);
      if (size < 0) {
        if (errno == ENODATA || errno == ENOTSUP || errno == EPERM) continue;
        return Fail(Errno("read xattr " + key + " of", path));
      }
      std::string value(static_cast<size_t>(size), '\0');
      size = ::lgetxattr(path.c_str(), key.c_str(), value.data(), value.size());
      if (size < 0) return Fail(Errno("read xattr " + key + " of", path));
      value.resize(static_cast<size_t>(size));
      entry->xattrs[key] = std::move(value);
    }
    return {};
  }

  const std::string& UserName(uid_t uid) {
    auto [it, inserted] = users_.try_emplace(uid);
    if (inserted) {
      struct passwd pw;
      struct passwd* found = nullptr;
      std::vector<char> buf(16384);
      if (::getpwuid_r(uid, &pw, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        it->second = found->pw_name;
      }
    }
    return it->second;
  }

  const std::string& GroupName(gid_t gid) {
    auto [it, inserted] = groups_.try_emplace(gid);
    if (inserted) {
      struct group gr;
      struct group* found = nullptr;
      std::vector<char> buf(16384);
      if (::getgrgid_r(gid, &gr, buf.data(), buf.size(), &found) == 0 && found != nullptr) {
        it->second = found->gr_name;
      }
    }
    return it->second;
  }

  std::string root_;
  std::map<uid_t, std::string> users_;
  std::map<gid_t, std::string> groups_;
  TarWriter& tar_;
  // A copy: DirEntryWriter's default options are a temporary gone when its constructor returns
  // (a reference here read a dead stack slot; ASan's stack-use-after-scope in tree_changes_test).
  const DirTarOptions options_;
  std::map<std::pair<dev_t, ino_t>, std::string> seen_;
};

}  // namespace

struct DirEntryWriter::Impl : TreeWriter {
  using TreeWriter::TreeWriter;
};

DirEntryWriter::DirEntryWriter(const std::string& root, TarWriter& tar,
                               const DirTarOptions& options)
    : root_(root), impl_(std::make_unique<Impl>(root, tar, options)) {}

DirEntryWriter::~DirEntryWriter() = default;

Status DirEntryWriter::AddPath(const std::string& rel) {
  const size_t slash = rel.rfind('/');
  const std::string dir = slash == std::string::npos ? root_ : root_ + "/" + rel.substr(0, slash);
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(Errno("open directory", dir));
  UniqueFd parent(fd);
  const std::string name = slash == std::string::npos ? rel : rel.substr(slash + 1);
  return impl_->WriteEntry(parent.get(), name, rel, /*recurse=*/false);
}

Status WriteDirectoryTree(const std::string& dir, TarWriter& tar, const DirTarOptions& options) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(Errno("open directory", dir));
  UniqueFd root(fd);
  TreeWriter writer(dir, tar, options);
  return writer.WalkDir(root.get(), "");
}

}  // namespace strata
