#include "image/filter_time.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace strata {
namespace {

constexpr int64_t kSecond = 1000000000;

bool IsDigit(char c) { return c >= '0' && c <= '9'; }

// The fields of one of GetTimestamp's layouts, read the way Go's time.Parse reads them.
struct TimeFields {
  int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0;
  int32_t nanos = 0;
  std::optional<int32_t> utc_offset;  // from the text; nullopt means the local zone
};

// Exactly `n` digits ("2006", "01", "04", "05").
bool TakeDigits(std::string_view& s, size_t n, int& out) {
  if (s.size() < n) return false;
  out = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[i])) return false;
    out = out * 10 + (s[i] - '0');
  }
  s.remove_prefix(n);
  return true;
}

bool TakeChar(std::string_view& s, char c) {
  if (s.empty() || s[0] != c) return false;
  s.remove_prefix(1);
  return true;
}

// ".123" after the seconds: up to nine digits count, more are ignored (Go's parseNanoseconds).
bool TakeFraction(std::string_view& s, int32_t& nanos) {
  if (s.size() < 2 || (s[0] != '.' && s[0] != ',') || !IsDigit(s[1])) return true;
  size_t end = 1;
  while (end < s.size() && IsDigit(s[end])) ++end;
  int64_t value = 0;
  for (size_t i = 1; i < 10; ++i) value = value * 10 + (i < end ? s[i] - '0' : 0);
  nanos = static_cast<int32_t>(value);
  s.remove_prefix(end);
  return true;
}

// "Z07:00": "Z" or ±hh:mm.
bool TakeZone(std::string_view& s, std::optional<int32_t>& offset) {
  if (TakeChar(s, 'Z')) {
    offset = 0;
    return true;
  }
  if (s.empty() || (s[0] != '+' && s[0] != '-')) return false;
  const int sign = s[0] == '-' ? -1 : 1;
  s.remove_prefix(1);
  int hh = 0, mm = 0;
  if (!TakeDigits(s, 2, hh) || !TakeChar(s, ':') || !TakeDigits(s, 2, mm)) return false;
  offset = sign * (hh * 3600 + mm * 60);
  return true;
}

int DaysIn(int month, int year) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  const bool leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
  return month == 2 && leap ? 29 : kDays[month - 1];
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const int64_t yoe = y - era * 400;
  const int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

// One layout of GetTimestamp: a date, then `clock_parts` of "T15:04:05" (0 to 3), a fraction
// when `fraction`, and a zone when `zone`.
Result<TimeFields> ParseLayout(std::string_view value, int clock_parts, bool fraction, bool zone) {
  auto bad = [&](const char* why) {
    return Fail(ErrorCode::kInvalidArgument, "parsing time \"" + std::string(value) + "\": " + why);
  };
  std::string_view s = value;
  TimeFields f;
  if (!TakeDigits(s, 4, f.year) || !TakeChar(s, '-') || !TakeDigits(s, 2, f.month) ||
      !TakeChar(s, '-') || !TakeDigits(s, 2, f.day)) {
    return bad("not a date of the form 2006-01-02");
  }
  if (clock_parts > 0) {
    // Go reads the hour ("15") as one or two digits, minutes and seconds as exactly two.
    if (!TakeChar(s, 'T') || s.empty() || !IsDigit(s[0])) return bad("expected T15 after the date");
    f.hour = s[0] - '0';
    s.remove_prefix(1);
    if (!s.empty() && IsDigit(s[0])) {
      f.hour = f.hour * 10 + (s[0] - '0');
      s.remove_prefix(1);
    }
    if (clock_parts > 1 && (!TakeChar(s, ':') || !TakeDigits(s, 2, f.minute))) {
      return bad("expected :04 minutes");
    }
    if (clock_parts > 2 && (!TakeChar(s, ':') || !TakeDigits(s, 2, f.second))) {
      return bad("expected :05 seconds");
    }
    if (clock_parts > 2 || fraction) TakeFraction(s, f.nanos);
  }
  if (zone && !TakeZone(s, f.utc_offset)) return bad("expected a zone (Z or +07:00)");
  if (!s.empty()) return bad(("extra text \"" + std::string(s) + "\"").c_str());
  if (f.month < 1 || f.month > 12) return bad("month out of range");
  if (f.day < 1 || f.day > DaysIn(f.month, f.year)) return bad("day out of range");
  if (f.hour > 23) return bad("hour out of range");
  if (f.minute > 59) return bad("minute out of range");
  if (f.second > 59) return bad("second out of range");
  return f;
}

