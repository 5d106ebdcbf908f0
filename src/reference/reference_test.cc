// Reference grammar and normalisation: the distribution/reference vectors from
// STRATA_VECTORS_DIR/reference.json, plus hand-written cases for what strata relies on.
#include "reference/reference.h"

#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iostream>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "util/vectors_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using nlohmann::json;

constexpr char kSource[] = "distribution/reference";
const std::string kHex64 = "e6693c20186f837fc393390135d8a598a96a833917917789d63766cab6c59582";

// The ops this file checks; ReferenceVectors.EveryOpIsChecked fails when the vectors grow a new
// one.
const std::set<std::string> kCheckedOps = {"parse",
                                           "json_field",
                                           "with_name",
                                           "parse_named",
                                           "with_tag",
                                           "with_digest",
                                           "parse_normalized_named",
                                           "parse_any",
                                           "familiar_match",
                                           "parse_docker_ref",
                                           "regexp_domain",
                                           "regexp_name",
                                           "regexp_reference",
                                           "regexp_identifier",
                                           "misc"};

const json* Vectors() {
  static const std::optional<json> vectors = []() -> std::optional<json> {
    std::ifstream in(test_vectors::Dir() + "/reference.json");
    if (!in) return std::nullopt;
    return json::parse(in);
  }();
  return vectors ? &*vectors : nullptr;
}

// Skips the test (fails it under CI=true) when the vectors are missing; else Vectors() holds them.
#define NEED_REFERENCE_VECTORS() STRATA_NEED_VECTORS(reference_vectors, "reference.json")

// Runs `check` over every case of the distribution/reference groups with `op`. `check` returns
// an empty string when the case passes, else what went wrong. Returns the number of cases run.
size_t ForEachCase(const std::string& op, const std::function<std::string(const json& c)>& check) {
  size_t count = 0;
  std::vector<std::string> failures;
  for (const json& group : (*Vectors())["groups"]) {
    if (group["source"] != kSource || group["op"] != op) continue;
    for (const json& c : group["cases"]) {
      ++count;
      std::string problem = check(c);
      if (!problem.empty()) {
        failures.push_back(group["id"].get<std::string>() + " " + c.dump() + ": " + problem);
      }
    }
  }
  for (const std::string& f : failures) ADD_FAILURE() << f;
  std::cout << "[ vectors  ] " << op << ": " << count - failures.size() << "/" << count
            << " cases pass\n";
  return count;
}

std::string Str(const json& v) {
  return v.is_null() ? std::string("<null>") : v.get<std::string>();
}

std::string Expect(const std::string& what, const std::string& got, const std::string& want) {
  return got == want ? "" : what + " = \"" + got + "\", want \"" + want + "\"; ";
}

std::string Opt(const std::optional<std::string>& v) { return v ? *v : "<null>"; }
std::string OptDigest(const std::optional<Digest>& d) { return d ? d->str() : "<null>"; }

// Error expectations: must fail, and carry the upstream message when the case names one.
std::string ExpectError(const Error& error, const json& c) {
  if (c.contains("message") &&
      error.message.find(c["message"].get<std::string>()) == std::string::npos) {
    return "error \"" + error.message + "\" lacks \"" + c["message"].get<std::string>() + "\"";
  }
  return "";
}

// The one upstream case we deliberately differ on: the Go test binary does not link sha512, so
// upstream reports "unsupported digest algorithm"; sha512 is a valid algorithm (the source note
// says so) and strata accepts it.
bool IsUnlinkedSha512Case(const json& c) {
  return c.contains("note") &&
         c["note"].get<std::string>().find("sha512 is valid") != std::string::npos;
}

