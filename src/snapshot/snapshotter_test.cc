#include "snapshot/snapshotter.h"

#include <gtest/gtest.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "archive/test_util.h"
#include "archive/unpack.h"
#include "util/file.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::Slurp;
using archive_test::TarBuilder;
using archive_test::TempDir;
using archive_test::WriteTestFile;

using Strings = std::vector<std::string>;

class SnapshotterTest : public ::testing::Test {
 protected:
  void SetUp() override { ASSERT_TRUE(MakeDirs(dir(), 0700)); }
  std::string dir() const { return tmp_ / "snapshots"; }

  // A committed snapshot `id` holding `files` (name -> content).
  void Committed(const std::string& id,
                 const std::vector<std::pair<std::string, std::string>>& files) {
    const std::string staging = snapshots_.NewStagingDir();
    ASSERT_TRUE(MakeDirs(staging, 0755));
    for (const auto& [name, content] : files) {
      ASSERT_TRUE(MakeDirs(staging + "/" + name.substr(0, name.rfind('/') + 1), 0755));
      ASSERT_TRUE(WriteTestFile(staging + "/" + name, content, 0644));
    }
    ASSERT_TRUE(snapshots_.CommitStaged(staging, id));
  }

  // A committed snapshot `id` unpacked from `layer` in the overlay form.
  void Unpacked(const std::string& id, TarBuilder& layer) {
    const std::string staging = snapshots_.NewStagingDir();
    ASSERT_TRUE(MakeDirs(staging, 0755));
    std::string tar = layer.Build();
    StringReader in(tar);
    TarReader reader(in);
    UnpackOptions options;
    options.whiteouts = WhiteoutForm::kOverlay;
    auto stats = UnpackLayer(reader, staging, options);
    ASSERT_TRUE(stats) << stats.error().message;
    ASSERT_TRUE(snapshots_.CommitStaged(staging, id));
  }

  Strings Ids() {
    Strings out;
    auto list = snapshots_.List();
    EXPECT_TRUE(list) << list.error().message;
    if (list) {
      for (const SnapshotInfo& info : *list) {
        out.push_back(info.id + (info.kind == SnapshotKind::kActive ? " active" : ""));
      }
    }
    return out;
  }

  TempDir tmp_;
  Snapshotter snapshots_{tmp_ / "snapshots"};
};

TEST_F(SnapshotterTest, IdsNameOneDirectoryBelowTheRoot) {
  for (const char* bad : {"", ".", "..", "a/b", "../x", "x.staging", "a b", "a:b", "a,b"}) {
    auto st = Snapshotter::CheckId(bad);
    ASSERT_FALSE(st) << bad;
    EXPECT_TRUE(IsInvalidArgument(st.error())) << bad;
    EXPECT_TRUE(IsInvalidArgument(snapshots_.Remove(bad).error())) << bad;
  }
  EXPECT_TRUE(Snapshotter::CheckId(std::string(64, 'f')));
  EXPECT_FALSE(Snapshotter::CheckId(std::string(129, 'f')));
  EXPECT_TRUE(Snapshotter::CheckId("container-1_a"));
}

TEST_F(SnapshotterTest, CommitStagedMovesAnUnpackIntoPlaceAndReplaces) {
  Committed("layer1", {{"etc/os", "one"}});
  EXPECT_EQ(Slurp(snapshots_.FilesDir("layer1") + "/etc/os"), "one");
  Committed("layer1", {{"etc/os", "two"}});
  EXPECT_EQ(Slurp(snapshots_.FilesDir("layer1") + "/etc/os"), "two");
  EXPECT_EQ(*ListDirectory(dir()), Strings{"layer1"});  // no staging directory left
  EXPECT_EQ(Ids(), Strings{"layer1"});
  EXPECT_TRUE(snapshots_.Exists("layer1"));
  EXPECT_FALSE(snapshots_.Exists("layer2"));
  // Only a staging directory of this snapshotter is taken.
  ASSERT_TRUE(MakeDirs(tmp_ / "elsewhere.staging", 0755));
  EXPECT_FALSE(snapshots_.CommitStaged(tmp_ / "elsewhere.staging", "x"));
  EXPECT_TRUE(PathExists(tmp_ / "elsewhere.staging"));
}

TEST_F(SnapshotterTest, ViewOfOneLayerIsABindMountOfSeveralAnOverlay) {
  Committed("base", {{"a", "a"}});
  Committed("top", {{"b", "b"}});
  auto one = snapshots_.View({"base"});
  ASSERT_TRUE(one) << one.error().message;
  ASSERT_EQ(one->size(), 1u);
  EXPECT_EQ((*one)[0].type, "bind");
  EXPECT_EQ((*one)[0].source, snapshots_.FilesDir("base"));
  EXPECT_EQ((*one)[0].OptionsString(), "ro,rbind");
  auto two = snapshots_.View({"top", "base"});
  ASSERT_TRUE(two) << two.error().message;
  EXPECT_EQ((*two)[0].type, "overlay");
  EXPECT_EQ((*two)[0].OptionsString(),
            "ro,lowerdir=" + snapshots_.FilesDir("top") + ":" + snapshots_.FilesDir("base"));
  EXPECT_TRUE(IsInvalidArgument(snapshots_.View({}).error()));
  EXPECT_TRUE(IsNotFound(snapshots_.View({"top", "missing"}).error()));
}

