#include "util/byte_pipe.h"

#include <algorithm>
#include <cstring>

namespace strata {

Status BytePipe::Write(const char* data, size_t size) {
  while (size > 0) {
    size_t offset, n;
    {
      std::unique_lock<std::mutex> lock(mu_);
      changed_.wait(lock, [&] { return abandoned_ || written_ - read_ < capacity_; });
      if (abandoned_) return {};
      if (!ring_) ring_ = PooledBuffer::Acquire(capacity_);
      offset = static_cast<size_t>(written_ % capacity_);
      n = std::min({size, capacity_ - static_cast<size_t>(written_ - read_), capacity_ - offset});
    }
    // The reader never touches [written_, read_ + capacity_), so this copy needs no lock.
    std::memcpy(ring_.get() + offset, data, n);
    {
      std::lock_guard<std::mutex> lock(mu_);
      written_ += n;
    }
    changed_.notify_all();
    data += n;
    size -= n;
  }
  return {};
}

void BytePipe::CloseWrite() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
  }
  changed_.notify_all();
}

Result<size_t> BytePipe::Read(char* buffer, size_t size) {
  if (size == 0) return size_t{0};
  size_t offset, n;
  {
    std::unique_lock<std::mutex> lock(mu_);
    changed_.wait(lock, [&] { return written_ > read_ || closed_; });
    if (written_ == read_) return size_t{0};  // closed and drained
    offset = static_cast<size_t>(read_ % capacity_);
    n = std::min({size, static_cast<size_t>(written_ - read_), capacity_ - offset});
  }
  std::memcpy(buffer, ring_.get() + offset, n);
  {
    std::lock_guard<std::mutex> lock(mu_);
    read_ += n;
  }
  changed_.notify_all();
  return n;
}

void BytePipe::Abandon() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    abandoned_ = true;
  }
  changed_.notify_all();
}

}  // namespace strata
