#include "transport/docker_archive_load.h"

#include <cstring>
#include <map>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/compression.h"
#include "archive/tar_reader.h"
#include "image/image_config.h"
#include "layer/layer_stage.h"
#include "store/image_commit.h"
#include "util/clean_path.h"
#include "util/json_depth.h"

namespace strata {
namespace {

constexpr uint64_t kMaxJsonMember = 64 << 20;

// One regular file or symlink of the archive.
struct Member {
  std::string bytes;                 // JSON documents
  std::optional<StagedLayer> layer;  // anything that looked like a tar or a compressed stream
  std::optional<Error> layer_error;  // why staging it as a layer failed
  std::string link;                  // symlink target, resolved to an archive path
};

bool LooksLikeJson(std::string_view head) {
  for (char c : head) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t') continue;
    return c == '{' || c == '[';
  }
  return false;
}

std::string Dirname(const std::string& path) {
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

class ArchiveReader {
 public:
  ArchiveReader(Store& store, bool unpack, const BlobProgressFn& progress)
      : store_(store), unpack_(unpack), progress_(progress) {}
  ~ArchiveReader() {
    // Directories unpacked for layers that were never committed.
    for (auto& [name, m] : members_) {
      if (m.layer && !m.layer->unpacked_dir.empty()) (void)RemoveAll(m.layer->unpacked_dir);
    }
  }

  Status ReadAll(Reader& archive) {
    STRATA_ASSIGN(decoded, AutoDecompress(archive));
    TarReader tar(*decoded);
    for (;;) {
      STRATA_ASSIGN(entry, tar.Next());
      if (!entry) break;
      auto relative = RootRelative(entry->name);
      if (!relative)
        return Fail("invalid archive entry \"" + entry->name + "\": path escapes the root");
      const std::string& name = *relative;
      if (entry->type == TarType::kSymlink) {
        std::string target = entry->linkname.starts_with("/")
                                 ? entry->linkname
                                 : Dirname(name) + "/" + entry->linkname;
        members_[name].link = ClampedRootRelative(target);
        continue;
      }
      if (entry->type != TarType::kRegular) continue;
      STRATA_TRY(ReadMember(name, tar.content(), static_cast<uint64_t>(entry->content_size())));
    }
    return {};
  }

  // Follows symlinks (docker 20.10 writes one for every repeated layer) to a file member.
  Result<Member*> Find(const std::string& raw_name) {
    std::string name = ClampedRootRelative(raw_name);
    for (int hops = 0; hops < 16; ++hops) {
      auto it = members_.find(name);
      if (it == members_.end()) return Fail("archive has no file \"" + raw_name + "\"");
      if (it->second.link.empty()) return &it->second;
      name = it->second.link;
    }
    return Fail("too many symlinks resolving \"" + raw_name + "\"");
  }

  Result<std::string> JsonMember(const std::string& name) {
    STRATA_ASSIGN(m, Find(name));
    if (m->layer || m->layer_error) return Fail("\"" + name + "\" is not a JSON document");
    return m->bytes;
  }

  // After the commit: summed over the layers unpacked while read whose directory the commit
  // moved into place (one it kept no directory of, e.g. of a layer unpacked before, is left out).
  UnpackLosses unpack_losses() const {
    UnpackLosses sum;
    for (const auto& [name, m] : members_) {
      if (m.layer && m.layer->unpacked_dir.empty()) sum.Add(m.layer->unpack_losses);
    }
    return sum;
  }

  Result<StagedLayer*> LayerMember(const std::string& name) {
    STRATA_ASSIGN(m, Find(name));
    if (m->layer_error) return Fail("layer \"" + name + "\": " + m->layer_error->message);
    if (!m->layer) return Fail("layer \"" + name + "\" is not a tar stream");
    return &*m->layer;
  }

 private:
  Status ReadMember(const std::string& name, Reader& content, uint64_t size) {
    PeekReader peek(content);
    STRATA_ASSIGN(head, peek.Peek(512));
    Member& m = members_[name];
    if (LooksLikeJson(head)) {
      std::string buffer(1 << 16, '\0');
      for (;;) {
        STRATA_ASSIGN(n, peek.Read(buffer.data(), buffer.size()));
        if (n == 0) break;
        if (m.bytes.size() + n > kMaxJsonMember) return Fail("\"" + name + "\" is too large");
        m.bytes.append(buffer.data(), n);
      }
      return {};
    }
    StageOptions options;
    if (unpack_) options.unpack_dir = store_.snapshots().NewStagingDir();
    // Bars for layers only: not for the 3-byte VERSION files of Docker 20.10's layout.
    static const BlobProgressFn kNone;
    const bool layer = name.ends_with("layer.tar") || name.starts_with("blobs/");
    ProgressReader counted(peek, layer ? progress_ : kNone, ProgressId(name), size);
    auto staged = StageLayer(store_.content(), counted, options);
    if (staged) {
      m.layer.emplace(std::move(*staged));
    } else {
      m.layer_error = staged.error();  // fatal only if a manifest names this file as a layer
    }
    return {};
  }

  Store& store_;
  bool unpack_;
  const BlobProgressFn& progress_;
  std::map<std::string, Member> members_;
};

struct ManifestEntry {
  std::string config;
  std::vector<std::string> repo_tags;
  std::vector<std::string> layers;
  std::optional<std::string> parent;
};

Result<std::vector<ManifestEntry>> ParseManifest(const std::string& bytes) {
  auto json = ParseUntrustedJson(bytes);
  if (json.is_discarded() || !json.is_array()) {
    return Fail("manifest.json is not a JSON array of images");
  }
  std::vector<ManifestEntry> out;
  for (const auto& item : json) {
    if (!item.is_object() || !item.contains("Config") || !item["Config"].is_string()) {
      return Fail("manifest.json: an entry has no \"Config\"");
    }
    ManifestEntry e;
    e.config = item["Config"].get<std::string>();
    if (auto it = item.find("RepoTags"); it != item.end() && !it->is_null()) {
      if (!it->is_array()) return Fail("manifest.json: \"RepoTags\" is not an array");
      for (const auto& t : *it) {
        if (!t.is_string()) return Fail("manifest.json: a RepoTags item is not a string");
        e.repo_tags.push_back(t.get<std::string>());
      }
    }
    if (auto it = item.find("Layers"); it != item.end() && !it->is_null()) {
      if (!it->is_array()) return Fail("manifest.json: \"Layers\" is not an array");
      for (const auto& l : *it) {
        if (!l.is_string()) return Fail("manifest.json: a Layers item is not a string");
        e.layers.push_back(l.get<std::string>());
      }
    }
    if (auto it = item.find("Parent"); it != item.end() && it->is_string()) {
      e.parent = it->get<std::string>();
    }
    out.push_back(std::move(e));
  }
  return out;
}

// Docker's checkValidParent: the child's history is the parent's plus exactly one entry, and the
// parent's layers are a prefix of the child's.
bool IsValidParent(const ImageConfig& child, const ImageConfig& parent) {
  const auto& ch = child.history();
  const auto& ph = parent.history();
  if (ch.size() != ph.size() + 1) return false;
  const auto& cd = child.diff_ids();
  const auto& pd = parent.diff_ids();
  if (pd.size() > cd.size()) return false;
  return std::equal(pd.begin(), pd.end(), cd.begin());
}

}  // namespace

Result<LoadReport> LoadDockerArchive(Store& store, Reader& archive, const LoadOptions& options) {
  STRATA_ASSIGN(lock, store.LockShared());
  ArchiveReader reader(store, options.unpack, options.progress);
  STRATA_TRY(reader.ReadAll(archive));
  auto manifest_bytes = reader.JsonMember("manifest.json");
  if (!manifest_bytes) {
    return Fail(
        "not a docker-archive: no manifest.json (pre-1.10 legacy archives are not "
        "supported)");
  }
  STRATA_ASSIGN(entries, ParseManifest(*manifest_bytes));

  std::vector<IngestImage> images;
  std::vector<ImageConfig> configs;
  LoadReport report;
  for (const ManifestEntry& e : entries) {
    auto config_bytes = reader.JsonMember(e.config);
    if (!config_bytes) return Wrap("image config \"" + e.config + "\"", config_bytes.error());
    auto config = ImageConfig::Parse(*config_bytes);
    if (!config) return Wrap("image config \"" + e.config + "\"", config.error());
    IngestImage image;
    image.config_bytes = *config_bytes;
    image.listed_by = "manifest.json";
    for (const std::string& member : e.layers) {
      STRATA_ASSIGN(layer, reader.LayerMember(member));
      image.layers.push_back(IngestLayer{.staged = layer,
                                         .blob = std::nullopt,
                                         .blob_writer = nullptr,
                                         .origin = "\"" + member + "\""});
    }
    LoadedImage loaded{.id = config->id(), .tags = {}};
    for (const std::string& t : e.repo_tags) {
      auto ref = ParseNormalizedNamed(t);
      if (!ref) return Wrap("manifest.json RepoTags", ref.error());
      if (ref->digest()) return Fail("manifest.json RepoTags: \"" + t + "\" is not a tag");
      image.tags.push_back(TagNameOnly(*ref));
      loaded.tags.push_back(TagNameOnly(*ref).FamiliarString());
    }
    report.images.push_back(std::move(loaded));
    images.push_back(std::move(image));
    configs.push_back(std::move(*config));
  }
  // Parent links only between images of this archive, and only when consistent (as docker does).
  for (size_t i = 0; i < entries.size(); ++i) {
    if (!entries[i].parent) continue;
    auto parent = Digest::Parse(*entries[i].parent);
    if (!parent) continue;
    for (size_t j = 0; j < configs.size(); ++j) {
      if (configs[j].id() == *parent && IsValidParent(configs[i], configs[j])) {
        images[i].parent = *parent;
      }
    }
  }
  STRATA_ASSIGN(committed, IngestImages(store, images));
  report.unpack_losses = reader.unpack_losses();
  for (const CommitEvent& ev : committed.events) {
    report.messages.push_back("The image " + ev.tag +
                              " already exists, renaming the old one with ID " +
                              ev.old_image.str() + " to empty string");
  }
  return report;
}

}  // namespace strata
