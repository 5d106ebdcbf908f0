#include "server/local_registry_storage.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <ctime>

#include "store/sqlite.h"

namespace strata::server {
namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Upload ids are ours (hex and dashes); anything else cannot name a file under uploads/.
bool IsUploadId(const std::string& id) {
  return id.size() == 36 && id.find_first_not_of("0123456789abcdef-") == std::string::npos;
}

std::string NewUploadId() {
  std::string hex = RandomHexId().substr(0, 32);
  return hex.substr(0, 8) + "-" + hex.substr(8, 4) + "-" + hex.substr(12, 4) + "-" +
         hex.substr(16, 4) + "-" + hex.substr(20);
}

class LocalUpload : public Upload {
 public:
  LocalUpload(std::string id, std::string repository, std::string path, UniqueFd fd, uint64_t size,
              bool hashed_from_start)
      : id_(std::move(id)),
        repository_(std::move(repository)),
        path_(std::move(path)),
        fd_(std::move(fd)),
        size_(size),
        hash_complete_(hashed_from_start) {}

  const std::string& id() const override { return id_; }
  const std::string& repository() const override { return repository_; }
  uint64_t size() const override { return size_; }

  Status Append(std::string_view data) override {
    const char* p = data.data();
    size_t left = data.size();
    while (left > 0) {
      ssize_t n = ::write(fd_.get(), p, left);
      if (n < 0) {
        if (errno == EINTR) continue;
        return Fail(Errno("writing upload " + id_));
      }
      p += n;
      left -= static_cast<size_t>(n);
    }
    if (hash_complete_) hasher_.Update(data.data(), data.size());
    size_ += data.size();
    return {};
  }

  Status Sync() override {
    if (::fdatasync(fd_.get()) != 0) return Fail(Errno("syncing upload " + id_));
    return {};
  }

  // The digest of everything appended: from the running hash when it saw every byte (a sha256
  // upload in this process), else by reading the file back.
  Result<Digest> ComputeDigest(DigestAlgorithm algorithm) {
    if (hash_complete_ && algorithm == DigestAlgorithm::kSha256) {
      hash_complete_ = false;
      return hasher_.Finish();
    }
    UniqueFd fd(::open(path_.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd) return Fail(Errno("reading upload " + id_));
    FdReader reader(fd.get(), path_);
    return DigestStream(reader, algorithm);
  }

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }
  void CloseFile() { fd_ = UniqueFd(); }

 private:
  std::string id_;
  std::string repository_;
  std::string path_;
  UniqueFd fd_;
  uint64_t size_;
  Hasher hasher_;
  bool hash_complete_;
};

std::optional<std::string> Optional(const std::optional<Digest>& d) {
  return d ? std::optional<std::string>(d->str()) : std::nullopt;
}

Result<ManifestInfo> ReadManifestRow(const Statement& s, const Digest& digest) {
  ManifestInfo info{.digest = digest,
                    .media_type = s.Text(0),
                    .size = static_cast<uint64_t>(s.Int(1)),
                    .subject = std::nullopt,
                    .artifact_type = s.OptionalText(3).value_or(""),
                    .annotations = s.OptionalText(4).value_or("")};
  if (auto subject = s.OptionalText(2)) {
    STRATA_ASSIGN(d, Digest::Parse(*subject));
    info.subject = d;
  }
  return info;
}

// The first column of every row, as text.
Result<std::vector<std::string>> TextColumn(Statement& s) {
  std::vector<std::string> out;
  for (;;) {
    STRATA_ASSIGN(row, s.Step());
    if (!row) return out;
    out.push_back(s.Text(0));
  }
}

constexpr time_t kAbandonedUploadSeconds = 7 * 24 * 3600;

constexpr const char* kManifestColumns = "media_type, size, subject, artifact_type, annotations";

}  // namespace

