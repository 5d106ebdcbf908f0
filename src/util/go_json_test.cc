#include "util/go_json.h"

#include <gtest/gtest.h>

#include <fstream>
#include <limits>
#include <sstream>
#include <string>

#include "util/vectors_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using Json = nlohmann::ordered_json;

TEST(GoJson, EscapesHtmlCharacters) {
  EXPECT_EQ(GoQuote("echo \"Hello world\" > /tmp/newfile && cat <x"),
            R"("echo \"Hello world\" \u003e /tmp/newfile \u0026\u0026 cat \u003cx")");
  EXPECT_EQ(GoQuote("back\\slash"), R"("back\\slash")");
}

TEST(GoJson, EscapesControlCharactersLikeGo119) {
  // \n \r \t get short escapes; everything else below 0x20 (including \b and \f, which only
  // Go 1.22+ shortens) is \u00XX with lowercase hex. DEL stays raw.
  std::string input = "\n\r\t\b\f";
  input += '\0';
  input += "\x01\x1b\x1f\x7f";
  EXPECT_EQ(GoQuote(input), "\"\\n\\r\\t\\u0008\\u000c\\u0000\\u0001\\u001b\\u001f\x7f\"");
}

TEST(GoJson, UnicodeHandling) {
  // Non-ASCII is written raw, except the JavaScript line separators.
  EXPECT_EQ(GoQuote("caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x90\xB3"),
            "\"caf\xC3\xA9 \xE6\x97\xA5 \xF0\x9F\x90\xB3\"");
  EXPECT_EQ(GoQuote("a\xE2\x80\xA8"
                    "b\xE2\x80\xA9"
                    "c"),
            R"("a\u2028b\u2029c")");
  // A real U+FFFD is valid UTF-8 and stays raw.
  EXPECT_EQ(GoQuote("\xEF\xBF\xBD"), "\"\xEF\xBF\xBD\"");
}

TEST(GoJson, InvalidUtf8BecomesReplacementPerByte) {
  EXPECT_EQ(GoQuote("\xFF"), R"("\ufffd")");
  EXPECT_EQ(GoQuote("a\xE2\x82z"), R"("a\ufffd\ufffdz")");        // truncated 3-byte sequence
  EXPECT_EQ(GoQuote("\xC0\xAF"), R"("\ufffd\ufffd")");            // overlong '/'
  EXPECT_EQ(GoQuote("\xED\xA0\x80"), R"("\ufffd\ufffd\ufffd")");  // UTF-16 surrogate
  EXPECT_EQ(GoQuote("\xF4\x90\x80\x80"), R"("\ufffd\ufffd\ufffd\ufffd")");  // > U+10FFFF
  EXPECT_EQ(GoQuote("\xF0\x9F\x90"), R"("\ufffd\ufffd\ufffd")");
}

TEST(GoJson, Numbers) {
  Json j = Json::array({0, -1, 1458, std::numeric_limits<int64_t>::min(),
                        std::numeric_limits<uint64_t>::max(), true, false, nullptr});
  EXPECT_EQ(GoMarshal(j), "[0,-1,1458,-9223372036854775808,18446744073709551615,true,false,null]");
}

TEST(GoJson, FloatsLikeGoFloat64Encoder) {
  EXPECT_EQ(GoFormatJsonFloat(1.0), "1");
  EXPECT_EQ(GoFormatJsonFloat(1.5), "1.5");
  EXPECT_EQ(GoFormatJsonFloat(0.1), "0.1");
  EXPECT_EQ(GoFormatJsonFloat(-0.0), "-0");
  EXPECT_EQ(GoFormatJsonFloat(123456789.0), "123456789");
  EXPECT_EQ(GoFormatJsonFloat(1e20), "100000000000000000000");
  EXPECT_EQ(GoFormatJsonFloat(1e21), "1e+21");
  EXPECT_EQ(GoFormatJsonFloat(0.000001), "0.000001");
  EXPECT_EQ(GoFormatJsonFloat(1e-7), "1e-7");
  EXPECT_EQ(GoFormatJsonFloat(-1.5e-7), "-1.5e-7");
  EXPECT_EQ(GoFormatJsonFloat(1e-10), "1e-10");
  EXPECT_EQ(GoFormatJsonFloat(1e100), "1e+100");
  EXPECT_EQ(GoFormatJsonFloat(5e-324), "5e-324");
  EXPECT_EQ(GoMarshal(Json::parse("[2.50,1.0e2]")), "[2.5,100]");
}

