#include "transport/oci_archive_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

#include "archive/compression.h"
#include "transport/oci_archive.h"
#include "transport/oci_layout.h"
#include "transport/store_transport.h"
#include "util/cancel.h"
#include "util/go_json.h"

namespace strata {
namespace {

// The tag an index entry gives its image, if any.
std::optional<Reference> EntryTag(const IndexEntry& entry) {
  auto name = entry.annotations.find(std::string(kContainerdImageNameAnnotation));
  if (name == entry.annotations.end()) {
    name = entry.annotations.find(std::string(kRefNameAnnotation));
    // A bare tag ("latest", "1") names no repository: only whole references count.
    if (name == entry.annotations.end() || name->second.find(':') == std::string::npos) {
      return std::nullopt;
    }
  }
  auto ref = ParseNormalizedNamed(name->second);
  if (!ref || ref->digest()) return std::nullopt;
  return TagNameOnly(*ref);
}

const BlobProgressFn kNoBlobProgress;

std::string Unscratch(std::string message, const std::string& scratch) {
  for (size_t p; (p = message.find(scratch)) != std::string::npos;) {
    message.replace(p, scratch.size(), "the OCI archive");
  }
  return message;
}

}  // namespace

Result<LoadReport> LoadOciArchive(Store& store, Reader& archive, const BlobProgressFn& progress) {
  STRATA_ASSIGN(scratch, ScratchDir::Create("load"));
  const std::string& dir = scratch->path();
  STRATA_TRY(ExtractOciArchive(archive, dir, progress));
  auto entries = ReadOciIndex(dir);
  if (!entries) return Rephrase(entries.error(), Unscratch(entries.error().message, dir));
  if (entries->empty()) return Fail("the OCI archive's index.json names no image");

  // One import per manifest, carrying every tag that names it.
  std::vector<IndexEntry> unique;
  std::map<Digest, std::vector<Reference>> tags;
  for (const IndexEntry& e : *entries) {
    auto [it, inserted] = tags.try_emplace(e.descriptor.digest);
    if (inserted) unique.push_back(e);
    if (auto tag = EntryTag(e)) it->second.push_back(*tag);
  }
  std::vector<PendingImport> imports;
  for (const IndexEntry& e : unique) {
    auto source = OciLayoutSource::OpenEntry(dir, e);
    if (!source) return Rephrase(source.error(), Unscratch(source.error().message, dir));
    STRATA_ASSIGN(destination, StoreImageDestination::Open(store, tags[e.descriptor.digest]));
    auto st = TransferImage(**source, *destination);
    if (!st) return Rephrase(st.error(), Unscratch(st.error().message, dir));
    STRATA_ASSIGN(pending, destination->Prepare());
    imports.push_back(std::move(pending));
  }
  STRATA_ASSIGN(committed, CommitImports(store, imports));
  LoadReport report;
  for (size_t i = 0; i < imports.size(); ++i) {
    LoadedImage loaded{.id = committed.image_ids[i], .tags = {}};
    for (const Reference& t : imports[i].image.tags) loaded.tags.push_back(t.FamiliarString());
    report.images.push_back(std::move(loaded));
  }
  for (const CommitEvent& ev : committed.events) {
    report.messages.push_back("The image " + ev.tag +
                              " already exists, renaming the old one with ID " +
                              ev.old_image.str() + " to empty string");
  }
  return report;
}

Result<LoadReport> LoadArchiveFd(Store& store, int fd, const std::string& name,
                                 const LoadOptions& options) {
  FdReader file(fd, name);
  CancellableByUserReader raw(file);  // Ctrl-C: the load fails and removes what it staged
  const off_t start = ::lseek(fd, 0, SEEK_CUR);
  char magic[6] = {};
  const bool compressed =
      start >= 0 && ::pread(fd, magic, sizeof magic, start) == static_cast<ssize_t>(sizeof magic) &&
      DetectCompression(std::string_view(magic, sizeof magic)) != Compression::kNone;
  if (start >= 0 && !compressed) {  // a tar file: its headers can be looked at first
    STRATA_ASSIGN(oci, IsOciArchiveFd(fd, static_cast<uint64_t>(start), name));
    if (oci) return LoadOciArchive(store, raw, options.progress);
    return LoadDockerArchive(store, raw, options);
  }
  STRATA_ASSIGN(decoded, AutoDecompress(raw));
  PeekReader peek(*decoded);
  STRATA_ASSIGN(head, peek.Peek(512));
  if (!StartsLikeOciLayout(head)) return LoadDockerArchive(store, peek, options);
  STRATA_ASSIGN(scratch, ScratchDir::Create("load-spool"));
  const std::string path = scratch->path() + "/archive.tar";
  {
    const int out = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) return Fail("create " + path + ": " + std::strerror(errno));
    UniqueFd owned(out);
    FdWriter writer(out, path);
    auto copied = Copy(peek, writer);
    if (!copied) return Wrap("reading " + name, copied.error());
  }
  STRATA_ASSIGN(spooled_fd, OpenRead(path));
  STRATA_ASSIGN(oci, IsOciArchiveFd(spooled_fd.get(), 0, path));
  FdReader spooled_file(spooled_fd.get(), name);
  CancellableByUserReader spooled(spooled_file);
  if (oci) return LoadOciArchive(store, spooled, options.progress);
  return LoadDockerArchive(store, spooled, options);
}

