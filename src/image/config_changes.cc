#include "image/config_changes.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <vector>

#include "image/filter_time.h"
#include "image/shell_words.h"
#include "util/clean_path.h"
#include "util/json_depth.h"

namespace strata {
namespace {

constexpr int64_t kMillisecond = 1000000;

bool IsSpace(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

std::string_view TrimLeft(std::string_view s) {
  while (!s.empty() && IsSpace(s.front())) s.remove_prefix(1);
  return s;
}

std::string_view Trim(std::string_view s) {
  s = TrimLeft(s);
  while (!s.empty() && IsSpace(s.back())) s.remove_suffix(1);
  return s;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

std::string Upper(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return out;
}

std::vector<std::string> SplitWhitespace(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && IsSpace(s[i])) ++i;
    size_t start = i;
    while (i < s.size() && !IsSpace(s[i])) ++i;
    if (i > start) out.emplace_back(s.substr(start, i - start));
  }
  return out;
}

tl::unexpected<Error> AtLeastOneArgument(std::string_view cmd) {
  return Fail(ErrorCode::kInvalidArgument, std::string(cmd) + " requires at least one argument");
}

tl::unexpected<Error> ExactlyOneArgument(std::string_view cmd) {
  return Fail(ErrorCode::kInvalidArgument, std::string(cmd) + " requires exactly one argument");
}

// One logical instruction line split like the buildkit parser's splitCommand.
struct Instruction {
  std::string keyword;  // lower case
  std::map<std::string, std::optional<std::string>> flags;
  std::vector<std::string> flag_order;
  std::string rest;      // arguments after keyword and --flags, trimmed
  std::string original;  // the whole line
};

Instruction SplitInstruction(std::string_view line) {
  Instruction ins;
  ins.original = std::string(TrimLeft(line));
  std::string_view text = Trim(line);
  size_t end = 0;
  while (end < text.size() && !IsSpace(text[end])) ++end;
  ins.keyword = Lower(text.substr(0, end));
  std::string_view rest = TrimLeft(text.substr(end));
  // Leading "--name[=value]" words are builder flags; a bare "--" ends them.
  while (rest.size() >= 2 && rest[0] == '-' && rest[1] == '-') {
    size_t word_end = 0;
    while (word_end < rest.size() && !IsSpace(rest[word_end])) ++word_end;
    std::string_view word = rest.substr(2, word_end - 2);
    rest = TrimLeft(rest.substr(word_end));
    if (word.empty()) break;
    auto eq = word.find('=');
    std::string name(word.substr(0, eq));
    ins.flag_order.push_back(name);
    ins.flags[name] = eq == std::string_view::npos
                          ? std::nullopt
                          : std::optional<std::string>(std::string(word.substr(eq + 1)));
  }
  ins.rest = std::string(rest);
  return ins;
}

// Logical lines of Dockerfile text: blank and comment lines dropped, '\' continuations joined.
std::vector<std::string> LogicalLines(std::string_view text) {
  std::vector<std::string> physical;
  size_t start = 0;
  while (start <= text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos) nl = text.size();
    physical.emplace_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  // Strips a trailing escape (plus blanks after it); returns whether the line continues.
  auto continues = [](std::string& line) {
    size_t end = line.size();
    while (end > 0 && (line[end - 1] == ' ' || line[end - 1] == '\t' || line[end - 1] == '\r')) {
      --end;
    }
    if (end > 0 && line[end - 1] == '\\') {
      line.resize(end - 1);
      return true;
    }
    return false;
  };
  std::vector<std::string> logical;
  size_t i = 0;
  while (i < physical.size()) {
    std::string line(TrimLeft(physical[i++]));
    if (line.empty() || line[0] == '#') continue;
    bool more = continues(line);
    while (more && i < physical.size()) {
      std::string next = physical[i++];
      std::string_view trimmed = TrimLeft(next);
      if (trimmed.empty() || trimmed[0] == '#') continue;
      more = continues(next);
      line += next;
    }
    logical.push_back(std::move(line));
  }
  return logical;
}

// parseJSON: a JSON array of strings. nullopt when the text is not a JSON array at all (then the
// instruction uses its shell/whitespace form); an error when it is an array of non-strings.
Result<std::optional<std::vector<std::string>>> ParseJsonArray(std::string_view rest) {
  rest = TrimLeft(rest);
  if (rest.empty() || rest[0] != '[') return std::optional<std::vector<std::string>>();
  auto json = ParseUntrustedJson(rest);
  if (json.is_discarded() || !json.is_array()) return std::optional<std::vector<std::string>>();
  std::vector<std::string> out;
  for (const auto& element : json) {
    if (!element.is_string()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "when using JSON array syntax, arrays must be comprised of strings only");
    }
    out.push_back(element.get<std::string>());
  }
  return std::optional<std::vector<std::string>>(std::move(out));
}

// A command line in exec (JSON) or shell form.
struct CmdLine {
  std::vector<std::string> args;
  bool prepend_shell = false;
};

Result<CmdLine> ParseCmdLine(std::string_view rest) {
  CmdLine line;
  if (rest.empty()) return line;
  STRATA_ASSIGN(json, ParseJsonArray(rest));
  if (json) {
    line.args = std::move(*json);
  } else {
    line.args = {std::string(rest)};
    line.prepend_shell = true;
  }
  return line;
}

// buildkit parseWords: whitespace-separated words keeping quotes and escapes for later
// expansion.
std::vector<std::string> ParseWords(std::string_view rest) {
  std::vector<std::string> words;
  std::string word;
  bool in_word = false, blank_ok = false;
  char quote = 0;
  auto flush = [&] {
    if (blank_ok || !word.empty()) words.push_back(word);
    word.clear();
    blank_ok = false;
    in_word = false;
  };
  for (size_t pos = 0; pos < rest.size(); ++pos) {
    char c = rest[pos];
    if (!in_word && quote == 0) {
      if (IsSpace(c)) continue;
      in_word = true;
    }
    if (quote == 0) {
      if (IsSpace(c)) {
        flush();
        continue;
      }
      if (c == '\'' || c == '"') {
        quote = c;
        blank_ok = true;
      }
      if (c == '\\') {
        if (pos + 1 == rest.size()) continue;
        word += c;
        c = rest[++pos];
      }
      word += c;
    } else {
      if (c == quote) quote = 0;
      if (c == '\\' && quote != '\'' && quote != 0) {
        if (pos + 1 == rest.size()) {
          quote = 0;
          continue;
        }
        word += c;
        c = rest[++pos];
      }
      word += c;
    }
  }
  if (in_word || quote != 0) flush();
  return words;
}

struct KeyValue {
  std::string key;
  std::string value;
};

// buildkit parseNameVal: "KEY name value" (old form) or "KEY a=b c=d" (new form).
Result<std::vector<KeyValue>> ParseNameVal(std::string_view rest, std::string_view cmd) {
  std::vector<std::string> words = ParseWords(rest);
  if (words.empty()) return AtLeastOneArgument(cmd);
  std::vector<KeyValue> out;
  if (words[0].find('=') == std::string::npos) {
    std::string_view text = Trim(rest);
    size_t end = 0;
    while (end < text.size() && !IsSpace(text[end])) ++end;
    if (end == text.size())
      return Fail(ErrorCode::kInvalidArgument, std::string(cmd) + " must have two arguments");
    out.push_back({std::string(text.substr(0, end)), std::string(TrimLeft(text.substr(end)))});
  } else {
    for (const auto& word : words) {
      auto eq = word.find('=');
      if (eq == std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument, "Syntax error - can't find = in \"" + word +
                                                     "\". Must be of the form: name=value");
      }
      out.push_back({word.substr(0, eq), word.substr(eq + 1)});
    }
  }
  for (const auto& kv : out) {
    if (kv.key.empty())
      return Fail(ErrorCode::kInvalidArgument, std::string(cmd) + " names can not be blank");
  }
  return out;
}

