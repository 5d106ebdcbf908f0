#include "archive/tree_changes.h"

#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "archive/dir_tar.h"
#include "util/file.h"

namespace strata {
namespace {

bool SameTime(const timespec& a, const timespec& b) {
  return a.tv_sec == b.tv_sec && (a.tv_nsec == b.tv_nsec || a.tv_nsec == 0 || b.tv_nsec == 0);
}

bool StatsDiffer(const struct stat& o, const struct stat& n) {
  if (o.st_mode != n.st_mode || o.st_uid != n.st_uid || o.st_gid != n.st_gid ||
      o.st_rdev != n.st_rdev) {
    return true;
  }
  if (S_ISDIR(n.st_mode)) return false;  // a directory's size says nothing about its contents
  return !SameTime(o.st_mtim, n.st_mtim) || o.st_size != n.st_size;
}

class TreeComparer {
 public:
  TreeComparer(std::string new_root, std::string old_root)
      : new_root_(std::move(new_root)), old_root_(std::move(old_root)) {}

  // Compares the directory `rel` ("" for the root) of both trees; `old_exists` false when the
  // old tree has no such directory (everything below is added).
  Status Compare(const std::string& rel, bool old_exists) {
    const std::string new_dir = Join(new_root_, rel);
    STRATA_ASSIGN(new_names, ListDirectory(new_dir));
    std::vector<std::string> old_names;
    if (old_exists) {
      STRATA_ASSIGN(listed, ListDirectory(Join(old_root_, rel)));
      old_names = std::move(listed);
    }
    for (const std::string& name : new_names) {
      const std::string child = rel.empty() ? name : rel + "/" + name;
      struct stat n;
      if (::lstat(Join(new_root_, child).c_str(), &n) != 0) {
        return Fail("lstat " + Join(new_root_, child) + ": " + std::strerror(errno));
      }
      struct stat o;
      const bool in_old = std::binary_search(old_names.begin(), old_names.end(), name) &&
                          ::lstat(Join(old_root_, child).c_str(), &o) == 0;
      const size_t before = changes_.size();
      bool listed = false;
      if (!in_old) {
        changes_.push_back({child, TreeChange::Kind::kAdd});
        listed = true;
      } else if (StatsDiffer(o, n)) {
        changes_.push_back({child, TreeChange::Kind::kModify});
        listed = true;
      }
      if (S_ISDIR(n.st_mode)) {
        STRATA_TRY(Compare(child, in_old && S_ISDIR(o.st_mode)));
        // A directory holding changes is exported too, so its metadata survives.
        if (!listed && changes_.size() > before) {
          changes_.insert(changes_.begin() + static_cast<std::ptrdiff_t>(before),
                          {child, TreeChange::Kind::kModify});
        }
      }
    }
    for (const std::string& name : old_names) {
      if (!std::binary_search(new_names.begin(), new_names.end(), name)) {
        changes_.push_back({rel.empty() ? name : rel + "/" + name, TreeChange::Kind::kDelete});
      }
    }
    return {};
  }

  std::vector<TreeChange> Take() { return std::move(changes_); }

 private:
  static std::string Join(const std::string& root, const std::string& rel) {
    return rel.empty() ? root : root + "/" + rel;
  }
  std::string new_root_, old_root_;
  std::vector<TreeChange> changes_;
};

}  // namespace

Result<std::vector<TreeChange>> TreeChanges(const std::string& new_dir,
                                            const std::string& old_dir) {
  TreeComparer differ(new_dir, old_dir);
  STRATA_TRY(differ.Compare("", !old_dir.empty()));
  std::vector<TreeChange> changes = differ.Take();
  std::sort(changes.begin(), changes.end(),
            [](const TreeChange& a, const TreeChange& b) { return a.path < b.path; });
  return changes;
}

Status WriteChangesTar(const std::string& new_dir, const std::vector<TreeChange>& changes,
                       TarWriter& tar) {
  DirEntryWriter entries(new_dir, tar);
  for (const TreeChange& c : changes) {
    if (c.kind != TreeChange::Kind::kDelete) {
      STRATA_TRY(entries.AddPath(c.path));
      continue;
    }
    const size_t slash = c.path.rfind('/');
    const std::string dir = slash == std::string::npos ? "" : c.path.substr(0, slash + 1);
    const std::string base = slash == std::string::npos ? c.path : c.path.substr(slash + 1);
    struct stat st {};
    const std::string holder = dir.empty() ? new_dir : new_dir + "/" + dir;
    if (::lstat(holder.c_str(), &st) != 0) {
      return Fail("lstat " + holder + ": " + std::strerror(errno));
    }
    TarEntry whiteout;
    whiteout.name = dir + ".wh." + base;
    whiteout.type = TarType::kRegular;
    whiteout.mode = 0;
    whiteout.mtime = TarTime{st.st_mtim.tv_sec, 0};
    STRATA_TRY(tar.WriteHeader(whiteout));
  }
  return {};
}

}  // namespace strata
