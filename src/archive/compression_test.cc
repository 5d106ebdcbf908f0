#include "archive/compression.h"

#include <gtest/gtest.h>
#include <zstd.h>

#include <string>

#include "digest/digest.h"

namespace strata {
namespace STRATA_UNITY_ID {

using namespace std::string_literals;

std::string TestData(size_t size) {
  std::string data(size, '\0');
  uint32_t x = 12345;
  for (size_t i = 0; i < size; ++i) {
    x = x * 1103515245 + 12345;
    // Mostly compressible text with some noise.
    data[i] = (i % 64 < 48) ? static_cast<char>('a' + (i / 64) % 26) : static_cast<char>(x >> 24);
  }
  return data;
}

std::string Gzip(const std::string& data, int level = GzipWriter::kDefaultLevel) {
  StringWriter out;
  GzipWriter gz(out, level);
  EXPECT_TRUE(gz.Write(data.data(), data.size()));
  EXPECT_TRUE(gz.Close());
  return out.out;
}

std::string Zstd(const std::string& data) {
  std::string out(ZSTD_compressBound(data.size()), '\0');
  size_t n = ZSTD_compress(out.data(), out.size(), data.data(), data.size(), 3);
  EXPECT_FALSE(ZSTD_isError(n));
  out.resize(n);
  return out;
}

Result<std::string> ReadAll(Reader& r, size_t chunk = 1 << 16) {
  std::string out;
  std::string buf(chunk, '\0');
  for (;;) {
    STRATA_ASSIGN(n, r.Read(buf.data(), buf.size()));
    if (n == 0) return out;
    out.append(buf.data(), n);
  }
}

TEST(CompressionTest, DetectsMagicNumbers) {
  EXPECT_EQ(DetectCompression("\x1f\x8b\x08\x00"s), Compression::kGzip);
  EXPECT_EQ(DetectCompression("\x28\xb5\x2f\xfd\x00"s), Compression::kZstd);
  EXPECT_EQ(DetectCompression("\x50\x2a\x4d\x18"s), Compression::kZstd);  // skippable frame
  EXPECT_EQ(DetectCompression("BZh91AY"s), Compression::kBzip2);
  EXPECT_EQ(DetectCompression("\xfd"
                              "7zXZ\x00"s),
            Compression::kXz);
  EXPECT_EQ(DetectCompression("etc/\0\0\0"s), Compression::kNone);
  EXPECT_EQ(DetectCompression("\x1f"s), Compression::kNone);
  EXPECT_EQ(DetectCompression(""), Compression::kNone);
}

TEST(CompressionTest, GzipHeaderMatchesGo) {
  std::string gz = Gzip("hello");
  // ID1 ID2 CM FLG, MTIME 0, XFL 0 (default level), OS 255.
  EXPECT_EQ(gz.substr(0, 10), "\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\xff"s);
  // Trailer: CRC-32 and ISIZE, little endian. crc32("hello") = 0x3610a686.
  EXPECT_EQ(gz.substr(gz.size() - 8), "\x86\xa6\x10\x36\x05\x00\x00\x00"s);
  EXPECT_EQ(Gzip("hello", 9)[8], '\x02');  // XFL for best compression
  EXPECT_EQ(Gzip("hello", 1)[8], '\x04');  // XFL for fastest
}

TEST(CompressionTest, GzipRoundTrip) {
  const std::string data = TestData(700 * 1024 + 11);
  const std::string gz = Gzip(data);
  EXPECT_LT(gz.size(), data.size());
  EXPECT_EQ(Gzip(data), gz);  // deterministic
  for (size_t chunk : {size_t{1} << 20, size_t{1000}}) {
    StringReader in(gz);
    GzipReader reader(in);
    auto out = ReadAll(reader, chunk);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(*out, data);
  }
  // Empty input still makes a valid stream.
  StringReader in(Gzip(""));
  GzipReader reader(in);
  auto out = ReadAll(reader);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "");
}

TEST(CompressionTest, GzipReadsConcatenatedMembers) {
  StringReader in(Gzip("first ") + Gzip("second"));
  GzipReader reader(in);
  auto out = ReadAll(reader);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "first second");
}

