#include "migrate/migration.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <mutex>

#include "archive/compression.h"
#include "archive/tar_writer.h"
#include "image/chain_id.h"
#include "migrate/tar_split.h"
#include "migrate/v1_image_config.h"
#include "store/image_commit.h"
#include "util/file.h"

namespace strata {
namespace STRATA_UNITY_ID {

struct File {
  std::string name;  // "dir/" for a directory
  std::string content;
};

// A layer tar of regular files and directories (and .wh. whiteouts, which are empty files).
std::string LayerTar(const std::vector<File>& files) {
  StringWriter out;
  TarWriter tar(out);
  for (const File& f : files) {
    TarEntry e;
    e.name = f.name;
    const bool dir = f.name.ends_with("/");
    e.type = dir ? TarType::kDirectory : TarType::kRegular;
    e.mode = dir ? 0755 : 0644;
    e.size = static_cast<int64_t>(f.content.size());
    EXPECT_TRUE(tar.WriteHeader(e));
    if (!f.content.empty()) {
      EXPECT_TRUE(tar.WriteContent(f.content.data(), f.content.size()));
    }
  }
  EXPECT_TRUE(tar.Close());
  return out.out;
}

void WriteFiles(const std::string& dir, const std::vector<File>& files) {
  ASSERT_TRUE(MakeDirs(dir));
  for (const File& f : files) {
    if (f.name.ends_with("/")) {
      ASSERT_TRUE(MakeDirs(dir + "/" + f.name));
    } else {
      ASSERT_TRUE(WriteFileAtomic(dir + "/" + f.name, f.content));
    }
  }
}

void WriteTarSplit(const std::string& path, const std::string& tar) {
  auto entries = DisassembleTar(tar);
  ASSERT_TRUE(entries);
  std::string lines;
  for (size_t i = 0; i < entries->size(); ++i) {
    lines += MarshalTarSplitLine((*entries)[i], static_cast<int64_t>(i)) + "\n";
  }
  StringWriter gz;
  GzipWriter writer(gz);
  ASSERT_TRUE(writer.Write(lines.data(), lines.size()));
  ASSERT_TRUE(writer.Close());
  ASSERT_TRUE(WriteFileAtomic(path, gz.out));
}

std::string Config(const std::vector<Digest>& diff_ids, const std::string& cmd) {
  std::string ids;
  for (const Digest& d : diff_ids) ids += (ids.empty() ? "\"" : ",\"") + d.str() + "\"";
  return R"({"architecture":"amd64","config":{"Cmd":[")" + cmd +
         R"("]},"created":"2020-01-01T00:00:00Z","os":"linux","rootfs":{"type":"layers","diff_ids":[)" +
         ids + "]}}";
}

class MigrationTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-migrate-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    src_ = dir_ + "/docker";
    auto store = Store::Open(dir_ + "/store");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  // Current layout: layerdb + overlay2 for one layer on top of `parent_chain`; returns its diffID.
  Digest AddCurrentLayer(const std::vector<File>& files, const std::optional<Digest>& parent_chain,
                         Digest* chain_out) {
    const std::string tar = LayerTar(files);
    const Digest diff = Digest::Sha256Of(tar);
    const Digest chain = parent_chain ? ChainIdFromParent(*parent_chain, diff) : diff;
    const std::string cache = RandomHexId();
    const std::string db = src_ + "/image/overlay2/layerdb/sha256/" + chain.hex();
    EXPECT_TRUE(MakeDirs(db));
    EXPECT_TRUE(WriteFileAtomic(db + "/diff", diff.str()));
    EXPECT_TRUE(WriteFileAtomic(db + "/cache-id", cache));
    WriteTarSplit(db + "/tar-split.json.gz", tar);
    WriteFiles(src_ + "/overlay2/" + cache + "/diff", files);
    *chain_out = chain;
    return diff;
  }
  Digest AddCurrentImage(const std::string& config, const std::string& parent = "") {
    const Digest id = Digest::Sha256Of(config);
    const std::string db = src_ + "/image/overlay2/imagedb";
    EXPECT_TRUE(MakeDirs(db + "/content/sha256"));
    EXPECT_TRUE(WriteFileAtomic(db + "/content/sha256/" + id.hex(), config));
    if (!parent.empty()) {
      EXPECT_TRUE(MakeDirs(db + "/metadata/sha256/" + id.hex()));
      EXPECT_TRUE(WriteFileAtomic(db + "/metadata/sha256/" + id.hex() + "/parent", parent));
    }
    return id;
  }

  std::string dir_, src_;
  std::unique_ptr<Store> store_;
};