std::string CheckStrictParse(const json& c) {
  const std::string input = c["input"];
  auto ref = ParseReference(input);
  if (IsUnlinkedSha512Case(c)) {
    if (!ref) return "sha512 digest refused: " + ref.error().message;
    return Expect("String()", ref->String(), input) +
           Expect("digest", OptDigest(ref->digest()), input.substr(input.find('@') + 1));
  }
  if (!c["ok"].get<bool>()) {
    if (ref) return "parsed, want an error; got " + ref->String();
    return ExpectError(ref.error(), c);
  }
  if (!ref) return "error: " + ref.error().message;
  std::string problems = Expect("String()", ref->String(), input) +
                         Expect("Name()", ref->Name(), c["name"]) +
                         Expect("tag", Opt(ref->tag()), Str(c["tag"])) +
                         Expect("digest", OptDigest(ref->digest()), Str(c["digest"]));
  if (c.contains("domain")) problems += Expect("domain", ref->domain(), c["domain"]);
  return problems;
}

TEST(ReferenceVectors, EveryOpIsChecked) {
  NEED_REFERENCE_VECTORS();
  size_t groups = 0;
  for (const json& group : (*Vectors())["groups"]) {
    if (group["source"] != kSource) continue;
    ++groups;
    EXPECT_TRUE(kCheckedOps.count(group["op"])) << "unchecked op " << group["op"];
  }
  EXPECT_GT(groups, 0u);
}

TEST(ReferenceVectors, Parse) {
  NEED_REFERENCE_VECTORS();
  EXPECT_GT(ForEachCase("parse", CheckStrictParse), 40u);
}

TEST(ReferenceVectors, JsonField) {
  NEED_REFERENCE_VECTORS();
  EXPECT_GT(ForEachCase("json_field", CheckStrictParse), 0u);
}

TEST(ReferenceVectors, WithName) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("with_name", [](const json& c) -> std::string {
    auto ref = ParseName(c["input"].get<std::string>());
    if (!c["ok"].get<bool>()) return ref ? "parsed: " + ref->String() : ExpectError(ref.error(), c);
    if (!ref) return "error: " + ref.error().message;
    return Expect("domain", ref->domain(), c["domain"]) + Expect("path", ref->path(), c["path"]) +
           Expect("tag", Opt(ref->tag()), "<null>");
  });
  EXPECT_GT(n, 10u);
}

TEST(ReferenceVectors, ParseNamed) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("parse_named", [](const json& c) -> std::string {
    auto ref = ParseCanonical(c["input"].get<std::string>());
    if (!c["ok"].get<bool>()) return ref ? "parsed: " + ref->String() : ExpectError(ref.error(), c);
    if (!ref) return "error: " + ref.error().message;
    return Expect("domain", ref->domain(), c["domain"]) + Expect("path", ref->path(), c["path"]);
  });
  EXPECT_GT(n, 0u);
}

// WithTag/WithDigest cases. Upstream WithDigest accepts any "algo:<32+ hex>" text; strata's
// WithDigest takes a validated Digest, so vector digests of the wrong length cannot be built. Those
// cases are counted separately and must be refused by Digest::Parse (so the skip cannot hide a
// regression); the name/tag part of every case is still checked.
struct TagDigestCounts {
  size_t checked = 0;
  size_t unrepresentable = 0;
};

TagDigestCounts CheckTagDigest(const std::string& op, bool tag_first) {
  TagDigestCounts counts;
  size_t total = ForEachCase(op, [&](const json& c) -> std::string {
    auto ref = ParseName(c["name"].get<std::string>());
    if (!ref) return "name error: " + ref.error().message;
    std::optional<Digest> digest;
    if (!c["digest"].is_null()) {
      auto parsed = Digest::Parse(c["digest"].get<std::string>());
      if (!parsed) {
        ++counts.unrepresentable;
        // What can be checked without the digest: the tag part of the expected string.
        std::string want = c["string"];
        want = want.substr(0, want.find('@'));
        Reference r = *ref;
        if (!c["tag"].is_null()) {
          auto tagged = r.WithTag(c["tag"].get<std::string>());
          if (!tagged) return "tag error: " + tagged.error().message;
          r = *tagged;
        }
        return Expect("String() without digest", r.String(), want);
      }
      digest = *parsed;
    }
    ++counts.checked;
    Reference r = *ref;
    auto apply_tag = [&]() -> std::string {
      if (c["tag"].is_null()) return "";
      auto tagged = r.WithTag(c["tag"].get<std::string>());
      if (!tagged) return "tag error: " + tagged.error().message;
      r = *tagged;
      return "";
    };
    if (tag_first) {
      if (auto e = apply_tag(); !e.empty()) return e;
      if (digest) r = r.WithDigest(*digest);
    } else {
      if (digest) r = r.WithDigest(*digest);
      if (auto e = apply_tag(); !e.empty()) return e;
    }
    return Expect("String()", r.String(), c["string"]);
  });
  EXPECT_EQ(counts.checked + counts.unrepresentable, total);
  std::cout << "[ vectors  ] " << op << ": " << counts.checked << " fully checked, "
            << counts.unrepresentable << " with short digests checked without the digest\n";
  return counts;
}

