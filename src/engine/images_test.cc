#include "engine/images.h"

#include <gtest/gtest.h>

#include "engine/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::ImageSpecForTest;
using store_test::Layer;

// Images are committed through the fixture's store; the engine under test opens its own.
using EngineImagesTest = engine_test::EngineTest;

TEST_F(EngineImagesTest, TagResolvesTheSourceAndNormalizesTheTarget) {
  const Digest id = Add({.layers = {Layer("a", 10)}, .tags = {"app:1"}});
  auto tagged = ImageTag(*engine_, {.source = "app:1", .target = "example.com/x/app"});
  ASSERT_TRUE(tagged) << tagged.error().message;
  EXPECT_EQ(tagged->image, id);
  EXPECT_EQ(tagged->tag.String(), "example.com/x/app:latest");
  EXPECT_TRUE(tagged->moved.empty());
  EXPECT_EQ(Tags(id),
            (std::vector<std::string>{"docker.io/library/app:1", "example.com/x/app:latest"}));
}

TEST_F(EngineImagesTest, TagReportsATagMovedFromAnotherImage) {
  const Digest old_id = Add({.layers = {Layer("a", 10)}, .tags = {"app:1"}});
  const Digest new_id = Add({.layers = {Layer("b", 10)}, .tags = {"app:2"}});
  auto tagged = ImageTag(*engine_, {.source = new_id.str(), .target = "app:1"});
  ASSERT_TRUE(tagged) << tagged.error().message;
  ASSERT_EQ(tagged->moved.size(), 1u);
  EXPECT_EQ(tagged->moved[0].tag, "app:1");
  EXPECT_EQ(tagged->moved[0].old_image, old_id);
  EXPECT_TRUE(Tags(old_id).empty());
}