TEST_F(MigrationTest, CurrentLayoutKeepsIdsTagsAndParents) {
  Digest c1 = *Digest::Parse("sha256:" + std::string(64, '0'));
  Digest c2 = c1;
  const Digest d1 = AddCurrentLayer({{"etc/", ""}, {"etc/passwd", "root\n"}}, std::nullopt, &c1);
  const Digest d2 =
      AddCurrentLayer({{"etc/", ""}, {"etc/.wh.passwd", ""}, {"app", "bin"}}, c1, &c2);
  const Digest base = AddCurrentImage(Config({d1}, "sh"));
  const Digest app = AddCurrentImage(Config({d1, d2}, "app"), base.str());
  ASSERT_TRUE(WriteFileAtomic(src_ + "/image/overlay2/repositories.json",
                              R"({"Repositories":{"busybox":{"busybox:latest":")" + base.str() +
                                  R"("},"me/app":{"me/app:1":")" + app.str() + R"("}}})"));

  const int64_t commits_before = store_->metadata().commits();
  auto report = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(report) << report.error().message;
  // One transaction per image, so that an interrupted migration keeps the images it finished.
  EXPECT_EQ(store_->metadata().commits() - commits_before, 2);
  EXPECT_TRUE(report->failed.empty()) << report->failed[0].reason;
  ASSERT_EQ(report->migrated.size(), 2u);
  EXPECT_EQ(report->layers_read, 2u);
  EXPECT_EQ(report->migrated[0].id, base);  // parents first
  EXPECT_EQ(report->migrated[1].id, app);
  auto ref = store_->metadata().GetRef("docker.io/me/app:1");
  ASSERT_TRUE(ref && *ref);
  EXPECT_EQ((*ref)->image_id, app);
  auto row = store_->metadata().GetImage(app);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->parent, base);
  EXPECT_EQ((*row)->top_layer, c2);
  EXPECT_TRUE(store_->content().Exists(d2));

  // A second run finds everything present and reads nothing.
  auto again = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->layers_read, 0u);
  ASSERT_EQ(again->migrated.size(), 2u);
  EXPECT_TRUE(again->migrated[0].already_present && again->migrated[1].already_present);
}

// An image the store already has (a load, an earlier migrate) keeps its tags and gains the
// data root's; a tag the data root gives it that named another image moves, as on a commit.
TEST_F(MigrationTest, ImageAlreadyPresentGainsTheRootsTags) {
  Digest c1 = *Digest::Parse("sha256:" + std::string(64, '0'));
  const Digest d1 = AddCurrentLayer({{"etc/", ""}, {"etc/passwd", "root\n"}}, std::nullopt, &c1);
  const Digest id = AddCurrentImage(Config({d1}, "sh"));
  const std::string repos = src_ + "/image/overlay2/repositories.json";
  ASSERT_TRUE(WriteFileAtomic(
      repos, R"({"Repositories":{"busybox":{"busybox:latest":")" + id.str() + R"("}}})"));
  auto first = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(first) << first.error().message;
  ASSERT_EQ(first->migrated.size(), 1u);

  // "other:1" names some other image in the store; the data root now gives it to `id`.
  const Digest other = *Digest::Parse("sha256:" + std::string(64, '1'));
  ASSERT_TRUE(store_->metadata().PutImage(
      ImageRecord{.id = other, .parent = {}, .top_layer = {}, .added_at = 0, .last_tag_time = {}}));
  auto other_ref = ParseNormalizedNamed("other:1");
  ASSERT_TRUE(other_ref);
  ASSERT_TRUE(PutReference(store_->metadata(), *other_ref, other));
  ASSERT_TRUE(WriteFileAtomic(repos, R"({"Repositories":{"me/app":{"me/app:2":")" + id.str() +
                                         R"("},"other":{"other:1":")" + id.str() + R"("}}})"));
  auto again = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(again->migrated.size(), 1u);
  EXPECT_TRUE(again->migrated[0].already_present);
  for (const char* tag :
       {"docker.io/library/busybox:latest", "docker.io/me/app:2", "docker.io/library/other:1"}) {
    auto ref = store_->metadata().GetRef(tag);
    ASSERT_TRUE(ref && *ref) << tag << " is missing";
    EXPECT_EQ((*ref)->image_id, id) << tag;
  }
  ASSERT_EQ(again->messages.size(), 1u);
  EXPECT_EQ(again->messages[0], "The image other:1 already exists, renaming the old one with ID " +
                                    other.str() + " to empty string");
}