TEST(ReferenceVectors, WithTag) {
  NEED_REFERENCE_VECTORS();
  TagDigestCounts counts = CheckTagDigest("with_tag", /*tag_first=*/false);
  EXPECT_GT(counts.checked, 0u);
}

TEST(ReferenceVectors, WithDigest) {
  NEED_REFERENCE_VECTORS();
  // Every upstream with_digest case uses a 37-hex "sha256:" value, which is not a digest strata
  // can hold; ReferenceTest.WithDigestKeepsTag covers the same behaviour with real digests.
  TagDigestCounts counts = CheckTagDigest("with_digest", /*tag_first=*/true);
  EXPECT_GT(counts.checked + counts.unrepresentable, 0u);
}

TEST(ReferenceVectors, ParseNormalizedNamed) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("parse_normalized_named", [](const json& c) -> std::string {
    auto ref = ParseNormalizedNamed(c["input"].get<std::string>());
    if (!c["ok"].get<bool>()) return ref ? "parsed: " + ref->String() : ExpectError(ref.error(), c);
    if (!ref) return "error: " + ref.error().message;
    std::string problems;
    if (c.contains("familiar_name")) {
      problems += Expect("FamiliarName()", ref->FamiliarName(), c["familiar_name"]);
    }
    if (c.contains("string")) problems += Expect("String()", ref->String(), c["string"]);
    if (c.contains("domain")) problems += Expect("domain", ref->domain(), c["domain"]);
    if (c.contains("path")) problems += Expect("path", ref->path(), c["path"]);
    return problems;
  });
  EXPECT_GT(n, 100u);
}

TEST(ReferenceVectors, ParseAny) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("parse_any", [](const json& c) -> std::string {
    if (c.contains("digest_set")) return "digest_set lookups are not supported";
    auto any = ParseAnyReference(c["input"].get<std::string>());
    if (!c["ok"].get<bool>()) return any ? "parsed: " + AnyReferenceString(*any) : "";
    if (!any) return "error: " + any.error().message;
    const bool digest_only = std::holds_alternative<Digest>(*any);
    std::string problems = Expect("String()", AnyReferenceString(*any), c["string"]);
    if (digest_only != c["digest_only"].get<bool>()) problems += "digest_only mismatch";
    return problems;
  });
  EXPECT_GT(n, 0u);
}

TEST(ReferenceVectors, ParseDockerRef) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("parse_docker_ref", [](const json& c) -> std::string {
    auto ref = ParseDockerRef(c["input"].get<std::string>());
    if (!c["ok"].get<bool>()) return ref ? "parsed: " + ref->String() : ExpectError(ref.error(), c);
    if (!ref) return "error: " + ref.error().message;
    return Expect("String()", ref->String(), c["string"]);
  });
  EXPECT_GT(n, 0u);
}

TEST(ReferenceVectors, FamiliarMatch) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("familiar_match", [](const json& c) -> std::string {
    auto any = ParseAnyReference(c["reference"].get<std::string>());
    if (!any) return "reference error: " + any.error().message;
    auto matched = FamiliarMatch(c["pattern"].get<std::string>(), *any);
    if (!matched) return "pattern error: " + matched.error().message;
    return *matched == c["match"].get<bool>() ? "" : "match mismatch";
  });
  EXPECT_GT(n, 0u);
}

