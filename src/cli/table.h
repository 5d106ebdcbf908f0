// Column alignment like Go's text/tabwriter as docker/cli configures it (minwidth 10, padding 3,
// pad with spaces): every cell but the last of a row is padded to its column's width.
#pragma once

#include <string>
#include <vector>

namespace strata::cli {

class Table {
 public:
  void AddRow(std::vector<std::string> cells) { rows_.push_back(std::move(cells)); }
  std::string Render() const;

 private:
  std::vector<std::vector<std::string>> rows_;
};

// Number of terminal columns a UTF-8 string takes (one per code point).
size_t DisplayWidth(const std::string& text);
// docker/cli's Ellipsis: cut to `width` columns, the last being "…".
std::string Ellipsis(const std::string& text, size_t width);

}  // namespace strata::cli