// normalizeWorkdir (unix): relative paths are joined onto the current one and cleaned,
// absolute ones are kept as written.
Result<std::string> NormalizeWorkdir(const std::string& current, const std::string& requested) {
  if (requested.empty()) return Fail(ErrorCode::kInvalidArgument, "cannot normalize nothing");
  if (requested[0] == '/') return requested;
  std::string joined = "/";
  if (!current.empty()) joined += "/" + current;
  joined += "/" + requested;
  return CleanPath(joined);
}

Result<int64_t> HealthInterval(const Instruction& ins, const std::string& name) {
  auto it = ins.flags.find(name);
  if (it == ins.flags.end() || it->second->empty()) return int64_t{0};
  STRATA_ASSIGN(ns, ParseGoDuration(*it->second));
  if (ns <= 0)
    return Fail(ErrorCode::kInvalidArgument, "Interval \"" + name + "\" must be positive");
  if (ns < kMillisecond)
    return Fail(ErrorCode::kInvalidArgument, "Interval \"" + name + "\" cannot be less than 1ms");
  return ns;
}

bool ValidSignal(const std::string& raw) {
  bool numeric = !raw.empty();
  for (char c : raw) numeric = numeric && c >= '0' && c <= '9';
  if (numeric) return raw.find_first_not_of('0') != std::string::npos && raw.size() < 10;
  static const char* kNames[] = {
      "ABRT", "ALRM",   "BUS",  "CHLD",   "CLD",   "CONT", "FPE",  "HUP",   "ILL",
      "INT",  "IO",     "IOT",  "KILL",   "PIPE",  "POLL", "PROF", "PWR",   "QUIT",
      "SEGV", "STKFLT", "STOP", "SYS",    "TERM",  "TRAP", "TSTP", "TTIN",  "TTOU",
      "URG",  "USR1",   "USR2", "VTALRM", "WINCH", "XCPU", "XFSZ", "RTMIN", "RTMAX"};
  std::string name = Upper(raw);
  if (name.rfind("SIG", 0) == 0) name = name.substr(3);
  for (const char* n : kNames) {
    if (name == n) return true;
  }
  for (int k = 1; k <= 15; ++k) {
    if (name == "RTMIN+" + std::to_string(k)) return true;
  }
  for (int k = 1; k <= 14; ++k) {
    if (name == "RTMAX-" + std::to_string(k)) return true;
  }
  return false;
}

