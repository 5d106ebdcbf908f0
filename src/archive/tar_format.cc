#include "archive/tar_format.h"

#include <charconv>
#include <cstdio>
#include <cstring>

namespace strata::tar {
namespace {

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string_view Trim(std::string_view s, std::string_view chars) {
  size_t begin = s.find_first_not_of(chars);
  if (begin == std::string_view::npos) return {};
  size_t end = s.find_last_not_of(chars);
  return s.substr(begin, end - begin + 1);
}

}  // namespace

std::optional<int64_t> ParseDecimal(std::string_view s) {
  bool negative = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty()) return std::nullopt;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value, 10);
  if (ec != std::errc() || ptr != s.data() + s.size()) return std::nullopt;
  if (negative) {
    if (value > uint64_t{1} << 63) return std::nullopt;
    return static_cast<int64_t>(0 - value);
  }
  if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(value);
}

Format DetectFormat(const char* block) {
  std::string_view magic = FieldOf(block, kMagic);
  std::string_view version = FieldOf(block, kVersion);
  std::string_view trailer = FieldOf(block, kStarTrailer);
  using namespace std::string_view_literals;
  if (magic == "ustar\0"sv && trailer == "tar\0"sv) return Format::kStar;
  if (magic == "ustar\0"sv) return Format::kUstar;
  if (magic == "ustar "sv && version == " \0"sv) return Format::kGnu;
  return Format::kV7;
}

std::string_view ParseString(std::string_view field) {
  size_t nul = field.find('\0');
  return nul == std::string_view::npos ? field : field.substr(0, nul);
}

std::optional<int64_t> ParseNumeric(std::string_view field) {
  if (!field.empty() && (static_cast<unsigned char>(field[0]) & 0x80) != 0) {
    // Base-256: two's complement big-endian, the first byte's top bit is the marker.
    unsigned char inv = (static_cast<unsigned char>(field[0]) & 0x40) != 0 ? 0xff : 0x00;
    uint64_t x = 0;
    for (size_t i = 0; i < field.size(); ++i) {
      unsigned char c = static_cast<unsigned char>(field[i]) ^ inv;
      if (i == 0) c &= 0x7f;
      if ((x >> 56) > 0) return std::nullopt;
      x = (x << 8) | c;
    }
    if ((x >> 63) > 0) return std::nullopt;
    return inv == 0xff ? ~static_cast<int64_t>(x) : static_cast<int64_t>(x);
  }
  std::string_view text = ParseString(Trim(field, std::string_view(" \0", 2)));
  if (text.empty()) return 0;
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value, 8);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  if (value > static_cast<uint64_t>(INT64_MAX)) return std::nullopt;
  return static_cast<int64_t>(value);
}

bool FitsOctal(size_t size, int64_t value) {
  if (value < 0) return false;
  if (size >= 22) return true;
  return value < (int64_t{1} << ((size - 1) * 3));
}

void FormatOctal(char* field, size_t size, int64_t value) {
  if (!FitsOctal(size, value)) value = 0;  // Go's last resort
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof digits, static_cast<uint64_t>(value), 8);
  (void)ec;
  size_t len = static_cast<size_t>(end - digits);
  std::string text;
  if (len + 1 < size) text.assign(size - len - 1, '0');
  text.append(digits, len);
  FormatString(field, size, text);
}

bool FormatBase256(char* field, size_t size, int64_t value) {
  // Go's fitsInBase256: the first byte only carries the marker.
  if (size < 9) {
    int64_t limit = int64_t{1} << ((size - 1) * 8);
    if (value < -limit || value >= limit) return false;
  }
  for (size_t i = size; i-- > 0;) {
    field[i] = static_cast<char>(value & 0xff);
    value >>= 8;  // arithmetic shift keeps the sign for negatives
  }
  field[0] = static_cast<char>(static_cast<unsigned char>(field[0]) | 0x80);
  return true;
}

void FormatString(char* field, size_t size, std::string_view s) {
  size_t n = std::min(size, s.size());
  // An empty view may have a null data(), which memcpy must not get even for 0 bytes (UBSan).
  if (n > 0) std::memcpy(field, s.data(), n);
  if (s.size() < size) field[s.size()] = '\0';
  // Go: a truncated name must not end in '/' in the field, or some readers take a file for a
  // directory.
  if (s.size() > size && field[size - 1] == '/') {
    std::string_view head = s.substr(0, size - 1);
    size_t end = head.find_last_not_of('/');
    field[end == std::string_view::npos ? 0 : end + 1] = '\0';
  }
}

std::pair<int64_t, int64_t> ComputeChecksum(const char* block) {
  int64_t unsigned_sum = 0;
  int64_t signed_sum = 0;
  for (size_t i = 0; i < kBlockSize; ++i) {
    char c = (i >= kChecksum.offset && i < kChecksum.offset + kChecksum.size) ? ' ' : block[i];
    unsigned_sum += static_cast<unsigned char>(c);
    signed_sum += static_cast<signed char>(c);
  }
  return {unsigned_sum, signed_sum};
}

void SetChecksum(char* block) {
  int64_t sum = ComputeChecksum(block).first;
  FormatOctal(block + kChecksum.offset, 7, sum);
  block[kChecksum.offset + 7] = ' ';
}

