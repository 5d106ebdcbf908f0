#include "migrate/tar_split.h"

#include <fcntl.h>
#include <linux/openat2.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <nlohmann/json.hpp>

#include "archive/compression.h"
#include "archive/tar_reader.h"
#include "migrate/crc64_iso.h"
#include "util/base64.h"
#include "util/clean_path.h"
#include "util/go_json.h"
#include "util/json_depth.h"

namespace strata {
namespace {

// Go's utf8.ValidString, which decides between "name" and "name_raw" (overlongs and surrogates
// are invalid there too).
bool IsValidUtf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if ((c >> 5) == 0x6) {
      n = 1, cp = c & 0x1f;
    } else if ((c >> 4) == 0xe) {
      n = 2, cp = c & 0x0f;
    } else if ((c >> 3) == 0x1e) {
      n = 3, cp = c & 0x07;
    } else {
      return false;
    }
    if (i + n >= s.size()) return false;
    for (size_t k = 1; k <= n; ++k) {
      const auto b = static_cast<unsigned char>(s[i + k]);
      if ((b & 0xc0) != 0x80) return false;
      cp = (cp << 6) | (b & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return false;
    i += n + 1;
  }
  return true;
}

std::string CrcBytes(uint64_t crc) {
  std::string out(8, '\0');
  for (int i = 0; i < 8; ++i) out[i] = static_cast<char>(crc >> (56 - 8 * i));
  return out;
}

// Opens `relative` below `root_fd` without following any symlink and without leaving the root.
Result<UniqueFd> OpenBeneath(int root_fd, const std::string& relative, const std::string& shown) {
  open_how how{};
  // O_NOATIME: reading a store that is being migrated should not even touch access times
  // (allowed to the files' owner and to root; others get EPERM and open without it).
  how.flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOATIME;
  how.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof(how));
  if (fd < 0 && errno == EPERM) {
    how.flags &= ~static_cast<uint64_t>(O_NOATIME);
    fd = ::syscall(SYS_openat2, root_fd, relative.c_str(), &how, sizeof(how));
  }
  if (fd < 0 && errno == ENOSYS) {
    // Kernels before 5.6: walk the components ourselves, refusing symlinks at every step.
    UniqueFd dir(::dup(root_fd));
    size_t start = 0;
    for (;;) {
      const size_t slash = relative.find('/', start);
      const std::string part = relative.substr(start, slash - start);
      const bool last = slash == std::string::npos;
      const int flags = O_RDONLY | O_CLOEXEC | O_NOFOLLOW | (last ? 0 : O_DIRECTORY);
      int next = ::openat(dir.get(), part.c_str(), flags);
      if (next < 0) {
        fd = -1;
        break;
      }
      dir = UniqueFd(next);
      if (last) {
        fd = dir.release();
        break;
      }
      start = slash + 1;
    }
  }
  if (fd < 0) return Fail("opening layer file " + shown + ": " + std::strerror(errno));
  return UniqueFd(static_cast<int>(fd));
}

}  // namespace

namespace {

// Reads the lines tar-split's packer writes in its usual shape (fixed key order, no escapes in
// the name) without a general JSON parser, which is most of the CPU a reassembly spends outside
// hashing. Anything else returns false and goes through the full parser.
class FastLine {
 public:
  explicit FastLine(std::string_view line) : s_(line) {}

  bool Parse(TarSplitEntry* entry, int64_t* type, int64_t* position) {
    if (!Literal("{\"type\":") || !Number(type) || !Literal(",")) return false;
    if (Literal("\"name\":\"")) {
      const size_t end = s_.find('"', pos_);
      if (end == std::string_view::npos) return false;
      entry->name.assign(s_.substr(pos_, end - pos_));
      if (entry->name.find('\\') != std::string::npos) return false;
      pos_ = end + 1;
      if (!Literal(",")) return false;
    }
    if (Literal("\"size\":")) {
      if (!Number(&entry->size) || !Literal(",")) return false;
    }
    if (!Literal("\"payload\":")) return false;
    if (!Literal("null")) {
      if (!Literal("\"")) return false;
      const size_t end = s_.find('"', pos_);
      if (end == std::string_view::npos) return false;
      auto decoded = Base64Decode(s_.substr(pos_, end - pos_));
      if (!decoded) return false;
      entry->payload = std::move(*decoded);
      pos_ = end + 1;
    }
    return Literal(",\"position\":") && Number(position) && Literal("}") && pos_ == s_.size();
  }

 private:
  bool Literal(std::string_view text) {
    if (s_.substr(pos_, text.size()) != text) return false;
    pos_ += text.size();
    return true;
  }
  bool Number(int64_t* out) {
    int64_t v = 0;
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9' && pos_ - start < 18) {
      v = v * 10 + (s_[pos_++] - '0');
    }
    *out = v;
    return pos_ > start && (pos_ >= s_.size() || s_[pos_] < '0' || s_[pos_] > '9');
  }

  std::string_view s_;
  size_t pos_ = 0;
};

}  // namespace

