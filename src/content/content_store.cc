#include "content/content_store.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <new>

namespace strata {
namespace {

constexpr size_t kWriteBuffer = 1 << 20;
// O_DIRECT needs block-aligned memory (pooled buffers are), offsets and lengths; 4 KiB covers the
// usual devices.
constexpr size_t kDirectAlign = PooledBuffer::kAlignment;
// Buffered mode writes pieces at least this large without copying them into the buffer.
constexpr size_t kUnbufferedPiece = 64 << 10;
// Start write-back every 32 MiB so the final fsync of a large layer has little left to do.
constexpr uint64_t kWritebackChunk = 32 << 20;

// "write PATH: No space left on device", with what to do when the cause is the store's device or
// its owner.
std::string Errno(const std::string& op, const std::string& path) {
  const int e = errno;
  std::string msg = op + " " + path + ": " + std::strerror(e);
  if (e == ENOSPC || e == EDQUOT) {
    msg +=
        " (free space on the store's device, e.g. with `strata gc` or `strata image prune`, "
        "or use another --root)";
  } else if (e == EACCES || e == EPERM || e == EROFS) {
    msg += " (the store is not writable by uid " + std::to_string(::geteuid()) +
           ": run as the store's owner or use another --root)";
  }
  return msg;
}

// Writes everything; if the filesystem refuses direct I/O after all (EINVAL), clears O_DIRECT on
// the descriptor and carries on through the page cache.
Status WriteFully(int fd, const char* p, size_t left, const std::string& path) {
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      const int flags = ::fcntl(fd, F_GETFL);
      if (errno == EINVAL && flags >= 0 && (flags & O_DIRECT) != 0 &&
          ::fcntl(fd, F_SETFL, flags & ~O_DIRECT) == 0) {
        continue;
      }
      return Fail(Errno("write", path));
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  return {};
}

std::string CorruptBlob(const Digest& digest, const std::string& what) {
  return "blob " + digest.str() + " in the store is corrupt: " + what +
         "; run `strata fsck` to see what it damages (`strata fsck --repair` removes those images)";
}

// See ContentStore::OpenVerified. The check runs when the last byte the file holds has been
// read, before that byte is handed out, and again at end of file (a file that shrank).
class VerifyingBlobReader : public Reader {
 public:
  VerifyingBlobReader(UniqueFd fd, std::string path, Digest digest, uint64_t size)
      : file_(fd.release(), std::move(path), /*owns=*/true),
        digest_(std::move(digest)),
        hasher_(digest_.algorithm()),
        size_(size) {}

  Result<size_t> Read(char* buffer, size_t size) override {
    if (checked_) return 0;
    STRATA_ASSIGN(n, file_.Read(buffer, size));
    read_ += n;
    hasher_.Update(buffer, n);
    if (n > 0 && read_ < size_) return n;
    STRATA_TRY(Check());
    return n;
  }

 private:
  Status Check() {
    checked_ = true;
    if (read_ != size_) {
      return Fail(ErrorCode::kCorrupt,
                  CorruptBlob(digest_, "it ended after " + std::to_string(read_) + " of " +
                                           std::to_string(size_) + " bytes"));
    }
    Digest actual = hasher_.Finish();
    if (actual != digest_)
      return Fail(ErrorCode::kCorrupt,
                  CorruptBlob(digest_, "its content hashes to " + actual.str()));
    return {};
  }

