#include "store/prune_filter.h"

#include <algorithm>
#include <cctype>

#include "image/filter_time.h"

namespace strata {
namespace {

std::string TrimSpace(const std::string& s) {
  const size_t begin = s.find_first_not_of(" \t\r\n");
  if (begin == std::string::npos) return "";
  return s.substr(begin, s.find_last_not_of(" \t\r\n") - begin + 1);
}

// filters.Args.MatchKVList: every "K" / "K=V" is present in `labels`.
bool MatchAll(const std::vector<std::string>& wanted,
              const std::map<std::string, std::string>& labels) {
  if (wanted.empty()) return true;
  if (labels.empty()) return false;
  return std::all_of(wanted.begin(), wanted.end(), [&](const std::string& kv) {
    const size_t eq = kv.find('=');
    auto it = labels.find(kv.substr(0, eq));
    if (it == labels.end()) return false;
    return eq == std::string::npos || it->second == kv.substr(eq + 1);
  });
}

}  // namespace

bool PruneFilter::Selects(
    const GoTime& created,
    const std::optional<std::map<std::string, std::string>>& image_labels) const {
  if (until && (created.unix_seconds > until->unix_seconds ||
                (created.unix_seconds == until->unix_seconds && created.nanos > until->nanos))) {
    return false;
  }
  if (!image_labels) return true;
  if (!MatchAll(labels, *image_labels)) return false;
  return not_labels.empty() || !MatchAll(not_labels, *image_labels);
}

Result<PruneFilter> ParsePruneFilter(const std::vector<std::string>& values, bool all,
                                     int64_t now_unix_nanos) {
  PruneFilter filter;
  std::vector<std::string> until;
  for (const std::string& value : values) {
    const size_t eq = value.find('=');
    if (eq == std::string::npos)
      return Fail(ErrorCode::kInvalidArgument, "bad format of filter (expected name=value)");
    std::string key = TrimSpace(value.substr(0, eq));
    std::transform(key.begin(), key.end(), key.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    const std::string arg = TrimSpace(value.substr(eq + 1));
    if (key == "until") {
      if (std::find(until.begin(), until.end(), arg) == until.end()) until.push_back(arg);
    } else if (key == "label") {
      filter.labels.push_back(arg);
    } else if (key == "label!") {
      filter.not_labels.push_back(arg);
    } else if (key == "dangling") {
      std::string lower = arg;
      std::transform(lower.begin(), lower.end(), lower.begin(),
                     [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
      if (lower != "true" && lower != "1" && lower != "false" && lower != "0") {
        return Fail(ErrorCode::kInvalidArgument, "invalid filter 'dangling=" + arg + "'");
      }
      const bool dangling = lower == "true" || lower == "1";
      if (dangling == all) {
        return Fail(ErrorCode::kInvalidArgument,
                    "invalid filter 'dangling=" + arg + "': it contradicts " +
                        (all ? "--all" : "pruning dangling images only (use --all)"));
      }
    } else {
      return Fail(ErrorCode::kInvalidArgument, "invalid filter '" + key + "'");
    }
  }
  if (until.size() > 1)
    return Fail(ErrorCode::kInvalidArgument, "more than one until filter specified");
  if (!until.empty()) {
    STRATA_ASSIGN(t, ParseFilterTime(until[0], now_unix_nanos));
    filter.until = t;
  }
  return filter;
}

}  // namespace strata
