#include "archive/layer_size.h"

#include <gtest/gtest.h>

#include <string>

namespace strata {
namespace STRATA_UNITY_ID {

TarEntry Dir(const std::string& name) {
  TarEntry e;
  e.name = name;
  e.type = TarType::kDirectory;
  return e;
}
TarEntry File(const std::string& name, int64_t size) {
  TarEntry e;
  e.name = name;
  e.size = size;
  return e;
}
TarEntry Link(TarType type, const std::string& target, const std::string& name) {
  TarEntry e;
  e.name = name;
  e.linkname = target;
  e.type = type;
  return e;
}

TEST(LayerSizeTest, BusyboxLayer) {
  LayerSizeCounter counter;
  counter.Add(Dir("bin/"));
  counter.Add(File("bin/busybox", 1982256));
  for (const char* name : {"sh", "ls", "cat", "echo", "mkdir", "rm"}) {
    counter.Add(Link(TarType::kSymlink, "busybox", std::string("bin/") + name));
  }
  EXPECT_EQ(counter.total(), 1982298);
}

TEST(LayerSizeTest, HardLinksCountOncePerInode) {
  LayerSizeCounter counter;
  counter.Add(File("a", 100));
  counter.Add(Link(TarType::kHardlink, "a", "b"));
  counter.Add(Link(TarType::kHardlink, "/a", "c"));
  EXPECT_EQ(counter.total(), 100);
  // Replacing "a" leaves the old inode alive through "b" and "c".
  counter.Add(File("a", 10));
  EXPECT_EQ(counter.total(), 110);
  counter.Add(File("b", 1));
  EXPECT_EQ(counter.total(), 111);
  counter.Add(File("c", 2));  // last link to the 100-byte inode gone
  EXPECT_EQ(counter.total(), 13);
  // Re-linking a path to the inode it already has changes nothing.
  counter.Add(Link(TarType::kHardlink, "a", "d"));
  counter.Add(Link(TarType::kHardlink, "a", "d"));
  EXPECT_EQ(counter.total(), 13);
}

TEST(LayerSizeTest, LastEntryForAPathWins) {
  LayerSizeCounter counter;
  counter.Add(File("x", 50));
  counter.Add(File("./x", 20));
  EXPECT_EQ(counter.total(), 20);
  counter.Add(Link(TarType::kSymlink, "target", "x"));
  EXPECT_EQ(counter.total(), 6);
}

TEST(LayerSizeTest, FileReplacingDirectoryDropsItsSubtree) {
  LayerSizeCounter counter;
  counter.Add(Dir("d/"));
  counter.Add(File("d/f", 100));
  counter.Add(File("d/sub/g", 1000));
  counter.Add(File("d2", 7));  // sorts between "d" and "d/" entries; must survive
  counter.Add(Dir("d"));       // directory over directory: merge
  EXPECT_EQ(counter.total(), 1107);
  counter.Add(File("d", 5));
  EXPECT_EQ(counter.total(), 12);
}

TEST(LayerSizeTest, MarkersDevicesAndFifosCountZero) {
  LayerSizeCounter counter;
  counter.Add(File("keep", 3));
  counter.Add(File("x", 10));
  counter.Add(File(".wh.x", 0));              // whiteout replaces x with a 0/0 device
  counter.Add(File("d/.wh..wh..opq", 0));     // opaque: a directory xattr
  counter.Add(File(".wh..wh.plnk/123", 99));  // AUFS metadata is not unpacked
  TarEntry fifo = File("fifo", 0);
  fifo.type = TarType::kFifo;
  counter.Add(fifo);
  TarEntry dev = File("null", 0);
  dev.type = TarType::kCharDevice;
  counter.Add(dev);
  EXPECT_EQ(counter.total(), 3);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
