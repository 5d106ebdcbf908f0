#include "image/docker_units.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

using std::chrono::hours;
using std::chrono::milliseconds;
using std::chrono::minutes;
using std::chrono::seconds;

TEST(DockerUnits, HumanDurationThresholds) {
  // The go-units test table.
  const auto day = hours(24);
  const auto week = 7 * day;
  const auto month = 30 * day;
  const auto year = 365 * day;
  EXPECT_EQ(HumanDuration(milliseconds(450)), "Less than a second");
  EXPECT_EQ(HumanDuration(seconds(-5)), "Less than a second");
  EXPECT_EQ(HumanDuration(int64_t{1}), "1 second");
  EXPECT_EQ(HumanDuration(int64_t{45}), "45 seconds");
  EXPECT_EQ(HumanDuration(int64_t{59}), "59 seconds");
  EXPECT_EQ(HumanDuration(int64_t{60}), "About a minute");
  EXPECT_EQ(HumanDuration(seconds(119)), "About a minute");
  EXPECT_EQ(HumanDuration(minutes(3)), "3 minutes");
  EXPECT_EQ(HumanDuration(minutes(35) + seconds(40)), "35 minutes");
  EXPECT_EQ(HumanDuration(minutes(59)), "59 minutes");
  EXPECT_EQ(HumanDuration(hours(1)), "About an hour");
  EXPECT_EQ(HumanDuration(hours(1) + minutes(29)), "About an hour");
  EXPECT_EQ(HumanDuration(hours(1) + minutes(31)), "2 hours");
  EXPECT_EQ(HumanDuration(hours(3) + minutes(29)), "3 hours");
  EXPECT_EQ(HumanDuration(hours(3) + minutes(31)), "4 hours");
  EXPECT_EQ(HumanDuration(day), "24 hours");
  EXPECT_EQ(HumanDuration(day + hours(12)), "36 hours");
  EXPECT_EQ(HumanDuration(hours(47) + minutes(29)), "47 hours");
  EXPECT_EQ(HumanDuration(2 * day), "2 days");
  EXPECT_EQ(HumanDuration(13 * day + hours(5)), "13 days");
  EXPECT_EQ(HumanDuration(2 * week), "2 weeks");
  EXPECT_EQ(HumanDuration(4 * week + 3 * day), "4 weeks");
  EXPECT_EQ(HumanDuration(month), "4 weeks");
  EXPECT_EQ(HumanDuration(month + 2 * week), "6 weeks");
  EXPECT_EQ(HumanDuration(2 * month), "2 months");
  EXPECT_EQ(HumanDuration(5 * month + 2 * week), "5 months");
  EXPECT_EQ(HumanDuration(24 * month), "24 months");
  EXPECT_EQ(HumanDuration(24 * month + 2 * week), "2 years");
  EXPECT_EQ(HumanDuration(3 * year + 2 * month), "3 years");
}

TEST(DockerUnits, CreatedSince) {
  auto now = std::chrono::system_clock::time_point(seconds(1795558499) + milliseconds(300));
  EXPECT_EQ(CreatedSince(1795558499 - 3, now), "3 seconds ago");
  EXPECT_EQ(CreatedSince(1795558499, now), "Less than a second ago");
  EXPECT_EQ(CreatedSince(1795558499 - 2 * 3600, now), "2 hours ago");
}

TEST(DockerUnits, HumanSizes) {
  EXPECT_EQ(HumanSizeWithPrecision(0, 3), "0B");
  EXPECT_EQ(HumanSizeWithPrecision(6, 3), "6B");
  EXPECT_EQ(HumanSizeWithPrecision(12, 3), "12B");
  EXPECT_EQ(HumanSizeWithPrecision(999, 3), "999B");
  EXPECT_EQ(HumanSizeWithPrecision(1000, 3), "1kB");
  EXPECT_EQ(HumanSizeWithPrecision(300000, 3), "300kB");
  EXPECT_EQ(HumanSizeWithPrecision(1983488, 3), "1.98MB");
  EXPECT_EQ(HumanSizeWithPrecision(1234567890, 3), "1.23GB");
  EXPECT_EQ(HumanSizeWithPrecision(999999, 3), "1e+03kB");  // %g switches to exponent form
  EXPECT_EQ(HumanSize(1983488), "1.983MB");
  EXPECT_EQ(HumanSize(5.6e6), "5.6MB");
  EXPECT_EQ(HumanSize(1e30), "1e+06YB");
}

TEST(DockerUnits, TruncateId) {
  EXPECT_EQ(TruncateId("sha256:f7f4c02ac9be3f0ec8a4d0c8b2e5e1c4d3b2a1f0e9d8c7b6a5f4e3d2c1b0a9f8"),
            "f7f4c02ac9be");
  EXPECT_EQ(TruncateId("f7f4c02ac9be3f0ec8a4"), "f7f4c02ac9be");
  EXPECT_EQ(TruncateId("abc"), "abc");
  EXPECT_EQ(TruncateId("<missing>"), "<missing>");
}

TEST(DockerUnits, CreatedAtFormats) {
  EXPECT_EQ(FormatCreatedAt(1795558499, 0), "2026-11-24T22:14:59Z");
  EXPECT_EQ(FormatCreatedAt(1795558499, 3600), "2026-11-24T23:14:59+01:00");
  EXPECT_EQ(FormatImageCreatedAt(1795558499, 0, "UTC"), "2026-11-24 22:14:59 +0000 UTC");
  EXPECT_EQ(FormatImageCreatedAt(1795558499, -18000, "EST"), "2026-11-24 17:14:59 -0500 EST");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
