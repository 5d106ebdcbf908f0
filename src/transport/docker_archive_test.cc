// Load/save/delete/fsck through a real store in a temporary directory, on archives built here.
#include <gtest/gtest.h>
#include <sys/time.h>

#include <filesystem>
#include <nlohmann/json.hpp>

#include "archive/compression.h"
#include "archive/tar_reader.h"
#include "archive/test_util.h"
#include "image/chain_id.h"
#include "store/fsck.h"
#include "store/image_delete.h"
#include "store/image_lookup.h"
#include "store/image_views.h"
#include "transport/docker_archive_load.h"
#include "transport/docker_archive_save.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TarBuilder;
using archive_test::TempDir;

std::string Layer(const std::string& file, const std::string& content) {
  TarBuilder b;
  b.Dir("d/").File("d/" + file, content).Symlink("/d/" + file, "link");
  return b.Build();
}

std::string Config(const std::vector<std::string>& layers, const std::string& tag_note) {
  nlohmann::ordered_json diff_ids = nlohmann::ordered_json::array();
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (const std::string& l : layers) {
    diff_ids.push_back(Digest::Sha256Of(l).str());
    history.push_back({{"created", "2024-01-02T03:04:05Z"}, {"created_by", "step " + tag_note}});
  }
  history.push_back({{"created", "2024-01-02T03:04:06Z"},
                     {"created_by", "/bin/sh -c #(nop)  CMD [\"sh\"]"},
                     {"empty_layer", true}});
  nlohmann::ordered_json c = {{"architecture", "amd64"},
                              {"config", {{"Cmd", {"sh"}}}},
                              {"created", "2024-01-02T03:04:06Z"},
                              {"history", history},
                              {"os", "linux"},
                              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  return c.dump();
}

// A Docker 20.10-style archive: <n>/layer.tar per layer, <id>.json, manifest.json.
std::string Archive(const std::vector<std::string>& layers, const std::string& config,
                    const std::string& tag, bool truncate_manifest = false) {
  TarBuilder b;
  nlohmann::json layer_names = nlohmann::json::array();
  for (size_t i = 0; i < layers.size(); ++i) {
    std::string dir = "l" + std::to_string(i);
    b.Dir(dir + "/").File(dir + "/layer.tar", layers[i]);
    layer_names.push_back(dir + "/layer.tar");
  }
  std::string id = Digest::Sha256Of(config).hex();
  b.File(id + ".json", config);
  nlohmann::json manifest = nlohmann::json::array(
      {{{"Config", id + ".json"}, {"RepoTags", {tag}}, {"Layers", layer_names}}});
  std::string m = manifest.dump();
  if (truncate_manifest) m = m.substr(0, m.size() / 2);
  b.File("manifest.json", m);
  return b.Build();
}

class DockerArchiveTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_ / "store");
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  Result<LoadReport> Load(const std::string& bytes) {
    StringReader r(bytes);
    return LoadDockerArchive(*store_, r);
  }
  std::vector<std::string> Files() { return archive_test::StoreFiles(dir_.path() + "/store"); }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(DockerArchiveTest, LoadRecordsImageLayersAndTag) {
  std::string l0 = Layer("a", "hello\n"), l1 = Layer("b", "world!\n");
  std::string config = Config({l0, l1}, "x");
  const int64_t commits_before = store_->metadata().commits();
  auto report = Load(Archive({l0, l1}, config, "example/app:1"));
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(store_->metadata().commits() - commits_before, 1);  // the whole load
  ASSERT_EQ(report->images.size(), 1u);
  EXPECT_EQ(report->images[0].id, Digest::Sha256Of(config));
  EXPECT_EQ(report->images[0].tags, std::vector<std::string>{"example/app:1"});

  auto id = ResolveImage(*store_, "example/app:1");
  ASSERT_TRUE(id);
  EXPECT_EQ(*id, Digest::Sha256Of(config));
  EXPECT_EQ(*ResolveImage(*store_, id->hex().substr(0, 8)), *id);
  auto chain = ChainIds(std::vector<Digest>{Digest::Sha256Of(l0), Digest::Sha256Of(l1)});
  auto top = store_->metadata().GetLayer(chain[1]);
  ASSERT_TRUE(top && top->has_value());
  EXPECT_EQ((*top)->parent, chain[0]);
  // DiffSize: 6 bytes of file + 4 bytes of symlink target "/d/a".
  auto history = ImageHistory(*store_, *id);
  ASSERT_TRUE(history);
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].size, 0);
  EXPECT_EQ((*history)[1].size, 7 + 4);
  EXPECT_EQ((*history)[2].size, 6 + 4);
  EXPECT_TRUE((*history)[0].id.has_value());
  EXPECT_FALSE((*history)[1].id.has_value());  // "<missing>": no local parent
  EXPECT_TRUE(CheckStore(*store_, false)->problems.empty());
}

