#include "util/base64.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

TEST(Base64Test, RoundTripsWithPadding) {
  EXPECT_EQ(Base64Encode("user:pass"), "dXNlcjpwYXNz");
  EXPECT_EQ(Base64Encode("a"), "YQ==");
  EXPECT_EQ(*Base64Decode("YQ=="), "a");
  EXPECT_EQ(*Base64Decode("YWI="), "ab");
  EXPECT_EQ(*Base64Decode("dXNlcjpwYXNz"), "user:pass");
  EXPECT_EQ(*Base64Decode(""), "");
}

TEST(Base64Test, RefusesBadInput) {
  EXPECT_FALSE(Base64Decode("abc"));
  EXPECT_FALSE(Base64Decode("a!c="));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
