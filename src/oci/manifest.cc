#include "oci/manifest.h"

#include <nlohmann/json.hpp>

#include "util/go_json.h"
#include "util/json_depth.h"

namespace strata {
namespace {

using Json = nlohmann::json;

Result<Json> ParseObject(std::string_view bytes, const char* what) {
  bool too_deep = false;
  Json json = ParseUntrustedJson(bytes, &too_deep);
  if (too_deep) {
    return Fail(std::string(what) + " nests objects and arrays deeper than " +
                std::to_string(kMaxJsonDepth) + " levels");
  }
  if (json.is_discarded()) return Fail(std::string(what) + " is not valid JSON");
  if (!json.is_object()) return Fail(std::string(what) + " is not a JSON object");
  return json;
}

// An optional string member: "" when absent; an error when present with another type.
Result<std::string> OptionalString(const Json& object, const char* key, const std::string& where) {
  auto it = object.find(key);
  if (it == object.end() || it->is_null()) return std::string();
  if (!it->is_string()) return Fail(where + ": \"" + key + "\" is not a string");
  return it->get<std::string>();
}

Result<Descriptor> ParseDescriptor(const Json& json, const std::string& where) {
  if (!json.is_object()) return Fail(where + " is not a JSON object");
  STRATA_ASSIGN(media_type, OptionalString(json, "mediaType", where));
  auto digest = json.find("digest");
  if (digest == json.end() || !digest->is_string()) {
    return Fail(where + " has no \"digest\" string");
  }
  auto parsed = Digest::Parse(digest->get<std::string>());
  if (!parsed) return Wrap(where + ": \"digest\"", parsed.error());
  auto size = json.find("size");
  if (size == json.end() || !size->is_number_integer() || size->get<int64_t>() < 0) {
    return Fail(where + " (" + parsed->str() + ") has no valid \"size\"");
  }
  return Descriptor{std::move(media_type), *parsed, size->get<int64_t>()};
}

nlohmann::ordered_json OciDescriptorJson(const Descriptor& d) {
  nlohmann::ordered_json j;
  j["mediaType"] = d.media_type;
  j["digest"] = d.digest.str();
  j["size"] = d.size;
  return j;
}

nlohmann::ordered_json DockerDescriptorJson(const Descriptor& d) {
  nlohmann::ordered_json j;
  j["mediaType"] = d.media_type;
  j["size"] = d.size;
  j["digest"] = d.digest.str();
  return j;
}

}  // namespace

bool IsSchema1Manifest(std::string_view content_type, std::string_view bytes) {
  if (content_type == kDockerSchema1MediaType || content_type == kDockerSchema1SignedMediaType) {
    return true;
  }
  auto json = ParseUntrustedJson(bytes);
  if (!json.is_object()) return false;
  auto version = json.find("schemaVersion");
  return version != json.end() && version->is_number_integer() && version->get<int64_t>() == 1;
}

bool IsIndexMediaType(std::string_view media_type) {
  return media_type == kOciIndexMediaType || media_type == kDockerManifestListMediaType;
}

bool IsImageManifestMediaType(std::string_view media_type) {
  return media_type == kOciManifestMediaType || media_type == kDockerManifestMediaType;
}

Result<std::string> ManifestMediaType(std::string_view bytes, std::string_view hint) {
  STRATA_ASSIGN(json, ParseObject(bytes, "manifest"));
  if (auto v = json.find("schemaVersion");
      v != json.end() && v->is_number_integer() && v->get<int64_t>() == 1) {
    return Fail("schema 1 manifests are not supported (only OCI and Docker schema 2)");
  }
  STRATA_ASSIGN(own, OptionalString(json, "mediaType", "manifest"));
  if (!own.empty()) return own;
  if (!hint.empty()) return std::string(hint);
  if (json.contains("manifests")) return std::string(kOciIndexMediaType);
  if (auto c = json.find("config"); c != json.end() && c->is_object()) {
    auto type = c->find("mediaType");
    if (type != c->end() && type->is_string() && *type == kDockerConfigMediaType) {
      return std::string(kDockerManifestMediaType);
    }
  }
  return std::string(kOciManifestMediaType);
}

Result<ImageManifest> ParseImageManifest(std::string_view bytes, std::string_view hint) {
  STRATA_ASSIGN(media_type, ManifestMediaType(bytes, hint));
  if (IsIndexMediaType(media_type)) {
    return Fail("expected an image manifest, got an index (" + media_type + ")");
  }
  if (!IsImageManifestMediaType(media_type)) {
    return Fail("unsupported manifest media type \"" + media_type + "\"");
  }
  STRATA_ASSIGN(json, ParseObject(bytes, "manifest"));
  auto version = json.find("schemaVersion");
  if (version == json.end() || !version->is_number_integer() || version->get<int64_t>() != 2) {
    return Fail("manifest: \"schemaVersion\" is not 2");
  }
  auto config = json.find("config");
  if (config == json.end()) return Fail("manifest has no \"config\"");
  STRATA_ASSIGN(config_descriptor, ParseDescriptor(*config, "manifest config"));
  ImageManifest m{.media_type = media_type, .config = std::move(config_descriptor), .layers = {}};
  auto layers = json.find("layers");
  if (layers != json.end() && !layers->is_null()) {
    if (!layers->is_array()) return Fail("manifest: \"layers\" is not an array");
    for (size_t i = 0; i < layers->size(); ++i) {
      STRATA_ASSIGN(layer, ParseDescriptor((*layers)[i], "manifest layer " + std::to_string(i)));
      m.layers.push_back(std::move(layer));
    }
  }
  return m;
}

Result<std::vector<IndexEntry>> ParseIndex(std::string_view bytes) {
  STRATA_ASSIGN(json, ParseObject(bytes, "index"));
  auto version = json.find("schemaVersion");
  if (version == json.end() || !version->is_number_integer() || version->get<int64_t>() != 2) {
    return Fail("index: \"schemaVersion\" is not 2");
  }
  std::vector<IndexEntry> out;
  auto manifests = json.find("manifests");
  if (manifests == json.end() || manifests->is_null()) return out;  // Docker 25 bug #47210
  if (!manifests->is_array()) return Fail("index: \"manifests\" is not an array");
  for (size_t i = 0; i < manifests->size(); ++i) {
    const Json& item = (*manifests)[i];
    const std::string where = "index entry " + std::to_string(i);
    STRATA_ASSIGN(descriptor, ParseDescriptor(item, where));
    IndexEntry e{.descriptor = std::move(descriptor), .platform = {}, .annotations = {}};
    if (auto p = item.find("platform"); p != item.end() && p->is_object()) {
      Platform platform;
      STRATA_ASSIGN(os, OptionalString(*p, "os", where + " platform"));
      STRATA_ASSIGN(arch, OptionalString(*p, "architecture", where + " platform"));
      STRATA_ASSIGN(variant, OptionalString(*p, "variant", where + " platform"));
      e.platform = Platform{std::move(os), std::move(arch), std::move(variant)};
    }
    if (auto a = item.find("annotations"); a != item.end() && !a->is_null()) {
      if (!a->is_object()) return Fail(where + ": \"annotations\" is not an object");
      for (const auto& [key, value] : a->items()) {
        if (!value.is_string()) return Fail(where + ": annotation \"" + key + "\" is not a string");
        e.annotations[key] = value.get<std::string>();
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

Result<IndexEntry> SelectPlatform(const std::vector<IndexEntry>& entries, std::string_view os,
                                  std::string_view architecture, std::string_view variant) {
  if (entries.size() == 1 && !entries[0].platform) return entries[0];
  const IndexEntry* any_variant = nullptr;
  for (const IndexEntry& e : entries) {
    if (!e.platform || e.platform->os != os || e.platform->architecture != architecture) continue;
    if (variant.empty() || e.platform->variant == variant) return e;
    if (e.platform->variant.empty() && any_variant == nullptr) any_variant = &e;
  }
  if (any_variant != nullptr) return *any_variant;
  std::string have;
  for (const IndexEntry& e : entries) {
    if (!have.empty()) have += ", ";
    have += e.platform ? e.platform->os + "/" + e.platform->architecture +
                             (e.platform->variant.empty() ? "" : "/" + e.platform->variant)
                       : "(no platform)";
  }
  return Fail("no image for platform " + std::string(os) + "/" + std::string(architecture) +
              (variant.empty() ? "" : "/" + std::string(variant)) +
              " in the index (it has: " + (have.empty() ? "nothing" : have) + ")");
}

std::string MarshalOciManifest(const Descriptor& config, const std::vector<Descriptor>& layers) {
  nlohmann::ordered_json m;
  m["schemaVersion"] = 2;
  m["mediaType"] = kOciManifestMediaType;
  m["config"] = OciDescriptorJson(config);
  m["layers"] = nlohmann::ordered_json::array();
  for (const Descriptor& l : layers) m["layers"].push_back(OciDescriptorJson(l));
  return GoMarshal(m);
}

namespace {

nlohmann::ordered_json DockerManifestJson(const Descriptor& config,
                                          const std::vector<Descriptor>& layers) {
  nlohmann::ordered_json m;
  m["schemaVersion"] = 2;
  m["mediaType"] = kDockerManifestMediaType;
  m["config"] = DockerDescriptorJson(config);
  m["layers"] = nlohmann::ordered_json::array();
  for (const Descriptor& l : layers) m["layers"].push_back(DockerDescriptorJson(l));
  return m;
}

}  // namespace

std::string MarshalDockerManifest(const Descriptor& config, const std::vector<Descriptor>& layers) {
  return GoMarshal(DockerManifestJson(config, layers));
}

std::string MarshalDockerPushManifest(const Descriptor& config,
                                      const std::vector<Descriptor>& layers) {
  return GoMarshalIndent(DockerManifestJson(config, layers), "", "   ");
}

}  // namespace strata