TEST_F(DockerArchiveTest, CompressedLayerGetsUncompressedDiffId) {
  std::string l0 = Layer("a", "compressed please\n");
  StringWriter gz;
  GzipWriter w(gz);
  ASSERT_TRUE(w.Write(l0.data(), l0.size()));
  ASSERT_TRUE(w.Close());
  std::string config = Config({l0}, "gz");
  ASSERT_TRUE(Load(Archive({gz.out}, config, "gz:1")));
  EXPECT_TRUE(store_->content().Exists(Digest::Sha256Of(l0)));
}

TEST_F(DockerArchiveTest, BadInputLeavesStoreUnchanged) {
  std::string l0 = Layer("a", "good\n");
  ASSERT_TRUE(Load(Archive({l0}, Config({l0}, "good"), "good:1")));
  auto before = Files();

  std::string other = Layer("a", "evil\n");
  auto mismatch = Load(Archive({other}, Config({l0}, "mismatch"), "bad:1"));
  ASSERT_FALSE(mismatch);
  EXPECT_NE(mismatch.error().message.find("invalid diffID for layer 0"), std::string::npos);

  std::string whole = Archive({other}, Config({other}, "t"), "bad:2");
  auto truncated = Load(whole.substr(0, 700));
  ASSERT_FALSE(truncated);
  EXPECT_NE(truncated.error().message.find("unexpected end"), std::string::npos);

  auto bad_json = Load(Archive({other}, Config({other}, "j"), "bad:3", true));
  ASSERT_FALSE(bad_json);
  EXPECT_NE(bad_json.error().message.find("manifest.json"), std::string::npos);

  TarBuilder hostile;
  hostile.File("../../etc/evil", "x");
  std::string h = hostile.Build();
  auto escape = Load(Archive({h}, Config({h}, "h"), "bad:4"));
  ASSERT_FALSE(escape);
  EXPECT_NE(escape.error().message.find("escapes the root"), std::string::npos);

  std::string no_rootfs = R"({"architecture":"amd64","os":"linux"})";
  TarBuilder b;
  b.File("c.json", no_rootfs).File("manifest.json", R"([{"Config":"c.json","Layers":[]}])");
  auto norootfs = Load(b.Build());
  ASSERT_FALSE(norootfs);
  EXPECT_NE(norootfs.error().message.find("RootFS"), std::string::npos);

  EXPECT_EQ(Files(), before);
  EXPECT_EQ(store_->metadata().ListImages()->size(), 1u);
  EXPECT_FALSE(ResolveImage(*store_, "bad:1"));
}

