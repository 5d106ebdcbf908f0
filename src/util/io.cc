#include "util/io.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "util/cancel.h"

namespace strata {

Status ReadFull(Reader& reader, char* buffer, size_t size, const std::string& what) {
  size_t done = 0;
  while (done < size) {
    STRATA_ASSIGN(n, reader.Read(buffer + done, size - done));
    if (n == 0) return Fail("unexpected end of " + what);
    done += n;
  }
  return {};
}

Result<uint64_t> Drain(Reader& reader) {
  std::vector<char> buffer(1 << 16);
  uint64_t total = 0;
  for (;;) {
    STRATA_ASSIGN(n, reader.Read(buffer.data(), buffer.size()));
    if (n == 0) return total;
    total += n;
  }
}

Result<uint64_t> Copy(Reader& from, Writer& to) {
  std::vector<char> buffer(1 << 20);
  uint64_t total = 0;
  for (;;) {
    STRATA_ASSIGN(n, from.Read(buffer.data(), buffer.size()));
    if (n == 0) return total;
    STRATA_TRY(to.Write(buffer.data(), n));
    total += n;
  }
}

FdReader::~FdReader() {
  if (owns_ && fd_ >= 0) ::close(fd_);
}

Result<size_t> FdReader::Read(char* buffer, size_t size) {
  for (;;) {
    ssize_t n = ::read(fd_, buffer, size);
    if (n >= 0) return static_cast<size_t>(n);
    // A read blocked on a pipe or terminal ends when the user cancels (util/cancel.h).
    if (errno == EINTR && CancelRequested()) return tl::unexpected(CancelledError());
    if (errno == EINTR) continue;
    return Fail("read " + name_ + ": " + std::strerror(errno));
  }
}

Status FdWriter::Write(const char* data, size_t size) {
  while (size > 0) {
    ssize_t n = ::write(fd_, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return Fail("write " + name_ + ": " + std::strerror(errno));
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return {};
}

Result<size_t> StringReader::Read(char* buffer, size_t size) {
  size_t n = std::min(size, data_.size() - offset_);
  std::memcpy(buffer, data_.data() + offset_, n);
  offset_ += n;
  return n;
}

}  // namespace strata
