// A bounded in-memory pipe between two threads: one writes (Writer), one reads (Reader). Used to
// feed the same byte stream to a second consumer (e.g. unpacking a layer while it is being
// hashed and stored) without a second read of the input. The writer blocks while `capacity`
// bytes are queued; once the reader abandons, writes are dropped so the writer never blocks.
// One writer thread and one reader thread: a ring buffer from the buffer pool, with the copies
// done outside the lock (no allocation or page faults per chunk on a gigabyte stream).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>

#include "util/buffer_pool.h"
#include "util/io.h"

namespace strata {

class BytePipe {
 public:
  explicit BytePipe(size_t capacity = 4 << 20) : capacity_(capacity) {}

  // Writer side.
  Status Write(const char* data, size_t size);
  void CloseWrite();

  // Reader side: Read returns 0 after CloseWrite and the queue is drained.
  Result<size_t> Read(char* buffer, size_t size);
  void Abandon();

  Writer& writer() { return writer_; }
  Reader& reader() { return reader_; }

 private:
  struct WriterEnd : Writer {
    explicit WriterEnd(BytePipe* p) : pipe(p) {}
    Status Write(const char* data, size_t size) override { return pipe->Write(data, size); }
    BytePipe* pipe;
  };
  struct ReaderEnd : Reader {
    explicit ReaderEnd(BytePipe* p) : pipe(p) {}
    Result<size_t> Read(char* buffer, size_t size) override { return pipe->Read(buffer, size); }
    BytePipe* pipe;
  };

  const size_t capacity_;
  PooledBuffer ring_;  // taken on first write
  std::mutex mu_;
  std::condition_variable changed_;
  uint64_t written_ = 0;  // bytes ever written; the ring holds [read_, written_)
  uint64_t read_ = 0;
  bool closed_ = false;
  bool abandoned_ = false;
  WriterEnd writer_{this};
  ReaderEnd reader_{this};
};

}  // namespace strata
