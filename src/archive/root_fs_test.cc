#include "archive/root_fs.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <string>

#include "archive/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TempDir;

class RootFsTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    root_ = tmp_ / "root";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((tmp_ / "outside").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root_ + "/b").c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((root_ + "/outside").c_str(), 0755), 0);
    ASSERT_EQ(::symlink("/b", (root_ + "/abs").c_str()), 0);
    ASSERT_EQ(::symlink("../../../../b", (root_ + "/rel").c_str()), 0);
    ASSERT_EQ(::symlink("..", (root_ + "/up").c_str()), 0);
    ASSERT_EQ(::symlink("loop", (root_ + "/loop").c_str()), 0);
    ASSERT_EQ(::symlink("/nowhere", (root_ + "/dangling").c_str()), 0);
    ASSERT_EQ(::symlink((tmp_.path() + "/outside").c_str(), (root_ + "/host").c_str()), 0);
    ASSERT_TRUE(archive_test::WriteTestFile(root_ + "/file", "f"));
    auto fs = RootFs::Open(root_, GetParam());
    ASSERT_TRUE(fs) << fs.error().message;
    fs_.emplace(std::move(*fs));
  }

  // The inode the descriptor for `rel` points at, or -errno.
  long long InodeOf(const std::string& rel) {
    UniqueFd fd;
    int err = fs_->OpenDir(rel, &fd);
    if (err != 0) return -err;
    struct stat st;
    EXPECT_EQ(::fstat(fd.get(), &st), 0);
    return static_cast<long long>(st.st_ino);
  }
  long long InodeOfPath(const std::string& path) {
    struct stat st;
    EXPECT_EQ(::stat(path.c_str(), &st), 0) << path;
    return static_cast<long long>(st.st_ino);
  }

  TempDir tmp_;
  std::string root_;
  std::optional<RootFs> fs_;
};

TEST_P(RootFsTest, ResolvesSymlinksAsIfRootWereSlash) {
  const long long b = InodeOfPath(root_ + "/b");
  EXPECT_EQ(InodeOf(""), InodeOfPath(root_));
  EXPECT_EQ(InodeOf("b"), b);
  EXPECT_EQ(InodeOf("abs"), b);
  EXPECT_EQ(InodeOf("rel"), b);
  EXPECT_EQ(InodeOf("up/up/up/b"), b);
  EXPECT_EQ(InodeOf("abs/../abs"), b);
  // An absolute symlink naming a host path lands on the same path inside the root.
  EXPECT_NE(InodeOf("host"), InodeOfPath(tmp_ / "outside"));
  EXPECT_EQ(InodeOf("host"), -ENOENT);
  EXPECT_EQ(InodeOf("loop"), -ELOOP);
  EXPECT_EQ(InodeOf("file"), -ENOTDIR);
  EXPECT_EQ(InodeOf("missing"), -ENOENT);
  EXPECT_EQ(InodeOf("dangling"), -ENOENT);
}

TEST_P(RootFsTest, MakeDirsCreatesInsideTheRoot) {
  UniqueFd fd;
  ASSERT_EQ(fs_->MakeDirs("abs/new/deeper", &fd), 0);
  struct stat st;
  ASSERT_EQ(::stat((root_ + "/b/new/deeper").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_EQ(fs_->MakeDirs("up/rel/x", &fd), 0);
  EXPECT_EQ(::stat((root_ + "/b/x").c_str(), &st), 0);
  EXPECT_EQ(fs_->MakeDirs("file/x", &fd), ENOTDIR);
  EXPECT_EQ(fs_->MakeDirs("dangling/x", &fd), ENOENT);
  EXPECT_EQ(::stat((tmp_ / "nowhere").c_str(), &st), -1);
  EXPECT_EQ(::stat("/nowhere", &st), -1);
}

INSTANTIATE_TEST_SUITE_P(Resolvers, RootFsTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "openat2" : "walk"; });

}  // namespace STRATA_UNITY_ID
}  // namespace strata