TEST_F(DockerArchiveTest, LoadsDocker25OciBasedLayout) {
  // Docker 25+: blobs/sha256/<hex> for config and uncompressed layers, manifest.json naming them,
  // plus index.json/oci-layout (ignored by the docker-archive loader).
  std::string l0 = Layer("a", "oci layout\n");
  std::string config = Config({l0}, "oci");
  std::string cid = Digest::Sha256Of(config).hex(), lid = Digest::Sha256Of(l0).hex();
  TarBuilder b;
  b.Dir("blobs/").Dir("blobs/sha256/");
  b.File("blobs/sha256/" + cid, config).File("blobs/sha256/" + lid, l0);
  b.File("index.json", R"({"schemaVersion":2,"manifests":[]})");
  b.File("manifest.json", R"([{"Config":"blobs/sha256/)" + cid +
                              R"(","RepoTags":["oci:1"],"Layers":["blobs/sha256/)" + lid +
                              R"("]}])");
  b.File("oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
  auto report = Load(b.Build());
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->images[0].id.hex(), cid);
  EXPECT_EQ(*ResolveImage(*store_, "oci:1"), report->images[0].id);
}

TEST_F(DockerArchiveTest, RefusesWritesThroughTheLayersOwnSymlink) {
  TarBuilder hostile;
  hostile.Symlink("/etc", "x").File("x/passwd", "owned");
  std::string h = hostile.Build();
  auto report = Load(Archive({h}, Config({h}, "s"), "bad:5"));
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("is a symlink"), std::string::npos);

  TarBuilder absolute;
  absolute.File("/etc/evil", "x");
  std::string a = absolute.Build();
  auto abs = Load(Archive({a}, Config({a}, "a"), "bad:6"));
  ASSERT_FALSE(abs);
  EXPECT_NE(abs.error().message.find("absolute path"), std::string::npos);
  EXPECT_TRUE(Files().empty());
}

TEST_F(DockerArchiveTest, LoadWithUnpackExtractsEachLayerOnce) {
  std::string l0 = Layer("a", "base\n");
  TarBuilder upper;
  upper.Whiteout("d/a").File("top", "upper\n");
  std::string l1 = upper.Build();
  std::string config = Config({l0, l1}, "unpack");
  StringReader in(Archive({l0, l1}, config, "unpack:1"));
  auto report = LoadDockerArchive(*store_, in, LoadOptions{.unpack = true, .progress = nullptr});
  ASSERT_TRUE(report) << report.error().message;
  auto layers = store_->metadata().ListLayers();
  ASSERT_EQ(layers->size(), 2u);
  for (const LayerRecord& l : *layers) {
    EXPECT_TRUE(l.unpacked);
    std::string dir = store_->snapshots().FilesDir(l.cache_id);
    if (l.diff_id == Digest::Sha256Of(l0)) {
      EXPECT_EQ(archive_test::Slurp(dir + "/d/a"), "base\n");
    } else {
      EXPECT_EQ(archive_test::Slurp(dir + "/top"), "upper\n");
    }
  }
  // Nothing half-done is left beside the layer directories.
  size_t entries = 0;
  for (auto& e : std::filesystem::directory_iterator(dir_.path() + "/store/snapshots")) {
    EXPECT_FALSE(e.path().string().ends_with(".staging"));
    ++entries;
  }
  EXPECT_EQ(entries, 2u);
}

TEST_F(DockerArchiveTest, GcKeepsManifestsOfLiveImagesOnly) {
  std::string l0 = Layer("a", "manifested\n");
  std::string config = Config({l0}, "m");
  ASSERT_TRUE(Load(Archive({l0}, config, "m:1")));
  Digest id = Digest::Sha256Of(config);
  auto manifest = store_->content().Put(R"({"schemaVersion":2})");
  ASSERT_TRUE(manifest);
  ASSERT_TRUE(store_->metadata().AddImageManifest(
      {.image_id = id,
       .digest = *manifest,
       .media_type = "application/vnd.oci.image.manifest.v1+json"}));
  {
    auto lock = store_->LockExclusive();
    ASSERT_TRUE(CollectGarbage(*store_));
  }
  EXPECT_TRUE(store_->content().Exists(*manifest));
  ASSERT_TRUE(RemoveImage(*store_, "m:1", false));
  EXPECT_FALSE(store_->content().Exists(*manifest));
  EXPECT_TRUE(store_->metadata().ListImageManifests()->empty());
}

