// ResolveImage and LoadImageConfig: by tag, by digest reference, by full and short image ID
// (with and without "sha256:"), ambiguous prefixes, and what is missing.
#include "store/image_lookup.h"

#include <gtest/gtest.h>

#include <map>

#include "store/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::Layer;

class ImageLookupTest : public store_test::StoreTest {
 protected:
  Digest Resolve(const std::string& text) {
    auto id = ResolveImage(*store_, text);
    EXPECT_TRUE(id) << text << ": " << id.error().message;
    return id ? *id : Digest::Sha256Of("");
  }
  std::string ResolveError(const std::string& text) {
    auto id = ResolveImage(*store_, text);
    EXPECT_FALSE(id) << text << " resolved to " << id->str();
    return id ? "" : id.error().message;
  }
};

TEST_F(ImageLookupTest, ByTag) {
  Digest a = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1", "busybox"}});
  Digest b = Add({.layers = {Layer("b", 1)}, .tags = {"x/a:2"}});
  EXPECT_EQ(Resolve("x/a:1"), a);
  EXPECT_EQ(Resolve("docker.io/x/a:2"), b);
  EXPECT_EQ(Resolve("busybox"), a);  // :latest
  EXPECT_EQ(Resolve("busybox:latest"), a);
  EXPECT_EQ(Resolve("docker.io/library/busybox:latest"), a);
  EXPECT_EQ(ResolveError("x/a"), "No such image: x/a");  // x/a:latest does not exist
  EXPECT_EQ(ResolveError("x/a:3"), "No such image: x/a:3");
}

TEST_F(ImageLookupTest, ByDigestReference) {
  Digest id = Add({.layers = {Layer("a", 1)}});
  const Digest manifest = Digest::Sha256Of("manifest");
  Ref("x/a@" + manifest.str(), id);
  EXPECT_EQ(Resolve("x/a@" + manifest.str()), id);
  EXPECT_EQ(Resolve("docker.io/x/a@" + manifest.str()), id);
  EXPECT_EQ(ResolveError("x/b@" + manifest.str()), "No such image: x/b@" + manifest.str());
}

TEST_F(ImageLookupTest, ByFullAndShortId) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  Add({.layers = {Layer("b", 1)}});
  EXPECT_EQ(Resolve(id.str()), id);
  EXPECT_EQ(Resolve(id.hex()), id);
  EXPECT_EQ(Resolve(id.short_id()), id);
  EXPECT_EQ(Resolve("sha256:" + id.short_id()), id);
  const Digest absent = Digest::Sha256Of("absent");
  EXPECT_EQ(ResolveError(absent.str()), "No such image: " + absent.str());
}

TEST_F(ImageLookupTest, AnAmbiguousPrefixIsRefused) {
  // Images until two IDs share their first hex digit (at most 17 by the pigeonhole principle).
  std::map<char, Digest> by_first;
  std::string shared;
  Digest first = Digest::Sha256Of(""), second = first;
  for (int i = 0; i < 17 && shared.empty(); ++i) {
    Digest id = Add({.created = "2023-01-01T00:00:" + std::to_string(10 + i) + "Z"});
    auto [it, inserted] = by_first.emplace(id.hex()[0], id);
    if (!inserted) {
      shared = id.hex().substr(0, 1);
      first = it->second;
      second = id;
    }
  }
  ASSERT_FALSE(shared.empty());
  EXPECT_EQ(ResolveError(shared),
            "image ID prefix \"" + shared + "\" is ambiguous: it matches 2 images");
  // The first digit where the two differ makes the prefix unique again.
  size_t n = 0;
  while (first.hex()[n] == second.hex()[n]) ++n;
  EXPECT_EQ(Resolve(first.hex().substr(0, n + 1)), first);
  EXPECT_EQ(Resolve(second.hex().substr(0, n + 1)), second);
}

TEST_F(ImageLookupTest, ATagThatLooksLikeAnIdPrefixWinsAsDocker) {
  Digest id = Add({.layers = {Layer("a", 1)}});
  Digest tagged = Add({.layers = {Layer("b", 1)}});
  const std::string name = id.hex().substr(0, 6);
  Ref(name, tagged);  // a repository named like the other image's ID prefix
  EXPECT_EQ(Resolve(name), tagged);
  EXPECT_EQ(Resolve(id.hex().substr(0, 7)), id);
}

TEST_F(ImageLookupTest, InvalidNamesAreRefused) {
  Add({.layers = {Layer("a", 1)}});
  EXPECT_FALSE(ResolveError("Not/Valid").empty());
  EXPECT_FALSE(ResolveError("").empty());
}

TEST_F(ImageLookupTest, LoadImageConfigVerifiesTheBlob) {
  const std::string tar = Layer("a", 1);
  Digest id = Add({.layers = {tar}});
  auto config = LoadImageConfig(*store_, id);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->diff_ids(), std::vector<Digest>{Digest::Sha256Of(tar)});

  const std::string path = store_->content().BlobPath(id);
  ASSERT_TRUE(archive_test::WriteTestFile(path, "{\"not\":\"the config\"}"));
  auto damaged = LoadImageConfig(*store_, id);
  ASSERT_FALSE(damaged);
  EXPECT_NE(damaged.error().message.find(id.str()), std::string::npos) << damaged.error().message;
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
