// Helpers that decode JSON into typed fields with Go encoding/json Unmarshal semantics, so a
// config strata parses re-marshals exactly as Docker's decoded struct would: keys match field
// names exactly or else ASCII case-insensitively, JSON null leaves scalars at their zero value and
// makes slices/maps/pointers nil, a wrong JSON type is an error. Used by the image config types.
#pragma once

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "util/go_time.h"
#include "util/result.h"

namespace strata::go_decode {

using Json = nlohmann::ordered_json;

// "string", "number", "bool", "array", "object", "null": the JSON type, for error messages.
const char* TypeName(const Json& value);

// Index of the Go struct field a JSON key decodes into, or -1: exact match first, then the
// first field whose name equals the key ignoring ASCII case.
int MatchField(std::span<const std::string_view> names, std::string_view key);

// Joins a field path for error messages ("config" + "Env" = "config.Env").
std::string Join(std::string_view path, std::string_view field);

Status String(const Json& value, std::string_view path, std::string* out);
Status Bool(const Json& value, std::string_view path, bool* out);
Status Int64(const Json& value, std::string_view path, int64_t* out);
// []string: null gives nullopt (nil), null elements give "".
Status StringList(const Json& value, std::string_view path,
                  std::optional<std::vector<std::string>>* out);
// Docker's strslice.StrSlice: like []string but a lone JSON string becomes a one-element list.
Status StrSlice(const Json& value, std::string_view path,
                std::optional<std::vector<std::string>>* out);
// map[string]string: null gives nullopt, null values give "".
Status StringMap(const Json& value, std::string_view path,
                 std::optional<std::map<std::string, std::string>>* out);
// map[string]struct{}: keys only; each value must be an object or null.
Status StringSet(const Json& value, std::string_view path,
                 std::optional<std::set<std::string>>* out);
// time.Time: a JSON string in RFC 3339 form; null leaves the time unchanged.
Status Time(const Json& value, std::string_view path, GoTime* out);

}  // namespace strata::go_decode
