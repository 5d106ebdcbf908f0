// IngestImages: the rows an ingest records (layers by chainID, image, parent, tags, manifests,
// compressed-blob links, pull sources) in one transaction, committing the same image twice, tags
// moving between images (CommitEvent), the checks of config, manifest and diffIDs, and failed
// ingests leaving no rows. Tagging (AddReferences, TagImage).
#include "store/image_commit.h"

#include <gtest/gtest.h>

#include "image/chain_id.h"
#include "store/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::ConfigForTest;
using store_test::Layer;
using store_test::Staged;

class ImageCommitTest : public store_test::StoreTest {
 protected:
  StagedLayer Stage(const std::string& tar) {
    StringReader r(tar);
    auto layer = StageLayer(store_->content(), r);
    EXPECT_TRUE(layer) << layer.error().message;
    return std::move(layer.value());  // throws, failing the test, if staging failed
  }
};

TEST_F(ImageCommitTest, RecordsLayersImageAndTags) {
  const std::string t0 = Layer("a", 100), t1 = Layer("b", 20);
  Digest id = Add({.layers = {t0, t1}, .tags = {"x/app:1", "busybox"}});
  const std::vector<Digest> diff_ids{Digest::Sha256Of(t0), Digest::Sha256Of(t1)};
  std::vector<Digest> chain = ChainIds(diff_ids);
  Metadata& md = store_->metadata();

  auto image = md.GetImage(id);
  ASSERT_TRUE(image && *image);
  EXPECT_EQ((*image)->top_layer, chain[1]);
  EXPECT_FALSE((*image)->parent);
  EXPECT_TRUE((*image)->last_tag_time);

  auto bottom = md.GetLayer(chain[0]);
  ASSERT_TRUE(bottom && *bottom);
  EXPECT_EQ((*bottom)->diff_id, Digest::Sha256Of(t0));
  EXPECT_FALSE((*bottom)->parent);
  EXPECT_EQ((*bottom)->size, 100);
  EXPECT_EQ((*bottom)->tar_size, static_cast<int64_t>(t0.size()));
  auto top = md.GetLayer(chain[1]);
  ASSERT_TRUE(top && *top);
  EXPECT_EQ((*top)->parent, chain[0]);
  EXPECT_EQ((*top)->size, 20);
  EXPECT_NE((*top)->cache_id, (*bottom)->cache_id);

  EXPECT_EQ(Tags(id),
            (std::vector<std::string>{"docker.io/library/busybox:latest", "docker.io/x/app:1"}));
  auto ref = md.GetRef("docker.io/x/app:1");
  ASSERT_TRUE(ref && *ref);
  EXPECT_EQ((*ref)->repository, "docker.io/x/app");
  EXPECT_FALSE((*ref)->is_digest);
  // Blobs: the config and both layer tars.
  EXPECT_EQ(*store_->content().ReadVerified(id), ConfigForTest({}, diff_ids));
  EXPECT_TRUE(store_->content().Exists(Digest::Sha256Of(t0)));
  EXPECT_TRUE(store_->content().Exists(Digest::Sha256Of(t1)));
}

TEST_F(ImageCommitTest, ParentLinkIsRecorded) {
  const std::string t0 = Layer("a", 1);
  Digest parent = Add({.layers = {t0}});
  Digest child = Add({.layers = {t0, Layer("b", 2)}, .parent = parent});
  EXPECT_EQ((*store_->metadata().GetImage(child))->parent, parent);
  EXPECT_EQ(*store_->metadata().Children(parent), std::vector<Digest>{child});
  EXPECT_EQ(LayerCount(), 2u);  // the shared bottom layer is recorded once
}

TEST_F(ImageCommitTest, CommittingTheSameImageTwiceIsIdempotent) {
  const std::string t0 = Layer("a", 10);
  Digest first = Add({.layers = {t0}, .tags = {"x/a:1"}});
  auto layers_before = *store_->metadata().ListLayers();
  auto image_before = *store_->metadata().GetImage(first);
  auto files_before = archive_test::StoreFiles(root());

  Digest second = Add({.layers = {t0}, .tags = {"x/a:1"}});
  EXPECT_EQ(first, second);
  EXPECT_EQ(ImageCount(), 1u);
  EXPECT_EQ(RefCount(), 1u);
  auto layers_after = *store_->metadata().ListLayers();
  ASSERT_EQ(layers_after.size(), 1u);
  EXPECT_EQ(layers_after[0].cache_id, layers_before[0].cache_id);  // the row was kept
  EXPECT_EQ((*store_->metadata().GetImage(first))->added_at, image_before->added_at);
  EXPECT_EQ(archive_test::StoreFiles(root()), files_before);
}

