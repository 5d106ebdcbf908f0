#include "image/go_template.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <optional>
#include <vector>

#include "util/go_json.h"

namespace strata {

using Json = nlohmann::ordered_json;

// ---------------------------------------------------------------------------------------------
// Syntax tree

namespace {

struct Pipeline;

struct Arg {
  enum Kind { kDot, kField, kVariable, kFunc, kString, kNumber, kBool, kNil, kPipeline } kind;
  std::string name;                // function name, or variable name with its '$'
  std::vector<std::string> chain;  // field names after the operand (.A.B)
  Json literal;                    // kString, kNumber, kBool
  std::shared_ptr<Pipeline> pipe;  // kPipeline
  size_t pos = 0;
  std::string text;  // source, for error messages
};

struct Command {
  std::vector<Arg> args;
  size_t pos = 0;
  std::string text;
};

struct Pipeline {
  std::vector<std::string> decl;  // variables declared or assigned
  bool declare = true;            // := rather than =
  std::vector<Command> cmds;
  size_t pos = 0;
};

}  // namespace

struct GoTemplate::Node {
  enum Kind { kList, kText, kAction, kIf, kRange, kWith } kind = kList;
  std::string text;  // kText
  Pipeline pipe;     // kAction, kIf, kRange, kWith
  std::vector<Node> list, else_list;
};

namespace {

using Node = GoTemplate::Node;

// ---------------------------------------------------------------------------------------------
// Lexer: the text is cut into text pieces and actions; an action's inside into tokens.

struct Token {
  enum Kind {
    kField,     // .Name
    kDot,       // .
    kVariable,  // $ or $name
    kIdent,
    kString,  // value already unquoted
    kNumber,
    kPipe,
    kLeftParen,
    kRightParen,
    kDeclare,
    kAssign,
    kComma,
    kSpace,
    kEnd,
  } kind;
  std::string text;  // source text (kString: the unquoted value)
  size_t pos = 0;
};

struct Piece {
  bool is_action = false;
  std::string text;  // text pieces
  std::vector<Token> tokens;
  size_t pos = 0;  // of the action's first token
};

int LineOf(std::string_view src, size_t pos) {
  return 1 +
         static_cast<int>(std::count(src.begin(), src.begin() + std::min(pos, src.size()), '\n'));
}

tl::unexpected<Error> ParseError(std::string_view src, size_t pos, const std::string& what) {
  return Fail(ErrorCode::kInvalidArgument,
              "template: :" + std::to_string(LineOf(src, pos)) + ": " + what);
}

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool IsAlnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
         static_cast<unsigned char>(c) >= 0x80;
}

// Go's strconv.Unquote of a "..." literal (the common escapes).
Result<std::string> UnquoteDouble(std::string_view s) {
  std::string out;
  for (size_t i = 1; i + 1 < s.size(); ++i) {
    if (s[i] != '\\') {
      out += s[i];
      continue;
    }
    char c = s[++i];
    switch (c) {
      case 'n':
        out += '\n';
        break;
      case 't':
        out += '\t';
        break;
      case 'r':
        out += '\r';
        break;
      case 'a':
        out += '\a';
        break;
      case 'b':
        out += '\b';
        break;
      case 'f':
        out += '\f';
        break;
      case 'v':
        out += '\v';
        break;
      case '\\':
        out += '\\';
        break;
      case '"':
        out += '"';
        break;
      case '\'':
        out += '\'';
        break;
      case 'x': {
        if (i + 2 >= s.size()) return Fail(ErrorCode::kInvalidArgument, "invalid syntax");
        out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
        i += 2;
        break;
      }
      default:
        return Fail(ErrorCode::kInvalidArgument, "invalid syntax");
    }
  }
  return out;
}

class Lexer {
 public:
  explicit Lexer(std::string_view src) : src_(src) {}

  Result<std::vector<Piece>> Run() {
    std::vector<Piece> pieces;
    size_t i = 0;
    bool trim_next = false;
    while (i <= src_.size()) {
      size_t open = src_.find("{{", i);
      std::string text(
          src_.substr(i, open == std::string_view::npos ? std::string_view::npos : open - i));
      if (trim_next)
        text.erase(0, text.find_first_not_of(" \t\r\n") == std::string::npos
                          ? text.size()
                          : text.find_first_not_of(" \t\r\n"));
      if (open == std::string_view::npos) {
        if (!text.empty()) pieces.push_back({false, text, {}, i});
        break;
      }
      size_t inner = open + 2;
      if (inner + 1 < src_.size() && src_[inner] == '-' && IsSpace(src_[inner + 1])) {
        while (!text.empty() && IsSpace(text.back())) text.pop_back();
        inner += 2;
      }
      if (!text.empty()) pieces.push_back({false, text, {}, i});
      Piece action{true, "", {}, inner};
      size_t end = 0;
      STRATA_TRY(LexAction(inner, action.tokens, end, trim_next));
      if (!action.tokens.empty()) pieces.push_back(std::move(action));
      i = end;
    }
    return pieces;
  }

 private:
  // Lexes from `p` to the closing delimiter; `end` is just past it.
  Status LexAction(size_t p, std::vector<Token>& out, size_t& end, bool& trim_next) {
    const size_t start = p;
    while (p < src_.size() && IsSpace(src_[p])) ++p;
    if (src_.substr(p, 2) == "/*") {
      size_t close = src_.find("*/", p + 2);
      if (close == std::string_view::npos) return ParseError(src_, start, "unclosed comment");
      p = close + 2;
      return CloseAction(p, start, end, trim_next, true);
    }
    p = start;
    int paren_depth = 0;
    for (;;) {
      if (p >= src_.size()) return ParseError(src_, start, "unclosed action");
      char c = src_[p];
      if (src_.substr(p, 2) == "}}" || (IsSpace(c) && TrimCloseAt(p))) {
        if (paren_depth > 0) return ParseError(src_, p, "unclosed left paren");
        return CloseAction(p, start, end, trim_next, false);
      }
      const size_t tok = p;
      if (IsSpace(c)) {
        while (p < src_.size() && IsSpace(src_[p]) && !TrimCloseAt(p)) ++p;
        out.push_back({Token::kSpace, " ", tok});
      } else if (c == '.' && (p + 1 >= src_.size() || !IsAlnum(src_[p + 1]) ||
                              (src_[p + 1] >= '0' && src_[p + 1] <= '9'))) {
        if (p + 1 < src_.size() && src_[p + 1] >= '0' && src_[p + 1] <= '9') {
          STRATA_TRY(LexNumber(p, out));
        } else {
          ++p;
          out.push_back({Token::kDot, ".", tok});
        }
      } else if (c == '.') {
        ++p;
        while (p < src_.size() && IsAlnum(src_[p])) ++p;
        out.push_back({Token::kField, std::string(src_.substr(tok, p - tok)), tok});
      } else if (c == '$') {
        ++p;
        while (p < src_.size() && IsAlnum(src_[p])) ++p;
        out.push_back({Token::kVariable, std::string(src_.substr(tok, p - tok)), tok});
      } else if (c == '"' || c == '`' || c == '\'') {
        STRATA_TRY(LexQuoted(p, out));
      } else if (c == '|') {
        ++p;
        out.push_back({Token::kPipe, "|", tok});
      } else if (c == '(') {
        ++p, ++paren_depth;
        out.push_back({Token::kLeftParen, "(", tok});
      } else if (c == ')') {
        if (--paren_depth < 0) return ParseError(src_, p, "unexpected right paren U+0029 ')'");
        ++p;
        out.push_back({Token::kRightParen, ")", tok});
      } else if (src_.substr(p, 2) == ":=") {
        p += 2;
        out.push_back({Token::kDeclare, ":=", tok});
      } else if (c == '=') {
        ++p;
        out.push_back({Token::kAssign, "=", tok});
      } else if (c == ',') {
        ++p;
        out.push_back({Token::kComma, ",", tok});
      } else if ((c >= '0' && c <= '9') || c == '-' || c == '+') {
        STRATA_TRY(LexNumber(p, out));
      } else if (IsAlnum(c)) {
        while (p < src_.size() && IsAlnum(src_[p])) ++p;
        out.push_back({Token::kIdent, std::string(src_.substr(tok, p - tok)), tok});
      } else {
        return ParseError(src_, p,
                          std::string("unrecognized character in action: U+") +
                              HexCode(static_cast<unsigned char>(c)) + " '" + c + "'");
      }
    }
  }

