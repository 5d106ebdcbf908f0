// The rows `images` prints for one image, as Docker 20.10's CLI formatter derives them from an
// image's RepoTags and RepoDigests (cli/command/formatter/image.go): one row per tag (per tag and
// digest of its repository with --digests), a "<none>" tag row for each repository the image has
// only digest references in, and one "<none> <none>" row for an image with neither. Pure;
// thread-safe.
#pragma once

#include <string>
#include <vector>

namespace strata {

struct ImageListRow {
  std::string repository;  // familiar name, or "<none>"
  std::string tag;         // or "<none>"
  std::string digest;  // "sha256:...", or "<none>" (or "" for a digest-only row without --digests)
};

// repo_tags are familiar "name:tag", repo_digests familiar "name@sha256:..." references; entries
// that do not parse are skipped, as docker does. Rows keep the order of the references given.
std::vector<ImageListRow> ImageListRows(const std::vector<std::string>& repo_tags,
                                        const std::vector<std::string>& repo_digests,
                                        bool show_digests);

}  // namespace strata
