// CollectGarbage: what counts as a root (images with their configs, layer chains, compressed
// layer blobs and manifests; the embedded registry's blobs; recent ingest files) and what goes
// (unreferenced blobs, layer rows, unpacked layer directories, old ingest leftovers).
#include <sys/stat.h>
#include <utime.h>

#include <ctime>
#include <filesystem>

#include "archive/compression.h"
#include "image/chain_id.h"
#include "server/local_registry_storage.h"
#include "store/image_delete.h"
#include "store/layer_unpack.h"
#include "store/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::Layer;

std::string Gzip(const std::string& data) {
  StringWriter out;
  GzipWriter w(out);
  EXPECT_TRUE(w.Write(data.data(), data.size()));
  EXPECT_TRUE(w.Close());
  return out.out;
}

class GcTest : public store_test::StoreTest {
 protected:
  DeleteReport Gc() {
    auto lock = store_->LockExclusive();
    EXPECT_TRUE(lock) << lock.error().message;
    auto report = CollectGarbage(*store_);
    EXPECT_TRUE(report) << report.error().message;
    return report ? *report : DeleteReport{};
  }
  std::vector<Digest> Blobs() {
    auto blobs = store_->content().List();
    EXPECT_TRUE(blobs) << blobs.error().message;
    std::vector<Digest> out = blobs ? *blobs : std::vector<Digest>{};
    std::sort(out.begin(), out.end());
    return out;
  }
  static std::vector<Digest> Sorted(std::vector<Digest> v) {
    std::sort(v.begin(), v.end());
    return v;
  }
  // SQL on the embedded registry's tables, through its domain (as the registry's code does).
  void Sql(const std::string& sql) {
    auto db = store_->metadata().OpenDomain(server::RegistryDomain());
    ASSERT_TRUE(db) << db.error().message;
    auto st = (*db)->Exec(sql);
    ASSERT_TRUE(st) << st.error().message;
  }
  // Makes a file look `seconds` old.
  static void Age(const std::string& path, int64_t seconds) {
    const time_t then = std::time(nullptr) - static_cast<time_t>(seconds);
    struct utimbuf times {
      then, then
    };
    ASSERT_EQ(::utime(path.c_str(), &times), 0) << path;
  }
};

TEST_F(GcTest, KeepsEverythingImagesReach) {
  const std::string l0 = Layer("0", 10), l1 = Layer("1", 20);
  Digest a = Add({.layers = {l0}, .tags = {"x/a:1"}});
  Digest b = Add({.layers = {l0, l1}});  // untagged images are live too
  // A compressed form of a live layer and the manifest of a live image.
  const std::string gz = Gzip(l1);
  const Digest gz_digest = *store_->content().Put(gz);
  ASSERT_TRUE(
      store_->metadata().AddLayerBlob({.diff_id = Digest::Sha256Of(l1),
                                       .digest = gz_digest,
                                       .media_type = "application/vnd.oci.image.layer.v1.tar+gzip",
                                       .size = static_cast<int64_t>(gz.size())}));
  const Digest manifest = *store_->content().Put("{\"manifest\":1}");
  ASSERT_TRUE(store_->metadata().AddImageManifest(
      {.image_id = a,
       .digest = manifest,
       .media_type = "application/vnd.oci.image.manifest.v1+json"}));
  const auto files = archive_test::StoreFiles(root());

  DeleteReport r = Gc();
  EXPECT_TRUE(r.lines.empty());
  EXPECT_EQ(r.reclaimed_bytes, 0);
  EXPECT_EQ(archive_test::StoreFiles(root()), files);
  EXPECT_EQ(Blobs(),
            Sorted({a, b, Digest::Sha256Of(l0), Digest::Sha256Of(l1), gz_digest, manifest}));
  EXPECT_EQ(LayerCount(), 2u);
  EXPECT_EQ(store_->metadata().LayerBlobs(Digest::Sha256Of(l1))->size(), 1u);
}

