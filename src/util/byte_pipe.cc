#include "util/byte_pipe.h"

#include <cstring>

namespace strata {

Status BytePipe::Write(const char* data, size_t size) {
  if (size == 0) return {};
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return abandoned_ || queued_ < capacity_; });
  if (abandoned_) return {};
  chunks_.emplace_back(data, size);
  queued_ += size;
  changed_.notify_all();
  return {};
}

void BytePipe::CloseWrite() {
  std::lock_guard<std::mutex> lock(mu_);
  closed_ = true;
  changed_.notify_all();
}

Result<size_t> BytePipe::Read(char* buffer, size_t size) {
  std::unique_lock<std::mutex> lock(mu_);
  changed_.wait(lock, [&] { return !chunks_.empty() || closed_; });
  size_t done = 0;
  while (done < size && !chunks_.empty()) {
    std::string& front = chunks_.front();
    size_t n = std::min(size - done, front.size() - front_offset_);
    std::memcpy(buffer + done, front.data() + front_offset_, n);
    done += n;
    front_offset_ += n;
    if (front_offset_ == front.size()) {
      chunks_.pop_front();
      front_offset_ = 0;
    }
  }
  queued_ -= done;
  changed_.notify_all();
  return done;
}

void BytePipe::Abandon() {
  std::lock_guard<std::mutex> lock(mu_);
  abandoned_ = true;
  chunks_.clear();
  queued_ = 0;
  changed_.notify_all();
}

}  // namespace strata
