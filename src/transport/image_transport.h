// The two halves of an image copy, modelled on skopeo's containers/image types: an ImageSource
// serves one image's manifest and its blobs by descriptor; an ImageDestination takes blobs and a
// manifest and makes the image visible on Commit(). Destinations check every blob's digest and
// size while they write it, so no transport trusts another. TransferImage drives one copy.
// Also the small file helpers the transports share (verified streaming copies, atomic files,
// scratch directories). Not thread-safe.
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "transport/manifest.h"
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
  virtual Status PutManifest(const ManifestBlob& manifest) = 0;
  // Makes the image visible. A destination that is destroyed without Commit() leaves its target
  // as it was, as far as the transport allows.
  virtual Status Commit() = 0;
};

// Receives skopeo-style progress lines ("Copying blob sha256:...").
using ProgressFn = std::function<void(const std::string& line)>;

// Copies the source's manifest, config and layers to the destination (each distinct blob once,
// layers first, then the config, then the manifest), without committing.
Status TransferImage(ImageSource& source, ImageDestination& destination,
                     const ProgressFn& progress = nullptr);

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
