// A strata store on disk: the content store (blobs), the metadata database and the directories
// holding unpacked layers. Layout under the root:
//   strata.db            SQLite metadata (WAL)
//   blobs/<algo>/<hex>   content-addressed blobs: configs, layer tars (named by diffID),
//                        compressed layer blobs, manifests
//   ingest/              temporary files of blobs being written
//   snapshots/           unpacked layers (by cache-id) and, later, containers' writable layers:
//                        snapshot/snapshotter.h owns this directory and its layout
//   layers/              where releases before images schema 2 unpacked layers; gc removes it
//   lock                 flock: operations that add content hold it shared, gc holds it exclusive,
//                        so gc never deletes a blob another process is about to reference
// Several strata processes may open one store at once. A store this process cannot write (owned by
// another user, on a read-only or full filesystem) opens for reading with StoreAccess::kReadOnly.
#pragma once

#include <memory>
#include <string>

#include "content/content_store.h"
#include "snapshot/snapshotter.h"
#include "store/metadata.h"
#include "util/file.h"
#include "util/result.h"

namespace strata {

// /var/lib/strata for root, $XDG_DATA_HOME/strata (default ~/.local/share/strata) otherwise.
std::string DefaultStoreRoot();

class StoreLock {
 public:
  StoreLock() = default;
  explicit StoreLock(UniqueFd fd) : fd_(std::move(fd)) {}

 private:
  UniqueFd fd_;  // closing the descriptor releases the flock
};

enum class StoreAccess {
  kReadWrite,
  // For commands that only read (images, inspect, history, save, fsck): when the store cannot be
  // opened for writing, it is opened without writing anything (no directories, no journal, no
  // lock file): see Database::OpenReadOnly.
  kReadOnly,
};

class Store {
 public:
  // Creates the store if needed. Errors say why the store cannot be used (not writable by this
  // user, no space left) and what to do.
  static Result<std::unique_ptr<Store>> Open(const std::string& root,
                                             StoreAccess access = StoreAccess::kReadWrite);

  const std::string& root() const { return root_; }
  ContentStore& content() { return content_; }
  Metadata& metadata() { return metadata_; }
  // Unpacked layers are committed snapshots named by their cache-id.
  Snapshotter& snapshots() { return snapshots_; }
  const Snapshotter& snapshots() const { return snapshots_; }

  // True when opened read-only after a read-write open failed.
  bool read_only() const { return read_only_; }

  // Shared: adding content. Exclusive: removing unreferenced content (gc, rmi). A read-only
  // store takes the shared lock only if it can open the lock file, and goes without otherwise.
  Result<StoreLock> LockShared() const;
  Result<StoreLock> LockExclusive() const;

 private:
  Store(std::string root, ContentStore content, Metadata metadata, bool read_only = false)
      : root_(std::move(root)),
        content_(std::move(content)),
        metadata_(std::move(metadata)),
        snapshots_(root_ + "/snapshots"),
        read_only_(read_only) {}
  static Result<std::unique_ptr<Store>> OpenReadWrite(const std::string& root);
  Result<StoreLock> Lock(int operation) const;

  std::string root_;
  ContentStore content_;
  Metadata metadata_;
  Snapshotter snapshots_;
  bool read_only_ = false;
};

}  // namespace strata
