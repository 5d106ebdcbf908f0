// The model of one tar entry as the reader returns it and the writer takes it: the header fields
// after PAX and GNU extension records have been applied.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace strata {

enum class TarType {
  kRegular,      // '0', '\0', '7'
  kHardlink,     // '1'
  kSymlink,      // '2'
  kCharDevice,   // '3'
  kBlockDevice,  // '4'
  kDirectory,    // '5'
  kFifo,         // '6'
  kOther,        // anything else; `typeflag` holds the raw byte
};

std::string_view TarTypeName(TarType type);

// The typeflag byte the writer emits for a type ('0', '1', ... '6'); kOther has none.
char TarTypeflagFor(TarType type);

struct TarTime {
  int64_t seconds = 0;
  uint32_t nanos = 0;  // 0..999999999, only from a PAX "mtime" record
  bool operator==(const TarTime&) const = default;
};

struct TarEntry {
  std::string name;      // PAX "path" / GNU long name / ustar prefix + "/" + name, as stored
  std::string linkname;  // PAX "linkpath" / GNU long link
  TarType type = TarType::kRegular;
  char typeflag = '0';  // raw header byte (useful for kOther)
  int64_t mode = 0644;  // the header's mode field (permission, setuid/setgid/sticky bits)
  int64_t uid = 0;
  int64_t gid = 0;
  std::string uname;
  std::string gname;
  // The header's size (after a PAX "size" record). Only regular and kOther entries carry that many
  // content bytes; the other types are header-only whatever this says (as in Go's archive/tar).
  int64_t size = 0;
  TarTime mtime;
  int64_t devmajor = 0;
  int64_t devminor = 0;
  std::map<std::string, std::string> xattrs;       // PAX "SCHILY.xattr.<name>" records
  std::map<std::string, std::string> pax_records;  // every PAX record of the entry, raw
  // Reader only: stream offset of the entry's first header block (extension headers included).
  uint64_t header_offset = 0;

  // Number of content bytes that follow the header in the stream.
  int64_t content_size() const {
    return (type == TarType::kRegular || type == TarType::kOther) ? size : 0;
  }
};

}  // namespace strata
