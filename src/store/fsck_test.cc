// CheckStore (`fsck`): a clean store, damaged and missing blobs (layer tars, compressed-only
// layers, configs), references to missing images, and what --repair removes.
#include "store/fsck.h"

#include <sys/stat.h>

#include "archive/compression.h"
#include "image/chain_id.h"
#include "store/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::Layer;
using Lines = std::vector<std::string>;

class FsckTest : public store_test::StoreTest {
 protected:
  FsckReport Fsck(bool repair = false) {
    auto report = CheckStore(*store_, repair);
    EXPECT_TRUE(report) << report.error().message;
    return report ? *report : FsckReport{};
  }
  // Flips the bits of one byte of a stored blob.
  void Flip(const Digest& blob, size_t at = 10) {
    const std::string path = store_->content().BlobPath(blob);
    std::string bytes = archive_test::Slurp(path);
    ASSERT_LT(at, bytes.size());
    bytes[at] = static_cast<char>(~bytes[at]);
    ::chmod(path.c_str(), 0644);
    ASSERT_TRUE(archive_test::WriteTestFile(path, bytes));
  }
  // What the content store says of a blob whose bytes hash to something else.
  std::string Corrupt(const Digest& blob) {
    auto bytes = ReadFile(store_->content().BlobPath(blob));
    return "blob " + blob.str() + " is corrupt: its content hashes to " +
           Digest::Sha256Of(bytes ? *bytes : "").str();
  }
  static bool Mentions(const Lines& lines, const std::string& text) {
    return std::any_of(lines.begin(), lines.end(),
                       [&](const std::string& l) { return l.find(text) != std::string::npos; });
  }
};

TEST_F(FsckTest, ACleanStoreReportsNothing) {
  const std::string l0 = Layer("0", 10), l1 = Layer("1", 20);
  Digest a = Add({.layers = {l0}, .tags = {"x/a:1"}});
  Digest b = Add({.layers = {l0, l1}});
  FsckReport r = Fsck();
  EXPECT_EQ(r.problems, Lines{});
  EXPECT_EQ(r.repairs, Lines{});
  EXPECT_EQ(r.blobs_checked, 4);  // two configs, two layer tars (the shared one once)
  EXPECT_EQ(r.bytes_checked,
            *store_->content().Size(a) + *store_->content().Size(b) + l0.size() + l1.size());
}

TEST_F(FsckTest, AFlippedByteInALayerTarIsReported) {
  const std::string l0 = Layer("0", 10);
  Digest id = Add({.layers = {l0}, .tags = {"x/a:1"}});
  const Digest diff = Digest::Sha256Of(l0);  // also the chainID of a bottom layer
  Flip(diff);
  FsckReport r = Fsck();
  EXPECT_EQ(r.problems, (Lines{"layer " + diff.str() + ": " + Corrupt(diff),
                               "image " + id.str() + ": layer " + diff.str() + " is damaged"}));
  EXPECT_TRUE(r.repairs.empty());
  EXPECT_TRUE(Exists(id));  // reported, not repaired
}

TEST_F(FsckTest, AFlippedByteInAConfigIsReported) {
  Digest id = Add({.layers = {Layer("0", 10)}, .tags = {"x/a:1"}});
  Flip(id);
  EXPECT_EQ(Fsck().problems, Lines{"image " + id.str() + " config: " + Corrupt(id)});
}

TEST_F(FsckTest, MissingBlobsAreReported) {
  const std::string l0 = Layer("0", 10);
  Digest id = Add({.layers = {l0}});
  const Digest diff = Digest::Sha256Of(l0);
  ASSERT_TRUE(store_->content().Delete(diff));
  FsckReport r = Fsck();
  ASSERT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.problems[0].rfind("layer " + diff.str() + ": ", 0), 0u) << r.problems[0];
  EXPECT_NE(r.problems[0].find(diff.str(), 10), std::string::npos) << r.problems[0];
  EXPECT_EQ(r.problems[1], "image " + id.str() + ": layer " + diff.str() + " is damaged");

  ASSERT_TRUE(store_->content().Delete(id));
  EXPECT_TRUE(Mentions(Fsck().problems,
                       "image " + id.str() + " config: blob " + id.str() + " not found in store"));
}

TEST_F(FsckTest, ALayerKeptOnlyCompressedIsCheckedThroughItsBlob) {
  const std::string l0 = Layer("0", 10);
  Digest id = Add({.layers = {l0}});
  const Digest diff = Digest::Sha256Of(l0);
  StringWriter out;
  GzipWriter gz(out);
  ASSERT_TRUE(gz.Write(l0.data(), l0.size()));
  ASSERT_TRUE(gz.Close());
  const Digest blob = *store_->content().Put(out.out);
  ASSERT_TRUE(store_->metadata().AddLayerBlob(
      {diff, blob, "application/vnd.oci.image.layer.v1.tar+gzip", int64_t(out.out.size())}));
  ASSERT_TRUE(store_->content().Delete(diff));  // as a pull keeps it
  FsckReport clean = Fsck();
  EXPECT_EQ(clean.problems, Lines{});
  EXPECT_EQ(clean.blobs_checked, 3);  // config, the tar through the blob, the blob itself

  Flip(blob, out.out.size() / 2);
  FsckReport r = Fsck();
  EXPECT_TRUE(Mentions(r.problems, "layer " + diff.str() + ": "))
      << testing::PrintToString(r.problems);
  EXPECT_TRUE(Mentions(r.problems, "image " + id.str() + ": layer " + diff.str() + " is damaged"));
}

