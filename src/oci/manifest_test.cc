#include "oci/manifest.h"

#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "util/vectors_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

const std::string kA = "sha256:" + std::string(64, 'a');
const std::string kB = "sha256:" + std::string(64, 'b');

TEST(ManifestTest, ParsesOciManifest) {
  std::string doc = R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
    "config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                    kA + R"(","size":7},
    "layers":[{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":")" +
                    kB + R"(","size":32}]})";
  auto m = ParseImageManifest(doc);
  ASSERT_TRUE(m) << m.error().message;
  EXPECT_EQ(m->media_type, kOciManifestMediaType);
  EXPECT_EQ(m->config.digest.str(), kA);
  EXPECT_EQ(m->config.size, 7);
  ASSERT_EQ(m->layers.size(), 1u);
  EXPECT_EQ(m->layers[0].media_type, kOciLayerGzipMediaType);
  EXPECT_EQ(m->layers[0].size, 32);
}

TEST(ManifestTest, MediaTypeFromFieldHintOrShape) {
  std::string no_type = R"({"schemaVersion":2,"config":{"mediaType":")" +
                        std::string(kDockerConfigMediaType) + R"(","digest":")" + kA +
                        R"(","size":1},"layers":[]})";
  EXPECT_EQ(*ManifestMediaType(no_type), kDockerManifestMediaType);
  EXPECT_EQ(*ManifestMediaType(no_type, kOciManifestMediaType), kOciManifestMediaType);
  EXPECT_EQ(*ManifestMediaType(R"({"schemaVersion":2,"manifests":[]})"), kOciIndexMediaType);
  auto v1 = ManifestMediaType(R"({"schemaVersion":1,"fsLayers":[]})");
  ASSERT_FALSE(v1);
  EXPECT_NE(v1.error().message.find("schema 1"), std::string::npos);
}

TEST(ManifestTest, RejectsBadDescriptors) {
  auto missing = ParseImageManifest(R"({"schemaVersion":2,"config":{"size":1},"layers":[]})");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message, "manifest config has no \"digest\" string");
  auto bad_size =
      ParseImageManifest(R"({"schemaVersion":2,"config":{"digest":")" + kA + R"(","size":-1}})");
  ASSERT_FALSE(bad_size);
  EXPECT_NE(bad_size.error().message.find("has no valid \"size\""), std::string::npos);
  auto bad_digest = ParseImageManifest(
      R"({"schemaVersion":2,"config":{"digest":"sha256:abc","size":1},"layers":[]})");
  ASSERT_FALSE(bad_digest);
  EXPECT_NE(bad_digest.error().message.find("sha256:abc"), std::string::npos);
  auto index = ParseImageManifest(R"({"schemaVersion":2,"manifests":[]})");
  ASSERT_FALSE(index);
  EXPECT_NE(index.error().message.find("got an index"), std::string::npos);
  EXPECT_FALSE(ParseImageManifest("not json"));
}

TEST(ManifestTest, SelectsPlatform) {
  std::string doc = R"({"schemaVersion":2,"manifests":[
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                    kA +
                    R"(","size":1,"platform":{"os":"linux","architecture":"arm64","variant":"v8"}},
    {"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":")" +
                    kB + R"(","size":2,"platform":{"os":"linux","architecture":"amd64"},
     "annotations":{"org.opencontainers.image.ref.name":"x"}}]})";
  auto entries = ParseIndex(doc);
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[1].annotations.at(std::string(kRefNameAnnotation)), "x");
  EXPECT_EQ(SelectPlatform(*entries, "linux", "amd64", "")->descriptor.digest.str(), kB);
  EXPECT_EQ(SelectPlatform(*entries, "linux", "arm64", "v8")->descriptor.digest.str(), kA);
  auto none = SelectPlatform(*entries, "linux", "s390x", "");
  ASSERT_FALSE(none);
  EXPECT_EQ(none.error().message,
            "no image for platform linux/s390x in the index (it has: linux/arm64/v8, "
            "linux/amd64)");
}

