// Pull into a real store from an in-memory registry.
#include "registry/image_pull.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <csignal>

#include "registry/fake_registry_test_util.h"
#include "store/fsck.h"
#include "store/image_lookup.h"
#include "store/layer_content.h"
#include "transport/transport_test_util.h"
#include "util/cancel.h"
#include "util/file.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TempDir;
using registry_test::FakeRegistry;
using transport_test::MakeImage;
using transport_test::TestImage;

class ImagePullTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_ / "store");
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  void Publish(const TestImage& image, const std::string& repo, const std::string& tag) {
    for (const std::string& b : image.blobs) registry_.AddBlob(repo, b);
    registry_.AddBlob(repo, image.config);
    registry_.AddManifest(repo, tag, {image.manifest, image.manifest_media_type, false});
  }

  Result<PullResult> Pull(const std::string& name, PullOptions options = {}) {
    STRATA_ASSIGN(ref, ParseDockerRef(name));
    options.progress = [&](const LayerProgress& p) {
      std::lock_guard<std::mutex> lock(mu_);
      statuses_.push_back(p.id + " " + LayerStatusText(p, false));
    };
    return PullImage(*store_, PullSource{&registry_, ref.path()}, ref, options);
  }

  std::vector<std::string> Files() { return archive_test::StoreFiles(dir_.path() + "/store"); }

  TempDir dir_;
  std::unique_ptr<Store> store_;
  FakeRegistry registry_;
  std::mutex mu_;
  std::vector<std::string> statuses_;
};

TEST_F(ImagePullTest, PullsVerifiesTagsAndRecordsDigest) {
  TestImage image = MakeImage(/*gzip=*/true, "pull", /*docker=*/true);
  Publish(image, "team/app", "v1");
  const int64_t commits_before = store_->metadata().commits();
  auto pulled = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_TRUE(pulled) << pulled.error().message;
  // Layers, compressed-blob links, image, tags, manifest and sources: one transaction.
  EXPECT_EQ(store_->metadata().commits() - commits_before, 1);
  EXPECT_EQ(pulled->image_id, image.id());
  EXPECT_EQ(pulled->digest, image.manifest_digest());
  EXPECT_FALSE(pulled->up_to_date);
  EXPECT_EQ(*ResolveImage(*store_, "127.0.0.1:5000/team/app:v1"), image.id());
  EXPECT_EQ(*ResolveImage(*store_, "127.0.0.1:5000/team/app@" + image.manifest_digest().str()),
            image.id());
  // The manifest is kept byte for byte, and the blobs' origin is known for later pushes.
  EXPECT_TRUE(store_->content().Exists(image.manifest_digest()));
  auto sources = store_->metadata().BlobSources(Digest::Sha256Of(image.blobs[0]));
  ASSERT_TRUE(sources);
  ASSERT_EQ(sources->size(), 1u);
  EXPECT_EQ((*sources)[0].registry, "127.0.0.1:5000");
  EXPECT_EQ((*sources)[0].repository, "team/app");
  // Unpacked, ready to run.
  auto layers = store_->metadata().ListLayers();
  ASSERT_TRUE(layers);
  ASSERT_EQ(layers->size(), 2u);
  for (const LayerRecord& l : *layers) EXPECT_TRUE(l.unpacked);
  // The tar is not written a second time: it is read back from the kept compressed blob.
  const Digest diff0 = Digest::Sha256Of(image.tars[0]);
  EXPECT_FALSE(store_->content().Exists(diff0));
  auto tar = OpenLayerTar(*store_, diff0);
  ASSERT_TRUE(tar) << tar.error().message;
  StringWriter out;
  ASSERT_TRUE(Copy(**tar, out));
  EXPECT_EQ(out.out, image.tars[0]);
  auto fsck = CheckStore(*store_, /*repair=*/false);
  ASSERT_TRUE(fsck) << fsck.error().message;
  EXPECT_TRUE(fsck->problems.empty()) << fsck->problems[0];
  int complete = 0;
  for (const std::string& s : statuses_) complete += s.ends_with("Pull complete");
  EXPECT_EQ(complete, 2);
}

TEST_F(ImagePullTest, SecondPullIsUpToDateWithoutDownloads) {
  TestImage image = MakeImage(true, "again", true);
  Publish(image, "team/app", "v1");
  ASSERT_TRUE(Pull("127.0.0.1:5000/team/app:v1"));
  const int gets = registry_.blob_gets;
  statuses_.clear();
  auto again = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->up_to_date);
  EXPECT_EQ(registry_.blob_gets, gets);
  EXPECT_TRUE(statuses_.empty());  // docker prints no rows for an up-to-date image
}

