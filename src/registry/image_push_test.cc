// Push from a real store to an in-memory registry.
#include "registry/image_push.h"

#include <gtest/gtest.h>

#include "registry/fake_registry_test_util.h"
#include "registry/image_pull.h"
#include "store/image_lookup.h"
#include "transport/oci_layout.h"
#include "transport/store_transport.h"
#include "transport/transport_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TempDir;
using registry_test::FakeRegistry;
using transport_test::MakeImage;
using transport_test::TestImage;

class ImagePushTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_ / "store");
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  // Imports an image with uncompressed layers (as docker load gives them).
  Digest ImportPlain(const std::string& note) {
    TestImage image = MakeImage(/*gzip=*/false, note);
    transport_test::WriteLayout(dir_ / note, {{&image, "v"}});
    auto source = OciLayoutSource::Open(dir_ / note, "v");
    auto destination = StoreImageDestination::Open(*store_, {});
    EXPECT_TRUE(TransferImage(**source, **destination));
    EXPECT_TRUE((*destination)->Commit());
    return image.id();
  }

  Result<PushResult> Push(const Digest& id, const std::string& repo, const std::string& tag,
                          PushOptions options = {}) {
    statuses_.clear();
    options.progress = [&](const LayerProgress& p) {
      std::lock_guard<std::mutex> lock(mu_);
      if (p.status != LayerStatus::kPreparing && p.status != LayerStatus::kPushing) {
        statuses_.push_back(LayerStatusText(p, true));
      }
    };
    return PushImage(*store_, PushTarget{&registry_, "127.0.0.1:5000", repo}, id, tag, options);
  }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  FakeRegistry registry_;
  std::mutex mu_;
  std::vector<std::string> statuses_;
};

TEST_F(ImagePushTest, CompressesUploadsAndRePushSaysAlreadyExists) {
  Digest id = ImportPlain("plain");
  auto pushed = Push(id, "team/app", "v1");
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_EQ(statuses_, (std::vector<std::string>{"Pushed", "Pushed"}));
  auto& repo = registry_.repos["team/app"];
  ASSERT_TRUE(repo.manifests.count("v1"));
  const ManifestBlob& m = repo.manifests["v1"];
  EXPECT_EQ(m.digest(), pushed->digest);
  EXPECT_EQ(m.media_type, kDockerManifestMediaType);
  EXPECT_EQ(m.bytes.substr(0, 6), "{\n   \"");  // docker push's three-space indent
  auto parsed = ParseImageManifest(m.bytes);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->config.digest, id);
  for (const Descriptor& l : parsed->layers) {
    EXPECT_EQ(l.media_type, kDockerLayerGzipMediaType);
    ASSERT_TRUE(repo.blobs.count(l.digest.str()));
    EXPECT_EQ(DetectCompression(repo.blobs[l.digest.str()].substr(0, 6)), Compression::kGzip);
  }
  // The image now has the pushed digest as a reference.
  EXPECT_EQ(*ResolveImage(*store_, "127.0.0.1:5000/team/app@" + pushed->digest.str()), id);

  const int uploads = registry_.uploads;
  auto again = Push(id, "team/app", "v1");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->digest, pushed->digest);
  EXPECT_EQ(registry_.uploads, uploads);
  EXPECT_EQ(statuses_, (std::vector<std::string>{"Layer already exists", "Layer already exists"}));
}

TEST_F(ImagePushTest, SiblingRepositoryGetsMounts) {
  Digest id = ImportPlain("mount");
  ASSERT_TRUE(Push(id, "team/one", "1"));
  const int uploads = registry_.uploads;
  auto pushed = Push(id, "team/two", "1");
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_EQ(registry_.mounts, 3);  // two layers and the config
  EXPECT_EQ(registry_.uploads, uploads);
  EXPECT_EQ(statuses_,
            (std::vector<std::string>{"Mounted from team/one", "Mounted from team/one"}));
}

TEST_F(ImagePushTest, PulledImageKeepsItsManifestDigest) {
  TestImage image = MakeImage(true, "keep", true);
  for (const std::string& b : image.blobs) registry_.AddBlob("src/app", b);
  registry_.AddBlob("src/app", image.config);
  registry_.AddManifest("src/app", "1", {image.manifest, image.manifest_media_type, false});
  auto ref = ParseDockerRef("127.0.0.1:5000/src/app:1");
  ASSERT_TRUE(ref);
  PullOptions pull;
  pull.unpack = false;
  ASSERT_TRUE(PullImage(*store_, PullSource{&registry_, "src/app"}, *ref, pull));
  // Another registry: the blobs must come from the store, unchanged.
  FakeRegistry other;
  auto pushed = PushImage(*store_, PushTarget{&other, "127.0.0.1:6000", "dst/app"}, image.id(), "2",
                          PushOptions{});
  ASSERT_TRUE(pushed) << pushed.error().message;
  EXPECT_EQ(pushed->digest, image.manifest_digest());
  EXPECT_EQ(other.repos["dst/app"].manifests["2"].bytes, image.manifest);
}

TEST_F(ImagePushTest, ZstdPushWritesAnOciManifest) {
  Digest id = ImportPlain("zstd");
  PushOptions options;
  options.compression = Compression::kZstd;
  options.compression_forced = true;
  auto pushed = Push(id, "team/z", "1", options);
  ASSERT_TRUE(pushed) << pushed.error().message;
  const ManifestBlob& m = registry_.repos["team/z"].manifests["1"];
  EXPECT_EQ(m.media_type, kOciManifestMediaType);
  auto parsed = ParseImageManifest(m.bytes, m.media_type);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->config.media_type, kOciConfigMediaType);
  for (const Descriptor& l : parsed->layers) EXPECT_EQ(l.media_type, kOciLayerZstdMediaType);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
