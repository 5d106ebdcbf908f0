#include "util/clean_path.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

TEST(CleanPathTest, FollowsGoPathClean) {
  EXPECT_EQ(CleanPath(""), ".");
  EXPECT_EQ(CleanPath("a//b/./c/"), "a/b/c");
  EXPECT_EQ(CleanPath("a/b/../../.."), "..");
  EXPECT_EQ(CleanPath("../../x"), "../../x");
  EXPECT_EQ(CleanPath("/../x"), "/x");
  EXPECT_EQ(CleanPath("/"), "/");
  EXPECT_EQ(CleanPath("./"), ".");
  EXPECT_EQ(CleanPath("a/../b/PaxHeaders.0/c"), "b/PaxHeaders.0/c");
}

TEST(CleanPathTest, RootRelativeRejectsClimbing) {
  EXPECT_EQ(RootRelative("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(RootRelative("./etc/"), "etc");
  EXPECT_EQ(RootRelative("dne/../.wh.etc"), ".wh.etc");
  EXPECT_EQ(RootRelative("./"), "");
  EXPECT_EQ(RootRelative("/"), "");
  EXPECT_EQ(RootRelative(""), "");
  EXPECT_FALSE(RootRelative("../victim/dotdot"));
  EXPECT_FALSE(RootRelative("/../victim/slash-dotdot"));
  EXPECT_FALSE(RootRelative("a/../../x"));
  EXPECT_FALSE(RootRelative(".."));
}

TEST(CleanPathTest, ClampedRootRelativeStaysInside) {
  EXPECT_EQ(ClampedRootRelative("../../../../../etc/passwd"), "etc/passwd");
  EXPECT_EQ(ClampedRootRelative("/etc/passwd"), "etc/passwd");
  EXPECT_EQ(ClampedRootRelative("../victim"), "victim");
  EXPECT_EQ(ClampedRootRelative(".."), "");
  EXPECT_EQ(ClampedRootRelative("a/b/../c"), "a/c");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