TEST(ReferenceVectors, RegexpDomain) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("regexp_domain", [](const json& c) -> std::string {
    return IsValidDomain(c["input"].get<std::string>()) == c["match"].get<bool>()
               ? ""
               : "match mismatch";
  });
  EXPECT_GT(n, 20u);
}

TEST(ReferenceVectors, RegexpName) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("regexp_name", [](const json& c) -> std::string {
    const std::string input = c["input"];  // parts view into it
    auto parts = MatchNameGrammar(input);
    if (parts.has_value() != c["match"].get<bool>()) return "match mismatch";
    if (!parts || !c.contains("submatches")) return "";
    return Expect("domain", std::string(parts->domain), c["submatches"][0]) +
           Expect("path", std::string(parts->path), c["submatches"][1]);
  });
  EXPECT_GT(n, 50u);
}

TEST(ReferenceVectors, RegexpReference) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("regexp_reference", [](const json& c) -> std::string {
    const std::string input = c["input"];  // parts view into it
    auto parts = MatchReferenceGrammar(input);
    if (parts.has_value() != c["match"].get<bool>()) return "match mismatch";
    if (!parts) return "";
    return Expect("name", std::string(parts->name), c["submatches"][0]) +
           Expect("tag", std::string(parts->tag.value_or("")), c["submatches"][1]) +
           Expect("digest", std::string(parts->digest.value_or("")), c["submatches"][2]);
  });
  EXPECT_GT(n, 0u);
}

TEST(ReferenceVectors, RegexpIdentifier) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("regexp_identifier", [](const json& c) -> std::string {
    return IsFullImageIdHex(c["input"].get<std::string>()) == c["match"].get<bool>()
               ? ""
               : "match mismatch";
  });
  EXPECT_GT(n, 0u);
}

TEST(ReferenceVectors, Misc) {
  NEED_REFERENCE_VECTORS();
  size_t n = ForEachCase("misc", [](const json& c) -> std::string {
    const std::string call = c["call"];
    const bool want_ok = c["ok"].get<bool>();
    if (call == "ParseNormalizedNamed") {
      auto ref = ParseNormalizedNamed(c["input"].get<std::string>());
      if (ref.has_value() != want_ok) return "ok mismatch";
      if (!ref) return "";
      std::string problems =
          Expect("String()", ref->String(), c["string"]) +
          Expect("FamiliarString()", ref->FamiliarString(), c["familiar_string"]);
      if (ref->tag().has_value() != c["tagged"].get<bool>()) problems += "tagged mismatch; ";
      if (ref->digest().has_value() != c["digested"].get<bool>()) problems += "digested mismatch";
      return problems;
    }
    auto name = ParseNormalizedNamed(c.value("name", std::string("busybox")));
    if (!name) return "name error: " + name.error().message;
    if (call == "WithTag") {
      return name->WithTag(c["tag"].get<std::string>()).has_value() == want_ok ? "" : "ok mismatch";
    }
    if (call == "WithDigest") {
      // WithDigest takes a Digest, so the failure has to come from Digest::Parse.
      return Digest::Parse(c["digest"].get<std::string>()).has_value() == want_ok ? ""
                                                                                  : "ok mismatch";
    }
    if (call == "FamiliarMatch") {
      auto any = ParseAnyReference(c["reference"].get<std::string>());
      if (!any) return "reference error: " + any.error().message;
      return FamiliarMatch(c["pattern"].get<std::string>(), *any).has_value() == want_ok
                 ? ""
                 : "ok mismatch";
    }
    return "unknown call " + call;
  });
  EXPECT_GT(n, 0u);
}

// ---- hand-written ------------------------------------------------------------------------------

TEST(ReferenceTest, DockerRefAddsHubDefaultsAndLatest) {
  auto ref = ParseDockerRef("busybox");
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->String(), "docker.io/library/busybox:latest");
  EXPECT_EQ(ref->domain(), "docker.io");
  EXPECT_EQ(ref->path(), "library/busybox");
  EXPECT_EQ(ref->tag(), "latest");
  EXPECT_EQ(ref->FamiliarName(), "busybox");
  EXPECT_EQ(ref->FamiliarString(), "busybox:latest");
}