TEST_F(SnapshotterTest, PrepareMakesAWritableLayerThatCommitTurnsIntoALower) {
  Committed("base", {{"a", "a"}});
  auto mounts = snapshots_.Prepare("ctr", {"base"});
  ASSERT_TRUE(mounts) << mounts.error().message;
  ASSERT_EQ(mounts->size(), 1u);
  EXPECT_EQ((*mounts)[0].type, "overlay");
  EXPECT_EQ((*mounts)[0].OptionsString(), "workdir=" + dir() +
                                              "/ctr/work,upperdir=" + snapshots_.FilesDir("ctr") +
                                              ",lowerdir=" + snapshots_.FilesDir("base"));
  EXPECT_EQ(Ids(), (Strings{"base", "ctr active"}));
  EXPECT_TRUE(IsAlreadyExists(snapshots_.Prepare("ctr", {"base"}).error()));
  // An active snapshot is no parent; a missing one is not found.
  EXPECT_TRUE(IsInvalidArgument(snapshots_.Prepare("child", {"ctr"}).error()));
  EXPECT_TRUE(IsNotFound(snapshots_.Prepare("child", {"nothing"}).error()));
  EXPECT_FALSE(PathExists(dir() + "/child"));
  auto again = snapshots_.Mounts("ctr", {"base"});
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)[0].OptionsString(), (*mounts)[0].OptionsString());

  ASSERT_TRUE(snapshots_.Commit("ctr"));
  EXPECT_EQ(Ids(), (Strings{"base", "ctr"}));
  EXPECT_TRUE(IsNotFound(snapshots_.Mounts("ctr", {"base"}).error()));
  EXPECT_TRUE(snapshots_.View({"ctr", "base"}));

  auto alone = snapshots_.Prepare("scratch", {});
  ASSERT_TRUE(alone) << alone.error().message;
  EXPECT_EQ((*alone)[0].type, "bind");
  EXPECT_EQ((*alone)[0].OptionsString(), "rbind,rw");
  ASSERT_TRUE(snapshots_.Remove("scratch"));
  ASSERT_TRUE(snapshots_.Remove("scratch"));  // already gone: not an error
  EXPECT_EQ(Ids(), (Strings{"base", "ctr"}));
}

TEST_F(SnapshotterTest, UsageCountsBytesAndInodesOnce) {
  Committed("l", {{"d/a", "12345"}, {"b", "123"}});
  ASSERT_EQ(
      ::link((snapshots_.FilesDir("l") + "/b").c_str(), (snapshots_.FilesDir("l") + "/c").c_str()),
      0);
  auto usage = snapshots_.Usage("l");
  ASSERT_TRUE(usage) << usage.error().message;
  EXPECT_EQ(usage->bytes, 8);
  EXPECT_EQ(usage->inodes, 4);  // fs, d, d/a, b (= c)
  EXPECT_TRUE(IsNotFound(snapshots_.Usage("none").error()));
}

TEST_F(SnapshotterTest, RemoveAllExceptKeepsOnlyWhatIsNamed) {
  Committed("kept", {{"f", "1"}});
  Committed("other", {{"f", "22"}});
  ASSERT_TRUE(snapshots_.Prepare("ctr", {"kept"}));
  const std::string leftover = snapshots_.NewStagingDir();
  ASSERT_TRUE(MakeDirs(leftover, 0755));
  ASSERT_TRUE(WriteTestFile(leftover + "/x", "4444", 0644));
  auto reclaimed = snapshots_.RemoveAllExcept({"kept", "ctr"});
  ASSERT_TRUE(reclaimed) << reclaimed.error().message;
  EXPECT_EQ(*reclaimed, 6);
  EXPECT_EQ(*ListDirectory(dir()), (Strings{"ctr", "kept"}));
}

// Really mounts a stack of two overlay-form layers (root only): the upper layer's whiteout hides
// a file, its opaque directory hides the lower's contents, and writes land in the active layer.
TEST_F(SnapshotterTest, MountedStackShowsWhiteoutsAndOpaqueDirectories) {
  if (::geteuid() != 0) GTEST_SKIP() << "mounting needs root";
  TarBuilder base;
  base.Dir("etc").File("etc/keep", "keep").File("etc/gone", "gone");
  base.Dir("opaque").File("opaque/old", "old");
  Unpacked("base", base);
  TarBuilder top;
  top.Dir("etc").Whiteout("etc/gone").Dir("opaque").Opaque("opaque").File("opaque/new", "new");
  Unpacked("top", top);
  auto mounts = snapshots_.Prepare("ctr", {"top", "base"});
  ASSERT_TRUE(mounts) << mounts.error().message;
  const std::string target = tmp_ / "rootfs";
  ASSERT_TRUE(MakeDirs(target, 0755));
  const Mount& m = (*mounts)[0];
  if (::mount(m.source.c_str(), target.c_str(), m.type.c_str(), 0, m.OptionsString().c_str()) !=
      0) {
    GTEST_SKIP() << "mount overlay: " << std::strerror(errno);
  }
  EXPECT_EQ(Slurp(target + "/etc/keep"), "keep");
  EXPECT_FALSE(PathExists(target + "/etc/gone"));
  EXPECT_EQ(*ListDirectory(target + "/opaque"), Strings{"new"});
  EXPECT_TRUE(WriteTestFile(target + "/written", "w", 0644));
  EXPECT_EQ(::umount(target.c_str()), 0) << std::strerror(errno);
  EXPECT_EQ(Slurp(snapshots_.FilesDir("ctr") + "/written"), "w");
  EXPECT_FALSE(PathExists(snapshots_.FilesDir("base") + "/written"));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
