#include "transport/image_transport.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <set>
#include <vector>

namespace strata {
namespace {

std::string Errno(const std::string& op, const std::string& path) {
  return op + " " + path + ": " + std::strerror(errno);
}

std::string DirOf(const std::string& path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}

// Hashes and counts a blob's bytes as they pass; Check() compares with the descriptor.
class BlobCheck {
 public:
  explicit BlobCheck(const Descriptor& blob) : blob_(blob), hasher_(blob.digest.algorithm()) {}
  Status Add(const char* data, size_t size) {
    count_ += size;
    if (count_ > static_cast<uint64_t>(blob_.size)) {
      return Fail(ErrorCode::kCorrupt, "blob " + blob_.digest.str() + " is larger than the " +
                                           std::to_string(blob_.size) +
                                           " bytes its descriptor states");
    }
    hasher_.Update(data, size);
    return {};
  }
  Status Check() {
    if (count_ != static_cast<uint64_t>(blob_.size)) {
      return Fail(ErrorCode::kCorrupt,
                  "blob " + blob_.digest.str() + " has " + std::to_string(count_) +
                      " bytes, its descriptor states " + std::to_string(blob_.size));
    }
    Digest actual = hasher_.Finish();
    if (actual != blob_.digest) {
      return Fail(ErrorCode::kCorrupt, "blob " + blob_.digest.str() +
                                           " does not match its digest: the content hashes to " +
                                           actual.str());
    }
    return {};
  }

