#include "util/buffer_pool.h"

#include <cstdlib>
#include <map>
#include <mutex>
#include <new>
#include <utility>
#include <vector>

namespace strata {
namespace {

// Idle buffers beyond this many bytes are freed: enough for the pipes and blob writers of a
// few concurrent transfers, bounded so that one burst does not pin memory for good.
constexpr size_t kMaxIdleBytes = 192 << 20;

class Pool {
 public:
  char* Take(size_t size) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = idle_.find(size);
      if (it != idle_.end() && !it->second.empty()) {
        char* p = it->second.back();
        it->second.pop_back();
        idle_bytes_ -= size;
        return p;
      }
    }
    const size_t rounded =
        (size + PooledBuffer::kAlignment - 1) / PooledBuffer::kAlignment * PooledBuffer::kAlignment;
    auto* p = static_cast<char*>(std::aligned_alloc(PooledBuffer::kAlignment, rounded));
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }

  void Give(char* p, size_t size) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (idle_bytes_ + size <= kMaxIdleBytes) {
        idle_[size].push_back(p);
        idle_bytes_ += size;
        return;
      }
    }
    std::free(p);
  }

  size_t IdleBytes() {
    std::lock_guard<std::mutex> lock(mu_);
    return idle_bytes_;
  }

 private:
  std::mutex mu_;
  std::map<size_t, std::vector<char*>> idle_;
  size_t idle_bytes_ = 0;
};

// Never destroyed: buffers may be released by threads that outlive static destruction.
Pool& ThePool() {
  static Pool* pool = new Pool;
  return *pool;
}

}  // namespace

PooledBuffer PooledBuffer::Acquire(size_t size) {
  if (size == 0) return {};
  return PooledBuffer(ThePool().Take(size), size);
}

PooledBuffer::PooledBuffer(PooledBuffer&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)), size_(std::exchange(other.size_, 0)) {}

PooledBuffer& PooledBuffer::operator=(PooledBuffer&& other) noexcept {
  if (this != &other) {
    Release();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

PooledBuffer::~PooledBuffer() { Release(); }

void PooledBuffer::Release() {
  if (data_ == nullptr) return;
  ThePool().Give(data_, size_);
  data_ = nullptr;
  size_ = 0;
}

size_t PooledBuffer::IdleBytes() { return ThePool().IdleBytes(); }

}  // namespace strata
