// `strata migrate`: imports every image of a Docker data root (current or legacy layout, see
// migration_plan.h) into the store without a registry and without changing the source.
// Layers are read in parallel, each in one streaming pass (tar-split reassembly or archiving,
// sha256, tar checks, store); images are committed parents first as soon as their layers are in,
// one transaction each, so an interrupted run keeps what it finished and a second run skips it.
// A problem with one image (unreadable layer, diffID mismatch, broken parent chain, bad JSON) is
// reported for that image and its dependants; the others still migrate.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "migrate/migration_plan.h"
#include "store/store.h"
#include "transport/image_transport.h"
#include "util/result.h"

namespace strata {

struct MigrationOptions {
  bool dry_run = false;  // plan and report, read no layer, change nothing
  int jobs = 0;          // layers read at once; 0: one per CPU
  std::string driver;    // storage driver, when the data root has several
  // Bytes of each layer read from a tar-split so far (progress bars; total unknown: 0).
  BlobProgressFn layer_progress;
};

struct MigrationProgress {
  size_t layers_done = 0;
  size_t layers_total = 0;
  uint64_t bytes_done = 0;  // uncompressed tar bytes read so far
};

struct MigratedImage {
  std::string source;  // image ID or v1 ID in the source
  // strata (and Docker) image ID; unknown only in a dry run of an image not yet migrated.
  std::optional<Digest> id;
  std::vector<std::string> names;
  bool already_present = false;  // a previous run (or a load/pull) brought it in
};

struct FailedImage {
  std::string source;
  std::vector<std::string> names;
  std::string reason;
};

struct MigrationReport {
  std::string layout;  // "Docker data root (image/overlay2)", "legacy Docker graph (aufs)"
  std::vector<MigratedImage> migrated;
  std::vector<FailedImage> failed;
  std::vector<std::string> messages;  // tags moved away from other images
  size_t layers_read = 0;             // layers whose bytes were read (to read, in a dry run)
  size_t layers_present = 0;          // layers the store already had
  uint64_t bytes_read = 0;            // uncompressed tar bytes read (hashed and stored)
  bool dry_run = false;               // then `migrated` lists what would be migrated
};

using MigrationProgressFn = std::function<void(const MigrationProgress&)>;

Result<MigrationReport> MigrateDockerRoot(Store& store, const std::string& data_root,
                                          const MigrationOptions& options,
                                          const MigrationProgressFn& progress = {});

}  // namespace strata
