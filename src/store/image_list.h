// `images` as Docker 20.10 computes it: the daemon's filters (daemon/images/images.go: dangling,
// reference, label, before, since; -a hides intermediate images) and the CLI's rows
// (cli/command/formatter/image.go: one row per repository and tag, digest rows, <none> rows for
// dangling images) with the fields a --format template sees. Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "store/image_views.h"
#include "util/go_time.h"
#include "util/result.h"

namespace strata {

// --filter KEY=VALUE arguments. Docker combines them so: dangling (true|false) selects; every
// label (K or K=V) must match (AND); any reference pattern may match (OR; also the REPOSITORY
// argument); for before and since the last one given counts.
struct ImageFilters {
  std::optional<bool> dangling;
  std::vector<std::string> references;
  std::vector<std::string> labels;
  std::optional<std::string> before, since;  // image names, resolved by the caller
};

// Errors as docker's: "bad format of filter (expected name=value)", "Invalid filter 'KEY'",
// "Invalid filter 'dangling=[VALUE]'".
Result<ImageFilters> ParseImageFilters(const std::vector<std::string>& args);

// Keeps the images docker would list, newest first as given. A reference filter also drops the
// tags and digests of an image that do not match (docker lists only matching names). `before` and
// `since` are the creation times of the before=/since= images. A malformed reference pattern is an
// error ("syntax error in pattern").
Result<std::vector<ImageSummary>> FilterImages(std::vector<ImageSummary> images,
                                               const ImageFilters& filters, bool all,
                                               std::optional<GoTime> before,
                                               std::optional<GoTime> since);

// reference.FamiliarMatch: `pattern` (path.Match) against the familiar string ("app:1",
// "app@sha256:...") and then the familiar name ("app").
Result<bool> FamiliarMatch(const std::string& pattern, const std::string& familiar_ref);

struct ImageListRow {
  std::string repository, tag, digest;
};

// The CLI's rows of one image: per repository, a row per tag (per tag and digest with
// show_digests); digest-only repositories get a <none>-tag row (digest "" without show_digests);
// an image without names one <none> row. Without show_digests a tagged row's digest is "<none>".
std::vector<ImageListRow> ImageListRows(const ImageSummary& image, bool show_digests);

// The fields of docker's imageContext for one row, keys sorted (what {{json .}} prints):
// Containers, CreatedAt, CreatedSince, Digest, ID, Repository, SharedSize, Size, Tag,
// UniqueSize, VirtualSize.
nlohmann::ordered_json ImageListRowFields(const ImageSummary& image, const ImageListRow& row,
                                          bool truncate_id);

// Column titles of those fields for a `table` format ({"ID": "IMAGE ID", ...}).
const nlohmann::ordered_json& ImageListHeaders();

}  // namespace strata
