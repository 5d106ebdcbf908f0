#include "image/docker_format.h"

#include <algorithm>

namespace strata {
namespace {

struct Cell {
  std::string text;
  size_t width = 0;
};
using Line = std::vector<Cell>;

size_t CodePoints(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

std::vector<Line> SplitCells(std::string_view text) {
  std::vector<Line> lines(1);
  std::string cell;
  for (char c : text) {
    if (c == '\t' || c == '\n') {
      lines.back().push_back({cell, CodePoints(cell)});
      cell.clear();
      if (c == '\n') lines.emplace_back();
    } else {
      cell += c;
    }
  }
  lines.back().push_back({cell, CodePoints(cell)});
  return lines;
}

class TabFormatter {
 public:
  TabFormatter(const std::vector<Line>& lines, size_t min_width, size_t padding)
      : lines_(lines), min_width_(min_width), padding_(padding) {}

  std::string Run() {
    Format(0, lines_.size());
    return std::move(out_);
  }

 private:
  // Go's Writer.format: find column blocks of column widths_.size() in [line0, line1).
  void Format(size_t line0, size_t line1) {
    const size_t column = widths_.size();
    for (size_t i = line0; i < line1; ++i) {
      if (column + 1 >= lines_[i].size()) continue;
      WriteLines(line0, i);
      line0 = i;
      size_t width = min_width_;
      for (; i < line1 && column + 1 < lines_[i].size(); ++i) {
        width = std::max(width, lines_[i][column].width + padding_);
      }
      widths_.push_back(width);
      Format(line0, i);
      widths_.pop_back();
      line0 = i;
      if (i >= line1) break;
      --i;  // re-examine line i in the outer loop (Go's for loop re-tests `this`)
    }
    WriteLines(line0, line1);
  }

  void WriteLines(size_t line0, size_t line1) {
    for (size_t i = line0; i < line1; ++i) {
      const Line& line = lines_[i];
      for (size_t j = 0; j < line.size(); ++j) {
        out_ += line[j].text;
        if (j < widths_.size()) out_.append(widths_[j] - std::min(widths_[j], line[j].width), ' ');
      }
      if (i + 1 < lines_.size()) out_ += '\n';
    }
  }

  const std::vector<Line>& lines_;
  size_t min_width_, padding_;
  std::vector<size_t> widths_;
  std::string out_;
};

// formatter.Context.preFormat: drop "table", trim spaces, `\t` and `\n` become tab and newline.
std::string PreFormat(std::string_view format) {
  std::string f(format);
  if (IsTableFormat(f)) f.erase(0, 5);
  size_t b = f.find_first_not_of(' ');
  size_t e = f.find_last_not_of(' ');
  f = b == std::string::npos ? "" : f.substr(b, e - b + 1);
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      out += f[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += f[i];
    }
  }
  return out;
}

}  // namespace

bool IsTableFormat(std::string_view format) { return format.starts_with("table"); }

std::string GoTabwrite(std::string_view text, size_t min_width, size_t padding) {
  std::vector<Line> lines = SplitCells(text);
  return TabFormatter(lines, min_width, padding).Run();
}

Result<std::string> RenderDockerFormat(std::string_view format,
                                       const std::vector<nlohmann::ordered_json>& rows,
                                       const nlohmann::ordered_json& headers,
                                       GoTemplateOptions options) {
  auto tmpl = GoTemplate::Parse(PreFormat(format));
  if (!tmpl) return Fail("template parsing error: " + tmpl.error().message);
  std::string body;
  for (const nlohmann::ordered_json& row : rows) {
    auto text = tmpl->Execute(row, options);
    if (!text) return Fail("template parsing error: " + text.error().message);
    body += *text + "\n";
  }
  if (!IsTableFormat(format)) return body;
  GoTemplateOptions header_options;
  header_options.header_functions = true;
  std::string header = tmpl->ExecutePartial(headers, header_options);
  return GoTabwrite(header + "\n" + body);
}

}  // namespace strata
