// image prune through a real store: which images go (dangling, --all, until and label filters,
// parents and children as docker treats them) and the space reported as reclaimed.
#include "store/image_delete.h"

#include <gtest/gtest.h>

#include "store/image_lookup.h"
#include "store/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::Layer;

constexpr int64_t kNow = 1700000000'000000000;  // 2023-11-14T22:13:20Z

class PruneTest : public store_test::StoreTest {
 protected:
  DeleteReport Prune(bool all, const std::vector<std::string>& filters = {}) {
    auto filter = ParsePruneFilter(filters, all, kNow);
    EXPECT_TRUE(filter) << filter.error().message;
    auto report = PruneImages(*store_, all, *filter);
    EXPECT_TRUE(report) << report.error().message;
    return report ? *report : DeleteReport{};
  }
};

TEST_F(PruneTest, DanglingOnlyByDefaultAndReclaimedIsTheRemovedLayersDiffSize) {
  Digest tagged = Add({.layers = {Layer("a", 1000)}, .tags = {"example/a:1"}});
  Digest dangling = Add({.layers = {Layer("b", 2345)}});
  DeleteReport r = Prune(false);
  EXPECT_TRUE(Exists(tagged));
  EXPECT_FALSE(Exists(dangling));
  EXPECT_TRUE(Has(r, "Deleted: " + dangling.str()));
  EXPECT_EQ(r.removed_layers_size, 2345);  // docker counts DiffSize, not the tar's bytes

  DeleteReport all = Prune(true);
  EXPECT_FALSE(Exists(tagged));
  EXPECT_TRUE(Has(all, "Untagged: example/a:1"));
  EXPECT_TRUE(Has(all, "Deleted: " + tagged.str()));
  EXPECT_EQ(all.removed_layers_size, 1000);
}

TEST_F(PruneTest, ALayerAnotherImageStillUsesIsNotCounted) {
  std::string base = Layer("base", 5000);
  Add({.layers = {base}, .tags = {"example/keep:1"}});
  Digest gone = Add({.layers = {base, Layer("top", 300)}});
  DeleteReport r = Prune(false);
  EXPECT_FALSE(Exists(gone));
  EXPECT_EQ(r.removed_layers_size, 300);
}

TEST_F(PruneTest, UntilKeepsImagesCreatedAfterIt) {
  Digest old_image =
      Add({.layers = {Layer("o", 10)}, .created = "2020-05-01T00:00:00Z", .tags = {"x/old:1"}});
  Digest new_image =
      Add({.layers = {Layer("n", 20)}, .created = "2023-11-14T22:00:00Z", .tags = {"x/new:1"}});
  Digest edge =
      Add({.layers = {Layer("e", 30)}, .created = "2021-01-01T00:00:00Z", .tags = {"x/edge:1"}});
  DeleteReport r = Prune(true, {"until=2021-01-01T00:00:00Z"});  // not after it: goes
  EXPECT_FALSE(Exists(old_image));
  EXPECT_FALSE(Exists(edge));
  EXPECT_TRUE(Exists(new_image));
  EXPECT_EQ(r.removed_layers_size, 40);
  Prune(true, {"until=1h"});  // created 13 minutes before kNow: stays
  EXPECT_TRUE(Exists(new_image));
  Prune(true, {"until=10m"});
  EXPECT_FALSE(Exists(new_image));
}