TEST(ReferenceTest, DockerRefDropsTagWhenDigestPresent) {
  auto ref = ParseDockerRef("index.docker.io/busybox:1.36@sha256:" + kHex64);
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->String(), "docker.io/library/busybox@sha256:" + kHex64);
  EXPECT_FALSE(ref->tag());
  ASSERT_TRUE(ref->digest());
  EXPECT_EQ(ref->digest()->hex(), kHex64);
  EXPECT_EQ(ref->FamiliarString(), "busybox@sha256:" + kHex64);
}

TEST(ReferenceTest, LocalhostWithPortIsADomain) {
  auto ref = ParseNormalizedNamed("localhost:5000/a/b:t");
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->domain(), "localhost:5000");
  EXPECT_EQ(ref->path(), "a/b");
  EXPECT_EQ(ref->tag(), "t");
  EXPECT_EQ(ref->String(), "localhost:5000/a/b:t");
  EXPECT_EQ(ref->FamiliarString(), "localhost:5000/a/b:t");
  auto docker_ref = ParseDockerRef("localhost:5000/a/b");
  ASSERT_TRUE(docker_ref);
  EXPECT_EQ(docker_ref->String(), "localhost:5000/a/b:latest");
}

TEST(ReferenceTest, Ipv4RegistryKeepsPathAsIs) {
  auto ref = ParseNormalizedNamed("127.0.0.1:5000/x");
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->domain(), "127.0.0.1:5000");
  EXPECT_EQ(ref->path(), "x");  // no library/ outside Docker Hub
  EXPECT_EQ(ref->FamiliarName(), "127.0.0.1:5000/x");
  EXPECT_EQ(TagNameOnly(*ref).String(), "127.0.0.1:5000/x:latest");
}

TEST(ReferenceTest, Ipv6RegistryLiteral) {
  auto ref = ParseNormalizedNamed("[::1]:5000/repo:tag");
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->domain(), "[::1]:5000");
  EXPECT_EQ(ref->path(), "repo");
  EXPECT_FALSE(ParseNormalizedNamed("[fe80::1%eth0]:5000/repo"));
}

TEST(ReferenceTest, UppercasePathRejected) {
  auto strict = ParseReference("test:5000/Uppercase/lowercase:tag");
  ASSERT_FALSE(strict);
  EXPECT_NE(strict.error().message.find("repository name must be lowercase"), std::string::npos);
  EXPECT_NE(strict.error().message.find("test:5000/Uppercase/lowercase:tag"), std::string::npos);

  auto normalized = ParseNormalizedNamed("docker/Docker");
  ASSERT_FALSE(normalized);
  EXPECT_NE(normalized.error().message.find("repository name must be lowercase"),
            std::string::npos);
  EXPECT_NE(normalized.error().message.find("\"docker/Docker\""), std::string::npos);

  // Upper case in the first component makes it a domain, which may have upper case.
  auto domain = ParseNormalizedNamed("FOO/bar");
  ASSERT_TRUE(domain);
  EXPECT_EQ(domain->domain(), "FOO");
  // Upper case in a tag is fine.
  auto tag = ParseNormalizedNamed("foo:BAR");
  ASSERT_TRUE(tag);
  EXPECT_EQ(tag->tag(), "BAR");
}

TEST(ReferenceTest, ErrorsQuoteTheCallersInput) {
  auto ref = ParseNormalizedNamed("-foo");
  ASSERT_FALSE(ref);
  EXPECT_EQ(ref.error().message, "invalid reference \"-foo\": invalid reference format");
  auto empty = ParseReference("");
  ASSERT_FALSE(empty);
  EXPECT_EQ(empty.error().message,
            "invalid reference \"\": repository name must have at least one component");
}

