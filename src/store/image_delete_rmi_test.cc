// RemoveImage (`rmi`): untagging, deleting, the conflicts it refuses and --force, digest
// references and untagged parents, each against the rules of docker 20.10's
// daemon/images/image_delete.go (ImageDelete, isSingleReference, checkImageDeleteConflict).
#include <gtest/gtest.h>

#include "image/chain_id.h"
#include "store/image_delete.h"
#include "store/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::Layer;
using Lines = std::vector<std::string>;

class RmiTest : public store_test::StoreTest {
 protected:
  DeleteReport Rmi(const std::string& name, bool force = false, bool prune = true) {
    auto report = RemoveImage(*store_, name, force, prune);
    EXPECT_TRUE(report) << name << ": " << report.error().message;
    return report ? *report : DeleteReport{};
  }
  std::string RmiError(const std::string& name, bool force = false) {
    auto report = RemoveImage(*store_, name, force);
    EXPECT_FALSE(report) << name << " was removed";
    return report ? "" : report.error().message;
  }
  static std::string MustBeForced(const Digest& id) {
    return "conflict: unable to delete " + id.short_id() +
           " (must be forced) - image is referenced in multiple repositories";
  }
  static std::string HasChildren(const Digest& id) {
    return "conflict: unable to delete " + id.short_id() +
           " (cannot be forced) - image has dependent child images";
  }
  const Digest manifest_ = Digest::Sha256Of("a manifest");
};

TEST_F(RmiTest, UntagOfOneOfSeveralTagsKeepsTheImage) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1", "x/a:2"}});
  EXPECT_EQ(Rmi("x/a:1").lines, Lines{"Untagged: x/a:1"});
  EXPECT_TRUE(Exists(id));
  EXPECT_EQ(Tags(id), Lines{"docker.io/x/a:2"});
  EXPECT_EQ(LayerCount(), 1u);
}

TEST_F(RmiTest, RemovingTheLastTagRemovesTheImageItsLayersAndBlobs) {
  const std::string tar = Layer("a", 1);
  Digest id = Add({.layers = {tar}, .tags = {"busybox"}});
  DeleteReport r = Rmi("busybox");  // no tag means :latest
  EXPECT_EQ(r.lines, (Lines{"Untagged: busybox:latest", "Deleted: " + id.str(),
                            "Deleted: " + Digest::Sha256Of(tar).str()}));  // chainID = diffID
  EXPECT_EQ(ImageCount(), 0u);
  EXPECT_EQ(LayerCount(), 0u);
  EXPECT_EQ(RefCount(), 0u);
  EXPECT_TRUE(store_->content().List()->empty());
  EXPECT_EQ(r.removed_layers_size, 1);
}

TEST_F(RmiTest, UntaggedParentsGoWithTheImageTaggedOnesStay) {
  const std::string l0 = Layer("0", 1), l1 = Layer("1", 1), l2 = Layer("2", 1);
  Digest tagged = Add({.layers = {l0}, .tags = {"x/base:1"}});
  Digest untagged = Add({.layers = {l0, l1}, .parent = tagged});
  Digest child = Add({.layers = {l0, l1, l2}, .parent = untagged, .tags = {"x/child:1"}});
  DeleteReport r = Rmi("x/child:1");
  EXPECT_TRUE(Has(r, "Deleted: " + child.str()));
  EXPECT_TRUE(Has(r, "Deleted: " + untagged.str()));
  EXPECT_FALSE(Has(r, "Deleted: " + tagged.str()));
  EXPECT_FALSE(Exists(untagged));
  EXPECT_TRUE(Exists(tagged));
  EXPECT_EQ(LayerCount(), 1u);
}

TEST_F(RmiTest, AParentWithAnotherChildStays) {
  const std::string l0 = Layer("0", 1);
  Digest parent = Add({.layers = {l0}});
  Digest a = Add({.layers = {l0, Layer("a", 1)}, .parent = parent, .tags = {"x/a:1"}});
  Digest b = Add({.layers = {l0, Layer("b", 1)}, .parent = parent, .tags = {"x/b:1"}});
  Rmi("x/a:1");
  EXPECT_FALSE(Exists(a));
  EXPECT_TRUE(Exists(parent));
  EXPECT_TRUE(Exists(b));
  Rmi("x/b:1");
  EXPECT_FALSE(Exists(parent));  // its last child took it
}

