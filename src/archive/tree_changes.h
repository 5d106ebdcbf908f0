// The changes between two directory trees, as Docker's naive differ computes them
// (pkg/archive ChangesDirs + ExportChanges), for storage drivers that keep every layer as a whole
// tree (vfs, the first overlay driver's root/): a layer is what its tree changed relative to the
// parent's. A path is added when missing from the old tree, modified when its type, mode,
// owner, device number or (not for directories) size or mtime differ (mtimes with a zero
// nanosecond part compare by seconds, as extracted trees only keep seconds), deleted when
// missing from the new tree; a directory holding changes is listed as modified too.
// Stateless; thread-safe.
#pragma once

#include <string>
#include <vector>

#include "archive/tar_writer.h"
#include "util/result.h"

namespace strata {

struct TreeChange {
  enum class Kind { kModify, kAdd, kDelete };
  std::string path;  // relative, "etc/passwd"
  Kind kind;
};

// Sorted by path. `old_dir` empty: everything in `new_dir` is added.
Result<std::vector<TreeChange>> TreeChanges(const std::string& new_dir, const std::string& old_dir);

// Writes the changes as a layer tar (not closed): deletions as ".wh.<name>" entries (empty,
// dated like the new tree's directory holding them, so the bytes do not depend on the time of
// the run), the others as the new tree's entries.
Status WriteChangesTar(const std::string& new_dir, const std::vector<TreeChange>& changes,
                       TarWriter& tar);

}  // namespace strata
