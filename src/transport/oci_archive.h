// oci-archive:PATH[:TAG] — an OCI image layout packed in a tar file (what skopeo's oci-archive
// transport and `podman save --format oci-archive` write). Reading extracts the layout's members
// to a scratch directory and reads that as an oci: layout; writing streams a layout straight into
// a tar (blob entries as the blobs arrive, index.json and oci-layout at the end), to a temporary
// file renamed over PATH on commit.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "archive/tar_writer.h"
#include "transport/image_transport.h"
#include "transport/oci_layout.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

// Extracts oci-layout, index.json and blobs/<alg>/<hex> of an OCI archive stream (plain or
// compressed tar) into `dir`; other members (a Docker manifest.json, directories) are skipped.
// `progress` hears of the bytes of every blob that is not a JSON document (the layers).
Status ExtractOciArchive(Reader& archive, const std::string& dir,
                         const BlobProgressFn& progress = nullptr);

// Whether a tar stream's first 512-byte header names a member of an OCI layout (blobs/,
// oci-layout, index.json), as OCI archives and Docker 25's save begin; also true for a first
// header that only extends the next one (PAX, GNU long name), which is not conclusive.
bool StartsLikeOciLayout(std::string_view first_block);

// Whether the file is an uncompressed tar whose top level holds index.json and oci-layout but
// no Docker manifest.json. Reads only the tar headers (seeking over content).
Result<bool> IsOciArchiveFile(const std::string& path);
// The same for an open regular file, from byte `start` on (pread: the offset is unchanged);
// false for anything else (a pipe).
Result<bool> IsOciArchiveFd(int fd, uint64_t start, const std::string& name);

class OciArchiveSource : public ImageSource {
 public:
  // `platform` picks the image of an index, as for OciLayoutSource::Open.
  static Result<std::unique_ptr<OciArchiveSource>> Open(
      const std::string& path, const std::string& tag,
      const std::optional<Platform>& platform = std::nullopt);
  Result<ManifestBlob> GetManifest() override { return layout_->GetManifest(); }
  Result<std::unique_ptr<Reader>> GetBlob(const Descriptor& blob) override {
    return layout_->GetBlob(blob);
  }
  Result<std::optional<ManifestBlob>> GetIndex() override { return layout_->GetIndex(); }
  Result<ManifestBlob> GetIndexedManifest(const Descriptor& manifest) override {
    return layout_->GetIndexedManifest(manifest);
  }

 private:
  OciArchiveSource(std::unique_ptr<ScratchDir> scratch, std::unique_ptr<OciLayoutSource> layout)
      : scratch_(std::move(scratch)), layout_(std::move(layout)) {}
  std::unique_ptr<ScratchDir> scratch_;
  std::unique_ptr<OciLayoutSource> layout_;
};

// Writes an OCI layout as a tar stream: directories blobs/ and blobs/<alg>/, each blob once as
// it is added (verified while written), then on Close() index.json, oci-layout and any extra
// files. Entries are owned by root, mode 0644/0755, mtime 0, so the output is deterministic.
class OciArchiveWriter {
 public:
  explicit OciArchiveWriter(Writer& out) : tar_(out) {}

  bool HasBlob(const Digest& digest) const { return blobs_.count(digest) != 0; }
  Status AddBlob(const Descriptor& blob, Reader& content);
  // Adds the manifest as a blob (if new) and returns its descriptor.
  Result<Descriptor> AddManifest(const ManifestBlob& manifest);
  // Adds an index.json entry (AddToOciIndex; `replace` as there).
  Status AddIndexEntry(const Descriptor& manifest,
                       const std::map<std::string, std::string>& annotations, bool replace = true);
  // A top-level file written after index.json and oci-layout (Docker's manifest.json).
  void AddExtraFile(const std::string& name, std::string content);
  Status Close();

 private:
  Status EnsureDirectory(const std::string& name);

  TarWriter tar_;
  std::set<Digest> blobs_;
  std::set<std::string> directories_;
  std::string index_;
  std::vector<std::pair<std::string, std::string>> extra_files_;
};

class OciArchiveDestination : public ImageDestination {
 public:
  static Result<std::unique_ptr<OciArchiveDestination>> Open(const std::string& path,
                                                             const std::string& tag);

  bool HasBlob(const Descriptor& blob) override { return writer_->HasBlob(blob.digest); }
  Status PutBlob(const Descriptor& blob, BlobRole role, Reader& content) override;
  Status PutManifest(const ManifestBlob& manifest) override;
  bool CanStoreIndex() const override { return true; }
  Status PutIndexedManifest(const ManifestBlob& manifest) override;
  Status Commit() override;

 private:
  OciArchiveDestination(std::unique_ptr<AtomicFile> file, std::string tag)
      : file_(std::move(file)),
        writer_(std::make_unique<OciArchiveWriter>(*file_)),
        tag_(std::move(tag)) {}
  std::unique_ptr<AtomicFile> file_;
  std::unique_ptr<OciArchiveWriter> writer_;
  std::string tag_;
  std::optional<ManifestBlob> manifest_;
  std::map<Digest, Descriptor> converted_;  // image manifests of an index, as stored
};

}  // namespace strata