TEST(ReferenceTest, DigestReferences) {
  auto ref = ParseNormalizedNamed("foo/bar@sha256:" + kHex64);
  ASSERT_TRUE(ref) << ref.error().message;
  EXPECT_EQ(ref->String(), "docker.io/foo/bar@sha256:" + kHex64);
  EXPECT_EQ(ref->digest(), Digest::FromHex(DigestAlgorithm::kSha256, kHex64));
  EXPECT_FALSE(ref->tag());
  EXPECT_FALSE(ref->IsNameOnly());
  EXPECT_EQ(TagNameOnly(*ref), *ref);  // a digest is enough, no :latest

  const std::string hex128 = kHex64 + kHex64;
  auto sha512 = ParseReference("a@sha512:" + hex128);
  ASSERT_TRUE(sha512) << sha512.error().message;
  EXPECT_EQ(sha512->digest()->algorithm(), DigestAlgorithm::kSha512);

  auto upper_hex = ParseReference("a@sha256:" + std::string(64, 'A'));
  ASSERT_FALSE(upper_hex);
  EXPECT_NE(upper_hex.error().message.find("invalid checksum digest format"), std::string::npos);
  auto unknown = ParseReference("a@md5:" + std::string(32, 'a'));
  ASSERT_FALSE(unknown);
  EXPECT_NE(unknown.error().message.find("unsupported digest algorithm"), std::string::npos);
}

TEST(ReferenceTest, ShortDigestRejected) {
  // Not even the digest grammar (32+ hex digits): a format error.
  auto ref = ParseReference("a@sha256:short");
  ASSERT_FALSE(ref);
  EXPECT_NE(ref.error().message.find("invalid reference format"), std::string::npos);
  // Grammatical but the wrong length for sha256.
  auto short_hex = ParseReference("a@sha256:" + std::string(40, 'f'));
  ASSERT_FALSE(short_hex);
  EXPECT_NE(short_hex.error().message.find("invalid checksum digest length"), std::string::npos);
}

TEST(ReferenceTest, BareDigestIsNotARepositoryName) {
  const std::string digest = "sha256:" + kHex64;
  EXPECT_FALSE(ParseName(digest));
  EXPECT_FALSE(MatchNameGrammar(digest));
  auto any = ParseAnyReference(digest);
  ASSERT_TRUE(any);
  ASSERT_TRUE(std::holds_alternative<Digest>(*any));
  EXPECT_EQ(std::get<Digest>(*any).str(), digest);
  // A bare 64-hex string is an image ID: ParseAnyReference makes it a digest, the name parsers
  // refuse it.
  auto id = ParseAnyReference(kHex64);
  ASSERT_TRUE(id);
  EXPECT_EQ(AnyReferenceString(*id), digest);
  auto named = ParseNormalizedNamed(kHex64);
  ASSERT_FALSE(named);
  EXPECT_NE(named.error().message.find("64-byte hexadecimal"), std::string::npos);
  // Upstream quirk kept for compatibility (and relied on by the tag store, which then refuses
  // it): ParseNormalizedNamed reads "sha256:<hex>" as repository "sha256" with tag "<hex>".
  auto quirk = ParseNormalizedNamed(digest);
  ASSERT_TRUE(quirk);
  EXPECT_EQ(quirk->path(), "library/sha256");
  EXPECT_EQ(quirk->tag(), kHex64);
}

TEST(ReferenceTest, PathLengthLimitIsOnThePathOnly) {
  const std::string path255(255, 'a');
  auto ok = ParseReference("example.com/" + path255 + ":tag");
  ASSERT_TRUE(ok) << ok.error().message;
  EXPECT_EQ(ok->path().size(), 255u);
  auto too_long = ParseReference("example.com/" + path255 + "a");
  ASSERT_FALSE(too_long);
  EXPECT_NE(too_long.error().message.find("must not be more than 255 characters"),
            std::string::npos);
}

TEST(ReferenceTest, TagGrammar) {
  auto name = ParseNormalizedNamed("busybox");
  ASSERT_TRUE(name);
  EXPECT_TRUE(name->WithTag(std::string(128, 'a')));
  EXPECT_FALSE(name->WithTag(std::string(129, 'a')));
  EXPECT_FALSE(name->WithTag(".hidden"));
  EXPECT_FALSE(name->WithTag(""));
  auto bad = name->WithTag("-foo");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("invalid tag format"), std::string::npos);
  EXPECT_EQ(name->WithTag("_v1.2-rc")->String(), "docker.io/library/busybox:_v1.2-rc");
}

