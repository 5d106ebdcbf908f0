// The content store: immutable blobs addressed by digest under <root>/blobs/<algo>/<hex>.
// Blobs are ingested streaming: hashed while written to a temporary file under <root>/ingest,
// then (only after the caller has verified them) renamed into place. Nothing trusts a file name:
// Verify() re-hashes. Safe for several processes at once: a blob becomes visible only by an atomic
// rename, and writing the same blob twice is harmless.
#pragma once

#include <cstdint>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "util/buffer_pool.h"
#include "util/file.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

class ContentStore;

// How a blob that outgrows the write buffer reaches the disk (small blobs are always buffered).
enum class BlobWriteMode {
  // Through the page cache, with write-back started every 32 MiB so the final fsync has little
  // left. The kernel schedules the device for all writers at once: a pull writing three layers
  // at a time finished 20% sooner than with direct writes, which queued behind one another.
  kBuffered,
  // O_DIRECT in whole aligned blocks (the tail goes through the page cache at Finish), written
  // from a helper thread while the next buffer fills. For one large sequential writer, where
  // copying gigabytes into the page cache cost more CPU than hashing them (migrate: 7.4 s ->
  // 2.6 s of CPU for 2.16 GB). Filesystems without O_DIRECT (tmpfs) get buffered writes.
  kDirect,
};

// A blob being written. Write() hashes and buffers; Finish() flushes, fsyncs and fixes the digest;
// Commit() makes it visible. Destroying an uncommitted writer removes its temporary file.
class BlobWriter : public Writer {
 public:
  BlobWriter(BlobWriter&&) noexcept;
  BlobWriter& operator=(BlobWriter&&) = delete;
  ~BlobWriter() override;

  Status Write(const char* data, size_t size) override;
  // Ends writing; returns the digest of everything written. Idempotent.
  Result<Digest> Finish();
  // Renames the finished blob into the store. If `expected` is given and differs from the
  // computed digest, nothing is committed and the error names both digests.
  Status Commit(const std::optional<Digest>& expected = std::nullopt);
  void Abort();
  // Instead of removing the unfinished file, keeps what was written so far at `path` (under the
  // store's ingest/), for a later attempt to continue from; the writer is closed.
  Status KeepAs(const std::string& path);
  uint64_t size() const { return size_; }

 private:
  friend class ContentStore;
  BlobWriter(std::string store_root, UniqueFd fd, std::string temp_path, DigestAlgorithm algo,
             BlobWriteMode mode);
  // Writes out the buffer: all of it, or with `aligned_only` only whole blocks (direct I/O).
  Status FlushBuffer(bool aligned_only);
  Status WaitInflight();
  // Buffered mode: starts write-back of what was written since the last start, every 32 MiB.
  void StartWriteback();

  std::string store_root_;
  UniqueFd fd_;
  std::string temp_path_;
  Hasher hasher_;
  PooledBuffer buffer_;  // kWriteBuffer bytes, block-aligned
  PooledBuffer spare_;   // the buffer being written by inflight_
  std::future<Status> inflight_;
  size_t buffered_ = 0;
  BlobWriteMode mode_;
  bool direct_ = false;  // O_DIRECT is on for fd_
  uint64_t size_ = 0;
  uint64_t synced_ = 0;
  std::optional<Digest> digest_;
  bool done_ = false;
};

class ContentStore {
 public:
  static Result<ContentStore> Open(const std::string& root);
  // The content store of an existing root, creating nothing (for a read-only store).
  static ContentStore OpenExisting(const std::string& root) { return ContentStore(root); }

  std::string BlobPath(const Digest& digest) const;
  bool Exists(const Digest& digest) const;
  Result<uint64_t> Size(const Digest& digest) const;
  Result<UniqueFd> OpenBlob(const Digest& digest) const;
  // A stream of a blob that hashes what it reads and, when the bytes do not hash to `digest` (or
  // the file has not `expected_size` bytes), fails instead of handing out the last of them: a
  // consumer that passes the bytes on (save, push) never completes with damaged content. The
  // error names the blob, what it hashes to, and `strata fsck`.
  Result<std::unique_ptr<Reader>> OpenVerified(
      const Digest& digest, std::optional<uint64_t> expected_size = std::nullopt) const;
  // Reads a whole (small) blob and checks its digest; refuses blobs above max_size.
  Result<std::string> ReadVerified(const Digest& digest, uint64_t max_size = 64 << 20) const;
  Result<BlobWriter> NewWriter(DigestAlgorithm algorithm = DigestAlgorithm::kSha256) const;
  // Moves a finished, fsynced file (on the store's filesystem) into the store as `digest`. The
  // caller has verified the bytes. If the blob is already there the file is just removed.
  Status Adopt(const std::string& path, const Digest& digest) const;
  // Stores small bytes; returns their digest.
  Result<Digest> Put(std::string_view bytes) const;
  // Re-hashes a blob: fails if its bytes no longer match its name.
  Status Verify(const Digest& digest) const;
  Status Delete(const Digest& digest) const;
  Result<std::vector<Digest>> List() const;
  // Where a download of `digest` that broke off keeps the bytes it got (see BlobWriter::KeepAs).
  std::string PartialPath(const Digest& digest) const;
  // Removes temporary files left by crashed writers older than `min_age_seconds`, and kept
  // partial downloads older than `partial_min_age_seconds`; returns the bytes freed.
  Result<uint64_t> CleanIngest(int64_t min_age_seconds, int64_t partial_min_age_seconds) const;

  const std::string& root() const { return root_; }
  // For writers made from now on; kBuffered unless set.
  void set_write_mode(BlobWriteMode mode) { write_mode_ = mode; }

 private:
  explicit ContentStore(std::string root) : root_(std::move(root)) {}
  std::string root_;
  BlobWriteMode write_mode_ = BlobWriteMode::kBuffered;
};

}  // namespace strata
