#include "transport/image_copy.h"

#include <gtest/gtest.h>

#include "oci/platform.h"
#include "store/image_lookup.h"
#include "transport/dir_transport.h"
#include "transport/docker_archive_load.h"
#include "transport/oci_archive.h"
#include "transport/oci_layout.h"
#include "transport/transport_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::Slurp;
using archive_test::TempDir;
using transport_test::MakeImage;
using transport_test::TestImage;
using transport_test::WriteLayout;

// A layout in which `tag` names an index (an OCI index, or a Docker manifest list) of the
// images, each for the platform ("os/arch[/variant]") beside it.
void WriteIndexLayout(const std::string& dir, const std::string& tag,
                      const std::vector<std::pair<const TestImage*, std::string>>& images,
                      bool docker_list) {
  WriteLayout(dir, images);
  nlohmann::ordered_json index;
  index["schemaVersion"] = 2;
  index["mediaType"] = docker_list ? kDockerManifestListMediaType : kOciIndexMediaType;
  index["manifests"] = nlohmann::ordered_json::array();
  for (const auto& [image, platform] : images) {
    Platform p = *ParsePlatform(platform);
    nlohmann::ordered_json entry = {{"mediaType", image->manifest_media_type},
                                    {"size", image->manifest.size()},
                                    {"digest", image->manifest_digest().str()},
                                    {"platform", {{"architecture", p.architecture}, {"os", p.os}}}};
    if (!p.variant.empty()) entry["platform"]["variant"] = p.variant;
    index["manifests"].push_back(entry);
  }
  const std::string bytes = index.dump(3);
  transport_test::WriteBlob(dir, bytes);
  nlohmann::ordered_json top = {{"schemaVersion", 2},
                                {"manifests",
                                 {{{"mediaType", index["mediaType"]},
                                   {"digest", Digest::Sha256Of(bytes).str()},
                                   {"size", bytes.size()},
                                   {"annotations", {{std::string(kRefNameAnnotation), tag}}}}}}};
  transport_test::Put(dir + "/index.json", top.dump());
}

CopyOptions Opts(std::optional<Platform> platform, bool all) {
  CopyOptions options;
  options.platform = std::move(platform);
  options.all = all;
  return options;
}

// The image manifest an OCI layout's `tag` names, as stored.
ManifestBlob LayoutManifest(const std::string& dir, const std::string& tag) {
  auto entries = ReadOciIndex(dir);
  EXPECT_TRUE(entries) << entries.error().message;
  auto entry = FindOciIndexEntry(*entries, tag, dir);
  EXPECT_TRUE(entry) << entry.error().message;
  return {Slurp(transport_test::BlobFile(dir, entry->descriptor.digest)),
          entry->descriptor.media_type, false};
}

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
              std::vector<std::string>* lines = nullptr, const CopyOptions& options = {}) {
    STRATA_ASSIGN(f, ParseImageName(from));
    STRATA_ASSIGN(t, ParseImageName(to));
    ProgressFn progress;
    if (lines != nullptr) progress = [lines](const std::string& l) { lines->push_back(l); };
    STRATA_TRY(CopyImage(store_.get(), f, t, progress, nullptr, options));
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

// --platform picks the image of an index from every transport that holds indexes; a platform
// the index lacks is refused by name, and nothing is stored.
TEST_F(ImageCopyTest, PlatformPicksTheImageOfAnIndex) {
  TestImage amd = MakeImage(true, "amd"), arm = MakeImage(true, "arm");
  WriteIndexLayout(dir_ / "src", "multi", {{&amd, "linux/amd64"}, {&arm, "linux/arm64/v8"}}, false);
  CopyOptions arm64 = Opts(Platform{"linux", "arm64", ""}, false);
  ASSERT_TRUE(Copy("oci:" + dir_ / "src:multi", "example/x:arm", nullptr, arm64));
  EXPECT_EQ(*ResolveImage(*store_, "example/x:arm"), arm.id());
  CopyOptions amd64 = Opts(Platform{"linux", "amd64", ""}, false);
  ASSERT_TRUE(Copy("oci:" + dir_ / "src:multi", "example/x:amd", nullptr, amd64));
  EXPECT_EQ(*ResolveImage(*store_, "example/x:amd"), amd.id());

  // Through an oci-archive (written with --all) and a layout to layout copy.
  ASSERT_TRUE(Copy("oci:" + dir_ / "src:multi", "oci-archive:" + dir_ / "all.tar:multi", nullptr,
                   Opts(std::nullopt, true)));
  ASSERT_TRUE(Copy("oci-archive:" + dir_ / "all.tar:multi", "example/y:arm", nullptr, arm64));
  EXPECT_EQ(*ResolveImage(*store_, "example/y:arm"), arm.id());
  ASSERT_TRUE(Copy("oci:" + dir_ / "src:multi", "oci:" + dir_ / "one:arm", nullptr, arm64));
  EXPECT_EQ(LayoutManifest(dir_ / "one", "arm").bytes, arm.manifest);

  const size_t images = store_->metadata().ListImages()->size();
  CopyOptions s390x = Opts(Platform{"linux", "s390x", ""}, false);
  for (const std::string& from :
       {"oci:" + dir_ / "src:multi", "oci-archive:" + dir_ / "all.tar:multi"}) {
    auto missing = Copy(from, "example/x:s390x", nullptr, s390x);
    ASSERT_FALSE(missing) << from;
    EXPECT_NE(missing.error().message.find("no image for platform linux/s390x in the index (it "
                                           "has: linux/amd64, linux/arm64/v8)"),
              std::string::npos)
        << missing.error().message;
  }
  EXPECT_EQ(store_->metadata().ListImages()->size(), images);
  EXPECT_FALSE(ResolveImage(*store_, "example/x:s390x"));
}

// An OCI layout holds OCI manifests only (skopeo finds nothing else in index.json): a Docker
// schema2 manifest is converted as skopeo converts it; config and layers stay the same blobs.
TEST_F(ImageCopyTest, DockerManifestIsWrittenToLayoutsAsOci) {
  TestImage image = MakeImage(true, "docker", /*docker=*/true);
  WriteLayout(dir_ / "src", {{&image, "t"}});
  ASSERT_TRUE(Copy("oci:" + dir_ / "src:t", "oci:" + dir_ / "dst:t"));
  ASSERT_TRUE(Copy("oci:" + dir_ / "src:t", "oci-archive:" + dir_ / "a.tar:t"));
  auto from_archive = OciArchiveSource::Open(dir_ / "a.tar", "t");
  ASSERT_TRUE(from_archive) << from_archive.error().message;
  for (const ManifestBlob& m :
       {LayoutManifest(dir_ / "dst", "t"), *(*from_archive)->GetManifest()}) {
    EXPECT_EQ(m.media_type, kOciManifestMediaType);
    auto parsed = ParseImageManifest(m.bytes);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->media_type, kOciManifestMediaType);
    EXPECT_EQ(parsed->config.media_type, kOciConfigMediaType);
    EXPECT_EQ(parsed->config.digest, image.id());
    ASSERT_EQ(parsed->layers.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      EXPECT_EQ(parsed->layers[i].media_type, kOciLayerGzipMediaType);
      EXPECT_EQ(parsed->layers[i].digest, Digest::Sha256Of(image.blobs[i]));
    }
  }
  EXPECT_EQ(Slurp(transport_test::BlobFile(dir_ / "dst", image.id())), image.config);
}

