#include "archive/unpack.h"

#include <dirent.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <vector>

#include "archive/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::IsSymlink;
using archive_test::SameFile;
using archive_test::SameInodeNoFollow;
using archive_test::Slurp;
using archive_test::TarBuilder;
using archive_test::TempDir;

std::vector<std::string> List(const std::string& dir) {
  std::vector<std::string> names;
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return {"<cannot open " + dir + ">"};
  while (struct dirent* e = ::readdir(d)) {
    std::string n = e->d_name;
    if (n != "." && n != "..") names.push_back(n);
  }
  ::closedir(d);
  std::sort(names.begin(), names.end());
  return names;
}

bool Exists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

std::string ReadLink(const std::string& path) {
  char buf[4096];
  ssize_t n = ::readlink(path.c_str(), buf, sizeof buf);
  return n < 0 ? "<not a symlink>" : std::string(buf, static_cast<size_t>(n));
}

// Every test runs with openat2 and with the portable walk.
class UnpackTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    root_ = tmp_ / "root";
    ASSERT_EQ(::mkdir(root_.c_str(), 0755), 0);
    // Victims next to the root: nothing an archive does may touch them.
    ASSERT_EQ(::mkdir((tmp_ / "victim").c_str(), 0755), 0);
    ASSERT_TRUE(archive_test::WriteTestFile(tmp_ / "victim/hello", "hello", 0644));
    ASSERT_EQ(::mkdir((tmp_ / "victimDir").c_str(), 0755), 0);
    ASSERT_TRUE(archive_test::WriteTestFile(tmp_ / "victimDir/victim", "victim", 0644));
  }

  void TearDown() override {
    EXPECT_EQ(List(tmp_ / "victim"), std::vector<std::string>{"hello"});
    EXPECT_EQ(Slurp(tmp_ / "victim/hello"), "hello");
    EXPECT_EQ(List(tmp_ / "victimDir"), std::vector<std::string>{"victim"});
    EXPECT_EQ(Slurp(tmp_ / "victimDir/victim"), "victim");
    struct stat st;
    ASSERT_EQ(::stat((tmp_ / "victimDir/victim").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    EXPECT_EQ(List(tmp_.path()), (std::vector<std::string>{"root", "victim", "victimDir"}));
  }

  Result<UnpackStats> Apply(TarBuilder& layer, UnpackOptions options = {}) {
    std::string tar = layer.Build();
    EXPECT_EQ(layer.error(), "");
    StringReader in(tar);
    TarReader reader(in);
    options.use_openat2 = GetParam();
    return UnpackLayer(reader, root_, options);
  }
  void ApplyOk(TarBuilder& layer) {
    auto r = Apply(layer);
    ASSERT_TRUE(r) << r.error().message;
  }
  void ExpectError(TarBuilder& layer, const std::string& fragment) {
    auto r = Apply(layer);
    ASSERT_FALSE(r) << "expected an error containing: " << fragment;
    EXPECT_NE(r.error().message.find(fragment), std::string::npos) << r.error().message;
  }
  std::string R(const std::string& rel) const { return root_ + "/" + rel; }

  // Base of many containerd cases: /etc/passwd.
  void BaseEtcPasswd(const std::string& content = "inside") {
    TarBuilder base;
    base.Dir("etc").File("/etc/passwd", content);
    ApplyOk(base);
  }

  TempDir tmp_;
  std::string root_;
};

INSTANTIATE_TEST_SUITE_P(Resolvers, UnpackTest, ::testing::Values(true, false),
                         [](const auto& info) { return info.param ? "openat2" : "walk"; });

// --- containerd TestBreakouts -----------------------------------------------------------------

TEST_P(UnpackTest, SymlinkAbsolute) {
  TarBuilder l;
  l.Dir("etc").Symlink("/etc", "localetc").File("/localetc/unbroken", "unbroken");
  ApplyOk(l);
  EXPECT_EQ(Slurp(R("etc/unbroken")), "unbroken");
}

TEST_P(UnpackTest, SymlinkUpAndOut) {
  TarBuilder l;
  l.Dir("etc").Dir("dummy").Symlink("/dummy/../etc", "localetc");
  l.File("/localetc/unbroken", "unbroken");
  ApplyOk(l);
  EXPECT_EQ(Slurp(R("etc/unbroken")), "unbroken");
}

TEST_P(UnpackTest, SymlinkMultipleAbsolute) {
  TarBuilder l;
  l.Dir("etc").Dir("dummy").Symlink("/etc", "/dummy/etc").Symlink("/dummy/etc", "localetc");
  l.File("/dummy/etc/unbroken", "unbroken");
  ApplyOk(l);
  EXPECT_EQ(Slurp(R("etc/unbroken")), "unbroken");
}

TEST_P(UnpackTest, SymlinkMultipleRelative) {
  TarBuilder l;
  l.Dir("etc").Dir("dummy").Symlink("/etc", "/dummy/etc").Symlink("./dummy/etc", "localetc");
  l.File("/dummy/etc/unbroken", "unbroken");
  ApplyOk(l);
  EXPECT_EQ(Slurp(R("etc/unbroken")), "unbroken");
}

TEST_P(UnpackTest, SymlinkEmptyFile) {
  TarBuilder l;
  l.Dir("etc").File("etc/emptied", "notempty").Symlink("/etc", "localetc");
  l.File("/localetc/emptied", "");
  ApplyOk(l);
  EXPECT_EQ(Slurp(R("etc/emptied")), "");
}

TEST_P(UnpackTest, HardlinkRelative) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Dir("breakouts");
  l.Symlink("../../etc", "breakouts/d1").Hardlink("/breakouts/d1/passwd", "breakouts/mypasswd");
  ApplyOk(l);
  EXPECT_TRUE(SameInodeNoFollow(R("breakouts/mypasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, HardlinkDownAndOutFailsOnMissingComponent) {
  // containerd resolves "../downandout/../../etc" lexically; the kernel (and Docker's chroot)
  // needs "downandout" to exist. Either way nothing outside is reached.
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Dir("breakouts");
  l.Symlink("../downandout/../../etc", "breakouts/d1");
  l.Hardlink("/breakouts/d1/passwd", "breakouts/mypasswd");
  ExpectError(l, "hard link target /breakouts/d1/passwd: No such file or directory");
}

TEST_P(UnpackTest, HardlinkAbsolute) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Symlink("/etc", "localetc");
  l.Hardlink("/localetc/passwd", "localpasswd");
  ApplyOk(l);
  EXPECT_TRUE(SameInodeNoFollow(R("localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, HardlinkRelativeLong) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Symlink("../../../../../../../etc", "localetc");
  l.Hardlink("/localetc/passwd", "localpasswd");
  ApplyOk(l);
  EXPECT_TRUE(SameInodeNoFollow(R("localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, HardlinkRelativeUpAndOutFailsOnMissingComponent) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Symlink("upandout/../../../etc", "localetc");
  l.Hardlink("/localetc/passwd", "localpasswd");
  ExpectError(l, "No such file or directory");
  EXPECT_FALSE(Exists(R("localpasswd")));
}

TEST_P(UnpackTest, HardlinkDirectRelative) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Hardlink("../../../../../etc/passwd", "localpasswd");
  ApplyOk(l);
  EXPECT_TRUE(SameInodeNoFollow(R("localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, HardlinkDirectAbsolute) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Hardlink("/etc/passwd", "localpasswd");
  ApplyOk(l);
  EXPECT_TRUE(SameInodeNoFollow(R("localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, SymlinkNamedParentDirectoryIsRejected) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Symlink("/etc/", "..");
  l.Hardlink("/etc/passwd", "localpasswd");
  ExpectError(l, "invalid tar entry ..: path escapes the root");
  EXPECT_TRUE(::access(root_.c_str(), F_OK) == 0 && !IsSymlink(root_));
}

TEST_P(UnpackTest, SymlinkEmptyFilenameIsIgnored) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Symlink("/etc/", "");
  l.Hardlink("/etc/passwd", "localpasswd");
  auto r = Apply(l);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->skipped_entries, 1);
  EXPECT_FALSE(IsSymlink(root_));
  EXPECT_TRUE(SameInodeNoFollow(R("localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, SymlinkParentRelative) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Symlink("/etc/", "localetc/sub/..");
  l.Hardlink("/etc/passwd", "/localetc/localpasswd");
  ApplyOk(l);
  EXPECT_TRUE(SameInodeNoFollow(R("etc/localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, SymlinkSlashEnded) {
  TarBuilder l;
  l.Dir("etc").File("/etc/passwd", "inside").Symlink("/etc/", "localetc/");
  l.Dir("localetc/").Hardlink("/etc/passwd", "/localetc/localpasswd");
  ApplyOk(l);
  EXPECT_FALSE(IsSymlink(R("localetc")));
  EXPECT_TRUE(SameInodeNoFollow(R("localetc/localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, SymlinkOverrideDirectory) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "inside").Dir("localetc");
  ApplyOk(base);
  TarBuilder l;
  l.Symlink("/etc", "localetc").Hardlink("/etc/passwd", "/localetc/localpasswd");
  ApplyOk(l);
  EXPECT_TRUE(IsSymlink(R("localetc")));
  EXPECT_TRUE(SameInodeNoFollow(R("etc/localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, SymlinkOverrideDirectoryRelative) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "inside").Dir("localetc");
  ApplyOk(base);
  TarBuilder l;
  l.Symlink("../../etc", "localetc").Hardlink("/etc/passwd", "/localetc/localpasswd");
  ApplyOk(l);
  EXPECT_TRUE(SameInodeNoFollow(R("etc/localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, DirectoryOverrideSymlink) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "inside").Symlink("/etc", "localetc");
  ApplyOk(base);
  TarBuilder l;
  l.Dir("/localetc/").Hardlink("/etc/passwd", "/localetc/localpasswd");
  ApplyOk(l);
  EXPECT_FALSE(IsSymlink(R("localetc")));
  EXPECT_TRUE(SameInodeNoFollow(R("localetc/localpasswd"), R("etc/passwd")));
}

TEST_P(UnpackTest, DirectoryOverrideSymlinkAndHardlink) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "inside").Symlink("etc", "localetc");
  base.Hardlink("/etc/passwd", "/localetc/localpasswd");
  ApplyOk(base);
  TarBuilder l;
  l.Dir("/localetc/").File("/localetc/localpasswd", "different");
  ApplyOk(l);
  EXPECT_FALSE(SameInodeNoFollow(R("localetc/localpasswd"), R("etc/passwd")));
  EXPECT_EQ(Slurp(R("localetc/localpasswd")), "different");
  EXPECT_EQ(Slurp(R("etc/passwd")), "inside");
}

TEST_P(UnpackTest, WhiteoutsNamingDotOrDotDotAreInvalid) {
  for (const char* name : {".wh...", "etc/.wh...", ".wh..", "etc/.wh..", "etc/.wh."}) {
    BaseEtcPasswd();
    TarBuilder l;
    l.File(name, "");
    ExpectError(l, std::string("invalid whiteout ") + name);
    EXPECT_EQ(Slurp(R("etc/passwd")), "inside") << name;
  }
}

TEST_P(UnpackTest, WhiteoutSymlinkRemovesTheLinkNotTheTarget) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "all users").Symlink("/etc", "localetc");
  ApplyOk(base);
  TarBuilder l;
  l.Whiteout("localetc");
  ApplyOk(l);
  EXPECT_FALSE(Exists(R("localetc")));
  EXPECT_EQ(Slurp(R("etc/passwd")), "all users");
}

TEST_P(UnpackTest, WhiteoutThroughSymlinkedParent) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "all users").File("/etc/whitedout", "x");
  base.Symlink("/etc", "localetc");
  ApplyOk(base);
  TarBuilder l;
  l.File("localetc/.wh.whitedout", "");
  ApplyOk(l);
  EXPECT_FALSE(Exists(R("etc/whitedout")));
  EXPECT_EQ(Slurp(R("etc/passwd")), "all users");
}

TEST_P(UnpackTest, WhiteoutPrefixOnADirectoryNameIsAnOrdinaryPath) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "all users").Symlink("/etc", "localetc");
  ApplyOk(base);
  TarBuilder l;
  l.File(".wh.etc/somefile", "non-empty");
  ApplyOk(l);
  EXPECT_EQ(Slurp(R(".wh.etc/somefile")), "non-empty");
  EXPECT_EQ(Slurp(R("etc/passwd")), "all users");
}

TEST_P(UnpackTest, WhiteoutUnderDeadSymlinkIsANoOp) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "all users").Symlink("/dne", "localetc");
  ApplyOk(base);
  TarBuilder l;
  l.File("localetc/.wh.etc", "");
  auto r = Apply(l);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->whiteouts, 0);
  EXPECT_EQ(Slurp(R("etc/passwd")), "all users");
}

TEST_P(UnpackTest, WhiteoutRelativePathIsCleanedFirst) {
  TarBuilder base;
  base.Dir("etc").File("/etc/passwd", "all users").Symlink("/dne", "localetc");
  ApplyOk(base);
  TarBuilder l;
  l.File("dne/../.wh.etc", "");
  ApplyOk(l);
  EXPECT_FALSE(Exists(R("etc")));
}

TEST_P(UnpackTest, HardlinkSymlinkBeforeCreateTarget) {
  TarBuilder l;
  l.Dir("etc").Symlink("/etc/passwd", "localpasswd").Hardlink("localpasswd", "localpasswd-dup");
  l.File("/etc/passwd", "after");
  ApplyOk(l);
  EXPECT_TRUE(IsSymlink(R("localpasswd-dup")));
  EXPECT_TRUE(SameInodeNoFollow(R("localpasswd-dup"), R("localpasswd")));
  EXPECT_EQ(ReadLink(R("localpasswd-dup")), "/etc/passwd");
}

TEST_P(UnpackTest, HardlinkToSymlinkLinksTheSymlink) {
  for (const char* target : {"../../../../../etc/passwd", "/etc/passwd"}) {
    TarBuilder l;
    l.Dir("etc").File("/etc/passwd", "inside").Symlink(target, "passwdlink");
    l.Hardlink("/passwdlink", "localpasswd");
    ApplyOk(l);
    EXPECT_TRUE(IsSymlink(R("localpasswd")));
    EXPECT_TRUE(SameInodeNoFollow(R("localpasswd"), R("passwdlink")));
    EXPECT_EQ(ReadLink(R("localpasswd")), target);
  }
}

TEST_P(UnpackTest, HardlinkSymlinkChmodLeavesOutsideFileAlone) {
  const std::string outside = tmp_ / "victimDir/victim";
  const std::string outside2 = tmp_ / "victimDir/victim2";
  TarBuilder l;
  l.Symlink(outside, outside2);
  TarEntry link;
  link.name = "sketchylink";
  link.type = TarType::kHardlink;
  link.linkname = outside2;
  link.mode = 0777;
  l.Add(link);
  ApplyOk(l);
  // The link is to the symlink inside the root; the victim keeps mode 0644 (checked in TearDown).
  EXPECT_TRUE(IsSymlink(R("sketchylink")));
  EXPECT_EQ(ReadLink(R("sketchylink")), outside);
}

TEST_P(UnpackTest, MissingParentsAreCreated) {
  TarBuilder base;
  base.Dir("etc");
  ApplyOk(base);
  TarBuilder l;
  l.Dir("/etc/subdir").Dir("/etc/subdir2/").Dir("/etc/subdir2/more");
  l.Dir("/other/noparent-1/1").Dir("/other/noparent-2/2/");
  ApplyOk(l);
  for (const char* d : {"etc/subdir", "etc/subdir2", "etc/subdir2/more", "other/noparent-1/1",
                        "other/noparent-2/2"}) {
    struct stat st;
    ASSERT_EQ(::stat(R(d).c_str(), &st), 0) << d;
    EXPECT_TRUE(S_ISDIR(st.st_mode)) << d;
  }
}

// --- moby pkg/archive breakout tests ----------------------------------------------------------

TEST_P(UnpackTest, RejectsNamesThatClimbOut) {
  for (const char* name : {"../victim/dotdot", "/../victim/slash-dotdot", "a/../../victim/x"}) {
    TarBuilder l;
    l.File(name, "pwned");
    ExpectError(l, std::string("invalid tar entry ") + name + ": path escapes the root");
  }
  EXPECT_EQ(List(root_), std::vector<std::string>{});
}

TEST_P(UnpackTest, HardlinkToSymlinkThenRegularFile) {
  TarBuilder l;
  l.Symlink("regfile", "symlink1").Hardlink("symlink1", "symlink2").File("regfile", "data");
  ApplyOk(l);
  EXPECT_TRUE(IsSymlink(R("symlink2")));
  EXPECT_EQ(Slurp(R("symlink2")), "data");
}

TEST_P(UnpackTest, InvalidHardlinksStayInside) {
  auto hard = [](const std::string& target, const std::string& name) {
    TarEntry e;
    e.type = TarType::kHardlink;
    e.linkname = target;
    e.name = name;
    return e;
  };
  // Each target resolves inside the root, where it does not exist.
  for (const TarEntry& first :
       {hard("../victim/hello", "dotdot"), hard("/../victim/hello", "slash-dotdot"),
        hard("../victim", "loophole-victim"), hard(tmp_ / "victim/hello", "absolute")}) {
    TarBuilder l;
    l.Add(first);
    l.File("loophole-victim/file", "pwned");
    ExpectError(l, "No such file or directory");
    EXPECT_FALSE(Exists(R(first.name)));
  }
}

TEST_P(UnpackTest, InvalidSymlinksStayInside) {
  {
    TarBuilder l;
    l.Symlink("../victim/hello", "dotdot").Symlink("/../victim/hello", "slash-dotdot");
    ApplyOk(l);
    EXPECT_EQ(ReadLink(R("dotdot")), "../victim/hello");
  }
  {
    // Through the link is /victim inside the root, which does not exist (Docker fails too).
    TarBuilder l;
    l.Symlink("../victim", "loophole-victim").File("loophole-victim/file", "pwned");
    ExpectError(l, "parent directory /loophole-victim: No such file or directory");
  }
  {
    TarBuilder l;
    l.Symlink("../victim", "loophole-victim2").Symlink("loophole-victim2/hello", "symlink");
    ApplyOk(l);
  }
  {
    TarBuilder l;
    l.Symlink("../victim", "loophole-victim3").Hardlink("loophole-victim3/hello", "hardlink");
    ExpectError(l, "hard link target /loophole-victim3/hello: No such file or directory");
  }
  {
    TarBuilder l;  // a file replaces the symlink itself
    l.Symlink("../victim", "loophole-victim4").File("loophole-victim4", "file");
    ApplyOk(l);
    EXPECT_FALSE(IsSymlink(R("loophole-victim4")));
  }
  {
    TarBuilder l;
    l.Symlink("../../victim", "dir/loophole").File("dir/loophole/newdir/newfile", "pwned");
    ExpectError(l, "parent directory /dir/loophole/newdir: No such file or directory");
  }
  {
    // Once /victim exists inside the root, the same shapes write there.
    TarBuilder l;
    l.Dir("victim").Symlink("../victim", "loophole-victim5").File("loophole-victim5/file", "in");
    l.Symlink("../../victim", "dir/loophole2").File("dir/loophole2/newdir/newfile", "in");
    ApplyOk(l);
    EXPECT_EQ(Slurp(R("victim/file")), "in");
    EXPECT_EQ(Slurp(R("victim/newdir/newfile")), "in");
  }
}

TEST_P(UnpackTest, HardlinkTargetsAreConstrainedToTheRoot) {
  const std::string abs_victim = tmp_ / "victimDir/victim";
  for (const std::string& target : {std::string("../victimDir/victim"), abs_victim}) {
    TarBuilder l;
    l.Symlink("unused", "symlink").Hardlink(target, "symlink");
    ExpectError(l, "No such file or directory");
  }
  for (const std::string& dir : {std::string("../victimDir"), tmp_ / "victimDir"}) {
    TarBuilder l;
    l.Symlink(dir, "symlink2").Hardlink("symlink2/victim", "link2");
    ExpectError(l, "hard link target /symlink2/victim: No such file or directory");
  }
  {
    TarBuilder l;  // links the symlink, not the victim
    l.Symlink("../victimDir/victim", "symlink3").Hardlink("symlink3", "link3");
    ApplyOk(l);
    EXPECT_TRUE(IsSymlink(R("link3")));
    EXPECT_TRUE(SameInodeNoFollow(R("link3"), R("symlink3")));
  }
  {
    TarBuilder l;
    l.Dir("a").Dir("a/b").Symlink("../..", "a/b/c").Symlink("..", "a/b/c/d");
    l.Hardlink("a/b/c/d/victimDir/victim", "link4");
    ExpectError(l, "No such file or directory");
  }
}

// --- whiteout / opaque / replace semantics ----------------------------------------------------

TEST_P(UnpackTest, WhiteoutsAndOpaqueDirectories) {
  TarBuilder base;
  base.Dir("d").File("d/a", "a").File("d/b", "b").Dir("d/sub").File("d/sub/x", "x");
  base.Dir("e").Dir("e/keepdir").File("e/keepdir/old", "old").File("e/gone", "g");
  base.File("keep", "k").File("gone", "g").Dir("gonedir").File("gonedir/f", "f");
  ApplyOk(base);

  TarBuilder l;
  l.Whiteout("gone").Whiteout("gonedir");
  l.Dir("d").Opaque("d").File("d/c", "c");
  // An opaque marker after this layer's own entries keeps them, and still hides older content
  // below the directories the layer re-declared.
  l.Dir("e").Dir("e/keepdir").File("e/new", "n").Opaque("e");
  auto r = Apply(l);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(List(root_), (std::vector<std::string>{"d", "e", "keep"}));
  EXPECT_EQ(List(R("d")), std::vector<std::string>{"c"});
  EXPECT_EQ(List(R("e")), (std::vector<std::string>{"keepdir", "new"}));
  EXPECT_EQ(List(R("e/keepdir")), std::vector<std::string>{});
  EXPECT_EQ(r->whiteouts, 2);
  EXPECT_EQ(r->opaque_dirs, 2);
  EXPECT_EQ(r->entries, 9);
}

// --- WhiteoutForm::kOverlay --------------------------------------------------------------------

bool IsWhiteoutDevice(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && st.st_rdev == makedev(0, 0);
}

std::string Xattr(const std::string& path, const char* name) {
  char buf[256];
  ssize_t n = ::lgetxattr(path.c_str(), name, buf, sizeof buf);
  return n < 0 ? "<none>" : std::string(buf, static_cast<size_t>(n));
}

// Every name under `dir` (relative), depth first.
void Walk(const std::string& dir, const std::string& prefix, std::vector<std::string>* out) {
  for (const std::string& name : List(dir)) {
    out->push_back(prefix + name);
    struct stat st;
    if (::lstat((dir + "/" + name).c_str(), &st) == 0 && S_ISDIR(st.st_mode)) {
      Walk(dir + "/" + name, prefix + name + "/", out);
    }
  }
}

UnpackOptions Overlay() {
  UnpackOptions options;
  options.whiteouts = WhiteoutForm::kOverlay;
  return options;
}

TEST_P(UnpackTest, OverlayFormKeepsWhiteoutsAsDevicesAndOpaqueAsXattrs) {
  if (::geteuid() != 0) GTEST_SKIP() << "trusted.overlay.* needs root";
  TarBuilder l;
  l.Whiteout("gone").Dir("etc").Whiteout("etc/passwd");
  l.Dir("d").Opaque("d").File("d/c", "c");
  l.Opaque("implicit/dir");  // a marker whose directory the layer did not declare
  l.File("own", "this layer's own").Whiteout("own");
  l.Whiteout("again").Dir("again");  // a directory replacing the layer's own whiteout
  TarEntry redirect;
  redirect.name = "redirected";
  redirect.type = TarType::kDirectory;
  redirect.mode = 0755;
  redirect.xattrs["trusted.overlay.redirect"] = "/etc";
  redirect.xattrs["trusted.overlay.opaque"] = "y";
  l.Add(redirect);
  auto r = Apply(l, Overlay());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(IsWhiteoutDevice(R("gone")));
  EXPECT_TRUE(IsWhiteoutDevice(R("etc/passwd")));
  EXPECT_TRUE(IsWhiteoutDevice(R("own")));
  EXPECT_EQ(Xattr(R("d"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(List(R("d")), std::vector<std::string>{"c"});
  EXPECT_EQ(Xattr(R("implicit/dir"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(Xattr(R("again"), "trusted.overlay.opaque"), "y");
  EXPECT_EQ(Xattr(R("etc"), "trusted.overlay.opaque"), "<none>");
  // The tar's own overlay attributes are not applied.
  EXPECT_EQ(Xattr(R("redirected"), "trusted.overlay.redirect"), "<none>");
  EXPECT_EQ(Xattr(R("redirected"), "trusted.overlay.opaque"), "<none>");
  std::vector<std::string> all;
  Walk(root_, "", &all);
  for (const std::string& name : all) EXPECT_EQ(name.find(".wh."), std::string::npos) << name;
  EXPECT_EQ(r->whiteouts, 4);
  EXPECT_EQ(r->opaque_dirs, 3);
  EXPECT_EQ(r->whiteouts_not_marked + r->opaque_not_marked, 0);
}

TEST_P(UnpackTest, OverlayFormRefusesHostileWhiteouts) {
  for (const char* name : {".wh...", "etc/.wh...", ".wh..", "etc/.wh.."}) {
    TarBuilder l;
    l.File(name, "");
    auto r = Apply(l, Overlay());
    ASSERT_FALSE(r) << name;
    EXPECT_NE(r.error().message.find(std::string("invalid whiteout ") + name), std::string::npos)
        << r.error().message;
  }
  TarBuilder climb;
  climb.File("../.wh.victim", "");
  auto r = Apply(climb, Overlay());
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("escapes the root"), std::string::npos) << r.error().message;
  // Through symlinks that point out of the root, markers land inside it (chroot semantics);
  // TearDown checks that nothing outside was touched.
  TarBuilder l;
  l.Symlink("../../victim", "up").Symlink("/../victimDir", "abs");
  l.Whiteout("up/hello").Whiteout("abs/victim").Opaque("up");
  r = Apply(l, Overlay());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(IsSymlink(R("up")));  // the marker on a symlink is not followed
  EXPECT_EQ(Xattr(R("up"), "trusted.overlay.opaque"), "<none>");
}

TEST_P(UnpackTest, OverlayFormUnprivilegedCountsTheMarkersItCannotSet) {
  TarBuilder l;
  l.Whiteout("gone").Dir("d").Opaque("d").Opaque("e");
  UnpackOptions options = Overlay();
  options.simulate_unprivileged = true;
  auto r = Apply(l, options);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->opaque_not_marked, 2);
  EXPECT_EQ(r->whiteouts + r->whiteouts_not_marked, 1);  // Linux >= 5.8 lets anyone make it
  EXPECT_EQ(Xattr(R("d"), "trusted.overlay.opaque"), "<none>");
  EXPECT_FALSE(Exists(R(".wh.gone")));
  EXPECT_FALSE(Exists(R("d/.wh..wh..opq")));
  UnpackLosses losses;
  losses.Add(*r);
  EXPECT_EQ(losses.opaque_dirs, 2);
  EXPECT_TRUE(losses.any());
}

TEST_P(UnpackTest, OpaqueMarkerOnSymlinkIsNotFollowed) {
  TarBuilder base;
  base.Dir("real").File("real/f", "f").Symlink("real", "link");
  ApplyOk(base);
  TarBuilder l;
  l.Opaque("link");
  ApplyOk(l);
  EXPECT_EQ(List(R("real")), std::vector<std::string>{"f"});
}

TEST_P(UnpackTest, OtherAufsMetadataIsSkippedAndPlnkLinksResolve) {
  TarBuilder l;
  l.Dir(".wh..wh.plnk").File(".wh..wh.plnk/123.456", "shared", 0640);
  l.File(".wh..wh.aufs", "").File("usr/.wh..wh.orph", "");
  l.Hardlink("/.wh..wh.plnk/123.456", "usr/a").Hardlink(".wh..wh.plnk/123.456", "usr/b");
  auto r = Apply(l);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(List(root_), std::vector<std::string>{"usr"});
  EXPECT_EQ(List(R("usr")), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(Slurp(R("usr/a")), "shared");
  EXPECT_TRUE(SameInodeNoFollow(R("usr/a"), R("usr/b")));
  EXPECT_EQ(r->skipped_entries, 3);
}

TEST_P(UnpackTest, EntriesReplaceExistingPathsUnlessBothAreDirectories) {
  TarBuilder base;
  base.Dir("d", 0700).File("d/child", "c").File("f", "file").Dir("x").File("x/y", "y");
  ApplyOk(base);
  TarBuilder l;
  l.Dir("d", 0751);           // merge: children stay, mode updated
  l.Dir("f/");                // a directory replaces a file
  l.File("x", "now a file");  // a file replaces a directory and its contents
  l.Symlink("d", "f/link");
  ApplyOk(l);
  struct stat st;
  ASSERT_EQ(::stat(R("d").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0751u);
  EXPECT_EQ(Slurp(R("d/child")), "c");
  ASSERT_EQ(::lstat(R("f").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(Slurp(R("x")), "now a file");
  EXPECT_EQ(ReadLink(R("f/link")), "d");
}

TEST_P(UnpackTest, ModesAndOwnersAreExactWhateverTheUmask) {
  // Files are created with their final mode when the umask keeps it whole, and chowned only when
  // their owner is not ours: both shortcuts must give the same result as doing everything.
  const mode_t saved = ::umask(027);
  TarBuilder l;
  auto add = [&](const std::string& name, TarType type, int64_t mode, int64_t uid, int64_t gid,
                 const std::string& content = "", const std::string& linkname = "") {
    TarEntry e;
    e.name = name;
    e.type = type;
    e.mode = mode;
    e.uid = uid;
    e.gid = gid;
    e.linkname = linkname;
    e.size = static_cast<int64_t>(content.size());
    l.Add(e, content);
  };
  const auto me = static_cast<int64_t>(::geteuid());
  const auto my_group = static_cast<int64_t>(::getegid());
  add("open/", TarType::kDirectory, 0777, me, my_group);
  add("open/rw", TarType::kRegular, 0666, me, my_group, "rw");
  add("open/plain", TarType::kRegular, 0644, me, my_group, "plain");
  add("open/other", TarType::kRegular, 0640, 4321, 8765, "other");
  add("open/sym", TarType::kSymlink, 0777, 4321, 8765, "", "plain");
  add("open/link", TarType::kHardlink, 0600, 2222, 3333, "", "open/plain");
  auto r = Apply(l);
  ::umask(saved);
  ASSERT_TRUE(r) << r.error().message;
  struct stat st;
  ASSERT_EQ(::lstat(R("open").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0777u);
  ASSERT_EQ(::lstat(R("open/rw").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0666u);
  EXPECT_EQ(Slurp(R("open/rw")), "rw");
  ASSERT_EQ(::lstat(R("open/other").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 4321u);
    EXPECT_EQ(st.st_gid, 8765u);
    ASSERT_EQ(::lstat(R("open/sym").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 4321u);
    // The hard link's header owns the shared inode, as in Docker.
    ASSERT_EQ(::lstat(R("open/plain").c_str(), &st), 0);
    EXPECT_EQ(st.st_uid, 2222u);
    EXPECT_EQ(st.st_gid, 3333u);
    EXPECT_EQ(st.st_mode & 07777, 0600u);
  }
  ASSERT_EQ(::lstat(R("open/rw").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
}

TEST_P(UnpackTest, AppliesModesTimesAndOwnership) {
  TarBuilder l;
  TarEntry dir;
  dir.name = "dir/";
  dir.type = TarType::kDirectory;
  dir.mode = 0555;  // read-only, yet its children are still created
  dir.mtime = {1000000000, 0};
  dir.uid = 1234;
  dir.gid = 5678;
  l.Add(dir);
  TarEntry file;
  file.name = "dir/suid";
  file.size = 3;
  file.mode = 04755;
  file.uid = 1234;
  file.gid = 5678;
  file.mtime = {1500000000, 250000000};
  l.Add(file, "bin");
  TarEntry link;
  link.name = "dir/link";
  link.type = TarType::kSymlink;
  link.linkname = "suid";
  link.mtime = {1200000000, 0};
  l.Add(link);
  l.Fifo("dir/fifo", 0620);
  TarEntry root;
  root.name = "./";
  root.type = TarType::kDirectory;
  root.mode = 0750;
  root.mtime = {900000000, 0};
  l.Add(root);
  auto r = Apply(l);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->content_bytes, 3);
  EXPECT_EQ(r->tar_size, 3);
  struct stat st;
  ASSERT_EQ(::lstat(R("dir").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0555u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1000000000);  // applied after the children were created
  ASSERT_EQ(::lstat(R("dir/suid").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 04755u);
  EXPECT_EQ(st.st_mtim.tv_sec, 1500000000);
  EXPECT_EQ(st.st_mtim.tv_nsec, 250000000);
  if (::geteuid() == 0) {
    EXPECT_EQ(st.st_uid, 1234u);
    EXPECT_EQ(st.st_gid, 5678u);
  }
  ASSERT_EQ(::lstat(R("dir/link").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(st.st_mtim.tv_sec, 1200000000);
  ASSERT_EQ(::lstat(R("dir/fifo").c_str(), &st), 0);
  EXPECT_TRUE(S_ISFIFO(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0620u);
  ASSERT_EQ(::lstat(root_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0750u);
  EXPECT_EQ(st.st_mtim.tv_sec, 900000000);
}

TEST_P(UnpackTest, DevicesAreCreatedOrCounted) {
  TarBuilder l;
  TarEntry dev;
  dev.name = "dev/null";
  dev.type = TarType::kCharDevice;
  dev.mode = 0666;
  dev.devmajor = 1;
  dev.devminor = 3;
  l.Add(dev);
  auto r = Apply(l);
  ASSERT_TRUE(r) << r.error().message;
  struct stat st;
  if (r->skipped_devices == 0) {
    ASSERT_EQ(::lstat(R("dev/null").c_str(), &st), 0);
    EXPECT_TRUE(S_ISCHR(st.st_mode));
    EXPECT_EQ(major(st.st_rdev), 1u);
    EXPECT_EQ(minor(st.st_rdev), 3u);
  } else {
    EXPECT_EQ(r->skipped_devices, 1);
    EXPECT_FALSE(Exists(R("dev/null")));
  }
}

TEST_P(UnpackTest, UnprivilegedUnpackCountsWhatItDrops) {
  // As a process that may neither mknod devices nor chown: device nodes are skipped and entries
  // owned by someone else keep our ownership; both are counted for the caller's warning.
  TarBuilder l;
  const auto me = static_cast<int64_t>(::geteuid());
  const auto my_group = static_cast<int64_t>(::getegid());
  const int64_t other = me + 1234;
  auto add = [&](const std::string& name, TarType type, int64_t uid, int64_t gid,
                 const std::string& content = "", const std::string& linkname = "") {
    TarEntry e;
    e.name = name;
    e.type = type;
    e.mode = type == TarType::kDirectory ? 0755 : 0644;
    e.uid = uid;
    e.gid = gid;
    e.linkname = linkname;
    e.devmajor = 1;
    e.devminor = 3;
    e.size = static_cast<int64_t>(content.size());
    l.Add(e, content);
  };
  add("dev/", TarType::kDirectory, me, my_group);
  add("dev/null", TarType::kCharDevice, other, other);
  add("dev/sda", TarType::kBlockDevice, me, my_group);
  add("home/", TarType::kDirectory, me, other);                // counted: group differs
  add("home/owned", TarType::kRegular, other, other, "data");  // counted
  add("home/mine", TarType::kRegular, me, my_group, "mine");
  add("home/sym", TarType::kSymlink, other, my_group, "", "owned");      // counted
  add("home/hard", TarType::kHardlink, other, other, "", "home/owned");  // the same inode
  add("home/fifo", TarType::kFifo, other, other);                        // counted
  UnpackOptions options;
  options.simulate_unprivileged = true;
  auto r = Apply(l, options);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->skipped_devices, 2);
  EXPECT_EQ(r->owners_not_applied, 4);
  EXPECT_FALSE(Exists(R("dev/null")));
  EXPECT_FALSE(Exists(R("dev/sda")));
  struct stat st;
  ASSERT_EQ(::lstat(R("home/owned").c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, ::geteuid());
  EXPECT_EQ(Slurp(R("home/hard")), "data");

  UnpackLosses losses;
  losses.Add(*r);
  losses.Add(*r);  // a second layer
  EXPECT_EQ(losses.devices, 4);
  EXPECT_EQ(losses.owners, 8);
}

TEST(UnpackLossesTest, Describe) {
  const std::string as = "unpacking as uid " + std::to_string(::geteuid()) + ": ";
  const std::string run = ::geteuid() == 0
                              ? "; run with CAP_MKNOD and CAP_CHOWN outside a user namespace"
                              : "; run as root";
  EXPECT_EQ(DescribeUnpackLosses({}), "");
  EXPECT_EQ(DescribeUnpackLosses({.devices = 3, .owners = 120}),
            as +
                "3 device nodes were not created and 120 files keep your ownership instead of "
                "the archive's" +
                run + " to keep them");
  EXPECT_EQ(DescribeUnpackLosses({.devices = 1, .owners = 0}),
            as + "1 device node was not created" + run + " to keep it");
  EXPECT_EQ(DescribeUnpackLosses({.devices = 0, .owners = 1}),
            as + "1 file keeps your ownership instead of the archive's" + run + " to keep it");
  const std::string run_markers =
      ::geteuid() == 0
          ? "; run with CAP_MKNOD, CAP_CHOWN and CAP_SYS_ADMIN outside a user namespace"
          : "; run as root";
  EXPECT_EQ(DescribeUnpackLosses({.devices = 0, .owners = 2, .whiteouts = 1, .opaque_dirs = 3}),
            as +
                "2 files keep your ownership instead of the archive's, 1 deleted file was not "
                "marked as deleted and 3 opaque directories were not marked opaque" +
                run_markers + " to keep them");
}

TEST_P(UnpackTest, XattrsAreBestEffort) {
  TarBuilder l;
  TarEntry file;
  file.name = "tagged";
  file.size = 1;
  file.xattrs["user.strata.test"] = "value";
  l.Add(file, "x");
  auto r = Apply(l);
  ASSERT_TRUE(r) << r.error().message;
  char buf[64];
  ssize_t n = ::lgetxattr(R("tagged").c_str(), "user.strata.test", buf, sizeof buf);
  if (r->xattr_failures == 0) {
    ASSERT_EQ(n, 5);
    EXPECT_EQ(std::string(buf, 5), "value");
  } else {
    EXPECT_EQ(r->xattr_failures, 1);  // filesystem without user xattrs
  }
}

TEST_P(UnpackTest, ReportsBrokenEntries) {
  {
    TarBuilder l;
    l.Hardlink("nope", "x");
    ExpectError(l, "unpacking tar entry x: hard link to /nope: No such file or directory");
  }
  {
    TarBuilder l;
    TarEntry odd;
    odd.name = "volume";
    odd.type = TarType::kOther;
    odd.typeflag = 'V';
    l.Add(odd);
    ExpectError(l, "unpacking tar entry volume: unsupported entry type 'V'");
  }
  {
    TarBuilder l;
    l.File("plain", "p").File("plain/child", "c");
    ExpectError(l, "unpacking tar entry plain/child: parent directory /plain: Not a directory");
  }
}

TEST_P(UnpackTest, CorruptArchiveStopsTheUnpack) {
  TarBuilder l;
  l.File("one", "1").File("two", "2");
  std::string tar = l.Build();
  tar[512 * 2 + 1] ^= 1;
  StringReader in(tar);
  TarReader reader(in);
  UnpackOptions options;
  options.use_openat2 = GetParam();
  auto r = UnpackLayer(reader, root_, options);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().message, "tar header checksum mismatch at offset 1024");
  EXPECT_EQ(Slurp(R("one")), "1");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
