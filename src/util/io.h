// Pull-style byte streams. Hot paths read whole buffers (64 KiB-1 MiB) through these, so the
// virtual call is per buffer, never per byte.
#pragma once

#include <cstddef>
#include <string>

#include "util/result.h"

namespace strata {

class Reader {
 public:
  virtual ~Reader() = default;
  // Reads up to `size` bytes; returns 0 only at end of stream.
  virtual Result<size_t> Read(char* buffer, size_t size) = 0;
};

class Writer {
 public:
  virtual ~Writer() = default;
  virtual Status Write(const char* data, size_t size) = 0;
};

// Reads exactly `size` bytes or fails naming `what` ("unexpected end of <what>").
Status ReadFull(Reader& reader, char* buffer, size_t size, const std::string& what);

// Reads and discards everything up to end of stream; returns the number of bytes skipped.
Result<uint64_t> Drain(Reader& reader);

// Copies the whole stream; returns the byte count.
Result<uint64_t> Copy(Reader& from, Writer& to);

// A file descriptor as a stream. Does not own the descriptor unless told to.
class FdReader : public Reader {
 public:
  explicit FdReader(int fd, std::string name, bool owns = false)
      : fd_(fd), name_(std::move(name)), owns_(owns) {}
  ~FdReader() override;
  Result<size_t> Read(char* buffer, size_t size) override;

 private:
  int fd_;
  std::string name_;
  bool owns_;
};

class FdWriter : public Writer {
 public:
  explicit FdWriter(int fd, std::string name) : fd_(fd), name_(std::move(name)) {}
  Status Write(const char* data, size_t size) override;

 private:
  int fd_;
  std::string name_;
};

// Reads from an in-memory string (small documents, tests).
class StringReader : public Reader {
 public:
  explicit StringReader(std::string data) : data_(std::move(data)) {}
  Result<size_t> Read(char* buffer, size_t size) override;

 private:
  std::string data_;
  size_t offset_ = 0;
};

class StringWriter : public Writer {
 public:
  Status Write(const char* data, size_t size) override {
    out.append(data, size);
    return {};
  }
  std::string out;
};

}  // namespace strata
