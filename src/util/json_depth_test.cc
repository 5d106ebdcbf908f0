#include "util/json_depth.h"

#include <gtest/gtest.h>

#include <string>

namespace strata {
namespace STRATA_UNITY_ID {

std::string Nested(size_t levels) { return std::string(levels, '[') + std::string(levels, ']'); }

TEST(JsonDepthTest, CountsObjectsAndArraysOutsideStrings) {
  EXPECT_EQ(JsonNestingDepth("1"), 0u);
  EXPECT_EQ(JsonNestingDepth(R"({"a":[1,{"b":{}}]})"), 4u);
  EXPECT_EQ(JsonNestingDepth(R"({"a":"[[[{{{"})"), 1u);
  EXPECT_EQ(JsonNestingDepth(R"({"a":"\"[[[","b":[]})"), 2u);  // an escaped quote stays inside
  EXPECT_EQ(JsonNestingDepth(R"(["\\",[]])"), 2u);             // an escaped backslash ends
}

TEST(JsonDepthTest, StopsCountingPastTheLimit) {
  EXPECT_EQ(JsonNestingDepth(Nested(1000000), 10), 11u);
}

TEST(JsonDepthTest, ParseUntrustedJsonRefusesDeepDocumentsWithoutParsingThem) {
  bool too_deep = true;
  auto ok = ParseUntrustedJson(Nested(kMaxJsonDepth), &too_deep);
  EXPECT_FALSE(too_deep);
  EXPECT_TRUE(ok.is_array());
  auto deep = ParseUntrustedJson<nlohmann::ordered_json>(Nested(100000), &too_deep);
  EXPECT_TRUE(too_deep);
  EXPECT_TRUE(deep.is_discarded());
  EXPECT_TRUE(ParseUntrustedJson("{not json").is_discarded());
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