// Step 1 is the schema that store/metadata.cc created before domains (layout 1); step 2 turns the
// query gc used for the registry's blobs into the domain's view.
const SchemaDomain& RegistryDomain() {
  static const SchemaDomain domain{"registry",
                                   {R"sql(
CREATE TABLE IF NOT EXISTS registry_blobs(
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  added_at INTEGER NOT NULL,
  PRIMARY KEY(repository, digest)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS registry_manifests(
  repository TEXT NOT NULL,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  subject TEXT,
  artifact_type TEXT,
  annotations TEXT,
  added_at INTEGER NOT NULL,
  PRIMARY KEY(repository, digest)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS registry_manifests_subject ON registry_manifests(repository, subject);
CREATE TABLE IF NOT EXISTS registry_tags(
  repository TEXT NOT NULL,
  tag TEXT NOT NULL,
  digest TEXT NOT NULL,
  PRIMARY KEY(repository, tag)) WITHOUT ROWID;
)sql",
                                    R"sql(
CREATE VIEW IF NOT EXISTS gc_roots_registry(digest) AS
  SELECT digest FROM registry_blobs UNION SELECT digest FROM registry_manifests;
)sql"}};
  return domain;
}

Result<std::unique_ptr<LocalRegistryStorage>> LocalRegistryStorage::Open(Store& store) {
  STRATA_ASSIGN(db, store.metadata().OpenDomain(RegistryDomain()));
  std::unique_ptr<LocalRegistryStorage> s(new LocalRegistryStorage(store, *db));
  STRATA_TRY(MakeDirs(s->uploads_dir_, 0700));
  // Uploads untouched for a week are abandoned (distribution purges after 168 h too).
  STRATA_ASSIGN(names, ListDirectory(s->uploads_dir_));
  const time_t cutoff = ::time(nullptr) - kAbandonedUploadSeconds;
  for (const std::string& name : names) {
    std::string path = s->uploads_dir_ + "/" + name;
    struct stat st;
    if (::stat(path.c_str(), &st) == 0 && st.st_mtime < cutoff) ::unlink(path.c_str());
  }
  return s;
}

Result<std::optional<uint64_t>> LocalRegistryStorage::BlobSize(const Digest& digest) {
  struct stat st;
  if (::stat(store_.content().BlobPath(digest).c_str(), &st) != 0) {
    if (errno == ENOENT) return std::optional<uint64_t>();
    return Fail(Errno("blob " + digest.str()));
  }
  return std::optional<uint64_t>(static_cast<uint64_t>(st.st_size));
}

Result<BlobFile> LocalRegistryStorage::OpenBlob(const Digest& digest) {
  UniqueFd fd(::open(store_.content().BlobPath(digest).c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    const ErrorCode code = errno == ENOENT ? ErrorCode::kNotFound : ErrorCode::kUnknown;
    return Fail(code, Errno("blob " + digest.str()));
  }
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Fail(Errno("blob " + digest.str()));
  return BlobFile{std::move(fd), static_cast<uint64_t>(st.st_size)};
}

Result<std::shared_ptr<Upload>> LocalRegistryStorage::CreateUpload(const std::string& repository) {
  std::string id = NewUploadId();
  std::string path = uploads_dir_ + "/" + id;
  STRATA_TRY(WriteFileAtomic(path + ".repo", repository, 0600));
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC, 0600));
  if (!fd) return Fail(Errno("creating upload " + path));
  auto upload = std::make_shared<LocalUpload>(id, repository, path, std::move(fd), 0, true);
  std::lock_guard<std::mutex> lock(uploads_mu_);
  uploads_[id] = upload;
  return std::shared_ptr<Upload>(upload);
}

Result<std::shared_ptr<Upload>> LocalRegistryStorage::FindUpload(const std::string& repository,
                                                                 const std::string& id) {
  if (!IsUploadId(id)) return std::shared_ptr<Upload>();
  std::lock_guard<std::mutex> lock(uploads_mu_);
  auto it = uploads_.find(id);
  if (it != uploads_.end()) {
    if (auto upload = it->second.lock()) {
      return upload->repository() == repository ? upload : std::shared_ptr<Upload>();
    }
    uploads_.erase(it);
  }
  // Not open in this process (a restart since, or every request holding it has ended):
  // reopen from disk; the running hash is lost, so the commit reads the bytes back.
  std::string path = uploads_dir_ + "/" + id;
  auto owner = ReadFile(path + ".repo");
  if (!owner || *owner != repository) return std::shared_ptr<Upload>();
  UniqueFd fd(::open(path.c_str(), O_WRONLY | O_APPEND | O_CLOEXEC));
  if (!fd) return std::shared_ptr<Upload>();
  struct stat st;
  if (::fstat(fd.get(), &st) != 0) return Fail(Errno("upload " + id));
  auto upload = std::make_shared<LocalUpload>(id, repository, path, std::move(fd),
                                              static_cast<uint64_t>(st.st_size), st.st_size == 0);
  uploads_[id] = upload;
  return std::shared_ptr<Upload>(upload);
}

void LocalRegistryStorage::ForgetUpload(const std::string& id) {
  std::lock_guard<std::mutex> lock(uploads_mu_);
  uploads_.erase(id);
}

Status LocalRegistryStorage::CommitUpload(Upload& upload, const Digest& digest) {
  auto& local = static_cast<LocalUpload&>(upload);
  ForgetUpload(local.id());
  STRATA_ASSIGN(actual, local.ComputeDigest(digest.algorithm()));
  Status synced = local.Sync();
  local.CloseFile();
  ::unlink((local.path() + ".repo").c_str());
  if (!synced || actual != digest) {
    ::unlink(local.path().c_str());
    if (!synced) return synced;
    return Fail(ErrorCode::kCorrupt,
                "digest mismatch: the upload hashes to " + actual.str() + ", not " + digest.str());
  }
  // Shared store lock: strata gc (exclusive) cannot remove the blob between its arrival and
  // the link that keeps it alive.
  STRATA_ASSIGN(store_lock, store_.LockShared());
  Status adopted = store_.content().Adopt(local.path(), digest);
  if (!adopted) {
    ::unlink(local.path().c_str());
    return adopted;
  }
  std::lock_guard<std::mutex> lock(db_mu_);
  return LinkBlobLocked(upload.repository(), digest);
}

Status LocalRegistryStorage::CancelUpload(Upload& upload) {
  auto& local = static_cast<LocalUpload&>(upload);
  ForgetUpload(local.id());
  local.CloseFile();
  ::unlink((local.path() + ".repo").c_str());
  if (::unlink(local.path().c_str()) != 0 && errno != ENOENT) {
    return Fail(Errno("removing upload " + local.id()));
  }
  return {};
}

Result<bool> LocalRegistryStorage::RepositoryHasBlob(const std::string& repository,
                                                     const Digest& digest) {
  std::lock_guard<std::mutex> lock(db_mu_);
  STRATA_ASSIGN(s, db_.Prepare("SELECT 1 FROM registry_blobs WHERE repository = ? AND digest = ?"));
  s.Bind(1, repository).Bind(2, digest.str());
  return s.Step();
}

Status LocalRegistryStorage::LinkBlobLocked(const std::string& repository, const Digest& digest) {
  STRATA_ASSIGN(s, db_.Prepare("INSERT OR IGNORE INTO registry_blobs(repository, digest, added_at) "
                               "VALUES(?, ?, ?)"));
  s.Bind(1, repository).Bind(2, digest.str()).Bind(3, static_cast<int64_t>(::time(nullptr)));
  return s.Run();
}

Status LocalRegistryStorage::LinkBlob(const std::string& repository, const Digest& digest) {
  STRATA_ASSIGN(store_lock, store_.LockShared());
  if (!store_.content().Exists(digest)) return Fail("blob " + digest.str() + " is not stored");
  std::lock_guard<std::mutex> lock(db_mu_);
  return LinkBlobLocked(repository, digest);
}

Result<bool> LocalRegistryStorage::UnlinkBlob(const std::string& repository, const Digest& digest) {
  std::lock_guard<std::mutex> lock(db_mu_);
  Database& db = db_;
  STRATA_ASSIGN(q, db.Prepare("SELECT 1 FROM registry_blobs WHERE repository = ? AND digest = ?"));
  q.Bind(1, repository).Bind(2, digest.str());
  STRATA_ASSIGN(found, q.Step());
  if (!found) return false;
  STRATA_ASSIGN(s, db.Prepare("DELETE FROM registry_blobs WHERE repository = ? AND digest = ?"));
  s.Bind(1, repository).Bind(2, digest.str());
  STRATA_TRY(s.Run());
  return true;
}

Result<std::optional<ManifestInfo>> LocalRegistryStorage::FindManifest(
    const std::string& repository, const std::string& reference) {
  std::lock_guard<std::mutex> lock(db_mu_);
  Database& db = db_;
  if (reference.find(':') != std::string::npos) {
    STRATA_ASSIGN(digest, Digest::Parse(reference));
    STRATA_ASSIGN(s, db.Prepare(std::string("SELECT ") + kManifestColumns +
                                " FROM registry_manifests WHERE repository = ? AND digest = ?"));
    s.Bind(1, repository).Bind(2, digest.str());
    STRATA_ASSIGN(row, s.Step());
    if (!row) return std::optional<ManifestInfo>();
    STRATA_ASSIGN(info, ReadManifestRow(s, digest));
    return std::optional<ManifestInfo>(std::move(info));
  }
  STRATA_ASSIGN(s, db.Prepare("SELECT m.media_type, m.size, m.subject, m.artifact_type, "
                              "m.annotations, m.digest FROM registry_tags t JOIN "
                              "registry_manifests m ON m.repository = t.repository AND "
                              "m.digest = t.digest WHERE t.repository = ? AND t.tag = ?"));
  s.Bind(1, repository).Bind(2, reference);
  STRATA_ASSIGN(row, s.Step());
  if (!row) return std::optional<ManifestInfo>();
  STRATA_ASSIGN(digest, Digest::Parse(s.Text(5)));
  STRATA_ASSIGN(info, ReadManifestRow(s, digest));
  return std::optional<ManifestInfo>(std::move(info));
}

Status LocalRegistryStorage::PutManifest(const std::string& repository, const ManifestInfo& info,
                                         std::string_view bytes,
                                         const std::optional<std::string>& tag) {
  STRATA_ASSIGN(store_lock, store_.LockShared());
  STRATA_ASSIGN(stored, store_.content().Put(bytes));
  if (stored != info.digest) {
    return Fail(ErrorCode::kCorrupt,
                "manifest digest " + info.digest.str() + " does not match its bytes");
  }
  std::lock_guard<std::mutex> lock(db_mu_);
  Database& db = db_;
  STRATA_ASSIGN(tx, Transaction::Begin(db));
  STRATA_ASSIGN(m, db.Prepare("INSERT OR IGNORE INTO registry_manifests(repository, digest, "
                              "media_type, size, subject, artifact_type, annotations, added_at) "
                              "VALUES(?, ?, ?, ?, ?, ?, ?, ?)"));
  m.Bind(1, repository)
      .Bind(2, info.digest.str())
      .Bind(3, info.media_type)
      .Bind(4, static_cast<int64_t>(info.size))
      .BindOptional(5, Optional(info.subject))
      .BindOptional(6, info.artifact_type.empty() ? std::nullopt
                                                  : std::optional<std::string>(info.artifact_type))
      .BindOptional(
          7, info.annotations.empty() ? std::nullopt : std::optional<std::string>(info.annotations))
      .Bind(8, static_cast<int64_t>(::time(nullptr)));
  STRATA_TRY(m.Run());
  if (tag) {
    STRATA_ASSIGN(t, db.Prepare("INSERT OR REPLACE INTO registry_tags(repository, tag, digest) "
                                "VALUES(?, ?, ?)"));
    t.Bind(1, repository).Bind(2, *tag).Bind(3, info.digest.str());
    STRATA_TRY(t.Run());
  }
  return tx.Commit();
}

Result<bool> LocalRegistryStorage::DeleteManifest(const std::string& repository,
                                                  const Digest& digest) {
  std::lock_guard<std::mutex> lock(db_mu_);
  Database& db = db_;
  STRATA_ASSIGN(tx, Transaction::Begin(db));
  STRATA_ASSIGN(q, db.Prepare("SELECT 1 FROM registry_manifests WHERE repository = ? AND "
                              "digest = ?"));
  q.Bind(1, repository).Bind(2, digest.str());
  STRATA_ASSIGN(found, q.Step());
  if (!found) return false;
  for (const char* sql : {"DELETE FROM registry_manifests WHERE repository = ? AND digest = ?",
                          "DELETE FROM registry_tags WHERE repository = ? AND digest = ?"}) {
    STRATA_ASSIGN(s, db.Prepare(sql));
    s.Bind(1, repository).Bind(2, digest.str());
    STRATA_TRY(s.Run());
  }
  STRATA_TRY(tx.Commit());
  return true;
}

Result<bool> LocalRegistryStorage::DeleteTag(const std::string& repository,
                                             const std::string& tag) {
  std::lock_guard<std::mutex> lock(db_mu_);
  Database& db = db_;
  STRATA_ASSIGN(q, db.Prepare("SELECT 1 FROM registry_tags WHERE repository = ? AND tag = ?"));
  q.Bind(1, repository).Bind(2, tag);
  STRATA_ASSIGN(found, q.Step());
  if (!found) return false;
  STRATA_ASSIGN(s, db.Prepare("DELETE FROM registry_tags WHERE repository = ? AND tag = ?"));
  s.Bind(1, repository).Bind(2, tag);
  STRATA_TRY(s.Run());
  return true;
}

Result<std::vector<std::string>> LocalRegistryStorage::Tags(const std::string& repository) {
  std::lock_guard<std::mutex> lock(db_mu_);
  STRATA_ASSIGN(s, db_.Prepare("SELECT tag FROM registry_tags WHERE repository = ? ORDER BY tag"));
  s.Bind(1, repository);
  return TextColumn(s);
}

Result<bool> LocalRegistryStorage::RepositoryExists(const std::string& repository) {
  std::lock_guard<std::mutex> lock(db_mu_);
  STRATA_ASSIGN(s, db_.Prepare("SELECT 1 WHERE EXISTS(SELECT 1 FROM registry_manifests WHERE "
                               "repository = ?1) OR EXISTS(SELECT 1 FROM registry_blobs WHERE "
                               "repository = ?1)"));
  s.Bind(1, repository);
  return s.Step();
}

Result<std::vector<std::string>> LocalRegistryStorage::Repositories(const std::string& after,
                                                                    size_t limit) {
  std::lock_guard<std::mutex> lock(db_mu_);
  STRATA_ASSIGN(s,
                db_.Prepare("SELECT repository FROM registry_manifests WHERE repository > ?1 UNION "
                            "SELECT repository FROM registry_blobs WHERE repository > ?1 "
                            "ORDER BY 1 LIMIT ?2"));
  s.Bind(1, after).Bind(2, static_cast<int64_t>(limit));
  return TextColumn(s);
}

Result<std::vector<ManifestInfo>> LocalRegistryStorage::Referrers(const std::string& repository,
                                                                  const Digest& subject) {
  std::lock_guard<std::mutex> lock(db_mu_);
  STRATA_ASSIGN(s,
                db_.Prepare(std::string("SELECT ") + kManifestColumns +
                            ", digest FROM registry_manifests WHERE repository = ? AND subject = ? "
                            "ORDER BY digest"));
  s.Bind(1, repository).Bind(2, subject.str());
  std::vector<ManifestInfo> out;
  for (;;) {
    STRATA_ASSIGN(row, s.Step());
    if (!row) break;
    STRATA_ASSIGN(digest, Digest::Parse(s.Text(5)));
    STRATA_ASSIGN(info, ReadManifestRow(s, digest));
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace strata::server