// Progress bars: every layer read reports its bytes under its diffID's 12 hex digits.
TEST_F(MigrationTest, LayerProgressReportsEveryLayersBytes) {
  Digest c1 = *Digest::Parse("sha256:" + std::string(64, '0'));
  Digest c2 = c1;
  const Digest d1 = AddCurrentLayer({{"etc/", ""}, {"etc/passwd", "root\n"}}, std::nullopt, &c1);
  const Digest d2 = AddCurrentLayer({{"app", std::string(100000, 'x')}}, c1, &c2);
  AddCurrentImage(Config({d1, d2}, "app"));
  std::mutex mu;
  std::map<std::string, uint64_t> last;
  MigrationOptions options;
  options.layer_progress = [&](const std::string& id, uint64_t current, uint64_t total) {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(total, 0u);
    last[id] = current;
  };
  auto report = MigrateDockerRoot(*store_, src_, options);
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(last.size(), 2u);
  auto row = store_->metadata().GetLayer(c2);
  ASSERT_TRUE(row && *row);
  EXPECT_EQ(last[d2.hex().substr(0, 12)], static_cast<uint64_t>((*row)->tar_size));
  EXPECT_GT(last[d1.hex().substr(0, 12)], 0u);
}

TEST_F(MigrationTest, ModifiedLayerFailsItsImagesOnly) {
  Digest c1 = *Digest::Parse("sha256:" + std::string(64, '0'));
  Digest c2 = c1;
  const Digest d1 = AddCurrentLayer({{"a", "one"}}, std::nullopt, &c1);
  const Digest d2 = AddCurrentLayer({{"b", "two"}}, c1, &c2);
  const Digest base = AddCurrentImage(Config({d1}, "sh"));
  const Digest app = AddCurrentImage(Config({d1, d2}, "app"));
  auto cache = ReadFile(src_ + "/image/overlay2/layerdb/sha256/" + c2.hex() + "/cache-id");
  ASSERT_TRUE(cache);
  ASSERT_TRUE(WriteFileAtomic(src_ + "/overlay2/" + *cache + "/diff/b", "TWO"));

  auto report = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->migrated.size(), 1u);
  EXPECT_EQ(report->migrated[0].id, base);
  ASSERT_EQ(report->failed.size(), 1u);
  EXPECT_EQ(report->failed[0].source, app.str());
  EXPECT_NE(report->failed[0].reason.find("checksum failed for"), std::string::npos)
      << report->failed[0].reason;
  auto row = store_->metadata().GetImage(app);
  ASSERT_TRUE(row);
  EXPECT_FALSE(*row);
}

TEST_F(MigrationTest, DryRunChangesNothing) {
  Digest c1 = *Digest::Parse("sha256:" + std::string(64, '0'));
  const Digest d1 = AddCurrentLayer({{"a", "one"}}, std::nullopt, &c1);
  const Digest base = AddCurrentImage(Config({d1}, "sh"));
  MigrationOptions dry;
  dry.dry_run = true;
  auto report = MigrateDockerRoot(*store_, src_, dry);
  ASSERT_TRUE(report);
  EXPECT_TRUE(report->dry_run);
  ASSERT_EQ(report->migrated.size(), 1u);
  EXPECT_EQ(report->migrated[0].id, base);
  EXPECT_EQ(report->layers_read, 1u);  // to read
  auto images = store_->metadata().ListImages();
  ASSERT_TRUE(images);
  EXPECT_TRUE(images->empty());
  EXPECT_FALSE(store_->content().Exists(d1));
}

class LegacyMigrationTest : public MigrationTest {
 protected:
  // graph/<id> with a v1 json and an aufs branch; tar-data when `with_tar_data`.
  Digest AddLegacy(const std::string& id, const std::string& parent, const std::vector<File>& files,
                   bool with_tar_data, const std::string& extra_json = "") {
    const std::string graph = src_ + "/graph/" + id;
    EXPECT_TRUE(MakeDirs(graph));
    std::string json =
        R"({"id":")" + id + "\"" + (parent.empty() ? "" : R"(,"parent":")" + parent + "\"") +
        R"(,"created":"2015-10-31T22:22:54.690851953Z","docker_version":"1.9.1","container_config":{"Cmd":["/bin/sh","-c","step )" +
        id.substr(0, 4) + R"("]},"architecture":"amd64","os":"linux")" + extra_json + "}";
    EXPECT_TRUE(WriteFileAtomic(graph + "/json", json));
    const std::string tar = LayerTar(files);
    if (with_tar_data) WriteTarSplit(graph + "/tar-data.json.gz", tar);
    WriteFiles(src_ + "/aufs/diff/" + id, files);
    return Digest::Sha256Of(tar);
  }
  static std::string Id(char c) { return std::string(64, c); }
};