TEST_F(RmiTest, NoPruneKeepsUntaggedParents) {
  const std::string l0 = Layer("0", 1);
  Digest parent = Add({.layers = {l0}});
  Digest child = Add({.layers = {l0, Layer("1", 1)}, .parent = parent, .tags = {"x/c:1"}});
  DeleteReport r = Rmi("x/c:1", /*force=*/false, /*prune=*/false);
  ASSERT_GE(r.lines.size(), 2u) << testing::PrintToString(r.lines);
  EXPECT_EQ(r.lines[0], "Untagged: x/c:1");
  EXPECT_EQ(r.lines[1], "Deleted: " + child.str());
  EXPECT_FALSE(Has(r, "Deleted: " + parent.str()));
  EXPECT_TRUE(Exists(parent));
  EXPECT_TRUE(store_->metadata().Children(parent)->empty());
}

TEST_F(RmiTest, ByIdWithTagsInSeveralRepositoriesMustBeForced) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1", "x/b:1"}});
  const auto files = archive_test::StoreFiles(root());
  EXPECT_EQ(RmiError(id.short_id()), MustBeForced(id));
  EXPECT_EQ(RmiError(id.str()), MustBeForced(id));
  EXPECT_TRUE(Exists(id));
  EXPECT_EQ(Tags(id).size(), 2u);
  EXPECT_EQ(archive_test::StoreFiles(root()), files);

  DeleteReport r = Rmi(id.short_id(), /*force=*/true);
  ASSERT_GE(r.lines.size(), 3u) << testing::PrintToString(r.lines);
  EXPECT_EQ(r.lines[0], "Untagged: x/a:1");
  EXPECT_EQ(r.lines[1], "Untagged: x/b:1");
  EXPECT_EQ(r.lines[2], "Deleted: " + id.str());
  EXPECT_FALSE(Exists(id));
}

// docker's isSingleReference: two tags are two references even in one repository, so an ID
// naming an image tagged busybox:1 and busybox:2 must be forced.
TEST_F(RmiTest, ByIdWithTwoTagsOfOneRepositoryMustBeForced) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1", "x/a:2"}});
  EXPECT_EQ(RmiError(id.short_id()), MustBeForced(id));
  EXPECT_TRUE(Exists(id));
  EXPECT_EQ(Tags(id).size(), 2u);
  Rmi(id.short_id(), /*force=*/true);
  EXPECT_FALSE(Exists(id));
}

TEST_F(RmiTest, ByIdWithOneTagAndDigestsOfItsRepositoryDeletes) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  Ref("x/a@" + manifest_.str(), id);
  DeleteReport r = Rmi(id.str().substr(7));  // 64 hex digits, no algorithm
  ASSERT_GE(r.lines.size(), 3u) << testing::PrintToString(r.lines);
  EXPECT_EQ(r.lines[0], "Untagged: x/a:1");
  EXPECT_EQ(r.lines[1], "Untagged: x/a@" + manifest_.str());
  EXPECT_EQ(r.lines[2], "Deleted: " + id.str());
  EXPECT_EQ(RefCount(), 0u);
}

TEST_F(RmiTest, ByIdWithADigestOfAnotherRepositoryMustBeForced) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  Ref("x/b@" + manifest_.str(), id);
  EXPECT_EQ(RmiError(id.short_id()), MustBeForced(id));
  EXPECT_TRUE(Exists(id));
}

TEST_F(RmiTest, AParentOfAnotherImageCannotBeDeletedById) {
  const std::string l0 = Layer("0", 1);
  Digest parent = Add({.layers = {l0}, .tags = {"x/p:1"}});
  Digest child = Add({.layers = {l0, Layer("1", 1)}, .parent = parent, .tags = {"x/c:1"}});
  EXPECT_EQ(RmiError(parent.short_id()), HasChildren(parent));
  EXPECT_EQ(RmiError(parent.short_id(), /*force=*/true), HasChildren(parent));
  EXPECT_TRUE(Exists(parent));
  EXPECT_EQ(Tags(parent), Lines{"docker.io/x/p:1"});  // refused before untagging anything
  EXPECT_TRUE(Exists(child));
}

// docker checks for children before references: with both, the conflict is the children.
TEST_F(RmiTest, ChildrenAreTheConflictEvenWithSeveralRepositories) {
  const std::string l0 = Layer("0", 1);
  Digest parent = Add({.layers = {l0}, .tags = {"x/p:1", "x/q:1"}});
  Add({.layers = {l0, Layer("1", 1)}, .parent = parent});
  EXPECT_EQ(RmiError(parent.short_id()), HasChildren(parent));
  EXPECT_EQ(Tags(parent).size(), 2u);
}