// --all copies an index and every image in it; a Docker manifest list becomes an OCI index of
// converted manifests in a layout, with the platforms kept.
TEST_F(ImageCopyTest, AllCopiesTheIndexAndEveryImage) {
  TestImage amd = MakeImage(true, "amd", true), arm = MakeImage(true, "arm", true);
  WriteIndexLayout(dir_ / "src", "multi", {{&amd, "linux/amd64"}, {&arm, "linux/arm64/v8"}},
                   /*docker_list=*/true);
  const CopyOptions all = Opts(std::nullopt, true);
  ASSERT_TRUE(Copy("oci:" + dir_ / "src:multi", "oci:" + dir_ / "dst:all", nullptr, all));
  ManifestBlob index = LayoutManifest(dir_ / "dst", "all");
  EXPECT_EQ(index.media_type, kOciIndexMediaType);
  auto entries = ParseIndex(index.bytes);
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 2u);
  const TestImage* images[] = {&amd, &arm};
  for (size_t i = 0; i < 2; ++i) {
    const IndexEntry& e = (*entries)[i];
    EXPECT_EQ(e.descriptor.media_type, kOciManifestMediaType);
    ASSERT_TRUE(e.platform);
    EXPECT_EQ(FormatPlatform(*e.platform), i == 0 ? "linux/amd64" : "linux/arm64/v8");
    const std::string bytes = Slurp(transport_test::BlobFile(dir_ / "dst", e.descriptor.digest));
    EXPECT_EQ(Digest::Sha256Of(bytes), e.descriptor.digest);
    auto parsed = ParseImageManifest(bytes);
    ASSERT_TRUE(parsed) << parsed.error().message;
    EXPECT_EQ(parsed->config.digest, images[i]->id());
    for (const Descriptor& l : parsed->layers) {
      EXPECT_TRUE(PathExists(transport_test::BlobFile(dir_ / "dst", l.digest)));
    }
  }
  CopyOptions arm64 = Opts(Platform{"linux", "arm64", "v8"}, false);
  ASSERT_TRUE(Copy("oci:" + dir_ / "dst:all", "example/z:arm", nullptr, arm64));
  EXPECT_EQ(*ResolveImage(*store_, "example/z:arm"), arm.id());

  // Without --all, one image; with --all into the store (which holds no indexes), refused.
  ASSERT_TRUE(Copy("oci:" + dir_ / "src:multi", "oci:" + dir_ / "one:x", nullptr, arm64));
  EXPECT_EQ(LayoutManifest(dir_ / "one", "x").media_type, kOciManifestMediaType);
  const size_t images_before = store_->metadata().ListImages()->size();
  auto refused = Copy("oci:" + dir_ / "src:multi", "example/z:all", nullptr, all);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("copy --all"), std::string::npos);
  EXPECT_EQ(store_->metadata().ListImages()->size(), images_before);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
