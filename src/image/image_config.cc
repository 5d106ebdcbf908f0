#include "image/image_config.h"

#include <array>

#include "image/chain_id.h"
#include "util/go_decode.h"
#include "util/go_json.h"
#include "util/json_depth.h"

namespace strata {
namespace {

using Json = nlohmann::ordered_json;

Result<HistoryEntry> DecodeHistory(const Json& value, const std::string& path) {
  static constexpr std::array<std::string_view, 5> kFields = {"created", "author", "created_by",
                                                              "comment", "empty_layer"};
  HistoryEntry h;
  if (value.is_null()) return h;
  if (!value.is_object()) {
    return Fail(path + ": cannot unmarshal " + go_decode::TypeName(value) +
                " into a history entry object");
  }
  for (const auto& [key, member] : value.items()) {
    std::string field = go_decode::Join(path, key);
    switch (go_decode::MatchField(kFields, key)) {
      case 0:
        STRATA_TRY(go_decode::Time(member, field, &h.created));
        break;
      case 1:
        STRATA_TRY(go_decode::String(member, field, &h.author));
        break;
      case 2:
        STRATA_TRY(go_decode::String(member, field, &h.created_by));
        break;
      case 3:
        STRATA_TRY(go_decode::String(member, field, &h.comment));
        break;
      case 4:
        STRATA_TRY(go_decode::Bool(member, field, &h.empty_layer));
        break;
      default:
        break;
    }
  }
  return h;
}

Result<ImageRootFs> DecodeImageRootFs(const Json& value) {
  static constexpr std::array<std::string_view, 2> kFields = {"type", "diff_ids"};
  if (!value.is_object()) {
    return Fail(std::string("rootfs: cannot unmarshal ") + go_decode::TypeName(value) +
                " into a rootfs object");
  }
  ImageRootFs rootfs;
  rootfs.type.clear();
  for (const auto& [key, member] : value.items()) {
    std::string field = go_decode::Join("rootfs", key);
    switch (go_decode::MatchField(kFields, key)) {
      case 0:
        STRATA_TRY(go_decode::String(member, field, &rootfs.type));
        break;
      case 1: {
        std::optional<std::vector<std::string>> ids;
        STRATA_TRY(go_decode::StringList(member, field, &ids));
        rootfs.diff_ids.clear();
        if (!ids) break;
        for (size_t i = 0; i < ids->size(); ++i) {
          auto digest = Digest::Parse((*ids)[i]);
          if (!digest) return Wrap(field + "[" + std::to_string(i) + "]", digest.error());
          rootfs.diff_ids.push_back(*digest);
        }
        break;
      }
      default:
        break;
    }
  }
  return rootfs;
}

// Finds the member Go would decode into field `name` (exact, else case-insensitive; last wins).
Json FindMember(const Json& document, std::string_view name) {
  Json found = nullptr;
  if (!document.is_object()) return found;
  const std::array<std::string_view, 1> names = {name};
  for (const auto& [key, member] : document.items()) {
    if (go_decode::MatchField(names, key) == 0) found = member;
  }
  return found;
}

}  // namespace

Json HistoryEntry::ToJson() const {
  Json out = Json::object();
  out["created"] = FormatRfc3339Nano(created);
  if (!author.empty()) out["author"] = author;
  if (!created_by.empty()) out["created_by"] = created_by;
  if (!comment.empty()) out["comment"] = comment;
  if (empty_layer) out["empty_layer"] = true;
  return out;
}

Json ImageRootFs::ToJson() const {
  Json out = Json::object();
  out["type"] = type;
  if (!diff_ids.empty()) {
    Json ids = Json::array();
    for (const auto& d : diff_ids) ids.push_back(d.str());
    out["diff_ids"] = std::move(ids);
  }
  return out;
}

Json V1Image::ToJson() const {
  Json out = Json::object();
  if (!id.empty()) out["id"] = id;
  if (!parent.empty()) out["parent"] = parent;
  if (!comment.empty()) out["comment"] = comment;
  out["created"] = FormatRfc3339Nano(created);
  if (!container.empty()) out["container"] = container;
  out["container_config"] = container_config.ToJson();
  if (!docker_version.empty()) out["docker_version"] = docker_version;
  if (!author.empty()) out["author"] = author;
  if (config) out["config"] = config->ToJson();
  if (!architecture.empty()) out["architecture"] = architecture;
  if (!variant.empty()) out["variant"] = variant;
  if (!os.empty()) out["os"] = os;
  if (size != 0) out["Size"] = size;
  return out;
}

Json ImageSpec::ToJson() const {
  // Image embeds V1Image; its own "parent" field shadows V1Image.Parent.
  V1Image base = v1;
  base.parent.clear();
  Json out = base.ToJson();
  if (!parent.empty()) out["parent"] = parent;
  if (rootfs) out["rootfs"] = rootfs->ToJson();
  if (!history.empty()) {
    Json entries = Json::array();
    for (const auto& h : history) entries.push_back(h.ToJson());
    out["history"] = std::move(entries);
  }
  if (!os_version.empty()) out["os.version"] = os_version;
  if (!os_features.empty()) out["os.features"] = os_features;
  return out;
}

std::string ImageSpec::Marshal() const { return GoMarshalSortedTopLevel(ToJson()); }

Result<ImageSpec> DecodeImageSpec(const Json& document) {
  static constexpr std::array<std::string_view, 17> kFields = {
      "id",         "parent",           "comment",        "created",
      "container",  "container_config", "docker_version", "author",
      "config",     "architecture",     "variant",        "os",
      "Size",       "rootfs",           "history",        "os.version",
      "os.features"};
  ImageSpec spec;
  if (document.is_null()) return spec;
  if (!document.is_object()) {
    return Fail(std::string("cannot unmarshal ") + go_decode::TypeName(document) +
                " into an image config object");
  }
  for (const auto& [key, member] : document.items()) {
    V1Image& v1 = spec.v1;
    switch (go_decode::MatchField(kFields, key)) {
      case 0:
        STRATA_TRY(go_decode::String(member, key, &v1.id));
        break;
      case 1:
        STRATA_TRY(go_decode::String(member, key, &spec.parent));
        break;
      case 2:
        STRATA_TRY(go_decode::String(member, key, &v1.comment));
        break;
      case 3:
        STRATA_TRY(go_decode::Time(member, key, &v1.created));
        break;
      case 4:
        STRATA_TRY(go_decode::String(member, key, &v1.container));
        break;
      case 5: {
        STRATA_ASSIGN(cc, ContainerConfig::FromJson(member, key));
        v1.container_config = std::move(cc);
        break;
      }
      case 6:
        STRATA_TRY(go_decode::String(member, key, &v1.docker_version));
        break;
      case 7:
        STRATA_TRY(go_decode::String(member, key, &v1.author));
        break;
      case 8:
        if (member.is_null()) {
          v1.config.reset();
        } else {
          STRATA_ASSIGN(config, ContainerConfig::FromJson(member, key));
          v1.config = std::move(config);
        }
        break;
      case 9:
        STRATA_TRY(go_decode::String(member, key, &v1.architecture));
        break;
      case 10:
        STRATA_TRY(go_decode::String(member, key, &v1.variant));
        break;
      case 11:
        STRATA_TRY(go_decode::String(member, key, &v1.os));
        break;
      case 12:
        STRATA_TRY(go_decode::Int64(member, key, &v1.size));
        break;
      case 13:
        if (member.is_null()) {
          spec.rootfs.reset();
        } else {
          STRATA_ASSIGN(rootfs, DecodeImageRootFs(member));
          spec.rootfs = std::move(rootfs);
        }
        break;
      case 14: {
        spec.history.clear();
        if (member.is_null()) break;
        if (!member.is_array()) {
          return Fail(std::string("history: cannot unmarshal ") + go_decode::TypeName(member) +
                      " into an array of history entries");
        }
        for (size_t i = 0; i < member.size(); ++i) {
          STRATA_ASSIGN(entry, DecodeHistory(member[i], "history[" + std::to_string(i) + "]"));
          spec.history.push_back(std::move(entry));
        }
        break;
      }
      case 15:
        STRATA_TRY(go_decode::String(member, key, &spec.os_version));
        break;
      case 16: {
        std::optional<std::vector<std::string>> features;
        STRATA_TRY(go_decode::StringList(member, key, &features));
        spec.os_features = features.value_or(std::vector<std::string>{});
        break;
      }
      default:
        break;
    }
  }
  return spec;
}

Result<ImageConfig> ImageConfig::Parse(std::string bytes) {
  Digest id = Digest::Sha256Of(bytes);
  std::string context = "image config " + id.str();
  if (bytes.empty()) return Fail(context + ": invalid image JSON: empty document");
  Json document = ParseUntrustedJson<nlohmann::ordered_json>(bytes);
  if (document.is_discarded()) {
    return Fail(context + ": invalid image JSON: not a well-formed JSON document");
  }
  auto spec = DecodeImageSpec(document);
  if (!spec) return Fail(context + ": invalid image JSON: " + spec.error().message);
  if (!spec->rootfs) return Fail(context + ": invalid image JSON, no RootFS key");
  if (spec->rootfs->type != "layers") {
    return Fail(context + ": unsupported rootfs type \"" + spec->rootfs->type +
                "\", expected \"layers\"");
  }
  size_t non_empty = 0;
  for (const auto& h : spec->history) {
    if (!h.empty_layer) ++non_empty;
  }
  if (non_empty > spec->rootfs->diff_ids.size()) {
    return Fail(context + ": too many non-empty layers in History section (" +
                std::to_string(non_empty) + " non-empty entries, " +
                std::to_string(spec->rootfs->diff_ids.size()) + " diff_ids)");
  }
  return ImageConfig(std::move(bytes), std::move(id), std::move(document), std::move(*spec));
}

std::string ImageConfig::created_string() const { return FormatRfc3339Nano(created()); }

nlohmann::ordered_json ImageConfig::config_json() const { return FindMember(json_, "config"); }

nlohmann::ordered_json ImageConfig::container_config_json() const {
  return FindMember(json_, "container_config");
}

std::optional<Digest> ImageConfig::chain_id() const {
  if (diff_ids().empty()) return std::nullopt;
  return ChainId(diff_ids());
}

std::string_view HostGoArch() {
#if defined(__x86_64__)
  return "amd64";
#elif defined(__aarch64__)
  return "arm64";
#elif defined(__i386__)
  return "386";
#elif defined(__arm__)
  return "arm";
#elif defined(__powerpc64__) && defined(__LITTLE_ENDIAN__)
  return "ppc64le";
#elif defined(__s390x__)
  return "s390x";
#elif defined(__riscv) && __riscv_xlen == 64
  return "riscv64";
#else
  return "unknown";
#endif
}

std::string_view HostGoVariant() {
#if defined(__aarch64__)
  return "v8";
#elif defined(__arm__) && defined(__ARM_ARCH) && __ARM_ARCH >= 7
  return "v7";
#elif defined(__arm__)
  return "v6";
#else
  return "";
#endif
}

ImageSpec NewImportImageSpec(const Digest& diff_id, const ImportOptions& options) {
  std::string comment = options.comment.empty() ? "Imported from -" : options.comment;
  ImageSpec spec;
  spec.v1.docker_version = options.docker_version;
  spec.v1.config = options.config;
  if (options.architecture.empty()) {
    spec.v1.architecture = std::string(HostGoArch());
    spec.v1.variant = options.variant.empty() ? std::string(HostGoVariant()) : options.variant;
  } else {
    spec.v1.architecture = options.architecture;
    spec.v1.variant = options.variant;
  }
  spec.v1.os = options.os;
  spec.v1.created = options.created;
  spec.v1.comment = comment;
  spec.rootfs = ImageRootFs{"layers", {diff_id}};
  HistoryEntry h;
  h.created = options.created;
  h.comment = comment;
  spec.history.push_back(std::move(h));
  return spec;
}

}  // namespace strata
