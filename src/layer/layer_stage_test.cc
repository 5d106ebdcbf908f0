#include "layer/layer_stage.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <algorithm>
#include <cerrno>
#include <string>
#include <thread>

#include "archive/test_util.h"
#include "content/content_store.h"
#include "digest/digest.h"
#include "util/io.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TarBuilder;
using archive_test::TempDir;

class LayerStageTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = ContentStore::Open(dir_ / "store");
    ASSERT_TRUE(s) << s.error().message;
    store_.emplace(std::move(*s));
  }

  // Stages `tar` on a thread of its own (as a pull does) and returns how much that thread's
  // nice value rose while staging.
  int NiceRiseWhileStaging(const std::string& tar, const StageOptions& options) {
    int rise = -100;
    std::thread([&] {
      errno = 0;
      const int before = ::getpriority(PRIO_PROCESS, 0);
      StringReader input(tar);
      auto staged = StageLayer(*store_, input, options);
      EXPECT_TRUE(staged) << staged.error().message;
      if (staged) {
        EXPECT_EQ(staged->diff_id, Digest::Sha256Of(tar));
      }
      rise = ::getpriority(PRIO_PROCESS, 0) - before;
    }).join();
    return rise;
  }

  TempDir dir_;
  std::optional<ContentStore> store_;
};

// 20 MiB in two files: past the point where a layer is judged, and far below 16 entries per MiB.
std::string FewLargeFiles() {
  TarBuilder b;
  b.Dir("data/")
      .File("data/a", std::string(10 << 20, 'a'))
      .File("data/b", std::string(10 << 20, 'b'));
  return b.Build();
}

// 20 MiB in 5,120 files of 4 KiB: 256 entries per MiB.
std::string ManySmallFiles() {
  TarBuilder b;
  b.Dir("many/");
  for (int i = 0; i < 5120; ++i) b.File("many/f" + std::to_string(i), std::string(4096, 'x'));
  return b.Build();
}

TEST_F(LayerStageTest, StagesUnpacksAndMeasuresInOnePass) {
  TarBuilder b;
  b.Dir("etc/").File("etc/hosts", "127.0.0.1 localhost\n").Symlink("hosts", "etc/alias");
  const std::string tar = b.Build();
  StageOptions options;
  options.unpack_dir = dir_ / "unpacked";
  StringReader input(tar);
  auto staged = StageLayer(*store_, input, options);
  ASSERT_TRUE(staged) << staged.error().message;
  EXPECT_EQ(staged->diff_id, Digest::Sha256Of(tar));
  EXPECT_EQ(staged->tar_size, tar.size());
  EXPECT_EQ(staged->compression, "none");
  ASSERT_TRUE(CommitStagedLayer(*store_, *staged));
  EXPECT_TRUE(store_->Exists(Digest::Sha256Of(tar)));
  struct stat st;
  ASSERT_EQ(::stat((dir_ / "unpacked/etc/hosts").c_str(), &st), 0);
  EXPECT_EQ(st.st_size, 20);
}

TEST_F(LayerStageTest, RefusesAnEntryThatEscapesTheRootAndLeavesNoDirectory) {
  TarBuilder b;
  b.File("../outside", "x");
  const std::string tar = b.Build();
  StageOptions options;
  options.unpack_dir = dir_ / "unpacked";
  StringReader input(tar);
  auto staged = StageLayer(*store_, input, options);
  ASSERT_FALSE(staged);
  EXPECT_NE(staged.error().message.find("escapes the root"), std::string::npos)
      << staged.error().message;
  struct stat st;
  EXPECT_NE(::stat((dir_ / "unpacked").c_str(), &st), 0);
}

TEST_F(LayerStageTest, ALayerOfFewLargeFilesYieldsTheCpu) {
  StageOptions options;
  options.unpack_dir = dir_ / "few";
  options.store_tar = false;
  options.yield_if_cheap = true;
  // Up to nice 19, the lowest priority (a test run under `nice -n 19` has no room to rise).
  errno = 0;
  const int now = ::getpriority(PRIO_PROCESS, 0);
  EXPECT_EQ(NiceRiseWhileStaging(FewLargeFiles(), options), std::min(now + 5, 19) - now);
}

TEST_F(LayerStageTest, ALayerOfManySmallFilesKeepsItsPriority) {
  StageOptions options;
  options.unpack_dir = dir_ / "many";
  options.store_tar = false;
  options.yield_if_cheap = true;
  EXPECT_EQ(NiceRiseWhileStaging(ManySmallFiles(), options), 0);
}

TEST_F(LayerStageTest, YieldingIsOnlyOnRequestAndOnlyWhenUnpacking) {
  StageOptions options;
  options.unpack_dir = dir_ / "few";
  options.store_tar = false;
  EXPECT_EQ(NiceRiseWhileStaging(FewLargeFiles(), options), 0);
  StageOptions no_unpack;
  no_unpack.store_tar = false;
  no_unpack.yield_if_cheap = true;
  EXPECT_EQ(NiceRiseWhileStaging(FewLargeFiles(), no_unpack), 0);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