  static std::string HexCode(unsigned char c) {
    char buf[8];
    std::snprintf(buf, sizeof buf, "%04X", c);
    return buf;
  }

  // " -}}" at p (p is the space).
  bool TrimCloseAt(size_t p) const { return IsSpace(src_[p]) && src_.substr(p + 1, 3) == "-}}"; }

  Status CloseAction(size_t p, size_t start, size_t& end, bool& trim_next, bool comment) {
    while (comment && p < src_.size() && IsSpace(src_[p]) && !TrimCloseAt(p)) ++p;
    if (TrimCloseAt(p)) {
      trim_next = true;
      end = p + 4;
      return {};
    }
    if (src_.substr(p, 2) != "}}") {
      return ParseError(src_, start,
                        comment ? "comment ends before closing delimiter" : "unclosed action");
    }
    trim_next = false;
    end = p + 2;
    return {};
  }

  Status LexQuoted(size_t& p, std::vector<Token>& out) {
    const size_t tok = p;
    const char q = src_[p++];
    while (p < src_.size() && src_[p] != q) {
      if (q != '`' && src_[p] == '\\') ++p;
      if (q != '`' && p < src_.size() && src_[p] == '\n') break;
      ++p;
    }
    if (p >= src_.size() || src_[p] != q) {
      return ParseError(src_, tok,
                        q == '`' ? "unterminated raw quoted string" : "unterminated quoted string");
    }
    ++p;
    std::string_view lit = src_.substr(tok, p - tok);
    if (q == '`') {
      out.push_back({Token::kString, std::string(lit.substr(1, lit.size() - 2)), tok});
      return {};
    }
    auto value = UnquoteDouble(lit);
    if (!value) return ParseError(src_, tok, "invalid syntax: " + std::string(lit));
    if (q == '\'') {  // a character constant is a number in Go
      unsigned char ch = value->empty() ? 0 : static_cast<unsigned char>((*value)[0]);
      out.push_back({Token::kNumber, std::to_string(ch), tok});
      return {};
    }
    out.push_back({Token::kString, *value, tok});
    return {};
  }

  Status LexNumber(size_t& p, std::vector<Token>& out) {
    const size_t tok = p;
    if (src_[p] == '-' || src_[p] == '+') ++p;
    while (p < src_.size() &&
           (IsAlnum(src_[p]) || src_[p] == '.' ||
            ((src_[p] == '-' || src_[p] == '+') && (src_[p - 1] == 'e' || src_[p - 1] == 'E')))) {
      ++p;
    }
    std::string text(src_.substr(tok, p - tok));
    out.push_back({Token::kNumber, text, tok});
    return {};
  }

  std::string_view src_;
};

// ---------------------------------------------------------------------------------------------
// Parser

const std::map<std::string, int, std::less<>>& KnownFunctions() {
  static const std::map<std::string, int, std::less<>> kFuncs = {
      {"and", 0},    {"or", 0},      {"not", 0},   {"len", 0},  {"index", 0},   {"print", 0},
      {"printf", 0}, {"println", 0}, {"eq", 0},    {"ne", 0},   {"lt", 0},      {"le", 0},
      {"gt", 0},     {"ge", 0},      {"slice", 0}, {"json", 0}, {"join", 0},    {"split", 0},
      {"title", 0},  {"lower", 0},   {"upper", 0}, {"pad", 0},  {"truncate", 0}};
  return kFuncs;
}

class Parser {
 public:
  explicit Parser(std::string_view src) : src_(src) {}

  Result<Node> Run(const std::vector<Piece>& pieces) {
    pieces_ = &pieces;
    Node root;
    std::string stop;
    STRATA_TRY(ParseList(root.list, stop));
    if (!stop.empty()) return ParseError(src_, last_pos_, "unexpected {{" + stop + "}}");
    return root;
  }

 private:
  // Parses nodes until {{end}} or {{else}} (returned in `stop`) or the end of the input.
  Status ParseList(std::vector<Node>& list, std::string& stop) {
    stop.clear();
    while (next_ < pieces_->size()) {
      const Piece& piece = (*pieces_)[next_++];
      last_pos_ = piece.pos;
      if (!piece.is_action) {
        list.push_back(Node{Node::kText, piece.text, {}, {}, {}});
        continue;
      }
      tokens_ = &piece.tokens;
      tok_ = 0;
      SkipSpace();
      const Token& first = Peek();
      if (first.kind == Token::kIdent) {
        const std::string& word = first.text;
        if (word == "end" || word == "else") {
          ++tok_;
          stop = word;
          return {};
        }
        if (word == "if" || word == "range" || word == "with") {
          ++tok_;
          STRATA_ASSIGN(node, ParseControl(word == "if"      ? Node::kIf
                                           : word == "range" ? Node::kRange
                                                             : Node::kWith,
                                           piece.pos));
          list.push_back(std::move(node));
          continue;
        }
        if (word == "define" || word == "template" || word == "block" || word == "break" ||
            word == "continue") {
          return ParseError(src_, first.pos, "{{" + word + "}} is not supported");
        }
      }
      Node action{Node::kAction, "", {}, {}, {}};
      STRATA_ASSIGN(pipe, ParsePipeline(true, piece.pos));
      action.pipe = std::move(pipe);
      STRATA_TRY(ExpectEnd());
      list.push_back(std::move(action));
    }
    return {};
  }

  Result<Node> ParseControl(Node::Kind kind, size_t pos) {
    const char* name = kind == Node::kIf ? "if" : kind == Node::kRange ? "range" : "with";
    Node node{kind, "", {}, {}, {}};
    STRATA_ASSIGN(pipe, ParsePipeline(true, pos));
    if (pipe.cmds.empty()) return ParseError(src_, pos, std::string("missing value for ") + name);
    node.pipe = std::move(pipe);
    STRATA_TRY(ExpectEnd());
    std::string stop;
    STRATA_TRY(ParseList(node.list, stop));
    if (stop.empty()) return ParseError(src_, src_.size(), "unexpected EOF");
    if (stop == "else") {
      SkipSpace();
      // {{else if ...}} / {{else with ...}}: a nested control ending at the same {{end}}.
      if (Peek().kind == Token::kIdent && (Peek().text == "if" || Peek().text == "with") &&
          (Peek().text == "if") == (kind == Node::kIf)) {
        Node::Kind inner = Peek().text == "if" ? Node::kIf : Node::kWith;
        ++tok_;
        STRATA_ASSIGN(nested, ParseControl(inner, pos));
        node.else_list.push_back(std::move(nested));
        return node;
      }
      STRATA_TRY(ExpectEnd());
      STRATA_TRY(ParseList(node.else_list, stop));
      if (stop != "end")
        return ParseError(
            src_, last_pos_,
            "expected end; found {{" + (stop.empty() ? std::string("EOF") : stop) + "}}");
    }
    STRATA_TRY(ExpectEnd());
    return node;
  }