  FdReader file_;
  Digest digest_;
  Hasher hasher_;
  uint64_t size_;
  uint64_t read_ = 0;
  bool checked_ = false;
};

}  // namespace

BlobWriter::BlobWriter(std::string store_root, UniqueFd fd, std::string temp_path,
                       DigestAlgorithm algo, BlobWriteMode mode)
    : store_root_(std::move(store_root)),
      fd_(std::move(fd)),
      temp_path_(std::move(temp_path)),
      hasher_(algo),
      buffer_(PooledBuffer::Acquire(kWriteBuffer)),
      mode_(mode) {}

BlobWriter::BlobWriter(BlobWriter&& o) noexcept
    : store_root_(std::move(o.store_root_)),
      fd_(std::move(o.fd_)),
      temp_path_(std::move(o.temp_path_)),
      hasher_(std::move(o.hasher_)),
      buffer_(std::move(o.buffer_)),
      spare_(std::move(o.spare_)),
      inflight_(std::move(o.inflight_)),
      buffered_(o.buffered_),
      mode_(o.mode_),
      direct_(o.direct_),
      size_(o.size_),
      synced_(o.synced_),
      digest_(std::move(o.digest_)),
      done_(o.done_) {
  o.done_ = true;
  o.temp_path_.clear();
}

BlobWriter::~BlobWriter() { Abort(); }

void BlobWriter::Abort() {
  if (done_) return;
  done_ = true;
  (void)WaitInflight();
  fd_ = UniqueFd();
  if (!temp_path_.empty()) ::unlink(temp_path_.c_str());
}

Status BlobWriter::KeepAs(const std::string& path) {
  if (done_ || digest_) return Fail("keep a finished blob " + temp_path_);
  STRATA_TRY(FlushBuffer(/*aligned_only=*/false));
  STRATA_TRY(WaitInflight());
  done_ = true;
  fd_ = UniqueFd();
  if (::rename(temp_path_.c_str(), path.c_str()) != 0) {
    std::string msg = Errno("rename", temp_path_);
    ::unlink(temp_path_.c_str());
    return Fail(msg);
  }
  return {};
}

Status BlobWriter::WaitInflight() {
  if (!inflight_.valid()) return {};
  return inflight_.get();
}

Status BlobWriter::FlushBuffer(bool aligned_only) {
  if (aligned_only && !direct_ && mode_ == BlobWriteMode::kDirect) {
    // A blob bigger than the buffer: from here on, whole blocks bypass the page cache.
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    direct_ = flags >= 0 && ::fcntl(fd_.get(), F_SETFL, flags | O_DIRECT) == 0;
  }
  if (!aligned_only && direct_) {
    // The tail is not a whole block: it goes through the page cache.
    const int flags = ::fcntl(fd_.get(), F_GETFL);
    if (flags < 0 || ::fcntl(fd_.get(), F_SETFL, flags & ~O_DIRECT) != 0) {
      return Fail(Errno("fcntl", temp_path_));
    }
    direct_ = false;
  }
  STRATA_TRY(WaitInflight());
  if (direct_ && buffered_ % kDirectAlign == 0) {
    // Hand the full buffer to a helper thread and keep filling the other one.
    if (!spare_) spare_ = PooledBuffer::Acquire(kWriteBuffer);
    std::swap(buffer_, spare_);
    inflight_ = std::async(std::launch::async,
                           [fd = fd_.get(), data = spare_.get(), n = buffered_, path = temp_path_] {
                             return WriteFully(fd, data, n, path);
                           });
    buffered_ = 0;
    return {};
  }
  const size_t n = direct_ ? buffered_ - buffered_ % kDirectAlign : buffered_;
  STRATA_TRY(WriteFully(fd_.get(), buffer_.get(), n, temp_path_));
  std::memmove(buffer_.get(), buffer_.get() + n, buffered_ - n);
  buffered_ -= n;
  StartWriteback();
  return {};
}

void BlobWriter::StartWriteback() {
  const uint64_t written = size_ - buffered_;
  if (!direct_ && written - synced_ >= kWritebackChunk) {
    ::sync_file_range(fd_.get(), static_cast<off_t>(synced_), static_cast<off_t>(written - synced_),
                      SYNC_FILE_RANGE_WRITE);
    synced_ = written;
  }
}

Status BlobWriter::Write(const char* data, size_t size) {
  if (done_ || digest_) return Fail("write to a finished blob " + temp_path_);
  hasher_.Update(data, size);
  if (mode_ == BlobWriteMode::kBuffered && size >= kUnbufferedPiece) {
    // Through the page cache a large piece goes from the caller's memory: copying it into the
    // buffer first would only add a pass over the bytes.
    if (buffered_ > 0) STRATA_TRY(FlushBuffer(/*aligned_only=*/false));
    STRATA_TRY(WriteFully(fd_.get(), data, size, temp_path_));
    size_ += size;
    StartWriteback();
    return {};
  }
  size_ += size;
  while (size > 0) {
    const size_t n = std::min(size, kWriteBuffer - buffered_);
    std::memcpy(buffer_.get() + buffered_, data, n);
    buffered_ += n;
    data += n;
    size -= n;
    if (buffered_ == kWriteBuffer) STRATA_TRY(FlushBuffer(/*aligned_only=*/true));
  }
  return {};
}

Result<Digest> BlobWriter::Finish() {
  if (digest_) return *digest_;
  if (done_) return Fail("blob writer already closed");
  STRATA_TRY(FlushBuffer(/*aligned_only=*/false));
  if (::fdatasync(fd_.get()) != 0) return Fail(Errno("fsync", temp_path_));
  // The buffers go back to the pool now, not when the staged blob is committed much later.
  buffer_ = PooledBuffer();
  spare_ = PooledBuffer();
  digest_ = hasher_.Finish();
  return *digest_;
}

Status BlobWriter::Commit(const std::optional<Digest>& expected) {
  STRATA_ASSIGN(digest, Finish());
  if (done_) return Fail("blob writer already closed");
  if (expected && *expected != digest) {
    Abort();
    return Fail(ErrorCode::kCorrupt,
                "digest mismatch: expected " + expected->str() + ", got " + digest.str());
  }
  std::string final_path =
      store_root_ + "/blobs/" + std::string(digest.algorithm_name()) + "/" + digest.hex();
  fd_ = UniqueFd();
  if (::rename(temp_path_.c_str(), final_path.c_str()) != 0) {
    std::string msg = Errno("rename", temp_path_);
    Abort();
    return Fail(msg);
  }
  done_ = true;
  return FsyncDir(final_path.substr(0, final_path.rfind('/')));
}

Result<ContentStore> ContentStore::Open(const std::string& root) {
  STRATA_TRY(MakeDirs(root + "/blobs/sha256"));
  STRATA_TRY(MakeDirs(root + "/blobs/sha512"));
  STRATA_TRY(MakeDirs(root + "/ingest", 0700));
  return ContentStore(root);
}

std::string ContentStore::BlobPath(const Digest& digest) const {
  return root_ + "/blobs/" + std::string(digest.algorithm_name()) + "/" + digest.hex();
}

bool ContentStore::Exists(const Digest& digest) const {
  struct stat st;
  return ::stat(BlobPath(digest).c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<uint64_t> ContentStore::Size(const Digest& digest) const {
  struct stat st;
  std::string path = BlobPath(digest);
  if (::stat(path.c_str(), &st) != 0)
    return Fail(ErrorCode::kNotFound, "blob " + digest.str() + " not found in store");
  return static_cast<uint64_t>(st.st_size);
}

Result<UniqueFd> ContentStore::OpenBlob(const Digest& digest) const {
  int fd = ::open(BlobPath(digest).c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT)
      return Fail(ErrorCode::kNotFound, "blob " + digest.str() + " not found in store");
    return Fail(Errno("open blob", digest.str()));
  }
  return UniqueFd(fd);
}

Result<std::unique_ptr<Reader>> ContentStore::OpenVerified(
    const Digest& digest, std::optional<uint64_t> expected_size) const {
  STRATA_ASSIGN(fd, OpenBlob(digest));
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Fail(Errno("stat blob", digest.str()));
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  if (expected_size && *expected_size != size) {
    return Fail(ErrorCode::kCorrupt,
                CorruptBlob(digest, "it has " + std::to_string(size) + " bytes, not the " +
                                        std::to_string(*expected_size) + " recorded"));
  }
  return std::unique_ptr<Reader>(
      new VerifyingBlobReader(std::move(fd), BlobPath(digest), digest, size));
}

Result<std::string> ContentStore::ReadVerified(const Digest& digest, uint64_t max_size) const {
  STRATA_ASSIGN(size, Size(digest));
  if (size > max_size) {
    return Fail("blob " + digest.str() + " is " + std::to_string(size) + " bytes, over the " +
                std::to_string(max_size) + "-byte limit");
  }
  STRATA_ASSIGN(bytes, ReadFile(BlobPath(digest)));
  Hasher h(digest.algorithm());
  h.Update(bytes);
  Digest actual = h.Finish();
  if (actual != digest) {
    return Fail(ErrorCode::kCorrupt,
                "blob " + digest.str() + " is corrupt: its content hashes to " + actual.str());
  }
  return bytes;
}

Result<BlobWriter> ContentStore::NewWriter(DigestAlgorithm algorithm) const {
  std::string temp = root_ + "/ingest/" + RandomHexId().substr(0, 24);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(Errno("create", temp));
  return BlobWriter(root_, UniqueFd(fd), std::move(temp), algorithm, write_mode_);
}

Result<Digest> ContentStore::Put(std::string_view bytes) const {
  Digest digest = Digest::Sha256Of(bytes);
  if (Exists(digest)) return digest;
  STRATA_ASSIGN(writer, NewWriter());
  STRATA_TRY(writer.Write(bytes.data(), bytes.size()));
  STRATA_TRY(writer.Commit(digest));
  return digest;
}

Status ContentStore::Adopt(const std::string& path, const Digest& digest) const {
  if (Exists(digest)) {
    ::unlink(path.c_str());
    return {};
  }
  std::string final_path = BlobPath(digest);
  if (::rename(path.c_str(), final_path.c_str()) != 0) return Fail(Errno("rename", path));
  return FsyncDir(final_path.substr(0, final_path.rfind('/')));
}

Status ContentStore::Verify(const Digest& digest) const {
  STRATA_ASSIGN(fd, OpenBlob(digest));
  FdReader reader(fd.get(), BlobPath(digest));
  STRATA_ASSIGN(actual, DigestStream(reader, digest.algorithm()));
  if (actual != digest) {
    return Fail(ErrorCode::kCorrupt,
                "blob " + digest.str() + " is corrupt: its content hashes to " + actual.str());
  }
  return {};
}

Status ContentStore::Delete(const Digest& digest) const {
  if (::unlink(BlobPath(digest).c_str()) != 0 && errno != ENOENT) {
    return Fail(Errno("remove blob", digest.str()));
  }
  return {};
}

Result<std::vector<Digest>> ContentStore::List() const {
  std::vector<Digest> out;
  for (const char* algo : {"sha256", "sha512"}) {
    std::string dir = root_ + "/blobs/" + algo;
    DIR* d = ::opendir(dir.c_str());
    if (d == nullptr) return Fail(Errno("list", dir));
    while (dirent* e = ::readdir(d)) {
      std::string name = e->d_name;
      if (name == "." || name == "..") continue;
      auto digest = Digest::Parse(std::string(algo) + ":" + name);
      if (digest) out.push_back(*digest);  // stray names are not blobs; fsck reports them
    }
    ::closedir(d);
  }
  return out;
}

std::string ContentStore::PartialPath(const Digest& digest) const {
  return root_ + "/ingest/partial-" + std::string(digest.algorithm_name()) + "-" + digest.hex();
}

Result<uint64_t> ContentStore::CleanIngest(int64_t min_age_seconds,
                                           int64_t partial_min_age_seconds) const {
  std::string dir = root_ + "/ingest";
  DIR* d = ::opendir(dir.c_str());
  if (d == nullptr) return Fail(Errno("list", dir));
  uint64_t freed = 0;
  time_t now = ::time(nullptr);
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    std::string path = dir + "/" + name;
    const int64_t keep = name.rfind("partial-", 0) == 0 ? partial_min_age_seconds : min_age_seconds;
    struct stat st;
    if (::lstat(path.c_str(), &st) == 0 && now - st.st_mtime >= keep) {
      if (::unlink(path.c_str()) == 0) freed += static_cast<uint64_t>(st.st_size);
    }
  }
  ::closedir(d);
  return freed;
}

}  // namespace strata
