#include "store/image_list.h"

#include <chrono>

#include "image/docker_units.h"
#include "image/go_template.h"
#include "reference/reference.h"

namespace strata {
namespace {

bool Before(const GoTime& a, const GoTime& b) {
  return a.unix_seconds < b.unix_seconds || (a.unix_seconds == b.unix_seconds && a.nanos < b.nanos);
}

GoTime CreatedTime(const ImageSummary& image) {
  auto t = ParseRfc3339Nano(image.created);
  return t ? *t : GoTime{};
}

// filters.Args.MatchKVList: every "K" or "K=V" must be among the labels.
bool LabelsMatch(const nlohmann::ordered_json& labels, const std::vector<std::string>& wanted) {
  if (!labels.is_object() || labels.empty()) return false;
  for (const std::string& w : wanted) {
    size_t eq = w.find('=');
    auto it = labels.find(w.substr(0, eq));
    if (it == labels.end()) return false;
    if (eq != std::string::npos &&
        (!it->is_string() || it->get<std::string>() != w.substr(eq + 1))) {
      return false;
    }
  }
  return true;
}

Result<std::vector<std::string>> MatchingRefs(const std::vector<std::string>& refs,
                                              const std::vector<std::string>& patterns) {
  if (patterns.empty()) return refs;
  std::vector<std::string> kept;
  for (const std::string& ref : refs) {
    for (const std::string& pattern : patterns) {
      STRATA_ASSIGN(found, FamiliarMatch(pattern, ref));
      if (found) {
        kept.push_back(ref);
        break;
      }
    }
  }
  return kept;
}

}  // namespace

Result<ImageFilters> ParseImageFilters(const std::vector<std::string>& args) {
  ImageFilters f;
  std::vector<std::string> dangling;
  for (const std::string& arg : args) {
    size_t eq = arg.find('=');
    if (eq == std::string::npos) {
      return Fail(ErrorCode::kInvalidArgument,
                  "invalid argument \"" + arg +
                      "\" for \"-f, --filter\" flag: bad format of filter (expected name=value)");
    }
    std::string key = arg.substr(0, eq), value = arg.substr(eq + 1);
    for (char& c : key) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (key == "dangling") {
      dangling.push_back(value);
    } else if (key == "reference") {
      f.references.push_back(value);
    } else if (key == "label") {
      f.labels.push_back(value);
    } else if (key == "before") {
      f.before = value;
    } else if (key == "since") {
      f.since = value;
    } else {
      return Fail(ErrorCode::kInvalidArgument, "Invalid filter '" + key + "'");
    }
  }
  if (!dangling.empty()) {
    // filters.Args.ExactMatch: "true" anywhere selects dangling images only.
    bool has_true = false, all_known = true;
    for (const std::string& v : dangling) {
      has_true |= v == "true";
      all_known &= v == "true" || v == "false";
    }
    if (has_true) {
      f.dangling = true;
    } else if (all_known) {
      f.dangling = false;
    } else {
      std::string list;
      for (const std::string& v : dangling) list += (list.empty() ? "" : " ") + v;
      return Fail(ErrorCode::kInvalidArgument, "Invalid filter 'dangling=[" + list + "]'");
    }
  }
  return f;
}

Result<bool> FamiliarMatch(const std::string& pattern, const std::string& familiar_ref) {
  STRATA_ASSIGN(matched, GoPathMatch(pattern, familiar_ref));
  if (matched) return true;
  auto ref = ParseNormalizedNamed(familiar_ref);
  if (!ref) return false;
  auto by_name = GoPathMatch(pattern, ref->FamiliarName());
  return by_name && *by_name;
}

Result<std::vector<ImageSummary>> FilterImages(std::vector<ImageSummary> images,
                                               const ImageFilters& filters, bool all,
                                               std::optional<GoTime> before,
                                               std::optional<GoTime> since) {
  const bool dangling_only = filters.dangling == true;
  std::vector<ImageSummary> out;
  for (ImageSummary& image : images) {
    if (dangling_only && image.has_children) continue;  // imageStore.Heads()
    GoTime created = CreatedTime(image);
    if (before && !Before(created, *before)) continue;
    if (since && !Before(*since, created)) continue;
    if (!filters.labels.empty() && !LabelsMatch(image.labels, filters.labels)) continue;
    STRATA_ASSIGN(tags, MatchingRefs(image.repo_tags, filters.references));
    STRATA_ASSIGN(digests, MatchingRefs(image.repo_digests, filters.references));
    image.repo_tags = std::move(tags);
    image.repo_digests = std::move(digests);
    if (image.repo_tags.empty() && image.repo_digests.empty()) {
      if (!all && image.has_children) continue;  // an intermediate image
      if (filters.dangling == false || !filters.references.empty()) continue;
    } else if (dangling_only && !image.repo_tags.empty()) {
      continue;
    }
    out.push_back(std::move(image));
  }
  return out;
}

std::vector<ImageListRow> ImageListRows(const ImageSummary& image, bool show_digests) {
  if (image.repo_tags.empty() && image.repo_digests.empty()) {
    return {{"<none>", "<none>", "<none>"}};
  }
  // Repositories in order of first appearance (docker iterates a Go map: any order).
  std::vector<std::string> repos;
  std::vector<std::vector<std::string>> tags, digests;
  auto slot = [&](const std::string& repo) {
    for (size_t k = 0; k < repos.size(); ++k) {
      if (repos[k] == repo) return k;
    }
    repos.push_back(repo);
    tags.emplace_back();
    digests.emplace_back();
    return repos.size() - 1;
  };
  for (const std::string& t : image.repo_tags) {
    auto ref = ParseNormalizedNamed(t);
    if (ref && ref->tag()) tags[slot(ref->FamiliarName())].push_back(*ref->tag());
  }
  for (const std::string& d : image.repo_digests) {
    auto ref = ParseNormalizedNamed(d);
    if (ref && ref->digest()) digests[slot(ref->FamiliarName())].push_back(ref->digest()->str());
  }
  std::vector<ImageListRow> rows;
  for (size_t k = 0; k < repos.size(); ++k) {
    if (tags[k].empty()) {
      if (!show_digests) {
        rows.push_back({repos[k], "<none>", ""});
        continue;
      }
      for (const std::string& d : digests[k]) rows.push_back({repos[k], "<none>", d});
      continue;
    }
    for (const std::string& tag : tags[k]) {
      if (!show_digests || digests[k].empty()) {
        rows.push_back({repos[k], tag, "<none>"});
        continue;
      }
      for (const std::string& d : digests[k]) rows.push_back({repos[k], tag, d});
    }
  }
  return rows;
}

nlohmann::ordered_json ImageListRowFields(const ImageSummary& image, const ImageListRow& row,
                                          bool truncate_id) {
  GoTime created = CreatedTime(image);
  const double size = static_cast<double>(image.size);
  nlohmann::ordered_json j;
  j["Containers"] = "N/A";
  j["CreatedAt"] = FormatImageCreatedAt(created.unix_seconds);
  j["CreatedSince"] = CreatedSince(created.unix_seconds);
  j["Digest"] = row.digest;
  j["ID"] = truncate_id ? TruncateId(image.id.str()) : image.id.str();
  j["Repository"] = row.repository;
  j["SharedSize"] = "N/A";
  j["Size"] = HumanSizeWithPrecision(size, 3);
  j["Tag"] = row.tag;
  j["UniqueSize"] = "N/A";
  j["VirtualSize"] = HumanSize(size);
  return j;
}

const nlohmann::ordered_json& ImageListHeaders() {
  static const nlohmann::ordered_json kHeaders = {{"ID", "IMAGE ID"},
                                                  {"Repository", "REPOSITORY"},
                                                  {"Tag", "TAG"},
                                                  {"Digest", "DIGEST"},
                                                  {"CreatedSince", "CREATED"},
                                                  {"CreatedAt", "CREATED AT"},
                                                  {"Size", "SIZE"},
                                                  {"Containers", "CONTAINERS"},
                                                  {"VirtualSize", "SIZE"},
                                                  {"SharedSize", "SHARED SIZE"},
                                                  {"UniqueSize", "UNIQUE SIZE"}};
  return kHeaders;
}

}  // namespace strata
