#include "image/shell_words.h"

namespace strata {
namespace {

constexpr int kEof = -1;
constexpr char kEscape = '\\';

bool IsSpace(int c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool IsDigit(int c) { return c >= '0' && c <= '9'; }
bool IsNameChar(int c) {
  return IsDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}
bool IsSpecialParam(int c) {
  return c == '@' || c == '*' || c == '#' || c == '?' || c == '-' || c == '$' || c == '!' ||
         c == '0';
}

// Word splitting state: quoted text and escaped characters never split a word.
class Words {
 public:
  void AddChar(char c) {
    if (IsSpace(static_cast<unsigned char>(c))) {
      if (in_word_) {
        words_.push_back(std::move(word_));
        word_.clear();
        in_word_ = false;
      }
    } else {
      AddRawChar(c);
    }
  }
  void AddRawChar(char c) {
    word_ += c;
    in_word_ = true;
  }
  void AddString(std::string_view s) {
    for (char c : s) AddChar(c);
  }
  void AddRawString(std::string_view s) {
    word_ += s;
    in_word_ = true;
  }
  std::vector<std::string> Finish() {
    if (in_word_) words_.push_back(std::move(word_));
    return std::move(words_);
  }

 private:
  std::vector<std::string> words_;
  std::string word_;
  bool in_word_ = false;
};

class Lexer {
 public:
  Lexer(std::string_view text, std::span<const std::string> env) : text_(text), env_(env) {}

  // Reads until `stop` (consumed) or the end; returns the text and its words.
  Result<std::pair<std::string, std::vector<std::string>>> ProcessStopOn(int stop) {
    std::string result;
    Words words;
    while (Peek() != kEof) {
      int c = Peek();
      if (stop != kEof && c == stop) {
        Next();
        return std::make_pair(std::move(result), words.Finish());
      }
      if (c == '\'' || c == '"' || c == '$') {
        Result<std::string> part = c == '\'' ? SingleQuote() : c == '"' ? DoubleQuote() : Dollar();
        if (!part) return tl::unexpected(part.error());
        result += *part;
        if (c == '$') {
          words.AddString(*part);
        } else {
          words.AddRawString(*part);
        }
        continue;
      }
      c = Next();
      if (c == kEscape) {
        c = Next();
        if (c == kEof) break;
        words.AddRawChar(static_cast<char>(c));
      } else {
        words.AddChar(static_cast<char>(c));
      }
      result += static_cast<char>(c);
    }
    if (stop != kEof) {
      return Fail(ErrorCode::kInvalidArgument,
                  std::string("unexpected end of statement while looking for matching ") +
                      static_cast<char>(stop));
    }
    return std::make_pair(std::move(result), words.Finish());
  }

 private:
  int Peek() const { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_]) : kEof; }
  int Next() { return pos_ < text_.size() ? static_cast<unsigned char>(text_[pos_++]) : kEof; }

  Result<std::string> SingleQuote() {
    Next();
    std::string out;
    for (;;) {
      int c = Next();
      if (c == kEof) {
        return Fail(ErrorCode::kInvalidArgument,
                    "unexpected end of statement while looking for matching single-quote");
      }
      if (c == '\'') return out;
      out += static_cast<char>(c);
    }
  }

  Result<std::string> DoubleQuote() {
    Next();
    std::string out;
    for (;;) {
      int c = Peek();
      if (c == kEof) {
        return Fail(ErrorCode::kInvalidArgument,
                    "unexpected end of statement while looking for matching double-quote");
      }
      if (c == '"') {
        Next();
        return out;
      }
      if (c == '$') {
        auto value = Dollar();
        if (!value) return value;
        out += *value;
        continue;
      }
      c = Next();
      if (c == kEscape) {
        int after = Peek();
        if (after == kEof) continue;  // a trailing escape is dropped
        if (after == '"' || after == '$' || after == kEscape) c = Next();
      }
      out += static_cast<char>(c);
    }
  }

  std::string Name() {
    std::string name;
    while (Peek() != kEof) {
      int c = Peek();
      if (name.empty() && IsDigit(c)) {
        while (IsDigit(Peek())) name += static_cast<char>(Next());
        return name;
      }
      if (name.empty() && IsSpecialParam(c)) {
        name += static_cast<char>(Next());
        return name;
      }
      if (!IsNameChar(c)) break;
      name += static_cast<char>(Next());
    }
    return name;
  }

  std::string GetEnv(std::string_view name) const {
    for (const auto& entry : env_) {
      auto eq = entry.find('=');
      std::string_view key =
          eq == std::string::npos ? std::string_view(entry) : std::string_view(entry).substr(0, eq);
      if (key != name) continue;
      return eq == std::string::npos ? std::string() : entry.substr(eq + 1);
    }
    return "";
  }

  Result<std::string> Dollar() {
    Next();
    if (Peek() != '{') {
      std::string name = Name();
      if (name.empty()) return std::string("$");
      return GetEnv(name);
    }
    Next();
    int c = Peek();
    if (c == kEof) return Fail(ErrorCode::kInvalidArgument, "syntax error: missing '}'");
    if (c == '{' || c == '}' || c == ':')
      return Fail(ErrorCode::kInvalidArgument, "syntax error: bad substitution");
    std::string name = Name();
    c = Next();
    if (c == '}') return GetEnv(name);
    if (c != ':') return Fail(ErrorCode::kInvalidArgument, "missing ':' in substitution");
    int modifier = Next();
    auto word = ProcessStopOn('}');
    if (!word) {
      if (Peek() == kEof) return Fail(ErrorCode::kInvalidArgument, "syntax error: missing '}'");
      return tl::unexpected(word.error());
    }
    std::string value = GetEnv(name);
    if (modifier == '+') return value.empty() ? value : word->first;
    if (modifier == '-') return value.empty() ? word->first : value;
    return Fail(
        ErrorCode::kInvalidArgument,
        std::string("unsupported modifier (") +
            (modifier == kEof ? std::string("EOF") : std::string(1, static_cast<char>(modifier))) +
            ") in substitution");
  }

  std::string_view text_;
  std::span<const std::string> env_;
  size_t pos_ = 0;
};

}  // namespace

Result<std::string> ProcessShellWord(std::string_view word, std::span<const std::string> env) {
  Lexer lexer(word, env);
  auto result = lexer.ProcessStopOn(kEof);
  if (!result) return Wrap("failed to process \"" + std::string(word) + "\"", result.error());
  return std::move(result->first);
}

Result<std::vector<std::string>> ProcessShellWords(std::string_view word,
                                                   std::span<const std::string> env) {
  Lexer lexer(word, env);
  auto result = lexer.ProcessStopOn(kEof);
  if (!result) return Wrap("failed to process \"" + std::string(word) + "\"", result.error());
  return std::move(result->second);
}

}  // namespace strata
