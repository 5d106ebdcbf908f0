#include "transport/image_copy.h"

#include <gtest/gtest.h>

#include "store/image_lookup.h"
#include "transport/dir_transport.h"
#include "transport/docker_archive_load.h"
#include "transport/oci_layout.h"
#include "transport/transport_test_util.h"

namespace strata {
namespace {

using archive_test::Slurp;
using archive_test::TempDir;
using transport_test::MakeImage;
using transport_test::TestImage;
using transport_test::WriteLayout;

Result<ImageName> Name(const std::string& text) { return ParseImageName(text); }

TEST(ImageNameTest, ParsesTransports) {
  auto oci = Name("oci:/tmp/x:tag");
  ASSERT_TRUE(oci);
  EXPECT_EQ(oci->transport, Transport::kOci);
  EXPECT_EQ(oci->path, "/tmp/x");
  EXPECT_EQ(oci->ref, "tag");
  auto da = Name("docker-archive:a.tar:example.com/x/y:1");
  EXPECT_EQ(da->transport, Transport::kDockerArchive);
  EXPECT_EQ(da->path, "a.tar");
  EXPECT_EQ(da->ref, "example.com/x/y:1");
  EXPECT_EQ(Name("oci-archive:f.tar")->transport, Transport::kOciArchive);
  EXPECT_EQ(Name("oci-archive:f.tar")->ref, "");
  auto dir = Name("dir:/a:b");
  EXPECT_EQ(dir->transport, Transport::kDir);
  EXPECT_EQ(dir->path, "/a:b");
  auto bare = Name("strata-it/rich:1");
  EXPECT_EQ(bare->transport, Transport::kStore);
  EXPECT_EQ(bare->ref, "strata-it/rich:1");
  EXPECT_EQ(Name("strata:busybox")->ref, "busybox");
  auto docker = Name("docker://127.0.0.1:5000/a/b:1");
  EXPECT_EQ(docker->transport, Transport::kDocker);
  EXPECT_EQ(docker->ref, "127.0.0.1:5000/a/b:1");
  EXPECT_FALSE(Name("docker://"));
  EXPECT_EQ(Name("docker-daemon:busybox").error().message.substr(0, 38),
            "unsupported transport \"docker-daemon\" ");
  EXPECT_EQ(Name("oci:").error().message, "\"oci:\": oci: needs a path");
  EXPECT_FALSE(Name(""));
}

class ImageCopyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_ / "store");
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  Status Copy(const std::string& from, const std::string& to,
              std::vector<std::string>* lines = nullptr) {
    STRATA_ASSIGN(f, ParseImageName(from));
    STRATA_ASSIGN(t, ParseImageName(to));
    ProgressFn progress;
    if (lines != nullptr) progress = [lines](const std::string& l) { lines->push_back(l); };
    STRATA_TRY(CopyImage(store_.get(), f, t, progress));
    return {};
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(ImageCopyTest, BetweenLayoutsBlobsAndManifestStayTheSame) {
  TestImage image = MakeImage(true, "as-is");
  WriteLayout(dir_ / "a", {{&image, "t"}});
  std::vector<std::string> lines;
  ASSERT_TRUE(Copy("oci:" + dir_ / "a" + ":t", "dir:" + dir_ / "d", &lines));
  EXPECT_EQ(lines,
            (std::vector<std::string>{"Copying blob " + Digest::Sha256Of(image.blobs[0]).str(),
                                      "Copying blob " + Digest::Sha256Of(image.blobs[1]).str(),
                                      "Copying config " + image.id().str(),
                                      "Writing manifest to image destination"}));
  EXPECT_EQ(Slurp(dir_ / "d/manifest.json"), image.manifest);
  ASSERT_TRUE(Copy("dir:" + dir_ / "d", "oci-archive:" + dir_ / "a.tar:u"));
  ASSERT_TRUE(Copy("oci-archive:" + dir_ / "a.tar:u", "oci:" + dir_ / "b:v"));
  auto entries = ReadOciIndex(dir_ / "b");
  ASSERT_TRUE(entries);
  EXPECT_EQ((*entries)[0].descriptor.digest, image.manifest_digest());
  for (const std::string& b : image.blobs) {
    EXPECT_EQ(Slurp(transport_test::BlobFile(dir_ / "b", Digest::Sha256Of(b))), b);
  }
  // Nothing went through the store.
  EXPECT_TRUE(store_->metadata().ListImages()->empty());
}

TEST_F(ImageCopyTest, ThroughTheStoreKeepsTheManifestDigest) {
  TestImage image = MakeImage(true, "store");
  WriteLayout(dir_ / "a", {{&image, "t"}});
  ASSERT_TRUE(Copy("oci:" + dir_ / "a" + ":t", "example/img:1"));
  EXPECT_EQ(*ResolveImage(*store_, "example/img:1"), image.id());
  ASSERT_TRUE(Copy("example/img:1", "dir:" + dir_ / "d"));
  EXPECT_EQ(Slurp(dir_ / "d/manifest.json"), image.manifest);
  ASSERT_TRUE(Copy("strata:example/img:1", "oci:" + dir_ / "b:x"));
  EXPECT_EQ((*ReadOciIndex(dir_ / "b"))[0].descriptor.digest, image.manifest_digest());
  // Within the store: a tag.
  ASSERT_TRUE(Copy("example/img:1", "example/img:2"));
  EXPECT_EQ(*ResolveImage(*store_, "example/img:2"), image.id());
  auto with_digest = Copy("example/img:1", "example/img@sha256:" + std::string(64, 'a'));
  ASSERT_FALSE(with_digest);
  EXPECT_NE(with_digest.error().message.find("digest reference"), std::string::npos);
}

TEST_F(ImageCopyTest, DockerArchiveBothWays) {
  TestImage image = MakeImage(true, "docker");
  WriteLayout(dir_ / "a", {{&image, "t"}});
  ASSERT_TRUE(Copy("oci:" + dir_ / "a" + ":t", "docker-archive:" + dir_ / "x.tar:example/x:5"));
  // Another store loads it with the same image ID and the tag.
  TempDir other_dir;
  auto other = Store::Open(other_dir / "s");
  ASSERT_TRUE(other);
  auto reader = OpenFileReader(dir_ / "x.tar");
  ASSERT_TRUE(reader);
  auto report = LoadDockerArchive(**other, **reader);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->images.size(), 1u);
  EXPECT_EQ(report->images[0].id, image.id());
  EXPECT_EQ(report->images[0].tags, std::vector<std::string>{"example/x:5"});

  // docker-archive -> oci: a manifest made from the config and the uncompressed tars.
  ASSERT_TRUE(Copy("docker-archive:" + dir_ / "x.tar", "oci:" + dir_ / "o:y"));
  auto source = OciLayoutSource::Open(dir_ / "o", "y");
  ASSERT_TRUE(source);
  auto parsed = ParseImageManifest((*source)->GetManifest()->bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->config.digest, image.id());
  EXPECT_EQ(parsed->layers[1].digest, Digest::Sha256Of(image.tars[1]));
  EXPECT_EQ(parsed->layers[1].media_type, kOciLayerMediaType);
  auto missing = Copy("docker-archive:" + dir_ / "x.tar:nothere:1", "oci:" + dir_ / "p");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "docker-archive:" + dir_ / "x.tar" + " has no image \"nothere:1\"");
  EXPECT_TRUE(store_->metadata().ListImages()->empty());

  // store -> docker-archive takes the source's tag by default.
  ASSERT_TRUE(Copy("oci:" + dir_ / "a" + ":t", "example/y:1"));
  ASSERT_TRUE(Copy("example/y:1", "docker-archive:" + dir_ / "y.tar"));
  auto r2 = OpenFileReader(dir_ / "y.tar");
  auto report2 = LoadDockerArchive(**other, **r2);
  ASSERT_TRUE(report2) << report2.error().message;
  EXPECT_EQ(report2->images[0].tags, std::vector<std::string>{"example/y:1"});
}

}  // namespace
}  // namespace strata
