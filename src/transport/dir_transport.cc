#include "transport/dir_transport.h"

#include <dirent.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "image/image_config.h"
#include "oci/platform.h"

namespace strata {
namespace {

constexpr uint64_t kMaxManifestSize = 8 << 20;

std::string Parent(const std::string& path) {
  std::string p = path;
  while (p.size() > 1 && p.back() == '/') p.pop_back();
  auto slash = p.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : p.substr(0, slash);
}

Result<std::string> BlobFileName(const Digest& digest) {
  if (digest.algorithm() != DigestAlgorithm::kSha256) {
    return Fail("dir: transport stores only sha256 blobs, not " + digest.str());
  }
  return digest.hex();
}

}  // namespace

// --- DirSource -----------------------------------------------------------------------------------

Result<std::unique_ptr<DirSource>> DirSource::Open(const std::string& dir,
                                                   const std::optional<Platform>& platform) {
  auto version = ReadFile(dir + "/version");
  if (!version) {
    if (!IsDirectory(dir)) return Fail("dir:" + dir + ": no such directory");
    return Fail("dir:" + dir + " is not a dir: transport directory: it has no version file");
  }
  if (!version->starts_with("Directory Transport Version: 1.")) {
    return Fail("dir:" + dir + ": unsupported version \"" +
                version->substr(0, version->find('\n')) + "\"");
  }
  auto bytes = ReadFile(dir + "/manifest.json");
  if (!bytes) return Fail("dir:" + dir + " has no manifest.json");
  auto media_type = ManifestMediaType(*bytes);
  if (!media_type) return Wrap("dir:" + dir + "/manifest.json", media_type.error());
  if (IsIndexMediaType(*media_type)) {
    auto entries = ParseIndex(*bytes);
    if (!entries) return Wrap("dir:" + dir + "/manifest.json", entries.error());
    auto chosen = SelectIndexEntry(*entries, platform);
    if (!chosen) return Wrap("dir:" + dir + "/manifest.json", chosen.error());
    const Descriptor& d = chosen->descriptor;
    STRATA_ASSIGN(name, BlobFileName(d.digest));
    std::string path = dir + "/" + name + ".manifest.json";
    auto reader = OpenFileReader(path);
    if (!reader) return Fail("dir:" + dir + ": manifest " + d.digest.str() + " is missing");
    auto instance = ReadVerifiedBlob(**reader, d, kMaxManifestSize);
    if (!instance) return Wrap("dir:" + dir, instance.error());
    bytes = std::move(*instance);
    media_type = ManifestMediaType(*bytes, d.media_type);
    if (!media_type) return Wrap("dir:" + dir + ": manifest " + d.digest.str(), media_type.error());
  }
  auto parsed = ParseImageManifest(*bytes, *media_type);
  if (!parsed) return Wrap("dir:" + dir + "/manifest.json", parsed.error());
  return std::unique_ptr<DirSource>(
      new DirSource(dir, ManifestBlob{std::move(*bytes), *media_type, false}));
}

Result<std::unique_ptr<Reader>> DirSource::GetBlob(const Descriptor& blob) {
  STRATA_ASSIGN(name, BlobFileName(blob.digest));
  auto reader = OpenFileReader(dir_ + "/" + name);
  if (!reader) return Fail("dir:" + dir_ + ": blob " + blob.digest.str() + " is missing");
  return reader;
}

// --- DirDestination ------------------------------------------------------------------------------

Result<std::unique_ptr<DirDestination>> DirDestination::Open(const std::string& dir) {
  if (dir.empty()) return Fail("dir: needs a directory");
  if (PathExists(dir)) {
    if (!IsDirectory(dir)) return Fail("dir:" + dir + ": not a directory");
    if (!IsEmptyDirectory(dir) && !PathExists(dir + "/version")) {
      return Fail("dir:" + dir +
                  ": refusing to overwrite a directory that is not empty and not a dir: "
                  "transport output (no version file)");
    }
  }
  STRATA_TRY(MakeDirs(Parent(dir)));
  std::string temp = dir;
  while (temp.size() > 1 && temp.back() == '/') temp.pop_back();
  temp += ".strata-tmp-" + RandomHexId().substr(0, 12);
  STRATA_TRY(MakeDirs(temp));
  return std::unique_ptr<DirDestination>(new DirDestination(dir, std::move(temp)));
}

DirDestination::~DirDestination() {
  if (!committed_) (void)RemoveAll(temp_);
}

Status DirDestination::PutBlob(const Descriptor& blob, BlobRole, Reader& content) {
  STRATA_ASSIGN(name, BlobFileName(blob.digest));
  return WriteVerifiedFile(temp_ + "/" + name, content, blob);
}

Status DirDestination::PutManifest(const ManifestBlob& manifest) {
  if (!IsImageManifestMediaType(manifest.media_type)) {
    return Fail("dir:" + dir_ + ": cannot store a manifest of type " + manifest.media_type);
  }
  STRATA_TRY(WriteFileAtomic(temp_ + "/manifest.json", manifest.bytes));
  has_manifest_ = true;
  return {};
}

Status DirDestination::Commit() {
  if (!has_manifest_) return Fail("dir:" + dir_ + ": no manifest was written");
  STRATA_TRY(WriteFileAtomic(temp_ + "/version", kDirTransportVersion));
  STRATA_TRY(FsyncDir(temp_));
  std::string old;
  if (PathExists(dir_)) {
    old = temp_ + "-old";
    if (std::rename(dir_.c_str(), old.c_str()) != 0) {
      return Fail("rename " + dir_ + ": " + std::strerror(errno));
    }
  }
  if (std::rename(temp_.c_str(), dir_.c_str()) != 0) {
    std::string message = "rename " + temp_ + " to " + dir_ + ": " + std::strerror(errno);
    if (!old.empty()) (void)std::rename(old.c_str(), dir_.c_str());
    return Fail(message);
  }
  committed_ = true;
  if (!old.empty()) STRATA_TRY(RemoveAll(old));
  return FsyncDir(Parent(dir_));
}

}  // namespace strata
