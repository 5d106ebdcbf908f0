// Test helpers for the transport tests: a small generated image (layer tars, gzip or not, a
// config, a manifest) written out by hand as an OCI layout or a dir: directory, independently of
// the code under test.
#pragma once

#include <fstream>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "archive/compression.h"
#include "archive/test_util.h"
#include "digest/digest.h"
#include "oci/manifest.h"
#include "util/file.h"
#include "util/go_json.h"

namespace strata::transport_test {

// Plain write (no fsync: the tests make many small files and fsync is slow here).
inline void Put(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

inline std::string Gzip(const std::string& data) {
  StringWriter out;
  GzipWriter w(out);
  (void)w.Write(data.data(), data.size());
  (void)w.Close();
  return out.out;
}

inline std::string LayerTar(const std::string& file, const std::string& content) {
  archive_test::TarBuilder b;
  b.Dir("d/").File("d/" + file, content).Symlink("/d/" + file, "link");
  return b.Build();
}

struct TestImage {
  std::vector<std::string> tars;   // uncompressed layers (diffID = sha256)
  std::vector<std::string> blobs;  // layers as stored (gzip or the tars)
  std::vector<std::string> layer_media_types;
  std::string config;
  std::string config_media_type;
  std::string manifest;
  std::string manifest_media_type;

  Digest id() const { return Digest::Sha256Of(config); }
  Digest manifest_digest() const { return Digest::Sha256Of(manifest); }
  Descriptor manifest_descriptor() const {
    return {manifest_media_type, manifest_digest(), static_cast<int64_t>(manifest.size())};
  }
};

// Two layers; `note` makes configs (and so image IDs) differ between images.
inline TestImage MakeImage(bool gzip, const std::string& note, bool docker = false) {
  TestImage image;
  image.tars = {LayerTar("a", "hello " + note + "\n"), LayerTar("b", "world " + note + "!\n")};
  nlohmann::ordered_json diff_ids = nlohmann::ordered_json::array();
  nlohmann::ordered_json history = nlohmann::ordered_json::array();
  for (const std::string& t : image.tars) {
    diff_ids.push_back(Digest::Sha256Of(t).str());
    history.push_back({{"created", "2024-01-02T03:04:05Z"}, {"created_by", "step " + note}});
    image.blobs.push_back(gzip ? Gzip(t) : t);
    image.layer_media_types.push_back(
        std::string(docker ? (gzip ? kDockerLayerGzipMediaType : kDockerLayerMediaType)
                           : (gzip ? kOciLayerGzipMediaType : kOciLayerMediaType)));
  }
  nlohmann::ordered_json c = {{"architecture", "amd64"},
                              {"config", {{"Cmd", {"sh"}}}},
                              {"created", "2024-01-02T03:04:06Z"},
                              {"history", history},
                              {"os", "linux"},
                              {"rootfs", {{"type", "layers"}, {"diff_ids", diff_ids}}}};
  image.config = c.dump();
  image.config_media_type = std::string(docker ? kDockerConfigMediaType : kOciConfigMediaType);
  Descriptor config{image.config_media_type, image.id(), static_cast<int64_t>(image.config.size())};
  std::vector<Descriptor> layers;
  for (size_t i = 0; i < image.blobs.size(); ++i) {
    layers.push_back({image.layer_media_types[i], Digest::Sha256Of(image.blobs[i]),
                      static_cast<int64_t>(image.blobs[i].size())});
  }
  // Written by hand (indented, key order of its own) so that a rewrite could not keep the digest.
  nlohmann::ordered_json m;
  m["schemaVersion"] = 2;
  m["mediaType"] = docker ? kDockerManifestMediaType : kOciManifestMediaType;
  m["config"] = {
      {"mediaType", config.media_type}, {"size", config.size}, {"digest", config.digest.str()}};
  m["layers"] = nlohmann::ordered_json::array();
  for (const Descriptor& l : layers) {
    m["layers"].push_back(
        {{"mediaType", l.media_type}, {"size", l.size}, {"digest", l.digest.str()}});
  }
  m["annotations"] = {{"org.example.note", note}};
  image.manifest = m.dump(2);
  image.manifest_media_type =
      std::string(docker ? kDockerManifestMediaType : kOciManifestMediaType);
  return image;
}

inline void WriteBlob(const std::string& dir, const std::string& bytes) {
  (void)MakeDirs(dir + "/blobs/sha256");
  Put(dir + "/blobs/sha256/" + Digest::Sha256Of(bytes).hex(), bytes);
}

// An OCI layout holding the images, each under its tag.
inline void WriteLayout(const std::string& dir,
                        const std::vector<std::pair<const TestImage*, std::string>>& images) {
  (void)MakeDirs(dir);
  Put(dir + "/oci-layout", R"({"imageLayoutVersion": "1.0.0"})");
  nlohmann::ordered_json index = {{"schemaVersion", 2},
                                  {"manifests", nlohmann::ordered_json::array()}};
  for (const auto& [image, tag] : images) {
    for (const std::string& b : image->blobs) WriteBlob(dir, b);
    WriteBlob(dir, image->config);
    WriteBlob(dir, image->manifest);
    index["manifests"].push_back({{"mediaType", image->manifest_media_type},
                                  {"digest", image->manifest_digest().str()},
                                  {"size", image->manifest.size()},
                                  {"annotations", {{std::string(kRefNameAnnotation), tag}}}});
  }
  Put(dir + "/index.json", index.dump());
}

// A skopeo dir: directory of the image.
inline void WriteDir(const std::string& dir, const TestImage& image) {
  (void)MakeDirs(dir);
  for (const std::string& b : image.blobs) {
    Put(dir + "/" + Digest::Sha256Of(b).hex(), b);
  }
  Put(dir + "/" + image.id().hex(), image.config);
  Put(dir + "/manifest.json", image.manifest);
  Put(dir + "/version", "Directory Transport Version: 1.1\n");
}

inline std::string BlobFile(const std::string& layout, const Digest& d) {
  return layout + "/blobs/" + std::string(d.algorithm_name()) + "/" + d.hex();
}

}  // namespace strata::transport_test