TEST_F(GcTest, RemovesWhatNothingReferences) {
  const std::string l0 = Layer("0", 10), l1 = Layer("1", 20);
  Digest keep = Add({.layers = {l0}, .tags = {"x/keep:1"}});
  Digest gone = Add({.layers = {l0, l1}, .tags = {"x/gone:1"}});
  const std::string gz = Gzip(l1);
  const Digest gz_digest = *store_->content().Put(gz);
  ASSERT_TRUE(
      store_->metadata().AddLayerBlob({.diff_id = Digest::Sha256Of(l1),
                                       .digest = gz_digest,
                                       .media_type = "application/vnd.oci.image.layer.v1.tar+gzip",
                                       .size = static_cast<int64_t>(gz.size())}));
  const Digest manifest = *store_->content().Put("{\"manifest\":2}");
  ASSERT_TRUE(store_->metadata().AddImageManifest(
      {.image_id = gone,
       .digest = manifest,
       .media_type = "application/vnd.oci.image.manifest.v1+json"}));
  const Digest stray = *store_->content().Put("nobody names this");
  // The image goes from the metadata only (what rmi's transaction does before its gc).
  const uint64_t config_size = *store_->content().Size(gone);
  ASSERT_TRUE(store_->metadata().DeleteRef("docker.io/x/gone:1"));
  ASSERT_TRUE(store_->metadata().DeleteImageManifests(gone));
  ASSERT_TRUE(store_->metadata().DeleteImage(gone));
  // A directory no layer names (an interrupted unpack).
  ASSERT_TRUE(MakeDirs(root() + "/snapshots/leftover/sub", 0700));
  ASSERT_TRUE(archive_test::WriteTestFile(root() + "/snapshots/leftover/sub/f", "12345"));

  const std::vector<Digest> diff_ids{Digest::Sha256Of(l0), Digest::Sha256Of(l1)};
  const Digest dead_chain = ChainIds(diff_ids)[1];
  const int64_t expected = static_cast<int64_t>(config_size + l1.size() + gz.size() +
                                                std::string("{\"manifest\":2}").size() +
                                                std::string("nobody names this").size() + 5);
  DeleteReport r = Gc();
  EXPECT_EQ(r.lines, std::vector<std::string>{"Deleted: " + dead_chain.str()});
  EXPECT_EQ(r.removed_layers_size, 20);
  EXPECT_EQ(r.reclaimed_bytes, expected);
  EXPECT_EQ(Blobs(), Sorted({keep, Digest::Sha256Of(l0)}));
  EXPECT_EQ(LayerCount(), 1u);
  EXPECT_TRUE(store_->metadata().LayerBlobs(Digest::Sha256Of(l1))->empty());
  EXPECT_FALSE(PathExists(root() + "/snapshots/leftover"));
  EXPECT_FALSE(store_->content().Exists(stray));
  // A second run finds nothing.
  DeleteReport again = Gc();
  EXPECT_TRUE(again.lines.empty());
  EXPECT_EQ(again.reclaimed_bytes, 0);
}

TEST_F(GcTest, UnpackedLayersStayWhileUsedAndGoWithTheirImage) {
  const std::string l0 = Layer("0", 10), l1 = Layer("1", 20);
  Digest keep = Add({.layers = {l0}, .tags = {"x/keep:1"}});
  Digest gone = Add({.layers = {l0, l1}, .tags = {"x/gone:1"}});
  auto unpacked = UnpackImage(*store_, gone);
  ASSERT_TRUE(unpacked) << unpacked.error().message;
  EXPECT_EQ(unpacked->layers_unpacked, 2);
  auto layers = *store_->metadata().ListLayers();
  ASSERT_EQ(layers.size(), 2u);
  for (const LayerRecord& l : layers) {
    EXPECT_TRUE(l.unpacked);
    EXPECT_TRUE(PathExists(store_->snapshots().FilesDir(l.cache_id)));
  }
  Gc();
  for (const LayerRecord& l : layers)
    EXPECT_TRUE(PathExists(store_->snapshots().FilesDir(l.cache_id)));

  auto removed = RemoveImage(*store_, "x/gone:1", false);  // rmi collects garbage itself
  ASSERT_TRUE(removed) << removed.error().message;
  auto left = *store_->metadata().ListLayers();
  ASSERT_EQ(left.size(), 1u);
  EXPECT_EQ(left[0].diff_id, Digest::Sha256Of(l0));
  for (const LayerRecord& l : layers) {
    EXPECT_EQ(PathExists(store_->snapshots().FilesDir(l.cache_id)), l.cache_id == left[0].cache_id);
  }
  EXPECT_EQ(Blobs(), Sorted({keep, Digest::Sha256Of(l0)}));
}

