// Applies a layer tar to a directory, in one of two forms.
//
// WhiteoutForm::kApply, the way Docker's naive applier does (pkg/archive UnpackLayer): ".wh.<name>"
// removes <name>, ".wh..wh..opq" empties a directory of everything this layer did not put there,
// other ".wh..wh.*" entries are skipped (AUFS hard-link files in
// ".wh..wh.plnk" are kept aside as link targets), an entry replaces what is at its path unless both
// are directories, directory modes and mtimes are applied at the end.
//
// Safety: nothing outside `root_dir` is ever created, modified or removed. Entry names that climb
// out ("../x", "/../x") are rejected; absolute names are taken relative to the root; every parent
// path and every hard link target is resolved inside the root with chroot semantics (see RootFs);
// the entry itself is never followed if it is a symlink.
#pragma once

#include <cstdint>
#include <string>

#include "archive/tar_reader.h"
#include "util/result.h"

namespace strata {

enum class WhiteoutForm {
  kApply,    // remove what a whiteout names (Docker's naive applier)
  kOverlay,  // keep whiteouts as overlayfs markers (see above)
};

struct UnpackOptions {
  WhiteoutForm whiteouts = WhiteoutForm::kApply;
  // lchown entries to the header's uid/gid. Only takes effect when running as root (euid 0);
  // otherwise (or when a chown is refused: EPERM/EINVAL, as in a user namespace without that
  // id) the entries keep the unpacking user's ownership and are counted in owners_not_applied.
  bool apply_ownership = true;
  // Tests: act as an unprivileged process even when root (no device nodes, no chown, no trusted
  // xattrs; each counted as it would be; whiteout devices are still made, as Linux allows).
  bool simulate_unprivileged = false;
  // Set PAX SCHILY.xattr.* attributes; failures are counted, not fatal.
  bool apply_xattrs = true;
  // Resolve paths with openat2(RESOLVE_IN_ROOT) when the kernel has it; false forces the portable
  // walk (tests exercise both).
  bool use_openat2 = true;
};

struct UnpackStats {
  int64_t entries = 0;               // tar entries read (PAX global headers excluded)
  int64_t tar_size = 0;              // sum of the headers' size fields (Docker's naive layer size)
  int64_t content_bytes = 0;         // regular file bytes written
  int64_t whiteouts = 0;             // ".wh.<name>" entries applied (removed, or marked)
  int64_t opaque_dirs = 0;           // ".wh..wh..opq" entries applied (emptied, or marked)
  int64_t whiteouts_not_marked = 0;  // kOverlay: whiteout devices that could not be created
  int64_t opaque_not_marked = 0;     // kOverlay: opaque xattrs that could not be set (EPERM)
  int64_t skipped_devices = 0;       // device nodes not created (EPERM: not root / user namespace)
  int64_t owners_not_applied = 0;    // entries that keep our uid/gid instead of the header's
  int64_t skipped_entries = 0;       // AUFS metadata and non-directory entries naming the root
  int64_t xattr_failures = 0;        // attributes that could not be set
};

// What an unprivileged unpack could not reproduce, summed over the layers of one operation, for
// the one warning the caller prints (the library prints nothing).
struct UnpackLosses {
  int64_t devices = 0;  // device nodes not created
  int64_t owners = 0;   // entries keeping the unpacking user's ownership
  // Overlay markers not set: without them a deleted file or an emptied directory's old content
  // shows through when the layers are mounted.
  int64_t whiteouts = 0;
  int64_t opaque_dirs = 0;

  void Add(const UnpackStats& stats) {
    devices += stats.skipped_devices;
    owners += stats.owners_not_applied;
    whiteouts += stats.whiteouts_not_marked;
    opaque_dirs += stats.opaque_not_marked;
  }
  void Add(const UnpackLosses& other) {
    devices += other.devices;
    owners += other.owners;
    whiteouts += other.whiteouts;
    opaque_dirs += other.opaque_dirs;
  }
  bool any() const { return devices > 0 || owners > 0 || whiteouts > 0 || opaque_dirs > 0; }
};

// The warning for `losses` (empty when nothing was lost), e.g. "unpacking as uid 1000: 3 device
// nodes were not created and 120 files keep your ownership instead of the archive's; run as
// root to keep them".
std::string DescribeUnpackLosses(const UnpackLosses& losses);

// Reads `tar` to its end and applies every entry under `root_dir`, which must exist. Stops at the
// first error; what was applied before it stays applied.
Result<UnpackStats> UnpackLayer(TarReader& tar, const std::string& root_dir,
                                const UnpackOptions& options = {});

}  // namespace strata