TEST(GoJson, CompactKeepsInsertionOrder) {
  Json j = Json::object();
  j["zeta"] = 1;
  j["Alpha"] = Json::array();
  j["mid"] = Json::object();
  j["list"] = Json::array({"a", Json::object({{"y", 1}, {"x", 2}})});
  EXPECT_EQ(GoMarshal(j), R"({"zeta":1,"Alpha":[],"mid":{},"list":["a",{"y":1,"x":2}]})");
}

TEST(GoJson, SortedKeysAtEveryLevelBytewise) {
  Json j = Json::object();
  j["b"] = Json::object({{"z", 1}, {"Z", 2}, {"\xC3\xA9", 3}, {"a", 4}});
  j["a"] = Json::array({Json::object({{"y", 1}, {"x", 2}})});
  j["B"] = nullptr;
  EXPECT_EQ(
      GoMarshalSortedKeys(j),
      "{\"B\":null,\"a\":[{\"x\":2,\"y\":1}],\"b\":{\"Z\":2,\"a\":4,\"z\":1,\"\xC3\xA9\":3}}");
}

TEST(GoJson, SortedTopLevelOnly) {
  Json j = Json::object();
  j["parent"] = "sha256:1";
  j["container_config"] = Json::object({{"Hostname", ""}, {"Domainname", ""}});
  j["layer_id"] = "sha256:2";
  j["created"] = "1970-01-01T00:00:00Z";
  EXPECT_EQ(
      GoMarshalSortedTopLevel(j),
      R"({"container_config":{"Hostname":"","Domainname":""},"created":"1970-01-01T00:00:00Z",)"
      R"("layer_id":"sha256:2","parent":"sha256:1"})");
}

TEST(GoJson, KeysAreEscapedToo) {
  Json j = Json::object({{"a<b", "x&y"}});
  EXPECT_EQ(GoMarshal(j), R"({"a\u003cb":"x\u0026y"})");
}

TEST(GoJson, MarshalIndentThreeSpaces) {
  Json m = Json::object();
  m["schemaVersion"] = 2;
  m["mediaType"] = "application/vnd.docker.distribution.manifest.v2+json";
  m["config"] = Json::object({{"mediaType", "application/vnd.docker.container.image.v1+json"},
                              {"size", 1458},
                              {"digest", "sha256:ab"}});
  m["layers"] = Json::array({Json::object({{"size", 12}})});
  m["empty"] = Json::array();
  m["none"] = Json::object();
  EXPECT_EQ(GoMarshalIndent(m, "", "   "),
            "{\n"
            "   \"schemaVersion\": 2,\n"
            "   \"mediaType\": \"application/vnd.docker.distribution.manifest.v2+json\",\n"
            "   \"config\": {\n"
            "      \"mediaType\": \"application/vnd.docker.container.image.v1+json\",\n"
            "      \"size\": 1458,\n"
            "      \"digest\": \"sha256:ab\"\n"
            "   },\n"
            "   \"layers\": [\n"
            "      {\n"
            "         \"size\": 12\n"
            "      }\n"
            "   ],\n"
            "   \"empty\": [],\n"
            "   \"none\": {}\n"
            "}");
}

TEST(GoJson, MarshalIndentWithPrefixAndScalars) {
  Json j = Json::object({{"a", Json::array({1, "<"})}});
  EXPECT_EQ(GoMarshalIndent(j, "> ", "\t"),
            "{\n> \t\"a\": [\n> \t\t1,\n> \t\t\"\\u003c\"\n> \t]\n> }");
  EXPECT_EQ(GoMarshalIndent(Json("x"), "", "  "), "\"x\"");
  EXPECT_EQ(GoMarshalIndent(Json::array(), "", "  "), "[]");
}

// Real Docker schema2 manifest and manifest list, byte for byte (json.MarshalIndent with three
// spaces): re-serialising the parsed document must reproduce the exact bytes and digest.
TEST(GoJson, ReproducesRealDockerManifestsByteForByte) {
  STRATA_NEED_VECTORS(path, "image-spec-schema.json");
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  nlohmann::json vectors = nlohmann::json::parse(buffer.str());
  int checked = 0;
  for (const auto& group : vectors["groups"]) {
    std::string id = group["id"];
    if (id != "TestBackwardsCompatibilityManifest" &&
        id != "TestBackwardsCompatibilityImageIndex") {
      continue;
    }
    for (const auto& c : group["cases"]) {
      std::string document = c["document"];
      EXPECT_EQ(GoMarshalIndent(Json::parse(document), "", "   "), document) << id;
      ++checked;
    }
  }
  EXPECT_EQ(checked, 2);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