Result<TarSplitEntry> ParseTarSplitLine(std::string_view line, int64_t position) {
  {
    TarSplitEntry entry;
    int64_t type = 0, pos = -1;
    if (FastLine(line).Parse(&entry, &type, &pos) && pos == position && (type == 1 || type == 2)) {
      entry.type = type == 1 ? TarSplitEntry::Type::kFile : TarSplitEntry::Type::kSegment;
      if (entry.type == TarSplitEntry::Type::kSegment) {
        entry.name.clear();
        entry.size = 0;
      }
      if (entry.type == TarSplitEntry::Type::kSegment || entry.size == 0 ||
          entry.payload.size() == 8) {
        return entry;
      }
    }
  }
  auto j = ParseUntrustedJson(line);
  if (!j.is_object()) return Fail("entry " + std::to_string(position) + " is not a JSON object");
  auto number = [&](const char* key) -> std::optional<int64_t> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return int64_t{0};
    if (!it->is_number_integer()) return std::nullopt;
    return it->get<int64_t>();
  };
  auto bytes = [&](const char* key) -> Result<std::string> {
    auto it = j.find(key);
    if (it == j.end() || it->is_null()) return std::string();
    if (!it->is_string()) return Fail(std::string("\"") + key + "\" is not a string");
    return Base64Decode(it->get_ref<const std::string&>());
  };
  const auto type = number("type");
  const auto pos = number("position");
  const auto size = number("size");
  if (!type || !pos || !size || *size < 0) {
    return Fail("entry " + std::to_string(position) + " has a malformed type, position or size");
  }
  if (*pos != position) {
    return Fail("entry " + std::to_string(position) + " claims position " + std::to_string(*pos));
  }
  TarSplitEntry entry;
  auto payload = bytes("payload");
  if (!payload) return Wrap("entry " + std::to_string(position), payload.error());
  entry.payload = std::move(*payload);
  if (*type == 2) {
    entry.type = TarSplitEntry::Type::kSegment;
    return entry;
  }
  if (*type != 1) {
    return Fail("entry " + std::to_string(position) + " has unknown type " + std::to_string(*type));
  }
  entry.type = TarSplitEntry::Type::kFile;
  entry.size = *size;
  auto name = j.find("name");
  if (name != j.end() && name->is_string()) {
    entry.name = name->get<std::string>();
  } else {
    auto raw = bytes("name_raw");
    if (!raw) return Wrap("entry " + std::to_string(position), raw.error());
    entry.name = std::move(*raw);
  }
  if (entry.size > 0 && entry.payload.size() != 8) {
    return Fail("entry " + std::to_string(position) + " (" + entry.name +
                ") has no 8-byte checksum");
  }
  return entry;
}

std::string MarshalTarSplitLine(const TarSplitEntry& entry, int64_t position) {
  std::string out = "{\"type\":";
  out += entry.type == TarSplitEntry::Type::kFile ? "1" : "2";
  if (entry.type == TarSplitEntry::Type::kFile) {
    if (IsValidUtf8(entry.name)) {
      if (!entry.name.empty()) {
        out += ",\"name\":";
        AppendGoQuoted(out, entry.name);
      }
    } else {
      out += ",\"name_raw\":\"" + Base64Encode(entry.name) + "\"";
    }
    if (entry.size != 0) out += ",\"size\":" + std::to_string(entry.size);
  }
  out += ",\"payload\":";
  out += entry.payload.empty() ? "null" : "\"" + Base64Encode(entry.payload) + "\"";
  out += ",\"position\":" + std::to_string(position) + "}";
  return out;
}

Result<std::vector<TarSplitEntry>> DisassembleTar(std::string_view tar) {
  StringReader source{std::string(tar)};
  TarReader reader(source);
  std::vector<TarSplitEntry> entries;
  uint64_t raw_from = 0;
  auto segment_to = [&](uint64_t end) {
    if (end > raw_from) {
      TarSplitEntry segment;
      segment.type = TarSplitEntry::Type::kSegment;
      segment.payload = std::string(tar.substr(raw_from, end - raw_from));
      entries.push_back(std::move(segment));
    }
    raw_from = end;
  };
  for (;;) {
    STRATA_ASSIGN(next, reader.Next());
    if (!next) break;
    segment_to(reader.offset());
    const int64_t size = next->content_size();
    TarSplitEntry file;
    file.type = TarSplitEntry::Type::kFile;
    file.name = next->name;
    file.size = size;
    if (size > 0) {
      file.payload = CrcBytes(Crc64Iso(0, tar.data() + reader.offset(), size));
    }
    entries.push_back(std::move(file));
    raw_from = reader.offset() + size;
  }
  STRATA_TRY(reader.DrainRest());
  segment_to(tar.size());
  return entries;
}

TarSplitAssembler::TarSplitAssembler(std::string tar_split_path, std::string files_root,
                                     UniqueFd split_fd, UniqueFd root_fd)
    : tar_split_path_(std::move(tar_split_path)),
      files_root_(std::move(files_root)),
      split_fd_(std::move(split_fd)),
      root_fd_(std::move(root_fd)) {}

