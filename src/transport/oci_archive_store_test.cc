#include "transport/oci_archive_store.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <nlohmann/json.hpp>
#include <thread>

#include "archive/tar_reader.h"
#include "store/image_lookup.h"
#include "transport/oci_archive.h"
#include "transport/transport_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TempDir;
using transport_test::MakeImage;
using transport_test::TestImage;

// Tar members by name.
std::map<std::string, std::string> Members(const std::string& tar_bytes) {
  StringReader in(tar_bytes);
  TarReader tar(in);
  std::map<std::string, std::string> out;
  for (;;) {
    auto e = tar.Next();
    if (!e || !*e) break;
    std::string content(static_cast<size_t>((*e)->content_size()), '\0');
    (void)ReadFull(tar.content(), content.data(), content.size(), "member");
    out[(*e)->name] = content;
  }
  return out;
}

// An OCI archive of `image` with one index entry per annotation set.
std::string Archive(const TestImage& image,
                    const std::vector<std::map<std::string, std::string>>& entries) {
  StringWriter out;
  OciArchiveWriter writer(out);
  auto add = [&](const std::string& bytes) {
    StringReader r(bytes);
    (void)writer.AddBlob({"x", Digest::Sha256Of(bytes), static_cast<int64_t>(bytes.size())}, r);
  };
  for (const std::string& b : image.blobs) add(b);
  add(image.config);
  auto d = writer.AddManifest({image.manifest, image.manifest_media_type, false});
  for (const auto& annotations : entries) (void)writer.AddIndexEntry(*d, annotations, false);
  (void)writer.Close();
  return out.out;
}

class OciArchiveStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_ / "store");
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }
  Result<LoadReport> Load(const std::string& bytes) {
    StringReader r(bytes);
    return LoadOciArchive(*store_, r);
  }
  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(OciArchiveStoreTest, LoadTagsFromAnnotations) {
  TestImage image = MakeImage(true, "load");
  auto report = Load(Archive(image, {{{"io.containerd.image.name", "docker.io/library/a:1"},
                                      {std::string(kRefNameAnnotation), "1"}},
                                     {{std::string(kRefNameAnnotation), "example.com/b:2"}},
                                     {{std::string(kRefNameAnnotation), "latest"}}}));
  ASSERT_TRUE(report) << report.error().message;
  ASSERT_EQ(report->images.size(), 1u);  // one manifest, three entries
  EXPECT_EQ(report->images[0].id, image.id());
  EXPECT_EQ(report->images[0].tags, (std::vector<std::string>{"a:1", "example.com/b:2"}));
  EXPECT_EQ(*ResolveImage(*store_, "example.com/b:2"), image.id());
  EXPECT_EQ(store_->metadata().ImageManifests(image.id())->at(0).digest, image.manifest_digest());

  TestImage untagged = MakeImage(false, "untagged");
  auto bare = Load(Archive(untagged, {{}}));
  ASSERT_TRUE(bare);
  EXPECT_EQ(bare->images[0].id, untagged.id());
  EXPECT_TRUE(bare->images[0].tags.empty());
}

TEST_F(OciArchiveStoreTest, BadArchiveLoadsNothing) {
  TestImage good = MakeImage(true, "good"), bad = MakeImage(true, "bad");
  std::string archive = Archive(good, {{{"io.containerd.image.name", "good:1"}}});
  // Corrupt the last layer blob's bytes inside the archive.
  std::string needle = bad.blobs[1];
  std::string evil = Archive(bad, {{{"io.containerd.image.name", "bad:1"}}});
  size_t at = evil.find(needle);
  ASSERT_NE(at, std::string::npos);
  evil[at + needle.size() / 2] ^= 0x20;
  auto report = Load(evil);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find("layer blob " + Digest::Sha256Of(needle).str()),
            std::string::npos)
      << report.error().message;
  EXPECT_EQ(report.error().code, ErrorCode::kCorrupt);  // kept through the scratch path's rewrite
  EXPECT_TRUE(store_->metadata().ListImages()->empty());
  EXPECT_TRUE(store_->content().List()->empty());
  ASSERT_TRUE(Load(archive));
}

