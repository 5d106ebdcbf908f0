#include "archive/dir_tar.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <string>
#include <vector>

#include "archive/tar_reader.h"
#include "archive/test_util.h"
#include "archive/unpack.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::SameInodeNoFollow;
using archive_test::Slurp;
using archive_test::TempDir;

void SetMtime(const std::string& path, int64_t seconds) {
  struct timespec times[2] = {{static_cast<time_t>(seconds), 123},
                              {static_cast<time_t>(seconds), 456}};
  ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
}

class DirTarTest : public ::testing::Test {
 protected:
  void SetUp() override {
    src_ = tmp_ / "src";
    ASSERT_EQ(::mkdir(src_.c_str(), 0755), 0);
    ASSERT_EQ(::mkdir((src_ + "/a").c_str(), 0750), 0);
    ASSERT_EQ(::mkdir((src_ + "/a/b").c_str(), 0755), 0);
    ASSERT_TRUE(archive_test::WriteTestFile(src_ + "/a/b/file", "nested content", 0600));
    ASSERT_TRUE(archive_test::WriteTestFile(src_ + "/a.txt", "shared inode", 0644));
    ASSERT_EQ(::link((src_ + "/a.txt").c_str(), (src_ + "/a/hl").c_str()), 0);
    ASSERT_EQ(::symlink("a.txt", (src_ + "/link").c_str()), 0);
    ASSERT_EQ(::mkfifo((src_ + "/fifo").c_str(), 0640), 0);
    ASSERT_EQ(::mknod((src_ + "/sock").c_str(), S_IFSOCK | 0600, 0), 0);
    ASSERT_TRUE(archive_test::WriteTestFile(src_ + "/z", std::string(70000, 'z'), 0755));
    ASSERT_EQ(::chmod((src_ + "/z").c_str(), 04755), 0);
    for (const char* p : {"a/b/file", "a.txt", "link", "fifo", "z", "a/b", "a"}) {
      SetMtime(src_ + "/" + p, 1600000000);
    }
  }

  std::string Archive() {
    StringWriter out;
    TarWriter tar(out);
    auto s = WriteDirectoryTree(src_, tar);
    EXPECT_TRUE(s) << s.error().message;
    EXPECT_TRUE(tar.Close());
    return out.out;
  }

  TempDir tmp_;
  std::string src_;
};

TEST_F(DirTarTest, WalksInLexicalPreOrderWithHardLinksToTheFirstPath) {
  const std::string archive = Archive();
  EXPECT_EQ(archive, Archive());  // deterministic
  StringReader in(archive);
  TarReader reader(in);
  std::vector<TarEntry> entries;
  std::vector<std::string> names;
  for (;;) {
    auto next = reader.Next();
    ASSERT_TRUE(next) << next.error().message;
    if (!*next) break;
    entries.push_back(**next);
    names.push_back((*next)->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a/", "a/b/", "a/b/file", "a/hl", "a.txt", "fifo",
                                             "link", "z"}));
  ASSERT_EQ(entries.size(), 8u);
  EXPECT_EQ(entries[0].type, TarType::kDirectory);
  EXPECT_EQ(entries[0].mode, 040750);
  EXPECT_EQ(entries[0].mtime, (TarTime{1600000000, 0}));  // truncated to seconds
  EXPECT_EQ(entries[2].size, 14);
  EXPECT_EQ(entries[2].mode, 0100600);
  EXPECT_EQ(entries[3].type, TarType::kRegular);  // first path of the inode
  EXPECT_EQ(entries[3].size, 12);
  EXPECT_EQ(entries[4].type, TarType::kHardlink);
  EXPECT_EQ(entries[4].linkname, "a/hl");
  EXPECT_EQ(entries[4].size, 0);
  EXPECT_EQ(entries[4].mode, 0100644);  // the file's mode, as Docker writes it
  EXPECT_EQ(entries[5].type, TarType::kFifo);
  EXPECT_EQ(entries[5].mode, 010640);
  EXPECT_EQ(entries[6].type, TarType::kSymlink);
  EXPECT_EQ(entries[6].linkname, "a.txt");
  EXPECT_EQ(entries[6].mode, 0120777);
  EXPECT_EQ(entries[7].mode, 0104755);
  EXPECT_EQ(entries[7].uid, static_cast<int64_t>(::geteuid()));
  EXPECT_TRUE(entries[7].uname.empty());
  // Type bits are in the octal mode field itself.
  EXPECT_EQ(archive.substr(100, 8), std::string("0040750\0", 8));
  // Every header fits USTAR: no PAX extension headers, exactly like Docker's output.
  EXPECT_EQ(archive.size(), 512u * 8 + 512 + 512 + 70144 + 1024);
}