 private:
  const Descriptor& blob_;
  Hasher hasher_;
  uint64_t count_ = 0;
};

}  // namespace

std::string ProgressId(const std::string& name) {
  auto is_hex = [](std::string_view s) {
    return s.size() >= 12 && s.find_first_not_of("0123456789abcdef") == std::string_view::npos;
  };
  std::string_view n = name;
  if (auto colon = n.rfind(':'); colon != std::string_view::npos && is_hex(n.substr(colon + 1))) {
    return std::string(n.substr(colon + 1, 12));
  }
  if (auto slash = n.rfind('/'); slash != std::string_view::npos) {
    if (is_hex(n.substr(slash + 1))) return std::string(n.substr(slash + 1, 12));
    std::string_view dir = n.substr(0, slash);
    if (auto up = dir.rfind('/'); up != std::string_view::npos) dir = dir.substr(up + 1);
    if (is_hex(dir)) return std::string(dir.substr(0, 12));
  }
  return name;
}

namespace {

// Copies the blobs of one image manifest that are not in `done` yet.
Status TransferBlobs(ImageSource& source, const ManifestBlob& manifest,
                     ImageDestination& destination, std::set<Digest>& done,
                     const ProgressFn& progress, const BlobProgressFn& blob_progress) {
  auto say = [&](const std::string& line) {
    if (progress) progress(line);
  };
  STRATA_ASSIGN(parsed, ParseImageManifest(manifest.bytes, manifest.media_type));
  auto copy = [&](const Descriptor& blob, BlobRole role) -> Status {
    if (!done.insert(blob.digest).second) return {};
    const char* kind = role == BlobRole::kConfig ? "config" : "blob";
    if (destination.HasBlob(blob)) {
      say(std::string("Copying ") + kind + " " + blob.digest.str() + " skipped: already exists");
      return {};
    }
    say(std::string("Copying ") + kind + " " + blob.digest.str());
    STRATA_ASSIGN(reader, source.GetBlob(blob));
    if (!blob_progress || role == BlobRole::kConfig)
      return destination.PutBlob(blob, role, *reader);
    ProgressReader counted(*reader, blob_progress, ProgressId(blob.digest.str()),
                           static_cast<uint64_t>(blob.size));
    return destination.PutBlob(blob, role, counted);
  };
  for (const Descriptor& layer : parsed.layers) STRATA_TRY(copy(layer, BlobRole::kLayer));
  return copy(parsed.config, BlobRole::kConfig);
}

}  // namespace

Status TransferImage(ImageSource& source, ImageDestination& destination, const ProgressFn& progress,
                     const BlobProgressFn& blob_progress) {
  STRATA_ASSIGN(manifest, source.GetManifest());
  std::set<Digest> done;
  STRATA_TRY(TransferBlobs(source, manifest, destination, done, progress, blob_progress));
  if (progress) progress("Writing manifest to image destination");
  return destination.PutManifest(manifest);
}

Status TransferIndex(ImageSource& source, const ManifestBlob& index, ImageDestination& destination,
                     const ProgressFn& progress, const BlobProgressFn& blob_progress) {
  if (!destination.CanStoreIndex()) {
    return Fail(
        "this destination cannot hold a multi-platform index (copy one platform's image "
        "without --all)");
  }
  STRATA_ASSIGN(entries, ParseIndex(index.bytes));
  if (progress) progress("Copying " + std::to_string(entries.size()) + " images of the index");
  std::set<Digest> done;
  std::set<Digest> manifests_done;
  for (const IndexEntry& entry : entries) {
    if (IsIndexMediaType(entry.descriptor.media_type)) {
      return Fail("index " + index.digest().str() + " names another index (" +
                  entry.descriptor.digest.str() + "): nested indexes are not copied");
    }
    if (!manifests_done.insert(entry.descriptor.digest).second) continue;
    STRATA_ASSIGN(manifest, source.GetIndexedManifest(entry.descriptor));
    STRATA_TRY(TransferBlobs(source, manifest, destination, done, progress, blob_progress));
    if (progress) progress("Writing manifest " + entry.descriptor.digest.str());
    STRATA_TRY(destination.PutIndexedManifest(manifest));
  }
  if (progress) progress("Writing manifest list to image destination");
  return destination.PutManifest(index);
}

Status CopyVerified(Reader& from, Writer& to, const Descriptor& blob) {
  BlobCheck check(blob);
  std::vector<char> buffer(1 << 20);
  for (;;) {
    STRATA_ASSIGN(n, from.Read(buffer.data(), buffer.size()));
    if (n == 0) break;
    STRATA_TRY(check.Add(buffer.data(), n));
    STRATA_TRY(to.Write(buffer.data(), n));
  }
  return check.Check();
}

Result<std::string> ReadVerifiedBlob(Reader& from, const Descriptor& blob, uint64_t max_size) {
  if (static_cast<uint64_t>(blob.size) > max_size) {
    return Fail("blob " + blob.digest.str() + " is " + std::to_string(blob.size) +
                " bytes, over the " + std::to_string(max_size) + "-byte limit for its kind");
  }
  StringWriter out;
  STRATA_TRY(CopyVerified(from, out, blob));
  return std::move(out.out);
}

Status WriteVerifiedFile(const std::string& path, Reader& from, const Descriptor& blob) {
  STRATA_ASSIGN(file, AtomicFile::Create(path));
  STRATA_TRY(CopyVerified(from, *file, blob));
  return file->Commit();
}

Result<std::unique_ptr<Reader>> OpenFileReader(const std::string& path) {
  STRATA_ASSIGN(fd, OpenRead(path));
  return std::unique_ptr<Reader>(new FdReader(fd.release(), path, /*owns=*/true));
}

// --- AtomicFile ----------------------------------------------------------------------------------

Result<std::unique_ptr<AtomicFile>> AtomicFile::Create(const std::string& path) {
  std::string temp = path + ".strata-tmp-" + RandomHexId().substr(0, 12);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) return Fail(Errno("create", temp));
  return std::unique_ptr<AtomicFile>(new AtomicFile(path, std::move(temp), UniqueFd(fd)));
}

AtomicFile::~AtomicFile() {
  if (!committed_) ::unlink(temp_.c_str());
}

Status AtomicFile::Write(const char* data, size_t size) {
  if (committed_) return Fail("write to " + path_ + " after commit");
  FdWriter writer(fd_.get(), temp_);
  return writer.Write(data, size);
}

Status AtomicFile::Commit() {
  if (committed_) return {};
  if (::fsync(fd_.get()) != 0) return Fail(Errno("fsync", temp_));
  fd_ = UniqueFd();
  if (::rename(temp_.c_str(), path_.c_str()) != 0) return Fail(Errno("rename to", path_));
  committed_ = true;
  return FsyncDir(DirOf(path_));
}

// --- ScratchDir ----------------------------------------------------------------------------------

Result<std::unique_ptr<ScratchDir>> ScratchDir::Create(const std::string& purpose) {
  const char* base = std::getenv("TMPDIR");
  std::string tmpl = std::string(base != nullptr && *base != '\0' ? base : "/var/tmp") +
                     "/strata-" + purpose + "-XXXXXX";
  char* made = ::mkdtemp(tmpl.data());
  if (made == nullptr) return Fail(Errno("create temporary directory", tmpl));
  return std::unique_ptr<ScratchDir>(new ScratchDir(made));
}

ScratchDir::~ScratchDir() { (void)RemoveAll(path_); }

}  // namespace strata
