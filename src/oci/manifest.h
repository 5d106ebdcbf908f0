// Distribution manifests: OCI image manifests and indexes, Docker schema2 manifests and manifest
// lists, and the descriptors inside them. Parsing checks exactly the fields strata relies on
// (digests, sizes, media types) and names the document and field that is wrong; writing produces
// the compact JSON skopeo and Docker 25 write. Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "digest/digest.h"
#include "util/result.h"

namespace strata {

inline constexpr std::string_view kOciManifestMediaType =
    "application/vnd.oci.image.manifest.v1+json";
inline constexpr std::string_view kOciIndexMediaType = "application/vnd.oci.image.index.v1+json";
inline constexpr std::string_view kOciConfigMediaType = "application/vnd.oci.image.config.v1+json";
inline constexpr std::string_view kOciLayerMediaType = "application/vnd.oci.image.layer.v1.tar";
inline constexpr std::string_view kOciLayerGzipMediaType =
    "application/vnd.oci.image.layer.v1.tar+gzip";
inline constexpr std::string_view kOciLayerZstdMediaType =
    "application/vnd.oci.image.layer.v1.tar+zstd";
inline constexpr std::string_view kDockerManifestMediaType =
    "application/vnd.docker.distribution.manifest.v2+json";
inline constexpr std::string_view kDockerManifestListMediaType =
    "application/vnd.docker.distribution.manifest.list.v2+json";
inline constexpr std::string_view kDockerConfigMediaType =
    "application/vnd.docker.container.image.v1+json";
inline constexpr std::string_view kDockerLayerMediaType =
    "application/vnd.docker.image.rootfs.diff.tar";
inline constexpr std::string_view kDockerLayerGzipMediaType =
    "application/vnd.docker.image.rootfs.diff.tar.gzip";

inline constexpr std::string_view kRefNameAnnotation = "org.opencontainers.image.ref.name";
inline constexpr std::string_view kContainerdImageNameAnnotation = "io.containerd.image.name";

// Docker's schema 1 manifests (signed or not), which strata refuses. Only these two exact media
// types are schema 1: "application/vnd.oci.image.manifest.v1+json" also contains "manifest.v1+".
inline constexpr std::string_view kDockerSchema1MediaType =
    "application/vnd.docker.distribution.manifest.v1+json";
inline constexpr std::string_view kDockerSchema1SignedMediaType =
    "application/vnd.docker.distribution.manifest.v1+prettyjws";

// Whether a manifest as a registry served it (its Content-Type without parameters, and its bytes)
// is a legacy schema 1 manifest: by its media type, or by "schemaVersion": 1 in the body.
bool IsSchema1Manifest(std::string_view content_type, std::string_view bytes);

// A content descriptor: what a manifest or index says about one blob.
struct Descriptor {
  std::string media_type;
  Digest digest;
  int64_t size = 0;

  bool operator==(const Descriptor&) const = default;
};

struct Platform {
  std::string os;
  std::string architecture;
  std::string variant;
};

// One entry of an index (index.json, an OCI index or a Docker manifest list).
struct IndexEntry {
  Descriptor descriptor;
  std::optional<Platform> platform;
  std::map<std::string, std::string> annotations;
};

// An image manifest reduced to what copying and importing need.
struct ImageManifest {
  std::string media_type;  // kOciManifestMediaType or kDockerManifestMediaType
  Descriptor config;
  std::vector<Descriptor> layers;  // bottom to top
};

bool IsIndexMediaType(std::string_view media_type);
bool IsImageManifestMediaType(std::string_view media_type);

// The media type of a manifest document: its own "mediaType" field, else `hint` (what the
// referring descriptor said), else guessed from its shape ("manifests" makes an OCI index, a
// Docker config media type a Docker manifest, anything else an OCI manifest).
// Schema 1 manifests are refused.
Result<std::string> ManifestMediaType(std::string_view bytes, std::string_view hint = {});

// Parses an image manifest (not an index). `hint` as for ManifestMediaType.
Result<ImageManifest> ParseImageManifest(std::string_view bytes, std::string_view hint = {});

// Parses the "manifests" of an OCI index, index.json, or a Docker manifest list.
Result<std::vector<IndexEntry>> ParseIndex(std::string_view bytes);

// The entry of a multi-platform index for os/architecture/variant (an empty wanted variant
// matches any; an entry without platform matches only when it is the only entry).
Result<IndexEntry> SelectPlatform(const std::vector<IndexEntry>& entries, std::string_view os,
                                  std::string_view architecture, std::string_view variant);

// Compact OCI manifest as Docker 25's save and skopeo write it: schemaVersion, mediaType,
// config, layers; descriptors as {mediaType, digest, size}.
std::string MarshalOciManifest(const Descriptor& config, const std::vector<Descriptor>& layers);

// Compact Docker schema2 manifest as skopeo writes it; descriptors as {mediaType, size, digest}.
std::string MarshalDockerManifest(const Descriptor& config, const std::vector<Descriptor>& layers);

// Docker schema2 manifest as docker push writes it (distribution's schema2 package: Go's
// MarshalIndent with a three-space indent).
std::string MarshalDockerPushManifest(const Descriptor& config,
                                      const std::vector<Descriptor>& layers);

}  // namespace strata
