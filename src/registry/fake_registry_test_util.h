// An in-memory registry behind the RegistryClient interface, for tests of pull and push that
// need no network: repositories of blobs and manifests, with counters of what was asked, and
// knobs to make it lie (serve other bytes than asked for) or fail.
#pragma once

#include <map>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "registry/registry_client.h"
#include "util/io.h"

namespace strata::registry_test {

// Serves some bytes, then fails like a connection that was reset.
class BreakingReader : public Reader {
 public:
  explicit BreakingReader(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    STRATA_ASSIGN(n, bytes_.Read(buffer, size));
    if (n == 0) return Fail("connection reset by peer");
    return n;
  }

 private:
  StringReader bytes_;
};

class FakeRegistry : public RegistryClient {
 public:
  struct Repo {
    std::map<std::string, std::string> blobs;       // digest text -> bytes
    std::map<std::string, ManifestBlob> manifests;  // tag or digest text -> manifest
  };

  std::map<std::string, Repo> repos;
  std::map<std::string, std::string> lies;  // digest text -> bytes served instead
  // digest text -> bytes served before the download breaks off (as a dropped connection would)
  std::map<std::string, size_t> break_after;
  std::vector<uint64_t> range_offsets;  // offsets GetBlobFrom was asked to start at
  int blob_gets = 0, blob_heads = 0, uploads = 0, mounts = 0, manifest_puts = 0;
  std::mutex mu;

  void AddBlob(const std::string& repo, const std::string& bytes) {
    repos[repo].blobs[Digest::Sha256Of(bytes).str()] = bytes;
  }
  void AddManifest(const std::string& repo, const std::string& tag, const ManifestBlob& m) {
    repos[repo].manifests[tag] = m;
    repos[repo].manifests[m.digest().str()] = m;
  }

  Status Ping() override { return {}; }

  Result<ManifestBlob> GetManifest(const std::string& repo, const std::string& reference,
                                   uint64_t) override {
    std::lock_guard<std::mutex> lock(mu);
    auto& r = repos[repo];
    auto it = r.manifests.find(reference);
    if (it == r.manifests.end()) return Fail("manifest unknown: " + repo + ":" + reference);
    return it->second;
  }
  Result<std::optional<Descriptor>> HeadManifest(const std::string& repo,
                                                 const std::string& reference) override {
    std::lock_guard<std::mutex> lock(mu);
    auto& r = repos[repo];
    auto it = r.manifests.find(reference);
    if (it == r.manifests.end()) return std::optional<Descriptor>();
    return std::optional<Descriptor>(Descriptor{it->second.media_type, it->second.digest(),
                                                static_cast<int64_t>(it->second.bytes.size())});
  }
  Result<Digest> PutManifest(const std::string& repo, const std::string& reference,
                             const ManifestBlob& manifest) override {
    std::lock_guard<std::mutex> lock(mu);
    ++manifest_puts;
    repos[repo].manifests[reference] = manifest;
    repos[repo].manifests[manifest.digest().str()] = manifest;
    return manifest.digest();
  }
  Result<std::unique_ptr<Reader>> GetBlob(const std::string& repo, const Descriptor& blob,
                                          const ByteProgressFn& progress) override {
    std::lock_guard<std::mutex> lock(mu);
    ++blob_gets;
    auto& r = repos[repo];
    auto it = r.blobs.find(blob.digest.str());
    if (it == r.blobs.end()) return Fail("blob unknown: " + blob.digest.str());
    auto lie = lies.find(blob.digest.str());
    if (progress) progress(it->second.size());
    std::string bytes = lie != lies.end() ? lie->second : it->second;
    auto broken = break_after.find(blob.digest.str());
    if (broken != break_after.end()) {
      return std::unique_ptr<Reader>(new BreakingReader(bytes.substr(0, broken->second)));
    }
    return std::unique_ptr<Reader>(new StringReader(std::move(bytes)));
  }
  Result<std::unique_ptr<Reader>> GetBlobFrom(const std::string& repo, const Descriptor& blob,
                                              uint64_t offset,
                                              const ByteProgressFn& progress) override {
    STRATA_ASSIGN(whole, GetBlob(repo, blob, progress));
    StringWriter out;
    STRATA_TRY(Copy(*whole, out));
    std::lock_guard<std::mutex> lock(mu);
    range_offsets.push_back(offset);
    if (offset > out.out.size()) return Fail("range not satisfiable");
    return std::unique_ptr<Reader>(new StringReader(out.out.substr(offset)));
  }
  Result<bool> BlobExists(const std::string& repo, const Digest& digest) override {
    std::lock_guard<std::mutex> lock(mu);
    ++blob_heads;
    return repos[repo].blobs.count(digest.str()) > 0;
  }
  Result<bool> MountBlob(const std::string& repo, const Digest& digest,
                         const std::string& from_repo) override {
    std::lock_guard<std::mutex> lock(mu);
    auto it = repos[from_repo].blobs.find(digest.str());
    if (it == repos[from_repo].blobs.end()) return false;
    ++mounts;
    repos[repo].blobs[digest.str()] = it->second;
    return true;
  }
  Status UploadBlob(const std::string& repo, const Descriptor& blob, const OpenContent& open,
                    uint64_t, const ByteProgressFn&) override {
    STRATA_ASSIGN(reader, open());
    StringWriter out;
    STRATA_TRY(Copy(*reader, out));
    if (Digest::Sha256Of(out.out) != blob.digest) return Fail("digest invalid");
    std::lock_guard<std::mutex> lock(mu);
    ++uploads;
    repos[repo].blobs[blob.digest.str()] = out.out;
    return {};
  }
  Result<Descriptor> UploadStream(const std::string& repo, Reader& content,
                                  const std::string& media_type, const ByteProgressFn&) override {
    StringWriter out;
    STRATA_TRY(Copy(content, out));
    std::lock_guard<std::mutex> lock(mu);
    ++uploads;
    Digest d = Digest::Sha256Of(out.out);
    repos[repo].blobs[d.str()] = out.out;
    return Descriptor{media_type, d, static_cast<int64_t>(out.out.size())};
  }
  Result<std::vector<std::string>> ListTags(const std::string& repo, int) override {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::string> tags;
    for (const auto& [ref, m] : repos[repo].manifests) {
      if (ref.find(':') == std::string::npos) tags.push_back(ref);
    }
    return tags;
  }
};

}  // namespace strata::registry_test
