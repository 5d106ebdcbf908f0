#include "store/image_list_rows.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

const std::string kD1 = "sha256:" + std::string(64, '1');
const std::string kD2 = "sha256:" + std::string(64, '2');

std::vector<std::string> Show(const std::vector<ImageListRow>& rows) {
  std::vector<std::string> out;
  for (const ImageListRow& r : rows) out.push_back(r.repository + " " + r.tag + " " + r.digest);
  return out;
}

TEST(ImageListRowsTest, ImageWithoutReferencesIsOneNoneRow) {
  EXPECT_EQ(Show(ImageListRows({}, {}, false)), std::vector<std::string>{"<none> <none> <none>"});
  EXPECT_EQ(Show(ImageListRows({}, {}, true)), std::vector<std::string>{"<none> <none> <none>"});
}

// `pull r/ms@DIGEST` of an image that is tagged elsewhere: docker shows an "r/ms <none>" row.
TEST(ImageListRowsTest, DigestOnlyRepositoryGetsItsOwnRow) {
  EXPECT_EQ(Show(ImageListRows({"app:1"}, {"r/ms@" + kD1}, false)),
            (std::vector<std::string>{"app 1 <none>", "r/ms <none> "}));
  EXPECT_EQ(Show(ImageListRows({"app:1"}, {"r/ms@" + kD1, "r/ms@" + kD2}, true)),
            (std::vector<std::string>{"app 1 <none>", "r/ms <none> " + kD1, "r/ms <none> " + kD2}));
  EXPECT_EQ(Show(ImageListRows({}, {"r/ms@" + kD1}, false)),
            (std::vector<std::string>{"r/ms <none> "}));
}

TEST(ImageListRowsTest, DigestsOfATaggedRepositoryShowBesideEachTag) {
  const std::vector<std::string> tags = {"app:1", "app:2"};
  const std::vector<std::string> digests = {"app@" + kD1, "app@" + kD2};
  EXPECT_EQ(Show(ImageListRows(tags, digests, false)),
            (std::vector<std::string>{"app 1 <none>", "app 2 <none>"}));
  EXPECT_EQ(Show(ImageListRows(tags, digests, true)),
            (std::vector<std::string>{"app 1 " + kD1, "app 1 " + kD2, "app 2 " + kD1,
                                      "app 2 " + kD2}));
}

TEST(ImageListRowsTest, UnparsableReferencesAreSkipped) {
  EXPECT_EQ(Show(ImageListRows({"Bad Name:1", "ok:1"}, {"nodigest"}, true)),
            (std::vector<std::string>{"ok 1 <none>"}));
}

}  // namespace
}  // namespace strata
