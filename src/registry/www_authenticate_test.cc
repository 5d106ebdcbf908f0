#include "registry/www_authenticate.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

TEST(WwwAuthenticateTest, BearerWithQuotedParams) {
  auto c = ParseWwwAuthenticate(
      R"(Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/busybox:pull,push")");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].scheme, "bearer");
  EXPECT_EQ(c[0].params["realm"], "https://auth.docker.io/token");
  EXPECT_EQ(c[0].params["service"], "registry.docker.io");
  EXPECT_EQ(c[0].params["scope"], "repository:library/busybox:pull,push");
}

TEST(WwwAuthenticateTest, SeveralChallengesAndEscapes) {
  auto c = ParseWwwAuthenticate(
      R"(Basic realm="Registry \"Realm\"", Bearer realm=x, error=invalid_token)");
  ASSERT_EQ(c.size(), 2u);
  EXPECT_EQ(c[0].scheme, "basic");
  EXPECT_EQ(c[0].params["realm"], "Registry \"Realm\"");
  EXPECT_EQ(c[1].scheme, "bearer");
  EXPECT_EQ(c[1].params["realm"], "x");
  EXPECT_EQ(c[1].params["error"], "invalid_token");
}

TEST(WwwAuthenticateTest, EmptyAndGarbage) {
  EXPECT_TRUE(ParseWwwAuthenticate("").empty());
  auto c = ParseWwwAuthenticate("Basic");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_TRUE(c[0].params.empty());
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
