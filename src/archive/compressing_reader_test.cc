#include "archive/compressing_reader.h"

#include <gtest/gtest.h>

#include <random>

namespace strata {
namespace STRATA_UNITY_ID {

std::string Sample(size_t size) {
  std::mt19937 rng(7);
  std::string s(size, '\0');
  // Half random, half repetitive, so the compressor has work of both kinds.
  for (size_t i = 0; i < size; ++i) s[i] = i % 2048 < 1024 ? static_cast<char>(rng()) : 'a';
  return s;
}

std::string ReadAll(Reader& r, size_t step) {
  std::string out, buf(step, '\0');
  for (;;) {
    auto n = r.Read(buf.data(), buf.size());
    EXPECT_TRUE(n.has_value());
    if (!n || *n == 0) return out;
    out.append(buf.data(), *n);
  }
}

TEST(CompressingReaderTest, GzipRoundTripsAndStartsWithGoHeader) {
  const std::string input = Sample(3 << 20);
  StringReader source(input);
  auto gz = NewCompressingReader(source, Compression::kGzip);
  ASSERT_TRUE(gz.has_value());
  std::string compressed = ReadAll(**gz, 1000);
  ASSERT_GT(compressed.size(), 10u);
  EXPECT_LT(compressed.size(), input.size());
  EXPECT_EQ(DetectCompression(compressed.substr(0, 6)), Compression::kGzip);
  EXPECT_EQ(static_cast<unsigned char>(compressed[9]), 255);  // OS unknown, as Go writes
  StringReader back(compressed);
  auto plain = AutoDecompress(back);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(ReadAll(**plain, 1 << 16), input);
}

TEST(CompressingReaderTest, EveryGzipLevelRoundTrips) {
  const std::string input = Sample(700 << 10);
  for (int level = -1; level <= 9; ++level) {
    StringReader source(input);
    auto gz = NewCompressingReader(source, Compression::kGzip, level);
    ASSERT_TRUE(gz.has_value()) << level;
    std::string compressed = ReadAll(**gz, 3000);
    EXPECT_EQ(compressed.substr(0, 4), std::string("\x1f\x8b\x08\x00", 4)) << level;
    StringReader back(compressed);
    auto plain = AutoDecompress(back);
    ASSERT_TRUE(plain.has_value());
    EXPECT_EQ(ReadAll(**plain, 1 << 16), input) << "level " << level;
  }
}

TEST(CompressingReaderTest, ZstdRoundTrips) {
  const std::string input = Sample(1 << 20);
  StringReader source(input);
  auto zs = NewCompressingReader(source, Compression::kZstd, 3);
  ASSERT_TRUE(zs.has_value());
  std::string compressed = ReadAll(**zs, 4096);
  EXPECT_EQ(DetectCompression(compressed.substr(0, 6)), Compression::kZstd);
  StringReader back(compressed);
  auto plain = AutoDecompress(back);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(ReadAll(**plain, 1 << 16), input);
}

TEST(CompressingReaderTest, EmptyInputGivesAValidEmptyStream) {
  StringReader source("");
  auto gz = NewCompressingReader(source, Compression::kGzip);
  ASSERT_TRUE(gz.has_value());
  std::string compressed = ReadAll(**gz, 100);
  StringReader back(compressed);
  auto plain = AutoDecompress(back);
  ASSERT_TRUE(plain.has_value());
  EXPECT_EQ(ReadAll(**plain, 100), "");
}

TEST(CompressingReaderTest, RefusesUnsupportedCompressionAndLevels) {
  StringReader source("x");
  EXPECT_FALSE(NewCompressingReader(source, Compression::kXz).has_value());
  EXPECT_FALSE(NewCompressingReader(source, Compression::kGzip, 12).has_value());
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