TEST_F(EngineImagesTest, TagRefusalsHaveKinds) {
  const Digest id = Add({.layers = {Layer("a", 10)}, .tags = {"app:1"}});
  auto missing = ImageTag(*engine_, {.source = "nothing:here", .target = "app:2"});
  ASSERT_FALSE(missing);
  EXPECT_TRUE(IsNotFound(missing.error())) << missing.error().message;

  auto malformed = ImageTag(*engine_, {.source = "app:1", .target = "App:1"});
  ASSERT_FALSE(malformed);
  EXPECT_EQ(malformed.error().code, ErrorCode::kInvalidArgument) << malformed.error().message;

  auto digest = ImageTag(*engine_, {.source = "app:1", .target = "app@" + id.str()});
  ASSERT_FALSE(digest);
  EXPECT_EQ(digest.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(digest.error().message, "refusing to create a tag with a digest reference");

  auto algorithm = ImageTag(*engine_, {.source = "app:1", .target = "sha256:1"});
  ASSERT_FALSE(algorithm);
  EXPECT_EQ(algorithm.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(Tags(id), (std::vector<std::string>{"docker.io/library/app:1"}));
}

TEST_F(EngineImagesTest, RemoveRefusesImagesInUseWithConflict) {
  const Digest parent = Add({.layers = {Layer("a", 10)}, .tags = {"base:1"}});
  const Digest child =
      Add({.layers = {Layer("a", 10), Layer("b", 10)}, .parent = parent, .tags = {"app:1"}});
  auto with_child = ImageRemove(*engine_, {.name = parent.str()});
  ASSERT_FALSE(with_child);
  EXPECT_TRUE(IsConflict(with_child.error())) << with_child.error().message;
  // Forcing does not help an image with children.
  auto forced = ImageRemove(*engine_, {.name = parent.str(), .force = true});
  ASSERT_FALSE(forced);
  EXPECT_TRUE(IsConflict(forced.error()));

  Ref("other/app:2", child);
  auto two_repositories = ImageRemove(*engine_, {.name = child.str()});
  ASSERT_FALSE(two_repositories);
  EXPECT_TRUE(IsConflict(two_repositories.error())) << two_repositories.error().message;
  EXPECT_TRUE(Exists(child));

  auto missing = ImageRemove(*engine_, {.name = "nothing:here"});
  ASSERT_FALSE(missing);
  EXPECT_TRUE(IsNotFound(missing.error()));
}

TEST_F(EngineImagesTest, RemoveReportsUntaggedAndDeleted) {
  const Digest id = Add({.layers = {Layer("a", 10)}, .tags = {"app:1"}});
  auto removed = ImageRemove(*engine_, {.name = "app:1"});
  ASSERT_TRUE(removed) << removed.error().message;
  ASSERT_GE(removed->removals.size(), 2u);
  EXPECT_EQ(removed->removals[0].kind, ImageRemoval::Kind::kUntagged);
  EXPECT_EQ(removed->removals[0].name, "app:1");
  EXPECT_EQ(removed->removals[1].kind, ImageRemoval::Kind::kDeleted);
  EXPECT_EQ(removed->removals[1].name, id.str());
  EXPECT_EQ(removed->lines.size(), removed->removals.size());
  EXPECT_FALSE(Exists(id));
}

TEST_F(EngineImagesTest, ListAppliesFiltersAndTheRepositoryPattern) {
  const Digest old_id =
      Add({.layers = {Layer("a", 10)}, .created = "2023-01-01T00:00:00Z", .tags = {"app:1"}});
  const Digest new_id =
      Add({.layers = {Layer("b", 10)}, .created = "2023-06-01T00:00:00Z", .tags = {"web:1"}});
  auto all = ImageList(*engine_, {});
  ASSERT_TRUE(all) << all.error().message;
  ASSERT_EQ(all->size(), 2u);
  EXPECT_EQ((*all)[0].id, new_id);  // newest first

  auto since = ImageList(*engine_, {.filters = {"since=app:1"}});
  ASSERT_TRUE(since) << since.error().message;
  ASSERT_EQ(since->size(), 1u);
  EXPECT_EQ((*since)[0].id, new_id);

  auto repository = ImageList(*engine_, {.repository = "app"});
  ASSERT_TRUE(repository);
  ASSERT_EQ(repository->size(), 1u);
  EXPECT_EQ((*repository)[0].id, old_id);

  auto bad = ImageList(*engine_, {.filters = {"colour=red"}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(bad.error().message, "Invalid filter 'colour'");

  auto missing_before = ImageList(*engine_, {.filters = {"before=nothing:here"}});
  ASSERT_FALSE(missing_before);
  EXPECT_TRUE(IsNotFound(missing_before.error()));
}

TEST_F(EngineImagesTest, HistoryAndInspectResolveNames) {
  const Digest id = Add({.layers = {Layer("a", 10)}, .tags = {"app:1"}});
  auto inspected = ImageInspect(*engine_, {.name = "app:1"});
  ASSERT_TRUE(inspected) << inspected.error().message;
  EXPECT_EQ((*inspected)["Id"], id.str());
  auto by_prefix = ImageInspect(*engine_, {.name = id.hex().substr(0, 12)});
  ASSERT_TRUE(by_prefix) << by_prefix.error().message;
  EXPECT_EQ((*by_prefix)["Id"], id.str());
  auto missing = ImageInspect(*engine_, {.name = "nothing:here"});
  ASSERT_FALSE(missing);
  EXPECT_TRUE(IsNotFound(missing.error()));

  auto history = ImageHistory(*engine_, ImageHistoryRequest{.name = "app:1"});
  ASSERT_TRUE(history) << history.error().message;
  EXPECT_TRUE(history->empty());  // the test config has no history (archive_test's import has)
  auto no_history = ImageHistory(*engine_, ImageHistoryRequest{.name = "nothing:here"});
  ASSERT_FALSE(no_history);
  EXPECT_TRUE(IsNotFound(no_history.error()));
}

TEST_F(EngineImagesTest, PruneWithALabelFilterKeepsWhatItDoesNotSelect) {
  const Digest keep = Add({.layers = {Layer("a", 10)}, .labels = {{"keep", "yes"}}});
  const Digest drop = Add({.layers = {Layer("b", 10)}, .labels = {{"other", "x"}}});
  const Digest tagged = Add({.layers = {Layer("c", 10)}, .tags = {"app:1"}});
  auto listed = ImageList(*engine_, {.all = true});
  ASSERT_TRUE(listed);
  int64_t drop_size = -1;
  for (const ImageSummary& image : *listed) {
    if (image.id == drop) drop_size = image.size;
  }
  ASSERT_GT(drop_size, 0);
  int asked = 0;
  ImagePruneEvents events{.confirm = [&] {
    ++asked;
    return true;
  }};
  auto pruned = ImagePrune(*engine_, {.filters = {"label!=keep"}}, events);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_EQ(asked, 1);
  EXPECT_TRUE(Exists(keep));
  EXPECT_FALSE(Exists(drop));
  EXPECT_TRUE(Exists(tagged));             // not dangling
  ASSERT_EQ(pruned->removals.size(), 2u);  // the image, then its layer
  EXPECT_EQ(pruned->removals[0].kind, ImageRemoval::Kind::kDeleted);
  EXPECT_EQ(pruned->removals[0].name, drop.str());
  EXPECT_EQ(pruned->removed_layers_size, drop_size);
}

TEST_F(EngineImagesTest, PruneDeclinedOrBadFilterRemovesNothing) {
  const Digest dangling = Add({.layers = {Layer("a", 10)}});
  auto declined = ImagePrune(*engine_, {}, {.confirm = [] { return false; }});
  ASSERT_TRUE(declined) << declined.error().message;
  EXPECT_TRUE(declined->removals.empty());
  EXPECT_TRUE(Exists(dangling));

  bool asked = false;
  auto bad = ImagePrune(*engine_, {.filters = {"colour=red"}}, {.confirm = [&] {
    asked = true;
    return true;
  }});
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().code, ErrorCode::kInvalidArgument);
  EXPECT_FALSE(asked);  // refused before the question
  EXPECT_TRUE(Exists(dangling));
}

TEST_F(EngineImagesTest, PruneUntilUsesTheRequestsClock) {
  const Digest old_id = Add({.layers = {Layer("a", 10)}, .created = "2023-01-01T00:00:00Z"});
  const Digest new_id = Add({.layers = {Layer("b", 10)}, .created = "2023-06-01T00:00:00Z"});
  // 2023-06-02T00:00:00Z, so until=72h selects what was created before 2023-05-30.
  const int64_t now = int64_t{1685664000} * 1000000000;
  auto pruned = ImagePrune(*engine_, {.filters = {"until=72h"}, .now_unix_nanos = now});
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_FALSE(Exists(old_id));
  EXPECT_TRUE(Exists(new_id));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
