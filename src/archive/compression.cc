#include "archive/compression.h"

#include <isa-l/igzip_lib.h>
#include <zlib.h>
#include <zstd.h>

#include <algorithm>
#include <climits>
#include <cstring>
#include <optional>
#include <vector>

namespace strata {
namespace {

constexpr size_t kInputBufferSize = 256 * 1024;
constexpr size_t kOutputBufferSize = 256 * 1024;

bool StartsWith(std::string_view data, std::string_view magic) {
  return data.size() >= magic.size() && data.substr(0, magic.size()) == magic;
}

uInt ClampToUInt(size_t n) { return static_cast<uInt>(std::min<size_t>(n, UINT_MAX)); }

std::string ZlibMessage(const z_stream& zs, int code) {
  if (zs.msg != nullptr) return zs.msg;
  return "zlib error " + std::to_string(code);
}

}  // namespace

std::string_view CompressionName(Compression compression) {
  switch (compression) {
    case Compression::kNone:
      return "none";
    case Compression::kGzip:
      return "gzip";
    case Compression::kZstd:
      return "zstd";
    case Compression::kBzip2:
      return "bzip2";
    case Compression::kXz:
      return "xz";
  }
  return "unknown";
}

Compression DetectCompression(std::string_view b) {
  using namespace std::string_view_literals;
  if (StartsWith(b, "\x1f\x8b\x08"sv)) return Compression::kGzip;
  if (StartsWith(b, "\x28\xb5\x2f\xfd"sv)) return Compression::kZstd;
  // zstd skippable frame: magic 0x184D2A50..0x184D2A5F, little endian.
  if (b.size() >= 4 && (static_cast<unsigned char>(b[0]) & 0xf0) == 0x50 && b[1] == '\x2a' &&
      b[2] == '\x4d' && b[3] == '\x18') {
    return Compression::kZstd;
  }
  if (StartsWith(b, "BZh"sv)) return Compression::kBzip2;
  if (StartsWith(b,
                 "\xfd"
                 "7zXZ\x00"sv))
    return Compression::kXz;
  return Compression::kNone;
}

// --- PeekReader -------------------------------------------------------------------------------

Result<std::string_view> PeekReader::Peek(size_t n) {
  if (offset_ > 0) {
    peeked_.erase(0, offset_);
    offset_ = 0;
  }
  while (peeked_.size() < n) {
    size_t have = peeked_.size();
    peeked_.resize(n);
    auto got = source_.Read(peeked_.data() + have, n - have);
    if (!got) {
      peeked_.resize(have);
      return tl::unexpected(got.error());
    }
    peeked_.resize(have + *got);
    if (*got == 0) break;
  }
  return std::string_view(peeked_).substr(0, std::min(n, peeked_.size()));
}

Result<size_t> PeekReader::Read(char* buffer, size_t size) {
  if (offset_ < peeked_.size()) {
    size_t n = std::min(size, peeked_.size() - offset_);
    std::memcpy(buffer, peeked_.data() + offset_, n);
    offset_ += n;
    if (offset_ == peeked_.size()) {
      peeked_.clear();
      offset_ = 0;
    }
    return n;
  }
  return source_.Read(buffer, size);
}

// --- GzipReader -------------------------------------------------------------------------------

// Inflate runs on ISA-L's igzip (several times zlib's speed on x86, same results); the gzip
// wrapper, CRC-32 and ISIZE are checked by it.
struct GzipReader::State {
  inflate_state inflate{};
  std::vector<char> input = std::vector<char>(kInputBufferSize);
  bool source_eof = false;
  bool member_done = false;  // the last call finished a member (trailer checked)
  bool started = false;      // at least one byte of input seen
  bool done = false;
  std::optional<Error> error;
};

namespace {

std::string IsalInflateMessage(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid distance too far back";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header";
    case ISAL_UNSUPPORTED_METHOD:
      return "unknown compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "invalid checksum (CRC-32 or size does not match)";
    default:
      return "inflate error " + std::to_string(rc);
  }
}

void StartMember(inflate_state& st) {
  isal_inflate_init(&st);
  st.crc_flag = ISAL_GZIP;  // gzip wrapper only: no raw deflate or zlib streams
}

}  // namespace

GzipReader::GzipReader(Reader& source) : source_(source), state_(new State) {
  StartMember(state_->inflate);
}

GzipReader::~GzipReader() = default;

