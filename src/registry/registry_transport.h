// The docker:// transport: one image in a registry repository as a copy source or destination
// (skopeo copy's model). The source serves the manifest the reference names, resolving an index
// to one platform; the destination uploads blobs the repository lacks and puts the manifest
// under the tag (or its digest) on Commit(). Manifests and blobs pass through unchanged, so a
// registry-to-registry or registry-to-layout copy keeps the manifest digest. Not thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "oci/manifest.h"
#include "registry/registry_client.h"
#include "transport/image_transport.h"

namespace strata {

class RegistryImageSource : public ImageSource {
 public:
  // `reference`: a tag or a digest in `repository`.
  static Result<std::unique_ptr<RegistryImageSource>> Open(std::shared_ptr<RegistryClient> client,
                                                           std::string repository,
                                                           std::string reference,
                                                           std::optional<Platform> platform);
  Result<ManifestBlob> GetManifest() override { return manifest_; }
  Result<std::unique_ptr<Reader>> GetBlob(const Descriptor& blob) override;
  Result<std::optional<ManifestBlob>> GetIndex() override { return index_; }
  Result<ManifestBlob> GetIndexedManifest(const Descriptor& manifest) override;

 private:
  RegistryImageSource(std::shared_ptr<RegistryClient> client, std::string repository,
                      ManifestBlob manifest, std::optional<ManifestBlob> index)
      : client_(std::move(client)),
        repository_(std::move(repository)),
        manifest_(std::move(manifest)),
        index_(std::move(index)) {}
  std::shared_ptr<RegistryClient> client_;
  std::string repository_;
  ManifestBlob manifest_;
  std::optional<ManifestBlob> index_;  // when the reference named an index
};

class RegistryImageDestination : public ImageDestination {
 public:
  // `reference`: the tag to put the manifest under; empty puts it by digest only.
  RegistryImageDestination(std::shared_ptr<RegistryClient> client, std::string repository,
                           std::string reference)
      : client_(std::move(client)),
        repository_(std::move(repository)),
        reference_(std::move(reference)) {}

  bool HasBlob(const Descriptor& blob) override;
  Status PutBlob(const Descriptor& blob, BlobRole role, Reader& content) override;
  Status PutManifest(const ManifestBlob& manifest) override;
  bool CanStoreIndex() const override { return true; }
  Status PutIndexedManifest(const ManifestBlob& manifest) override;
  Status Commit() override;

  // Set by Commit(): the digest the registry stored the manifest under.
  const std::optional<Digest>& digest() const { return digest_; }

 private:
  std::shared_ptr<RegistryClient> client_;
  std::string repository_;
  std::string reference_;
  std::optional<ManifestBlob> manifest_;
  std::optional<Digest> digest_;
};

}  // namespace strata
