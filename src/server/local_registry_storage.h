// The registry's storage on local disk, inside a strata store: blobs are the store's own
// content-addressed blobs (one copy however many repositories or local images use them), the
// index is three tables in the store's SQLite database, and uploads are files under
// <store>/uploads (<id> holds the bytes, <id>.repo the repository), so an upload survives a
// restart and a crash leaves no half blob visible.
//
// The three tables are the "registry" domain of the store's metadata (store/metadata.h): this
// file owns their schema and its upgrade steps, and the view gc_roots_registry through which the
// store's gc keeps, and fsck verifies, every blob a repository names.
#pragma once

#include <map>
#include <memory>
#include <mutex>

#include "server/registry_storage.h"
#include "store/store.h"

namespace strata::server {

// The registry domain: its tables and gc roots, created or upgraded by
// Metadata::OpenDomain(RegistryDomain()).
const SchemaDomain& RegistryDomain();

class LocalRegistryStorage : public RegistryStorage {
 public:
  static Result<std::unique_ptr<LocalRegistryStorage>> Open(Store& store);

  Result<std::optional<uint64_t>> BlobSize(const Digest& digest) override;
  Result<BlobFile> OpenBlob(const Digest& digest) override;

  Result<std::shared_ptr<Upload>> CreateUpload(const std::string& repository) override;
  Result<std::shared_ptr<Upload>> FindUpload(const std::string& repository,
                                             const std::string& id) override;
  Status CommitUpload(Upload& upload, const Digest& digest) override;
  Status CancelUpload(Upload& upload) override;

  Result<bool> RepositoryHasBlob(const std::string& repository, const Digest& digest) override;
  Status LinkBlob(const std::string& repository, const Digest& digest) override;
  Result<bool> UnlinkBlob(const std::string& repository, const Digest& digest) override;
  Result<std::optional<ManifestInfo>> FindManifest(const std::string& repository,
                                                   const std::string& reference) override;
  Status PutManifest(const std::string& repository, const ManifestInfo& info,
                     std::string_view bytes, const std::optional<std::string>& tag) override;
  Result<bool> DeleteManifest(const std::string& repository, const Digest& digest) override;
  Result<bool> DeleteTag(const std::string& repository, const std::string& tag) override;
  Result<std::vector<std::string>> Tags(const std::string& repository) override;
  Result<bool> RepositoryExists(const std::string& repository) override;
  Result<std::vector<std::string>> Repositories(const std::string& after, size_t limit) override;
  Result<std::vector<ManifestInfo>> Referrers(const std::string& repository,
                                              const Digest& subject) override;

 private:
  LocalRegistryStorage(Store& store, Database& db)
      : store_(store), db_(db), uploads_dir_(store.root() + "/uploads") {}
  Status LinkBlobLocked(const std::string& repository, const Digest& digest);
  void ForgetUpload(const std::string& id);

  Store& store_;
  Database& db_;  // the registry domain's tables in the store's database
  std::string uploads_dir_;
  std::mutex db_mu_;  // one SQLite connection, shared by the server's loops
  std::mutex uploads_mu_;
  std::map<std::string, std::weak_ptr<Upload>> uploads_;  // open uploads by id
};

}  // namespace strata::server
