// The subset of Go's text/template that docker's --format and inspect -f users write, executed on
// JSON values (what a Go template would see through encoding/json: objects are maps, arrays are
// slices). Parse once, execute many times; a parsed template is immutable and thread-safe.
//
// Supported: text and {{actions}}, {{- / -}} trim markers, {{/* comments */}}; arguments `.`,
// `.A.B`, `$`, `$x.A`, `(pipeline).A`, strings ("..." and `...`), numbers, true/false/nil;
// pipelines `a | f b`; variables `$x := ...` / `$x = ...`; {{if}}/{{else if}}/{{else}}/{{end}},
// {{range}} (with `$i, $e :=`), {{with}}; Go's functions and, or, not, len, index, print, printf,
// println, eq, ne, lt, le, gt, ge, slice; docker's json, join, split, title, lower, upper, pad,
// truncate. Not supported (parse error): define, template, block, break, continue, call, html, js,
// urlquery.
//
// Errors read like Go's: "template: :1: unclosed action" (parse),
// `template: :1:10: executing "" at <.Foo>: can't evaluate field Foo in type ...` (execute).
#pragma once

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>

#include "util/result.h"

namespace strata {

struct GoTemplateOptions {
  // The root value is a Go struct of this type (e.g. "*formatter.imageContext"): an unknown field
  // of the root fails with "can't evaluate field X in type <root_type>". Empty: the root is a map.
  std::string root_type;
  // A map key that is missing: error `map has no entry for key "X"` (Go's missingkey=error, what
  // docker inspect -f uses) or the invalid value, printed "<no value>" (Go's default).
  bool missing_key_error = false;
  // docker's formatter contexts marshal themselves with json.Marshal, so {{json .}} of the root
  // escapes < > & (\u003c ...) while {{json .Field}} does not (docker's json func disables it).
  bool json_escape_html_root = false;
  // docker's table header pass (templates.HeaderFunctions): json prints nothing; split, join,
  // title, lower, upper and truncate return their first argument unchanged.
  bool header_functions = false;
  // Go's zero value text of a typed field (docker inspect -f sees typed structs first, where a
  // nil map prints "map[]" and an omitted omitempty field still exists). When set and it
  // returns text for a field that is null or missing, the field is a null printing that text
  // (index results ask for field ""); otherwise null prints "<no value>" as in Go.
  std::function<std::optional<std::string>(std::string_view field)> typed_zero;
  // Print an empty object inside an object as "{}" (a Go struct{} value, as in Volumes and
  // ExposedPorts of docker's typed inspect) rather than "map[]".
  bool empty_member_object_as_struct = false;
};

class GoTemplate {
 public:
  struct Node;

  // Parses `text`; the error is Go's parse error text ("template: :LINE: ...").
  static Result<GoTemplate> Parse(std::string_view text);

  // Executes against `data`; on error nothing of the partial output is returned.
  Result<std::string> Execute(const nlohmann::ordered_json& data,
                              const GoTemplateOptions& options = {}) const;

  // Like Execute, but returns what was written before an error too (docker's header pass
  // ignores errors and keeps the partial output).
  std::string ExecutePartial(const nlohmann::ordered_json& data,
                             const GoTemplateOptions& options) const;

 private:
  explicit GoTemplate(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
  std::shared_ptr<const Node> root_;
};

// Go's path.Match: `*` (any run of non-'/' bytes), `?`, `[...]`/`[^...]` classes with ranges,
// `\` escapes. A malformed pattern is an error ("syntax error in pattern").
Result<bool> GoPathMatch(std::string_view pattern, std::string_view name);

// fmt.Sprint of a JSON value as Go prints the decoded interface{}: strings raw, arrays
// "[a b]", objects "map[k:v]" with sorted keys, null "<nil>".
std::string GoSprintValue(const nlohmann::ordered_json& value);

}  // namespace strata
