// Timestamps as Go's time.Time marshals them: RFC3339Nano with trailing zeros of the fraction
// trimmed, "Z" for a zero UTC offset, "+hh:mm" otherwise. Image configs store these strings and
// Docker re-marshals parsed times, so the offset a time was written with has to survive a round
// trip. Stateless; thread-safe (LocalUtcOffset reads the process time zone via localtime_r).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "util/result.h"

namespace strata {

// Unix seconds of Go's zero time.Time, 0001-01-01T00:00:00Z.
inline constexpr int64_t kGoZeroTimeUnix = -62135596800;

struct GoTime {
  int64_t unix_seconds = kGoZeroTimeUnix;
  int32_t nanos = 0;       // 0..999999999
  int32_t utc_offset = 0;  // seconds east of UTC of the zone the time is shown in

  bool IsZero() const { return unix_seconds == kGoZeroTimeUnix && nanos == 0; }
  bool operator==(const GoTime&) const = default;
};

// RFC3339Nano in UTC, e.g. GoFormatTime(1795558499, 842454980) = "2026-11-24T22:14:59.84245498Z";
// whole seconds get no fraction.
std::string GoFormatTime(int64_t unix_seconds, int32_t nanos);

// RFC3339Nano in the time's own offset ("1970-01-01T01:00:00+01:00").
std::string FormatRfc3339Nano(const GoTime& time);
// RFC3339 without fraction (Go's time.RFC3339 layout), in the time's own offset.
std::string FormatRfc3339(const GoTime& time);
// Go's Time.String() without monotonic part for a whole-second time:
// "2006-01-02 15:04:05 -0700 MST"; zone_name empty gives the numeric "-0700" form twice, as Go
// does for unnamed zones.
std::string FormatGoTimeString(const GoTime& time, std::string_view zone_name);

// Parses what Go's time.Time UnmarshalJSON accepts (Go 1.19): "YYYY-MM-DDTHH:MM:SS[.frac]Z" or
// with "±hh:mm", fraction of any length (digits past the ninth are ignored), '.' or ','.
// The error names the input.
Result<GoTime> ParseRfc3339Nano(std::string_view text);

// The process's local UTC offset (seconds east) and zone abbreviation at the given instant.
struct LocalZone {
  int32_t utc_offset = 0;
  std::string name;
};
LocalZone LocalZoneAt(int64_t unix_seconds);

}  // namespace strata