  const Token& Peek() {
    static const Token kEndToken{Token::kEnd, "", 0};
    return tok_ < tokens_->size() ? (*tokens_)[tok_] : kEndToken;
  }
  void SkipSpace() {
    while (Peek().kind == Token::kSpace) ++tok_;
  }
  Status ExpectEnd() {
    SkipSpace();
    if (Peek().kind != Token::kEnd) {
      return ParseError(src_, Peek().pos, "unexpected \"" + Peek().text + "\" in command");
    }
    return {};
  }

  // pipeline: [decl (:=|=)] command ('|' command)*; stops at ')' or the end.
  Result<Pipeline> ParsePipeline(bool allow_decl, size_t pos) {
    Pipeline pipe;
    pipe.pos = pos;
    SkipSpace();
    if (allow_decl && Peek().kind == Token::kVariable) STRATA_TRY(ParseDecl(pipe));
    for (;;) {
      SkipSpace();
      STRATA_ASSIGN(cmd, ParseCommand());
      if (cmd.args.empty()) {
        if (!pipe.cmds.empty() || !pipe.decl.empty()) {
          return ParseError(src_, Peek().pos, "missing command");
        }
        return pipe;
      }
      pipe.cmds.push_back(std::move(cmd));
      SkipSpace();
      if (Peek().kind != Token::kPipe) break;
      ++tok_;
    }
    for (size_t i = 1; i < pipe.cmds.size(); ++i) {
      const Arg& a = pipe.cmds[i].args[0];
      if (a.kind != Arg::kFunc) {
        return ParseError(src_, a.pos,
                          "non executable command in pipeline stage " + std::to_string(i + 1));
      }
    }
    return pipe;
  }

  // `$x :=`, `$i, $e :=` or `$x =`; leaves tok_ unchanged when it is not a declaration.
  Status ParseDecl(Pipeline& pipe) {
    size_t save = tok_;
    std::vector<std::string> vars{Peek().text};
    ++tok_;
    SkipSpace();
    if (Peek().kind == Token::kComma) {
      ++tok_;
      SkipSpace();
      if (Peek().kind != Token::kVariable) {
        tok_ = save;
        return {};
      }
      vars.push_back(Peek().text);
      ++tok_;
      SkipSpace();
    }
    if (Peek().kind == Token::kDeclare || Peek().kind == Token::kAssign) {
      pipe.declare = Peek().kind == Token::kDeclare;
      pipe.decl = std::move(vars);
      ++tok_;
      for (const std::string& v : pipe.decl) declared_.push_back(v);
      return {};
    }
    tok_ = save;
    return {};
  }

  Result<Command> ParseCommand() {
    Command cmd;
    cmd.pos = Peek().pos;
    size_t begin = tok_;
    for (;;) {
      SkipSpace();
      const Token& t = Peek();
      if (t.kind == Token::kEnd || t.kind == Token::kPipe || t.kind == Token::kRightParen) break;
      STRATA_ASSIGN(arg, ParseOperand());
      if (arg.kind == Arg::kFunc && !cmd.args.empty()) {
        // An identifier in argument position is a call of a niladic function.
      }
      cmd.args.push_back(std::move(arg));
      if (Peek().kind != Token::kSpace && Peek().kind != Token::kEnd &&
          Peek().kind != Token::kPipe && Peek().kind != Token::kRightParen) {
        return ParseError(src_, Peek().pos, "unexpected \"" + Peek().text + "\" in operand");
      }
    }
    cmd.text = SourceOf(begin, tok_);
    return cmd;
  }

  std::string SourceOf(size_t from, size_t to) const {
    if (from >= tokens_->size() || to <= from) return "";
    size_t a = (*tokens_)[from].pos;
    const Token& last = (*tokens_)[to - 1];
    size_t b = last.kind == Token::kString ? FindStringEnd(last.pos) : last.pos + last.text.size();
    std::string s(src_.substr(a, b - a));
    while (!s.empty() && IsSpace(s.back())) s.pop_back();
    return s;
  }
  size_t FindStringEnd(size_t pos) const {
    char q = src_[pos];
    size_t p = pos + 1;
    while (p < src_.size() && src_[p] != q) p += (q != '`' && src_[p] == '\\') ? 2 : 1;
    return std::min(p + 1, src_.size());
  }

  Result<Arg> ParseOperand() {
    const Token t = Peek();
    size_t begin = tok_;
    Arg arg{};
    arg.pos = t.pos;
    ++tok_;
    switch (t.kind) {
      case Token::kDot:
        arg.kind = Arg::kDot;
        break;
      case Token::kField:
        arg.kind = Arg::kField;
        arg.chain.push_back(t.text.substr(1));
        break;
      case Token::kVariable:
        if (std::find(declared_.begin(), declared_.end(), t.text) == declared_.end() &&
            t.text != "$") {
          return ParseError(src_, t.pos, "undefined variable \"" + t.text + "\"");
        }
        arg.kind = Arg::kVariable;
        arg.name = t.text;
        break;
      case Token::kString:
        arg.kind = Arg::kString;
        arg.literal = t.text;
        break;
      case Token::kNumber: {
        arg.kind = Arg::kNumber;
        STRATA_ASSIGN(number, ParseNumber(t));
        arg.literal = number;
        break;
      }
      case Token::kIdent:
        if (t.text == "true" || t.text == "false") {
          arg.kind = Arg::kBool;
          arg.literal = t.text == "true";
        } else if (t.text == "nil") {
          arg.kind = Arg::kNil;
        } else if (KnownFunctions().count(t.text)) {
          arg.kind = Arg::kFunc;
          arg.name = t.text;
        } else {
          return ParseError(src_, t.pos, "function \"" + t.text + "\" not defined");
        }
        break;
      case Token::kLeftParen: {
        arg.kind = Arg::kPipeline;
        STRATA_ASSIGN(inner, ParsePipeline(false, t.pos));
        if (inner.cmds.empty()) return ParseError(src_, t.pos, "missing command");
        SkipSpace();
        if (Peek().kind != Token::kRightParen)
          return ParseError(src_, t.pos, "unclosed left paren");
        ++tok_;
        arg.pipe = std::make_shared<Pipeline>(std::move(inner));
        break;
      }
      default:
        return ParseError(src_, t.pos, "unexpected \"" + t.text + "\" in operand");
    }
    // Field chain directly after the operand: .A.B, $x.A, (pipe).A
    while (Peek().kind == Token::kField) {
      if (arg.kind != Arg::kField && arg.kind != Arg::kVariable && arg.kind != Arg::kPipeline &&
          arg.kind != Arg::kDot) {
        return ParseError(src_, Peek().pos, "unexpected . after term \"" + t.text + "\"");
      }
      if (arg.kind == Arg::kDot) arg.kind = Arg::kField;
      arg.chain.push_back(Peek().text.substr(1));
      ++tok_;
    }
    arg.text = SourceOf(begin, tok_);
    return arg;
  }