TarSplitAssembler::~TarSplitAssembler() = default;

Result<std::unique_ptr<TarSplitAssembler>> TarSplitAssembler::Open(
    const std::string& tar_split_path, const std::string& files_root) {
  STRATA_ASSIGN(split_fd, OpenRead(tar_split_path));
  int root = ::open(files_root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (root < 0) return Fail("opening layer directory " + files_root + ": " + std::strerror(errno));
  std::unique_ptr<TarSplitAssembler> a(
      new TarSplitAssembler(tar_split_path, files_root, std::move(split_fd), UniqueFd(root)));
  a->split_reader_ = std::make_unique<FdReader>(a->split_fd_.get(), tar_split_path);
  a->json_reader_ = std::make_unique<GzipReader>(*a->split_reader_);
  return a;
}

Result<std::string> TarSplitAssembler::NextLine() {
  for (;;) {
    const size_t nl = json_buffer_.find('\n', json_pos_);
    if (nl != std::string::npos) {
      std::string line = json_buffer_.substr(json_pos_, nl - json_pos_);
      json_pos_ = nl + 1;
      return line;
    }
    if (json_eof_) {
      std::string rest = json_buffer_.substr(json_pos_);
      json_pos_ = json_buffer_.size();
      return rest;
    }
    json_buffer_.erase(0, json_pos_);
    json_pos_ = 0;
    const size_t old = json_buffer_.size();
    json_buffer_.resize(old + (256 << 10));
    auto n = json_reader_->Read(json_buffer_.data() + old, json_buffer_.size() - old);
    if (!n) return Wrap(tar_split_path_, n.error());
    json_buffer_.resize(old + *n);
    if (*n == 0) json_eof_ = true;
  }
}

Status TarSplitAssembler::OpenFile(const TarSplitEntry& entry) {
  const std::string relative = ClampedRootRelative(entry.name);
  if (!seen_names_.insert(relative).second) {
    return Fail(tar_split_path_ + ": duplicate path \"" + entry.name + "\"");
  }
  if (entry.size == 0) return {};
  const std::string shown = files_root_ + "/" + relative;
  if (relative.empty()) return Fail("layer file record with content names the root: " + shown);
  STRATA_ASSIGN(fd, OpenBeneath(root_fd_.get(), relative, shown));
  file_fd_ = std::move(fd);
  file_name_ = shown;
  file_left_ = entry.size;
  file_crc_ = 0;
  file_expected_crc_ = entry.payload;
  file_bytes_ += entry.size;
  return {};
}

Status TarSplitAssembler::FinishFile() {
  if (CrcBytes(file_crc_) != file_expected_crc_) {
    return Fail("file integrity checksum failed for " + file_name_ +
                ": its content differs from what the layer recorded");
  }
  file_fd_ = UniqueFd();
  return {};
}

Status TarSplitAssembler::NextEntry() {
  for (;;) {
    STRATA_ASSIGN(line, NextLine());
    if (line.empty()) {
      if (json_eof_ && json_pos_ >= json_buffer_.size()) {
        done_ = true;
        return {};
      }
      continue;
    }
    auto entry = ParseTarSplitLine(line, position_);
    if (!entry) return Wrap(tar_split_path_, entry.error());
    ++position_;
    if (entry->type == TarSplitEntry::Type::kSegment) {
      if (entry->payload.empty()) continue;
      segment_ = std::move(entry->payload);
      segment_pos_ = 0;
      return {};
    }
    STRATA_TRY(OpenFile(*entry));
    if (file_fd_) return {};
  }
}

Result<size_t> TarSplitAssembler::Read(char* buffer, size_t size) {
  for (;;) {
    if (segment_pos_ < segment_.size()) {
      const size_t n = std::min(size, segment_.size() - segment_pos_);
      std::memcpy(buffer, segment_.data() + segment_pos_, n);
      segment_pos_ += n;
      return n;
    }
    if (file_fd_) {
      if (file_left_ == 0) {
        STRATA_TRY(FinishFile());
        continue;
      }
      const size_t want = static_cast<size_t>(std::min<int64_t>(file_left_, size));
      ssize_t n;
      do {
        n = ::read(file_fd_.get(), buffer, want);
      } while (n < 0 && errno == EINTR);
      if (n < 0) return Fail("reading " + file_name_ + ": " + std::strerror(errno));
      if (n == 0) {
        return Fail(ErrorCode::kCorrupt, "layer file " + file_name_ +
                                             " is truncated: " + std::to_string(file_left_) +
                                             " bytes short of what the layer recorded");
      }
      file_crc_ = Crc64Iso(file_crc_, buffer, static_cast<size_t>(n));
      file_left_ -= n;
      return static_cast<size_t>(n);
    }
    if (done_) return size_t{0};
    segment_.clear();
    segment_pos_ = 0;
    STRATA_TRY(NextEntry());
  }
}

}  // namespace strata