Result<size_t> GzipReader::Read(char* buffer, size_t size) {
  State& s = *state_;
  if (s.error) return tl::unexpected(*s.error);
  if (s.done || size == 0) return 0;
  auto fail = [&](std::string message) -> Result<size_t> {
    s.error = Error{std::move(message)};
    return tl::unexpected(*s.error);
  };
  inflate_state& st = s.inflate;
  st.next_out = reinterpret_cast<uint8_t*>(buffer);
  st.avail_out = ClampToUInt(size);
  const uint32_t out_start = st.avail_out;
  for (;;) {
    if (st.avail_in == 0 && !s.source_eof) {
      auto got = source_.Read(s.input.data(), s.input.size());
      if (!got) {
        s.error = got.error();
        return tl::unexpected(got.error());
      }
      if (*got == 0) {
        s.source_eof = true;
      } else {
        s.started = true;
        st.next_in = reinterpret_cast<uint8_t*>(s.input.data());
        st.avail_in = static_cast<uint32_t>(*got);
      }
    }
    if (st.avail_in == 0 && s.source_eof) {
      size_t produced = out_start - st.avail_out;
      if (s.member_done) {
        s.done = true;
        return produced;
      }
      if (produced > 0) return produced;
      // Input is exhausted; a finished member may still be waiting for this call.
      int rc = isal_inflate(&st);
      if (rc < 0) return fail("gzip: " + IsalInflateMessage(rc));
      produced = out_start - st.avail_out;
      if (st.block_state == ISAL_BLOCK_FINISH) s.member_done = true;
      if (produced > 0) return produced;
      if (s.member_done) {
        s.done = true;
        return 0;
      }
      return fail(s.started ? "unexpected end of gzip stream" : "gzip stream is empty");
    }
    if (s.member_done) {
      // More input after a member: it must be another gzip member.
      if (st.next_in[0] != 0x1f || (st.avail_in > 1 && st.next_in[1] != 0x8b)) {
        return fail("gzip: invalid header (data after the end of the gzip stream)");
      }
      uint8_t* next_in = st.next_in;
      uint32_t avail_in = st.avail_in;
      uint8_t* next_out = st.next_out;
      uint32_t avail_out = st.avail_out;
      StartMember(st);
      st.next_in = next_in;
      st.avail_in = avail_in;
      st.next_out = next_out;
      st.avail_out = avail_out;
      s.member_done = false;
    }
    int rc = isal_inflate(&st);
    if (rc < 0) return fail("gzip: " + IsalInflateMessage(rc));
    if (st.block_state == ISAL_BLOCK_FINISH) s.member_done = true;
    size_t produced = out_start - st.avail_out;
    if (produced > 0) return produced;
  }
}

// --- ZstdReader -------------------------------------------------------------------------------

struct ZstdReader::State {
  ZSTD_DStream* stream = ZSTD_createDStream();
  std::vector<char> input = std::vector<char>(kInputBufferSize);
  ZSTD_inBuffer in{nullptr, 0, 0};
  bool source_eof = false;
  bool started = false;
  size_t last_hint = 0;  // ZSTD_decompressStream's last return: 0 when a frame is complete
  std::optional<Error> error;
  ~State() { ZSTD_freeDStream(stream); }
};

ZstdReader::ZstdReader(Reader& source) : source_(source), state_(new State) {
  if (state_->stream == nullptr)
    state_->error = Error{"zstd: cannot create decoder"};
  else
    ZSTD_initDStream(state_->stream);
}

ZstdReader::~ZstdReader() = default;

Result<size_t> ZstdReader::Read(char* buffer, size_t size) {
  State& s = *state_;
  if (s.error) return tl::unexpected(*s.error);
  if (size == 0) return 0;
  auto fail = [&](std::string message) -> Result<size_t> {
    s.error = Error{std::move(message)};
    return tl::unexpected(*s.error);
  };
  ZSTD_outBuffer out{buffer, size, 0};
  for (;;) {
    if (s.in.pos == s.in.size && !s.source_eof) {
      auto got = source_.Read(s.input.data(), s.input.size());
      if (!got) {
        s.error = got.error();
        return tl::unexpected(got.error());
      }
      if (*got == 0) {
        s.source_eof = true;
      } else {
        s.started = true;
        s.in = ZSTD_inBuffer{s.input.data(), *got, 0};
      }
    }
    // Called even with no new input: the decoder may still hold output from the last call.
    const size_t in_before = s.in.pos;
    size_t rc = ZSTD_decompressStream(s.stream, &out, &s.in);
    if (ZSTD_isError(rc)) return fail(std::string("zstd: ") + ZSTD_getErrorName(rc));
    // A call without progress (no input left) says what the *next* frame needs; only calls that
    // moved data tell whether the current frame is complete.
    if (s.in.pos != in_before || out.pos > 0) s.last_hint = rc;
    if (out.pos > 0) return out.pos;
    if (s.in.pos == s.in.size && s.source_eof) {
      if (!s.started) return fail("zstd stream is empty");
      if (s.last_hint != 0) return fail("unexpected end of zstd stream");
      return 0;
    }
  }
}

