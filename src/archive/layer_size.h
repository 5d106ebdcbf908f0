// Docker overlay2's DiffSize for a layer computed from its tar entries alone, without unpacking:
// the bytes of the layer's own final files as directory.Size counts them in the layer's diff
// directory (Lstat sizes, each inode once). Regular files count their size once per inode (hard
// links add nothing), symlinks the length of their target; directories, whiteouts, opaque
// markers, devices and fifos count 0. A path that appears again replaces the earlier one (and a
// non-directory replacing a directory drops everything below it).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <unordered_map>

#include "archive/tar_entry.h"

namespace strata {

class LayerSizeCounter {
 public:
  void Add(const TarEntry& entry);
  int64_t total() const { return total_; }

 private:
  struct Node {
    int64_t inode;  // key into inodes_; -1 for directories
  };
  struct Inode {
    int64_t size;
    int64_t links;
  };
  void Replace(const std::string& path, Node node);
  void Unlink(const Node& node);
  int64_t NewInode(int64_t size);

  std::map<std::string, Node> paths_;  // ordered, so a directory's subtree is one range
  std::unordered_map<int64_t, Inode> inodes_;
  int64_t next_inode_ = 0;
  int64_t total_ = 0;
};

}  // namespace strata
