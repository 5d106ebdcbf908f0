// Streaming tar parser over a Reader: ustar, GNU (base-256 numbers, long names) and PAX local
// headers, with Go archive/tar's leniencies (what Docker accepts is what we accept). Reads the
// source in large chunks; entry content is served from the buffer or, for large reads, straight
// from the source into the caller's memory. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "archive/tar_entry.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

class TarReader {
 public:
  static constexpr size_t kDefaultBufferSize = 1 << 20;

  explicit TarReader(Reader& source, size_t buffer_size = kDefaultBufferSize);
  TarReader(const TarReader&) = delete;
  TarReader& operator=(const TarReader&) = delete;

  // Advances to the next entry, skipping whatever the caller left unread of the current one
  // (content and padding). Returns nullopt at the end marker (two zero blocks) or when the stream
  // ends cleanly at an entry boundary, after one or no zero block (Go tolerates that, and so do
  // Docker's layers). PAX global headers are consumed and ignored. Errors are sticky.
  Result<std::optional<TarEntry>> Next();

  // The current entry's content: yields exactly content_size() bytes, then 0. Fails with
  // "unexpected end of tar archive in entry NAME" when the source ends early.
  Reader& content() { return content_; }

  // After Next() returned nullopt: reads every remaining byte of the source (the rest of the
  // record padding, or anything else) so that a caller hashing the source sees all of it.
  // Returns how many bytes followed the end marker.
  Result<uint64_t> DrainRest();

  // Bytes of the source consumed so far.
  uint64_t offset() const { return consumed_ - (end_ - pos_); }

 private:
  class ContentReader : public Reader {
   public:
    explicit ContentReader(TarReader* tar) : tar_(tar) {}
    Result<size_t> Read(char* buffer, size_t size) override {
      return tar_->ReadContent(buffer, size);
    }

   private:
    TarReader* tar_;
  };

  Result<size_t> ReadContent(char* buffer, size_t size);
  Result<std::optional<TarEntry>> ReadEntry();
  // Makes at least `n` (<= buffer size) bytes available at pos_; returns how many are (less only
  // at end of stream).
  Result<size_t> Fill(size_t n);
  // Consumes `n` bytes of the stream; false if it ended first.
  Result<bool> Skip(uint64_t n);
  // Reads `size` bytes of an extension header's content plus padding.
  Result<std::string> ReadSpecial(int64_t size, uint64_t header_offset);
  tl::unexpected<Error> Truncated();

  Reader& source_;
  std::unique_ptr<char[]> buffer_;
  size_t capacity_;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t consumed_ = 0;  // bytes read from the source
  bool source_eof_ = false;

  ContentReader content_{this};
  std::string current_name_;   // for error messages
  uint64_t content_left_ = 0;  // unread content bytes of the current entry
  uint64_t padding_left_ = 0;  // padding after the current entry's content
  bool at_end_ = false;
  std::optional<Error> error_;
};

}  // namespace strata