TEST_F(RmiTest, TheLastTagOfAParentOnlyUntags) {
  const std::string l0 = Layer("0", 1);
  Digest parent = Add({.layers = {l0}, .tags = {"x/p:1"}});
  Add({.layers = {l0, Layer("1", 1)}, .parent = parent, .tags = {"x/c:1"}});
  EXPECT_EQ(Rmi("x/p:1").lines, Lines{"Untagged: x/p:1"});
  EXPECT_TRUE(Exists(parent));
  EXPECT_TRUE(Tags(parent).empty());
}

TEST_F(RmiTest, ByTagIgnoresOtherRepositoriesWithoutForce) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1", "x/b:1"}});
  EXPECT_EQ(Rmi("x/b:1").lines, Lines{"Untagged: x/b:1"});
  EXPECT_EQ(Tags(id), Lines{"docker.io/x/a:1"});
}

TEST_F(RmiTest, ADigestReferenceIsUntaggedWhileATagRemains) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  Ref("x/a@" + manifest_.str(), id);
  EXPECT_EQ(Rmi("x/a@" + manifest_.str()).lines, Lines{"Untagged: x/a@" + manifest_.str()});
  EXPECT_EQ(Tags(id), Lines{"docker.io/x/a:1"});
}

// docker removes the image once its last reference goes, whether a tag or a digest.
TEST_F(RmiTest, TheLastReferenceByDigestRemovesTheImage) {
  Digest id = Add({.layers = {Layer("a", 1)}});
  Ref("x/a@" + manifest_.str(), id);
  DeleteReport r = Rmi("x/a@" + manifest_.str());
  ASSERT_GE(r.lines.size(), 2u) << testing::PrintToString(r.lines);
  EXPECT_EQ(r.lines[0], "Untagged: x/a@" + manifest_.str());
  EXPECT_EQ(r.lines[1], "Deleted: " + id.str());
  EXPECT_FALSE(Exists(id));
  EXPECT_EQ(LayerCount(), 0u);
}

TEST_F(RmiTest, TheLastTagOfARepositoryTakesItsDigestReferences) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  Ref("x/a@" + manifest_.str(), id);
  DeleteReport r = Rmi("x/a:1");
  ASSERT_GE(r.lines.size(), 3u) << testing::PrintToString(r.lines);
  EXPECT_EQ(r.lines[0], "Untagged: x/a:1");
  EXPECT_EQ(r.lines[1], "Untagged: x/a@" + manifest_.str());
  EXPECT_EQ(r.lines[2], "Deleted: " + id.str());
  EXPECT_FALSE(Exists(id));
}

// docker: the digests of the untagged repository go; references elsewhere keep the image.
TEST_F(RmiTest, DigestsOfTheUntaggedRepositoryGoEvenWhenAnotherRepositoryKeepsTheImage) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1", "x/b:1"}});
  Ref("x/a@" + manifest_.str(), id);
  EXPECT_EQ(Rmi("x/a:1").lines, (Lines{"Untagged: x/a:1", "Untagged: x/a@" + manifest_.str()}));
  EXPECT_EQ(Tags(id), Lines{"docker.io/x/b:1"});
}

TEST_F(RmiTest, ADigestReferenceInAnotherRepositoryKeepsTheImage) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  Ref("x/b@" + manifest_.str(), id);
  EXPECT_EQ(Rmi("x/a:1").lines, Lines{"Untagged: x/a:1"});
  EXPECT_TRUE(Exists(id));
  EXPECT_EQ(Tags(id), Lines{"docker.io/x/b@" + manifest_.str()});
}

TEST_F(RmiTest, AnUntaggedImageGoesById) {
  Digest id = Add({.layers = {Layer("a", 1)}});
  EXPECT_EQ(Rmi("sha256:" + id.short_id()).lines.at(0), "Deleted: " + id.str());
  EXPECT_FALSE(Exists(id));
}

TEST_F(RmiTest, UnknownNamesAreRefused) {
  Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  EXPECT_EQ(RmiError("x/a:2"), "No such image: x/a:2");
  const Digest absent = Digest::Sha256Of("absent");
  EXPECT_EQ(RmiError(absent.str()), "No such image: " + absent.str());
  EXPECT_EQ(ImageCount(), 1u);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
