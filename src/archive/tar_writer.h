// Streaming tar writer producing the bytes Go's archive/tar writes for headers in FormatPAX mode
// (what Docker uses): a plain USTAR header when every field fits, otherwise a PAX extended header
// ("PaxHeaders.0/<name>", sorted records) before a USTAR-magic main header. Deterministic: the
// same entries and content give the same bytes. Output is buffered; large content writes go
// straight through. Not thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "archive/tar_entry.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

// The header block(s) the writer emits for `entry`: either one USTAR block, or a PAX header block,
// its padded records and the main block. Fails when a field cannot be encoded at all (NUL bytes,
// device numbers or mode too large, a regular file name ending in '/').
Result<std::string> EncodeTarHeader(const TarEntry& entry);

class TarWriter {
 public:
  static constexpr size_t kBufferSize = 256 * 1024;

  explicit TarWriter(Writer& out);
  TarWriter(const TarWriter&) = delete;
  TarWriter& operator=(const TarWriter&) = delete;

  // Starts an entry. The previous entry's content must be complete. The caller then writes
  // exactly entry.content_size() content bytes; padding is added by the writer.
  Status WriteHeader(const TarEntry& entry);
  // Appends content of the current entry; fails if it goes past the entry's size.
  Status WriteContent(const char* data, size_t size);
  // The current entry's content as a Writer (same rules as WriteContent).
  Writer& content() { return content_; }
  // Copies `from` to its end as the current entry's content; fails unless it yields exactly the
  // missing bytes (a file that changed size while archiving).
  Status CopyContent(Reader& from);
  // Header plus the whole content in one call.
  Status WriteEntry(const TarEntry& entry, std::string_view content = {});

  // Checks the last entry is complete, writes the end marker (two zero blocks) and flushes.
  // Does not close the underlying Writer.
  Status Close();
  Status Flush();

  uint64_t bytes_written() const { return written_; }

 private:
  class ContentWriter : public Writer {
   public:
    explicit ContentWriter(TarWriter* tar) : tar_(tar) {}
    Status Write(const char* data, size_t size) override { return tar_->WriteContent(data, size); }

   private:
    TarWriter* tar_;
  };

  Status Emit(const char* data, size_t size);
  Status CheckComplete();

  Writer& out_;
  std::unique_ptr<char[]> buffer_;
  size_t buffered_ = 0;
  uint64_t written_ = 0;
  ContentWriter content_{this};
  std::string current_name_;
  uint64_t content_left_ = 0;
  uint64_t padding_ = 0;  // padding owed once the current content is complete
  bool closed_ = false;
};

}  // namespace strata
