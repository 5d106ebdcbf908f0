// Large page-aligned I/O buffers (pipe rings, blob write buffers) that go back to a process-wide
// pool when released instead of to the system. The first write to each fresh page is a page
// fault, and on a virtual machine a costly trap: a pull of a dozen layers that allocated its
// buffers anew for each layer took ~40,000 of them. Pooled buffers are touched once per process.
#pragma once

#include <cstddef>

namespace strata {

class PooledBuffer {
 public:
  // Alignment of every buffer: a page, which also suits O_DIRECT.
  static constexpr size_t kAlignment = 4096;

  PooledBuffer() = default;
  // A buffer of `size` bytes (contents unspecified), reused from the pool when one of that size
  // is idle. Throws std::bad_alloc when memory runs out.
  static PooledBuffer Acquire(size_t size);

  PooledBuffer(PooledBuffer&& other) noexcept;
  PooledBuffer& operator=(PooledBuffer&& other) noexcept;
  PooledBuffer(const PooledBuffer&) = delete;
  PooledBuffer& operator=(const PooledBuffer&) = delete;
  ~PooledBuffer();

  char* get() const { return data_; }
  size_t size() const { return size_; }
  explicit operator bool() const { return data_ != nullptr; }

  // Idle bytes the pool holds now (for tests).
  static size_t IdleBytes();

 private:
  PooledBuffer(char* data, size_t size) : data_(data), size_(size) {}
  void Release();

  char* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace strata
