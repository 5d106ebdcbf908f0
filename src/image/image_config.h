// Image configs: parsing stored/pulled/loaded config bytes (whose sha256 is the image ID) with
// Docker 20.10's validation, and writing new configs exactly as Docker's Image.MarshalJSON would
// (top-level keys sorted, nested objects in Go struct order, Go escaping, no trailing newline).
// Values are immutable after construction; safe to share across threads.
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "digest/digest.h"
#include "image/container_config.h"
#include "util/go_time.h"
#include "util/result.h"

namespace strata {

// image.History, marshalled as {"created", "author"?, "created_by"?, "comment"?, "empty_layer"?}.
struct HistoryEntry {
  GoTime created;
  std::string author;
  std::string created_by;
  std::string comment;
  bool empty_layer = false;

  bool operator==(const HistoryEntry&) const = default;
  nlohmann::ordered_json ToJson() const;
};

// image.RootFS: {"type":"layers","diff_ids":[...]}, diff_ids bottom to top (omitted when empty).
struct ImageRootFs {
  std::string type = "layers";
  std::vector<Digest> diff_ids;

  bool operator==(const ImageRootFs&) const = default;
  nlohmann::ordered_json ToJson() const;
};

// image.V1Image: the legacy part of a config, also the document `docker save` writes as
// <v1id>/json. Marshalled in struct order: id?, parent?, comment?, created, container?,
// container_config, docker_version?, author?, config?, architecture?, variant?, os?, Size?.
struct V1Image {
  std::string id;
  std::string parent;
  std::string comment;
  GoTime created;
  std::string container;
  ContainerConfig container_config;
  std::string docker_version;
  std::string author;
  std::optional<ContainerConfig> config;
  std::string architecture;
  std::string variant;
  std::string os;
  int64_t size = 0;

  bool operator==(const V1Image&) const = default;
  nlohmann::ordered_json ToJson() const;
};

// image.Image: V1Image plus rootfs/history/os.version/os.features. Its "parent" key is the
// top-level Image.Parent (it shadows v1.parent, which is never read or written through here).
struct ImageSpec {
  V1Image v1;
  std::string parent;
  std::optional<ImageRootFs> rootfs;
  std::vector<HistoryEntry> history;
  std::string os_version;
  std::vector<std::string> os_features;

  bool operator==(const ImageSpec&) const = default;

  // Struct-order object (top-level keys not yet sorted).
  nlohmann::ordered_json ToJson() const;
  // Image.MarshalJSON: the exact config bytes Docker would store for this image.
  std::string Marshal() const;
};

// A parsed, validated image config. Keeps the exact bytes; id() is their sha256.
class ImageConfig {
 public:
  // Validates like Docker's image store Create: a JSON object with a "rootfs" object of type
  // "layers" whose diff_ids are valid digests, well-typed fields, and no more non-empty history
  // entries than diff_ids. Errors name the config digest.
  static Result<ImageConfig> Parse(std::string bytes);

  const Digest& id() const { return id_; }
  const std::string& bytes() const { return bytes_; }
  // The document as written (key order preserved), for inspect.
  const nlohmann::ordered_json& json() const { return json_; }
  // The config decoded as Docker's image.Image.
  const ImageSpec& spec() const { return spec_; }

  const std::vector<Digest>& diff_ids() const { return spec_.rootfs->diff_ids; }
  const std::vector<HistoryEntry>& history() const { return spec_.history; }
  const GoTime& created() const { return spec_.v1.created; }
  // RFC3339Nano as Docker's inspect prints it (in the offset the config was written with).
  std::string created_string() const;
  const std::string& architecture() const { return spec_.v1.architecture; }
  const std::string& os() const { return spec_.v1.os; }
  const std::string& variant() const { return spec_.v1.variant; }
  const std::string& os_version() const { return spec_.os_version; }
  const std::string& author() const { return spec_.v1.author; }
  const std::string& comment() const { return spec_.v1.comment; }
  const std::string& docker_version() const { return spec_.v1.docker_version; }
  const std::string& container() const { return spec_.v1.container; }
  const std::optional<ContainerConfig>& config() const { return spec_.v1.config; }
  const ContainerConfig& container_config() const { return spec_.v1.container_config; }
  // The raw "config" / "container_config" members as written (null when absent).
  nlohmann::ordered_json config_json() const;
  nlohmann::ordered_json container_config_json() const;
  // ChainID of all layers; nullopt for an image without layers.
  std::optional<Digest> chain_id() const;

 private:
  ImageConfig(std::string bytes, Digest id, nlohmann::ordered_json json, ImageSpec spec)
      : bytes_(std::move(bytes)),
        id_(std::move(id)),
        json_(std::move(json)),
        spec_(std::move(spec)) {}

  std::string bytes_;
  Digest id_;
  nlohmann::ordered_json json_;
  ImageSpec spec_;
};

// Decodes a config document into image.Image with Go Unmarshal semantics (no validation
// beyond types; diff_ids must be valid digests).
Result<ImageSpec> DecodeImageSpec(const nlohmann::ordered_json& document);

// Go's runtime.GOARCH for the machine strata was built for ("amd64", "arm64", ...), and the
// variant containerd's platforms.DefaultSpec() reports for it ("v8" on arm64, else "").
std::string_view HostGoArch();
std::string_view HostGoVariant();

struct ImportOptions {
  GoTime created;            // Docker uses time.Now().UTC()
  std::string comment;       // empty: "Imported from -" (Docker's stdin default)
  std::string architecture;  // empty: HostGoArch() and HostGoVariant()
  std::string variant;       // e.g. "v8"; Docker 20.10 takes both from --platform
  std::string os = "linux";
  std::string docker_version;  // omitted from the config when empty
  ContainerConfig config;      // result of --change instructions (zero by default)
};

// The image `docker import` creates for a single layer: config from the options,
// container_config zero, one history entry {created, comment}.
ImageSpec NewImportImageSpec(const Digest& diff_id, const ImportOptions& options);

}  // namespace strata
