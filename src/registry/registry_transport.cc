#include "registry/registry_transport.h"

#include "oci/platform.h"

namespace strata {
namespace {

// An image manifest an index names, checked against the index's descriptor.
Result<ManifestBlob> GetListedManifest(RegistryClient& client, const std::string& repository,
                                       const Descriptor& d) {
  STRATA_ASSIGN(manifest, client.GetManifest(repository, d.digest.str()));
  if (static_cast<int64_t>(manifest.bytes.size()) != d.size) {
    return Fail("manifest " + d.digest.str() + " has " + std::to_string(manifest.bytes.size()) +
                " bytes, the index states " + std::to_string(d.size));
  }
  if (d.digest.algorithm() == DigestAlgorithm::kSha256 && manifest.digest() != d.digest) {
    return Fail(ErrorCode::kCorrupt,
                "manifest " + d.digest.str() + " hashes to " + manifest.digest().str());
  }
  return manifest;
}

}  // namespace

Result<std::unique_ptr<RegistryImageSource>> RegistryImageSource::Open(
    std::shared_ptr<RegistryClient> client, std::string repository, std::string reference,
    std::optional<Platform> platform) {
  STRATA_ASSIGN(top, client->GetManifest(repository, reference));
  std::optional<ManifestBlob> index;
  if (IsIndexMediaType(top.media_type)) {
    STRATA_ASSIGN(entries, ParseIndex(top.bytes));
    STRATA_ASSIGN(entry, SelectIndexEntry(entries, platform));  // as a pull does
    STRATA_ASSIGN(manifest, GetListedManifest(*client, repository, entry.descriptor));
    index = std::move(top);
    top = std::move(manifest);
  }
  return std::unique_ptr<RegistryImageSource>(new RegistryImageSource(
      std::move(client), std::move(repository), std::move(top), std::move(index)));
}

Result<ManifestBlob> RegistryImageSource::GetIndexedManifest(const Descriptor& manifest) {
  return GetListedManifest(*client_, repository_, manifest);
}

Result<std::unique_ptr<Reader>> RegistryImageSource::GetBlob(const Descriptor& blob) {
  return client_->GetBlob(repository_, blob);
}

bool RegistryImageDestination::HasBlob(const Descriptor& blob) {
  auto exists = client_->BlobExists(repository_, blob.digest);
  return exists && *exists;
}

namespace {

// Hands out the one reader a copy gives a destination; a retry cannot re-read it.
class OneShotContent {
 public:
  explicit OneShotContent(Reader& content) : content_(&content) {}
  Result<std::unique_ptr<Reader>> operator()() {
    if (content_ == nullptr) return Fail("the upload failed and its source cannot be re-read");
    Reader* r = content_;
    content_ = nullptr;
    struct Borrowed : Reader {
      explicit Borrowed(Reader& r) : inner(r) {}
      Result<size_t> Read(char* buffer, size_t size) override { return inner.Read(buffer, size); }
      Reader& inner;
    };
    return std::unique_ptr<Reader>(new Borrowed(*r));
  }

 private:
  Reader* content_;
};

}  // namespace

Status RegistryImageDestination::PutBlob(const Descriptor& blob, BlobRole role, Reader& content) {
  (void)role;
  OneShotContent once(content);
  return client_->UploadBlob(repository_, blob, [&] { return once(); });
}

Status RegistryImageDestination::PutManifest(const ManifestBlob& manifest) {
  manifest_ = manifest;
  return {};
}

Status RegistryImageDestination::PutIndexedManifest(const ManifestBlob& manifest) {
  STRATA_ASSIGN(digest, client_->PutManifest(repository_, manifest.digest().str(), manifest));
  (void)digest;
  return {};
}

Status RegistryImageDestination::Commit() {
  if (!manifest_) return Fail("no manifest was copied");
  const std::string reference = reference_.empty() ? manifest_->digest().str() : reference_;
  STRATA_ASSIGN(digest, client_->PutManifest(repository_, reference, *manifest_));
  digest_ = digest;
  return {};
}

}  // namespace strata