// The layout GetTimestamp picks for `value` (see api/types/time/timestamp.go).
Result<TimeFields> ParseTimestampText(std::string_view value) {
  const bool local = value.find_first_of("zZ+") == std::string_view::npos &&
                     std::count(value.begin(), value.end(), '-') != 3;
  if (value.find('.') != std::string_view::npos) return ParseLayout(value, 3, true, !local);
  if (value.find('T') != std::string_view::npos) {
    int colons = static_cast<int>(std::count(value.begin(), value.end(), ':'));
    // A "+07:00" / "-07:00" zone brings a colon of its own.
    if (!local && value.find_first_of("zZ") == std::string_view::npos && colons > 0) --colons;
    return ParseLayout(value, std::min(colons, 2) + 1, false, !local);
  }
  return ParseLayout(value, 0, false, !local);
}

// "1700000000" or "1700000000.5": Unix seconds and a fraction (docker's parseTimestamp).
Result<GoTime> ParseUnixTimestamp(std::string_view value) {
  auto bad = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                "failed to parse value as time or duration: \"" + std::string(value) + "\"");
  };
  const size_t dot = value.find('.');
  std::string_view secs = value.substr(0, dot);
  if (!secs.empty() && secs[0] == '+') secs.remove_prefix(1);
  if (secs.empty() || secs.size() > 18 || !std::all_of(secs.begin(), secs.end(), IsDigit)) {
    return bad();
  }
  GoTime t{std::stoll(std::string(secs)), 0, 0};
  if (dot == std::string_view::npos) return t;
  std::string_view frac = value.substr(dot + 1);
  if (frac.empty() || frac.size() > 18 || !std::all_of(frac.begin(), frac.end(), IsDigit)) {
    return bad();
  }
  double n = static_cast<double>(std::stoll(std::string(frac)));
  t.nanos = static_cast<int32_t>(n * std::pow(10.0, 9 - static_cast<int>(frac.size())));
  return t;
}

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - (a % b != 0 && (a < 0) != (b < 0)); }

}  // namespace

Result<int64_t> ParseGoDuration(std::string_view text) {
  auto invalid = [&] {
    return Fail(ErrorCode::kInvalidArgument,
                "time: invalid duration \"" + std::string(text) + "\"");
  };
  std::string_view s = text;
  bool negative = false;
  if (!s.empty() && (s[0] == '-' || s[0] == '+')) {
    negative = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s == "0") return int64_t{0};
  if (s.empty()) return invalid();
  static const std::vector<std::pair<std::string_view, int64_t>> kUnits = {
      {"ns", 1},       {"us", 1000},   {"\xC2\xB5s", 1000}, {"\xCE\xBCs", 1000},
      {"ms", 1000000}, {"s", kSecond}, {"m", 60 * kSecond}, {"h", 3600 * kSecond}};
  double total = 0;
  while (!s.empty()) {
    size_t i = 0;
    double value = 0;
    bool digits = false;
    while (i < s.size() && IsDigit(s[i])) {
      value = value * 10 + (s[i] - '0');
      ++i;
      digits = true;
    }
    if (i < s.size() && s[i] == '.') {
      ++i;
      double scale = 0.1;
      while (i < s.size() && IsDigit(s[i])) {
        value += (s[i] - '0') * scale;
        scale /= 10;
        ++i;
        digits = true;
      }
    }
    if (!digits) return invalid();
    size_t u = i;
    while (u < s.size() && s[u] != '.' && !IsDigit(s[u])) ++u;
    std::string_view unit = s.substr(i, u - i);
    if (unit.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "time: missing unit in duration \"" + std::string(text) + "\"");
    }
    auto it = std::find_if(kUnits.begin(), kUnits.end(),
                           [&](const auto& entry) { return entry.first == unit; });
    if (it == kUnits.end()) {
      return Fail(ErrorCode::kInvalidArgument, "time: unknown unit \"" + std::string(unit) +
                                                   "\" in duration \"" + std::string(text) + "\"");
    }
    total += value * static_cast<double>(it->second);
    s.remove_prefix(u);
  }
  if (total > static_cast<double>(std::numeric_limits<int64_t>::max())) return invalid();
  int64_t ns = static_cast<int64_t>(std::llround(total));
  return negative ? -ns : ns;
}

Result<GoTime> ParseFilterTime(std::string_view value, int64_t now_unix_nanos) {
  if (value != "0") {
    if (auto d = ParseGoDuration(value)) {
      // docker formats reference.Add(-d).Unix(): whole seconds, rounded down.
      return GoTime{FloorDiv(now_unix_nanos - *d, kSecond), 0, 0};
    }
  }
  auto fields = ParseTimestampText(value);
  if (!fields) {
    // Something with a '-' was meant as a date: its parse error says what is wrong with it.
    if (value.find('-') != std::string_view::npos) return tl::unexpected(fields.error());
    return ParseUnixTimestamp(value);
  }
  const int32_t offset =
      fields->utc_offset.value_or(LocalZoneAt(FloorDiv(now_unix_nanos, kSecond)).utc_offset);
  const int64_t local_seconds = DaysFromCivil(fields->year, fields->month, fields->day) * 86400 +
                                fields->hour * 3600 + fields->minute * 60 + fields->second;
  return GoTime{local_seconds - offset, fields->nanos, offset};
}

}  // namespace strata