  Result<Json> ParseNumber(const Token& t) {
    const std::string& s = t.text;
    bool is_float = s.find_first_of(".eE") != std::string::npos &&
                    s.find("0x") == std::string::npos && s.find("0X") == std::string::npos;
    if (!is_float) {
      int64_t v = 0;
      std::string digits = s;
      bool neg = false;
      if (!digits.empty() && (digits[0] == '-' || digits[0] == '+')) {
        neg = digits[0] == '-';
        digits.erase(0, 1);
      }
      digits.erase(std::remove(digits.begin(), digits.end(), '_'), digits.end());
      int base = 10;
      if (digits.size() > 2 && digits[0] == '0' && (digits[1] == 'x' || digits[1] == 'X')) {
        base = 16, digits.erase(0, 2);
      } else if (digits.size() > 1 && digits[0] == '0') {
        base = 8, digits.erase(0, 1);
      }
      auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), v, base);
      if (ec == std::errc() && ptr == digits.data() + digits.size()) return Json(neg ? -v : v);
    } else {
      char* end = nullptr;
      double d = std::strtod(s.c_str(), &end);
      if (end == s.c_str() + s.size()) return Json(d);
    }
    return ParseError(src_, t.pos, "bad number syntax: \"" + s + "\"");
  }

  std::string_view src_;
  const std::vector<Piece>* pieces_ = nullptr;
  size_t next_ = 0;
  size_t last_pos_ = 0;
  const std::vector<Token>* tokens_ = nullptr;
  size_t tok_ = 0;
  std::vector<std::string> declared_;  // simple: visible for the rest of the template
};

// ---------------------------------------------------------------------------------------------
// Values and Go's fmt

struct Val {
  Json v;
  bool invalid = false;  // Go's invalid reflect.Value (missing map key): prints "<no value>"
  bool root = false;     // the root object itself (for json_escape_html_root)
  std::string field;     // the field it was read from (for typed_zero)
};

bool IsInt(const Json& j) { return j.is_number_integer(); }

std::string GoTypeName(const Val& val) {
  const Json& j = val.v;
  if (val.invalid || j.is_null()) return "<nil>";
  if (j.is_string()) return "string";
  if (j.is_boolean()) return "bool";
  if (IsInt(j)) return "int";
  if (j.is_number()) return "float64";
  if (j.is_array()) return "[]interface {}";
  return "map[string]interface {}";
}

std::string FormatGoFloat(double d, char verb, int prec) {
  if (std::isnan(d)) return "NaN";
  if (std::isinf(d)) return d > 0 ? "+Inf" : "-Inf";
  if (verb == 'f' || verb == 'e') {
    char buf[512];
    std::snprintf(buf, sizeof buf, verb == 'f' ? "%.*f" : "%.*e", prec < 0 ? 6 : prec, d);
    return buf;
  }
  // %v / %g with shortest digits: exponent form when exp < -4 || exp >= (prec<0 ? 21 : prec).
  char buf[64];
  auto res = prec < 0 ? std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific)
                      : std::to_chars(buf, buf + sizeof buf, d, std::chars_format::scientific,
                                      std::max(prec - 1, 0));
  std::string sci(buf, res.ptr);
  size_t e = sci.find('e');
  int exp = std::stoi(sci.substr(e + 1));
  std::string mant = sci.substr(0, e);
  bool neg = !mant.empty() && mant[0] == '-';
  if (neg) mant.erase(0, 1);
  std::string digits;
  for (char c : mant) {
    if (c != '.') digits += c;
  }
  while (digits.size() > 1 && digits.back() == '0') digits.pop_back();
  const int eprec = prec < 0 ? 21 : prec;
  std::string out;
  if (exp < -4 || exp >= eprec) {
    out = digits.substr(0, 1);
    if (digits.size() > 1) out += "." + digits.substr(1);
    char eb[16];
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    out += eb;
  } else if (exp < 0) {
    out = "0." + std::string(static_cast<size_t>(-exp - 1), '0') + digits;
  } else {
    if (digits.size() <= static_cast<size_t>(exp)) digits.append(exp + 1 - digits.size(), '0');
    out = digits.substr(0, exp + 1);
    if (digits.size() > static_cast<size_t>(exp + 1)) out += "." + digits.substr(exp + 1);
  }
  return neg ? "-" + out : out;
}

std::string SprintJson(const Json& j, bool nested, const GoTemplateOptions* opts, bool member) {
  if (j.is_string()) return j.get<std::string>();
  if (j.is_null()) return "<nil>";
  if (j.is_boolean()) return j.get<bool>() ? "true" : "false";
  if (j.is_number_integer()) return j.dump();
  if (j.is_number()) return FormatGoFloat(j.get<double>(), 'v', -1);
  if (j.is_array()) {
    std::string out = "[";
    bool first = true;
    for (const Json& e : j) {
      if (!first) out += ' ';
      first = false;
      out += SprintJson(e, true, opts, false);
    }
    return out + "]";
  }
  if (member && j.empty() && opts && opts->empty_member_object_as_struct) return "{}";
  std::vector<std::pair<std::string, const Json*>> items;
  for (auto it = j.begin(); it != j.end(); ++it) items.emplace_back(it.key(), &it.value());
  std::sort(items.begin(), items.end(),
            [](const auto& a, const auto& b) { return a.first < b.first; });
  std::string out = "map[";
  bool first = true;
  for (const auto& [k, v] : items) {
    if (!first) out += ' ';
    first = false;
    out += k + ":" + SprintJson(*v, true, opts, true);
  }
  (void)nested;
  return out + "]";
}

// How the template prints a value at the top level of an action.
std::string PrintValue(const Val& val, const GoTemplateOptions& opts) {
  if (val.invalid) return "<no value>";
  if (val.v.is_null() && opts.typed_zero) {
    if (auto text = opts.typed_zero(val.field)) return *text;
  }
  if (val.v.is_null()) return "<no value>";
  return SprintJson(val.v, false, &opts, false);
}

// Go's strconv.Quote (printable UTF-8 kept as is).
std::string GoStrconvQuote(std::string_view s) {
  std::string out = "\"";
  for (unsigned char c : s) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\a':
        out += "\\a";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\v':
        out += "\\v";
        break;
      default:
        if (c < 0x20 || c == 0x7f) {
          char buf[8];
          std::snprintf(buf, sizeof buf, "\\x%02x", c);
          out += buf;
        } else {
          out += static_cast<char>(c);
        }
    }
  }
  return out + "\"";
}

