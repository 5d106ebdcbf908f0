#include "migrate/migration_plan.h"

#include <algorithm>

#include "util/file.h"

namespace strata {

Result<MigrationPlan> PlanDockerMigration(const std::string& data_root, const std::string& driver) {
  if (!IsDirectory(data_root)) return Fail(data_root + " is not a directory");
  if (IsDirectory(data_root + "/image")) return PlanCurrentDockerRoot(data_root, driver);
  if (IsDirectory(data_root + "/graph")) return PlanLegacyDockerRoot(data_root, driver);
  return Fail(data_root +
              " is not a Docker data root: it has neither image/ (Docker 1.10 and later) nor "
              "graph/ (older Docker)");
}

std::string TrimLineEnd(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\r')) {
    text.pop_back();
  }
  return text;
}

void OrderParentsFirst(MigrationPlan& plan) {
  const size_t n = plan.images.size();
  enum class Mark { kNone, kVisiting, kDone };
  std::vector<Mark> mark(n, Mark::kNone);
  std::vector<size_t> order;
  order.reserve(n);
  // Iterative depth-first walk up the parent links; a cycle makes every image on it fail.
  for (size_t start = 0; start < n; ++start) {
    std::vector<size_t> path;
    size_t i = start;
    while (mark[i] == Mark::kNone) {
      mark[i] = Mark::kVisiting;
      path.push_back(i);
      if (!plan.images[i].parent) break;
      i = *plan.images[i].parent;
    }
    if (mark[i] == Mark::kVisiting && plan.images[i].parent && path.size() > 0 &&
        std::find(path.begin(), path.end(), *plan.images[i].parent) != path.end()) {
      for (size_t j : path) {
        if (plan.images[j].problem.empty()) {
          plan.images[j].problem = "its parent chain loops back on itself";
        }
      }
    }
    for (auto it = path.rbegin(); it != path.rend(); ++it) {
      mark[*it] = Mark::kDone;
      order.push_back(*it);
    }
  }
  std::vector<size_t> new_index(n);
  for (size_t k = 0; k < n; ++k) new_index[order[k]] = k;
  std::vector<PlannedImage> sorted;
  sorted.reserve(n);
  for (size_t k = 0; k < n; ++k) {
    PlannedImage image = std::move(plan.images[order[k]]);
    if (image.parent) image.parent = new_index[*image.parent];
    sorted.push_back(std::move(image));
  }
  for (PlannedImage& image : sorted) {
    // A legacy image's config continues its parent's; a current one only links to it.
    if (plan.layout == MigrationPlan::Layout::kLegacy && image.problem.empty() && image.parent &&
        !sorted[*image.parent].problem.empty()) {
      image.problem = "its parent " + sorted[*image.parent].source + " cannot migrate";
    }
  }
  plan.images = std::move(sorted);
}

}  // namespace strata
