#include "archive/tree_changes.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <utime.h>

#include "archive/tar_reader.h"
#include "util/file.h"

namespace strata {
namespace STRATA_UNITY_ID {

class TreeChangesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/strata-treechanges-XXXXXX";
    dir_ = ::mkdtemp(tmpl);
    old_ = dir_ + "/old";
    new_ = dir_ + "/new";
  }
  void TearDown() override { (void)RemoveAll(dir_); }

  // Writes the same file (content and mtime) in a tree.
  void Put(const std::string& root, const std::string& rel, const std::string& content,
           time_t mtime = 1000) {
    const size_t slash = rel.rfind('/');
    if (slash != std::string::npos) {
      ASSERT_TRUE(MakeDirs(root + "/" + rel.substr(0, slash)));
    }
    ASSERT_TRUE(WriteFileAtomic(root + "/" + rel, content));
    struct utimbuf t {
      mtime, mtime
    };
    ASSERT_EQ(::utime((root + "/" + rel).c_str(), &t), 0);
  }
  static std::string Describe(const std::vector<TreeChange>& changes) {
    std::string s;
    for (const TreeChange& c : changes) {
      s += (c.kind == TreeChange::Kind::kAdd      ? "A "
            : c.kind == TreeChange::Kind::kModify ? "C "
                                                  : "D ") +
           c.path + "\n";
    }
    return s;
  }

  std::string dir_, old_, new_;
};

TEST_F(TreeChangesTest, AddsModifiesDeletesAndParentDirectories) {
  for (const std::string& root : {old_, new_}) {
    Put(root, "etc/passwd", "root\n");
    Put(root, "etc/keep", "same\n");
    Put(root, "usr/lib/x", "x");
  }
  Put(old_, "etc/hostname", "old\n");
  Put(old_, "gone/sub/f", "f");
  Put(new_, "etc/passwd", "root:x\n");      // size differs
  Put(new_, "usr/lib/x", "y", 2000);        // same size, other mtime
  Put(new_, "srv/app/bin", "new program");  // a new tree
  ASSERT_TRUE(MakeDirs(new_ + "/usr"));
  auto changes = TreeChanges(new_, old_);
  ASSERT_TRUE(changes) << changes.error().message;
  EXPECT_EQ(Describe(*changes),
            "C etc\n"
            "D etc/hostname\n"
            "C etc/passwd\n"
            "D gone\n"
            "A srv\n"
            "A srv/app\n"
            "A srv/app/bin\n"
            "C usr\n"
            "C usr/lib\n"
            "C usr/lib/x\n");
}

TEST_F(TreeChangesTest, TarHasWhiteoutsAndEntries) {
  Put(old_, "a/gone", "g");
  Put(old_, "a/kept", "k");
  Put(new_, "a/kept", "k");
  Put(new_, "b", "new");
  auto changes = TreeChanges(new_, old_);
  ASSERT_TRUE(changes);
  StringWriter out;
  TarWriter tar(out);
  ASSERT_TRUE(WriteChangesTar(new_, *changes, tar));
  ASSERT_TRUE(tar.Close());
  StringReader in(out.out);
  TarReader reader(in);
  std::vector<std::string> names;
  for (;;) {
    auto e = reader.Next();
    ASSERT_TRUE(e);
    if (!*e) break;
    names.push_back((*e)->name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"a/", "a/.wh.gone", "b"}));
}

TEST_F(TreeChangesTest, NoOldTreeMeansEverythingIsAdded) {
  Put(new_, "x/y", "1");
  auto changes = TreeChanges(new_, "");
  ASSERT_TRUE(changes);
  EXPECT_EQ(Describe(*changes), "A x\nA x/y\n");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
