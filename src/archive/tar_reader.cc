#include "archive/tar_reader.h"

#include <algorithm>
#include <cstring>

#include "archive/tar_format.h"

namespace strata {
namespace {

using tar::kBlockSize;

// Content reads at least this big bypass the buffer when it is empty.
constexpr size_t kDirectReadMin = 64 * 1024;

uint64_t Padding(uint64_t size) { return (kBlockSize - size % kBlockSize) % kBlockSize; }

std::string AtOffset(uint64_t offset) { return " at offset " + std::to_string(offset); }

}  // namespace

TarReader::TarReader(Reader& source, size_t buffer_size)
    : source_(source),
      buffer_(new char[std::max(buffer_size, 2 * kBlockSize)]),
      capacity_(std::max(buffer_size, 2 * kBlockSize)) {}

tl::unexpected<Error> TarReader::Truncated() {
  Error e{"unexpected end of tar archive in entry " + current_name_};
  error_ = e;
  return tl::unexpected(e);
}

Result<size_t> TarReader::Fill(size_t n) {
  if (pos_ == end_) pos_ = end_ = 0;
  if (end_ - pos_ >= n) return n;
  if (pos_ + n > capacity_) {
    std::memmove(buffer_.get(), buffer_.get() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  while (end_ - pos_ < n && !source_eof_) {
    auto got = source_.Read(buffer_.get() + end_, capacity_ - end_);
    if (!got) {
      error_ = got.error();
      return tl::unexpected(got.error());
    }
    if (*got == 0) source_eof_ = true;
    end_ += *got;
    consumed_ += *got;
  }
  return std::min(n, end_ - pos_);
}

Result<bool> TarReader::Skip(uint64_t n) {
  while (n > 0) {
    if (pos_ == end_) {
      if (source_eof_) return false;
      pos_ = end_ = 0;
      auto got = source_.Read(buffer_.get(), capacity_);
      if (!got) {
        error_ = got.error();
        return tl::unexpected(got.error());
      }
      if (*got == 0) {
        source_eof_ = true;
        return false;
      }
      end_ = *got;
      consumed_ += *got;
    }
    size_t k = static_cast<size_t>(std::min<uint64_t>(n, end_ - pos_));
    pos_ += k;
    n -= k;
  }
  return true;
}

Result<size_t> TarReader::ReadContent(char* out, size_t size) {
  if (error_) return tl::unexpected(*error_);
  if (content_left_ == 0 || size == 0) return 0;
  size_t want = static_cast<size_t>(std::min<uint64_t>(size, content_left_));
  if (pos_ == end_) {
    if (source_eof_) return Truncated();
    if (want >= kDirectReadMin) {
      auto got = source_.Read(out, want);
      if (!got) {
        error_ = got.error();
        return tl::unexpected(got.error());
      }
      if (*got == 0) {
        source_eof_ = true;
        return Truncated();
      }
      consumed_ += *got;
      content_left_ -= *got;
      return *got;
    }
    STRATA_ASSIGN(avail, Fill(1));
    if (avail == 0) return Truncated();
  }
  size_t n = std::min(want, end_ - pos_);
  std::memcpy(out, buffer_.get() + pos_, n);
  pos_ += n;
  content_left_ -= n;
  return n;
}

Result<std::string> TarReader::ReadSpecial(int64_t size, uint64_t header_offset) {
  if (size < 0 || size > tar::kMaxSpecialFileSize) {
    error_ = Error{"tar extended header too large" + AtOffset(header_offset)};
    return tl::unexpected(*error_);
  }
  std::string data(static_cast<size_t>(size), '\0');
  size_t got = 0;
  while (got < data.size()) {
    STRATA_ASSIGN(avail, Fill(1));
    if (avail == 0) {
      error_ = Error{"unexpected end of tar archive in extended header" + AtOffset(header_offset)};
      return tl::unexpected(*error_);
    }
    size_t k = std::min(data.size() - got, end_ - pos_);
    std::memcpy(data.data() + got, buffer_.get() + pos_, k);
    pos_ += k;
    got += k;
  }
  STRATA_ASSIGN(complete, Skip(Padding(data.size())));
  if (!complete) {
    error_ = Error{"unexpected end of tar archive in extended header" + AtOffset(header_offset)};
    return tl::unexpected(*error_);
  }
  return data;
}

Result<std::optional<TarEntry>> TarReader::Next() {
  if (error_) return tl::unexpected(*error_);
  if (at_end_) return std::nullopt;
  if (content_left_ + padding_left_ > 0) {
    STRATA_ASSIGN(complete, Skip(content_left_ + padding_left_));
    if (!complete) return Truncated();
    content_left_ = padding_left_ = 0;
  }
  auto entry = ReadEntry();
  if (!entry) error_ = entry.error();
  return entry;
}

Result<std::optional<TarEntry>> TarReader::ReadEntry() {
  std::vector<std::pair<std::string, std::string>> pax;
  std::optional<std::string> long_name;
  std::optional<std::string> long_link;
  bool have_extension = false;
  uint64_t first_offset = offset();

  for (;;) {
    const uint64_t header_offset = offset();
    STRATA_ASSIGN(avail, Fill(kBlockSize));
    if (avail == 0) {
      if (have_extension) {
        return Fail("unexpected end of tar archive after extended header" + AtOffset(first_offset));
      }
      at_end_ = true;  // no end marker: accepted, as Go's archive/tar does
      return std::nullopt;
    }
    if (avail < kBlockSize) {
      return Fail("unexpected end of tar archive in header" + AtOffset(header_offset));
    }
    const char* block = buffer_.get() + pos_;
    if (tar::IsZeroBlock(block)) {
      pos_ += kBlockSize;
      if (have_extension) {
        return Fail("tar extended header not followed by an entry" + AtOffset(first_offset));
      }
      STRATA_ASSIGN(avail2, Fill(kBlockSize));
      if (avail2 == 0) {
        at_end_ = true;  // a single zero block, then end of stream
        return std::nullopt;
      }
      if (avail2 < kBlockSize) {
        return Fail("unexpected end of tar archive in end marker" + AtOffset(header_offset));
      }
      if (!tar::IsZeroBlock(buffer_.get() + pos_)) {
        return Fail("invalid tar archive: zero block followed by a header" +
                    AtOffset(header_offset));
      }
      pos_ += kBlockSize;
      at_end_ = true;
      return std::nullopt;
    }

    auto stored = tar::ParseNumeric(tar::FieldOf(block, tar::kChecksum));
    auto [unsigned_sum, signed_sum] = tar::ComputeChecksum(block);
    if (!stored || (*stored != unsigned_sum && *stored != signed_sum)) {
      return Fail(ErrorCode::kCorrupt, "tar header checksum mismatch" + AtOffset(header_offset));
    }

    auto bad_field = [&](const char* field) {
      return Fail("invalid tar header" + AtOffset(header_offset) + ": bad " + field + " field");
    };
    const tar::Format format = tar::DetectFormat(block);
    const char typeflag = block[tar::kTypeflag.offset];
    auto size = tar::ParseNumeric(tar::FieldOf(block, tar::kSize));
    if (!size || *size < 0) return bad_field("size");

    if (typeflag == 'x' || typeflag == 'g' || typeflag == 'L' || typeflag == 'K') {
      pos_ += kBlockSize;
      STRATA_ASSIGN(data, ReadSpecial(*size, header_offset));
      if (typeflag == 'x' || typeflag == 'g') {
        auto records = tar::ParsePaxRecords(data);
        if (!records) {
          return Fail("invalid PAX header" + AtOffset(header_offset) + ": " +
                      records.error().message);
        }
        // A local header applies to the next entry (a second one replaces the first); a global
        // header is read and ignored, as Docker ignores it.
        if (typeflag == 'x') {
          pax = std::move(*records);
          have_extension = true;
        } else if (!have_extension) {
          first_offset = offset();
        }
      } else {
        (typeflag == 'L' ? long_name : long_link) = std::string(tar::ParseString(data));
        have_extension = true;
      }
      continue;
    }

    TarEntry e;
    e.header_offset = first_offset;
    e.typeflag = typeflag;
    e.size = *size;
    e.name = std::string(tar::ParseString(tar::FieldOf(block, tar::kName)));
    e.linkname = std::string(tar::ParseString(tar::FieldOf(block, tar::kLinkname)));
    auto mode = tar::ParseNumeric(tar::FieldOf(block, tar::kMode));
    auto uid = tar::ParseNumeric(tar::FieldOf(block, tar::kUid));
    auto gid = tar::ParseNumeric(tar::FieldOf(block, tar::kGid));
    auto mtime = tar::ParseNumeric(tar::FieldOf(block, tar::kMtime));
    if (!mode) return bad_field("mode");
    if (!uid) return bad_field("uid");
    if (!gid) return bad_field("gid");
    if (!mtime) return bad_field("mtime");
    e.mode = *mode;
    e.uid = *uid;
    e.gid = *gid;
    e.mtime = TarTime{*mtime, 0};
    if (format != tar::Format::kV7) {
      e.uname = std::string(tar::ParseString(tar::FieldOf(block, tar::kUname)));
      e.gname = std::string(tar::ParseString(tar::FieldOf(block, tar::kGname)));
      auto major = tar::ParseNumeric(tar::FieldOf(block, tar::kDevmajor));
      auto minor = tar::ParseNumeric(tar::FieldOf(block, tar::kDevminor));
      if (!major) return bad_field("devmajor");
      if (!minor) return bad_field("devminor");
      e.devmajor = *major;
      e.devminor = *minor;
      std::string_view prefix;
      if (format == tar::Format::kUstar) prefix = tar::FieldOf(block, tar::kPrefix);
      if (format == tar::Format::kStar) prefix = tar::FieldOf(block, tar::kStarPrefix);
      prefix = tar::ParseString(prefix);
      if (!prefix.empty()) e.name = std::string(prefix) + "/" + e.name;
    }
    pos_ += kBlockSize;

    for (auto& [key, value] : pax) {
      auto bad_record = [&]() {
        return Fail("invalid PAX record " + key + "=" + value + " for tar entry" +
                    AtOffset(first_offset));
      };
      if (key == "path") {
        e.name = value;
      } else if (key == "linkpath") {
        e.linkname = value;
      } else if (key == "uname") {
        e.uname = value;
      } else if (key == "gname") {
        e.gname = value;
      } else if (key == "uid" || key == "gid" || key == "size") {
        auto n = tar::ParseDecimal(value);
        if (!n) return bad_record();
        (key == "uid" ? e.uid : key == "gid" ? e.gid : e.size) = *n;
      } else if (key == "mtime") {
        auto t = tar::ParsePaxTime(value);
        if (!t) return bad_record();
        e.mtime = *t;
      } else if (key == "atime" || key == "ctime") {
        if (!tar::ParsePaxTime(value)) return bad_record();
      } else if (key.starts_with("SCHILY.xattr.")) {
        e.xattrs[key.substr(13)] = value;
      } else if (key.starts_with("GNU.sparse.")) {
        return Fail("unsupported sparse file in tar entry " + e.name);
      }
      e.pax_records[key] = value;
    }
    if (long_name) e.name = std::move(*long_name);
    if (long_link) e.linkname = std::move(*long_link);
    if (e.size < 0) return Fail("invalid tar header" + AtOffset(first_offset) + ": negative size");

    switch (typeflag) {
      case '\0':
        e.type = !e.name.empty() && e.name.back() == '/' ? TarType::kDirectory : TarType::kRegular;
        e.typeflag = e.type == TarType::kDirectory ? '5' : '0';
        break;
      case '0':
      case '7':
        e.type = TarType::kRegular;
        break;
      case '1':
        e.type = TarType::kHardlink;
        break;
      case '2':
        e.type = TarType::kSymlink;
        break;
      case '3':
        e.type = TarType::kCharDevice;
        break;
      case '4':
        e.type = TarType::kBlockDevice;
        break;
      case '5':
        e.type = TarType::kDirectory;
        break;
      case '6':
        e.type = TarType::kFifo;
        break;
      case 'S':
        return Fail("unsupported sparse file in tar entry " + e.name);
      default:
        e.type = TarType::kOther;
        break;
    }
    current_name_ = e.name;
    content_left_ = static_cast<uint64_t>(e.content_size());
    padding_left_ = Padding(content_left_);
    return e;
  }
}

Result<uint64_t> TarReader::DrainRest() {
  if (error_) return tl::unexpected(*error_);
  uint64_t total = 0;
  for (;;) {
    total += end_ - pos_;
    pos_ = end_ = 0;
    if (source_eof_) break;
    STRATA_ASSIGN(avail, Fill(capacity_));
    if (avail == 0) break;
  }
  content_left_ = padding_left_ = 0;
  at_end_ = true;
  return total;
}

}  // namespace strata