TEST(ManifestTest, MarshalsLikeSkopeoAndDocker) {
  Descriptor config{std::string(kOciConfigMediaType), *Digest::Parse(kA), 7};
  Descriptor layer{std::string(kOciLayerMediaType), *Digest::Parse(kB), 1024};
  EXPECT_EQ(MarshalOciManifest(config, {layer}),
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":")" +
                kA +
                R"(","size":7},"layers":[{"mediaType":)"
                R"("application/vnd.oci.image.layer.v1.tar","digest":")" +
                kB + R"(","size":1024}]})");
  config.media_type = kDockerConfigMediaType;
  layer.media_type = kDockerLayerMediaType;
  EXPECT_EQ(
      MarshalDockerManifest(config, {layer}),
      R"({"schemaVersion":2,"mediaType":"application/vnd.docker.distribution.manifest.v2+json",)"
      R"("config":{"mediaType":"application/vnd.docker.container.image.v1+json","size":7,)"
      R"("digest":")" +
          kA +
          R"("},"layers":[{"mediaType":"application/vnd.docker.image.rootfs.diff.tar",)"
          R"("size":1024,"digest":")" +
          kB + R"("}]})");
  auto round = ParseImageManifest(MarshalDockerManifest(config, {layer}));
  ASSERT_TRUE(round);
  EXPECT_EQ(round->media_type, kDockerManifestMediaType);
  EXPECT_EQ(round->layers[0], layer);
}

// Every valid manifest and index of the image-spec test vectors parses (except one whose digest
// uses an algorithm strata cannot verify); the Docker schema2 document keeps its media type.
TEST(ManifestTest, ImageSpecVectors) {
  STRATA_NEED_VECTORS(path, "image-spec-schema.json");
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  auto vectors = nlohmann::json::parse(ss.str());
  int manifests = 0, indexes = 0, unknown_algorithm = 0;
  for (const auto& group : vectors["groups"]) {
    for (const auto& c : group["cases"]) {
      if (!c["valid"].get<bool>()) continue;
      std::string validator = c.contains("validator") ? c["validator"].get<std::string>()
                                                      : group["validator"].get<std::string>();
      const std::string doc = c["document"];
      if (validator == kOciManifestMediaType) {
        auto m = ParseImageManifest(doc, validator);
        if (!m && m.error().message.find("unsupported algorithm") != std::string::npos) {
          ++unknown_algorithm;  // valid per the spec, but no store can verify such a blob
          continue;
        }
        EXPECT_TRUE(m) << group["id"] << " line " << c["line"] << ": " << m.error().message;
        ++manifests;
        if (std::string(group["id"]) == "TestBackwardsCompatibilityManifest") {
          EXPECT_EQ(m->media_type, kDockerManifestMediaType);
          EXPECT_EQ(Digest::Sha256Of(doc).str(), c["sha256_of_document"]);
        }
      } else if (validator == kOciIndexMediaType) {
        auto entries = ParseIndex(doc);
        EXPECT_TRUE(entries) << group["id"] << " line " << c["line"] << ": "
                             << entries.error().message;
        ++indexes;
      }
    }
  }
  EXPECT_GE(manifests, 8);
  EXPECT_EQ(unknown_algorithm, 1);
  EXPECT_GE(indexes, 6);
}

// Only Docker's two schema 1 media types (or "schemaVersion": 1) are legacy: the OCI manifest
// type also contains "manifest.v1+", which once made every OCI image unpullable.
TEST(ManifestTest, Schema1IsRecognisedByExactMediaTypeOrVersion) {
  const std::string v2 = R"({"schemaVersion":2,"config":{},"layers":[]})";
  for (std::string_view type : {kOciManifestMediaType, kOciIndexMediaType, kDockerManifestMediaType,
                                kDockerManifestListMediaType, std::string_view("")}) {
    EXPECT_FALSE(IsSchema1Manifest(type, v2)) << type;
  }
  EXPECT_TRUE(IsSchema1Manifest(kDockerSchema1MediaType, v2));
  EXPECT_TRUE(IsSchema1Manifest(kDockerSchema1SignedMediaType, v2));
  EXPECT_TRUE(IsSchema1Manifest("application/json", R"({"schemaVersion":1,"fsLayers":[]})"));
  EXPECT_FALSE(IsSchema1Manifest("application/json", "not json"));
}

TEST(ManifestTest, DeeplyNestedDocumentsAreRefusedByName) {
  const std::string deep = R"({"schemaVersion":2,"annotations":{"a":)" + std::string(100000, '[') +
                           std::string(100000, ']') + "}}";
  auto m = ParseImageManifest(deep);
  ASSERT_FALSE(m);
  EXPECT_NE(m.error().message.find("deeper than"), std::string::npos) << m.error().message;
  auto i = ParseIndex(deep);
  ASSERT_FALSE(i);
  EXPECT_NE(i.error().message.find("deeper than"), std::string::npos) << i.error().message;
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