TEST_F(ImageCommitTest, ATagMovingToAnotherImageIsReported) {
  Digest old_image = Add({.layers = {Layer("old", 1)}, .tags = {"x/app:1"}});
  StagedLayer layer = Stage(Layer("new", 2));
  IngestImage image;
  image.config_bytes = ConfigForTest({}, {layer.diff_id});
  image.layers = {Staged(&layer)};
  image.tags = {*ParseNormalizedNamed("x/app:1"), *ParseNormalizedNamed("x/app:2")};
  std::vector<IngestImage> images{std::move(image)};
  auto result = IngestImages(*store_, images);
  ASSERT_TRUE(result) << result.error().message;
  const auto& events = result->events;
  ASSERT_EQ(events.size(), 1u);  // x/app:2 is new: no event
  EXPECT_EQ(events[0].kind, CommitEvent::kTagMoved);
  EXPECT_EQ(events[0].tag, "x/app:1");
  EXPECT_EQ(events[0].old_image, old_image);
  Digest new_image = Digest::Sha256Of(images[0].config_bytes);
  EXPECT_EQ((*store_->metadata().GetRef("docker.io/x/app:1"))->image_id, new_image);
  EXPECT_TRUE(Tags(old_image).empty());
  EXPECT_TRUE(Exists(old_image));  // untagged, not removed

  // Committing the image that already has the tag reports nothing.
  std::vector<IngestImage> again(1);
  again[0].config_bytes = images[0].config_bytes;
  again[0].layers = {Staged(nullptr)};  // the store has the layer now
  again[0].tags = {*ParseNormalizedNamed("x/app:1")};
  auto none = IngestImages(*store_, again);
  ASSERT_TRUE(none) << none.error().message;
  EXPECT_TRUE(none->events.empty());
}

TEST_F(ImageCommitTest, AMissingLayerFailsAndLeavesNoRows) {
  Digest kept = Add({.layers = {Layer("kept", 1)}, .tags = {"x/kept:1"}});
  StagedLayer good = Stage(Layer("good", 3));
  const Digest absent = Digest::Sha256Of("a layer nobody staged");
  // Two images in one batch; the second names a layer neither staged nor stored.
  std::vector<IngestImage> images(2);
  images[0].config_bytes = ConfigForTest({.created = "2024-01-01T00:00:00Z"}, {good.diff_id});
  images[0].layers = {Staged(&good)};
  images[0].tags = {*ParseNormalizedNamed("x/kept:1"), *ParseNormalizedNamed("x/good:1")};
  images[1].config_bytes = ConfigForTest({}, {good.diff_id, absent});
  images[1].layers = {Staged(nullptr), Staged(nullptr)};
  images[1].tags = {*ParseNormalizedNamed("x/bad:1")};
  auto result = IngestImages(*store_, images);
  ASSERT_FALSE(result);
  const std::vector<Digest> bad_diff_ids{good.diff_id, absent};
  const Digest missing_chain = ChainIds(bad_diff_ids)[1];
  EXPECT_EQ(result.error().message,
            "layer " + missing_chain.str() + " is neither staged nor in the store");
  // Nothing of either image, and the tag that would have moved did not.
  EXPECT_EQ(ImageCount(), 1u);
  EXPECT_EQ(LayerCount(), 1u);
  EXPECT_EQ(RefCount(), 1u);
  EXPECT_EQ((*store_->metadata().GetRef("docker.io/x/kept:1"))->image_id, kept);
  EXPECT_FALSE(*store_->metadata().GetLayer(good.diff_id));
  // What the failed commit wrote are blobs nothing names: gc takes them.
  auto gc = CollectGarbage(*store_);
  ASSERT_TRUE(gc) << gc.error().message;
  EXPECT_FALSE(store_->content().Exists(good.diff_id));
  EXPECT_FALSE(store_->content().Exists(Digest::Sha256Of(images[0].config_bytes)));
}

// A staged layer that does not carry the diffID the image names would record a layer whose tar
// is not in the store.
TEST_F(ImageCommitTest, AStagedLayerWithAnotherDiffIdIsRefused) {
  StagedLayer layer = Stage(Layer("real", 5));
  const Digest claimed = Digest::Sha256Of("some other tar");
  std::vector<IngestImage> images(1);
  images[0].config_bytes = ConfigForTest({}, {claimed});
  images[0].layers = {Staged(&layer)};
  images[0].tags = {*ParseNormalizedNamed("x/liar:1")};
  auto result = IngestImages(*store_, images);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kCorrupt);
  EXPECT_NE(result.error().message.find(claimed.str()), std::string::npos)
      << result.error().message;
  EXPECT_NE(result.error().message.find(layer.diff_id.str()), std::string::npos)
      << result.error().message;
  EXPECT_EQ(ImageCount(), 0u);
  EXPECT_EQ(LayerCount(), 0u);
  EXPECT_EQ(RefCount(), 0u);
  EXPECT_FALSE(store_->content().Exists(layer.diff_id));  // refused before any blob
}

