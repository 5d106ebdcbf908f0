#include "store/image_list_rows.h"

#include <algorithm>
#include <utility>

#include "reference/reference.h"

namespace strata {
namespace {

// (repository, values) in the order each repository first appears.
using Grouped = std::vector<std::pair<std::string, std::vector<std::string>>>;

void Add(Grouped& groups, const std::string& repo, std::string value) {
  auto it =
      std::find_if(groups.begin(), groups.end(), [&](const auto& g) { return g.first == repo; });
  if (it == groups.end()) {
    groups.emplace_back(repo, std::vector<std::string>{});
    it = groups.end() - 1;
  }
  it->second.push_back(std::move(value));
}

}  // namespace

std::vector<ImageListRow> ImageListRows(const std::vector<std::string>& repo_tags,
                                        const std::vector<std::string>& repo_digests,
                                        bool show_digests) {
  if (repo_tags.empty() && repo_digests.empty()) return {{"<none>", "<none>", "<none>"}};
  Grouped tags;
  Grouped digests;
  for (const std::string& t : repo_tags) {
    auto ref = ParseNormalizedNamed(t);
    if (ref && ref->tag()) Add(tags, ref->FamiliarName(), *ref->tag());
  }
  for (const std::string& d : repo_digests) {
    auto ref = ParseNormalizedNamed(d);
    if (ref && ref->digest()) Add(digests, ref->FamiliarName(), ref->digest()->str());
  }
  std::vector<ImageListRow> rows;
  for (const auto& [repo, repo_tag_list] : tags) {
    std::vector<std::string> repo_digest_list;
    auto d = std::find_if(digests.begin(), digests.end(),
                          [&](const auto& g) { return g.first == repo; });
    if (d != digests.end()) {
      if (show_digests) repo_digest_list = std::move(d->second);
      digests.erase(d);  // a repository with a tag gets no digest-only row
    }
    for (const std::string& tag : repo_tag_list) {
      if (repo_digest_list.empty()) rows.push_back({repo, tag, "<none>"});
      for (const std::string& digest : repo_digest_list) rows.push_back({repo, tag, digest});
    }
  }
  for (const auto& [repo, repo_digest_list] : digests) {
    if (!show_digests) {
      rows.push_back({repo, "<none>", ""});
      continue;
    }
    for (const std::string& digest : repo_digest_list) rows.push_back({repo, "<none>", digest});
  }
  return rows;
}

}  // namespace strata
