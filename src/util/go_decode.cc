#include "util/go_decode.h"

#include <limits>

namespace strata::go_decode {
namespace {

bool EqualFoldAscii(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

tl::unexpected<Error> TypeError(const Json& value, std::string_view path, std::string_view want) {
  return Fail(std::string(path) + ": cannot unmarshal " + TypeName(value) + " into " +
              std::string(want));
}

}  // namespace

const char* TypeName(const Json& value) {
  switch (value.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "bool";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::number_integer:
    case Json::value_t::number_unsigned:
    case Json::value_t::number_float:
      return "number";
    default:
      return "value";
  }
}

int MatchField(std::span<const std::string_view> names, std::string_view key) {
  for (size_t i = 0; i < names.size(); ++i) {
    if (names[i] == key) return static_cast<int>(i);
  }
  for (size_t i = 0; i < names.size(); ++i) {
    if (EqualFoldAscii(names[i], key)) return static_cast<int>(i);
  }
  return -1;
}

std::string Join(std::string_view path, std::string_view field) {
  if (path.empty()) return std::string(field);
  return std::string(path) + "." + std::string(field);
}

Status String(const Json& value, std::string_view path, std::string* out) {
  if (value.is_null()) return {};
  if (!value.is_string()) return TypeError(value, path, "a string");
  *out = value.get<std::string>();
  return {};
}

Status Bool(const Json& value, std::string_view path, bool* out) {
  if (value.is_null()) return {};
  if (!value.is_boolean()) return TypeError(value, path, "a bool");
  *out = value.get<bool>();
  return {};
}

Status Int64(const Json& value, std::string_view path, int64_t* out) {
  if (value.is_null()) return {};
  if (value.is_number_unsigned()) {
    uint64_t u = value.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return Fail(std::string(path) + ": number " + std::to_string(u) + " overflows int64");
    }
    *out = static_cast<int64_t>(u);
    return {};
  }
  if (value.is_number_integer()) {
    *out = value.get<int64_t>();
    return {};
  }
  if (value.is_number_float()) {
    return Fail(std::string(path) + ": cannot unmarshal non-integer number " + value.dump() +
                " into an int64");
  }
  return TypeError(value, path, "an int64");
}

Status StringList(const Json& value, std::string_view path,
                  std::optional<std::vector<std::string>>* out) {
  if (value.is_null()) {
    out->reset();
    return {};
  }
  if (!value.is_array()) return TypeError(value, path, "an array of strings");
  std::vector<std::string> list;
  list.reserve(value.size());
  for (size_t i = 0; i < value.size(); ++i) {
    std::string element;
    STRATA_TRY(String(value[i], std::string(path) + "[" + std::to_string(i) + "]", &element));
    list.push_back(std::move(element));
  }
  *out = std::move(list);
  return {};
}

Status StrSlice(const Json& value, std::string_view path,
                std::optional<std::vector<std::string>>* out) {
  if (value.is_string()) {
    *out = std::vector<std::string>{value.get<std::string>()};
    return {};
  }
  return StringList(value, path, out);
}

Status StringMap(const Json& value, std::string_view path,
                 std::optional<std::map<std::string, std::string>>* out) {
  if (value.is_null()) {
    out->reset();
    return {};
  }
  if (!value.is_object()) return TypeError(value, path, "an object of strings");
  std::map<std::string, std::string> map;
  for (const auto& [key, element] : value.items()) {
    std::string text;
    STRATA_TRY(String(element, Join(path, key), &text));
    map[key] = std::move(text);
  }
  *out = std::move(map);
  return {};
}

Status StringSet(const Json& value, std::string_view path,
                 std::optional<std::set<std::string>>* out) {
  if (value.is_null()) {
    out->reset();
    return {};
  }
  if (!value.is_object()) return TypeError(value, path, "an object");
  std::set<std::string> set;
  for (const auto& [key, element] : value.items()) {
    if (!element.is_null() && !element.is_object()) {
      return TypeError(element, Join(path, key), "struct {}");
    }
    set.insert(key);
  }
  *out = std::move(set);
  return {};
}

Status Time(const Json& value, std::string_view path, GoTime* out) {
  if (value.is_null()) return {};
  if (!value.is_string()) return TypeError(value, path, "a time (RFC 3339 string)");
  auto parsed = ParseRfc3339Nano(value.get_ref<const std::string&>());
  if (!parsed) return Wrap(std::string(path), parsed.error());
  *out = *parsed;
  return {};
}

}  // namespace strata::go_decode