TEST_F(DockerArchiveTest, GcReportsWhatItReclaimsFromIngestAndLayersAndKeepsRecentPartials) {
  const std::string root = dir_.path() + "/store";
  // An abandoned unpack, a temporary file and a partial download of a day ago, a fresh partial.
  ASSERT_TRUE(MakeDirs(root + "/snapshots/abc.staging/d"));
  ASSERT_TRUE(WriteFileAtomic(root + "/snapshots/abc.staging/d/f", std::string(1000, 'u')));
  ASSERT_TRUE(WriteFileAtomic(root + "/ingest/0123456789ab", std::string(200, 't')));
  const std::string old_partial = root + "/ingest/partial-sha256-" + std::string(64, 'a');
  const std::string new_partial = root + "/ingest/partial-sha256-" + std::string(64, 'b');
  ASSERT_TRUE(WriteFileAtomic(old_partial, std::string(30, 'p')));
  ASSERT_TRUE(WriteFileAtomic(new_partial, std::string(4, 'n')));
  const time_t day_ago = ::time(nullptr) - kPartialKeepSeconds - 10;
  struct timeval times[2] = {{day_ago, 0}, {day_ago, 0}};
  ASSERT_EQ(::utimes((root + "/ingest/0123456789ab").c_str(), times), 0);
  ASSERT_EQ(::utimes(old_partial.c_str(), times), 0);
  auto lock = store_->LockExclusive();
  auto report = CollectGarbage(*store_);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->reclaimed_bytes, 1000 + 200 + 30);
  EXPECT_FALSE(PathExists(old_partial));
  EXPECT_TRUE(PathExists(new_partial));  // a repeated pull may still continue it
  EXPECT_FALSE(PathExists(root + "/snapshots/abc.staging"));
}

TEST_F(DockerArchiveTest, SaveThenLoadGivesSameImage) {
  std::string l0 = Layer("a", "one\n");
  std::string config = Config({l0, l0}, "twice");  // the same layer twice: one layer.tar + link
  ASSERT_TRUE(Load(Archive({l0, l0}, config, "twice:1")));
  auto requests = ResolveSaveArguments(*store_, {"twice"});
  ASSERT_TRUE(requests);
  ASSERT_EQ(requests->size(), 1u);
  StringWriter out;
  ASSERT_TRUE(SaveDockerArchive(*store_, *requests, out));

  // Docker 20.10's layout, in Go's walk order, with the repeated layer as a symlink.
  StringReader in(out.out);
  TarReader tar(in);
  std::vector<std::string> names;
  int symlinks = 0;
  std::string manifest;
  for (;;) {
    auto e = tar.Next();
    ASSERT_TRUE(e);
    if (!*e) break;
    names.push_back((*e)->name);
    symlinks += (*e)->type == TarType::kSymlink;
    if ((*e)->name == "manifest.json") {
      manifest.resize(static_cast<size_t>((*e)->size));
      ASSERT_TRUE(ReadFull(tar.content(), manifest.data(), manifest.size(), "manifest"));
    }
  }
  EXPECT_EQ(symlinks, 1);
  ASSERT_EQ(names.size(), 2u * 4 + 1 + 2);
  EXPECT_EQ(names.back(), "repositories");
  EXPECT_EQ(names[names.size() - 2], "manifest.json");
  EXPECT_TRUE(std::is_sorted(names.begin(), names.end() - 2));  // Go walk order
  EXPECT_NE(std::find(names.begin(), names.end(), Digest::Sha256Of(config).hex() + ".json"),
            names.end());
  EXPECT_EQ(manifest.back(), '\n');
  EXPECT_NE(manifest.find("\"RepoTags\":[\"twice:1\"]"), std::string::npos);

  TempDir other;
  auto second = Store::Open(other.path());
  ASSERT_TRUE(second);
  StringReader again(out.out);
  auto report = LoadDockerArchive(**second, again);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->images[0].id, Digest::Sha256Of(config));
}