size_t RuneCount(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

struct Verb {
  bool minus = false, plus = false, zero = false, space = false, sharp = false;
  int width = -1, prec = -1;
  char verb = 'v';
};

std::string BadVerb(const Verb& f, const Val& arg) {
  return std::string("%!") + f.verb + "(" + GoTypeName(arg) + "=" +
         (arg.invalid ? "<nil>" : SprintJson(arg.v, false, nullptr, false)) + ")";
}

std::string FormatOne(const Verb& f, const Val& arg) {
  const Json& j = arg.v;
  std::string body;
  bool numeric = false;
  switch (f.verb) {
    case 'v':
      body = arg.invalid || j.is_null() ? "<nil>" : SprintJson(j, false, nullptr, false);
      numeric = j.is_number();
      if (j.is_number_float() && f.prec >= 0) body = FormatGoFloat(j.get<double>(), 'g', f.prec);
      break;
    case 's':
      if (j.is_string()) {
        body = j.get<std::string>();
        if (f.prec >= 0 && RuneCount(body) > static_cast<size_t>(f.prec)) {
          size_t keep = 0, bytes = 0;
          while (bytes < body.size() && keep < static_cast<size_t>(f.prec)) {
            ++bytes;
            while (bytes < body.size() && (static_cast<unsigned char>(body[bytes]) & 0xC0) == 0x80)
              ++bytes;
            ++keep;
          }
          body.resize(bytes);
        }
      } else if (j.is_array() || j.is_object()) {
        body = SprintJson(j, false, nullptr, false);
      } else {
        return BadVerb(f, arg);
      }
      break;
    case 'q':
      if (!j.is_string()) return BadVerb(f, arg);
      body = GoStrconvQuote(j.get<std::string>());
      break;
    case 'd':
      if (!IsInt(j)) return BadVerb(f, arg);
      body = j.dump();
      if (f.plus && j.get<int64_t>() >= 0) body = "+" + body;
      numeric = true;
      break;
    case 'x':
    case 'X': {
      char buf[64];
      if (IsInt(j)) {
        int64_t v = j.get<int64_t>();
        std::snprintf(buf, sizeof buf, f.verb == 'x' ? "%llx" : "%llX",
                      static_cast<unsigned long long>(v < 0 ? -v : v));
        body = std::string(v < 0 ? "-" : "") + (f.sharp ? (f.verb == 'x' ? "0x" : "0X") : "") + buf;
        numeric = true;
      } else if (j.is_string()) {
        for (unsigned char c : j.get<std::string>()) {
          std::snprintf(buf, sizeof buf, f.verb == 'x' ? "%02x" : "%02X", c);
          body += buf;
        }
      } else {
        return BadVerb(f, arg);
      }
      break;
    }
    case 'f':
    case 'F':
    case 'e':
    case 'g':
      if (!j.is_number_float()) return BadVerb(f, arg);
      body = FormatGoFloat(j.get<double>(), f.verb == 'F' ? 'f' : f.verb, f.prec);
      if (f.plus && j.get<double>() >= 0) body = "+" + body;
      numeric = true;
      break;
    case 't':
      if (!j.is_boolean()) return BadVerb(f, arg);
      body = j.get<bool>() ? "true" : "false";
      break;
    default:
      return BadVerb(f, arg);
  }
  size_t w = RuneCount(body);
  if (f.width > 0 && w < static_cast<size_t>(f.width)) {
    size_t pad = static_cast<size_t>(f.width) - w;
    if (f.minus) {
      body.append(pad, ' ');
    } else if (f.zero && numeric) {
      size_t sign = (!body.empty() && (body[0] == '-' || body[0] == '+')) ? 1 : 0;
      body.insert(sign, pad, '0');
    } else {
      body.insert(0, pad, ' ');
    }
  }
  return body;
}

std::string GoSprintf(std::string_view format, const std::vector<Val>& args) {
  std::string out;
  size_t next_arg = 0;
  for (size_t i = 0; i < format.size(); ++i) {
    if (format[i] != '%') {
      out += format[i];
      continue;
    }
    Verb f;
    ++i;
    for (; i < format.size(); ++i) {
      char c = format[i];
      if (c == '-')
        f.minus = true;
      else if (c == '+')
        f.plus = true;
      else if (c == '0')
        f.zero = true;
      else if (c == ' ')
        f.space = true;
      else if (c == '#')
        f.sharp = true;
      else
        break;
    }
    auto read_int = [&](int& target) {
      if (i < format.size() && format[i] == '*') {
        ++i;
        if (next_arg < args.size() && IsInt(args[next_arg].v)) {
          target = static_cast<int>(args[next_arg++].v.get<int64_t>());
          if (target < 0) f.minus = true, target = -target;
        }
        return;
      }
      if (i >= format.size() || format[i] < '0' || format[i] > '9') return;
      target = 0;
      while (i < format.size() && format[i] >= '0' && format[i] <= '9')
        target = target * 10 + (format[i++] - '0');
    };
    read_int(f.width);
    if (i < format.size() && format[i] == '.') {
      ++i;
      f.prec = 0;
      read_int(f.prec);
    }
    if (i >= format.size()) {
      out += "%!(NOVERB)";
      break;
    }
    f.verb = format[i];
    if (f.verb == '%') {
      out += '%';
      continue;
    }
    if (next_arg >= args.size()) {
      out += std::string("%!") + f.verb + "(MISSING)";
      continue;
    }
    out += FormatOne(f, args[next_arg++]);
  }
  if (next_arg < args.size()) {
    out += "%!(EXTRA ";
    for (size_t k = next_arg; k < args.size(); ++k) {
      if (k > next_arg) out += ", ";
      out += GoTypeName(args[k]) + "=" +
             (args[k].invalid ? "<nil>" : SprintJson(args[k].v, false, nullptr, false));
    }
    out += ")";
  }
  return out;
}

// fmt.Sprint: a space between operands when neither side is a string.
std::string GoSprint(const std::vector<Val>& args) {
  std::string out;
  for (size_t k = 0; k < args.size(); ++k) {
    bool is_string = args[k].v.is_string();
    if (k > 0 && !is_string && !args[k - 1].v.is_string()) out += ' ';
    out += args[k].invalid ? "<nil>" : SprintJson(args[k].v, false, nullptr, false);
  }
  return out;
}

std::string GoSprintln(const std::vector<Val>& args) {
  std::string out;
  for (size_t k = 0; k < args.size(); ++k) {
    if (k > 0) out += ' ';
    out += args[k].invalid ? "<nil>" : SprintJson(args[k].v, false, nullptr, false);
  }
  return out + "\n";
}

bool Truth(const Val& val) {
  if (val.invalid) return false;
  const Json& j = val.v;
  if (j.is_null()) return false;
  if (j.is_boolean()) return j.get<bool>();
  if (j.is_number()) return j.get<double>() != 0;
  if (j.is_string()) return !j.get_ref<const std::string&>().empty();
  if (j.is_array() || j.is_object()) return !j.empty();
  return true;
}

// json.Marshal without HTML escaping (docker's json function), or with it for the root.
std::string MarshalForTemplate(const Val& val, const GoTemplateOptions& opts) {
  if (val.invalid) return "null";
  std::string marshaled = GoMarshal(val.v);
  if (val.root && opts.json_escape_html_root) return marshaled;
  std::string out;
  out.reserve(marshaled.size());
  for (size_t i = 0; i < marshaled.size(); ++i) {
    if (marshaled[i] == '\\' && i + 1 < marshaled.size()) {
      std::string_view esc(marshaled.data() + i, std::min<size_t>(6, marshaled.size() - i));
      if (esc == "\\u003c")
        out += '<', i += 5;
      else if (esc == "\\u003e")
        out += '>', i += 5;
      else if (esc == "\\u0026")
        out += '&', i += 5;
      else
        out += marshaled.substr(i, 2), ++i;
      continue;
    }
    out += marshaled[i];
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Execution

struct ExecError {
  std::string message;
};

class Executor {
 public:
  Executor(std::string_view name, const Json& root, const GoTemplateOptions& opts)
      : root_(root), opts_(opts) {
    (void)name;
    vars_.push_back({"$", Val{root, false, true, ""}});
  }

  Result<void> Walk(const Node& node, const Val& dot) {
    switch (node.kind) {
      case Node::kList:
        for (const Node& n : node.list) STRATA_TRY(Walk(n, dot));
        return {};
      case Node::kText:
        out_ += node.text;
        return {};
      case Node::kAction: {
        STRATA_ASSIGN(val, EvalPipeline(node.pipe, dot));
        if (node.pipe.decl.empty()) out_ += PrintValue(val, opts_);
        return {};
      }
      case Node::kIf:
      case Node::kWith: {
        size_t mark = vars_.size();
        STRATA_ASSIGN(val, EvalPipeline(node.pipe, dot));
        Status st;
        if (Truth(val)) {
          st = WalkList(node.list, node.kind == Node::kWith ? val : dot);
        } else {
          st = WalkList(node.else_list, dot);
        }
        vars_.resize(mark);
        return st;
      }
      case Node::kRange:
        return WalkRange(node, dot);
    }
    return {};
  }

  std::string& output() { return out_; }

 private:
  Status WalkList(const std::vector<Node>& list, const Val& dot) {
    for (const Node& n : list) STRATA_TRY(Walk(n, dot));
    return {};
  }

  Status WalkRange(const Node& node, const Val& dot) {
    size_t mark = vars_.size();
    Pipeline pipe = node.pipe;
    std::vector<std::string> decl = std::move(pipe.decl);
    pipe.decl.clear();
    STRATA_ASSIGN(val, EvalPipeline(pipe, dot));
    auto body = [&](Json key, const Json& elem, const std::string& field) -> Status {
      vars_.resize(mark);
      Val e{elem, false, false, field};
      if (decl.size() == 1) vars_.push_back({decl[0], e});
      if (decl.size() == 2) {
        vars_.push_back({decl[0], Val{std::move(key), false, false, ""}});
        vars_.push_back({decl[1], e});
      }
      return WalkList(node.list, e);
    };
    bool any = false;
    if (!val.invalid && val.v.is_array()) {
      int64_t i = 0;
      for (const Json& e : val.v) {
        any = true;
        STRATA_TRY(body(Json(i++), e, ""));
      }
    } else if (!val.invalid && val.v.is_object()) {
      std::vector<std::string> keys;
      for (auto it = val.v.begin(); it != val.v.end(); ++it) keys.push_back(it.key());
      std::sort(keys.begin(), keys.end());
      for (const std::string& k : keys) {
        any = true;
        STRATA_TRY(body(Json(k), val.v[k], k));
      }
    } else if (!val.invalid && val.v.is_number_integer()) {
      for (int64_t i = 0; i < val.v.get<int64_t>(); ++i) {
        any = true;
        STRATA_TRY(body(Json(i), Json(i), ""));
      }
    } else if (!val.invalid && !val.v.is_null()) {
      return ExecFail(node.pipe.cmds.front().pos, node.pipe.cmds.front().text,
                      "range can't iterate over " + PrintValue(val, opts_));
    }
    vars_.resize(mark);
    if (!any) STRATA_TRY(WalkList(node.else_list, dot));
    vars_.resize(mark);
    return {};
  }

  tl::unexpected<Error> ExecFail(size_t pos, const std::string& context, const std::string& what) {
    std::string_view src = src_ ? *src_ : std::string_view();
    size_t nl = src.substr(0, std::min(pos, src.size())).rfind('\n');
    size_t col = nl == std::string_view::npos ? pos : pos - nl - 1;
    return Fail(ErrorCode::kInvalidArgument, "template: :" + std::to_string(LineOf(src, pos)) +
                                                 ":" + std::to_string(col) +
                                                 ": executing \"\" at <" + context + ">: " + what);
  }

 public:
  const std::string* src_ = nullptr;

  Result<Val> EvalPipeline(const Pipeline& pipe, const Val& dot) {
    std::optional<Val> value;
    for (const Command& cmd : pipe.cmds) {
      STRATA_ASSIGN(v, EvalCommand(cmd, dot, value));
      value = std::move(v);
    }
    Val result = value.value_or(Val{Json(), true, false, ""});
    for (const std::string& name : pipe.decl) {
      if (pipe.declare) {
        vars_.push_back({name, result});
      } else {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == name) {
            it->second = result;
            break;
          }
        }
      }
    }
    return result;
  }

 private:
  Result<Val> EvalCommand(const Command& cmd, const Val& dot, const std::optional<Val>& final) {
    const Arg& first = cmd.args[0];
    if (first.kind == Arg::kFunc) return CallFunction(first, cmd, dot, final);
    if (cmd.args.size() > 1 || final) {
      return ExecFail(first.pos, first.text, "can't give argument to non-function " + first.text);
    }
    return EvalArg(first, dot);
  }

  Result<Val> EvalArg(const Arg& arg, const Val& dot) {
    Val base;
    switch (arg.kind) {
      case Arg::kDot:
        return dot;
      case Arg::kField:
        base = dot;
        break;
      case Arg::kVariable: {
        bool found = false;
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it) {
          if (it->first == arg.name) {
            base = it->second;
            found = true;
            break;
          }
        }
        if (!found) return ExecFail(arg.pos, arg.text, "undefined variable: " + arg.name);
        break;
      }
      case Arg::kFunc: {
        Command c{{arg}, arg.pos, arg.text};
        return CallFunction(arg, c, dot, std::nullopt);
      }
      case Arg::kString:
      case Arg::kNumber:
      case Arg::kBool:
        return Val{arg.literal, false, false, ""};
      case Arg::kNil:
        return Val{Json(), false, false, ""};
      case Arg::kPipeline: {
        size_t mark = vars_.size();
        STRATA_ASSIGN(v, EvalPipeline(*arg.pipe, dot));
        vars_.resize(mark);
        base = std::move(v);
        break;
      }
    }
    for (const std::string& name : arg.chain) {
      STRATA_ASSIGN(next, EvalField(base, name, arg));
      base = std::move(next);
    }
    return base;
  }

  Result<Val> EvalField(const Val& recv, const std::string& name, const Arg& arg) {
    if (recv.invalid || recv.v.is_null()) {
      return ExecFail(arg.pos, arg.text, "nil pointer evaluating interface {}." + name);
    }
    if (!recv.v.is_object()) {
      return ExecFail(arg.pos, arg.text,
                      "can't evaluate field " + name + " in type " + GoTypeName(recv));
    }
    auto it = recv.v.find(name);
    if (it != recv.v.end()) return Val{*it, false, false, name};
    if (opts_.typed_zero && opts_.typed_zero(name)) return Val{Json(), false, false, name};
    if (recv.root && !opts_.root_type.empty()) {
      return ExecFail(arg.pos, arg.text,
                      "can't evaluate field " + name + " in type " + opts_.root_type);
    }
    if (opts_.missing_key_error) {
      return ExecFail(arg.pos, arg.text, "map has no entry for key \"" + name + "\"");
    }
    return Val{Json(), true, false, name};
  }

  Result<Val> CallFunction(const Arg& fn, const Command& cmd, const Val& dot,
                           const std::optional<Val>& final) {
    std::vector<Val> args;
    for (size_t k = 1; k < cmd.args.size(); ++k) {
      STRATA_ASSIGN(v, EvalArg(cmd.args[k], dot));
      args.push_back(std::move(v));
    }
    if (final) args.push_back(*final);
    auto fail = [&](const std::string& what) {
      return ExecFail(fn.pos, cmd.text, "error calling " + fn.name + ": " + what);
    };
    auto want = [&](size_t n) -> Status {
      if (args.size() != n) {
        return ExecFail(fn.pos, fn.name,
                        "wrong number of args for " + fn.name + ": want " + std::to_string(n) +
                            " got " + std::to_string(args.size()));
      }
      return {};
    };
    auto want_at_least = [&](size_t n) -> Status {
      if (args.size() < n) {
        return ExecFail(fn.pos, fn.name,
                        "wrong number of args for " + fn.name + ": want at least " +
                            std::to_string(n) + " got " + std::to_string(args.size()));
      }
      return {};
    };
    auto str_arg = [&](size_t k) -> Result<std::string> {
      if (!args[k].v.is_string()) {
        return ExecFail(fn.pos, cmd.text,
                        "wrong type for value; expected string; got " + GoTypeName(args[k]));
      }
      return args[k].v.get<std::string>();
    };
    auto int_arg = [&](size_t k) -> Result<int64_t> {
      if (!IsInt(args[k].v)) {
        return ExecFail(fn.pos, cmd.text,
                        "wrong type for value; expected int; got " + GoTypeName(args[k]));
      }
      return args[k].v.get<int64_t>();
    };
    auto str = [](std::string s) { return Val{Json(std::move(s)), false, false, ""}; };
    const std::string& f = fn.name;
    const bool header = opts_.header_functions;

    if (f == "and" || f == "or") {
      STRATA_TRY(want_at_least(1));
      for (const Val& a : args) {
        if (Truth(a) != (f == "and")) return a;
      }
      return args.back();
    }
    if (f == "not") {
      STRATA_TRY(want(1));
      return Val{Json(!Truth(args[0])), false, false, ""};
    }
    if (f == "len") {
      STRATA_TRY(want(1));
      const Json& j = args[0].v;
      // A null is a typed nil slice or map for docker's typed structs: length 0.
      if (!args[0].invalid && j.is_null()) return Val{Json(0), false, false, ""};
      if (args[0].invalid || !(j.is_string() || j.is_array() || j.is_object())) {
        return fail("len of type " + GoTypeName(args[0]));
      }
      int64_t n = j.is_string() ? static_cast<int64_t>(j.get_ref<const std::string&>().size())
                                : static_cast<int64_t>(j.size());
      return Val{Json(n), false, false, ""};
    }
    if (f == "index") {
      STRATA_TRY(want_at_least(1));
      Val cur = args[0];
      for (size_t k = 1; k < args.size(); ++k) {
        if (cur.invalid || cur.v.is_null()) return Val{Json(), false, false, ""};
        if (cur.v.is_array() || cur.v.is_string()) {
          if (!IsInt(args[k].v))
            return fail("cannot index slice/array with type " + GoTypeName(args[k]));
          int64_t i = args[k].v.get<int64_t>();
          int64_t n = cur.v.is_string()
                          ? static_cast<int64_t>(cur.v.get_ref<const std::string&>().size())
                          : static_cast<int64_t>(cur.v.size());
          if (i < 0 || i >= n) return fail("index out of range: " + std::to_string(i));
          if (cur.v.is_string()) {
            cur = Val{Json(static_cast<int64_t>(
                          static_cast<unsigned char>(cur.v.get_ref<const std::string&>()[i]))),
                      false, false, ""};
          } else {
            cur = Val{cur.v[static_cast<size_t>(i)], false, false, ""};
          }
        } else if (cur.v.is_object()) {
          if (!args[k].v.is_string())
            return fail("value has type " + GoTypeName(args[k]) + "; should be string");
          auto it = cur.v.find(args[k].v.get<std::string>());
          cur = it == cur.v.end() ? Val{Json(), false, false, ""} : Val{*it, false, false, ""};
        } else {
          return fail("can't index item of type " + GoTypeName(cur));
        }
      }
      return cur;
    }
    if (f == "slice") {
      STRATA_TRY(want_at_least(1));
      const Json& j = args[0].v;
      if (!j.is_string() && !j.is_array())
        return fail("can't slice item of type " + GoTypeName(args[0]));
      int64_t n = j.is_string() ? static_cast<int64_t>(j.get_ref<const std::string&>().size())
                                : static_cast<int64_t>(j.size());
      int64_t lo = 0, hi = n;
      if (args.size() > 1) {
        STRATA_ASSIGN(x, int_arg(1));
        lo = x;
      }
      if (args.size() > 2) {
        STRATA_ASSIGN(y, int_arg(2));
        hi = y;
      }
      if (lo < 0 || hi < lo || hi > n) return fail("index out of range: " + std::to_string(hi));
      if (j.is_string()) return str(j.get<std::string>().substr(lo, hi - lo));
      Json out = Json::array();
      for (int64_t i = lo; i < hi; ++i) out.push_back(j[static_cast<size_t>(i)]);
      return Val{out, false, false, ""};
    }
    if (f == "print") return str(GoSprint(args));
    if (f == "println") return str(GoSprintln(args));
    if (f == "printf") {
      STRATA_TRY(want_at_least(1));
      STRATA_ASSIGN(format, str_arg(0));
      return str(GoSprintf(format, std::vector<Val>(args.begin() + 1, args.end())));
    }
    if (f == "eq" || f == "ne" || f == "lt" || f == "le" || f == "gt" || f == "ge") {
      return Compare(fn, cmd, args);
    }
    if (f == "json") {
      STRATA_TRY(want(1));
      return str(header ? "" : MarshalForTemplate(args[0], opts_));
    }
    if (f == "join") {
      STRATA_TRY(want(2));
      if (header) return args[0];
      STRATA_ASSIGN(sep, str_arg(1));
      if (!args[0].invalid && args[0].v.is_null()) return str("");  // a nil []string
      if (!args[0].v.is_array()) {
        return ExecFail(fn.pos, cmd.text,
                        "wrong type for value; expected []string; got " + GoTypeName(args[0]));
      }
      std::string out;
      bool first = true;
      for (const Json& e : args[0].v) {
        if (!first) out += sep;
        first = false;
        out += SprintJson(e, false, nullptr, false);
      }
      return str(out);
    }
    if (f == "split") {
      STRATA_TRY(want(2));
      if (header) return args[0];
      STRATA_ASSIGN(s, str_arg(0));
      STRATA_ASSIGN(sep, str_arg(1));
      Json out = Json::array();
      if (sep.empty()) {
        for (size_t i = 0; i < s.size();) {
          size_t n = 1;
          while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
          out.push_back(s.substr(i, n));
          i += n;
        }
      } else {
        size_t start = 0;
        for (size_t at; (at = s.find(sep, start)) != std::string::npos; start = at + sep.size()) {
          out.push_back(s.substr(start, at - start));
        }
        out.push_back(s.substr(start));
      }
      return Val{out, false, false, ""};
    }
    if (f == "title" || f == "lower" || f == "upper") {
      STRATA_TRY(want(1));
      if (header) return args[0];
      STRATA_ASSIGN(s, str_arg(0));
      bool at_word_start = true;
      for (char& c : s) {
        if (f == "lower" && c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
        if (f == "upper" && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
        if (f == "title") {
          if (at_word_start && c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
          at_word_start = !IsAlnum(c);
        }
      }
      return str(s);
    }
    if (f == "pad") {
      STRATA_TRY(want(3));
      STRATA_ASSIGN(s, str_arg(0));
      STRATA_ASSIGN(prefix, int_arg(1));
      STRATA_ASSIGN(suffix, int_arg(2));
      if (s.empty()) return str(s);
      return str(std::string(std::max<int64_t>(prefix, 0), ' ') + s +
                 std::string(std::max<int64_t>(suffix, 0), ' '));
    }
    if (f == "truncate") {
      STRATA_TRY(want(2));
      if (header) return args[0];
      STRATA_ASSIGN(s, str_arg(0));
      STRATA_ASSIGN(n, int_arg(1));
      if (static_cast<int64_t>(s.size()) < n) return str(s);
      return str(s.substr(0, static_cast<size_t>(std::max<int64_t>(n, 0))));
    }
    return fail("function not implemented");
  }

  Result<Val> Compare(const Arg& fn, const Command& cmd, const std::vector<Val>& args) {
    const std::string& f = fn.name;
    auto fail = [&](const std::string& what) {
      return ExecFail(fn.pos, cmd.text, "error calling " + f + ": " + what);
    };
    if (args.size() < 2 || (f != "eq" && args.size() != 2)) {
      if (f == "eq" && args.size() < 2) return fail("missing argument for comparison");
      if (args.size() < 2) return fail("missing argument for comparison");
      return ExecFail(
          fn.pos, f,
          "wrong number of args for " + f + ": want 2 got " + std::to_string(args.size()));
    }
    auto basic = [](const Json& j) {
      return j.is_string() || j.is_number() || j.is_boolean() || j.is_null();
    };
    // <0, 0, >0; nullopt when incomparable.
    auto cmp = [&](const Val& a, const Val& b, bool ordered) -> Result<int> {
      if (a.invalid || b.invalid || !basic(a.v) || !basic(b.v)) {
        return fail(ordered ? "invalid type for comparison" : "invalid type for comparison");
      }
      if (a.v.is_number() && b.v.is_number()) {
        if (IsInt(a.v) && IsInt(b.v)) {
          int64_t x = a.v.get<int64_t>(), y = b.v.get<int64_t>();
          return x < y ? -1 : x > y ? 1 : 0;
        }
        double x = a.v.get<double>(), y = b.v.get<double>();
        return x < y ? -1 : x > y ? 1 : 0;
      }
      if (a.v.is_string() && b.v.is_string()) {
        int c = a.v.get_ref<const std::string&>().compare(b.v.get_ref<const std::string&>());
        return c < 0 ? -1 : c > 0 ? 1 : 0;
      }
      if (!ordered && a.v.is_boolean() && b.v.is_boolean()) {
        return a.v.get<bool>() == b.v.get<bool>() ? 0 : 1;
      }
      if (!ordered && a.v.is_null() && b.v.is_null()) return 0;
      if (ordered && (a.v.is_boolean() || a.v.is_null()))
        return fail("invalid type for comparison");
      return fail("incompatible types for comparison");
    };
    auto yes = [](bool b) { return Val{Json(b), false, false, ""}; };
    if (f == "eq") {
      for (size_t k = 1; k < args.size(); ++k) {
        STRATA_ASSIGN(c, cmp(args[0], args[k], false));
        if (c == 0) return yes(true);
      }
      return yes(false);
    }
    const bool ordered = f != "ne";
    STRATA_ASSIGN(c, cmp(args[0], args[1], ordered));
    if (f == "ne") return yes(c != 0);
    if (f == "lt") return yes(c < 0);
    if (f == "le") return yes(c <= 0);
    if (f == "gt") return yes(c > 0);
    return yes(c >= 0);
  }

  const Json& root_;
  const GoTemplateOptions& opts_;
  std::vector<std::pair<std::string, Val>> vars_;
  std::string out_;
};

}  // namespace

// ---------------------------------------------------------------------------------------------

struct TemplateSource {
  std::string text;
};

Result<GoTemplate> GoTemplate::Parse(std::string_view text) {
  Lexer lexer(text);
  STRATA_ASSIGN(pieces, lexer.Run());
  Parser parser(text);
  STRATA_ASSIGN(root, parser.Run(pieces));
  auto node = std::make_shared<Node>(std::move(root));
  // Keep the source beside the tree for execution error positions.
  node->text = std::string(text);
  return GoTemplate(std::move(node));
}

Result<std::string> GoTemplate::Execute(const nlohmann::ordered_json& data,
                                        const GoTemplateOptions& options) const {
  Executor exec("", data, options);
  exec.src_ = &root_->text;
  Val dot{data, false, true, ""};
  for (const Node& n : root_->list) STRATA_TRY(exec.Walk(n, dot));
  return std::move(exec.output());
}

std::string GoTemplate::ExecutePartial(const nlohmann::ordered_json& data,
                                       const GoTemplateOptions& options) const {
  Executor exec("", data, options);
  exec.src_ = &root_->text;
  Val dot{data, false, true, ""};
  for (const Node& n : root_->list) {
    if (!exec.Walk(n, dot)) break;
  }
  return std::move(exec.output());
}

std::string GoSprintValue(const nlohmann::ordered_json& value) {
  return SprintJson(value, false, nullptr, false);
}

// ---------------------------------------------------------------------------------------------
// path.Match

namespace {

// Matches one character class at pattern[p] ('[' already consumed) against rune c.
Result<bool> MatchClass(std::string_view pattern, size_t& p, std::string_view c) {
  bool negated = false;
  if (p < pattern.size() && pattern[p] == '^') negated = true, ++p;
  bool matched = false;
  bool first = true;
  auto read_char = [&](std::string& out) -> Status {
    if (p >= pattern.size()) return Fail(ErrorCode::kInvalidArgument, "syntax error in pattern");
    if (pattern[p] == '\\') ++p;
    if (p >= pattern.size()) return Fail(ErrorCode::kInvalidArgument, "syntax error in pattern");
    size_t n = 1;
    while (p + n < pattern.size() && (static_cast<unsigned char>(pattern[p + n]) & 0xC0) == 0x80)
      ++n;
    out = std::string(pattern.substr(p, n));
    p += n;
    return {};
  };
  for (;;) {
    if (p >= pattern.size()) return Fail(ErrorCode::kInvalidArgument, "syntax error in pattern");
    if (pattern[p] == ']' && !first) {
      ++p;
      break;
    }
    if (pattern[p] == '-' || (pattern[p] == ']' && first))
      return Fail(ErrorCode::kInvalidArgument, "syntax error in pattern");
    first = false;
    std::string lo, hi;
    STRATA_TRY(read_char(lo));
    hi = lo;
    if (p < pattern.size() && pattern[p] == '-') {
      ++p;
      STRATA_TRY(read_char(hi));
    }
    if (lo <= c && c <= hi) matched = true;
  }
  return matched != negated;
}

// Go's matchChunk on the whole remaining name with backtracking over '*'.
Result<bool> MatchFrom(std::string_view pattern, size_t p, std::string_view name, size_t n) {
  while (p < pattern.size()) {
    char pc = pattern[p];
    if (pc == '*') {
      while (p < pattern.size() && pattern[p] == '*') ++p;
      if (p == pattern.size()) return name.find('/', n) == std::string_view::npos;
      for (size_t k = n; k <= name.size(); ++k) {
        STRATA_ASSIGN(m, MatchFrom(pattern, p, name, k));
        if (m) return true;
        if (k < name.size() && name[k] == '/') break;
      }
      return false;
    }
    if (n >= name.size()) return false;
    size_t len = 1;
    while (n + len < name.size() && (static_cast<unsigned char>(name[n + len]) & 0xC0) == 0x80)
      ++len;
    std::string_view c = name.substr(n, len);
    if (pc == '?') {
      if (c == "/") return false;
      ++p;
    } else if (pc == '[') {
      ++p;
      STRATA_ASSIGN(m, MatchClass(pattern, p, c));
      if (!m || c == "/") return false;
    } else {
      if (pc == '\\') {
        ++p;
        if (p >= pattern.size())
          return Fail(ErrorCode::kInvalidArgument, "syntax error in pattern");
        pc = pattern[p];
      }
      if (name[n] != pc) return false;
      ++p;
      len = 1;
    }
    n += len;
  }
  return n == name.size();
}

}  // namespace

Result<bool> GoPathMatch(std::string_view pattern, std::string_view name) {
  // A malformed pattern is an error whatever the name (Go 1.16+ checks the whole pattern).
  for (size_t p = 0; p < pattern.size();) {
    if (pattern[p] == '\\') {
      if (p + 1 >= pattern.size())
        return Fail(ErrorCode::kInvalidArgument, "syntax error in pattern");
      p += 2;
    } else if (pattern[p] == '[') {
      ++p;
      STRATA_TRY(MatchClass(pattern, p, "a"));
    } else {
      ++p;
    }
  }
  return MatchFrom(pattern, 0, name, 0);
}

}  // namespace strata