TEST_F(DirTarTest, UnpackReproducesTheTree) {
  const std::string archive = Archive();
  const std::string dest = tmp_ / "dest";
  ASSERT_EQ(::mkdir(dest.c_str(), 0755), 0);
  StringReader in(archive);
  TarReader reader(in);
  auto stats = UnpackLayer(reader, dest);
  ASSERT_TRUE(stats) << stats.error().message;
  EXPECT_EQ(Slurp(dest + "/a/b/file"), "nested content");
  EXPECT_EQ(Slurp(dest + "/z"), std::string(70000, 'z'));
  EXPECT_TRUE(SameInodeNoFollow(dest + "/a.txt", dest + "/a/hl"));
  struct stat st;
  ASSERT_EQ(::lstat((dest + "/a").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1600000000);
  EXPECT_FALSE(::lstat((dest + "/sock").c_str(), &st) == 0);

  // Archiving the unpacked copy gives the same bytes.
  StringWriter again;
  TarWriter tar(again);
  ASSERT_TRUE(WriteDirectoryTree(dest, tar));
  ASSERT_TRUE(tar.Close());
  EXPECT_EQ(again.out, archive);
}

TEST_F(DirTarTest, UserNamesFromTheDatabaseOnRequest) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs files owned by root";
  StringWriter out;
  TarWriter tar(out);
  DirTarOptions options;
  options.user_names = true;
  ASSERT_TRUE(WriteDirectoryTree(src_, tar, options));
  ASSERT_TRUE(tar.Close());
  StringReader in(out.out);
  TarReader reader(in);
  auto first = reader.Next();
  ASSERT_TRUE(first && *first);
  EXPECT_EQ((*first)->uname, "root");
  EXPECT_EQ((*first)->gname, "root");
}

TEST_F(DirTarTest, MissingDirectoryIsAnError) {
  StringWriter out;
  TarWriter tar(out);
  auto s = WriteDirectoryTree(tmp_ / "nope", tar);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().message, "open directory " + (tmp_ / "nope") + ": No such file or directory");
}

// Interoperability with GNU tar, when the machine has it.
TEST_F(DirTarTest, GnuTarReadsOursAndWeReadItsFormats) {
  if (::access("/usr/bin/tar", X_OK) != 0) GTEST_SKIP() << "no /usr/bin/tar";
  const std::string long_dir = std::string(120, 'd');
  ASSERT_EQ(::mkdir((src_ + "/" + long_dir).c_str(), 0755), 0);
  const std::string long_name = long_dir + "/" + std::string(110, 'f') + "-\xc3\xa9t\xc3\xa9";
  ASSERT_TRUE(archive_test::WriteTestFile(src_ + "/" + long_name, "long", 0644));

  const std::string ours = tmp_ / "ours.tar";
  {
    StringWriter out;
    TarWriter tar(out);
    ASSERT_TRUE(WriteDirectoryTree(src_, tar));
    ASSERT_TRUE(tar.Close());
    ASSERT_TRUE(archive_test::WriteTestFile(ours, out.out));
  }
  const std::string extracted = tmp_ / "extracted";
  ASSERT_EQ(::mkdir(extracted.c_str(), 0755), 0);
  std::string cmd = "/usr/bin/tar -xf '" + ours + "' -C '" + extracted + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  EXPECT_EQ(Slurp(extracted + "/" + long_name), "long");
  EXPECT_EQ(Slurp(extracted + "/a/b/file"), "nested content");
  EXPECT_TRUE(SameInodeNoFollow(extracted + "/a.txt", extracted + "/a/hl"));

  for (const char* format : {"gnu", "pax", "ustar"}) {
    const std::string theirs = tmp_ / (std::string(format) + ".tar");
    cmd = "/usr/bin/tar --format=" + std::string(format) + " -cf '" + theirs + "' -C '" + src_ +
          "' a a.txt " + (std::string(format) == "ustar" ? "" : long_dir) + " 2>/dev/null";
    ASSERT_EQ(std::system(cmd.c_str()), 0) << format;
    auto data = ReadFile(theirs);
    ASSERT_TRUE(data);
    StringReader in(*data);
    TarReader reader(in);
    std::vector<std::string> names;
    std::string long_content;
    for (;;) {
      auto next = reader.Next();
      ASSERT_TRUE(next) << format << ": " << next.error().message;
      if (!*next) break;
      names.push_back((*next)->name);
      if ((*next)->name == long_name) {
        char buf[16];
        auto n = reader.content().Read(buf, sizeof buf);
        ASSERT_TRUE(n);
        long_content.assign(buf, *n);
      }
    }
    ASSERT_TRUE(reader.DrainRest());
    EXPECT_EQ(reader.offset(), data->size());
    EXPECT_EQ(names[0], "a/") << format;
    EXPECT_NE(std::find(names.begin(), names.end(), "a/b/file"), names.end()) << format;
    if (std::string(format) != "ustar") {
      EXPECT_EQ(long_content, "long") << format;
    }
  }
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
