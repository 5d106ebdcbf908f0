#include "util/go_json.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <vector>

namespace strata {
namespace {

using Json = nlohmann::ordered_json;

enum class KeyOrder { kInsertion, kSortedEverywhere, kSortedTopLevel };

// Length of the valid UTF-8 sequence starting at s[i] (Go's utf8.DecodeRuneInString rules:
// no overlongs, no surrogates, nothing above U+10FFFF), or 0 if the byte starts no valid one.
size_t ValidUtf8Length(std::string_view s, size_t i) {
  auto byte = [&](size_t k) -> unsigned { return static_cast<unsigned char>(s[k]); };
  unsigned b0 = byte(i);
  size_t left = s.size() - i;
  auto cont = [&](size_t k, unsigned lo = 0x80, unsigned hi = 0xBF) {
    return k < left && byte(i + k) >= lo && byte(i + k) <= hi;
  };
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) return cont(1) ? 2 : 0;
  if (b0 >= 0xE0 && b0 <= 0xEF) {
    unsigned lo = b0 == 0xE0 ? 0xA0 : 0x80;
    unsigned hi = b0 == 0xED ? 0x9F : 0xBF;
    return cont(1, lo, hi) && cont(2) ? 3 : 0;
  }
  if (b0 >= 0xF0 && b0 <= 0xF4) {
    unsigned lo = b0 == 0xF0 ? 0x90 : 0x80;
    unsigned hi = b0 == 0xF4 ? 0x8F : 0xBF;
    return cont(1, lo, hi) && cont(2) && cont(3) ? 4 : 0;
  }
  return 0;
}

void AppendNumber(std::string& out, const Json& value) {
  if (value.is_number_integer() && !value.is_number_unsigned()) {
    out += std::to_string(value.get<int64_t>());
  } else if (value.is_number_unsigned()) {
    out += std::to_string(value.get<uint64_t>());
  } else {
    double d = value.get<double>();
    if (!std::isfinite(d)) {
      out += "null";
    } else {
      out += GoFormatJsonFloat(d);
    }
  }
}

// Object members in the order the requested mode emits them.
std::vector<const Json::object_t::value_type*> Members(const Json& object, bool sorted) {
  std::vector<const Json::object_t::value_type*> members;
  const auto& obj = object.get_ref<const Json::object_t&>();
  members.reserve(obj.size());
  for (const auto& kv : obj) members.push_back(&kv);
  if (sorted) {
    // std::string's operator< compares bytes as unsigned char, which is Go's string order.
    std::stable_sort(members.begin(), members.end(),
                     [](const auto* a, const auto* b) { return a->first < b->first; });
  }
  return members;
}

void AppendCompact(std::string& out, const Json& value, KeyOrder order, bool top) {
  switch (value.type()) {
    case Json::value_t::null:
    case Json::value_t::discarded:
      out += "null";
      return;
    case Json::value_t::boolean:
      out += value.get<bool>() ? "true" : "false";
      return;
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      AppendNumber(out, value);
      return;
    case Json::value_t::string:
      AppendGoQuoted(out, value.get_ref<const std::string&>());
      return;
    case Json::value_t::binary: {
      // Not produced by parsing; Go would base64 a []byte. Keep it simple and explicit.
      out += "null";
      return;
    }
    case Json::value_t::array: {
      out += '[';
      bool first = true;
      for (const auto& element : value) {
        if (!first) out += ',';
        first = false;
        AppendCompact(out, element, order, false);
      }
      out += ']';
      return;
    }
    case Json::value_t::object: {
      bool sorted =
          order == KeyOrder::kSortedEverywhere || (order == KeyOrder::kSortedTopLevel && top);
      out += '{';
      bool first = true;
      for (const auto* member : Members(value, sorted)) {
        if (!first) out += ',';
        first = false;
        AppendGoQuoted(out, member->first);
        out += ':';
        AppendCompact(out, member->second, order, false);
      }
      out += '}';
      return;
    }
  }
}

void AppendNewline(std::string& out, std::string_view prefix, std::string_view indent, int depth) {
  out += '\n';
  out += prefix;
  for (int i = 0; i < depth; ++i) out += indent;
}

void AppendIndented(std::string& out, const Json& value, std::string_view prefix,
                    std::string_view indent, int depth) {
  if (value.is_array() && !value.empty()) {
    out += '[';
    bool first = true;
    for (const auto& element : value) {
      if (!first) out += ',';
      first = false;
      AppendNewline(out, prefix, indent, depth + 1);
      AppendIndented(out, element, prefix, indent, depth + 1);
    }
    AppendNewline(out, prefix, indent, depth);
    out += ']';
  } else if (value.is_object() && !value.empty()) {
    out += '{';
    bool first = true;
    for (const auto& [key, member] : value.items()) {
      if (!first) out += ',';
      first = false;
      AppendNewline(out, prefix, indent, depth + 1);
      AppendGoQuoted(out, key);
      out += ": ";
      AppendIndented(out, member, prefix, indent, depth + 1);
    }
    AppendNewline(out, prefix, indent, depth);
    out += '}';
  } else {
    AppendCompact(out, value, KeyOrder::kInsertion, false);
  }
}

}  // namespace

