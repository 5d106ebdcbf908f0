// Low-level tar encoding shared by TarReader and TarWriter: header block layout, numeric fields
// (octal and GNU base-256), checksums, PAX records and times. The rules follow Go's archive/tar,
// which is what Docker reads and writes.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "archive/tar_entry.h"
#include "util/result.h"

namespace strata::tar {

inline constexpr size_t kBlockSize = 512;
// Go's limit for PAX / GNU long name contents (maxSpecialFileSize).
inline constexpr int64_t kMaxSpecialFileSize = 1 << 20;

// Field offsets and lengths inside a header block.
struct Field {
  size_t offset;
  size_t size;
};
inline constexpr Field kName{0, 100};
inline constexpr Field kMode{100, 8};
inline constexpr Field kUid{108, 8};
inline constexpr Field kGid{116, 8};
inline constexpr Field kSize{124, 12};
inline constexpr Field kMtime{136, 12};
inline constexpr Field kChecksum{148, 8};
inline constexpr Field kTypeflag{156, 1};
inline constexpr Field kLinkname{157, 100};
inline constexpr Field kMagic{257, 6};
inline constexpr Field kVersion{263, 2};
inline constexpr Field kUname{265, 32};
inline constexpr Field kGname{297, 32};
inline constexpr Field kDevmajor{329, 8};
inline constexpr Field kDevminor{337, 8};
inline constexpr Field kPrefix{345, 155};
inline constexpr Field kStarPrefix{345, 131};
inline constexpr Field kStarTrailer{508, 4};

inline std::string_view FieldOf(const char* block, Field f) {
  return std::string_view(block + f.offset, f.size);
}

enum class Format { kV7, kUstar, kGnu, kStar };
// Classifies a header block by its magic, as Go's block.getFormat does (checksum not included).
Format DetectFormat(const char* block);

// A string field: the bytes before the first NUL.
std::string_view ParseString(std::string_view field);

// A numeric field: octal text (spaces and NULs trimmed) or GNU base-256 (high bit of the first
// byte set, two's complement). nullopt when the field is not a number.
std::optional<int64_t> ParseNumeric(std::string_view field);

// True when `value` can be written as octal into a field of `size` bytes (leaving a NUL).
bool FitsOctal(size_t size, int64_t value);
// Writes zero-padded octal followed by NUL, as Go does; the caller checks FitsOctal first.
void FormatOctal(char* field, size_t size, int64_t value);
// Writes GNU base-256 (used only for fields that octal cannot hold). False if it does not fit.
bool FormatBase256(char* field, size_t size, int64_t value);
// Copies `s` into the field, NUL-terminating it when it is shorter (Go's formatString).
void FormatString(char* field, size_t size, std::string_view s);

// Sum of the block's bytes with the checksum field read as spaces: unsigned and signed variants.
std::pair<int64_t, int64_t> ComputeChecksum(const char* block);
// Fills the checksum field ("%06o\0 ") of a header block whose other fields are set.
void SetChecksum(char* block);
bool IsZeroBlock(const char* block);

// "%d %s=%s\n" records. Parsing fails on malformed lengths or missing '='; keys that repeat keep
// the last value. Trailing NUL padding after the last record is tolerated.
Result<std::vector<std::pair<std::string, std::string>>> ParsePaxRecords(std::string_view data);
std::string FormatPaxRecord(std::string_view key, std::string_view value);
// Go's validPAXRecord: non-empty key without '=', no NUL in path-like values or in keys.
bool ValidPaxRecord(std::string_view key, std::string_view value);

// Go's strconv.ParseInt(s, 10, 64): optional sign, decimal digits, no overflow.
std::optional<int64_t> ParseDecimal(std::string_view s);

// "1350244992.023960108" / "-1.5" / "42" ↔ seconds + nanoseconds.
std::optional<TarTime> ParsePaxTime(std::string_view text);
std::string FormatPaxTime(TarTime time);

// Go's splitUSTARPath: splits a long ASCII name at a '/' into a prefix (<= 155 bytes) and a name
// (<= 100 bytes). nullopt when the name fits as is or cannot be split.
std::optional<std::pair<std::string_view, std::string_view>> SplitUstarPath(std::string_view name);

bool IsAscii(std::string_view s);
// Keeps only ASCII code points (no NUL) of a UTF-8 string, as Go's toASCII.
std::string ToAscii(std::string_view s);

}  // namespace strata::tar
