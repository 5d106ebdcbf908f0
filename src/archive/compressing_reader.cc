#include "archive/compressing_reader.h"

#include <isa-l/igzip_lib.h>
#include <zstd.h>

#include <cstring>
#include <string>
#include <vector>

namespace strata {
namespace {

constexpr size_t kInputChunk = 256 << 10;

// Collects what an encoder emits until the reader hands it out.
class PendingOutput : public Writer {
 public:
  Status Write(const char* data, size_t size) override {
    out_.append(data, size);
    return {};
  }
  bool empty() const { return offset_ == out_.size(); }
  size_t Take(char* buffer, size_t size) {
    size_t n = std::min(size, out_.size() - offset_);
    std::memcpy(buffer, out_.data() + offset_, n);
    offset_ += n;
    if (offset_ == out_.size()) {
      out_.clear();
      offset_ = 0;
    }
    return n;
  }

 private:
  std::string out_;
  size_t offset_ = 0;
};

class GzipCompressingReader : public Reader {
 public:
  GzipCompressingReader(Reader& source, int level)
      : source_(source), gzip_(std::make_unique<GzipWriter>(pending_, level)) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    while (pending_.empty() && !finished_) {
      STRATA_ASSIGN(n, source_.Read(input_.data(), input_.size()));
      if (n == 0) {
        STRATA_TRY(gzip_->Close());
        finished_ = true;
      } else {
        STRATA_TRY(gzip_->Write(input_.data(), n));
      }
    }
    return pending_.Take(buffer, size);
  }

 private:
  Reader& source_;
  PendingOutput pending_;
  std::unique_ptr<GzipWriter> gzip_;
  std::string input_ = std::string(kInputChunk, '\0');
  bool finished_ = false;
};

// gzip through ISA-L's igzip (levels 1-3): many times zlib's speed at zlib -1..-4 ratios. The
// header is Go's (no name, MTIME 0, OS unknown); igzip writes the deflate data and the trailer.
class IsalGzipCompressingReader : public Reader {
 public:
  IsalGzipCompressingReader(Reader& source, int level) : source_(source) {
    isal_deflate_init(&zs_);
    zs_.level = static_cast<uint32_t>(level);
    static constexpr uint32_t kLevelBuf[] = {ISAL_DEF_LVL0_DEFAULT, ISAL_DEF_LVL1_DEFAULT,
                                             ISAL_DEF_LVL2_DEFAULT, ISAL_DEF_LVL3_DEFAULT};
    level_buf_.resize(kLevelBuf[level]);
    zs_.level_buf = level_buf_.data();
    zs_.level_buf_size = static_cast<uint32_t>(level_buf_.size());
    zs_.gzip_flag = IGZIP_GZIP_NO_HDR;
    static constexpr char kHeader[10] = {'\x1f', '\x8b', 8, 0, 0, 0, 0, 0, 0, '\xff'};
    (void)pending_.Write(kHeader, sizeof kHeader);
  }
  Result<size_t> Read(char* buffer, size_t size) override {
    while (pending_.empty() && !finished_) {
      STRATA_ASSIGN(n, source_.Read(input_.data(), input_.size()));
      zs_.next_in = reinterpret_cast<uint8_t*>(input_.data());
      zs_.avail_in = static_cast<uint32_t>(n);
      zs_.end_of_stream = n == 0 ? 1 : 0;
      for (;;) {
        zs_.next_out = reinterpret_cast<uint8_t*>(output_.data());
        zs_.avail_out = static_cast<uint32_t>(output_.size());
        int rc = isal_deflate(&zs_);
        if (rc != COMP_OK) return Fail("gzip: igzip deflate error " + std::to_string(rc));
        STRATA_TRY(pending_.Write(output_.data(), output_.size() - zs_.avail_out));
        if (n == 0 ? zs_.internal_state.state == ZSTATE_END : zs_.avail_in == 0) break;
      }
      if (n == 0) finished_ = true;
    }
    return pending_.Take(buffer, size);
  }

 private:
  Reader& source_;
  isal_zstream zs_{};
  std::vector<uint8_t> level_buf_;
  PendingOutput pending_;
  std::string input_ = std::string(kInputChunk, '\0');
  std::string output_ = std::string(kInputChunk + (64 << 10), '\0');
  bool finished_ = false;
};

class ZstdCompressingReader : public Reader {
 public:
  ZstdCompressingReader(Reader& source, ZSTD_CCtx* ctx) : source_(source), ctx_(ctx) {}
  ~ZstdCompressingReader() override { ZSTD_freeCCtx(ctx_); }
  Result<size_t> Read(char* buffer, size_t size) override {
    while (pending_.empty() && !finished_) {
      STRATA_ASSIGN(n, source_.Read(input_.data(), input_.size()));
      ZSTD_inBuffer in{input_.data(), n, 0};
      const ZSTD_EndDirective mode = n == 0 ? ZSTD_e_end : ZSTD_e_continue;
      for (;;) {
        ZSTD_outBuffer out{output_.data(), output_.size(), 0};
        size_t left = ZSTD_compressStream2(ctx_, &out, &in, mode);
        if (ZSTD_isError(left)) return Fail(std::string("zstd: ") + ZSTD_getErrorName(left));
        STRATA_TRY(pending_.Write(output_.data(), out.pos));
        if (mode == ZSTD_e_end ? left == 0 : in.pos == in.size) break;
      }
      if (n == 0) finished_ = true;
    }
    return pending_.Take(buffer, size);
  }

 private:
  Reader& source_;
  ZSTD_CCtx* ctx_;
  PendingOutput pending_;
  std::string input_ = std::string(kInputChunk, '\0');
  std::string output_ = std::string(ZSTD_CStreamOutSize(), '\0');
  bool finished_ = false;
};

}  // namespace

Result<std::unique_ptr<Reader>> NewCompressingReader(Reader& source, Compression compression,
                                                     int level) {
  switch (compression) {
    case Compression::kGzip:
      if (level < -1 || level > 9) return Fail("gzip level must be -1..9");
      if (level == -1) level = 1;
      if (level >= 1 && level <= 3) {
        return std::unique_ptr<Reader>(new IsalGzipCompressingReader(source, level));
      }
      return std::unique_ptr<Reader>(new GzipCompressingReader(source, level));
    case Compression::kZstd: {
      if (level < -1 || level > 19) return Fail("zstd level must be 0..19");
      ZSTD_CCtx* ctx = ZSTD_createCCtx();
      if (ctx == nullptr) return Fail("zstd: out of memory");
      if (level > 0) ZSTD_CCtx_setParameter(ctx, ZSTD_c_compressionLevel, level);
      return std::unique_ptr<Reader>(new ZstdCompressingReader(source, ctx));
    }
    default:
      return Fail("cannot compress with " + std::string(CompressionName(compression)));
  }
}

}  // namespace strata
