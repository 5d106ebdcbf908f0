// Time values of docker's `--filter until=…` (and `since=`), as the daemon reads them
// (api/types/time GetTimestamp + ParseTimestamps): a Go duration counts back from now
// ("10m", "1h30m"; whole seconds, as docker truncates), else an RFC 3339-like timestamp
// ("2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05.999Z", "…+01:00"; without a zone it
// is in the local zone), else Unix seconds with an optional fraction ("1700000000.5").
// Stateless; thread-safe.
#pragma once

#include <cstdint>
#include <string_view>

#include "util/go_time.h"
#include "util/result.h"

namespace strata {

// Go's time.ParseDuration: nanoseconds. Errors read as Go's ("time: invalid duration \"x\"").
Result<int64_t> ParseGoDuration(std::string_view text);

// The instant `value` names, relative to `now_unix_nanos` for durations. The error for a value
// that is none of the forms is docker's: `failed to parse value as time or duration: "x"`.
Result<GoTime> ParseFilterTime(std::string_view value, int64_t now_unix_nanos);

}  // namespace strata