TEST_F(ImagePullTest, SharedLayerIsNotFetchedAgain) {
  TestImage a = MakeImage(true, "shared", true);
  TestImage b = a;
  // Same layers, another config (image ID) and manifest.
  b.config.insert(b.config.size() - 1, R"(,"author":"b")");
  Descriptor config{b.config_media_type, b.id(), static_cast<int64_t>(b.config.size())};
  std::vector<Descriptor> layers;
  for (size_t i = 0; i < b.blobs.size(); ++i) {
    layers.push_back({b.layer_media_types[i], Digest::Sha256Of(b.blobs[i]),
                      static_cast<int64_t>(b.blobs[i].size())});
  }
  b.manifest = MarshalDockerManifest(config, layers);
  Publish(a, "x/a", "1");
  Publish(b, "x/b", "1");
  ASSERT_TRUE(Pull("127.0.0.1:5000/x/a:1"));
  const int gets = registry_.blob_gets;
  auto pulled = Pull("127.0.0.1:5000/x/b:1");
  ASSERT_TRUE(pulled) << pulled.error().message;
  EXPECT_EQ(pulled->image_id, b.id());
  EXPECT_EQ(registry_.blob_gets, gets + 1);  // the config only
}

TEST_F(ImagePullTest, LyingBlobLeavesStoreUnchanged) {
  TestImage image = MakeImage(true, "lie", true);
  Publish(image, "team/app", "v1");
  registry_.lies[Digest::Sha256Of(image.blobs[1]).str()] = image.blobs[0];
  auto pulled = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_FALSE(pulled);
  EXPECT_NE(pulled.error().message.find("does not match its digest"), std::string::npos)
      << pulled.error().message;
  EXPECT_FALSE(ResolveImage(*store_, "127.0.0.1:5000/team/app:v1"));
  auto layers = store_->metadata().ListLayers();
  EXPECT_TRUE(layers->empty());
  EXPECT_TRUE(store_->metadata().ListLayerBlobs()->empty());
  // Only blobs nothing references may remain (gc removes them); no unpacked directories.
  for (const std::string& f : Files()) EXPECT_EQ(f.find("snapshots/"), std::string::npos) << f;
}

TEST_F(ImagePullTest, DiffIdMismatchIsRefused) {
  TestImage image = MakeImage(true, "diff", true);
  // A config whose first diffID is the second layer's.
  TestImage wrong = image;
  const std::string d0 = Digest::Sha256Of(image.tars[0]).str();
  const std::string d1 = Digest::Sha256Of(image.tars[1]).str();
  size_t p = wrong.config.find(d0);
  wrong.config.replace(p, d0.size(), d1);
  Descriptor config{wrong.config_media_type, wrong.id(), static_cast<int64_t>(wrong.config.size())};
  std::vector<Descriptor> layers;
  for (size_t i = 0; i < wrong.blobs.size(); ++i) {
    layers.push_back({wrong.layer_media_types[i], Digest::Sha256Of(wrong.blobs[i]),
                      static_cast<int64_t>(wrong.blobs[i].size())});
  }
  wrong.manifest = MarshalDockerManifest(config, layers);
  Publish(wrong, "team/app", "v1");
  auto pulled = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_FALSE(pulled);
  EXPECT_NE(pulled.error().message.find("invalid diffID"), std::string::npos)
      << pulled.error().message;
  EXPECT_TRUE(store_->metadata().ListImages()->empty());
}

TEST_F(ImagePullTest, IndexPicksRequestedPlatform) {
  TestImage amd = MakeImage(true, "amd64", true);
  TestImage arm = MakeImage(true, "arm64", true);
  Publish(amd, "multi", "amd");
  Publish(arm, "multi", "arm");
  nlohmann::ordered_json index = {
      {"schemaVersion", 2},
      {"mediaType", kOciIndexMediaType},
      {"manifests",
       {{{"mediaType", amd.manifest_media_type},
         {"digest", amd.manifest_digest().str()},
         {"size", amd.manifest.size()},
         {"platform", {{"architecture", "amd64"}, {"os", "linux"}}}},
        {{"mediaType", arm.manifest_media_type},
         {"digest", arm.manifest_digest().str()},
         {"size", arm.manifest.size()},
         {"platform", {{"architecture", "arm64"}, {"os", "linux"}, {"variant", "v8"}}}}}}};
  ManifestBlob blob{index.dump(), std::string(kOciIndexMediaType), false};
  registry_.AddManifest("multi", "latest", blob);
  PullOptions options;
  options.platform = Platform{"linux", "arm64", "v8"};
  auto pulled = Pull("127.0.0.1:5000/multi", options);
  ASSERT_TRUE(pulled) << pulled.error().message;
  EXPECT_EQ(pulled->image_id, arm.id());
  EXPECT_EQ(pulled->digest, blob.digest());  // docker prints the index digest
  options.platform = Platform{"linux", "s390x", ""};
  auto none = Pull("127.0.0.1:5000/multi", options);
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("linux/arm64/v8"), std::string::npos) << none.error().message;
}

