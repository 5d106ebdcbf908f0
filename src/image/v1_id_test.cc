#include "image/v1_id.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

const std::string kDiffA =
    "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1";
const std::string kDiffB =
    "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";
const std::string kChainAB =
    "sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f";

const std::string kZero =
    R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,)"
    R"("AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,)"
    R"("Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,)"
    R"("Labels":null})";
const std::string kCmdSh =
    R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,)"
    R"("AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,)"
    R"("Cmd":["sh"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,)"
    R"("Labels":null})";

ImageConfig TwoLayerConfig() {
  // Keys deliberately unsorted and "config" partial: Docker decodes into its structs first,
  // so the v1 documents use struct order and the full container.Config.
  std::string doc =
      R"({"os":"linux","config":{"Cmd":["sh"]},"architecture":"amd64",)"
      R"("created":"2026-11-24T22:14:59.84245498Z","docker_version":"20.10.24+dfsg1",)"
      R"("rootfs":{"type":"layers","diff_ids":[")" +
      kDiffA + R"(",")" + kDiffB + R"("]}})";
  return *ImageConfig::Parse(doc);
}

TEST(V1Id, TwoLayerImageLikeDocker2010Save) {
  auto layers = ComputeV1Layers(TwoLayerConfig());
  ASSERT_TRUE(layers) << layers.error().message;
  ASSERT_EQ(layers->size(), 2u);

  // Bottom layer: a zero V1Image created at time.Unix(0,0) (TZ=UTC); os is not hashed.
  std::string hashed0 = R"({"container_config":)" + kZero +
                        R"(,"created":"1970-01-01T00:00:00Z","layer_id":")" + kDiffA + R"("})";
  std::string id0 = Digest::Sha256Of(hashed0).hex();
  const V1Layer& bottom = (*layers)[0];
  EXPECT_EQ(bottom.id, id0);
  EXPECT_EQ(bottom.parent, "");
  EXPECT_EQ(bottom.diff_id.str(), kDiffA);
  EXPECT_EQ(bottom.chain_id.str(), kDiffA);
  EXPECT_EQ(bottom.json, R"({"id":")" + id0 +
                             R"(","created":"1970-01-01T00:00:00Z",)"
                             R"("container_config":)" +
                             kZero + R"(,"os":"linux"})");

  // Top layer: the image's own V1Image, with layer_id = full chain and parent = "sha256:<id0>".
  std::string hashed1 =
      R"({"architecture":"amd64","config":)" + kCmdSh + R"(,"container_config":)" + kZero +
      R"(,"created":"2026-11-24T22:14:59.84245498Z","docker_version":"20.10.24+dfsg1",)"
      R"("layer_id":")" +
      kChainAB + R"(","os":"linux","parent":"sha256:)" + id0 + R"("})";
  std::string id1 = Digest::Sha256Of(hashed1).hex();
  const V1Layer& top = (*layers)[1];
  EXPECT_EQ(top.id, id1);
  EXPECT_EQ(top.parent, id0);
  EXPECT_EQ(top.chain_id.str(), kChainAB);
  EXPECT_EQ(top.json, R"({"id":")" + id1 + R"(","parent":")" + id0 +
                          R"(","created":"2026-11-24T22:14:59.84245498Z","container_config":)" +
                          kZero + R"(,"docker_version":"20.10.24+dfsg1","config":)" + kCmdSh +
                          R"(,"architecture":"amd64","os":"linux"})");
}

TEST(V1Id, SameLayerGetsDifferentIdAsTopOrParent) {
  auto two = ComputeV1Layers(TwoLayerConfig());
  ASSERT_TRUE(two);
  std::string one_doc =
      R"({"os":"linux","rootfs":{"type":"layers","diff_ids":[")" + kDiffA + R"("]}})";
  auto one = ComputeV1Layers(*ImageConfig::Parse(one_doc));
  ASSERT_TRUE(one);
  ASSERT_EQ(one->size(), 1u);
  // As a top layer it hashes the image's V1Image (zero time "0001-01-01", os), not Unix(0,0).
  std::string hashed = R"({"container_config":)" + kZero +
                       R"(,"created":"0001-01-01T00:00:00Z","layer_id":")" + kDiffA +
                       R"(","os":"linux"})";
  EXPECT_EQ((*one)[0].id, Digest::Sha256Of(hashed).hex());
  EXPECT_NE((*one)[0].id, (*two)[0].id);
}

TEST(V1Id, NonTopLayersDependOnTheDaemonTimeZone) {
  V1Options berlin;
  berlin.epoch_utc_offset = 3600;
  auto layers = ComputeV1Layers(TwoLayerConfig(), berlin);
  ASSERT_TRUE(layers);
  std::string hashed0 = R"({"container_config":)" + kZero +
                        R"(,"created":"1970-01-01T01:00:00+01:00","layer_id":")" + kDiffA + R"("})";
  EXPECT_EQ((*layers)[0].id, Digest::Sha256Of(hashed0).hex());
  EXPECT_NE((*layers)[0].json.find(R"("created":"1970-01-01T01:00:00+01:00")"), std::string::npos);
}

TEST(V1Id, CreateIdIgnoresTheIdField) {
  V1Image image;
  image.os = "linux";
  Digest layer = *Digest::Parse(kDiffA);
  Digest plain = CreateV1Id(image, layer, std::nullopt);
  image.id = "ffff";
  EXPECT_EQ(CreateV1Id(image, layer, std::nullopt), plain);
  EXPECT_NE(CreateV1Id(image, layer, *Digest::Parse(kDiffB)), plain);
}

TEST(V1Id, ImageWithoutLayersCannotBeSaved) {
  auto config = ImageConfig::Parse(R"({"rootfs":{"type":"layers"}})");
  ASSERT_TRUE(config);
  auto layers = ComputeV1Layers(*config);
  ASSERT_FALSE(layers);
  EXPECT_NE(layers.error().message.find("empty export - not implemented"), std::string::npos);
  EXPECT_NE(layers.error().message.find(config->id().str()), std::string::npos);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
