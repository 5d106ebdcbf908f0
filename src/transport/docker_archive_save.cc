#include "transport/docker_archive_save.h"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "archive/tar_writer.h"
#include "image/image_config.h"
#include "image/v1_id.h"
#include "store/image_lookup.h"
#include "store/layer_content.h"
#include "util/go_json.h"

namespace strata {
namespace {

// One file or directory of the archive; written in Go filepath.Walk order (components compared
// one by one), as docker's archive.Tar of its staging directory does.
struct ArchiveItem {
  std::vector<std::string> components;
  TarEntry entry;
  std::string content;         // small files
  std::optional<Digest> blob;  // layer.tar straight from the content store
};

TarEntry MakeEntry(const std::string& name, TarType type, int64_t mtime) {
  TarEntry e;
  e.name = name;
  e.type = type;
  e.typeflag = TarTypeflagFor(type);
  // Go's tar.FileInfoHeader keeps the file-type bits in the mode field, as docker's save has it.
  e.mode = type == TarType::kDirectory ? 040755 : 0100644;
  if (type == TarType::kSymlink) e.mode = 0120777;
  e.uname = "root";
  e.gname = "root";
  e.mtime.seconds = mtime;
  return e;
}

// "busybox:latest (sha256:...)", or the ID alone.
std::string ImageName(const SaveRequest& request) {
  if (request.tags.empty()) return request.image.str();
  return request.tags.front().FamiliarString() + " (" + request.image.str() + ")";
}

Status CopyLayer(Store& store, const Digest& diff_id, TarWriter& tar,
                 const BlobProgressFn& progress, const std::string& progress_id, uint64_t size) {
  STRATA_ASSIGN(source, FindLayerTar(store, diff_id));
  STRATA_ASSIGN(reader, OpenLayerTar(store.content(), source));
  ProgressReader counted(*reader, progress, progress_id, size);
  auto copied = tar.CopyContent(counted);
  // Errors of a compressed form name the layer already; those of the tar blob name the blob.
  if (!copied && !source.compressed) return Wrap("layer " + diff_id.str(), copied.error());
  return copied;
}

}  // namespace

Result<std::vector<SaveRequest>> ResolveSaveArguments(Store& store,
                                                      const std::vector<std::string>& names) {
  std::vector<SaveRequest> out;
  auto add = [&](const Digest& id, std::optional<Reference> tag) {
    for (SaveRequest& r : out) {
      if (r.image == id) {
        if (tag && std::find(r.tags.begin(), r.tags.end(), *tag) == r.tags.end()) {
          r.tags.push_back(*tag);
        }
        return;
      }
    }
    out.push_back({id, tag ? std::vector<Reference>{*tag} : std::vector<Reference>{}});
  };
  Metadata& md = store.metadata();
  for (const std::string& name : names) {
    auto any = ParseAnyReference(name);
    if (any && std::holds_alternative<Reference>(*any)) {
      const Reference& ref = std::get<Reference>(*any);
      if (ref.IsNameOnly()) {
        // every tag of the repository, like docker save busybox
        STRATA_ASSIGN(refs, md.ListRefs());
        bool found = false;
        for (const RefRecord& r : refs) {
          if (r.repository == ref.Name() && !r.is_digest) {
            STRATA_ASSIGN(tag, ParseReference(r.name));
            add(r.image_id, tag);
            found = true;
          }
        }
        if (found) continue;
      } else if (ref.tag() && !ref.digest()) {
        STRATA_ASSIGN(found, md.GetRef(ref.String()));
        if (found) {
          add(found->image_id, ref);
          continue;
        }
      }
    }
    STRATA_ASSIGN(id, ResolveImage(store, name));
    add(id, std::nullopt);
  }
  return out;
}

Status SaveDockerArchive(Store& store, const std::vector<SaveRequest>& images, Writer& out,
                         const BlobProgressFn& progress) {
  STRATA_ASSIGN(lock, store.LockShared());
  std::vector<ArchiveItem> items;
  std::map<Digest, std::string> layer_paths;   // diffID -> "<v1id>/layer.tar" written first
  std::map<Digest, std::string> layer_images;  // diffID -> the image it is written for (errors)
  std::set<std::string> dirs;
  nlohmann::ordered_json manifest = nlohmann::ordered_json::array();
  nlohmann::ordered_json repositories = nlohmann::ordered_json::object();
  std::set<Digest> saved;
  for (const SaveRequest& r : images) saved.insert(r.image);

  for (const SaveRequest& request : images) {
    STRATA_ASSIGN(config, LoadImageConfig(store, request.image));
    const int64_t created = config.created().unix_seconds;
    STRATA_ASSIGN(v1_layers, ComputeV1Layers(config));
    nlohmann::ordered_json layer_names = nlohmann::ordered_json::array();
    for (const V1Layer& v1 : v1_layers) {
      const std::string dir = v1.id;
      const std::string layer_path = dir + "/layer.tar";
      layer_names.push_back(layer_path);
      if (!dirs.insert(dir).second) continue;
      items.push_back({{dir}, MakeEntry(dir + "/", TarType::kDirectory, created), "", {}});
      items.push_back(
          {{dir, "VERSION"}, MakeEntry(dir + "/VERSION", TarType::kRegular, created), "1.0", {}});
      items.push_back(
          {{dir, "json"}, MakeEntry(dir + "/json", TarType::kRegular, created), v1.json, {}});
      auto existing = layer_paths.find(v1.diff_id);
      if (existing != layer_paths.end()) {
        TarEntry link = MakeEntry(layer_path, TarType::kSymlink, created);
        link.linkname = "../" + existing->second;
        items.push_back({{dir, "layer.tar"}, link, "", {}});
      } else {
        STRATA_ASSIGN(size, LayerTarSize(store, v1.diff_id));
        TarEntry file = MakeEntry(layer_path, TarType::kRegular, created);
        file.size = static_cast<int64_t>(size);
        items.push_back({{dir, "layer.tar"}, file, "", v1.diff_id});
        layer_images[v1.diff_id] = ImageName(request);
        layer_paths[v1.diff_id] = layer_path;
      }
    }
    const std::string config_name = request.image.hex() + ".json";
    items.push_back(
        {{config_name}, MakeEntry(config_name, TarType::kRegular, created), config.bytes(), {}});

    nlohmann::ordered_json entry;
    entry["Config"] = config_name;
    nlohmann::ordered_json tags = nlohmann::ordered_json::array();
    for (const Reference& t : request.tags) {
      tags.push_back(t.FamiliarString());
      if (!v1_layers.empty() && t.tag()) {
        repositories[t.FamiliarName()][*t.tag()] = v1_layers.back().id;
      }
    }
    entry["RepoTags"] = tags.empty() ? nlohmann::ordered_json(nullptr) : tags;
    entry["Layers"] = layer_names;
    STRATA_ASSIGN(record, store.metadata().GetImage(request.image));
    if (record && record->parent && saved.count(*record->parent)) {
      entry["Parent"] = record->parent->str();
    }
    manifest.push_back(entry);
  }
  items.push_back({{"manifest.json"},
                   MakeEntry("manifest.json", TarType::kRegular, 0),
                   GoMarshal(manifest) + "\n",
                   {}});
  if (!repositories.empty()) {
    items.push_back({{"repositories"},
                     MakeEntry("repositories", TarType::kRegular, 0),
                     GoMarshalSortedKeys(repositories) + "\n",
                     {}});
  }
  std::stable_sort(items.begin(), items.end(), [](const ArchiveItem& a, const ArchiveItem& b) {
    return a.components < b.components;
  });

  TarWriter tar(out);
  for (ArchiveItem& item : items) {
    if (item.blob) {
      STRATA_TRY(tar.WriteHeader(item.entry));
      // Verified while it is copied: a damaged layer fails the save before its last byte.
      auto copied = CopyLayer(store, *item.blob, tar, progress, ProgressId(item.entry.name),
                              static_cast<uint64_t>(item.entry.size));
      if (!copied) return Wrap("image " + layer_images[*item.blob], copied.error());
    } else {
      if (item.entry.type == TarType::kRegular) {
        item.entry.size = static_cast<int64_t>(item.content.size());
      }
      STRATA_TRY(tar.WriteEntry(item.entry, item.content));
    }
  }
  return tar.Close();
}

}  // namespace strata
