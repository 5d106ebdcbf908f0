#include "util/buffer_pool.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <utility>

namespace strata {
namespace STRATA_UNITY_ID {

TEST(BufferPool, ReleasedBufferIsHandedOutAgain) {
  constexpr size_t kSize = (1 << 20) + 123;  // an odd size: a pool of its own
  char* first = nullptr;
  {
    PooledBuffer b = PooledBuffer::Acquire(kSize);
    ASSERT_TRUE(b);
    EXPECT_EQ(b.size(), kSize);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.get()) % PooledBuffer::kAlignment, 0u);
    std::memset(b.get(), 0xab, b.size());  // the whole size is usable
    first = b.get();
  }
  const size_t idle = PooledBuffer::IdleBytes();
  EXPECT_GE(idle, kSize);
  PooledBuffer again = PooledBuffer::Acquire(kSize);
  EXPECT_EQ(again.get(), first);
  EXPECT_EQ(PooledBuffer::IdleBytes(), idle - kSize);
  // A second buffer of the same size while the first is out is a different one.
  PooledBuffer other = PooledBuffer::Acquire(kSize);
  EXPECT_NE(other.get(), first);
}

TEST(BufferPool, MoveTransfersOwnership) {
  PooledBuffer a = PooledBuffer::Acquire(8192);
  char* p = a.get();
  PooledBuffer b = std::move(a);
  EXPECT_FALSE(a);  // NOLINT(bugprone-use-after-move): checking the moved-from state
  EXPECT_EQ(b.get(), p);
  PooledBuffer c = PooledBuffer::Acquire(8192);
  c = std::move(b);  // c's own buffer goes back to the pool
  EXPECT_EQ(c.get(), p);
  EXPECT_FALSE(PooledBuffer::Acquire(0));
}

TEST(BufferPool, IdleBytesStayBounded) {
  constexpr size_t kSize = 64 << 20;
  {
    PooledBuffer a = PooledBuffer::Acquire(kSize);
    PooledBuffer b = PooledBuffer::Acquire(kSize);
    PooledBuffer c = PooledBuffer::Acquire(kSize);
    PooledBuffer d = PooledBuffer::Acquire(kSize);
  }
  // Four 64 MiB buffers released: the pool keeps what fits under its bound and frees the rest.
  EXPECT_LE(PooledBuffer::IdleBytes(), size_t{192} << 20);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