TEST_F(OciArchiveStoreTest, SaveWritesDocker25StyleArchive) {
  TestImage image = MakeImage(true, "save");
  ASSERT_TRUE(Load(Archive(image, {{{"io.containerd.image.name", "x/app:1"}}})));
  auto requests = ResolveSaveArguments(*store_, {"x/app"});
  ASSERT_TRUE(requests);
  StringWriter out;
  ASSERT_TRUE(SaveOciArchive(*store_, *requests, out));
  auto members = Members(out.out);
  EXPECT_EQ(members["oci-layout"], R"({"imageLayoutVersion": "1.0.0"})");
  auto entries = ParseIndex(members["index.json"]);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].descriptor.digest, image.manifest_digest());  // the recorded manifest
  EXPECT_EQ((*entries)[0].annotations.at("io.containerd.image.name"), "docker.io/x/app:1");
  EXPECT_EQ((*entries)[0].annotations.at(std::string(kRefNameAnnotation)), "1");
  EXPECT_EQ(members["manifest.json"], R"([{"Config":"blobs/sha256/)" + image.id().hex() +
                                          R"(","RepoTags":["x/app:1"],)"
                                          R"("Layers":["blobs/sha256/)" +
                                          Digest::Sha256Of(image.blobs[0]).hex() +
                                          R"(","blobs/sha256/)" +
                                          Digest::Sha256Of(image.blobs[1]).hex() + "\"]}]\n");
  EXPECT_EQ(members["blobs/sha256/" + image.id().hex()], image.config);

  // docker load reads it too (manifest.json), giving the same image.
  TempDir other;
  auto second = Store::Open(other / "s");
  ASSERT_TRUE(second);
  StringReader in(out.out);
  auto loaded = LoadDockerArchive(**second, in);
  ASSERT_TRUE(loaded) << loaded.error().message;
  EXPECT_EQ(loaded->images[0].id, image.id());
  EXPECT_EQ(loaded->images[0].tags, std::vector<std::string>{"x/app:1"});
}

// Writes `bytes` into a pipe from another thread; the read end is for the test.
class PipeFeeder {
 public:
  explicit PipeFeeder(std::string bytes) : bytes_(std::move(bytes)) {
    int fds[2];
    EXPECT_EQ(::pipe(fds), 0);
    read_ = fds[0];
    write_ = fds[1];
    thread_ = std::thread([this] {
      FdWriter out(write_, "pipe");
      (void)out.Write(bytes_.data(), bytes_.size());  // fails once the reader closes: fine
      ::close(write_);
    });
  }
  ~PipeFeeder() {
    ::close(read_);
    thread_.join();
  }
  int fd() const { return read_; }

 private:
  std::string bytes_;
  int read_ = -1, write_ = -1;
  std::thread thread_;
};

// `load` from a stream (cat x.tar | strata load): an OCI archive is recognised although it can
// be told apart only at its end, gzip-compressed too; a docker-archive still streams; a file is
// classified from its headers.
TEST_F(OciArchiveStoreTest, LoadArchiveFdReadsStreamsOfEitherFormat) {
  ::signal(SIGPIPE, SIG_IGN);
  TestImage image = MakeImage(true, "pipe");
  const std::string oci = Archive(image, {{{"io.containerd.image.name", "example.com/p:1"}}});
  {
    PipeFeeder pipe(oci);
    auto report = LoadArchiveFd(*store_, pipe.fd(), "stdin");
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->images.size(), 1u);
    EXPECT_EQ(report->images[0].id, image.id());
    EXPECT_EQ(report->images[0].tags, std::vector<std::string>{"example.com/p:1"});
  }
  TestImage other = MakeImage(false, "gz");
  {
    PipeFeeder pipe(transport_test::Gzip(Archive(other, {{}})));
    auto report = LoadArchiveFd(*store_, pipe.fd(), "stdin");
    ASSERT_TRUE(report) << report.error().message;
    ASSERT_EQ(report->images.size(), 1u);
    EXPECT_EQ(report->images[0].id, other.id());
  }
  // A file given as the descriptor (strata load < x.tar), read from its current offset.
  const std::string path = dir_ / "x.tar";
  transport_test::Put(path, oci);
  auto fd = OpenRead(path);
  ASSERT_TRUE(fd);
  auto from_file = LoadArchiveFd(*store_, fd->get(), path);
  ASSERT_TRUE(from_file) << from_file.error().message;
  EXPECT_EQ(from_file->images[0].id, image.id());
  // A gzip'd file.
  transport_test::Put(dir_ / "x.tar.gz", transport_test::Gzip(Archive(other, {{}})));
  auto gz = OpenRead(dir_ / "x.tar.gz");
  ASSERT_TRUE(gz);
  auto from_gz = LoadArchiveFd(*store_, gz->get(), dir_ / "x.tar.gz");
  ASSERT_TRUE(from_gz) << from_gz.error().message;
  EXPECT_EQ(from_gz->images[0].id, other.id());
  // A docker-archive from a stream: what `save` wrote.
  std::vector<SaveRequest> requests{{image.id(), {}}};
  StringWriter saved;
  ASSERT_TRUE(SaveDockerArchive(*store_, requests, saved));
  PipeFeeder pipe(saved.out);
  auto docker = LoadArchiveFd(*store_, pipe.fd(), "stdin");
  ASSERT_TRUE(docker) << docker.error().message;
  EXPECT_EQ(docker->images[0].id, image.id());
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