Status SaveOciArchive(Store& store, const std::vector<SaveRequest>& images, Writer& out,
                      const BlobProgressFn& progress) {
  OciArchiveWriter writer(out);
  nlohmann::ordered_json docker_manifest = nlohmann::ordered_json::array();
  for (const SaveRequest& request : images) {
    STRATA_ASSIGN(source, StoreImageSource::Open(store, request.image, ManifestChoice::kOci));
    STRATA_ASSIGN(manifest, source->GetManifest());
    STRATA_ASSIGN(parsed, ParseImageManifest(manifest.bytes, manifest.media_type));
    std::vector<Descriptor> blobs = parsed.layers;
    blobs.push_back(parsed.config);
    nlohmann::ordered_json layer_paths = nlohmann::ordered_json::array();
    for (const Descriptor& d : parsed.layers) {
      layer_paths.push_back("blobs/" + std::string(d.digest.algorithm_name()) + "/" +
                            d.digest.hex());
    }
    for (const Descriptor& d : blobs) {
      if (writer.HasBlob(d.digest)) continue;
      STRATA_ASSIGN(reader, source->GetBlob(d));
      const bool layer = d.digest != parsed.config.digest;
      ProgressReader counted(*reader, layer ? progress : kNoBlobProgress,
                             ProgressId(d.digest.str()), static_cast<uint64_t>(d.size));
      STRATA_TRY(writer.AddBlob(d, counted));
    }
    STRATA_ASSIGN(descriptor, writer.AddManifest(manifest));
    nlohmann::ordered_json repo_tags = nlohmann::ordered_json::array();
    for (const Reference& tag : request.tags) {
      std::map<std::string, std::string> annotations{
          {std::string(kContainerdImageNameAnnotation), tag.String()},
          {std::string(kRefNameAnnotation), tag.tag().value_or("")}};
      STRATA_TRY(writer.AddIndexEntry(descriptor, annotations, /*replace=*/false));
      repo_tags.push_back(tag.FamiliarString());
    }
    if (request.tags.empty()) STRATA_TRY(writer.AddIndexEntry(descriptor, {}, false));

    nlohmann::ordered_json entry;
    entry["Config"] = "blobs/sha256/" + request.image.hex();
    entry["RepoTags"] = repo_tags.empty() ? nlohmann::ordered_json(nullptr) : repo_tags;
    entry["Layers"] = layer_paths;
    docker_manifest.push_back(entry);
  }
  writer.AddExtraFile("manifest.json", GoMarshal(docker_manifest) + "\n");
  return writer.Close();
}

}  // namespace strata