void AppendGoQuoted(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  size_t start = 0;  // first byte not yet copied
  size_t i = 0;
  while (i < s.size()) {
    unsigned char b = static_cast<unsigned char>(s[i]);
    if (b < 0x80) {
      bool safe = b >= 0x20 && b != '"' && b != '\\' && b != '<' && b != '>' && b != '&';
      if (safe) {
        ++i;
        continue;
      }
      out.append(s.data() + start, i - start);
      switch (b) {
        case '"':
          out += "\\\"";
          break;
        case '\\':
          out += "\\\\";
          break;
        case '\n':
          out += "\\n";
          break;
        case '\r':
          out += "\\r";
          break;
        case '\t':
          out += "\\t";
          break;
        default:
          out += "\\u00";
          out += kHex[b >> 4];
          out += kHex[b & 0xF];
      }
      ++i;
      start = i;
      continue;
    }
    size_t n = ValidUtf8Length(s, i);
    if (n == 0) {
      out.append(s.data() + start, i - start);
      out += "\\ufffd";
      ++i;
      start = i;
      continue;
    }
    // U+2028 = E2 80 A8, U+2029 = E2 80 A9.
    if (n == 3 && b == 0xE2 && static_cast<unsigned char>(s[i + 1]) == 0x80 &&
        (static_cast<unsigned char>(s[i + 2]) & 0xFE) == 0xA8) {
      out.append(s.data() + start, i - start);
      out += (static_cast<unsigned char>(s[i + 2]) == 0xA8) ? "\\u2028" : "\\u2029";
      i += 3;
      start = i;
      continue;
    }
    i += n;
  }
  out.append(s.data() + start, s.size() - start);
  out += '"';
}

std::string GoQuote(std::string_view text) {
  std::string out;
  AppendGoQuoted(out, text);
  return out;
}

std::string GoFormatJsonFloat(double value) {
  char buf[64];
  double abs = std::fabs(value);
  bool exponent = abs != 0 && (abs < 1e-6 || abs >= 1e21);
  auto result = std::to_chars(buf, buf + sizeof(buf), value,
                              exponent ? std::chars_format::scientific : std::chars_format::fixed);
  std::string out(buf, result.ptr);
  if (exponent) {
    // Go writes e-07 as e-7 (only the single-digit negative case is shortened).
    size_t n = out.size();
    if (n >= 4 && out[n - 4] == 'e' && out[n - 3] == '-' && out[n - 2] == '0') {
      out.erase(n - 2, 1);
    }
  }
  return out;
}

std::string GoMarshal(const nlohmann::ordered_json& value) {
  std::string out;
  AppendCompact(out, value, KeyOrder::kInsertion, true);
  return out;
}

std::string GoMarshalSortedKeys(const nlohmann::ordered_json& value) {
  std::string out;
  AppendCompact(out, value, KeyOrder::kSortedEverywhere, true);
  return out;
}

std::string GoMarshalSortedTopLevel(const nlohmann::ordered_json& value) {
  std::string out;
  AppendCompact(out, value, KeyOrder::kSortedTopLevel, true);
  return out;
}

std::string GoMarshalIndent(const nlohmann::ordered_json& value, std::string_view prefix,
                            std::string_view indent) {
  std::string out;
  AppendIndented(out, value, prefix, indent, 0);
  return out;
}

}  // namespace strata