TEST_F(LegacyMigrationTest, ChainGetsTheIdsOfDockersMigration) {
  const Digest d1 = AddLegacy(Id('a'), "", {{"etc/", ""}, {"etc/os", "legacy\n"}}, true);
  const Digest d2 = AddLegacy(Id('b'), Id('a'), {{"etc/", ""}, {"etc/.wh.os", ""}}, true);
  AddLegacy(Id('c'), Id('a'), {{"x", "sibling"}}, true);
  ASSERT_TRUE(WriteFileAtomic(src_ + "/repositories-aufs",
                              R"({"Repositories":{"old":{"latest":")" + Id('b') + R"("}}})"));
  auto report = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_TRUE(report->failed.empty()) << report->failed[0].reason;
  ASSERT_EQ(report->migrated.size(), 3u);

  auto j1 = ReadFile(src_ + "/graph/" + Id('a') + "/json");
  auto j2 = ReadFile(src_ + "/graph/" + Id('b') + "/json");
  auto c1 = ConfigFromV1Image(*j1, "", d1);
  auto c2 = ConfigFromV1Image(*j2, *c1, d2);
  ASSERT_TRUE(c1 && c2);
  auto ref = store_->metadata().GetRef("docker.io/library/old:latest");
  ASSERT_TRUE(ref && *ref);
  EXPECT_EQ((*ref)->image_id, Digest::Sha256Of(*c2));
  auto row = store_->metadata().GetImage(Digest::Sha256Of(*c2));
  ASSERT_TRUE(row && *row);
  EXPECT_EQ((*row)->parent, Digest::Sha256Of(*c1));
  EXPECT_EQ((*row)->top_layer, ChainIdFromParent(d1, d2));
  EXPECT_TRUE(store_->content().Exists(d2));

  auto again = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(again);
  EXPECT_EQ(again->layers_read, 0u);
  for (const MigratedImage& m : again->migrated) EXPECT_TRUE(m.already_present) << m.source;
}

TEST_F(LegacyMigrationTest, WithoutTarDataTheBranchIsArchived) {
  AddLegacy(Id('a'), "", {{"f", "content"}, {".wh..wh..opq", ""}}, false);
  ASSERT_TRUE(MakeDirs(src_ + "/aufs/diff/" + Id('a') + "/.wh..wh.plnk"));  // aufs metadata
  auto report = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_TRUE(report->failed.empty()) << report->failed[0].reason;
  ASSERT_EQ(report->migrated.size(), 1u);
  EXPECT_EQ(report->layers_read, 1u);
}

TEST_F(LegacyMigrationTest, ProblemsAreReportedPerImage) {
  AddLegacy(Id('a'), "", {{"f", "ok"}}, true);
  AddLegacy(Id('b'), Id('9'), {{"g", "orphan"}}, true);  // parent missing
  AddLegacy(Id('c'), "", {{"h", "bad"}}, true);
  ASSERT_TRUE(WriteFileAtomic(src_ + "/graph/" + Id('c') + "/json", "{broken"));
  AddLegacy(Id('d'), Id('c'), {{"i", "child of bad"}}, true);
  AddLegacy(Id('e'), Id('f'), {{"j", "loop"}}, true);
  AddLegacy(Id('f'), Id('e'), {{"k", "loop"}}, true);
  auto report = MigrateDockerRoot(*store_, src_, {});
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->migrated.size(), 1u);
  EXPECT_EQ(report->migrated[0].source, Id('a'));
  std::map<std::string, std::string> reasons;
  for (const FailedImage& f : report->failed) reasons[f.source] = f.reason;
  ASSERT_EQ(reasons.size(), 5u);
  EXPECT_NE(reasons[Id('b')].find("parent image " + Id('9') + " is missing"), std::string::npos);
  EXPECT_NE(reasons[Id('c')].find("not a JSON object"), std::string::npos) << reasons[Id('c')];
  EXPECT_NE(reasons[Id('d')].find("parent " + Id('c')), std::string::npos) << reasons[Id('d')];
  EXPECT_NE(reasons[Id('e')].find("loops"), std::string::npos) << reasons[Id('e')];
}

TEST_F(MigrationTest, NotADataRoot) {
  ASSERT_TRUE(MakeDirs(src_));
  auto report = MigrateDockerRoot(*store_, src_, {});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("not a Docker data root"), std::string::npos);
  ASSERT_TRUE(MakeDirs(src_ + "/graph"));
  ASSERT_TRUE(MakeDirs(src_ + "/aufs"));
  ASSERT_TRUE(MakeDirs(src_ + "/vfs"));
  report = MigrateDockerRoot(*store_, src_, {});
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("--storage-driver"), std::string::npos);
  MigrationOptions aufs;
  aufs.driver = "aufs";
  EXPECT_TRUE(MigrateDockerRoot(*store_, src_, aufs));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
