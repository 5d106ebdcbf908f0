// JSON serialisation byte-compatible with Go's encoding/json, because Docker's image IDs and
// legacy v1 IDs are SHA-256 digests of what Go's json.Marshal wrote. Stateless; thread-safe.
//
// Escaping follows Go <= 1.21 (the toolchains Docker 20.10 was built with): '<' '>' '&' become
// \u003c \u003e \u0026, U+2028/U+2029 become \u2028/\u2029, control characters other than \n \r
// \t become \u00XX (lowercase hex; Go 1.22 later switched \b and \f to short escapes), invalid
// UTF-8 bytes become \ufffd one per byte, other non-ASCII is written raw.
// Numbers: integers as integers; doubles like Go's float64 encoder (shortest round-trip digits,
// exponent form below 1e-6 or from 1e21, "e-07" shortened to "e-7"). NaN and infinities, which
// Go refuses to encode, are written as null.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>

namespace strata {

// json.Marshal of the value with object keys in the ordered_json's insertion order (what Go does
// for a struct whose fields were inserted in declaration order). No whitespace, no newline.
std::string GoMarshal(const nlohmann::ordered_json& value);

// json.Marshal of the value decoded as map[string]any: keys sorted bytewise at every level.
std::string GoMarshalSortedKeys(const nlohmann::ordered_json& value);

// json.Marshal of map[string]json.RawMessage: only the outermost object's keys are sorted,
// nested values keep their order. This is what Docker's Image.MarshalJSON and the v1 ID
// computation produce from a struct (decode to raw map, re-marshal).
std::string GoMarshalSortedTopLevel(const nlohmann::ordered_json& value);

// json.MarshalIndent(value, prefix, indent) with insertion order: every element on its own line
// starting with prefix + indent*depth, "key": value, empty containers as {} and [], no newline
// at the end. Docker distribution manifests use MarshalIndent(m, "", "   ").
std::string GoMarshalIndent(const nlohmann::ordered_json& value, std::string_view prefix,
                            std::string_view indent);

// Appends the Go-escaped, double-quoted form of a string.
void AppendGoQuoted(std::string& out, std::string_view text);
std::string GoQuote(std::string_view text);

// Go's float64 JSON encoding of a finite double (see above).
std::string GoFormatJsonFloat(double value);

}  // namespace strata
