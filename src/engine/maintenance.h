// The engine's store maintenance: gc, fsck, and migrate (a Docker data root into the store).
// Not thread-safe (see Engine).
#pragma once

#include <string>

#include "engine/engine.h"
#include "migrate/migration.h"
#include "store/fsck.h"
#include "store/image_delete.h"

namespace strata {

// --- gc ------------------------------------------------------------------------------------------

// strata gc: under the store's exclusive lock, removes what no image references (layers, blobs,
// unpacked directories) and stale files of ingest/ (store/image_delete.h says how stale).
Result<DeleteReport> CollectGarbage(Engine& engine);

// --- fsck ----------------------------------------------------------------------------------------

struct CheckStoreRequest {
  bool repair = false;  // remove what is damaged and what nothing references
};

// strata fsck: problems found are the result's, not an error; an error is a check that could not
// run. Without repair the store is opened read-only.
Result<FsckReport> CheckStore(Engine& engine, const CheckStoreRequest& request);

// --- migrate -------------------------------------------------------------------------------------

struct MigrateRequest {
  std::string data_root = {};  // a Docker data root (e.g. /var/lib/docker); never modified
  std::string driver = {};     // storage driver, when the data root has several
  bool dry_run = false;        // plan and report, read no layer, change nothing
  int jobs = 0;                // layers read at once; 0: one per CPU
};

struct MigrateEvents {
  BlobProgressFn layer_progress;  // bytes of each layer read so far (per-layer bars)
  MigrationProgressFn progress;   // layers and bytes done of the whole run (one-line count)
};

// strata migrate. Images that fail are the result's (`failed`), the others still migrate; an
// error is a data root that cannot be read at all ("migrating ROOT: ...", its kind kept).
Result<MigrationReport> Migrate(Engine& engine, const MigrateRequest& request,
                                const MigrateEvents& events = {});

}  // namespace strata