// Snapshot directories live by the domains' gc_snapshots_* views, not by what gc itself knows: a
// writable layer another domain (here a stand-in for containers) names survives, a directory
// nothing names goes, and so does layers/, where releases before snapshots unpacked.
TEST_F(GcTest, SnapshotsNamedByAnotherDomainSurviveUnnamedOnesGo) {
  Digest id = Add({.layers = {Layer("0", 10)}, .tags = {"x/a:1"}});
  ASSERT_TRUE(UnpackImage(*store_, id));
  const LayerRecord layer = store_->metadata().ListLayers()->at(0);
  ASSERT_TRUE(layer.unpacked);
  auto db = store_->metadata().OpenDomain({"containers", {R"sql(
CREATE TABLE containers(id TEXT PRIMARY KEY, rw_layer TEXT NOT NULL);
CREATE VIEW gc_snapshots_containers(id) AS SELECT rw_layer FROM containers;
)sql"}});
  ASSERT_TRUE(db) << db.error().message;
  ASSERT_TRUE((*db)->Exec("INSERT INTO containers VALUES('c1', 'c1-rw')"));
  Snapshotter& snapshots = store_->snapshots();
  ASSERT_TRUE(snapshots.Prepare("c1-rw", {layer.cache_id}));
  ASSERT_TRUE(archive_test::WriteTestFile(snapshots.FilesDir("c1-rw") + "/written", "123"));
  ASSERT_TRUE(snapshots.Prepare("unnamed", {layer.cache_id}));
  ASSERT_TRUE(archive_test::WriteTestFile(snapshots.FilesDir("unnamed") + "/f", "1234567"));
  ASSERT_TRUE(MakeDirs(root() + "/layers/0123abcd/etc", 0700));
  ASSERT_TRUE(archive_test::WriteTestFile(root() + "/layers/0123abcd/etc/os", "old"));

  auto roots = store_->metadata().DomainSnapshotRoots();
  ASSERT_TRUE(roots) << roots.error().message;
  ASSERT_EQ(roots->size(), 2u);
  EXPECT_EQ((*roots)[0].domain, "containers");
  EXPECT_EQ((*roots)[0].id, "c1-rw");
  EXPECT_EQ((*roots)[1].domain, "images");
  EXPECT_EQ((*roots)[1].id, layer.cache_id);

  DeleteReport r = Gc();
  EXPECT_EQ(r.reclaimed_bytes, 7 + 3);
  EXPECT_TRUE(snapshots.Exists("c1-rw"));
  EXPECT_EQ(archive_test::Slurp(snapshots.FilesDir("c1-rw") + "/written"), "123");
  EXPECT_TRUE(snapshots.Exists(layer.cache_id));
  EXPECT_FALSE(PathExists(snapshots.dir() + "/unnamed"));
  EXPECT_FALSE(PathExists(root() + "/layers"));

  // Once the domain stops naming it, it goes.
  ASSERT_TRUE((*db)->Exec("DELETE FROM containers"));
  Gc();
  EXPECT_FALSE(PathExists(snapshots.dir() + "/c1-rw"));
  EXPECT_TRUE(snapshots.Exists(layer.cache_id));
}

TEST_F(GcTest, RmiReclaimsOnlyWhatTheImageAloneUsed) {
  const std::string shared = Layer("shared", 100), own = Layer("own", 7);
  Digest keep = Add({.layers = {shared}, .tags = {"x/keep:1"}});
  Digest gone = Add({.layers = {shared, own}, .tags = {"x/gone:1"}});
  const uint64_t config_size = *store_->content().Size(gone);
  auto r = RemoveImage(*store_, "x/gone:1", false);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->reclaimed_bytes, static_cast<int64_t>(config_size + own.size()));
  EXPECT_EQ(r->removed_layers_size, 7);
  EXPECT_EQ(Blobs(), Sorted({keep, Digest::Sha256Of(shared)}));
}

TEST_F(GcTest, TheEmbeddedRegistrysBlobsAreRoots) {
  const Digest blob = *store_->content().Put("registry layer");
  const Digest manifest = *store_->content().Put("registry manifest");
  Sql("INSERT INTO registry_blobs(repository, digest, added_at) VALUES('r/a', '" + blob.str() +
      "', 1)");
  Sql("INSERT INTO registry_manifests(repository, digest, media_type, size, added_at) "
      "VALUES('r/a', '" +
      manifest.str() + "', 'application/vnd.oci.image.manifest.v1+json', 17, 1)");
  Gc();
  EXPECT_EQ(Blobs(), Sorted({blob, manifest}));
  Sql("DELETE FROM registry_blobs");
  Sql("DELETE FROM registry_manifests");
  Gc();
  EXPECT_TRUE(Blobs().empty());
}

// Where a blob was pulled from is a hint for push, not a reason to keep the blob.
TEST_F(GcTest, BlobSourcesAreNotRoots) {
  const Digest blob = *store_->content().Put("pulled once");
  ASSERT_TRUE(store_->metadata().AddBlobSource(
      {.digest = blob, .registry = "docker.io", .repository = "library/busybox"}));
  Gc();
  EXPECT_FALSE(store_->content().Exists(blob));
}

TEST_F(GcTest, IngestKeepsRecentFilesAndPartialDownloads) {
  const std::string ingest = root() + "/ingest/";
  const std::string fresh_partial = store_->content().PartialPath(Digest::Sha256Of("p1"));
  const std::string old_partial = store_->content().PartialPath(Digest::Sha256Of("p2"));
  const std::string fresh_temp = ingest + "tmp-fresh";
  const std::string old_temp = ingest + "tmp-old";
  for (const std::string& p : {fresh_partial, old_partial, fresh_temp, old_temp}) {
    ASSERT_TRUE(archive_test::WriteTestFile(p, "0123456789")) << p;
  }
  Age(fresh_partial, kIngestKeepSeconds + 60);  // older than a temp file may be, still kept
  Age(old_partial, kPartialKeepSeconds + 60);
  Age(old_temp, kIngestKeepSeconds + 60);
  DeleteReport r = Gc();
  EXPECT_TRUE(PathExists(fresh_partial));
  EXPECT_TRUE(PathExists(fresh_temp));
  EXPECT_FALSE(PathExists(old_partial));
  EXPECT_FALSE(PathExists(old_temp));
  EXPECT_EQ(r.reclaimed_bytes, 20);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
