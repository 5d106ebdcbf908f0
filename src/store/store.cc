#include "store/store.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace strata {

// Never relative: without HOME the home directory comes from the password database, and with
// no home directory at all the answer is "" (the CLI then asks for --root).
std::string DefaultStoreRoot() {
  if (::geteuid() == 0) return "/var/lib/strata";
  // The XDG base directory spec: a relative XDG_DATA_HOME is invalid and ignored.
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && xdg[0] == '/') {
    return std::string(xdg) + "/strata";
  }
  std::string home;
  if (const char* h = std::getenv("HOME"); h != nullptr && h[0] == '/') {
    home = h;
  } else if (const passwd* pw = ::getpwuid(::getuid()); pw != nullptr && pw->pw_dir != nullptr) {
    home = pw->pw_dir;
  }
  if (home.empty() || home[0] != '/') return "";  // never a path relative to the working dir
  return home + "/.local/share/strata";
}

namespace {

// Why a store cannot be written, if it is one of the causes a user can act on; "" otherwise.
std::string WriteProblem(const std::string& root) {
  std::string dir = root;
  while (!PathExists(dir) && dir.find('/') != std::string::npos && dir != "/") {
    dir = dir.substr(0, dir.rfind('/'));  // the store's nearest existing ancestor
    if (dir.empty()) dir = "/";
  }
  struct statvfs fs;
  const bool have_fs = ::statvfs(dir.c_str(), &fs) == 0;
  if (have_fs && (fs.f_flag & ST_RDONLY) != 0) {
    return "the store at " + root + " is on a read-only filesystem; use another --root";
  }
  if (::access(dir.c_str(), W_OK) != 0 && errno == EACCES) {
    struct stat st {};
    ::stat(dir.c_str(), &st);
    return "the store at " + root + " is not writable by uid " + std::to_string(::geteuid()) +
           " (" + dir + " belongs to uid " + std::to_string(st.st_uid) +
           "); run strata as that user, or use another --root";
  }
  if (have_fs && fs.f_bavail == 0) {
    return "no space left on the device of the store at " + root +
           "; free space (e.g. `strata gc`, `strata image prune`) or use another --root";
  }
  return "";
}

}  // namespace

Result<std::unique_ptr<Store>> Store::Open(const std::string& root, StoreAccess access) {
  const std::string db_path = root + "/strata.db";
  if (access == StoreAccess::kReadOnly && PathExists(db_path)) {
    // An existing store is only read: nothing is created, and when the database cannot be opened
    // for writing (another owner, a read-only or full filesystem) it is read without writing.
    auto open = [&](Metadata metadata, bool read_only) {
      return std::unique_ptr<Store>(
          new Store(root, ContentStore::OpenExisting(root), std::move(metadata), read_only));
    };
    if (auto metadata = Metadata::Open(db_path)) {
      return open(std::move(*metadata), ::access(root.c_str(), W_OK) != 0);
    }
    if (auto metadata = Metadata::OpenReadOnly(db_path)) return open(std::move(*metadata), true);
  }
  auto store = OpenReadWrite(root);
  if (store) return store;
  const std::string problem = WriteProblem(root);
  if (problem.empty()) return tl::unexpected(store.error());
  return Rephrase(store.error(), problem + " (" + store.error().message + ")");
}

Result<std::unique_ptr<Store>> Store::OpenReadWrite(const std::string& root) {
  STRATA_TRY(MakeDirs(root, 0700));
  STRATA_TRY(MakeDirs(root + "/snapshots", 0700));
  STRATA_ASSIGN(content, ContentStore::Open(root));
  STRATA_ASSIGN(metadata, Metadata::Open(root + "/strata.db"));
  return std::unique_ptr<Store>(new Store(root, std::move(content), std::move(metadata)));
}

Result<StoreLock> Store::Lock(int operation) const {
  std::string path = root_ + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (fd < 0 && read_only_) {
    // flock works on a descriptor opened for reading; without a lock file, go without.
    fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return StoreLock();
  }
  if (fd < 0) return Fail("open " + path + ": " + std::strerror(errno));
  UniqueFd owned(fd);
  while (::flock(fd, operation) != 0) {
    if (errno != EINTR) return Fail("lock " + path + ": " + std::strerror(errno));
  }
  return StoreLock(std::move(owned));
}

Result<StoreLock> Store::LockShared() const { return Lock(LOCK_SH); }
Result<StoreLock> Store::LockExclusive() const { return Lock(LOCK_EX); }

}  // namespace strata