// nat.ParsePortSpecs for EXPOSE: [ip:[hostPort]:]containerPort[-end][/proto].
Status AddExposedPorts(const std::string& spec, std::set<std::string>& ports) {
  std::string_view raw = spec;
  auto colon = raw.rfind(':');
  std::string_view container = colon == std::string_view::npos ? raw : raw.substr(colon + 1);
  std::string proto = "tcp";
  auto slash = container.find('/');
  if (slash != std::string_view::npos) {
    if (slash + 1 < container.size()) proto = std::string(container.substr(slash + 1));
    container = container.substr(0, slash);
  }
  if (container.empty())
    return Fail(ErrorCode::kInvalidArgument, "No port specified: " + spec + "<empty>");
  auto parse_port = [](std::string_view s, uint64_t* out) {
    if (s.empty() || s.size() > 5) return false;
    uint64_t v = 0;
    for (char c : s) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > 65535) return false;
    *out = v;
    return true;
  };
  uint64_t first = 0, last = 0;
  auto dash = container.find('-');
  bool ok = dash == std::string_view::npos
                ? parse_port(container, &first) && parse_port(container, &last)
                : parse_port(container.substr(0, dash), &first) &&
                      parse_port(container.substr(dash + 1), &last);
  if (!ok)
    return Fail(ErrorCode::kInvalidArgument, "Invalid containerPort: " + std::string(container));
  if (last < first)
    return Fail(ErrorCode::kInvalidArgument,
                "Invalid range specified for the Port: " + std::string(container));
  std::string lower = Lower(proto);
  if (lower != "tcp" && lower != "udp" && lower != "sctp")
    return Fail(ErrorCode::kInvalidArgument, "Invalid proto: " + proto);
  for (uint64_t p = first; p <= last; ++p) ports.insert(std::to_string(p) + "/" + lower);
  return {};
}

std::vector<std::string> DefaultShell(const std::string& os) {
  if (os == "windows") return {"cmd", "/S", "/C"};
  return {"/bin/sh", "-c"};
}

bool IsCommitCommand(const std::string& keyword) {
  static const char* kAllowed[] = {"cmd",   "entrypoint", "healthcheck", "env",    "expose",
                                   "label", "onbuild",    "user",        "volume", "workdir"};
  for (const char* k : kAllowed) {
    if (keyword == k) return true;
  }
  return false;
}

}  // namespace

