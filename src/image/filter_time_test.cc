#include "image/filter_time.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

constexpr int64_t kNow = 1700000000'700000000;  // 2023-11-14T22:13:20.7Z

int64_t Seconds(std::string_view value) {
  auto t = ParseFilterTime(value, kNow);
  EXPECT_TRUE(t) << value << ": " << t.error().message;
  return t ? t->unix_seconds : 0;
}

// Seconds of a local wall-clock time given as the same wall clock in UTC.
int64_t Local(int64_t utc_wall_clock) {
  return utc_wall_clock - LocalZoneAt(kNow / 1000000000).utc_offset;
}

TEST(FilterTime, DurationsCountBackFromNowInWholeSeconds) {
  EXPECT_EQ(Seconds("10m"), 1700000000 - 600);
  EXPECT_EQ(Seconds("1h30m"), 1700000000 - 5400);
  EXPECT_EQ(Seconds("-1h"), 1700000000 + 3600);  // in the future: everything is older
  EXPECT_EQ(Seconds("1.5s"), 1699999999);        // 1699999999.2, rounded down
  EXPECT_EQ(ParseFilterTime("10m", kNow)->nanos, 0);
}

TEST(FilterTime, UnixTimestamps) {
  EXPECT_EQ(Seconds("0"), 0);    // "0" is a timestamp, not a duration
  EXPECT_EQ(Seconds("10"), 10);  // no unit: not a duration
  auto t = ParseFilterTime("1700000000.5", kNow);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_seconds, 1700000000);
  EXPECT_EQ(t->nanos, 500000000);
}

TEST(FilterTime, TimestampsWithAZone) {
  EXPECT_EQ(Seconds("2023-11-14T22:13:20Z"), 1700000000);
  EXPECT_EQ(Seconds("2023-11-14T23:13:20+01:00"), 1700000000);
  auto t = ParseFilterTime("2023-11-14T22:13:20.25-01:00", kNow);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->unix_seconds, 1700000000 + 3600);
  EXPECT_EQ(t->nanos, 250000000);
  EXPECT_EQ(Seconds("2023-11-14T22:13Z"), 1700000000 - 20);
  EXPECT_EQ(Seconds("2023-11-14T22Z"), 1700000000 - 13 * 60 - 20);
  EXPECT_EQ(Seconds("2023-11-14Z"), 1699920000);
  EXPECT_EQ(Seconds("2023-11-14-01:00"), 1699920000 + 3600);  // three '-': a zone
}

TEST(FilterTime, TimestampsWithoutAZoneAreLocal) {
  EXPECT_EQ(Seconds("2023-11-14"), Local(1699920000));
  EXPECT_EQ(Seconds("2023-11-14T22"), Local(1699999200));
  EXPECT_EQ(Seconds("2023-11-14T9"), Local(1699952400));  // Go reads the hour as 1-2 digits
  EXPECT_EQ(Seconds("2023-11-14T22:13"), Local(1699999980));
  EXPECT_EQ(Seconds("2023-11-14T22:13:20"), Local(1700000000));
  EXPECT_EQ(Seconds("2023-11-14T22:13:20.123456789"), Local(1700000000));
  EXPECT_EQ(ParseFilterTime("2023-11-14T22:13:20.123456789", kNow)->nanos, 123456789);
}

TEST(FilterTime, BadValuesSayWhy) {
  auto junk = ParseFilterTime("yesterday", kNow);
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().message, "failed to parse value as time or duration: \"yesterday\"");
  auto month = ParseFilterTime("2023-13-01", kNow);
  ASSERT_FALSE(month);
  EXPECT_NE(month.error().message.find("month out of range"), std::string::npos);
  auto day = ParseFilterTime("2023-02-29", kNow);
  ASSERT_FALSE(day);
  EXPECT_NE(day.error().message.find("day out of range"), std::string::npos);
  EXPECT_FALSE(ParseFilterTime("", kNow));
  EXPECT_FALSE(ParseFilterTime("2023-11-14T22:13:20Zjunk", kNow));
  EXPECT_FALSE(ParseFilterTime("12.x", kNow));
}

TEST(GoDuration, ReadsGoSyntax) {
  EXPECT_EQ(*ParseGoDuration("1h2m3.5s"), (3723 * 1000 + 500) * int64_t{1000000});
  EXPECT_EQ(*ParseGoDuration("-1.5ms"), -1500000);
  EXPECT_EQ(*ParseGoDuration("0"), 0);
  EXPECT_EQ(ParseGoDuration("5").error().message, "time: missing unit in duration \"5\"");
  EXPECT_FALSE(ParseGoDuration("5d"));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
