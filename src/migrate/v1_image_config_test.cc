#include "migrate/v1_image_config.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

const Digest kEmptyTar =
    *Digest::Parse("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");

// busybox as Docker 1.8.2 wrote it: the two images of moby v1.10's TestMigrateImages, whose
// expected IDs (with an empty tar as each layer) are the reference for the whole conversion,
// including the pre-1.8.3 normalisation through the V1Image struct.
const char* kBase =
    R"({"architecture":"amd64","config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container":"23304fc829f9b9349416f6eb1afec162907eba3a328f51d53a17f8986f865d65","container_config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/sh","-c","#(nop) ADD file:a3bc1e842b69636f9df5256c49c5374fb4eef1e281fe3f282c65fb853ee171c5 in /"],"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2015-10-31T22:22:54.690851953Z","docker_version":"1.8.2","layer_id":"sha256:55dc925c23d1ed82551fd018c27ac3ee731377b6bad3963a2a4e76e753d70e57","os":"linux"})";
const char* kChild =
    R"({"architecture":"amd64","config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["sh"],"Image":"d1592a710ac323612bd786fa8ac20727c58d8a67847e5a65177c594f43919498","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"container":"349b014153779e30093d94f6df2a43c7a0a164e05aa207389917b540add39b51","container_config":{"Hostname":"23304fc829f9","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,"Cmd":["/bin/sh","-c","#(nop) CMD [\"sh\"]"],"Image":"d1592a710ac323612bd786fa8ac20727c58d8a67847e5a65177c594f43919498","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,"Labels":null},"created":"2015-10-31T22:22:55.613815829Z","docker_version":"1.8.2","layer_id":"sha256:a3ed95caeb02ffe68cdd9fd84406680ae93d633cb16422d00e8a7c22955b46d4","os":"linux","parent_id":"sha256:039b63dd2cbaa10d6015ea574392530571ed8d7b174090f032211285a71881d0"})";

TEST(V1ImageConfig, MobyV110MigrationVector) {
  auto base = ConfigFromV1Image(kBase, "", kEmptyTar);
  ASSERT_TRUE(base) << base.error().message;
  EXPECT_EQ(Digest::Sha256Of(*base).str(),
            "sha256:ca406eaf9c26898414ff5b7b3a023c33310759d6203be0663dbf1b3a712f432d")
      << *base;
  auto child = ConfigFromV1Image(kChild, *base, kEmptyTar);
  ASSERT_TRUE(child) << child.error().message;
  EXPECT_EQ(Digest::Sha256Of(*child).str(),
            "sha256:a488bec94bb96b26a968f913d25ef7d8d204d727ca328b52b4b059c7d03260b6")
      << *child;
  EXPECT_NE(
      child->find(
          R"("history":[{"created":"2015-10-31T22:22:54.690851953Z","created_by":"/bin/sh -c #(nop) ADD file:)"),
      std::string::npos);
  EXPECT_NE(child->find(R"("rootfs":{"type":"layers","diff_ids":["sha256:5f70bf18)"),
            std::string::npos);
}

TEST(V1ImageConfig, RecentJsonKeepsUnknownFieldsAndNestedOrder) {
  // From 1.8.3 on the JSON is not normalised: unknown keys stay, nested key order stays,
  // only the removed keys go and the top level is sorted.
  const char* v1 =
      R"({"id":"aa","parent":"bb","Size":12,"zeta":{"b":1,"a":"<x>"},"created":"2016-01-02T03:04:05.5Z","docker_version":"1.9.1","container_config":{"Cmd":["a","b"]},"author":"me","comment":"c","throwaway":true})";
  auto config = ConfigFromV1Image(v1, "", kEmptyTar);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(
      *config,
      R"({"author":"me","comment":"c","container_config":{"Cmd":["a","b"]},"created":"2016-01-02T03:04:05.5Z","docker_version":"1.9.1","history":[{"created":"2016-01-02T03:04:05.5Z","author":"me","created_by":"a b","comment":"c"}],"rootfs":{"type":"layers","diff_ids":["sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef"]},"zeta":{"b":1,"a":"\u003cx\u003e"}})");
}

TEST(V1ImageConfig, OldJsonIsNormalised) {
  // Before 1.8.3: unknown fields dropped, missing fields filled, Cmd as a string becomes a list.
  const char* v1 =
      R"({"id":"aa","created":"2014-01-02T03:04:05Z","docker_version":"1.6.0","extra":1,"container_config":{"Cmd":"sh","PortSpecs":null,"Env":["A=1"]},"config":{"ExposedPorts":{"80/tcp":{}}},"Size":5})";
  auto config = ConfigFromV1Image(v1, "", kEmptyTar);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->find("extra"), std::string::npos);
  EXPECT_EQ(config->find("PortSpecs"), std::string::npos);
  EXPECT_EQ(config->find("\"Size\""), std::string::npos);
  EXPECT_NE(
      config->find(
          R"("container_config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1"],"Cmd":["sh"],"Image":"")"),
      std::string::npos)
      << *config;
  EXPECT_NE(
      config->find(
          R"("config":{"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"80/tcp":{}},"Tty")"),
      std::string::npos)
      << *config;
}

TEST(V1ImageConfig, Errors) {
  EXPECT_FALSE(ConfigFromV1Image("{not json", "", kEmptyTar));
  EXPECT_FALSE(ConfigFromV1Image(R"({"docker_version":"1.0","created":5})", "", kEmptyTar));
  EXPECT_FALSE(ConfigFromV1Image(R"({"docker_version":"1.9.1","container_config":{"Cmd":7}})", "",
                                 kEmptyTar));
}

TEST(V1ImageConfig, DockerVersionLess) {
  EXPECT_TRUE(DockerVersionLess("1.8.2", "1.8.3"));
  EXPECT_TRUE(DockerVersionLess("", "1.8.3"));
  EXPECT_TRUE(DockerVersionLess("1.8", "1.8.3"));
  EXPECT_FALSE(DockerVersionLess("1.8.3", "1.8.3"));
  EXPECT_FALSE(DockerVersionLess("1.10.0", "1.8.3"));
  EXPECT_FALSE(DockerVersionLess("1.9.1-rc1", "1.8.3"));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