// --- GzipWriter -------------------------------------------------------------------------------

struct GzipWriter::State {
  z_stream zs{};
  gz_header header{};
  bool initialized = false;
  bool closed = false;
  std::vector<char> output = std::vector<char>(kOutputBufferSize);
  std::optional<Error> error;
};

GzipWriter::GzipWriter(Writer& sink, int level) : sink_(sink), state_(new State) {
  State& s = *state_;
  if (deflateInit2(&s.zs, level, Z_DEFLATED, 16 + MAX_WBITS, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    s.error = Error{"gzip: cannot initialise zlib at level " + std::to_string(level)};
    return;
  }
  s.initialized = true;
  s.header.time = 0;
  s.header.os = 255;  // Go writes "unknown"; zlib would write 3 (Unix)
  deflateSetHeader(&s.zs, &s.header);
}

GzipWriter::~GzipWriter() {
  if (state_->initialized) deflateEnd(&state_->zs);
}

Status GzipWriter::Deflate(int flush) {
  State& s = *state_;
  for (;;) {
    s.zs.next_out = reinterpret_cast<Bytef*>(s.output.data());
    s.zs.avail_out = static_cast<uInt>(s.output.size());
    int rc = deflate(&s.zs, flush);
    if (rc == Z_STREAM_ERROR) {
      s.error = Error{"gzip: " + ZlibMessage(s.zs, rc)};
      return tl::unexpected(*s.error);
    }
    size_t n = s.output.size() - s.zs.avail_out;
    if (n > 0) {
      auto written = sink_.Write(s.output.data(), n);
      if (!written) {
        s.error = written.error();
        return written;
      }
    }
    if (flush == Z_FINISH ? rc == Z_STREAM_END : (s.zs.avail_in == 0 && s.zs.avail_out != 0)) {
      return {};
    }
  }
}

Status GzipWriter::Write(const char* data, size_t size) {
  State& s = *state_;
  if (s.error) return tl::unexpected(*s.error);
  if (s.closed) return Fail("gzip: write after Close");
  while (size > 0) {
    uInt chunk = ClampToUInt(size);
    s.zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data));
    s.zs.avail_in = chunk;
    STRATA_TRY(Deflate(Z_NO_FLUSH));
    data += chunk;
    size -= chunk;
  }
  return {};
}

Status GzipWriter::Close() {
  State& s = *state_;
  if (s.error) return tl::unexpected(*s.error);
  if (s.closed) return {};
  s.zs.next_in = nullptr;
  s.zs.avail_in = 0;
  STRATA_TRY(Deflate(Z_FINISH));
  s.closed = true;
  return {};
}

// --- AutoDecompress ---------------------------------------------------------------------------

namespace {

class DecompressingReader : public Reader {
 public:
  explicit DecompressingReader(Reader& source) : peek_(source) {}
  Result<size_t> Read(char* buffer, size_t size) override { return decoder_->Read(buffer, size); }

  PeekReader peek_;
  std::unique_ptr<Reader> owned_decoder_;
  Reader* decoder_ = nullptr;
};

}  // namespace

Result<std::unique_ptr<Reader>> AutoDecompress(Reader& source, Compression* detected) {
  auto reader = std::make_unique<DecompressingReader>(source);
  STRATA_ASSIGN(head, reader->peek_.Peek(6));
  Compression compression = DetectCompression(head);
  if (detected != nullptr) *detected = compression;
  switch (compression) {
    case Compression::kNone:
      reader->decoder_ = &reader->peek_;
      break;
    case Compression::kGzip:
      reader->owned_decoder_ = std::make_unique<GzipReader>(reader->peek_);
      reader->decoder_ = reader->owned_decoder_.get();
      break;
    case Compression::kZstd:
      reader->owned_decoder_ = std::make_unique<ZstdReader>(reader->peek_);
      reader->decoder_ = reader->owned_decoder_.get();
      break;
    case Compression::kBzip2:
    case Compression::kXz:
      return Fail("unsupported compression " + std::string(CompressionName(compression)));
  }
  return std::unique_ptr<Reader>(std::move(reader));
}

}  // namespace strata
