// Filesystem helpers with the store's durability rules: every write that becomes visible goes
// through a temporary file in the same directory, fsync, rename, fsync of the directory.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

namespace strata {

Result<std::string> ReadFile(const std::string& path);
Status WriteFileAtomic(const std::string& path, std::string_view data, int mode = 0644);
Status MakeDirs(const std::string& path, int mode = 0755);
Status FsyncDir(const std::string& dir);
// Removes a path recursively; a missing path is not an error.
Status RemoveAll(const std::string& path);
bool PathExists(const std::string& path);
bool IsDirectory(const std::string& path);  // follows symlinks
// True for an existing directory with no entries.
bool IsEmptyDirectory(const std::string& path);
// Names in a directory (without "." and ".."), sorted bytewise.
Result<std::vector<std::string>> ListDirectory(const std::string& path);
// 32 random bytes as 64 hex characters (cache IDs, temporary names).
std::string RandomHexId();

// An open file descriptor closed on destruction.
class UniqueFd {
 public:
  UniqueFd() = default;
  explicit UniqueFd(int fd) : fd_(fd) {}
  ~UniqueFd();
  UniqueFd(UniqueFd&& o) noexcept : fd_(o.release()) {}
  UniqueFd& operator=(UniqueFd&& o) noexcept;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  int get() const { return fd_; }
  int release() {
    int f = fd_;
    fd_ = -1;
    return f;
  }
  explicit operator bool() const { return fd_ >= 0; }

 private:
  int fd_ = -1;
};

Result<UniqueFd> OpenRead(const std::string& path);

}  // namespace strata
