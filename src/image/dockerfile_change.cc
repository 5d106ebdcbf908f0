#include "image/dockerfile_change.h"

#include <algorithm>
#include <cctype>
#include <nlohmann/json.hpp>

namespace strata {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r\n");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> SplitWords(const std::string& s) {
  std::vector<std::string> out;
  std::string word;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word += c;
    }
  }
  if (!word.empty()) out.push_back(word);
  return out;
}

// JSON (exec) form when the argument is a JSON array of strings, else nullopt.
std::optional<std::vector<std::string>> ExecForm(const std::string& args) {
  if (args.empty() || args[0] != '[') return std::nullopt;
  auto j = nlohmann::json::parse(args, nullptr, false);
  if (j.is_discarded() || !j.is_array()) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& item : j) {
    if (!item.is_string()) return std::nullopt;
    out.push_back(item.get<std::string>());
  }
  return out;
}

std::vector<std::string> CommandForm(const std::string& args) {
  if (auto exec = ExecForm(args)) return *exec;
  return {"/bin/sh", "-c", args};
}

std::string Unquote(const std::string& s) {
  if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
    return s.substr(1, s.size() - 2);
  }
  return s;
}

// "k=v k2=v2" or the legacy "k v" (one pair, value is the rest).
Result<std::vector<std::pair<std::string, std::string>>> KeyValues(const std::string& keyword,
                                                                   const std::string& args) {
  std::vector<std::pair<std::string, std::string>> out;
  auto words = SplitWords(args);
  if (words.empty()) return Fail(keyword + " requires at least one argument");
  if (words[0].find('=') == std::string::npos) {
    if (words.size() < 2) return Fail(keyword + " " + words[0] + ": missing value");
    std::string value = Trim(args.substr(args.find(words[0]) + words[0].size()));
    out.emplace_back(words[0], value);
    return out;
  }
  for (const std::string& w : words) {
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Fail(keyword + ": \"" + w + "\" is not of the form key=value");
    }
    out.emplace_back(w.substr(0, eq), Unquote(w.substr(eq + 1)));
  }
  return out;
}

Status ApplyOne(ContainerConfig& config, const std::string& change) {
  std::string line = Trim(change);
  size_t space = line.find_first_of(" \t");
  std::string keyword = line.substr(0, space);
  std::transform(keyword.begin(), keyword.end(), keyword.begin(),
                 [](unsigned char c) { return static_cast<char>(std::toupper(c)); });
  std::string args = space == std::string::npos ? "" : Trim(line.substr(space));
  if (keyword == "CMD") {
    config.cmd = CommandForm(args);
  } else if (keyword == "ENTRYPOINT") {
    config.entrypoint = CommandForm(args);
  } else if (keyword == "ENV") {
    STRATA_ASSIGN(pairs, KeyValues(keyword, args));
    if (!config.env) config.env.emplace();
    for (const auto& [k, v] : pairs) {
      auto& env = *config.env;
      auto it = std::find_if(env.begin(), env.end(),
                             [&](const std::string& e) { return e.starts_with(k + "="); });
      if (it != env.end()) {
        *it = k + "=" + v;
      } else {
        env.push_back(k + "=" + v);
      }
    }
  } else if (keyword == "LABEL") {
    STRATA_ASSIGN(pairs, KeyValues(keyword, args));
    if (!config.labels) config.labels.emplace();
    for (const auto& [k, v] : pairs) (*config.labels)[Unquote(k)] = v;
  } else if (keyword == "EXPOSE") {
    for (std::string port : SplitWords(args)) {
      if (port.find('/') == std::string::npos) port += "/tcp";
      config.exposed_ports.insert(port);
    }
  } else if (keyword == "VOLUME") {
    std::vector<std::string> volumes = ExecForm(args).value_or(SplitWords(args));
    if (volumes.empty()) return Fail("VOLUME requires at least one argument");
    if (!config.volumes) config.volumes.emplace();
    for (const std::string& v : volumes) config.volumes->insert(v);
  } else if (keyword == "WORKDIR") {
    if (args.empty()) return Fail("WORKDIR requires exactly one argument");
    config.working_dir = args;
  } else if (keyword == "USER") {
    if (args.empty()) return Fail("USER requires exactly one argument");
    config.user = args;
  } else if (keyword == "STOPSIGNAL") {
    if (args.empty()) return Fail("STOPSIGNAL requires exactly one argument");
    config.stop_signal = args;
  } else if (keyword == "ONBUILD") {
    if (args.empty()) return Fail("ONBUILD requires at least one argument");
    if (!config.on_build) config.on_build.emplace();
    config.on_build->push_back(args);
  } else {
    return Fail("unsupported --change instruction \"" + keyword +
                "\" (allowed: CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, ONBUILD, STOPSIGNAL, USER, "
                "VOLUME, WORKDIR)");
  }
  return {};
}

}  // namespace

Status ApplyDockerfileChanges(ContainerConfig& config, const std::vector<std::string>& changes) {
  for (const std::string& change : changes) {
    auto st = ApplyOne(config, change);
    if (!st) return Wrap("--change \"" + change + "\"", st.error());
  }
  return {};
}

}  // namespace strata