TEST_F(FsckTest, AReferenceToAMissingImageIsReportedAndRepaired) {
  const Digest absent = Digest::Sha256Of("no such config");
  Ref("x/ghost:1", absent);
  FsckReport r = Fsck();
  EXPECT_EQ(r.problems,
            Lines{"reference docker.io/x/ghost:1 points to missing image " + absent.str()});
  FsckReport repaired = Fsck(/*repair=*/true);
  EXPECT_EQ(repaired.repairs, Lines{"removed reference docker.io/x/ghost:1"});
  EXPECT_EQ(RefCount(), 0u);
  EXPECT_EQ(Fsck().problems, Lines{});
}

TEST_F(FsckTest, RepairRemovesTheDamagedImageAndWhatOnlyItUsed) {
  const std::string shared = Layer("shared", 10), own = Layer("own", 20);
  Digest keep = Add({.layers = {shared}, .tags = {"x/keep:1"}});
  Digest bad = Add({.layers = {shared, own}, .tags = {"x/bad:1", "x/bad:2"}});
  const std::vector<Digest> diff_ids{Digest::Sha256Of(shared), Digest::Sha256Of(own)};
  const Digest bad_chain = ChainIds(diff_ids)[1];
  Flip(Digest::Sha256Of(own));

  FsckReport r = Fsck(/*repair=*/true);
  EXPECT_EQ(r.problems.size(), 2u);
  EXPECT_EQ(r.repairs, (Lines{"removed damaged image " + bad.str() +
                                  " (x/bad:1, x/bad:2); to get it back: re-load it from the "
                                  "archive it came from (strata load -i FILE)",
                              "removed damaged layer " + bad_chain.str()}));
  EXPECT_FALSE(Exists(bad));
  EXPECT_TRUE(Tags(bad).empty());
  EXPECT_FALSE(store_->content().Exists(Digest::Sha256Of(own)));
  EXPECT_FALSE(store_->content().Exists(bad));  // its config went with gc
  EXPECT_TRUE(Exists(keep));
  EXPECT_EQ(Tags(keep), Lines{"docker.io/x/keep:1"});
  FsckReport after = Fsck();
  EXPECT_EQ(after.problems, Lines{});
  EXPECT_EQ(after.blobs_checked, 2);
}

TEST_F(FsckTest, RepairSaysWhereToPullAnImageFrom) {
  Digest id = Add({.layers = {Layer("0", 10)}, .tags = {"x/a:1"}});
  ASSERT_TRUE(store_->metadata().AddBlobSource(
      {.digest = id, .registry = "docker.io", .repository = "x/a"}));
  Flip(id);
  FsckReport r = Fsck(/*repair=*/true);
  ASSERT_FALSE(r.repairs.empty());
  EXPECT_EQ(r.repairs[0],
            "removed damaged image " + id.str() + " (x/a:1); to get it back: strata pull x/a:1");
  EXPECT_EQ(ImageCount(), 0u);
  EXPECT_EQ(LayerCount(), 0u);  // no image uses the layer any more: gc took it
  EXPECT_TRUE(store_->content().List()->empty());
}

// Without --repair nothing is removed; with it, gc takes what nothing references (fsck.h says
// the check lists such files, but the report has no such list today).
TEST_F(FsckTest, RepairRemovesUnreferencedFilesTheCheckLeaves) {
  Digest id = Add({.layers = {Layer("0", 10)}, .tags = {"x/a:1"}});
  const Digest stray = *store_->content().Put("nothing names this");
  ASSERT_TRUE(MakeDirs(root() + "/snapshots/leftover", 0700));
  EXPECT_EQ(Fsck().problems, Lines{});
  EXPECT_TRUE(store_->content().Exists(stray));
  EXPECT_TRUE(PathExists(root() + "/snapshots/leftover"));
  FsckReport r = Fsck(/*repair=*/true);
  EXPECT_EQ(r.problems, Lines{});
  EXPECT_FALSE(store_->content().Exists(stray));
  EXPECT_FALSE(PathExists(root() + "/snapshots/leftover"));
  EXPECT_TRUE(Exists(id));
}

TEST_F(FsckTest, ALayerWhoseParentIsMissingIsReported) {
  const std::string l0 = Layer("0", 1), l1 = Layer("1", 1);
  Digest id = Add({.layers = {l0, l1}});
  const std::vector<Digest> diff_ids{Digest::Sha256Of(l0), Digest::Sha256Of(l1)};
  const std::vector<Digest> chain = ChainIds(diff_ids);
  ASSERT_TRUE(store_->metadata().DeleteLayer(chain[0]));
  FsckReport r = Fsck();
  EXPECT_EQ(r.problems,
            (Lines{"layer " + chain[1].str() + ": parent layer " + chain[0].str() + " is missing",
                   "image " + id.str() + ": layer " + chain[0].str() + " is missing",
                   "image " + id.str() + ": layer " + chain[1].str() + " is damaged"}));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
