#include "registry/registry_transport.h"

#include "transport/platform.h"

namespace strata {

Result<std::unique_ptr<RegistryImageSource>> RegistryImageSource::Open(
    std::shared_ptr<RegistryClient> client, std::string repository, std::string reference,
    std::optional<Platform> platform) {
  STRATA_ASSIGN(top, client->GetManifest(repository, reference));
  if (IsIndexMediaType(top.media_type)) {
    STRATA_ASSIGN(entries, ParseIndex(top.bytes));
    const Platform want = platform.value_or(HostPlatform());  // as a pull does
    STRATA_ASSIGN(entry, SelectPlatform(entries, want.os, want.architecture, want.variant));
    STRATA_ASSIGN(manifest, client->GetManifest(repository, entry.descriptor.digest.str()));
    if (static_cast<int64_t>(manifest.bytes.size()) != entry.descriptor.size) {
      return Fail("manifest " + entry.descriptor.digest.str() + " has " +
                  std::to_string(manifest.bytes.size()) + " bytes, the index states " +
                  std::to_string(entry.descriptor.size));
    }
    top = std::move(manifest);
  }
  return std::unique_ptr<RegistryImageSource>(
      new RegistryImageSource(std::move(client), std::move(repository), std::move(top)));
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

Status RegistryImageDestination::Commit() {
  if (!manifest_) return Fail("no manifest was copied");
  const std::string reference = reference_.empty() ? manifest_->digest().str() : reference_;
  STRATA_ASSIGN(digest, client_->PutManifest(repository_, reference, *manifest_));
  digest_ = digest;
  return {};
}

}  // namespace strata