TEST_F(ImageCommitTest, FewerLayersThanDiffIdsAreRefused) {
  const Digest diff = Digest::Sha256Of("a tar");
  std::vector<IngestImage> images(1);
  images[0].config_bytes = ConfigForTest({}, {diff});
  images[0].listed_by = "manifest.json";
  auto result = IngestImages(*store_, images);
  ASSERT_FALSE(result);
  EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(result.error().message, "image config " +
                                        Digest::Sha256Of(images[0].config_bytes).str() +
                                        " lists 1 layers but manifest.json names 0");
  EXPECT_EQ(ImageCount(), 0u);
}

// Everything an image brings is recorded in ONE metadata transaction: layers, the compressed
// blob that carries a layer, the image, tags, its manifest and where it was pulled from.
TEST_F(ImageCommitTest, AnImageWithManifestBlobsAndSourceIsOneTransaction) {
  StagedLayer layer = Stage(Layer("payload", 64));
  const std::string compressed_bytes = "bytes standing for the layer's compressed form";
  const Descriptor blob{std::string(kOciLayerGzipMediaType), Digest::Sha256Of(compressed_bytes),
                        static_cast<int64_t>(compressed_bytes.size())};
  std::optional<BlobWriter> writer;
  {
    auto w = store_->content().NewWriter();
    ASSERT_TRUE(w) << w.error().message;
    writer.emplace(std::move(*w));
    ASSERT_TRUE(writer->Write(compressed_bytes.data(), compressed_bytes.size()));
  }
  IngestImage image;
  image.config_bytes = ConfigForTest({}, {layer.diff_id});
  const Digest id = Digest::Sha256Of(image.config_bytes);
  const Descriptor config{std::string(kOciConfigMediaType), id,
                          static_cast<int64_t>(image.config_bytes.size())};
  const std::string manifest = MarshalOciManifest(config, {blob});
  image.manifest = IngestManifest{manifest, std::string(kOciManifestMediaType)};
  image.layers = {IngestLayer{.staged = &layer,
                              .blob = blob,
                              .blob_writer = &writer,
                              .origin = "blob " + blob.digest.str()}};
  image.tags = {*ParseNormalizedNamed("127.0.0.1:5000/x/app:1"),
                *ParseNormalizedNamed("127.0.0.1:5000/x/app@" + Digest::Sha256Of(manifest).str())};
  image.source = *ParseNormalizedNamed("127.0.0.1:5000/x/app:1");
  std::vector<IngestImage> images{std::move(image)};

  Metadata& md = store_->metadata();
  const int64_t before = md.commits();
  auto result = IngestImages(*store_, images);
  ASSERT_TRUE(result) << result.error().message;
  EXPECT_EQ(md.commits() - before, 1);
  ASSERT_EQ(result->image_ids, std::vector<Digest>{id});

  EXPECT_FALSE(writer);  // committed and emptied
  EXPECT_TRUE(store_->content().Exists(blob.digest));
  EXPECT_TRUE(store_->content().Exists(layer.diff_id));
  EXPECT_TRUE(store_->content().Exists(Digest::Sha256Of(manifest)));
  auto blobs = md.LayerBlobs(layer.diff_id);
  ASSERT_TRUE(blobs);
  ASSERT_EQ(blobs->size(), 1u);
  EXPECT_EQ((*blobs)[0].digest, blob.digest);
  EXPECT_EQ((*blobs)[0].media_type, kOciLayerGzipMediaType);
  auto manifests = md.ImageManifests(id);
  ASSERT_TRUE(manifests);
  ASSERT_EQ(manifests->size(), 1u);
  EXPECT_EQ((*manifests)[0].digest, Digest::Sha256Of(manifest));
  for (const Digest& d : {id, blob.digest}) {
    auto sources = md.BlobSources(d);
    ASSERT_TRUE(sources);
    ASSERT_EQ(sources->size(), 1u) << d.str();
    EXPECT_EQ((*sources)[0].registry, "127.0.0.1:5000");
    EXPECT_EQ((*sources)[0].repository, "x/app");
  }
  EXPECT_EQ(Tags(id).size(), 2u);
}

