// The two halves of an image copy, modelled on skopeo's containers/image types: an ImageSource
// serves one image's manifest and its blobs by descriptor; an ImageDestination takes blobs and a
// manifest and makes the image visible on Commit(). Destinations check every blob's digest and
// size while they write it, so no transport trusts another. TransferImage drives one copy.
// Also the small file helpers the transports share (verified streaming copies, atomic files,
// scratch directories). Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "oci/manifest.h"
#include "util/file.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

enum class BlobRole { kLayer, kConfig };

struct ManifestBlob {
  std::string bytes;
  std::string media_type;
  // Made up by strata for this copy (from a config and layer tars) rather than read from
  // somewhere: a store does not record it as the image's manifest.
  bool generated = false;

  Digest digest() const { return Digest::Sha256Of(bytes); }
};

class ImageSource {
 public:
  virtual ~ImageSource() = default;
  // The image manifest (sources resolve indexes to one image), checked against whatever
  // referred to it (an index descriptor).
  virtual Result<ManifestBlob> GetManifest() = 0;
  // The blob's bytes as stored; unverified (destinations verify).
  virtual Result<std::unique_ptr<Reader>> GetBlob(const Descriptor& blob) = 0;
  // The index (multi-platform image) the name referred to, before a platform was picked from
  // it; none when the name referred to an image manifest or the transport has no indexes.
  virtual Result<std::optional<ManifestBlob>> GetIndex() { return std::optional<ManifestBlob>(); }
  // An image manifest that GetIndex()'s index names, checked against its descriptor.
  virtual Result<ManifestBlob> GetIndexedManifest(const Descriptor& manifest) {
    return Fail("manifest " + manifest.digest.str() + ": this source has no index");
  }
};

class ImageDestination {
 public:
  virtual ~ImageDestination() = default;
  // True when the destination already holds the blob, so the copy can skip it.
  virtual bool HasBlob(const Descriptor& blob) {
    (void)blob;
    return false;
  }
  // Writes a blob, failing (and keeping nothing) unless it has the descriptor's digest and size.
  virtual Status PutBlob(const Descriptor& blob, BlobRole role, Reader& content) = 0;
  // The image's manifest; with CanStoreIndex(), also an index whose images were put first.
  virtual Status PutManifest(const ManifestBlob& manifest) = 0;
  // Whether the destination holds a whole index (PutIndexedManifest, then the index).
  virtual bool CanStoreIndex() const { return false; }
  // One image manifest of an index being copied, stored by digest; the index follows through
  // PutManifest. A destination that rewrites manifests (Docker to OCI) rewrites the index's
  // descriptors to match.
  virtual Status PutIndexedManifest(const ManifestBlob& manifest) {
    (void)manifest;
    return Fail("this destination cannot hold a multi-platform index");
  }
  // Makes the image visible. A destination that is destroyed without Commit() leaves its target
  // as it was, as far as the transport allows.
  virtual Status Commit() = 0;
};

// Receives skopeo-style progress lines ("Copying blob sha256:...").
using ProgressFn = std::function<void(const std::string& line)>;

// How far the bytes of one layer or blob have got, for progress bars: `id` is 12 hex digits
// naming it (of a digest or a v1 ID), `total` its size (0 when unknown). Called from the thread
// that moves the bytes, after every read.
using BlobProgressFn = std::function<void(const std::string& id, uint64_t current, uint64_t total)>;

// The 12 hex digits a progress row shows for an archive member or a digest: the hex of
// "blobs/sha256/<hex>", "sha256:<hex>", the directory of "<v1 id>/layer.tar"; else the name.
std::string ProgressId(const std::string& name);

// Reports the bytes read from `inner` to `progress` (which may be empty).
class ProgressReader : public Reader {
 public:
  ProgressReader(Reader& inner, const BlobProgressFn& progress, std::string id, uint64_t total)
      : inner_(inner), progress_(progress), id_(std::move(id)), total_(total) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    STRATA_ASSIGN(n, inner_.Read(buffer, size));
    current_ += n;
    if (progress_ && (n > 0 || current_ == 0)) progress_(id_, current_, total_);
    return n;
  }

 private:
  Reader& inner_;
  const BlobProgressFn& progress_;
  std::string id_;
  uint64_t total_;
  uint64_t current_ = 0;
};

// Copies the source's manifest, config and layers to the destination (each distinct blob once,
// layers first, then the config, then the manifest), without committing.
Status TransferImage(ImageSource& source, ImageDestination& destination,
                     const ProgressFn& progress = nullptr,
                     const BlobProgressFn& blob_progress = nullptr);

// Copies an index and every image it names (skopeo copy --all): each image's blobs and manifest,
// then the index, without committing. The destination must CanStoreIndex(); indexes nested in
// the index are refused.
Status TransferIndex(ImageSource& source, const ManifestBlob& index, ImageDestination& destination,
                     const ProgressFn& progress = nullptr,
                     const BlobProgressFn& blob_progress = nullptr);

// Streams `from` to `to` while hashing; fails, naming the blob, unless the bytes hash to
// blob.digest and their count is blob.size.
Status CopyVerified(Reader& from, Writer& to, const Descriptor& blob);

// Reads a small blob into memory, verified as by CopyVerified; refuses blobs over max_size.
Result<std::string> ReadVerifiedBlob(Reader& from, const Descriptor& blob,
                                     uint64_t max_size = 16 << 20);

// Writes a verified blob to `path` through a temporary file beside it (fsync, rename).
Status WriteVerifiedFile(const std::string& path, Reader& from, const Descriptor& blob);

// Opens a file for reading as an owning Reader.
Result<std::unique_ptr<Reader>> OpenFileReader(const std::string& path);

// A file written under a temporary name beside `path` and renamed over it by Commit(); removed
// if destroyed uncommitted.
class AtomicFile : public Writer {
 public:
  static Result<std::unique_ptr<AtomicFile>> Create(const std::string& path);
  ~AtomicFile() override;
  Status Write(const char* data, size_t size) override;
  Status Commit();  // fsync, rename, fsync of the directory

 private:
  AtomicFile(std::string path, std::string temp, UniqueFd fd)
      : path_(std::move(path)), temp_(std::move(temp)), fd_(std::move(fd)) {}
  std::string path_;
  std::string temp_;
  UniqueFd fd_;
  bool committed_ = false;
};

// A private temporary directory under $TMPDIR (default /var/tmp), removed on destruction.
class ScratchDir {
 public:
  static Result<std::unique_ptr<ScratchDir>> Create(const std::string& purpose);
  ~ScratchDir();
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  const std::string& path() const { return path_; }

 private:
  explicit ScratchDir(std::string path) : path_(std::move(path)) {}
  std::string path_;
};

}  // namespace strata
