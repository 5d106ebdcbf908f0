#include "util/go_time.h"

#include <time.h>

#include <algorithm>
#include <cstdio>

namespace strata {
namespace {

struct Civil {
  int64_t year;
  int month;  // 1..12
  int day;    // 1..31
  int hour, minute, second;
};

int64_t FloorDiv(int64_t a, int64_t b) { return a / b - ((a % b != 0) && ((a < 0) != (b < 0))); }

// Proleptic Gregorian calendar conversions (days relative to 1970-01-01).
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = FloorDiv(y, 400);
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

Civil CivilFromSeconds(int64_t seconds) {
  int64_t days = FloorDiv(seconds, 86400);
  int64_t rem = seconds - days * 86400;
  int64_t z = days + 719468;
  int64_t era = FloorDiv(z, 146097);
  int64_t doe = z - era * 146097;
  int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  int64_t mp = (5 * doy + 2) / 153;
  Civil c;
  c.day = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  c.month = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  c.year = yoe + era * 400 + (c.month <= 2);
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>(rem / 60 % 60);
  c.second = static_cast<int>(rem % 60);
  return c;
}

bool IsLeap(int64_t y) { return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0); }

int DaysIn(int month, int64_t year) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && IsLeap(year) ? 29 : kDays[month - 1];
}

std::string DateTime(const GoTime& t, char separator) {
  Civil c = CivilFromSeconds(t.unix_seconds + t.utc_offset);
  char buf[64];
  std::snprintf(buf, sizeof(buf), "%04lld-%02d-%02d%c%02d:%02d:%02d",
                static_cast<long long>(c.year), c.month, c.day, separator, c.hour, c.minute,
                c.second);
  return buf;
}

std::string Fraction(int32_t nanos) {
  if (nanos == 0) return "";
  char buf[16];
  std::snprintf(buf, sizeof(buf), ".%09d", nanos);
  std::string s(buf);
  while (s.back() == '0') s.pop_back();
  return s;
}

// "+hh:mm" / "+hhmm" for an offset in seconds (seconds of the offset are dropped, as Go does).
std::string NumericOffset(int32_t offset, bool colon) {
  int32_t minutes = offset / 60;
  char sign = '+';
  if (minutes < 0) {
    sign = '-';
    minutes = -minutes;
  }
  char buf[16];
  std::snprintf(buf, sizeof(buf), colon ? "%c%02d:%02d" : "%c%02d%02d", sign, minutes / 60,
                minutes % 60);
  return buf;
}

std::string Rfc3339Zone(int32_t offset) { return offset == 0 ? "Z" : NumericOffset(offset, true); }

bool Digits(std::string_view s, size_t pos, size_t n) {
  if (pos + n > s.size()) return false;
  for (size_t i = pos; i < pos + n; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return true;
}

int Number(std::string_view s, size_t pos, size_t n) {
  int v = 0;
  for (size_t i = pos; i < pos + n; ++i) v = v * 10 + (s[i] - '0');
  return v;
}

}  // namespace

std::string GoFormatTime(int64_t unix_seconds, int32_t nanos) {
  return FormatRfc3339Nano(GoTime{unix_seconds, nanos, 0});
}

std::string FormatRfc3339Nano(const GoTime& time) {
  return DateTime(time, 'T') + Fraction(time.nanos) + Rfc3339Zone(time.utc_offset);
}

std::string FormatRfc3339(const GoTime& time) {
  return DateTime(time, 'T') + Rfc3339Zone(time.utc_offset);
}

std::string FormatGoTimeString(const GoTime& time, std::string_view zone_name) {
  std::string numeric = NumericOffset(time.utc_offset, false);
  return DateTime(time, ' ') + Fraction(time.nanos) + " " + numeric + " " +
         (zone_name.empty() ? numeric : std::string(zone_name));
}

Result<GoTime> ParseRfc3339Nano(std::string_view text) {
  auto bad = [&](const std::string& why) {
    return Fail("invalid RFC 3339 time \"" + std::string(text) + "\": " + why);
  };
  // Layout 2006-01-02T15:04:05Z07:00; the hour may have one digit (Go's stdHour).
  if (!Digits(text, 0, 4) || text.size() < 5 || text[4] != '-' || !Digits(text, 5, 2) ||
      text.size() < 8 || text[7] != '-' || !Digits(text, 8, 2) || text.size() < 11 ||
      text[10] != 'T') {
    return bad("expected YYYY-MM-DDT");
  }
  int64_t year = Number(text, 0, 4);
  int month = Number(text, 5, 2);
  int day = Number(text, 8, 2);
  size_t pos = 11;
  size_t hour_digits = Digits(text, pos, 2) ? 2 : (Digits(text, pos, 1) ? 1 : 0);
  if (hour_digits == 0) return bad("expected hour");
  int hour = Number(text, pos, hour_digits);
  pos += hour_digits;
  if (pos >= text.size() || text[pos] != ':' || !Digits(text, pos + 1, 2)) {
    return bad("expected :MM");
  }
  int minute = Number(text, pos + 1, 2);
  pos += 3;
  if (pos >= text.size() || text[pos] != ':' || !Digits(text, pos + 1, 2)) {
    return bad("expected :SS");
  }
  int second = Number(text, pos + 1, 2);
  pos += 3;
  int32_t nanos = 0;
  if (pos + 1 < text.size() && (text[pos] == '.' || text[pos] == ',') && Digits(text, pos + 1, 1)) {
    size_t end = pos + 1;
    while (end < text.size() && text[end] >= '0' && text[end] <= '9') ++end;
    size_t used = std::min<size_t>(end - (pos + 1), 9);
    nanos = Number(text, pos + 1, used);
    for (size_t i = used; i < 9; ++i) nanos *= 10;
    pos = end;
  }
  int32_t offset = 0;
  if (pos < text.size() && text[pos] == 'Z') {
    ++pos;
  } else if (pos + 6 <= text.size() && (text[pos] == '+' || text[pos] == '-') &&
             Digits(text, pos + 1, 2) && text[pos + 3] == ':' && Digits(text, pos + 4, 2)) {
    int oh = Number(text, pos + 1, 2);
    int om = Number(text, pos + 4, 2);
    if (oh > 24 || om > 60) return bad("time zone offset out of range");
    offset = (oh * 3600 + om * 60) * (text[pos] == '-' ? -1 : 1);
    pos += 6;
  } else {
    return bad("expected Z or a ±hh:mm offset");
  }
  if (pos != text.size()) return bad("extra text after the time");
  if (month < 1 || month > 12) return bad("month out of range");
  if (day < 1 || day > DaysIn(month, year)) return bad("day out of range");
  if (hour > 23) return bad("hour out of range");
  if (minute > 59) return bad("minute out of range");
  if (second > 59) return bad("second out of range");
  int64_t local = DaysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second;
  return GoTime{local - offset, nanos, offset};
}

LocalZone LocalZoneAt(int64_t unix_seconds) {
  time_t t = static_cast<time_t>(unix_seconds);
  struct tm tm {};
  LocalZone zone;
  if (localtime_r(&t, &tm) != nullptr) {
    zone.utc_offset = static_cast<int32_t>(tm.tm_gmtoff);
    if (tm.tm_zone != nullptr) zone.name = tm.tm_zone;
  }
  return zone;
}

}  // namespace strata