TEST_F(DockerArchiveTest, SaveOfADamagedLayerFailsNamingImageLayerAndFsck) {
  std::string l0 = Layer("a", std::string(50000, 'z'));
  std::string config = Config({l0}, "damaged");
  ASSERT_TRUE(Load(Archive({l0}, config, "damaged:1")));
  const Digest diff_id = Digest::Sha256Of(l0);
  std::string path = store_->content().BlobPath(diff_id);
  std::string bytes = archive_test::Slurp(path);
  bytes[bytes.size() / 2] ^= 0x20;
  ASSERT_TRUE(WriteFileAtomic(path, bytes));
  auto requests = ResolveSaveArguments(*store_, {"damaged:1"});
  ASSERT_TRUE(requests);
  StringWriter out;
  auto saved = SaveDockerArchive(*store_, *requests, out);
  ASSERT_FALSE(saved);
  const std::string& msg = saved.error().message;
  EXPECT_NE(msg.find("damaged:1"), std::string::npos) << msg;
  EXPECT_NE(msg.find("layer " + diff_id.str()), std::string::npos) << msg;
  EXPECT_NE(msg.find("strata fsck"), std::string::npos) << msg;
  // The layer's last bytes never reached the output.
  EXPECT_LT(out.out.size(), l0.size() + 2048);
}

TEST_F(DockerArchiveTest, FsckRepairNamesEachRemovedImageAndHowToGetItBack) {
  std::string shared = Layer("s", "shared\n");
  std::string a = Config({shared}, "a"), b = Config({shared, Layer("b", "b\n")}, "b");
  ASSERT_TRUE(Load(Archive({shared}, a, "first:1")));
  ASSERT_TRUE(Load(Archive({shared, Layer("b", "b\n")}, b, "second:2")));
  std::string path = store_->content().BlobPath(Digest::Sha256Of(shared));
  std::string bytes = archive_test::Slurp(path);
  bytes[10] ^= 0x01;
  ASSERT_TRUE(WriteFileAtomic(path, bytes));
  auto report = CheckStore(*store_, /*repair=*/true);
  ASSERT_TRUE(report) << report.error().message;
  std::string all;
  for (const std::string& r : report->repairs) all += r + "\n";
  for (const auto& [config, tag] :
       std::vector<std::pair<std::string, std::string>>{{a, "first:1"}, {b, "second:2"}}) {
    const std::string line = "removed damaged image " + Digest::Sha256Of(config).str() + " (" +
                             tag + "); to get it back: re-load it from the archive";
    EXPECT_NE(all.find(line), std::string::npos) << all;
  }
}

TEST_F(DockerArchiveTest, RmiUntagsThenDeletesAndCollects) {
  std::string l0 = Layer("a", "rm me\n");
  std::string config = Config({l0}, "rm");
  ASSERT_TRUE(Load(Archive({l0}, config, "rm:1")));
  Digest id = Digest::Sha256Of(config);
  Metadata& md = store_->metadata();
  auto second = ParseDockerRef("rm:2");
  ASSERT_TRUE(md.PutRef({second->String(), second->Name(), false, id}));

  auto untag = RemoveImage(*store_, "rm:1", false);
  ASSERT_TRUE(untag) << untag.error().message;
  EXPECT_EQ(untag->lines, std::vector<std::string>{"Untagged: rm:1"});
  EXPECT_TRUE(store_->content().Exists(id));

  auto removed = RemoveImage(*store_, "rm:2", false);
  ASSERT_TRUE(removed) << removed.error().message;
  EXPECT_EQ(removed->lines, (std::vector<std::string>{"Untagged: rm:2", "Deleted: " + id.str(),
                                                      "Deleted: " + Digest::Sha256Of(l0).str()}));
  EXPECT_FALSE(store_->content().Exists(id));
  EXPECT_FALSE(store_->content().Exists(Digest::Sha256Of(l0)));
  EXPECT_TRUE(Files().empty());
  EXPECT_FALSE(RemoveImage(*store_, "rm:2", false));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
