#include "archive/layer_size.h"

#include "util/clean_path.h"

namespace strata {

int64_t LayerSizeCounter::NewInode(int64_t size) {
  int64_t id = next_inode_++;
  inodes_[id] = Inode{size, 0};
  return id;
}

void LayerSizeCounter::Unlink(const Node& node) {
  if (node.inode < 0) return;
  auto it = inodes_.find(node.inode);
  if (it == inodes_.end()) return;
  if (--it->second.links == 0) {
    total_ -= it->second.size;
    inodes_.erase(it);
  }
}

void LayerSizeCounter::Replace(const std::string& path, Node node) {
  if (node.inode >= 0) {
    // Link first: the path may already hold this very inode.
    Inode& inode = inodes_.at(node.inode);
    if (inode.links++ == 0) total_ += inode.size;
  }
  auto existing = paths_.find(path);
  if (existing != paths_.end()) {
    if (existing->second.inode < 0 && node.inode < 0) return;  // directory over directory: merge
    Unlink(existing->second);
    paths_.erase(existing);
  }
  if (node.inode >= 0) {
    // Whatever was below `path` goes with the directory it replaces.
    const std::string prefix = path + "/";
    auto first = paths_.lower_bound(prefix);
    auto last = first;
    while (last != paths_.end() && last->first.compare(0, prefix.size(), prefix) == 0) {
      Unlink(last->second);
      ++last;
    }
    paths_.erase(first, last);
  }
  paths_.emplace(path, node);
}

void LayerSizeCounter::Add(const TarEntry& entry) {
  std::optional<std::string> rel = RootRelative(entry.name);
  if (!rel || rel->empty()) return;
  // AUFS metadata at the top of the layer (".wh..wh.plnk/...") is not unpacked.
  if (rel->starts_with(".wh..wh.") && *rel != ".wh..wh..opq") return;
  const size_t slash = rel->rfind('/');
  const std::string base = slash == std::string::npos ? *rel : rel->substr(slash + 1);
  if (base.starts_with(".wh.")) {
    // Opaque markers and AUFS metadata become no file in an overlay diff directory; a whiteout
    // becomes a 0/0 character device in place of the name it hides.
    if (base.starts_with(".wh..wh.")) return;
    std::string hidden = rel->substr(0, rel->size() - base.size()) + base.substr(4);
    if (base.size() > 4) Replace(hidden, Node{NewInode(0)});
    return;
  }
  switch (entry.type) {
    case TarType::kDirectory:
      Replace(*rel, Node{-1});
      return;
    case TarType::kRegular:
    case TarType::kOther:
      Replace(*rel, Node{NewInode(entry.size)});
      return;
    case TarType::kSymlink:
      Replace(*rel, Node{NewInode(static_cast<int64_t>(entry.linkname.size()))});
      return;
    case TarType::kHardlink: {
      std::string target = ClampedRootRelative(entry.linkname);
      auto it = paths_.find(target);
      if (it != paths_.end() && it->second.inode >= 0) {
        if (target != *rel) Replace(*rel, it->second);
      } else {
        Replace(*rel, Node{NewInode(0)});  // a target outside this layer: the apply would fail
      }
      return;
    }
    case TarType::kCharDevice:
    case TarType::kBlockDevice:
    case TarType::kFifo:
      Replace(*rel, Node{NewInode(0)});
      return;
  }
}

}  // namespace strata
