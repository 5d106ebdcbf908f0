#include "store/store.h"

#include <fcntl.h>
#include <pwd.h>
#include <sys/file.h>
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

Result<std::unique_ptr<Store>> Store::Open(const std::string& root) {
  STRATA_TRY(MakeDirs(root, 0700));
  STRATA_TRY(MakeDirs(root + "/layers", 0700));
  STRATA_ASSIGN(content, ContentStore::Open(root));
  STRATA_ASSIGN(metadata, Metadata::Open(root + "/strata.db"));
  return std::unique_ptr<Store>(new Store(root, std::move(content), std::move(metadata)));
}

Result<StoreLock> Store::Lock(int operation) const {
  std::string path = root_ + "/lock";
  int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
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