Status ConfigEditor::Apply(std::string_view line) {
  Instruction ins = SplitInstruction(line);
  const std::string& kw = ins.keyword;
  std::string upper = Upper(kw);
  if (kw != "healthcheck" && !ins.flag_order.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "Unknown flag: " + ins.flag_order.front());
  }
  ContainerConfig c = config_;
  const std::vector<std::string> env = c.env.value_or(std::vector<std::string>{});
  auto expand = [&](const std::string& word) { return ProcessShellWord(word, env); };
  auto resolve = [&](const CmdLine& cmd) {
    if (cmd.args.empty()) return std::vector<std::string>{};
    if (!cmd.prepend_shell) return cmd.args;
    std::vector<std::string> out = c.shell.empty() ? DefaultShell(os_) : c.shell;
    out.insert(out.end(), cmd.args.begin(), cmd.args.end());
    return out;
  };
  bool cmd_set = cmd_set_;

  if (kw == "cmd" || kw == "entrypoint") {
    STRATA_ASSIGN(cmd, ParseCmdLine(ins.rest));
    if (kw == "cmd") {
      c.cmd = resolve(cmd);
      if (!cmd.args.empty()) cmd_set = true;
    } else {
      c.entrypoint = resolve(cmd);
      if (!cmd_set) c.cmd.reset();
    }
    c.args_escaped = false;
  } else if (kw == "env" || kw == "label") {
    STRATA_ASSIGN(pairs, ParseNameVal(ins.rest, upper));
    for (auto& kv : pairs) {
      STRATA_ASSIGN(key, expand(kv.key));
      STRATA_ASSIGN(value, expand(kv.value));
      if (kw == "label") {
        if (!c.labels) c.labels.emplace();
        (*c.labels)[key] = value;
        continue;
      }
      std::string entry = key + "=" + value;
      if (!c.env) c.env.emplace();
      auto same_key = [&](const std::string& e) { return e.substr(0, e.find('=')) == key; };
      auto it = std::find_if(c.env->begin(), c.env->end(), same_key);
      if (it != c.env->end()) {
        *it = entry;
      } else {
        c.env->push_back(entry);
      }
    }
  } else if (kw == "expose") {
    std::vector<std::string> specs = SplitWhitespace(ins.rest);
    if (specs.empty()) return AtLeastOneArgument("EXPOSE");
    std::sort(specs.begin(), specs.end());
    for (const auto& spec : specs) {
      STRATA_ASSIGN(words, ProcessShellWords(spec, env));
      for (const auto& word : words) STRATA_TRY(AddExposedPorts(word, c.exposed_ports));
    }
  } else if (kw == "volume") {
    STRATA_ASSIGN(json, ParseJsonArray(ins.rest));
    std::vector<std::string> volumes = json ? *json : SplitWhitespace(ins.rest);
    if (volumes.empty()) return AtLeastOneArgument("VOLUME");
    if (!c.volumes) c.volumes.emplace();
    for (const auto& v : volumes) {
      std::string trimmed(Trim(v));
      if (trimmed.empty())
        return Fail(ErrorCode::kInvalidArgument, "VOLUME specified can not be an empty string");
      STRATA_ASSIGN(path, expand(trimmed));
      if (path.empty())
        return Fail(ErrorCode::kInvalidArgument, "VOLUME specified can not be an empty string");
      c.volumes->insert(path);
    }
  } else if (kw == "user" || kw == "workdir" || kw == "stopsignal") {
    if (ins.rest.empty()) return ExactlyOneArgument(upper);
    STRATA_ASSIGN(value, expand(ins.rest));
    if (kw == "user") {
      c.user = value;
    } else if (kw == "workdir") {
      STRATA_ASSIGN(dir, NormalizeWorkdir(c.working_dir, value));
      c.working_dir = dir;
    } else {
      if (!ValidSignal(value)) return Fail(ErrorCode::kInvalidArgument, "Invalid signal: " + value);
      c.stop_signal = value;
    }
  } else if (kw == "onbuild") {
    if (ins.rest.empty()) return AtLeastOneArgument("ONBUILD");
    std::string trigger = Upper(SplitInstruction(ins.rest).keyword);
    if (trigger == "ONBUILD")
      return Fail(ErrorCode::kInvalidArgument,
                  "Chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (trigger == "MAINTAINER" || trigger == "FROM") {
      return Fail(ErrorCode::kInvalidArgument, trigger + " isn't allowed as an ONBUILD trigger");
    }
    // The trigger is the original text after "ONBUILD" and the blanks that follow it.
    std::string_view expression = TrimLeft(ins.original);
    expression.remove_prefix(std::min<size_t>(expression.size(), 7));
    if (!c.on_build) c.on_build.emplace();
    c.on_build->emplace_back(TrimLeft(expression));
  } else if (kw == "healthcheck") {
    std::string_view rest = ins.rest;
    if (rest.empty()) return AtLeastOneArgument("HEALTHCHECK");
    size_t sep = 0;
    while (sep < rest.size() && !IsSpace(rest[sep])) ++sep;
    std::string type = Upper(rest.substr(0, sep));
    std::string_view command = TrimLeft(rest.substr(sep));
    HealthConfig health;
    if (type == "NONE") {
      if (!command.empty())
        return Fail(ErrorCode::kInvalidArgument, "HEALTHCHECK NONE takes no arguments");
      health.test = {"NONE"};
    } else {
      for (const auto& name : ins.flag_order) {
        if (name != "interval" && name != "timeout" && name != "start-period" &&
            name != "retries") {
          return Fail(ErrorCode::kInvalidArgument, "Unknown flag: " + name);
        }
        if (!ins.flags[name])
          return Fail(ErrorCode::kInvalidArgument, "Missing a value on flag: " + name);
      }
      if (type != "CMD")
        return Fail(ErrorCode::kInvalidArgument,
                    "Unknown type \"" + type + "\" in HEALTHCHECK (try CMD)");
      STRATA_ASSIGN(cmd, ParseCmdLine(command));
      if (cmd.args.empty())
        return Fail(ErrorCode::kInvalidArgument, "Missing command after HEALTHCHECK CMD");
      health.test = {cmd.prepend_shell ? "CMD-SHELL" : "CMD"};
      health.test.insert(health.test.end(), cmd.args.begin(), cmd.args.end());
      STRATA_ASSIGN(interval, HealthInterval(ins, "interval"));
      STRATA_ASSIGN(timeout, HealthInterval(ins, "timeout"));
      STRATA_ASSIGN(start_period, HealthInterval(ins, "start-period"));
      health.interval_ns = interval;
      health.timeout_ns = timeout;
      health.start_period_ns = start_period;
      auto retries = ins.flags.find("retries");
      if (retries != ins.flags.end() && !retries->second->empty()) {
        const std::string& text = *retries->second;
        int64_t n = 0;
        bool ok = text.size() < 11;
        size_t start = (!text.empty() && (text[0] == '-' || text[0] == '+')) ? 1 : 0;
        ok = ok && start < text.size();
        for (size_t k = start; ok && k < text.size(); ++k) {
          ok = text[k] >= '0' && text[k] <= '9';
          n = n * 10 + (text[k] - '0');
        }
        if (!ok || n > std::numeric_limits<int32_t>::max()) {
          return Fail(ErrorCode::kInvalidArgument,
                      "strconv.ParseInt: parsing \"" + text + "\": invalid syntax");
        }
        if (text[0] == '-') n = -n;
        if (n < 1)
          return Fail(ErrorCode::kInvalidArgument,
                      "--retries must be at least 1 (not " + std::to_string(n) + ")");
        health.retries = n;
      }
    }
    c.healthcheck = health;
  } else if (kw == "shell") {
    STRATA_ASSIGN(json, ParseJsonArray(ins.rest));
    if (!json)
      return Fail(ErrorCode::kInvalidArgument, "SHELL requires the arguments to be in JSON form");
    if (json->empty()) return AtLeastOneArgument("SHELL");
    c.shell = *json;
  } else {
    return Fail(ErrorCode::kInvalidArgument,
                "unsupported instruction \"" + upper + "\": only metadata instructions apply");
  }
  config_ = std::move(c);
  cmd_set_ = cmd_set;
  return {};
}

Result<ContainerConfig> ApplyChanges(const ContainerConfig& base,
                                     std::span<const std::string> changes, std::string_view os) {
  if (changes.empty()) return base;
  std::string text;
  for (size_t i = 0; i < changes.size(); ++i) {
    if (i > 0) text += '\n';
    text += changes[i];
  }
  std::vector<std::string> lines = LogicalLines(text);
  for (const auto& line : lines) {
    std::string keyword = SplitInstruction(line).keyword;
    if (!IsCommitCommand(keyword)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "change \"" + line + "\": " + keyword + " is not a valid change command");
    }
  }
  ConfigEditor editor(base, std::string(os));
  for (const auto& line : lines) {
    auto applied = editor.Apply(line);
    if (!applied) return Wrap("change \"" + line + "\"", applied.error());
  }
  return std::move(editor).Take();
}

}  // namespace strata
