#include "archive/root_fs.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <deque>
#include <vector>

namespace strata {
namespace {

constexpr int kMaxSymlinks = 40;  // Linux's MAXSYMLINKS

std::deque<std::string> SplitPath(const std::string& path) {
  std::deque<std::string> parts;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    if (slash > start) parts.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  return parts;
}

int ReopenRoot(int root_fd, UniqueFd* out) {
  int fd = ::openat(root_fd, ".", O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  *out = UniqueFd(fd);
  return 0;
}

}  // namespace

Result<RootFs> RootFs::Open(const std::string& dir, bool use_openat2) {
  int fd = ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Fail("open root directory " + dir + ": " + std::strerror(errno));
  return RootFs(UniqueFd(fd), dir, use_openat2);
}

int RootFs::OpenDir(const std::string& rel, UniqueFd* out) const {
  if (rel.empty()) return ReopenRoot(root_.get(), out);
  if (use_openat2_) {
    struct open_how how;
    std::memset(&how, 0, sizeof how);
    how.flags = O_PATH | O_DIRECTORY | O_CLOEXEC;
    how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
    for (int attempt = 0;; ++attempt) {
      long fd = ::syscall(SYS_openat2, root_.get(), rel.c_str(), &how, sizeof how);
      if (fd >= 0) {
        *out = UniqueFd(static_cast<int>(fd));
        return 0;
      }
      int err = errno;
      // EAGAIN: a concurrent rename made ".." resolution unsafe; the kernel asks for a retry.
      if (err == EAGAIN && attempt < 16) continue;
      // No openat2 (old kernel, or a seccomp filter that hides it): use the walk from now on.
      if (err == ENOSYS || err == EPERM || err == EINVAL || err == E2BIG) {
        use_openat2_ = false;
        break;
      }
      return err;
    }
  }
  return OpenDirManual(rel, out);
}

int RootFs::OpenDirManual(const std::string& rel, UniqueFd* out) const {
  // stack[i] is the directory reached after i components; the root is not on it (depth 0).
  std::vector<UniqueFd> stack;
  auto current = [&]() { return stack.empty() ? root_.get() : stack.back().get(); };
  std::deque<std::string> todo = SplitPath(rel);
  int links = 0;
  while (!todo.empty()) {
    std::string part = std::move(todo.front());
    todo.pop_front();
    if (part == ".") continue;
    if (part == "..") {
      if (!stack.empty()) stack.pop_back();  // ".." at the root stays at the root
      continue;
    }
    int fd = ::openat(current(), part.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno;
    UniqueFd next(fd);
    struct stat st;
    if (::fstat(next.get(), &st) != 0) return errno;
    if (S_ISLNK(st.st_mode)) {
      if (++links > kMaxSymlinks) return ELOOP;
      std::string target(PATH_MAX, '\0');
      ssize_t n = ::readlinkat(next.get(), "", target.data(), target.size());
      if (n < 0) return errno;
      target.resize(static_cast<size_t>(n));
      if (!target.empty() && target.front() == '/') stack.clear();
      std::deque<std::string> parts = SplitPath(target);
      todo.insert(todo.begin(), parts.begin(), parts.end());
      continue;
    }
    if (!S_ISDIR(st.st_mode)) return ENOTDIR;
    stack.push_back(std::move(next));
  }
  if (stack.empty()) return ReopenRoot(root_.get(), out);
  *out = std::move(stack.back());
  return 0;
}

int RootFs::MakeDirs(const std::string& rel, UniqueFd* out) const {
  int err = OpenDir(rel, out);
  if (err != ENOENT) return err;
  UniqueFd current;
  if ((err = ReopenRoot(root_.get(), &current)) != 0) return err;
  std::string prefix;
  for (const std::string& part : SplitPath(rel)) {
    prefix = prefix.empty() ? part : prefix + "/" + part;
    UniqueFd next;
    err = OpenDir(prefix, &next);
    if (err == ENOENT) {
      // `current` is where `prefix` minus its last component resolved, so creating `part` in it
      // is creating `prefix`. EEXIST means `part` is a dangling symlink: report ENOENT below.
      if (::mkdirat(current.get(), part.c_str(), 0755) == 0) {
        ::fchmodat(current.get(), part.c_str(), 0755, 0);  // whatever the umask
      } else if (errno != EEXIST) {
        return errno;
      }
      err = OpenDir(prefix, &next);
    }
    if (err != 0) return err;
    current = std::move(next);
  }
  *out = std::move(current);
  return 0;
}

}  // namespace strata
