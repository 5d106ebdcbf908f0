// tar-split: how Docker keeps the exact bytes of a layer tar without keeping the tar. Every byte
// that is not file content (headers, extension headers, padding, the end blocks and anything
// after them) is stored verbatim as a "segment"; each tar entry is stored as a "file" record with
// its name, size and CRC-64/ISO, and its content is read back from the unpacked layer by name.
// The format is newline-delimited JSON, gzip-compressed (layerdb/<chain>/tar-split.json.gz,
// legacy graph/<id>/tar-data.json.gz):
//   {"type":2,"payload":"<base64 bytes>","position":0}
//   {"type":1,"name":"etc/passwd","size":1234,"payload":"<base64 CRC>","position":1}
// Names that are not UTF-8 come as "name_raw" (base64). Reassembling must give the bytes whose
// sha256 is the layer's diffID; callers check that.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "util/file.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

struct TarSplitEntry {
  enum class Type { kFile = 1, kSegment = 2 };
  Type type = Type::kSegment;
  std::string name;     // file: the entry's name as stored in the tar
  int64_t size = 0;     // file: content bytes
  std::string payload;  // segment: raw bytes; file: the 8-byte big-endian CRC (empty if size 0)
};

// Parses one JSON line; `position` must be the line's expected position.
Result<TarSplitEntry> ParseTarSplitLine(std::string_view line, int64_t position);
// One JSON line (no newline), as tar-split's JSON packer writes it.
std::string MarshalTarSplitLine(const TarSplitEntry& entry, int64_t position);

// Splits a whole tar held in memory into tar-split entries (tests and small layers).
Result<std::vector<TarSplitEntry>> DisassembleTar(std::string_view tar);

// Streams the reassembled tar of one layer: reads the gzip'd JSON lines from `tar_split_path`
// and the content of each file from below `files_root` (a directory holding the layer's files).
// Each file's CRC is checked, and a file shorter than its record is an error naming it. Paths
// are resolved beneath the root without following symlinks, so a hostile record cannot read
// outside it. Not thread-safe; one instance per layer.
class TarSplitAssembler : public Reader {
 public:
  static Result<std::unique_ptr<TarSplitAssembler>> Open(const std::string& tar_split_path,
                                                         const std::string& files_root);
  ~TarSplitAssembler() override;
  Result<size_t> Read(char* buffer, size_t size) override;

  // Sum of the file records' sizes read so far: Docker's size of a migrated layer.
  int64_t file_bytes() const { return file_bytes_; }

 private:
  TarSplitAssembler(std::string tar_split_path, std::string files_root, UniqueFd split_fd,
                    UniqueFd root_fd);
  Status NextEntry();
  Result<std::string> NextLine();
  Status OpenFile(const TarSplitEntry& entry);
  Status FinishFile();

  std::string tar_split_path_;
  std::string files_root_;
  UniqueFd split_fd_;
  UniqueFd root_fd_;
  std::unique_ptr<FdReader> split_reader_;
  std::unique_ptr<Reader> json_reader_;  // gzip decoder over split_reader_
  std::string json_buffer_;
  size_t json_pos_ = 0;
  bool json_eof_ = false;
  int64_t position_ = 0;

  std::unordered_set<std::string> seen_names_;
  std::string segment_;  // unread bytes of the current segment
  size_t segment_pos_ = 0;
  UniqueFd file_fd_;  // the current file record's content
  std::string file_name_;
  int64_t file_left_ = 0;
  uint64_t file_crc_ = 0;
  std::string file_expected_crc_;
  int64_t file_bytes_ = 0;
  bool done_ = false;
};

}  // namespace strata
