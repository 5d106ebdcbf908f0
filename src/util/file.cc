#include "util/file.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

namespace strata {
namespace {
std::string Errno(const std::string& op, const std::string& path) {
  return op + " " + path + ": " + std::strerror(errno);
}

// The kind of a failure to open a file that is there to be read.
ErrorCode OpenErrorCode(int error) {
  if (error == ENOENT || error == ENOTDIR) return ErrorCode::kNotFound;
  if (error == EACCES || error == EPERM) return ErrorCode::kDenied;
  return ErrorCode::kUnknown;
}
}  // namespace

UniqueFd::~UniqueFd() {
  if (fd_ >= 0) ::close(fd_);
}

UniqueFd& UniqueFd::operator=(UniqueFd&& o) noexcept {
  if (this != &o) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = o.release();
  }
  return *this;
}

Result<UniqueFd> OpenRead(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    const ErrorCode code = OpenErrorCode(errno);
    return Fail(code, Errno("open", path));
  }
  return UniqueFd(fd);
}

Result<std::string> ReadFile(const std::string& path) {
  STRATA_ASSIGN(fd, OpenRead(path));
  std::string out;
  char buffer[65536];
  for (;;) {
    ssize_t n = ::read(fd.get(), buffer, sizeof buffer);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail(Errno("read", path));
    }
    if (n == 0) break;
    out.append(buffer, static_cast<size_t>(n));
  }
  return out;
}

Status FsyncDir(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail(Errno("open directory", dir));
  int rc = ::fsync(fd);
  ::close(fd);
  if (rc != 0) return Fail(Errno("fsync", dir));
  return {};
}

Status WriteFileAtomic(const std::string& path, std::string_view data, int mode) {
  auto slash = path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : path.substr(0, slash);
  std::string tmp = path + ".tmp-" + RandomHexId().substr(0, 16);
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return Fail(Errno("create", tmp));
  const char* p = data.data();
  size_t left = data.size();
  while (left > 0) {
    ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      std::string msg = Errno("write", tmp);
      ::close(fd);
      ::unlink(tmp.c_str());
      return Fail(msg);
    }
    p += n;
    left -= static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    std::string msg = Errno("fsync", tmp);
    ::unlink(tmp.c_str());
    return Fail(msg);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    std::string msg = Errno("rename", tmp);
    ::unlink(tmp.c_str());
    return Fail(msg);
  }
  return FsyncDir(dir);
}

Status MakeDirs(const std::string& path, int mode) {
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (ec) return Fail("create directory " + path + ": " + ec.message());
  ::chmod(path.c_str(), static_cast<mode_t>(mode));
  return {};
}

Status RemoveAll(const std::string& path) {
  std::error_code ec;
  std::filesystem::remove_all(path, ec);
  if (ec) return Fail("remove " + path + ": " + ec.message());
  return {};
}

bool PathExists(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0;
}

bool IsDirectory(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode);
}

bool IsEmptyDirectory(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return false;
  bool empty = true;
  while (dirent* e = ::readdir(d)) {
    std::string name = e->d_name;
    if (name != "." && name != "..") {
      empty = false;
      break;
    }
  }
  ::closedir(d);
  return empty;
}

Result<std::vector<std::string>> ListDirectory(const std::string& path) {
  DIR* d = ::opendir(path.c_str());
  if (d == nullptr) return Fail("listing " + path + ": " + std::strerror(errno));
  std::vector<std::string> names;
  for (;;) {
    errno = 0;
    dirent* e = ::readdir(d);
    if (e == nullptr) break;
    std::string name = e->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  const int saved = errno;
  ::closedir(d);
  if (saved != 0) return Fail("listing " + path + ": " + std::strerror(saved));
  std::sort(names.begin(), names.end());
  return names;
}

std::string RandomHexId() {
  unsigned char bytes[32];
  size_t got = 0;
  while (got < sizeof bytes) {
    ssize_t n = ::getrandom(bytes + got, sizeof bytes - got, 0);
    if (n > 0) got += static_cast<size_t>(n);
  }
  static const char kHex[] = "0123456789abcdef";
  std::string out(64, '0');
  for (size_t i = 0; i < 32; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace strata
