#include "transport/oci_archive.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>

#include "archive/compression.h"
#include "archive/tar_reader.h"
#include "util/clean_path.h"

namespace strata {
namespace {

constexpr size_t kBlock = 512;

// "blobs/<alg>/<hex>" with a valid digest.
bool IsBlobName(const std::string& name) {
  if (!name.starts_with("blobs/")) return false;
  std::string rest = name.substr(6);
  auto slash = rest.find('/');
  if (slash == std::string::npos) return false;
  return Digest::Parse(rest.substr(0, slash) + ":" + rest.substr(slash + 1)).has_value();
}

TarEntry MakeEntry(const std::string& name, TarType type, int64_t size) {
  TarEntry e;
  e.name = name;
  e.type = type;
  e.typeflag = TarTypeflagFor(type);
  e.mode = type == TarType::kDirectory ? 0755 : 0644;
  e.uname = "root";
  e.gname = "root";
  e.size = size;
  return e;
}

// A tar header numeric field: octal text, or GNU base-256 when the high bit is set.
std::optional<uint64_t> ParseTarNumber(const char* field, size_t size) {
  if (static_cast<unsigned char>(field[0]) & 0x80) {
    if (static_cast<unsigned char>(field[0]) & 0x40) return std::nullopt;  // negative
    uint64_t v = static_cast<unsigned char>(field[0]) & 0x3f;
    for (size_t i = 1; i < size; ++i) {
      if (v >> 56) return std::nullopt;
      v = (v << 8) | static_cast<unsigned char>(field[i]);
    }
    return v;
  }
  uint64_t v = 0;
  size_t i = 0;
  while (i < size && (field[i] == ' ' || field[i] == '\0')) ++i;
  for (; i < size && field[i] >= '0' && field[i] <= '7'; ++i) v = v * 8 + (field[i] - '0');
  return v;
}

std::string CString(const char* field, size_t size) {
  return std::string(field, strnlen(field, size));
}

// The "path" record of PAX extended header content, if any.
std::optional<std::string> PaxPath(const std::string& records) {
  size_t pos = 0;
  while (pos < records.size()) {
    size_t space = records.find(' ', pos);
    if (space == std::string::npos) break;
    size_t length = std::strtoul(records.c_str() + pos, nullptr, 10);
    if (length == 0 || pos + length > records.size()) break;
    std::string record = records.substr(space + 1, pos + length - space - 2);  // no '\n'
    if (record.starts_with("path=")) return record.substr(5);
    pos += length;
  }
  return std::nullopt;
}

Result<std::string> PreadString(int fd, uint64_t offset, uint64_t size, const std::string& path) {
  if (size > (1 << 20)) return Fail(path + ": tar extension header too large");
  std::string out(size, '\0');
  ssize_t n = ::pread(fd, out.data(), size, static_cast<off_t>(offset));
  if (n != static_cast<ssize_t>(size)) return Fail(path + ": truncated tar extension header");
  return out;
}

}  // namespace

Status ExtractOciArchive(Reader& archive, const std::string& dir, const BlobProgressFn& progress) {
  STRATA_ASSIGN(decoded, AutoDecompress(archive));
  TarReader tar(*decoded);
  for (;;) {
    STRATA_ASSIGN(entry, tar.Next());
    if (!entry) break;
    if (entry->type != TarType::kRegular) continue;
    auto name = RootRelative(entry->name);
    if (!name) continue;
    if (*name != "oci-layout" && *name != "index.json" && !IsBlobName(*name)) continue;
    std::string path = dir + "/" + *name;
    STRATA_TRY(MakeDirs(path.substr(0, path.rfind('/'))));
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return Fail("create " + path + ": " + std::strerror(errno));
    UniqueFd owned(fd);
    FdWriter out(fd, path);
    PeekReader peek(tar.content());
    STRATA_ASSIGN(head, peek.Peek(64));
    const auto first = head.find_first_not_of(" \t\r\n");
    const bool json = first != std::string_view::npos && (head[first] == '{' || head[first] == '[');
    if (!progress || json || !IsBlobName(*name)) {
      STRATA_TRY(Copy(peek, out));
      continue;
    }
    ProgressReader counted(peek, progress, ProgressId(*name),
                           static_cast<uint64_t>(entry->content_size()));
    STRATA_TRY(Copy(counted, out));
  }
  return {};
}

bool StartsLikeOciLayout(std::string_view h) {
  if (h.size() < kBlock || h.substr(257, 5) != "ustar") return false;
  const char type = h[156];
  if (type == 'x' || type == 'g' || type == 'L') return true;
  std::string name = CString(h.data(), 100);
  std::string prefix =
      h.substr(257, 6) == std::string_view("ustar\0", 6) ? CString(h.data() + 345, 155) : "";
  if (!prefix.empty()) name = prefix + "/" + name;
  while (name.starts_with("./")) name.erase(0, 2);
  while (name.ends_with("/")) name.pop_back();
  return name == "blobs" || name.starts_with("blobs/") || name == "oci-layout" ||
         name == "index.json";
}

Result<bool> IsOciArchiveFile(const std::string& path) {
  STRATA_ASSIGN(fd, OpenRead(path));
  return IsOciArchiveFd(fd.get(), 0, path);
}

Result<bool> IsOciArchiveFd(int fd, uint64_t start, const std::string& path) {
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
  const uint64_t file_size = static_cast<uint64_t>(st.st_size);
  bool has_index = false, has_layout = false, has_manifest = false;
  std::optional<std::string> next_name;  // from a PAX 'x' or GNU 'L' header
  uint64_t offset = start;
  char h[kBlock];
  while (offset + kBlock <= file_size) {
    if (::pread(fd, h, kBlock, static_cast<off_t>(offset)) != static_cast<ssize_t>(kBlock)) {
      break;
    }
    bool zero = true;
    for (char c : h) zero = zero && c == 0;
    if (zero) break;
    if (std::memcmp(h + 257, "ustar", 5) != 0) return false;  // not a (POSIX/GNU) tar
    auto size = ParseTarNumber(h + 124, 12);
    if (!size) return false;
    const char type = h[156];
    const uint64_t content = offset + kBlock;
    const bool header_only = type >= '1' && type <= '6';
    const uint64_t content_size = header_only ? 0 : *size;
    if (type == 'x') {
      STRATA_ASSIGN(records, PreadString(fd, content, *size, path));
      if (auto p = PaxPath(records)) next_name = *p;
    } else if (type == 'L') {
      STRATA_ASSIGN(name, PreadString(fd, content, *size, path));
      next_name = CString(name.data(), name.size());
    } else if (type != 'g' && type != 'K') {
      std::string name;
      if (next_name) {
        name = *next_name;
      } else {
        name = CString(h, 100);
        std::string prefix = std::memcmp(h + 257, "ustar\0", 6) == 0 ? CString(h + 345, 155) : "";
        if (!prefix.empty()) name = prefix + "/" + name;
      }
      next_name.reset();
      auto clean = RootRelative(name);
      if (clean && (type == '0' || type == '\0')) {
        has_index |= *clean == "index.json";
        has_layout |= *clean == "oci-layout";
        has_manifest |= *clean == "manifest.json";
      }
    }
    offset = content + (content_size + kBlock - 1) / kBlock * kBlock;
  }
  return has_index && has_layout && !has_manifest;
}

// --- OciArchiveSource ----------------------------------------------------------------------------

Result<std::unique_ptr<OciArchiveSource>> OciArchiveSource::Open(
    const std::string& path, const std::string& tag, const std::optional<Platform>& platform) {
  STRATA_ASSIGN(reader, OpenFileReader(path));
  STRATA_ASSIGN(scratch, ScratchDir::Create("oci-archive"));
  auto extracted = ExtractOciArchive(*reader, scratch->path());
  if (!extracted) return Wrap("oci-archive:" + path, extracted.error());
  auto layout = OciLayoutSource::Open(scratch->path(), tag, platform);
  if (!layout) {
    // Name the archive, not the scratch directory, in what the user sees.
    std::string message = layout.error().message;
    for (size_t p; (p = message.find(scratch->path())) != std::string::npos;) {
      message.replace(p, scratch->path().size(), path);
    }
    return Rephrase(layout.error(), "oci-archive:" + path + ": " + message);
  }
  return std::unique_ptr<OciArchiveSource>(
      new OciArchiveSource(std::move(scratch), std::move(*layout)));
}

// --- OciArchiveWriter ----------------------------------------------------------------------------

Status OciArchiveWriter::EnsureDirectory(const std::string& name) {
  if (!directories_.insert(name).second) return {};
  return tar_.WriteEntry(MakeEntry(name, TarType::kDirectory, 0));
}

Status OciArchiveWriter::AddBlob(const Descriptor& blob, Reader& content) {
  if (HasBlob(blob.digest)) return {};
  const std::string dir = "blobs/" + std::string(blob.digest.algorithm_name()) + "/";
  STRATA_TRY(EnsureDirectory("blobs/"));
  STRATA_TRY(EnsureDirectory(dir));
  STRATA_TRY(tar_.WriteHeader(MakeEntry(dir + blob.digest.hex(), TarType::kRegular, blob.size)));
  STRATA_TRY(CopyVerified(content, tar_.content(), blob));
  blobs_.insert(blob.digest);
  return {};
}

Result<Descriptor> OciArchiveWriter::AddManifest(const ManifestBlob& manifest) {
  Descriptor d{manifest.media_type, manifest.digest(), static_cast<int64_t>(manifest.bytes.size())};
  StringReader bytes(manifest.bytes);
  STRATA_TRY(AddBlob(d, bytes));
  return d;
}

Status OciArchiveWriter::AddIndexEntry(const Descriptor& manifest,
                                       const std::map<std::string, std::string>& annotations,
                                       bool replace) {
  STRATA_ASSIGN(index, AddToOciIndex(index_, manifest, annotations, replace));
  index_ = std::move(index);
  return {};
}

void OciArchiveWriter::AddExtraFile(const std::string& name, std::string content) {
  extra_files_.emplace_back(name, std::move(content));
}

Status OciArchiveWriter::Close() {
  if (index_.empty()) return Fail("OCI archive: no image was added");
  STRATA_TRY(tar_.WriteEntry(
      MakeEntry("index.json", TarType::kRegular, static_cast<int64_t>(index_.size())), index_));
  STRATA_TRY(tar_.WriteEntry(MakeEntry("oci-layout", TarType::kRegular,
                                       static_cast<int64_t>(kOciLayoutFileContent.size())),
                             kOciLayoutFileContent));
  for (const auto& [name, content] : extra_files_) {
    STRATA_TRY(tar_.WriteEntry(
        MakeEntry(name, TarType::kRegular, static_cast<int64_t>(content.size())), content));
  }
  return tar_.Close();
}

// --- OciArchiveDestination -----------------------------------------------------------------------

Result<std::unique_ptr<OciArchiveDestination>> OciArchiveDestination::Open(const std::string& path,
                                                                           const std::string& tag) {
  if (path.empty()) return Fail("oci-archive: needs a file name");
  STRATA_ASSIGN(file, AtomicFile::Create(path));
  return std::unique_ptr<OciArchiveDestination>(new OciArchiveDestination(std::move(file), tag));
}

Status OciArchiveDestination::PutBlob(const Descriptor& blob, BlobRole, Reader& content) {
  return writer_->AddBlob(blob, content);
}

Status OciArchiveDestination::PutManifest(const ManifestBlob& manifest) {
  auto oci = OciManifestForLayout(manifest, converted_);
  if (!oci) return Wrap("oci-archive", oci.error());
  manifest_ = std::move(*oci);
  return {};
}

Status OciArchiveDestination::PutIndexedManifest(const ManifestBlob& manifest) {
  if (!IsImageManifestMediaType(manifest.media_type)) {
    return Fail("oci-archive: an index names a manifest of type " + manifest.media_type);
  }
  auto oci = OciManifestForLayout(manifest);
  if (!oci) return Wrap("oci-archive", oci.error());
  STRATA_ASSIGN(d, writer_->AddManifest(*oci));
  converted_.insert_or_assign(manifest.digest(), d);
  return {};
}

Status OciArchiveDestination::Commit() {
  if (!manifest_) return Fail("oci-archive: no manifest was written");
  STRATA_ASSIGN(d, writer_->AddManifest(*manifest_));
  std::map<std::string, std::string> annotations;
  if (!tag_.empty()) annotations[std::string(kRefNameAnnotation)] = tag_;
  STRATA_TRY(writer_->AddIndexEntry(d, annotations));
  STRATA_TRY(writer_->Close());
  return file_->Commit();
}

}  // namespace strata
