// Archives a directory tree the way Docker's pkg/archive does (TarWithOptions with the PAX
// format): a lexically sorted pre-order walk (Go's filepath.WalkDir), names relative to the root
// ("etc/", "etc/passwd"; the root itself is not emitted), directories with a trailing '/', uid/gid
// numbers from lstat, mtime truncated to seconds, later paths of an inode already seen written as
// hard links to the first path, sockets skipped. Modes carry the file type bits as well (0100644,
// 040755, 0120777...), as Docker's fillGo18FileTypeBits puts them back.
#pragma once

#include <memory>
#include <string>

#include "archive/tar_writer.h"
#include "util/result.h"

namespace strata {

struct DirTarOptions {
  // Docker records one extended attribute, security.capability; set this to record all of them
  // (every namespace the process can read).
  bool all_xattrs = false;
  // Fill uname/gname from the local user and group databases, as Go's tar.FileInfoHeader does
  // (Docker 20.10); newer Docker leaves them empty, which is the default here.
  bool user_names = false;
  // Leave out AUFS's own files at the top of a branch (.wh..wh.plnk, .wh..wh.aufs, .wh..wh.orph:
  // every ".wh..wh." name except the opaque marker .wh..wh..opq), as Docker's aufs Diff does.
  bool skip_aufs_metadata = false;
};

// Writes the entries for everything below `dir` into `tar`. Does not Close() the writer, so
// callers can add entries after the tree.
Status WriteDirectoryTree(const std::string& dir, TarWriter& tar,
                          const DirTarOptions& options = {});

// Writes the entries of chosen paths of a tree, in the caller's order, by the same rules (a later
// path of an inode already written becomes a hard link). A directory's entry comes without its
// contents. Used to export a list of changes (archive/tree_changes.h).
class DirEntryWriter {
 public:
  DirEntryWriter(const std::string& root, TarWriter& tar, const DirTarOptions& options = {});
  ~DirEntryWriter();
  // `rel`: a path below the root, "a/b" (no leading slash).
  Status AddPath(const std::string& rel);

 private:
  struct Impl;
  std::string root_;
  std::unique_ptr<Impl> impl_;
};

}  // namespace strata
