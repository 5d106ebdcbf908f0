#include "image/docker_units.h"

#include <cstdio>

#include "util/go_time.h"

namespace strata {
namespace {

constexpr int64_t kSecond = 1000000000;
constexpr int64_t kMinute = 60 * kSecond;
constexpr int64_t kHour = 60 * kMinute;

// time.Duration's float accessors: whole units plus the remainder as a fraction.
double InUnits(int64_t ns, int64_t unit) {
  return static_cast<double>(ns / unit) +
         static_cast<double>(ns % unit) / static_cast<double>(unit);
}

std::string Plural(int64_t n, const char* unit) { return std::to_string(n) + " " + unit; }

}  // namespace

std::string HumanDuration(std::chrono::nanoseconds duration) {
  int64_t ns = duration.count();
  int64_t seconds = static_cast<int64_t>(InUnits(ns, kSecond));
  if (seconds < 1) return "Less than a second";
  if (seconds == 1) return "1 second";
  if (seconds < 60) return Plural(seconds, "seconds");
  int64_t minutes = static_cast<int64_t>(InUnits(ns, kMinute));
  if (minutes == 1) return "About a minute";
  if (minutes < 60) return Plural(minutes, "minutes");
  int64_t hours = static_cast<int64_t>(InUnits(ns, kHour) + 0.5);
  if (hours == 1) return "About an hour";
  if (hours < 48) return Plural(hours, "hours");
  if (hours < 24 * 7 * 2) return Plural(hours / 24, "days");
  if (hours < 24 * 30 * 2) return Plural(hours / 24 / 7, "weeks");
  if (hours < 24 * 365 * 2) return Plural(hours / 24 / 30, "months");
  return Plural(static_cast<int64_t>(InUnits(ns, kHour)) / 24 / 365, "years");
}

std::string HumanDuration(int64_t seconds) {
  return HumanDuration(std::chrono::nanoseconds(seconds * kSecond));
}

std::string CreatedSince(int64_t created_unix_seconds, std::chrono::system_clock::time_point now) {
  auto now_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(now.time_since_epoch());
  return HumanDuration(now_ns - std::chrono::seconds(created_unix_seconds)) + " ago";
}

std::string HumanSizeWithPrecision(double size, int precision) {
  static const char* kUnits[] = {"B", "kB", "MB", "GB", "TB", "PB", "EB", "ZB", "YB"};
  size_t unit = 0;
  while (size >= 1000.0 && unit + 1 < sizeof(kUnits) / sizeof(kUnits[0])) {
    size /= 1000.0;
    ++unit;
  }
  // C's %g and Go's fmt %g agree for finite values (same precision rule, same trailing-zero
  // removal, two-digit minimum exponent).
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%.*g%s", precision, size, kUnits[unit]);
  return buf;
}

std::string HumanSize(double size) { return HumanSizeWithPrecision(size, 4); }

std::string TruncateId(std::string_view id) {
  auto colon = id.find(':');
  if (colon != std::string_view::npos) id = id.substr(colon + 1);
  if (id.size() > 12) id = id.substr(0, 12);
  return std::string(id);
}

std::string FormatCreatedAt(int64_t unix_seconds) {
  return FormatCreatedAt(unix_seconds, LocalZoneAt(unix_seconds).utc_offset);
}

std::string FormatCreatedAt(int64_t unix_seconds, int32_t utc_offset) {
  return FormatRfc3339(GoTime{unix_seconds, 0, utc_offset});
}

std::string FormatImageCreatedAt(int64_t unix_seconds) {
  LocalZone zone = LocalZoneAt(unix_seconds);
  return FormatImageCreatedAt(unix_seconds, zone.utc_offset, zone.name);
}

std::string FormatImageCreatedAt(int64_t unix_seconds, int32_t utc_offset,
                                 std::string_view zone_name) {
  return FormatGoTimeString(GoTime{unix_seconds, 0, utc_offset}, zone_name);
}

}  // namespace strata
