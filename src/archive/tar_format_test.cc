#include "archive/tar_format.h"

#include <gtest/gtest.h>

#include <cstring>
#include <string>

namespace strata::tar {
namespace STRATA_UNITY_ID {

using namespace std::string_literals;

TEST(TarFormatTest, ParsesOctalFieldsWithSpacesAndNuls) {
  EXPECT_EQ(ParseNumeric("0000644\0"s), 0644);
  EXPECT_EQ(ParseNumeric("  644 \0"s), 0644);
  EXPECT_EQ(ParseNumeric("\0\0\0\0\0\0\0\0"s), 0);
  EXPECT_EQ(ParseNumeric("        "s), 0);
  EXPECT_EQ(ParseNumeric("77777777777\0"s), 8589934591);
  EXPECT_FALSE(ParseNumeric("0000698\0"s).has_value());
  EXPECT_FALSE(ParseNumeric("12a\0"s).has_value());
}

TEST(TarFormatTest, ParsesGnuBase256Numbers) {
  // 10 GiB in a 12-byte size field: marker byte 0x80, big-endian value.
  std::string field = "\x80\0\0\0\0\0\0\x02\x80\0\0\0"s;
  EXPECT_EQ(ParseNumeric(field), 10737418240);
  // -1 in an 8-byte field: all 0xff.
  EXPECT_EQ(ParseNumeric(std::string(8, '\xff')), -1);
  // Overflowing int64 is rejected.
  EXPECT_FALSE(ParseNumeric("\x80\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff"s).has_value());
}

TEST(TarFormatTest, Base256RoundTrip) {
  char field[12];
  ASSERT_TRUE(FormatBase256(field, sizeof field, 10737418240));
  EXPECT_EQ(std::string(field, 12), "\x80\0\0\0\0\0\0\x02\x80\0\0\0"s);
  EXPECT_EQ(ParseNumeric(std::string_view(field, 12)), 10737418240);
  char small[8];
  ASSERT_TRUE(FormatBase256(small, sizeof small, -5));
  EXPECT_EQ(ParseNumeric(std::string_view(small, 8)), -5);
  char tiny[2];
  EXPECT_FALSE(FormatBase256(tiny, sizeof tiny, 300));
}

TEST(TarFormatTest, FormatsOctalLikeGo) {
  char field[12];
  FormatOctal(field, sizeof field, 1982256);
  EXPECT_EQ(std::string(field, 12), "00007437460\0"s);
  EXPECT_TRUE(FitsOctal(12, 8589934591));
  EXPECT_FALSE(FitsOctal(12, 8589934592));
  EXPECT_FALSE(FitsOctal(8, 2097152));
  EXPECT_FALSE(FitsOctal(8, -1));
  char mode[8];
  FormatOctal(mode, sizeof mode, 2097152);  // does not fit: Go writes zero
  EXPECT_EQ(std::string(mode, 8), "0000000\0"s);
}

TEST(TarFormatTest, FormatStringDropsTrailingSlashOfTruncatedName) {
  char field[8];
  FormatString(field, sizeof field, "abcdef/xyz");  // truncated at "abcdef/x": no slash issue
  EXPECT_EQ(std::string(field, 8), "abcdef/x");
  FormatString(field, sizeof field, "abcdef//zz");  // "abcdef//" would end in '/'
  EXPECT_EQ(std::string(field, 7), "abcdef\0"s);
  FormatString(field, sizeof field, "ab");
  EXPECT_EQ(std::string(field, 3), "ab\0"s);
}

TEST(TarFormatTest, ChecksumTreatsItsFieldAsSpaces) {
  char block[kBlockSize] = {};
  EXPECT_EQ(ComputeChecksum(block).first, 8 * ' ');
  block[0] = '\xff';
  auto [unsigned_sum, signed_sum] = ComputeChecksum(block);
  EXPECT_EQ(unsigned_sum, 256 + 255);
  EXPECT_EQ(signed_sum, 256 - 1);
  SetChecksum(block);
  EXPECT_EQ(std::string(block + 148, 8), "000777\0 "s);
}

TEST(TarFormatTest, PaxRecordLengthIncludesItself) {
  EXPECT_EQ(FormatPaxRecord("path", "foo"), "12 path=foo\n");
  // " a=12345\n" is 9 bytes; with a 1-digit length 10, which needs 2 digits: 11.
  EXPECT_EQ(FormatPaxRecord("a", "12345"), "11 a=12345\n");
  EXPECT_EQ(FormatPaxRecord("a", "1234"), "9 a=1234\n");
  std::string v(94, 'x');  // 98 bytes after the length: 100 needs 3 digits, so 101
  std::string rec = FormatPaxRecord("k", v);
  EXPECT_EQ(rec.substr(0, 4), "101 ");
  EXPECT_EQ(rec.size(), 101u);
}

TEST(TarFormatTest, ParsesPaxRecords) {
  auto records = ParsePaxRecords("12 path=foo\n30 mtime=1350244992.023960108\n\0\0"s);
  ASSERT_TRUE(records) << records.error().message;
  ASSERT_EQ(records->size(), 2u);
  EXPECT_EQ((*records)[0].first, "path");
  EXPECT_EQ((*records)[0].second, "foo");
  EXPECT_EQ((*records)[1].second, "1350244992.023960108");
  // A value may contain '=' and newlines: the length decides.
  auto tricky = ParsePaxRecords("17 comment=a=b\nc\n");
  ASSERT_TRUE(tricky);
  EXPECT_EQ((*tricky)[0].second, "a=b\nc");
  EXPECT_FALSE(ParsePaxRecords("13 path=foo\n"));    // wrong length
  EXPECT_FALSE(ParsePaxRecords("11 pathfoo\n"));     // no '='
  EXPECT_FALSE(ParsePaxRecords("x path=foo\n"));     // bad length
  EXPECT_FALSE(ParsePaxRecords("12 path=f\0o\n"s));  // NUL in a path
}

TEST(TarFormatTest, PaxTimes) {
  auto t = ParsePaxTime("1350244992.023960108");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->seconds, 1350244992);
  EXPECT_EQ(t->nanos, 23960108u);
  EXPECT_EQ(ParsePaxTime("42")->seconds, 42);
  EXPECT_EQ(ParsePaxTime("1.5")->nanos, 500000000u);
  EXPECT_EQ(ParsePaxTime("1.1234567891")->nanos, 123456789u);  // truncated to ns
  auto neg = ParsePaxTime("-1.5");
  ASSERT_TRUE(neg);
  EXPECT_EQ(neg->seconds, -2);
  EXPECT_EQ(neg->nanos, 500000000u);
  EXPECT_FALSE(ParsePaxTime("1.5x"));
  EXPECT_FALSE(ParsePaxTime("abc"));
  EXPECT_EQ(FormatPaxTime({1350244992, 23960108}), "1350244992.023960108");
  EXPECT_EQ(FormatPaxTime({5, 500000000}), "5.5");
  EXPECT_EQ(FormatPaxTime({-2, 500000000}), "-1.5");
  EXPECT_EQ(FormatPaxTime({-7, 0}), "-7");
}

TEST(TarFormatTest, SplitsLongUstarNames) {
  std::string dir(120, 'd');
  std::string name = dir + "/file.txt";
  auto split = SplitUstarPath(name);
  ASSERT_TRUE(split);
  EXPECT_EQ(split->first, dir);
  EXPECT_EQ(split->second, "file.txt");
  EXPECT_FALSE(SplitUstarPath("short"));                       // fits as is
  EXPECT_FALSE(SplitUstarPath(std::string(101, 'x')));         // no slash
  EXPECT_FALSE(SplitUstarPath("a/" + std::string(101, 'x')));  // suffix too long
  EXPECT_FALSE(SplitUstarPath(dir + "/f\xc3\xa9"));            // not ASCII
}

TEST(TarFormatTest, AsciiHelpers) {
  EXPECT_TRUE(IsAscii("plain/name"));
  EXPECT_FALSE(IsAscii("caf\xc3\xa9"));
  EXPECT_EQ(ToAscii("caf\xc3\xa9/\xe6\x97\xa5x"), "caf/x");
}

TEST(TarFormatTest, DetectsFormatsByMagic) {
  char block[kBlockSize] = {};
  EXPECT_EQ(DetectFormat(block), Format::kV7);
  std::memcpy(block + 257,
              "ustar\0"
              "00",
              8);
  EXPECT_EQ(DetectFormat(block), Format::kUstar);
  std::memcpy(block + 257, "ustar  \0", 8);
  EXPECT_EQ(DetectFormat(block), Format::kGnu);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata::tar
