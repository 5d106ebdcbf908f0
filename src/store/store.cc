#include "store/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

namespace strata {

std::string DefaultStoreRoot() {
  if (::geteuid() == 0) return "/var/lib/strata";
  if (const char* xdg = std::getenv("XDG_DATA_HOME"); xdg != nullptr && *xdg != '\0') {
    return std::string(xdg) + "/strata";
  }
  const char* home = std::getenv("HOME");
  return std::string(home ? home : ".") + "/.local/share/strata";
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