TEST_F(PruneTest, LabelFilters) {
  Digest keep = Add({.layers = {Layer("k", 1)}, .labels = {{"keep", "yes"}}, .tags = {"x/keep:1"}});
  Digest team = Add({.layers = {Layer("t", 2)}, .labels = {{"team", "a"}}, .tags = {"x/team:1"}});
  Digest bare = Add({.layers = {Layer("b", 3)}, .tags = {"x/bare:1"}});
  Digest no_config = Add({.layers = {Layer("c", 4)}, .labels = "absent", .tags = {"x/nocfg:1"}});

  Prune(true, {"label=team=b"});  // no image has team=b; an image without a config is not filtered
  EXPECT_TRUE(Exists(keep) && Exists(team) && Exists(bare));
  EXPECT_FALSE(Exists(no_config));

  Prune(true, {"label!=keep"});  // everything without the label "keep"
  EXPECT_TRUE(Exists(keep));
  EXPECT_FALSE(Exists(team));
  EXPECT_FALSE(Exists(bare));

  Prune(true, {"label=keep=no"});
  EXPECT_TRUE(Exists(keep));
  Prune(true, {"LABEL=keep"});
  EXPECT_FALSE(Exists(keep));
}

TEST_F(PruneTest, ParentsAndChildrenAsDocker) {
  std::string l0 = Layer("p", 100), l1 = Layer("c", 10);
  Digest parent = Add({.layers = {l0}, .labels = {{"role", "parent"}}, .tags = {"x/parent:1"}});
  Digest child = Add({.layers = {l0, l1}, .parent = parent});
  // Dangling: the untagged child goes, its tagged parent stays.
  DeleteReport dangling = Prune(false);
  EXPECT_FALSE(Exists(child));
  EXPECT_TRUE(Exists(parent));
  EXPECT_EQ(dangling.removed_layers_size, 10);

  // --all, but the filter picks only the parent: it has a child, so it only loses its tag.
  child = Add({.layers = {l0, l1}, .parent = parent, .tags = {"x/child:1"}});
  DeleteReport untagged = Prune(true, {"label=role=parent"});
  EXPECT_TRUE(Exists(parent));
  EXPECT_TRUE(Tags(parent).empty());
  EXPECT_TRUE(Has(untagged, "Untagged: x/parent:1"));
  EXPECT_EQ(untagged.removed_layers_size, 0);

  // The untagged parent is an intermediate image now: it goes with its last child.
  DeleteReport all = Prune(true);
  EXPECT_FALSE(Exists(child));
  EXPECT_FALSE(Exists(parent));
  EXPECT_TRUE(Has(all, "Deleted: " + parent.str()));
  EXPECT_EQ(all.removed_layers_size, 110);
}

TEST(PruneFilterTest, ParsesDockersKeysAndRefusesOthers) {
  auto f = ParsePruneFilter({"until=2023-11-14T22:13:20Z", "label=a", "label=b=c", "label!=d"},
                            false, kNow);
  ASSERT_TRUE(f) << f.error().message;
  EXPECT_EQ(f->until->unix_seconds, 1700000000);
  EXPECT_EQ(f->labels, (std::vector<std::string>{"a", "b=c"}));
  EXPECT_EQ(f->not_labels, (std::vector<std::string>{"d"}));
  EXPECT_EQ(ParsePruneFilter({"foo=bar"}, false, kNow).error().message, "invalid filter 'foo'");
  EXPECT_EQ(ParsePruneFilter({"until"}, false, kNow).error().message,
            "bad format of filter (expected name=value)");
  EXPECT_EQ(ParsePruneFilter({"until=1h", "until=2h"}, false, kNow).error().message,
            "more than one until filter specified");
  EXPECT_EQ(ParsePruneFilter({"until=soon"}, false, kNow).error().message,
            "failed to parse value as time or duration: \"soon\"");
  EXPECT_TRUE(ParsePruneFilter({"dangling=true"}, false, kNow));
  EXPECT_TRUE(ParsePruneFilter({"dangling=false"}, true, kNow));
  EXPECT_FALSE(ParsePruneFilter({"dangling=false"}, false, kNow));
}