TEST_F(ImagePullTest, BrokenDownloadIsKeptAndTheNextPullResumesIt) {
  TestImage image = MakeImage(true, "resume", true);
  Publish(image, "team/app", "v1");
  const Digest blob = Digest::Sha256Of(image.blobs[1]);
  const size_t cut = image.blobs[1].size() / 2;
  ASSERT_GT(cut, 10u);
  registry_.break_after[blob.str()] = cut;
  auto broken = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_FALSE(broken);
  EXPECT_NE(broken.error().message.find("connection reset"), std::string::npos)
      << broken.error().message;
  // What arrived is kept under ingest/, nothing is visible, nothing is left unpacked.
  const std::string partial = store_->content().PartialPath(blob);
  ASSERT_TRUE(PathExists(partial));
  EXPECT_EQ(archive_test::Slurp(partial), image.blobs[1].substr(0, cut));
  EXPECT_FALSE(ResolveImage(*store_, "127.0.0.1:5000/team/app:v1"));
  for (const std::string& f : Files()) EXPECT_EQ(f.find("snapshots/"), std::string::npos) << f;

  registry_.break_after.clear();
  auto resumed = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_TRUE(resumed) << resumed.error().message;
  // Only the rest was asked for, and the kept part is gone once the blob is in the store. (The
  // other layer may have been cut off too when this one failed, and resumed in turn.)
  const auto& offsets = registry_.range_offsets;
  EXPECT_NE(std::find(offsets.begin(), offsets.end(), cut), offsets.end());
  EXPECT_LE(offsets.size(), image.blobs.size());
  EXPECT_FALSE(PathExists(partial));
  auto fsck = CheckStore(*store_, /*repair=*/false);
  ASSERT_TRUE(fsck) << fsck.error().message;
  EXPECT_TRUE(fsck->problems.empty()) << fsck->problems[0];
}

TEST_F(ImagePullTest, DamagedPartialDownloadIsDiscarded) {
  TestImage image = MakeImage(true, "badpartial", true);
  Publish(image, "team/app", "v1");
  const Digest blob = Digest::Sha256Of(image.blobs[0]);
  // A kept prefix whose bytes are not the blob's: the digest check fails, and the next pull
  // starts from the beginning.
  std::string wrong = image.blobs[0].substr(0, image.blobs[0].size() / 2);
  wrong[wrong.size() - 1] ^= 0x55;
  ASSERT_TRUE(WriteFileAtomic(store_->content().PartialPath(blob), wrong));
  auto pulled = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_FALSE(pulled);
  EXPECT_FALSE(PathExists(store_->content().PartialPath(blob)));
  auto again = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_TRUE(again) << again.error().message;
}

TEST_F(ImagePullTest, CancelStopsThePullAndLeavesNothingVisible) {
  TestImage image = MakeImage(true, "cancel", true);
  Publish(image, "team/app", "v1");
  SetCancelSignalForTesting(SIGINT);
  auto pulled = Pull("127.0.0.1:5000/team/app:v1");
  SetCancelSignalForTesting(0);
  ASSERT_FALSE(pulled);
  EXPECT_NE(pulled.error().message.find("cancelled by SIGINT"), std::string::npos)
      << pulled.error().message;
  EXPECT_EQ(pulled.error().code, ErrorCode::kCancelled);  // exit 130, not 1
  EXPECT_FALSE(ResolveImage(*store_, "127.0.0.1:5000/team/app:v1"));
  for (const std::string& f : Files()) {
    EXPECT_EQ(f.find("snapshots/"), std::string::npos) << f;
    EXPECT_EQ(f.find(".staging"), std::string::npos) << f;
  }
  auto after = Pull("127.0.0.1:5000/team/app:v1");
  ASSERT_TRUE(after) << after.error().message;
}

TEST_F(ImagePullTest, FsckRepairSaysHowToPullARemovedImageAgain) {
  TestImage image = MakeImage(true, "repair", true);
  Publish(image, "team/app", "v1");
  ASSERT_TRUE(Pull("127.0.0.1:5000/team/app:v1"));
  std::string path = store_->content().BlobPath(Digest::Sha256Of(image.blobs[0]));
  std::string bytes = archive_test::Slurp(path);
  bytes[bytes.size() / 2] ^= 0x01;
  ASSERT_TRUE(WriteFileAtomic(path, bytes));
  auto report = CheckStore(*store_, /*repair=*/true);
  ASSERT_TRUE(report) << report.error().message;
  std::string all;
  for (const std::string& r : report->repairs) all += r + "\n";
  const std::string line = "removed damaged image " + image.id().str() +
                           " (127.0.0.1:5000/team/app:v1); to get it back: strata pull "
                           "127.0.0.1:5000/team/app:v1";
  EXPECT_NE(all.find(line), std::string::npos) << all;
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
