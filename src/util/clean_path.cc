#include "util/clean_path.h"

#include <vector>

namespace strata {

std::string CleanPath(std::string_view path) {
  if (path.empty()) return ".";
  const bool rooted = path.front() == '/';
  std::vector<std::string_view> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    start = slash + 1;
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty() && parts.back() != "..") {
        parts.pop_back();
      } else if (!rooted) {
        parts.push_back(part);
      }
      continue;
    }
    parts.push_back(part);
  }
  std::string out = rooted ? "/" : "";
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out += '/';
    out += parts[i];
  }
  if (out.empty()) return ".";
  return out;
}

std::optional<std::string> RootRelative(std::string_view name) {
  while (!name.empty() && name.front() == '/') name.remove_prefix(1);
  std::string clean = CleanPath(name);
  if (clean == ".") return std::string();
  if (clean == ".." || clean.starts_with("../")) return std::nullopt;
  return clean;
}

std::string ClampedRootRelative(std::string_view name) {
  std::string clean = CleanPath("/" + std::string(name));
  return clean.substr(1);
}

}  // namespace strata
