// Human-readable durations, sizes, IDs and timestamps exactly as the docker CLI prints them
// (docker/go-units, pkg/stringid, cli/command/formatter). Stateless; thread-safe.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>

namespace strata {

// go-units HumanDuration: "Less than a second", "1 second", "N seconds", "About a minute",
// "N minutes", "About an hour", "N hours" (rounded, < 48), "N days" (< 14 days), "N weeks"
// (< 60 days), "N months" (30-day months, < 2 years), "N years". Negative is "Less than a second".
std::string HumanDuration(std::chrono::nanoseconds duration);
std::string HumanDuration(int64_t seconds);

// "<HumanDuration(now - created)> ago", the CREATED column of docker images / docker history.
std::string CreatedSince(int64_t created_unix_seconds, std::chrono::system_clock::time_point now =
                                                           std::chrono::system_clock::now());

// go-units decimal sizes, fmt "%.*g" + unit: HumanSizeWithPrecision(1980000, 3) = "1.98MB";
// HumanSize uses precision 4 (docker images), history uses 3.
std::string HumanSizeWithPrecision(double size, int precision);
std::string HumanSize(double size);

// stringid.TruncateID: drops an "algo:" prefix and keeps at most 12 characters.
std::string TruncateId(std::string_view id);

// docker history -H=false CREATED: time.Unix(s,0).Format(time.RFC3339) in local time
// ("2026-11-24T22:14:59Z" under TZ=UTC, "2026-11-24T23:14:59+01:00" under CET).
std::string FormatCreatedAt(int64_t unix_seconds);
std::string FormatCreatedAt(int64_t unix_seconds, int32_t utc_offset);

// docker images {{.CreatedAt}}: time.Unix(s,0).String() in local time,
// "2026-11-24 22:14:59 +0000 UTC".
std::string FormatImageCreatedAt(int64_t unix_seconds);
std::string FormatImageCreatedAt(int64_t unix_seconds, int32_t utc_offset,
                                 std::string_view zone_name);

}  // namespace strata