// The manifest must name this config and, layer by layer, the blobs given.
TEST_F(ImageCommitTest, AManifestThatDisagreesIsRefusedBeforeAnyBlob) {
  StagedLayer layer = Stage(Layer("m", 3));
  const std::string config_bytes = ConfigForTest({}, {layer.diff_id});
  const Descriptor config{std::string(kOciConfigMediaType), Digest::Sha256Of(config_bytes),
                          static_cast<int64_t>(config_bytes.size())};
  const Descriptor tar{std::string(kOciLayerMediaType), layer.diff_id,
                       static_cast<int64_t>(layer.tar_size)};
  const Descriptor other{std::string(kOciLayerMediaType), Digest::Sha256Of("x"), 1};
  struct Case {
    std::string manifest;
    std::string expected;
  };
  const Descriptor other_config{std::string(kOciConfigMediaType), Digest::Sha256Of("{}"), 2};
  for (const Case& c :
       {Case{MarshalOciManifest(other_config, {tar}), "names config " + other_config.digest.str()},
        Case{MarshalOciManifest(config, {}), "lists 1 layers but the image names 0"},
        Case{MarshalOciManifest(config, {other}), "is blob " + other.digest.str()}}) {
    std::vector<IngestImage> images(1);
    images[0].config_bytes = config_bytes;
    images[0].manifest = IngestManifest{c.manifest, std::string(kOciManifestMediaType)};
    images[0].layers = {
        IngestLayer{.staged = &layer, .blob = tar, .blob_writer = nullptr, .origin = {}}};
    auto result = IngestImages(*store_, images);
    ASSERT_FALSE(result) << c.expected;
    EXPECT_EQ(result.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(result.error().message.find(c.expected), std::string::npos) << result.error().message;
    EXPECT_EQ(ImageCount(), 0u);
    EXPECT_FALSE(store_->content().Exists(layer.diff_id));
    EXPECT_FALSE(store_->content().Exists(Digest::Sha256Of(c.manifest)));
  }
}

TEST_F(ImageCommitTest, TagImageRefusesDigestsAndDigestAlgorithmNames) {
  Digest id = Add({.layers = {Layer("t", 1)}});
  for (const std::string& name : {"x/a@" + Digest::Sha256Of("m").str(), std::string("sha256")}) {
    auto ref = ParseNormalizedNamed(name);
    ASSERT_TRUE(ref) << name;
    auto tagged = TagImage(*store_, id, *ref);
    ASSERT_FALSE(tagged) << name;
    EXPECT_EQ(tagged.error().code, ErrorCode::kInvalidArgument);
    EXPECT_NE(tagged.error().message.find("refusing to create"), std::string::npos);
  }
  EXPECT_EQ(RefCount(), 0u);
}

TEST_F(ImageCommitTest, TagImageMovesATagAndStampsTheImage) {
  Digest a = Add({.layers = {Layer("a", 1)}, .tags = {"x/t:1"}});
  Digest b = Add({.layers = {Layer("b", 1)}});
  auto moved = TagImage(*store_, b, *ParseNormalizedNamed("x/t:1"));
  ASSERT_TRUE(moved) << moved.error().message;
  ASSERT_EQ(moved->size(), 1u);
  EXPECT_EQ((*moved)[0].old_image, a);
  EXPECT_EQ((*store_->metadata().GetRef("docker.io/x/t:1"))->image_id, b);
  EXPECT_TRUE((*store_->metadata().GetImage(b))->last_tag_time);
  // A second tag of the same name moves nothing but still stamps, as docker tag does.
  auto again = TagImage(*store_, b, *ParseNormalizedNamed("x/t:1"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->empty());
}

TEST_F(ImageCommitTest, AddReferencesStampsOnlyWhenSomethingChanged) {
  Digest id = Add({.layers = {Layer("r", 1)}});
  EXPECT_FALSE((*store_->metadata().GetImage(id))->last_tag_time);
  auto same = AddReferences(*store_, id, {});
  ASSERT_TRUE(same);
  EXPECT_FALSE((*store_->metadata().GetImage(id))->last_tag_time);
  auto added = AddReferences(*store_, id, {*ParseNormalizedNamed("x/r:1")});
  ASSERT_TRUE(added) << added.error().message;
  EXPECT_TRUE((*store_->metadata().GetImage(id))->last_tag_time);
  EXPECT_EQ(Tags(id), std::vector<std::string>{"docker.io/x/r:1"});
}

TEST_F(ImageCommitTest, PutReferenceRecordsDigestReferences) {
  Digest id = Add({.layers = {Layer("a", 1)}});
  const Digest manifest = Digest::Sha256Of("manifest");
  Ref("x/a@" + manifest.str(), id);
  auto ref = store_->metadata().GetRef("docker.io/x/a@" + manifest.str());
  ASSERT_TRUE(ref && *ref);
  EXPECT_TRUE((*ref)->is_digest);
  EXPECT_EQ((*ref)->repository, "docker.io/x/a");
  EXPECT_EQ((*ref)->image_id, id);
}

TEST(NowRfc3339NanoTest, IsUtcWithNanoseconds) {
  const std::string now = NowRfc3339Nano();
  ASSERT_GE(now.size(), 20u) << now;
  EXPECT_EQ(now.back(), 'Z') << now;
  EXPECT_EQ(now[4], '-');
  EXPECT_EQ(now[10], 'T');
  EXPECT_EQ(now.substr(0, 2), "20");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