bool IsZeroBlock(const char* block) {
  static const char kZero[kBlockSize] = {};
  return std::memcmp(block, kZero, kBlockSize) == 0;
}

bool ValidPaxRecord(std::string_view key, std::string_view value) {
  if (key.empty() || key.find('=') != std::string_view::npos) return false;
  if (key == "path" || key == "linkpath" || key == "uname" || key == "gname") {
    return !HasNul(value);
  }
  return !HasNul(key);
}

Result<std::vector<std::pair<std::string, std::string>>> ParsePaxRecords(std::string_view data) {
  std::vector<std::pair<std::string, std::string>> records;
  while (!data.empty()) {
    if (data.find_first_not_of('\0') == std::string_view::npos) break;  // NUL padding
    size_t space = data.find(' ');
    if (space == std::string_view::npos) return Fail("PAX record without length");
    std::optional<int64_t> n = ParseDecimal(data.substr(0, space));
    if (!n || *n < 5 || *n > static_cast<int64_t>(data.size()) ||
        *n <= static_cast<int64_t>(space + 1)) {
      return Fail("PAX record with invalid length");
    }
    std::string_view record = data.substr(space + 1, static_cast<size_t>(*n) - space - 1);
    data.remove_prefix(static_cast<size_t>(*n));
    if (record.back() != '\n') return Fail("PAX record not terminated by newline");
    record.remove_suffix(1);
    size_t eq = record.find('=');
    if (eq == std::string_view::npos) return Fail("PAX record without '='");
    std::string_view key = record.substr(0, eq);
    std::string_view value = record.substr(eq + 1);
    if (!ValidPaxRecord(key, value)) return Fail("invalid PAX record " + std::string(key));
    records.emplace_back(std::string(key), std::string(value));
  }
  return records;
}

std::string FormatPaxRecord(std::string_view key, std::string_view value) {
  std::string tail;
  tail.reserve(key.size() + value.size() + 3);
  tail += ' ';
  tail += key;
  tail += '=';
  tail += value;
  tail += '\n';
  size_t size = tail.size();
  size += std::to_string(size).size();
  std::string record = std::to_string(size) + tail;
  if (record.size() != size) record = std::to_string(record.size()) + tail;  // one more digit
  return record;
}

std::optional<TarTime> ParsePaxTime(std::string_view text) {
  size_t dot = text.find('.');
  std::string_view secs_text = text.substr(0, dot);
  std::optional<int64_t> secs = ParseDecimal(secs_text);
  if (!secs) return std::nullopt;
  if (dot == std::string_view::npos || dot + 1 == text.size()) return TarTime{*secs, 0};
  std::string_view frac = text.substr(dot + 1);
  if (frac.find_first_not_of("0123456789") != std::string_view::npos) return std::nullopt;
  std::string digits(frac.substr(0, 9));
  digits.resize(9, '0');
  uint32_t nanos = static_cast<uint32_t>(std::stoul(digits));
  if (!secs_text.empty() && secs_text[0] == '-' && nanos != 0) {
    // "-1.5" is 1.5 s before the epoch: seconds -2, nanos 500000000.
    return TarTime{*secs - 1, 1000000000u - nanos};
  }
  return TarTime{*secs, nanos};
}

std::string FormatPaxTime(TarTime time) {
  if (time.nanos == 0) return std::to_string(time.seconds);
  int64_t secs = time.seconds;
  int64_t nanos = time.nanos;
  std::string sign;
  if (secs < 0) {
    sign = "-";
    secs = -(secs + 1);
    nanos = 1000000000 - nanos;
  }
  char frac[16];
  std::snprintf(frac, sizeof frac, "%09lld", static_cast<long long>(nanos));
  std::string out = sign + std::to_string(secs) + "." + frac;
  while (out.back() == '0') out.pop_back();
  return out;
}

std::optional<std::pair<std::string_view, std::string_view>> SplitUstarPath(std::string_view name) {
  size_t length = name.size();
  if (length <= kName.size || !IsAscii(name)) return std::nullopt;
  if (length > kPrefix.size + 1) {
    length = kPrefix.size + 1;
  } else if (name[length - 1] == '/') {
    --length;
  }
  size_t i = name.substr(0, length).rfind('/');
  if (i == std::string_view::npos || i == 0) return std::nullopt;
  size_t suffix_len = name.size() - i - 1;
  if (suffix_len > kName.size || suffix_len == 0 || i > kPrefix.size) return std::nullopt;
  return std::make_pair(name.substr(0, i), name.substr(i + 1));
}

bool IsAscii(std::string_view s) {
  for (char c : s) {
    if (c == '\0' || static_cast<unsigned char>(c) >= 0x80) return false;
  }
  return true;
}

std::string ToAscii(std::string_view s) {
  // Every byte of a multi-byte UTF-8 sequence (and every invalid byte) is >= 0x80, so dropping
  // those bytes drops exactly the non-ASCII code points.
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    if (c != '\0' && static_cast<unsigned char>(c) < 0x80) out += c;
  }
  return out;
}

}  // namespace strata::tar
