#include "util/go_time.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

TEST(GoTime, FormatTrimsTrailingZeros) {
  EXPECT_EQ(GoFormatTime(1795558499, 842454980), "2026-11-24T22:14:59.84245498Z");
  EXPECT_EQ(GoFormatTime(1795558499, 0), "2026-11-24T22:14:59Z");
  EXPECT_EQ(GoFormatTime(1795558499, 100000000), "2026-11-24T22:14:59.1Z");
  EXPECT_EQ(GoFormatTime(1795558499, 1), "2026-11-24T22:14:59.000000001Z");
  EXPECT_EQ(GoFormatTime(0, 0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(GoFormatTime(951868799, 0), "2000-02-29T23:59:59Z");
  EXPECT_EQ(GoFormatTime(-3600, 5), "1969-12-31T23:00:00.000000005Z");
  EXPECT_EQ(GoFormatTime(253402300799, 999999999), "9999-12-31T23:59:59.999999999Z");
}

TEST(GoTime, ZeroTimeIsYearOne) {
  GoTime zero;
  EXPECT_TRUE(zero.IsZero());
  EXPECT_EQ(FormatRfc3339Nano(zero), "0001-01-01T00:00:00Z");
  EXPECT_EQ(zero.unix_seconds, -62135596800);
}

TEST(GoTime, FormatsInTheTimesOwnOffset) {
  // time.Unix(0,0) in Europe/Berlin.
  EXPECT_EQ(FormatRfc3339Nano(GoTime{0, 0, 3600}), "1970-01-01T01:00:00+01:00");
  EXPECT_EQ(FormatRfc3339Nano(GoTime{0, 0, -(5 * 3600 + 30 * 60)}), "1969-12-31T18:30:00-05:30");
  EXPECT_EQ(FormatRfc3339(GoTime{1795558499, 842454980, 0}), "2026-11-24T22:14:59Z");
  EXPECT_EQ(FormatGoTimeString(GoTime{1795558499, 0, 0}, "UTC"), "2026-11-24 22:14:59 +0000 UTC");
  EXPECT_EQ(FormatGoTimeString(GoTime{1795558499, 0, 3600}, "CET"),
            "2026-11-24 23:14:59 +0100 CET");
  EXPECT_EQ(FormatGoTimeString(GoTime{1795558499, 0, -7200}, ""),
            "2026-11-24 20:14:59 -0200 -0200");
}

TEST(GoTime, ParseRoundTrips) {
  auto t = ParseRfc3339Nano("2026-11-24T22:14:59.84245498Z");
  ASSERT_TRUE(t) << t.error().message;
  EXPECT_EQ(t->unix_seconds, 1795558499);
  EXPECT_EQ(t->nanos, 842454980);
  EXPECT_EQ(t->utc_offset, 0);
  EXPECT_EQ(FormatRfc3339Nano(*t), "2026-11-24T22:14:59.84245498Z");
}

TEST(GoTime, ParseOffsetsAndOddFractions) {
  auto t = ParseRfc3339Nano("2026-11-24T23:14:59+01:00");
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_seconds, 1795558499);
  EXPECT_EQ(t->utc_offset, 3600);
  EXPECT_EQ(FormatRfc3339Nano(*t), "2026-11-24T23:14:59+01:00");

  // Go normalises on re-marshal: trailing zeros go, "+00:00" becomes "Z".
  auto zeros = ParseRfc3339Nano("2020-01-01T00:00:00.000+00:00");
  ASSERT_TRUE(zeros);
  EXPECT_EQ(FormatRfc3339Nano(*zeros), "2020-01-01T00:00:00Z");

  // More than nine fraction digits: the rest is ignored. A comma is accepted too.
  auto long_fraction = ParseRfc3339Nano("2020-01-01T00:00:00.1234567899Z");
  ASSERT_TRUE(long_fraction);
  EXPECT_EQ(long_fraction->nanos, 123456789);
  auto comma = ParseRfc3339Nano("2020-01-01T00:00:00,5Z");
  ASSERT_TRUE(comma);
  EXPECT_EQ(comma->nanos, 500000000);

  auto negative = ParseRfc3339Nano("1970-01-01T00:00:00-05:30");
  ASSERT_TRUE(negative);
  EXPECT_EQ(negative->unix_seconds, 5 * 3600 + 30 * 60);
  EXPECT_EQ(negative->utc_offset, -(5 * 3600 + 30 * 60));
}

TEST(GoTime, ParseRejectsMalformedInput) {
  for (const char* bad :
       {"", "2020-01-01", "2020-01-01 00:00:00Z", "2020-13-01T00:00:00Z", "2021-02-29T00:00:00Z",
        "2020-01-01T24:00:00Z", "2020-01-01T00:60:00Z", "2020-01-01T00:00:00",
        "2020-01-01T00:00:00+0100", "2020-01-01T00:00:00Zjunk", "2020-01-01T00:00:00.Z"}) {
    auto t = ParseRfc3339Nano(bad);
    EXPECT_FALSE(t) << bad;
    if (!t) {
      EXPECT_NE(t.error().message.find(std::string("\"") + bad + "\""), std::string::npos)
          << t.error().message;
    }
  }
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
