// The --filter of `image prune`, as docker's daemon applies it (daemon/images/image_prune.go):
// `until=<timestamp|duration>` keeps images created after that instant; `label=K` / `label=K=V`
// keep images that do not carry every such label; `label!=K[=V]` keeps images that carry every
// such label. `dangling=true|false` is accepted when it agrees with --all (the docker CLI adds
// it itself). Keys are case-insensitive; anything else is docker's "invalid filter". Stateless.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "util/go_time.h"
#include "util/result.h"

namespace strata {

struct PruneFilter {
  std::optional<GoTime> until;
  std::vector<std::string> labels;      // label=: "K" or "K=V"
  std::vector<std::string> not_labels;  // label!=: "K" or "K=V"

  // Whether an image created at `created` with these config labels may be pruned. `labels` is
  // nullopt for an image config without a "config" object, to which docker applies no label
  // filter.
  bool Selects(const GoTime& created,
               const std::optional<std::map<std::string, std::string>>& labels) const;
  bool NeedsConfig() const { return until || !labels.empty() || !not_labels.empty(); }
};

// Parses `--filter` values ("until=24h", "label!=keep") for a prune with or without --all.
// `now_unix_nanos` anchors durations.
Result<PruneFilter> ParsePruneFilter(const std::vector<std::string>& values, bool all,
                                     int64_t now_unix_nanos);

}  // namespace strata