TEST(ReferenceTest, WithDigestKeepsTag) {
  auto name = ParseName("test.com:8000/foo");
  ASSERT_TRUE(name);
  const Digest d = Digest::FromHex(DigestAlgorithm::kSha256, kHex64);
  EXPECT_EQ(name->WithDigest(d).String(), "test.com:8000/foo@sha256:" + kHex64);
  auto tagged = name->WithTag("latest");
  ASSERT_TRUE(tagged);
  Reference both = tagged->WithDigest(d);
  EXPECT_EQ(both.String(), "test.com:8000/foo:latest@sha256:" + kHex64);
  EXPECT_EQ(both.WithoutTag().String(), "test.com:8000/foo@sha256:" + kHex64);
  EXPECT_EQ(both.WithoutDigest().String(), "test.com:8000/foo:latest");
  EXPECT_EQ(both.NameOnly().String(), "test.com:8000/foo");
  // WithTag on a digested reference keeps the digest.
  EXPECT_EQ(name->WithDigest(d).WithTag("v2")->String(), "test.com:8000/foo:v2@sha256:" + kHex64);
}

TEST(ReferenceTest, FamiliarNames) {
  auto deep = ParseNormalizedNamed("library/foo/bar");
  ASSERT_TRUE(deep);
  EXPECT_EQ(deep->FamiliarName(), "library/foo/bar");  // only one-component library/ is hidden
  auto strict = ParseReference("ubuntu:22.04");
  ASSERT_TRUE(strict);
  EXPECT_EQ(strict->domain(), "");
  EXPECT_EQ(strict->Name(), "ubuntu");
  EXPECT_EQ(strict->FamiliarString(), "ubuntu:22.04");
}

TEST(ReferenceTest, CanonicalOnly) {
  EXPECT_TRUE(ParseCanonical("docker.io/library/foo:1"));
  auto not_canonical = ParseCanonical("foo:1");
  ASSERT_FALSE(not_canonical);
  EXPECT_NE(not_canonical.error().message.find("repository name must be canonical"),
            std::string::npos);
}

TEST(ReferenceTest, FamiliarMatchGlobs) {
  auto ref = ParseAnyReference("example.com/foo/c/baz:tag");
  ASSERT_TRUE(ref);
  EXPECT_EQ(FamiliarMatch("example.com/*/c/baz:t?g", *ref), true);
  EXPECT_EQ(FamiliarMatch("*", *ref), false);  // '*' does not cross '/'
  EXPECT_EQ(FamiliarMatch("example.com/foo/[^a-b]/baz", *ref), true);
  EXPECT_EQ(FamiliarMatch("example.com/foo/[a-b]/baz", *ref), false);
  EXPECT_EQ(FamiliarMatch("example\\.com/foo/c/baz", *ref), true);
  EXPECT_FALSE(FamiliarMatch("[-x]", *ref));
  EXPECT_FALSE(FamiliarMatch("foo[", *ref));
  EXPECT_FALSE(FamiliarMatch("foo\\", *ref));
  EXPECT_FALSE(FamiliarMatch("[]", *ref));
  auto id = ParseAnyReference(kHex64);
  ASSERT_TRUE(id);
  EXPECT_EQ(FamiliarMatch("sha256:*", *id), true);
}

TEST(ReferenceTest, GrammarPieces) {
  EXPECT_TRUE(IsValidDomain("Registry-1.Example.COM:443"));
  EXPECT_TRUE(IsValidDomain("[2001:db8::1]"));
  EXPECT_FALSE(IsValidDomain("[2001:db8::1]:"));
  EXPECT_FALSE(IsValidDomain(""));
  EXPECT_FALSE(IsValidDomain("a..b"));
  EXPECT_TRUE(IsValidPath("a__b/c---d/e.f_g"));
  EXPECT_FALSE(IsValidPath("a___b"));
  EXPECT_FALSE(IsValidPath("a.-b"));
  EXPECT_TRUE(IsValidTag("A"));
  EXPECT_FALSE(IsValidTag("a/b"));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
