// Untrusted JSON: a bound on nesting depth, checked before any parser sees the bytes.
//
// nlohmann::json parses iteratively, but dump(), comparison and copies recurse once per level, so
// a 600 KB document nested 100,000 levels deep overflows the stack of whoever touches it (a
// registry server answering a manifest PUT crashed this way). Every document strata reads from
// outside (manifests, indexes, configs, token responses, archives, data roots, credentials) is
// parsed through ParseUntrustedJson, which refuses nesting deeper than kMaxJsonDepth. No real
// manifest or config nests deeper than about six levels. Stateless; thread-safe.
#pragma once

#include <cstddef>
#include <nlohmann/json.hpp>
#include <string_view>

namespace strata {

inline constexpr size_t kMaxJsonDepth = 256;

// The deepest nesting of objects and arrays in `bytes`, counting brackets outside strings; stops
// counting (and returns a value > limit) as soon as `limit` is exceeded. Malformed text is not
// diagnosed here: the parser does that.
size_t JsonNestingDepth(std::string_view bytes, size_t limit = kMaxJsonDepth);

// json::parse(bytes, nullptr, false), except that a document nested deeper than kMaxJsonDepth is
// returned as a discarded value without being parsed; `too_deep`, when given, says which.
template <class JsonT = nlohmann::json>
JsonT ParseUntrustedJson(std::string_view bytes, bool* too_deep = nullptr) {
  const bool deep = JsonNestingDepth(bytes) > kMaxJsonDepth;
  if (too_deep != nullptr) *too_deep = deep;
  if (deep) return JsonT(JsonT::value_t::discarded);
  return JsonT::parse(bytes, nullptr, /*allow_exceptions=*/false);
}

}  // namespace strata
