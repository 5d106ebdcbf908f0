// Helpers shared by the archive tests: temporary directories and an in-memory tar builder.
#pragma once

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "archive/tar_writer.h"
#include "util/file.h"
#include "util/io.h"

namespace strata::archive_test {

class TempDir {
 public:
  TempDir() {
    const char* base = std::getenv("TMPDIR");
    std::string tmpl = std::string(base != nullptr ? base : "/tmp") + "/strata-archive-XXXXXX";
    char* made = ::mkdtemp(tmpl.data());
    path_ = made != nullptr ? made : "";
  }
  ~TempDir() {
    if (path_.empty()) return;
    // Tests make read-only directories; let an unprivileged cleanup through.
    namespace fs = std::filesystem;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(path_, ec); !ec && it != fs::end(it);
         it.increment(ec)) {
      if (it->is_directory(ec) && !it->is_symlink(ec)) {
        fs::permissions(it->path(), fs::perms::owner_all, fs::perm_options::add, ec);
      }
    }
    (void)RemoveAll(path_);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

 private:
  std::string path_;
};

// Builds a tar stream in memory with TarWriter. Names are written exactly as given (tests use
// hostile ones).
class TarBuilder {
 public:
  TarBuilder& Dir(const std::string& name, int64_t mode = 0755) {
    TarEntry e;
    e.name = name;
    e.type = TarType::kDirectory;
    e.mode = mode;
    return Add(e);
  }
  TarBuilder& File(const std::string& name, const std::string& content, int64_t mode = 0644) {
    TarEntry e;
    e.name = name;
    e.type = TarType::kRegular;
    e.mode = mode;
    e.size = static_cast<int64_t>(content.size());
    return Add(e, content);
  }
  TarBuilder& Symlink(const std::string& target, const std::string& name) {
    TarEntry e;
    e.name = name;
    e.linkname = target;
    e.type = TarType::kSymlink;
    e.mode = 0777;
    return Add(e);
  }
  TarBuilder& Hardlink(const std::string& target, const std::string& name) {
    TarEntry e;
    e.name = name;
    e.linkname = target;
    e.type = TarType::kHardlink;
    return Add(e);
  }
  TarBuilder& Fifo(const std::string& name, int64_t mode = 0644) {
    TarEntry e;
    e.name = name;
    e.type = TarType::kFifo;
    e.mode = mode;
    return Add(e);
  }
  // An empty regular file "<dir>/.wh.<base>" for `path`.
  TarBuilder& Whiteout(const std::string& path) {
    size_t slash = path.rfind('/');
    std::string name = slash == std::string::npos
                           ? ".wh." + path
                           : path.substr(0, slash + 1) + ".wh." + path.substr(slash + 1);
    return File(name, "", 0600);
  }
  TarBuilder& Opaque(const std::string& dir) { return File(dir + "/.wh..wh..opq", "", 0755); }
  TarBuilder& Add(const TarEntry& e, const std::string& content = "") {
    if (!error_.empty()) return *this;
    auto s = writer_.WriteEntry(e, content);
    if (!s) error_ = s.error().message;
    return *this;
  }
  // The finished archive; empty with error() set if any entry failed to encode.
  std::string Build() {
    auto s = writer_.Close();
    if (!s && error_.empty()) error_ = s.error().message;
    return out_.out;
  }
  const std::string& error() const { return error_; }

 private:
  StringWriter out_;
  TarWriter writer_{out_};
  std::string error_;
};

// Writes a test file without the store's fsync dance (tests need speed, not durability).
inline bool WriteTestFile(const std::string& path, const std::string& data, mode_t mode = 0644) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return false;
  bool ok = ::write(fd, data.data(), data.size()) == static_cast<ssize_t>(data.size());
  ok = ::fchmod(fd, mode) == 0 && ok;
  return ::close(fd) == 0 && ok;
}

// Every regular file under a store root with its size, sorted; SQLite's own files and the lock are
// left out. Two snapshots compare equal when an operation left the store as it was.
inline std::vector<std::string> StoreFiles(const std::string& root) {
  std::vector<std::string> out;
  for (auto& e : std::filesystem::recursive_directory_iterator(root)) {
    std::string p = e.path().string();
    if (!e.is_regular_file() || p.ends_with("-wal") || p.ends_with("-shm") ||
        p.ends_with("strata.db") || p.ends_with("/lock")) {
      continue;
    }
    out.push_back(p + ":" + std::to_string(e.file_size()));
  }
  std::sort(out.begin(), out.end());
  return out;
}

inline std::string Slurp(const std::string& path) {
  auto data = ReadFile(path);
  return data ? *data : "<missing " + path + ">";
}

inline bool IsSymlink(const std::string& path) {
  struct stat st;
  return ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode);
}

inline bool SameFile(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::stat(a.c_str(), &sa) == 0 && ::stat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

inline bool SameInodeNoFollow(const std::string& a, const std::string& b) {
  struct stat sa, sb;
  return ::lstat(a.c_str(), &sa) == 0 && ::lstat(b.c_str(), &sb) == 0 && sa.st_dev == sb.st_dev &&
         sa.st_ino == sb.st_ino;
}

}  // namespace strata::archive_test