TEST(PruneFilterTest, SelectsAsDockersMatchLabels) {
  PruneFilter f = *ParsePruneFilter({"label=a", "label!=b=1"}, true, kNow);
  GoTime t{1600000000, 0, 0};
  using Labels = std::map<std::string, std::string>;
  EXPECT_TRUE(f.Selects(t, Labels{{"a", "x"}}));
  EXPECT_TRUE(f.Selects(t, Labels{{"a", "x"}, {"b", "2"}}));
  EXPECT_FALSE(f.Selects(t, Labels{{"a", "x"}, {"b", "1"}}));
  EXPECT_FALSE(f.Selects(t, Labels{}));
  EXPECT_TRUE(f.Selects(t, std::nullopt));  // no "config" in the image config: not filtered
  PruneFilter until = *ParsePruneFilter({"until=1600000000.5"}, true, kNow);
  EXPECT_TRUE(until.Selects(GoTime{1600000000, 500000000, 0}, std::nullopt));
  EXPECT_FALSE(until.Selects(GoTime{1600000000, 500000001, 0}, std::nullopt));
}

// rmi of a child takes its untagged parents with it, as docker; --no-prune keeps them.
TEST_F(PruneTest, RmiPrunesUntaggedParentsUnlessNoPrune) {
  std::string l0 = Layer("p", 100), l1 = Layer("c", 10);
  Digest parent = Add({.layers = {l0}});
  Digest child = Add({.layers = {l0, l1}, .parent = parent, .tags = {"x/child:1"}});
  auto kept = RemoveImage(*store_, "x/child:1", /*force=*/false, /*prune_parents=*/false);
  ASSERT_TRUE(kept) << kept.error().message;
  EXPECT_FALSE(Exists(child));
  EXPECT_TRUE(Exists(parent));
  EXPECT_FALSE(Has(*kept, "Deleted: " + parent.str()));

  child = Add({.layers = {l0, l1}, .parent = parent, .tags = {"x/child:1"}});
  auto pruned = RemoveImage(*store_, "x/child:1", /*force=*/false);
  ASSERT_TRUE(pruned) << pruned.error().message;
  EXPECT_FALSE(Exists(child));
  EXPECT_FALSE(Exists(parent));
  EXPECT_TRUE(Has(*pruned, "Deleted: " + parent.str()));
}

// Callers decide on the kind, not on the words: a lookup that finds nothing is not-found, a name
// that is no reference is invalid, and what rmi refuses for docker's reasons is a conflict.
TEST_F(PruneTest, LookupAndRmiFailuresCarryTheirKind) {
  auto missing = ResolveImage(*store_, "x/nothing:here");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message, "No such image: x/nothing:here");
  auto missing_id = ResolveImage(*store_, Digest::Sha256Of("none").str());
  ASSERT_FALSE(missing_id);
  EXPECT_EQ(missing_id.error().code, ErrorCode::kNotFound);
  auto invalid = ResolveImage(*store_, "Not A Reference!");
  ASSERT_FALSE(invalid);
  EXPECT_EQ(invalid.error().code, ErrorCode::kInvalidArgument);
  auto rmi_missing = RemoveImage(*store_, "x/nothing:here", /*force=*/false);
  ASSERT_FALSE(rmi_missing);
  EXPECT_EQ(rmi_missing.error().code, ErrorCode::kNotFound);

  std::string l0 = Layer("p", 100), l1 = Layer("c", 10);
  Digest parent = Add({.layers = {l0}, .tags = {"x/parent:1", "y/other:1"}});
  auto shared = RemoveImage(*store_, parent.str(), /*force=*/false);
  ASSERT_FALSE(shared);
  EXPECT_EQ(shared.error().code, ErrorCode::kConflict);
  EXPECT_NE(shared.error().message.find("referenced in multiple repositories"), std::string::npos);
  Add({.layers = {l0, l1}, .parent = parent, .tags = {"x/child:1"}});
  auto with_child = RemoveImage(*store_, parent.str(), /*force=*/true);
  ASSERT_FALSE(with_child);
  EXPECT_EQ(with_child.error().code, ErrorCode::kConflict);
  EXPECT_NE(with_child.error().message.find("dependent child images"), std::string::npos);
  EXPECT_TRUE(Exists(parent));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
