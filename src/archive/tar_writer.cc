#include "archive/tar_writer.h"

#include <algorithm>
#include <cstring>
#include <map>
#include <vector>

#include "archive/tar_format.h"
#include "util/clean_path.h"

namespace strata {
namespace {

using tar::kBlockSize;

uint64_t Padding(uint64_t size) { return (kBlockSize - size % kBlockSize) % kBlockSize; }

bool HasNul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

// Go's path.Join(dir, "PaxHeaders.0", file) for path.Split(name).
std::string PaxHeaderName(std::string_view name) {
  size_t slash = name.rfind('/');
  std::string_view dir = slash == std::string_view::npos ? "" : name.substr(0, slash + 1);
  std::string_view file = slash == std::string_view::npos ? name : name.substr(slash + 1);
  std::string joined;
  if (!dir.empty()) joined.append(dir).append("/");
  joined.append("PaxHeaders.0");
  if (!file.empty()) joined.append("/").append(file);
  return CleanPath(joined);
}

// The fields shared by the USTAR and PAX main headers (Go's templateV7Plus + setFormat).
void FillMainBlock(char* block, const TarEntry& e, char typeflag, std::string_view name,
                   std::string_view linkname, std::string_view uname, std::string_view gname) {
  using namespace tar;
  block[kTypeflag.offset] = typeflag;
  FormatString(block + kName.offset, kName.size, name);
  FormatString(block + kLinkname.offset, kLinkname.size, linkname);
  FormatOctal(block + kMode.offset, kMode.size, e.mode);
  FormatOctal(block + kUid.offset, kUid.size, e.uid);
  FormatOctal(block + kGid.offset, kGid.size, e.gid);
  FormatOctal(block + kSize.offset, kSize.size, e.size);
  FormatOctal(block + kMtime.offset, kMtime.size, e.mtime.seconds);
  FormatString(block + kUname.offset, kUname.size, uname);
  FormatString(block + kGname.offset, kGname.size, gname);
  FormatOctal(block + kDevmajor.offset, kDevmajor.size, e.devmajor);
  FormatOctal(block + kDevminor.offset, kDevminor.size, e.devminor);
  std::memcpy(block + kMagic.offset, "ustar\0", 6);
  std::memcpy(block + kVersion.offset, "00", 2);
}

}  // namespace

Result<std::string> EncodeTarHeader(const TarEntry& e) {
  using namespace tar;
  const char typeflag = e.type == TarType::kOther ? e.typeflag : TarTypeflagFor(e.type);
  const std::string what = "tar entry " + e.name;
  if (typeflag == 'x' || typeflag == 'g' || typeflag == 'L' || typeflag == 'K') {
    return Fail(what + ": extension header types cannot be written as entries");
  }
  if (!e.name.empty() && e.name.back() == '/' &&
      (e.type == TarType::kRegular || e.type == TarType::kCharDevice ||
       e.type == TarType::kBlockDevice || e.type == TarType::kFifo)) {
    return Fail(what + ": a " + std::string(TarTypeName(e.type)) + " name may not end in '/'");
  }
  if (e.content_size() < 0) return Fail(what + ": negative size");
  if (e.mtime.nanos >= 1000000000u) return Fail(what + ": invalid mtime nanoseconds");

  // Go's Header.allowedFormats restricted to USTAR|PAX.
  std::map<std::string, std::string> pax;
  bool ustar_ok = true;
  auto record_if_same = [&](const std::string& key, const std::string& value) {
    auto it = e.pax_records.find(key);
    if (it != e.pax_records.end() && it->second == value) pax[key] = value;
  };
  auto verify_string = [&](const std::string& s, size_t size, const char* key) -> Status {
    if (HasNul(s)) return Fail(what + ": " + key + " contains a NUL byte");
    if (!IsAscii(s) || s.size() > size) {
      if (std::string_view(key) != "path" || !SplitUstarPath(s)) ustar_ok = false;
      pax[key] = s;
    }
    record_if_same(key, s);
    return {};
  };
  auto verify_number = [&](int64_t n, size_t size, const char* key) {
    if (!FitsOctal(size, n)) {
      ustar_ok = false;
      pax[key] = std::to_string(n);
    }
    record_if_same(key, std::to_string(n));
  };
  STRATA_TRY(verify_string(e.name, kName.size, "path"));
  STRATA_TRY(verify_string(e.linkname, kLinkname.size, "linkpath"));
  STRATA_TRY(verify_string(e.uname, kUname.size, "uname"));
  STRATA_TRY(verify_string(e.gname, kGname.size, "gname"));
  if (!FitsOctal(kMode.size, e.mode)) return Fail(what + ": mode out of range");
  if (!FitsOctal(kDevmajor.size, e.devmajor) || !FitsOctal(kDevminor.size, e.devminor)) {
    return Fail(what + ": device number out of range");
  }
  verify_number(e.uid, kUid.size, "uid");
  verify_number(e.gid, kGid.size, "gid");
  verify_number(e.size, kSize.size, "size");
  const bool mtime_fits = FitsOctal(kMtime.size, e.mtime.seconds);
  if (!mtime_fits || e.mtime.nanos != 0) {
    ustar_ok = false;  // PAX is preferred whenever USTAR would lose precision
    pax["mtime"] = FormatPaxTime(e.mtime);
  }
  record_if_same("mtime", FormatPaxTime(e.mtime));
  for (const auto& [key, value] : e.xattrs) {
    pax["SCHILY.xattr." + key] = value;
    ustar_ok = false;
  }
  if (!e.pax_records.empty()) {
    static const char* kBasicKeys[] = {"path",  "linkpath", "size",  "uid",   "gid",
                                       "uname", "gname",    "mtime", "atime", "ctime"};
    for (const auto& [key, value] : e.pax_records) {
      if (pax.count(key)) continue;
      if (std::find(std::begin(kBasicKeys), std::end(kBasicKeys), key) != std::end(kBasicKeys)) {
        continue;
      }
      pax[key] = value;
    }
    ustar_ok = false;
  }
  for (const auto& [key, value] : pax) {
    if (!ValidPaxRecord(key, value)) return Fail(what + ": invalid PAX record " + key);
  }

  if (ustar_ok) {
    std::string out(kBlockSize, '\0');
    std::string_view name = e.name;
    std::string_view prefix;
    if (auto split = SplitUstarPath(e.name)) std::tie(prefix, name) = *split;
    FillMainBlock(out.data(), e, typeflag, name, e.linkname, e.uname, e.gname);
    FormatString(out.data() + kPrefix.offset, kPrefix.size, prefix);
    SetChecksum(out.data());
    return out;
  }

  std::string records;
  for (const auto& [key, value] : pax) records += FormatPaxRecord(key, value);
  if (static_cast<int64_t>(records.size()) > kMaxSpecialFileSize) {
    return Fail(what + ": PAX records too large");
  }
  std::string out(kBlockSize, '\0');
  // Go's writeRawFile: best-effort ASCII name of at most 100 bytes without trailing slashes.
  std::string pax_name = ToAscii(PaxHeaderName(e.name));
  if (pax_name.size() > kName.size) pax_name.resize(kName.size);
  while (!pax_name.empty() && pax_name.back() == '/') pax_name.pop_back();
  char* ext = out.data();
  ext[kTypeflag.offset] = 'x';
  FormatString(ext + kName.offset, kName.size, pax_name);
  FormatOctal(ext + kMode.offset, kMode.size, 0);
  FormatOctal(ext + kUid.offset, kUid.size, 0);
  FormatOctal(ext + kGid.offset, kGid.size, 0);
  FormatOctal(ext + kSize.offset, kSize.size, static_cast<int64_t>(records.size()));
  FormatOctal(ext + kMtime.offset, kMtime.size, 0);
  std::memcpy(ext + kMagic.offset, "ustar\0", 6);
  std::memcpy(ext + kVersion.offset, "00", 2);
  SetChecksum(ext);
  out += records;
  out.append(Padding(records.size()), '\0');

  size_t main_offset = out.size();
  out.append(kBlockSize, '\0');
  FillMainBlock(out.data() + main_offset, e, typeflag, ToAscii(e.name), ToAscii(e.linkname),
                ToAscii(e.uname), ToAscii(e.gname));
  SetChecksum(out.data() + main_offset);
  return out;
}

TarWriter::TarWriter(Writer& out) : out_(out), buffer_(new char[kBufferSize]) {}

Status TarWriter::Emit(const char* data, size_t size) {
  // Nothing to copy; `data` may then be null (an empty string_view's), which memcpy must not get.
  if (size == 0) return {};
  if (buffered_ + size <= kBufferSize) {
    std::memcpy(buffer_.get() + buffered_, data, size);
    buffered_ += size;
  } else {
    STRATA_TRY(Flush());
    if (size >= kBufferSize / 2) {
      STRATA_TRY(out_.Write(data, size));
    } else {
      std::memcpy(buffer_.get(), data, size);
      buffered_ = size;
    }
  }
  written_ += size;
  return {};
}

Status TarWriter::Flush() {
  if (buffered_ > 0) {
    size_t n = buffered_;
    buffered_ = 0;
    STRATA_TRY(out_.Write(buffer_.get(), n));
  }
  return {};
}

Status TarWriter::CheckComplete() {
  if (closed_) return Fail("tar writer is closed");
  if (content_left_ > 0) {
    return Fail("tar entry " + current_name_ + ": " + std::to_string(content_left_) +
                " content bytes missing");
  }
  return {};
}

Status TarWriter::WriteHeader(const TarEntry& entry) {
  STRATA_TRY(CheckComplete());
  STRATA_ASSIGN(header, EncodeTarHeader(entry));
  STRATA_TRY(Emit(header.data(), header.size()));
  current_name_ = entry.name;
  content_left_ = static_cast<uint64_t>(entry.content_size());
  padding_ = Padding(content_left_);
  return {};
}

Status TarWriter::WriteContent(const char* data, size_t size) {
  if (closed_) return Fail("tar writer is closed");
  if (size > content_left_) {
    return Fail("tar entry " + current_name_ + ": content longer than its size");
  }
  STRATA_TRY(Emit(data, size));
  content_left_ -= size;
  if (content_left_ == 0 && padding_ > 0) {
    static const char kZero[kBlockSize] = {};
    STRATA_TRY(Emit(kZero, static_cast<size_t>(padding_)));
    padding_ = 0;
  }
  return {};
}

Status TarWriter::CopyContent(Reader& from) {
  std::vector<char> chunk(1 << 20);
  for (;;) {
    STRATA_ASSIGN(n, from.Read(chunk.data(), chunk.size()));
    if (n == 0) break;
    STRATA_TRY(WriteContent(chunk.data(), n));
  }
  return CheckComplete();
}

Status TarWriter::WriteEntry(const TarEntry& entry, std::string_view content) {
  STRATA_TRY(WriteHeader(entry));
  STRATA_TRY(WriteContent(content.data(), content.size()));
  return CheckComplete();
}

Status TarWriter::Close() {
  STRATA_TRY(CheckComplete());
  static const char kZero[2 * kBlockSize] = {};
  STRATA_TRY(Emit(kZero, sizeof kZero));
  STRATA_TRY(Flush());
  closed_ = true;
  return {};
}

}  // namespace strata
