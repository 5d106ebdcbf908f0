// Layer compression: detection by magic bytes, gzip (zlib) and zstd (libzstd) decoders as Reader
// decorators, a gzip encoder with Go-compatible header fields as a Writer decorator, and
// AutoDecompress, which picks the decoder for a stream. Decoders inflate straight into the
// caller's buffer; only compressed input is staged (256 KiB). Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/io.h"
#include "util/result.h"

namespace strata {

enum class Compression { kNone, kGzip, kZstd, kBzip2, kXz };

std::string_view CompressionName(Compression compression);

// Classifies a stream by its first bytes (6 are enough); kNone when no magic matches.
Compression DetectCompression(std::string_view first_bytes);

// Lets a caller look at the start of a stream without consuming it.
class PeekReader : public Reader {
 public:
  explicit PeekReader(Reader& source) : source_(source) {}
  // Up to `n` bytes from the current position, fewer only at end of stream.
  Result<std::string_view> Peek(size_t n);
  Result<size_t> Read(char* buffer, size_t size) override;

 private:
  Reader& source_;
  std::string peeked_;
  size_t offset_ = 0;
};

// gzip decoder (RFC 1952) over zlib. Concatenated members are read as one stream, as Go's
// gzip.Reader does; bytes after a member that do not start a new member are an error.
class GzipReader : public Reader {
 public:
  explicit GzipReader(Reader& source);
  ~GzipReader() override;
  GzipReader(const GzipReader&) = delete;
  GzipReader& operator=(const GzipReader&) = delete;
  Result<size_t> Read(char* buffer, size_t size) override;

 private:
  struct State;
  Reader& source_;
  std::unique_ptr<State> state_;
};

// zstd decoder over libzstd's streaming API; concatenated and skippable frames are accepted.
class ZstdReader : public Reader {
 public:
  explicit ZstdReader(Reader& source);
  ~ZstdReader() override;
  ZstdReader(const ZstdReader&) = delete;
  ZstdReader& operator=(const ZstdReader&) = delete;
  Result<size_t> Read(char* buffer, size_t size) override;

 private:
  struct State;
  Reader& source_;
  std::unique_ptr<State> state_;
};

// gzip encoder. The header carries no name, MTIME 0 and OS 255 ("unknown"), as Go's
// compress/gzip writes it. Levels are zlib's: -1 (default, 6) or 0..9. Close() must be called to
// finish the stream; it does not close the underlying Writer.
class GzipWriter : public Writer {
 public:
  static constexpr int kDefaultLevel = -1;
  explicit GzipWriter(Writer& sink, int level = kDefaultLevel);
  ~GzipWriter() override;
  GzipWriter(const GzipWriter&) = delete;
  GzipWriter& operator=(const GzipWriter&) = delete;
  Status Write(const char* data, size_t size) override;
  Status Close();

 private:
  Status Deflate(int flush);
  struct State;
  Writer& sink_;
  std::unique_ptr<State> state_;
};

// Peeks at the start of `source` and returns a reader of the decompressed bytes: a gzip or zstd
// decoder, or the stream itself when it is not compressed. bzip2 and xz fail with
// "unsupported compression bzip2". The returned reader reads from `source`, which must outlive
// it. `detected`, when given, receives the compression found.
Result<std::unique_ptr<Reader>> AutoDecompress(Reader& source, Compression* detected = nullptr);

}  // namespace strata
