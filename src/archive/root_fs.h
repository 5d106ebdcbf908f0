// Path resolution confined to a directory, with chroot semantics: symlinks met on the way
// (absolute, or climbing with "..") resolve as if the directory were "/", so nothing outside it is
// ever reached. Uses openat2(RESOLVE_IN_ROOT) (Linux >= 5.6) and falls back to a
// component-by-component walk with O_NOFOLLOW that gives the same answers. The final objects are
// handed out as directory descriptors, so callers act on (dir fd, plain name) pairs and never let
// the kernel follow a path again.
//
// Threat model: hostile names and symlinks in the tree (from a tar being applied), not other
// processes racing to rename directories while we work.
#pragma once

#include <string>

#include "util/file.h"
#include "util/result.h"

namespace strata {

class RootFs {
 public:
  // Opens `dir` (which must exist). `use_openat2` = false forces the portable walk (tests).
  static Result<RootFs> Open(const std::string& dir, bool use_openat2 = true);

  // Opens the directory `rel` (a clean relative path without ".." components, "" for the root
  // itself) as an O_PATH descriptor. Returns 0 or an errno value (ENOENT, ENOTDIR, ELOOP, ...).
  int OpenDir(const std::string& rel, UniqueFd* out) const;

  // Like OpenDir, creating missing directories (mode 0755) along the way, as Go's MkdirAll does
  // inside a chroot. A component that exists but is not a directory (or a dangling symlink)
  // yields ENOTDIR / ENOENT.
  int MakeDirs(const std::string& rel, UniqueFd* out) const;

  int fd() const { return root_.get(); }
  const std::string& path() const { return path_; }
  bool using_openat2() const { return use_openat2_; }

 private:
  RootFs(UniqueFd root, std::string path, bool use_openat2)
      : root_(std::move(root)), path_(std::move(path)), use_openat2_(use_openat2) {}
  int OpenDirManual(const std::string& rel, UniqueFd* out) const;

  UniqueFd root_;
  std::string path_;
  mutable bool use_openat2_;
};

}  // namespace strata
