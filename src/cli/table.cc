#include "cli/table.h"

#include <algorithm>

namespace strata::cli {

size_t DisplayWidth(const std::string& text) {
  size_t n = 0;
  for (unsigned char c : text) n += (c & 0xC0) != 0x80;
  return n;
}

std::string Ellipsis(const std::string& text, size_t width) {
  if (DisplayWidth(text) <= width) return text;
  if (width == 0) return "";
  std::string out;
  size_t kept = 0;
  for (size_t i = 0; i < text.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text[i]);
    if ((c & 0xC0) != 0x80) {
      if (kept == width - 1) break;
      ++kept;
    }
    out += text[i];
  }
  return out + "…";
}

std::string Table::Render() const {
  constexpr size_t kMinWidth = 10;
  constexpr size_t kPadding = 3;
  std::vector<size_t> widths;
  for (const auto& row : rows_) {
    for (size_t i = 0; i + 1 < row.size(); ++i) {
      if (widths.size() <= i) widths.resize(i + 1, 0);
      widths[i] = std::max(widths[i], std::max(kMinWidth, DisplayWidth(row[i]) + kPadding));
    }
  }
  std::string out;
  for (const auto& row : rows_) {
    for (size_t i = 0; i < row.size(); ++i) {
      out += row[i];
      if (i + 1 < row.size()) out.append(widths[i] - DisplayWidth(row[i]), ' ');
    }
    out += '\n';
  }
  return out;
}

}  // namespace strata::cli
