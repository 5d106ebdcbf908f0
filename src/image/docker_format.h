// docker/cli's list formatting (cli/command/formatter.Context, 20.10): a --format string is either
// "table <template>" (a header row from the fields' header names, then one row per item, columns
// aligned by Go's text/tabwriter as docker configures it: min width 10, padding 3, spaces) or a
// plain Go template executed once per item, each followed by a newline. In both, the two-character
// sequences `\t` and `\n` stand for a tab and a newline, and surrounding spaces are trimmed.
// Stateless; thread-safe.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "image/go_template.h"
#include "util/result.h"

namespace strata {

// Renders `rows` (one JSON object of display strings per item) with `format`. `headers` maps
// field names to column titles ({"ID": "IMAGE ID", ...}); fields it lacks print "<no value>" in
// the header, as docker's. Errors (parse or execution, on any row) produce no output and read
// like docker's: "template parsing error: template: :1:10: executing ...".
Result<std::string> RenderDockerFormat(std::string_view format,
                                       const std::vector<nlohmann::ordered_json>& rows,
                                       const nlohmann::ordered_json& headers,
                                       GoTemplateOptions options);

// Whether docker treats the format as a table ("table" prefix).
bool IsTableFormat(std::string_view format);

// Go's text/tabwriter.Writer(minwidth, tabwidth 1, padding, ' ', 0) over `text`: cells are
// tab-terminated, a column block is a run of consecutive lines having that column, the last cell
// of a line is not part of a column. Widths count UTF-8 code points.
std::string GoTabwrite(std::string_view text, size_t min_width = 10, size_t padding = 3);

}  // namespace strata