TEST(CompressionTest, GzipErrors) {
  const std::string gz = Gzip(TestData(100000));
  StringReader truncated(gz.substr(0, gz.size() / 2));
  GzipReader r1(truncated);
  auto e1 = ReadAll(r1);
  ASSERT_FALSE(e1);
  EXPECT_EQ(e1.error().message, "unexpected end of gzip stream");

  std::string corrupt = gz;
  corrupt[gz.size() - 6] ^= 0x01;  // CRC-32 in the trailer
  StringReader in2(corrupt);
  GzipReader r2(in2);
  auto e2 = ReadAll(r2);
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().message, "gzip: invalid checksum (CRC-32 or size does not match)");

  StringReader in3(Gzip("x") + "garbage!");
  GzipReader r3(in3);
  auto e3 = ReadAll(r3);
  ASSERT_FALSE(e3);
  EXPECT_EQ(e3.error().message, "gzip: invalid header (data after the end of the gzip stream)");

  StringReader empty("");
  GzipReader r4(empty);
  auto e4 = ReadAll(r4);
  ASSERT_FALSE(e4);
  EXPECT_EQ(e4.error().message, "gzip stream is empty");
}

TEST(CompressionTest, ZstdRoundTripAndConcatenatedFrames) {
  const std::string data = TestData(700 * 1024 + 5);
  const std::string zst = Zstd(data);
  for (size_t chunk : {size_t{1} << 20, size_t{777}}) {
    StringReader in(zst);
    ZstdReader reader(in);
    auto out = ReadAll(reader, chunk);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(Digest::Sha256Of(*out), Digest::Sha256Of(data));
  }
  StringReader two(Zstd("one,") + Zstd("two"));
  ZstdReader reader(two);
  auto out = ReadAll(reader);
  ASSERT_TRUE(out);
  EXPECT_EQ(*out, "one,two");
}

TEST(CompressionTest, ZstdErrors) {
  const std::string zst = Zstd(TestData(300000));
  StringReader truncated(zst.substr(0, zst.size() - 10));
  ZstdReader r1(truncated);
  auto e1 = ReadAll(r1);
  ASSERT_FALSE(e1);
  EXPECT_EQ(e1.error().message, "unexpected end of zstd stream");

  StringReader garbage("\x28\xb5\x2f\xfdthis is not zstd at all"s);
  ZstdReader r2(garbage);
  auto e2 = ReadAll(r2);
  ASSERT_FALSE(e2);
  EXPECT_EQ(e2.error().message.rfind("zstd: ", 0), 0u) << e2.error().message;
}

TEST(CompressionTest, AutoDecompressPicksTheDecoder) {
  const std::string data = TestData(70000);
  struct Case {
    std::string bytes;
    Compression expected;
  };
  for (const Case& c : {Case{data, Compression::kNone}, Case{Gzip(data), Compression::kGzip},
                        Case{Zstd(data), Compression::kZstd}}) {
    StringReader in(c.bytes);
    Compression detected = Compression::kBzip2;
    auto reader = AutoDecompress(in, &detected);
    ASSERT_TRUE(reader) << reader.error().message;
    EXPECT_EQ(detected, c.expected);
    auto out = ReadAll(**reader, 1000);
    ASSERT_TRUE(out) << out.error().message;
    EXPECT_EQ(*out, data);
  }
  // Streams shorter than the magic pass through untouched.
  StringReader tiny("ab");
  auto reader = AutoDecompress(tiny);
  ASSERT_TRUE(reader);
  EXPECT_EQ(*ReadAll(**reader), "ab");

  StringReader bz("BZh91AY&SY"s);
  auto unsupported = AutoDecompress(bz);
  ASSERT_FALSE(unsupported);
  EXPECT_EQ(unsupported.error().message, "unsupported compression bzip2");
  StringReader xz(
      "\xfd"
      "7zXZ\x00\x00"s);
  auto unsupported_xz = AutoDecompress(xz);
  ASSERT_FALSE(unsupported_xz);
  EXPECT_EQ(unsupported_xz.error().message, "unsupported compression xz");
}

TEST(CompressionTest, PeekDoesNotConsume) {
  StringReader in("abcdef");
  PeekReader peek(in);
  EXPECT_EQ(*peek.Peek(3), "abc");
  EXPECT_EQ(*peek.Peek(10), "abcdef");
  char buf[4];
  ASSERT_EQ(*peek.Read(buf, 4), 4u);
  EXPECT_EQ(std::string(buf, 4), "abcd");
  EXPECT_EQ(*peek.Peek(5), "ef");
  EXPECT_EQ(*ReadAll(peek), "ef");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
