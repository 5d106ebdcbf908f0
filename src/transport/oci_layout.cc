#include "transport/oci_layout.h"

#include <dirent.h>
#include <sys/stat.h>

#include <nlohmann/json.hpp>

#include "image/image_config.h"
#include "oci/platform.h"
#include "util/go_json.h"
#include "util/io.h"
#include "util/json_depth.h"

namespace strata {
namespace {

constexpr uint64_t kMaxManifestSize = 8 << 20;
constexpr int kMaxIndexDepth = 4;

Result<std::string> ReadLayoutBlob(const std::string& dir, const Descriptor& blob) {
  std::string path = OciBlobPath(dir, blob.digest);
  auto reader = OpenFileReader(path);
  if (!reader) return Fail("OCI layout " + dir + ": blob " + blob.digest.str() + " is missing");
  return ReadVerifiedBlob(**reader, blob, kMaxManifestSize);
}

}  // namespace

std::string OciBlobPath(const std::string& dir, const Digest& digest) {
  return dir + "/blobs/" + std::string(digest.algorithm_name()) + "/" + digest.hex();
}

Result<std::vector<IndexEntry>> ReadOciIndex(const std::string& dir) {
  auto layout = ReadFile(dir + "/oci-layout");
  if (!layout) {
    if (!IsDirectory(dir))
      return Fail(ErrorCode::kNotFound, "OCI layout " + dir + " does not exist");
    return Fail(dir + " is not an OCI layout: it has no oci-layout file");
  }
  auto json = ParseUntrustedJson(*layout);
  if (json.is_discarded() || !json.is_object() || !json.contains("imageLayoutVersion") ||
      !json["imageLayoutVersion"].is_string()) {
    return Fail(dir + "/oci-layout does not state an imageLayoutVersion");
  }
  std::string version = json["imageLayoutVersion"].get<std::string>();
  if (!version.starts_with("1.")) {
    return Fail(dir + "/oci-layout: unsupported imageLayoutVersion \"" + version + "\"");
  }
  auto index = ReadFile(dir + "/index.json");
  if (!index) return Fail("OCI layout " + dir + " has no index.json");
  auto entries = ParseIndex(*index);
  if (!entries) return Wrap(dir + "/index.json", entries.error());
  return entries;
}

Result<IndexEntry> FindOciIndexEntry(const std::vector<IndexEntry>& entries, const std::string& tag,
                                     const std::string& dir) {
  std::string tags;
  for (const IndexEntry& e : entries) {
    auto name = e.annotations.find(std::string(kRefNameAnnotation));
    if (name == e.annotations.end()) continue;
    if (!tag.empty() && name->second == tag) return e;
    tags += (tags.empty() ? "" : ", ") + name->second;
  }
  if (tag.empty()) {
    if (entries.size() == 1) return entries[0];
    return Fail("OCI layout " + dir + " holds " + std::to_string(entries.size()) +
                " images; name one as oci:" + dir +
                ":TAG (tags: " + (tags.empty() ? "none" : tags) + ")");
  }
  return Fail("OCI layout " + dir + " has no image tagged \"" + tag +
              "\" (tags: " + (tags.empty() ? "none" : tags) + ")");
}

Result<std::string> AddToOciIndex(std::string_view existing, const Descriptor& manifest,
                                  const std::map<std::string, std::string>& annotations,
                                  bool replace_existing) {
  nlohmann::ordered_json index;
  if (existing.empty()) {
    index["schemaVersion"] = 2;
    index["mediaType"] = kOciIndexMediaType;
    index["manifests"] = nlohmann::ordered_json::array();
  } else {
    index = ParseUntrustedJson<nlohmann::ordered_json>(existing);
    if (index.is_discarded() || !index.is_object()) return Fail("index.json is not a JSON object");
    if (!index.contains("manifests") || index["manifests"].is_null()) {
      index["manifests"] = nlohmann::ordered_json::array();
    }
    if (!index["manifests"].is_array()) return Fail("index.json: \"manifests\" is not an array");
  }
  const std::string ref_key(kRefNameAnnotation);
  auto ref_name = annotations.find(ref_key);
  nlohmann::ordered_json kept = nlohmann::ordered_json::array();
  for (const auto& entry : index["manifests"]) {
    const nlohmann::ordered_json* entry_name = nullptr;
    if (entry.is_object() && entry.contains("annotations") && entry["annotations"].is_object() &&
        entry["annotations"].contains(ref_key)) {
      entry_name = &entry["annotations"][ref_key];
    }
    bool replace = false;
    if (!replace_existing) {
      replace = false;
    } else if (ref_name != annotations.end()) {
      replace = entry_name != nullptr && *entry_name == ref_name->second;
    } else {
      replace = entry_name == nullptr && entry.is_object() && entry.contains("digest") &&
                entry["digest"] == manifest.digest.str();
    }
    if (!replace) kept.push_back(entry);
  }
  nlohmann::ordered_json d;
  d["mediaType"] = manifest.media_type;
  d["digest"] = manifest.digest.str();
  d["size"] = manifest.size;
  if (!annotations.empty()) {
    nlohmann::ordered_json a = nlohmann::ordered_json::object();
    for (const auto& [key, value] : annotations) a[key] = value;
    d["annotations"] = a;
  }
  kept.push_back(d);
  index["manifests"] = kept;
  return GoMarshal(index);
}

// --- OciLayoutSource -----------------------------------------------------------------------------

Result<std::unique_ptr<OciLayoutSource>> OciLayoutSource::Open(
    const std::string& dir, const std::string& tag, const std::optional<Platform>& platform) {
  STRATA_ASSIGN(entries, ReadOciIndex(dir));
  STRATA_ASSIGN(entry, FindOciIndexEntry(entries, tag, dir));
  return OpenEntry(dir, entry, platform);
}

Result<std::unique_ptr<OciLayoutSource>> OciLayoutSource::OpenEntry(
    const std::string& dir, const IndexEntry& entry, const std::optional<Platform>& platform) {
  Descriptor current = entry.descriptor;
  std::optional<ManifestBlob> top_index;
  for (int depth = 0; depth < kMaxIndexDepth; ++depth) {
    auto bytes = ReadLayoutBlob(dir, current);
    if (!bytes) return Wrap("manifest " + current.digest.str(), bytes.error());
    auto media_type = ManifestMediaType(*bytes, current.media_type);
    if (!media_type) return Wrap("manifest " + current.digest.str(), media_type.error());
    if (IsIndexMediaType(*media_type)) {
      auto entries = ParseIndex(*bytes);
      if (!entries) return Wrap("index " + current.digest.str(), entries.error());
      auto chosen = SelectIndexEntry(*entries, platform);
      if (!chosen) return Wrap("index " + current.digest.str(), chosen.error());
      if (depth == 0) top_index = ManifestBlob{*bytes, *media_type, false};
      current = chosen->descriptor;
      continue;
    }
    auto parsed = ParseImageManifest(*bytes, *media_type);
    if (!parsed) return Wrap("manifest " + current.digest.str(), parsed.error());
    return std::unique_ptr<OciLayoutSource>(new OciLayoutSource(
        dir, ManifestBlob{std::move(*bytes), *media_type, false}, std::move(top_index)));
  }
  return Fail("OCI layout " + dir + ": indexes nested more than " + std::to_string(kMaxIndexDepth) +
              " deep");
}

Result<std::unique_ptr<Reader>> OciLayoutSource::GetBlob(const Descriptor& blob) {
  auto reader = OpenFileReader(OciBlobPath(dir_, blob.digest));
  if (!reader) return Fail("OCI layout " + dir_ + ": blob " + blob.digest.str() + " is missing");
  return reader;
}

Result<ManifestBlob> OciLayoutSource::GetIndexedManifest(const Descriptor& manifest) {
  auto bytes = ReadLayoutBlob(dir_, manifest);
  if (!bytes) return Wrap("manifest " + manifest.digest.str(), bytes.error());
  auto media_type = ManifestMediaType(*bytes, manifest.media_type);
  if (!media_type) return Wrap("manifest " + manifest.digest.str(), media_type.error());
  auto parsed = ParseImageManifest(*bytes, *media_type);
  if (!parsed) return Wrap("manifest " + manifest.digest.str(), parsed.error());
  return ManifestBlob{std::move(*bytes), *media_type, false};
}

// --- Docker to OCI -------------------------------------------------------------------------------

namespace {

// containers/image's schema2 -> OCI layer media types.
Result<std::string> OciLayerMediaType(const std::string& docker_type) {
  if (docker_type == kDockerLayerGzipMediaType) return std::string(kOciLayerGzipMediaType);
  if (docker_type == kDockerLayerMediaType) return std::string(kOciLayerMediaType);
  if (docker_type == "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip") {
    return std::string("application/vnd.oci.image.layer.nondistributable.v1.tar+gzip");
  }
  if (docker_type.starts_with("application/vnd.oci.")) return docker_type;
  return Fail("layer media type \"" + docker_type + "\" has no OCI equivalent");
}

// {mediaType, digest, size} and the optional urls/annotations, in the OCI field order.
nlohmann::ordered_json OciDescriptor(const nlohmann::ordered_json& from, std::string media_type) {
  nlohmann::ordered_json d;
  d["mediaType"] = std::move(media_type);
  d["digest"] = from.value("digest", "");
  d["size"] = from.value("size", int64_t{0});
  for (const char* key : {"urls", "annotations", "platform"}) {
    if (from.contains(key)) d[key] = from[key];
  }
  return d;
}

Result<ManifestBlob> DockerManifestToOci(const ManifestBlob& manifest) {
  STRATA_TRY(ParseImageManifest(manifest.bytes, manifest.media_type));  // shape and digests
  auto json = nlohmann::ordered_json::parse(manifest.bytes, nullptr, false);
  nlohmann::ordered_json out;
  out["schemaVersion"] = 2;
  out["mediaType"] = kOciManifestMediaType;
  out["config"] = OciDescriptor(json["config"], std::string(kOciConfigMediaType));
  out["layers"] = nlohmann::ordered_json::array();
  for (const auto& layer : json["layers"]) {
    STRATA_ASSIGN(type, OciLayerMediaType(layer.value("mediaType", "")));
    out["layers"].push_back(OciDescriptor(layer, type));
  }
  return ManifestBlob{GoMarshal(out), std::string(kOciManifestMediaType), false};
}

Result<ManifestBlob> DockerListToOci(const ManifestBlob& list,
                                     const std::map<Digest, Descriptor>& converted) {
  STRATA_TRY(ParseIndex(list.bytes));
  auto json = nlohmann::ordered_json::parse(list.bytes, nullptr, false);
  nlohmann::ordered_json out;
  out["schemaVersion"] = 2;
  out["mediaType"] = kOciIndexMediaType;
  out["manifests"] = nlohmann::ordered_json::array();
  for (const auto& entry : json["manifests"]) {
    auto digest = Digest::Parse(entry.value("digest", ""));
    if (!digest) return Fail("manifest list entry without a valid digest");
    auto it = converted.find(*digest);
    if (it == converted.end()) {
      out["manifests"].push_back(OciDescriptor(entry, entry.value("mediaType", "")));
      continue;
    }
    nlohmann::ordered_json d = OciDescriptor(entry, it->second.media_type);
    d["digest"] = it->second.digest.str();
    d["size"] = it->second.size;
    out["manifests"].push_back(d);
  }
  if (json.contains("annotations")) out["annotations"] = json["annotations"];
  return ManifestBlob{GoMarshal(out), std::string(kOciIndexMediaType), false};
}

}  // namespace

Result<ManifestBlob> OciManifestForLayout(const ManifestBlob& manifest,
                                          const std::map<Digest, Descriptor>& converted) {
  if (manifest.media_type == kOciManifestMediaType) return manifest;
  if (manifest.media_type == kDockerManifestMediaType) return DockerManifestToOci(manifest);
  if (manifest.media_type == kOciIndexMediaType) {
    bool rewritten = false;
    for (const auto& [from, to] : converted) rewritten |= from != to.digest;
    if (!rewritten) return manifest;  // kept byte for byte
  }
  if (IsIndexMediaType(manifest.media_type)) return DockerListToOci(manifest, converted);
  return Fail("cannot store a manifest of type " + manifest.media_type + " in an OCI layout");
}

// --- OciLayoutDestination ------------------------------------------------------------------------

Result<std::unique_ptr<OciLayoutDestination>> OciLayoutDestination::Open(const std::string& dir,
                                                                         const std::string& tag) {
  if (dir.empty()) return Fail("oci: needs a directory");
  bool created = false;
  if (PathExists(dir)) {
    if (!IsDirectory(dir)) return Fail("oci:" + dir + ": not a directory");
    if (PathExists(dir + "/oci-layout")) {
      // Refuse to add to a layout we could not read back; one without index.json yet (an
      // interrupted first write) is fine.
      if (PathExists(dir + "/index.json")) STRATA_TRY(ReadOciIndex(dir));
    } else if (!IsEmptyDirectory(dir)) {
      return Fail("oci:" + dir + ": the directory is not empty and is not an OCI layout");
    }
  } else {
    STRATA_TRY(MakeDirs(dir));
    created = true;
  }
  return std::unique_ptr<OciLayoutDestination>(new OciLayoutDestination(dir, tag, created));
}

OciLayoutDestination::~OciLayoutDestination() {
  if (created_ && !committed_) (void)RemoveAll(dir_);
}

bool OciLayoutDestination::HasBlob(const Descriptor& blob) {
  struct stat st;
  return ::stat(OciBlobPath(dir_, blob.digest).c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
         st.st_size == blob.size;
}

Status OciLayoutDestination::PutBlob(const Descriptor& blob, BlobRole, Reader& content) {
  STRATA_TRY(MakeDirs(dir_ + "/blobs/" + std::string(blob.digest.algorithm_name())));
  return WriteVerifiedFile(OciBlobPath(dir_, blob.digest), content, blob);
}

Status OciLayoutDestination::PutManifest(const ManifestBlob& manifest) {
  auto oci = OciManifestForLayout(manifest, converted_);
  if (!oci) return Wrap("oci:" + dir_, oci.error());
  manifest_ = std::move(*oci);
  return {};
}

Status OciLayoutDestination::PutIndexedManifest(const ManifestBlob& manifest) {
  if (!IsImageManifestMediaType(manifest.media_type)) {
    return Fail("oci:" + dir_ + ": an index names a manifest of type " + manifest.media_type);
  }
  auto oci = OciManifestForLayout(manifest);
  if (!oci) return Wrap("oci:" + dir_, oci.error());
  Descriptor d{oci->media_type, oci->digest(), static_cast<int64_t>(oci->bytes.size())};
  StringReader bytes(oci->bytes);
  STRATA_TRY(PutBlob(d, BlobRole::kConfig, bytes));
  converted_.insert_or_assign(manifest.digest(), d);
  return {};
}

Status OciLayoutDestination::Commit() {
  if (!manifest_) return Fail("oci:" + dir_ + ": no manifest was written");
  Descriptor d{manifest_->media_type, manifest_->digest(),
               static_cast<int64_t>(manifest_->bytes.size())};
  StringReader bytes(manifest_->bytes);
  STRATA_TRY(PutBlob(d, BlobRole::kConfig, bytes));
  std::string existing;
  if (PathExists(dir_ + "/index.json")) {
    STRATA_ASSIGN(old, ReadFile(dir_ + "/index.json"));
    existing = std::move(old);
  }
  std::map<std::string, std::string> annotations;
  if (!tag_.empty()) annotations[std::string(kRefNameAnnotation)] = tag_;
  auto index = AddToOciIndex(existing, d, annotations);
  if (!index) return Wrap(dir_ + "/index.json", index.error());
  if (!PathExists(dir_ + "/oci-layout")) {
    STRATA_TRY(WriteFileAtomic(dir_ + "/oci-layout", kOciLayoutFileContent));
  }
  STRATA_TRY(WriteFileAtomic(dir_ + "/index.json", *index));
  committed_ = true;
  return {};
}

}  // namespace strata
