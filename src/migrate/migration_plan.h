// What a migration will import, as read from a foreign store (a Docker data root, in the current
// layout or the legacy pre-1.10 one) without changing anything there. Readers describe every
// image and layer they find; a problem with one image is recorded on it, not raised, so the rest
// can still migrate.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "reference/reference.h"
#include "util/result.h"

namespace strata {

struct PlannedLayer {
  std::string source;     // how messages name it: "layer sha256:… (cache-id …)", "v1 image …"
  std::string files_dir;  // where the layer's files are (looked up by name)
  // How the layer's tar is made: from a tar-split (exact bytes), by archiving files_dir (an AUFS
  // diff branch, whose whiteouts are already .wh. files), or as the changes from the parent's
  // whole tree to files_dir (vfs, overlay).
  enum class Source { kTarSplit, kAufsBranch, kTreeDiff };
  Source kind = Source::kTarSplit;
  std::string tar_split;         // kTarSplit: gzip'd tar-split.json
  std::string parent_files_dir;  // kTreeDiff: the parent layer's whole tree ("" for a base)
  std::optional<Digest> recorded_diff_id;  // what the source says the tar hashes to
  std::string problem;                     // non-empty: the layer cannot be read
};

struct PlannedImage {
  std::string source;                 // image ID or legacy v1 ID
  std::vector<std::string> names;     // familiar names, for messages
  std::vector<Reference> references;  // tags and name@digest references to recreate
  std::vector<size_t> layers;         // indices into MigrationPlan::layers, bottom to top
  std::optional<size_t> parent;       // index into MigrationPlan::images
  // Current layout: the exact config bytes (their sha256 is the image ID) and its diffIDs.
  std::string config_bytes;
  std::vector<Digest> diff_ids;
  // Legacy layout: the v1 JSON; the config is made once the layer's diffID is known.
  std::string v1_json;
  std::string problem;  // non-empty: the image cannot migrate (and neither can its children)
};

struct MigrationPlan {
  enum class Layout { kCurrent, kLegacy };
  Layout layout = Layout::kCurrent;
  std::string data_root;
  std::string driver;                // overlay2, aufs, vfs, …
  std::vector<PlannedLayer> layers;  // each read at most once
  std::vector<PlannedImage> images;  // parents before children
  std::vector<std::string> warnings;
};

// Reads `data_root` (e.g. /var/lib/docker). Uses the current layout (image/<driver>/imagedb) when
// present, else the legacy graph/. `driver` picks one storage driver when several are present.
Result<MigrationPlan> PlanDockerMigration(const std::string& data_root,
                                          const std::string& driver = "");

// Layout readers (one file each).
Result<MigrationPlan> PlanCurrentDockerRoot(const std::string& data_root,
                                            const std::string& driver);
Result<MigrationPlan> PlanLegacyDockerRoot(const std::string& data_root, const std::string& driver);

// Docker's small metadata files ("diff", "cache-id", "parent") without trailing whitespace.
std::string TrimLineEnd(std::string text);

// Orders images so that every parent comes before its children; images on a parent cycle get a
// problem, and so do legacy images whose parent has one (their config continues the parent's).
void OrderParentsFirst(MigrationPlan& plan);

}  // namespace strata
