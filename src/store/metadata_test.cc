#include "store/metadata.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "util/file.h"

namespace strata {
namespace STRATA_UNITY_ID {

class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-md-" + RandomHexId().substr(0, 8));
    std::filesystem::create_directories(dir_);
    auto m = Metadata::Open(dir_ / "strata.db");
    ASSERT_TRUE(m) << m.error().message;
    md_.emplace(std::move(*m));
  }
  void TearDown() override {
    md_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::optional<Metadata> md_;
};

TEST_F(MetadataTest, RolledBackTransactionLeavesNothing) {
  Digest id = Digest::Sha256Of("config");
  {
    auto tx = md_->Begin();
    ASSERT_TRUE(tx);
    ASSERT_TRUE(md_->PutImage(
        {.id = id, .parent = {}, .top_layer = {}, .added_at = 1, .last_tag_time = {}}));
    // no Commit: destructor rolls back
  }
  EXPECT_FALSE(md_->GetImage(id)->has_value());
}

TEST_F(MetadataTest, ImagesParentsAndRefs) {
  Digest parent = Digest::Sha256Of("p");
  Digest child = Digest::Sha256Of("c");
  auto tx = md_->Begin();
  ASSERT_TRUE(tx);
  ASSERT_TRUE(md_->PutImage({parent, {}, {}, 1, {}}));
  ASSERT_TRUE(md_->PutImage({child, parent, {}, 2, {}}));
  ASSERT_TRUE(md_->PutRef({"docker.io/library/x:latest", "docker.io/library/x", false, child}));
  ASSERT_TRUE(tx->Commit());

  auto kids = md_->Children(parent);
  ASSERT_TRUE(kids);
  ASSERT_EQ(kids->size(), 1u);
  EXPECT_EQ((*kids)[0], child);
  auto found = md_->FindImagesByPrefix(child.hex().substr(0, 5));
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(md_->RefsForImage(child)->at(0).name, "docker.io/library/x:latest");

  ASSERT_TRUE(md_->DeleteImage(parent));
  EXPECT_FALSE(md_->GetImage(child)->value().parent.has_value());
}

TEST_F(MetadataTest, LayersAreKeyedByChainId) {
  Digest diff = Digest::Sha256Of("tar");
  LayerRecord l{.chain_id = diff,
                .diff_id = diff,
                .parent = {},
                .size = 10,
                .tar_size = 1024,
                .cache_id = "abc",
                .unpacked = false};
  ASSERT_TRUE(md_->PutLayer(l));
  ASSERT_TRUE(md_->PutLayer(l));  // idempotent
  ASSERT_EQ(md_->ListLayers()->size(), 1u);
  ASSERT_TRUE(md_->SetLayerUnpacked(diff, true));
  auto got = md_->GetLayer(diff);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE((*got)->unpacked);
  EXPECT_EQ((*got)->size, 10);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata

namespace strata {
namespace STRATA_UNITY_ID {

// --- Layout versions and domains -------------------------------------------------------------

// The schema every release wrote before domains (layout 1), verbatim: images and registry
// tables made together by store/metadata.cc.
constexpr const char* kLayout1Schema = R"sql(
CREATE TABLE layers(chain_id TEXT PRIMARY KEY, diff_id TEXT NOT NULL, parent TEXT,
  size INTEGER NOT NULL, tar_size INTEGER NOT NULL, cache_id TEXT NOT NULL UNIQUE,
  unpacked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX layers_diff ON layers(diff_id);
CREATE TABLE layer_blobs(diff_id TEXT NOT NULL, digest TEXT NOT NULL, media_type TEXT NOT NULL,
  size INTEGER NOT NULL, PRIMARY KEY(diff_id, digest));
CREATE TABLE images(id TEXT PRIMARY KEY, parent TEXT, top_layer TEXT, added_at INTEGER NOT NULL,
  last_tag_time TEXT);
CREATE INDEX images_parent ON images(parent);
CREATE TABLE refs(name TEXT PRIMARY KEY, repository TEXT NOT NULL, is_digest INTEGER NOT NULL,
  image_id TEXT NOT NULL);
CREATE INDEX refs_image ON refs(image_id);
CREATE TABLE image_manifests(image_id TEXT NOT NULL, manifest_digest TEXT NOT NULL,
  media_type TEXT NOT NULL, PRIMARY KEY(image_id, manifest_digest));
CREATE TABLE blob_sources(digest TEXT NOT NULL, registry TEXT NOT NULL, repository TEXT NOT NULL,
  PRIMARY KEY(digest, registry, repository));
CREATE TABLE registry_blobs(repository TEXT NOT NULL, digest TEXT NOT NULL,
  added_at INTEGER NOT NULL, PRIMARY KEY(repository, digest)) WITHOUT ROWID;
CREATE TABLE registry_manifests(repository TEXT NOT NULL, digest TEXT NOT NULL,
  media_type TEXT NOT NULL, size INTEGER NOT NULL, subject TEXT, artifact_type TEXT,
  annotations TEXT, added_at INTEGER NOT NULL, PRIMARY KEY(repository, digest)) WITHOUT ROWID;
CREATE INDEX registry_manifests_subject ON registry_manifests(repository, subject);
CREATE TABLE registry_tags(repository TEXT NOT NULL, tag TEXT NOT NULL, digest TEXT NOT NULL,
  PRIMARY KEY(repository, tag)) WITHOUT ROWID;
PRAGMA user_version = 1;
)sql";

class MetadataLayoutTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-mdl-" + RandomHexId().substr(0, 8));
    std::filesystem::create_directories(dir_);
    path_ = (dir_ / "strata.db").string();
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  // Runs raw SQL on the database file, as another release would have written it.
  void Raw(const std::string& sql) {
    auto db = Database::Open(path_);
    ASSERT_TRUE(db) << db.error().message;
    auto st = db->Exec(sql);
    ASSERT_TRUE(st) << st.error().message;
  }
  std::filesystem::path dir_;
  std::string path_;
};

const Digest kImage = Digest::Sha256Of("config");
const Digest kRegistryBlob = Digest::Sha256Of("registry layer");
const Digest kRegistryManifest = Digest::Sha256Of("registry manifest");

TEST_F(MetadataLayoutTest, NewStoreIsCurrentLayoutWithImagesDomainOnly) {
  auto md = Metadata::Open(path_);
  ASSERT_TRUE(md) << md.error().message;
  EXPECT_EQ(*md->LayoutVersion(), kMetadataVersion);
  EXPECT_EQ(*md->DomainVersion("images"), 2);
  EXPECT_EQ(*md->DomainVersion("registry"), 0);  // created by the registry's own code
  EXPECT_TRUE(md->DomainGcRoots()->empty());
  EXPECT_TRUE(md->DomainSnapshotRoots()->empty());
}

TEST_F(MetadataLayoutTest, Layout1StoreIsUpgradedInPlaceKeepingRowsAndRegistryRoots) {
  Raw(kLayout1Schema);
  Raw("INSERT INTO images(id, added_at) VALUES('" + kImage.str() +
      "', 7);"
      "INSERT INTO refs VALUES('docker.io/library/a:1', 'docker.io/library/a', 0, '" +
      kImage.str() + "');" + "INSERT INTO layers VALUES('" + kImage.str() + "', '" + kImage.str() +
      "', NULL, 1, 1, 'oldcache', 1);" + "INSERT INTO registry_blobs VALUES('lib/app', '" +
      kRegistryBlob.str() + "', 1);" +
      "INSERT INTO registry_manifests(repository, digest, media_type, size, added_at) "
      "VALUES('lib/app', '" +
      kRegistryManifest.str() + "', 'application/vnd.oci.image.manifest.v1+json', 9, 1);");
  {  // Read-only: nothing is written, and the registry's blobs are still roots.
    auto ro = Metadata::OpenReadOnly(path_);
    ASSERT_TRUE(ro) << ro.error().message;
    EXPECT_EQ(*ro->LayoutVersion(), 1);
    auto roots = ro->DomainGcRoots();
    ASSERT_TRUE(roots) << roots.error().message;
    EXPECT_EQ(roots->size(), 2u);
  }
  auto md = Metadata::Open(path_);
  ASSERT_TRUE(md) << md.error().message;
  EXPECT_EQ(*md->LayoutVersion(), 2);
  EXPECT_EQ(*md->DomainVersion("images"), 2);
  EXPECT_EQ(*md->DomainVersion("registry"), 2);
  // images step 2: what layout 1 unpacked (layers/<cache-id>, naive form) is not a snapshot.
  auto layers = md->ListLayers();
  ASSERT_TRUE(layers && layers->size() == 1u);
  EXPECT_FALSE((*layers)[0].unpacked);
  EXPECT_TRUE(md->DomainSnapshotRoots()->empty());
  ASSERT_TRUE(md->SetLayerUnpacked(kImage, true));
  auto snapshot_roots = md->DomainSnapshotRoots();
  ASSERT_TRUE(snapshot_roots && snapshot_roots->size() == 1u);
  EXPECT_EQ((*snapshot_roots)[0].domain, "images");
  EXPECT_EQ((*snapshot_roots)[0].id, "oldcache");
  auto image = md->GetImage(kImage);
  ASSERT_TRUE(image && image->has_value());
  EXPECT_EQ((*image)->added_at, 7);
  auto ref = md->GetRef("docker.io/library/a:1");
  ASSERT_TRUE(ref && ref->has_value());
  EXPECT_EQ((*ref)->image_id, kImage);
  auto roots = md->DomainGcRoots();
  ASSERT_TRUE(roots) << roots.error().message;
  std::set<Digest> digests;
  for (const auto& r : *roots) {
    EXPECT_EQ(r.domain, "registry");
    digests.insert(r.digest);
  }
  EXPECT_EQ(digests, (std::set<Digest>{kRegistryBlob, kRegistryManifest}));
}

TEST_F(MetadataLayoutTest, NewerLayoutIsRefusedEvenReadOnly) {
  Raw(std::string(kLayout1Schema) + "PRAGMA user_version = 3;");
  auto md = Metadata::Open(path_);
  ASSERT_FALSE(md);
  EXPECT_NE(md.error().message.find("layout version 3, newer than this strata"), std::string::npos)
      << md.error().message;
  auto ro = Metadata::OpenReadOnly(path_);
  ASSERT_FALSE(ro);
  EXPECT_NE(ro.error().message.find("newer"), std::string::npos);
  auto db = Database::Open(path_);
  auto s = db->Prepare("PRAGMA user_version");
  ASSERT_TRUE(s && *s->Step());
  EXPECT_EQ(s->Int(0), 3);
}

TEST_F(MetadataLayoutTest, DomainStepsRunOnceInOrderAndRootsComeFromItsView) {
  auto md = Metadata::Open(path_);
  ASSERT_TRUE(md);
  SchemaDomain things{"things", {"CREATE TABLE things(digest TEXT NOT NULL);"}};
  auto db = md->OpenDomain(things);
  ASSERT_TRUE(db) << db.error().message;
  EXPECT_EQ(*md->DomainVersion("things"), 1);
  ASSERT_TRUE((*db)->Exec("INSERT INTO things VALUES('" + kRegistryBlob.str() + "')"));
  EXPECT_TRUE(md->DomainGcRoots()->empty());  // no view yet: keeps nothing alive
  // A later release appends a step that adds the view; opening again runs only that step.
  things.steps.push_back("CREATE VIEW gc_roots_things(digest) AS SELECT digest FROM things;");
  ASSERT_TRUE(md->OpenDomain(things));
  EXPECT_EQ(*md->DomainVersion("things"), 2);
  ASSERT_TRUE(md->OpenDomain(things));  // idempotent: step 1 would fail if run again
  auto roots = md->DomainGcRoots();
  ASSERT_TRUE(roots);
  ASSERT_EQ(roots->size(), 1u);
  EXPECT_EQ((*roots)[0].domain, "things");
  EXPECT_EQ((*roots)[0].digest, kRegistryBlob);
  // An older release, knowing one step, refuses the newer tables instead of misusing them.
  SchemaDomain old_things{"things", {things.steps[0]}};
  auto refused = md->OpenDomain(old_things);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("newer than this strata"), std::string::npos);
}

TEST_F(MetadataLayoutTest, FailedStepLeavesDomainAtItsVersion) {
  auto md = Metadata::Open(path_);
  ASSERT_TRUE(md);
  SchemaDomain bad{"bad", {"CREATE TABLE bad1(x); CREATE TABLE bad1(x);"}};
  auto db = md->OpenDomain(bad);
  ASSERT_FALSE(db);
  EXPECT_NE(db.error().message.find("upgrading the bad tables to version 1"), std::string::npos);
  EXPECT_EQ(*md->DomainVersion("bad"), 0);
  SchemaDomain good{"bad", {"CREATE TABLE bad1(x);"}};
  EXPECT_TRUE(md->OpenDomain(good));  // the half-run step was rolled back
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
