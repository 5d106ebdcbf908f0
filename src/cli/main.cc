// strata: the command line. Parses arguments, calls libstrata, prints in docker's formats.
// Behaviour lives in the library; this file only translates, and speaks docker's command-line
// conventions where CLI11's differ: `help`, `--version`, `image ls`-style aliases, "unknown
// command" with a suggestion, and docker's exit codes (125 for a bad flag, 1 otherwise).
#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "cli/exit_status.h"
#include "util/cancel.h"
#include "util/debug_log.h"

namespace strata::cli {
namespace {

// argv in command-line order. Docker's flag library accepts "-H=false" for short flags; CLI11
// does not, so it becomes "-H" "false".
std::vector<std::string> CommandLineArgs(int argc, char** argv) {
  std::vector<std::string> args;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a.size() > 3 && a[0] == '-' && a[1] != '-' && a[2] == '=') {
      args.push_back(a.substr(0, 2));
      args.push_back(a.substr(3));
    } else {
      args.push_back(a);
    }
  }
  return args;
}

CLI::App* FindSubcommand(CLI::App& app, const std::string& name) {
  auto found = app.get_subcommands([&](CLI::App* sub) { return sub->check_name(name); });
  return found.empty() ? nullptr : found.front();
}

bool IsGroup(CLI::App& app) {
  return !app.get_subcommands({}).empty() &&
         app.get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
}

// Where the command words are: the chain of (sub)commands the arguments name, the index of each
// command word, and the first word that names no command of a group (if any).
struct CommandPath {
  std::vector<CLI::App*> apps;  // root first
  std::vector<size_t> word_index;
  std::optional<size_t> unknown;  // index of a word that is no subcommand of apps.back()
  bool value_missing = false;     // the last word is a flag that needs a value
  bool unknown_flag = false;      // a group was given a flag it does not have
};

CommandPath FindCommandPath(CLI::App& root, const std::vector<std::string>& args) {
  CommandPath path{{&root}, {}, {}};
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    CLI::App& cur = *path.apps.back();
    if (a == "--") break;
    if (a.size() > 1 && a[0] == '-') {
      const CLI::Option* opt = cur.get_option_no_throw(a.substr(0, a.find('=')));
      path.unknown_flag |= opt == nullptr && IsGroup(cur);
      if (opt && a.find('=') == std::string::npos && opt->get_items_expected_min() > 0) {
        path.value_missing = ++i == args.size();
      }
      continue;
    }
    if (!IsGroup(cur)) break;  // a positional argument of a command
    CLI::App* sub = FindSubcommand(cur, a);
    if (!sub) {
      path.unknown = i;
      break;
    }
    path.apps.push_back(sub);
    path.word_index.push_back(i);
  }
  return path;
}

std::string CommandName(const CLI::App& app) {
  std::string name = app.get_name();
  for (const CLI::App* p = app.get_parent(); p; p = p->get_parent())
    name = p->get_name() + " " + name;
  return name;
}

// Levenshtein distance, for "Did you mean ...?".
size_t EditDistance(const std::string& a, const std::string& b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      size_t above = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] != b[j - 1])});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// cobra's suggestions: commands within edit distance 2, or that the word is a prefix of.
std::vector<std::string> Suggestions(CLI::App& group, const std::string& word) {
  std::vector<std::string> out;
  for (CLI::App* sub : group.get_subcommands({})) {
    const std::string& name = sub->get_name();
    if (EditDistance(word, name) <= 2 || (word.size() > 1 && name.starts_with(word))) {
      out.push_back(name);
    }
  }
  return out;
}

int ReportUnknownCommand(const CommandPath& path, const std::vector<std::string>& args) {
  CLI::App& group = *path.apps.back();
  std::string words;
  for (size_t i : path.word_index) words += args[i] + " ";
  words += args[*path.unknown];
  std::cerr << "strata: '" << words << "' is not a strata command.\n";
  auto suggestions = Suggestions(group, args[*path.unknown]);
  if (!suggestions.empty()) {
    std::cerr << "\nDid you mean this?\n";
    for (const std::string& s : suggestions) std::cerr << "\t" << s << "\n";
    std::cerr << "\n";
  }
  std::cerr << "See '" << CommandName(group) << " --help'.\n";
  return kExitFailure;
}

// `help [COMMAND...]` is `[COMMAND...] --help`; `image ls` and the other docker aliases become
// the top-level command they stand for.
void RewriteDockerSpellings(CLI::App& root, std::vector<std::string>& args) {
  CommandPath path = FindCommandPath(root, args);
  if (path.unknown && args[*path.unknown] == "help" && path.apps.size() == 1) {
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(*path.unknown));
    args.push_back("--help");
    path = FindCommandPath(root, args);
  }
  if (path.apps.size() < 3) return;
  if (const char* target = AliasTarget(*path.apps[1], *path.apps[2])) {
    args.erase(args.begin() + static_cast<std::ptrdiff_t>(path.word_index[1]));
    args[path.word_index[0]] = target;  // flags between the two words stay where they were
  }
}

// The innermost command the parser got to before it failed.
CLI::App* ParsedCommand(CLI::App& root) {
  CLI::App* cur = &root;
  for (bool deeper = true; deeper;) {
    deeper = false;
    for (CLI::App* sub : cur->get_subcommands({})) {
      if (sub->count() > 0) {
        cur = sub;
        deeper = true;
        break;
      }
    }
  }
  return cur;
}

// The bounds docker words a wrong argument count with ("requires at least 1 argument").
std::string ArgumentCountRule(const CLI::App& command) {
  int min = 0, max = 0;
  for (const CLI::Option* o :
       command.get_options([](const CLI::Option* o) { return o->get_positional(); })) {
    if (o->get_required()) min += o->get_items_expected_min();
    max = std::min(max + o->get_items_expected_max(), 1 << 20);
  }
  auto plural = [](int n) { return std::to_string(n) + (n == 1 ? " argument" : " arguments"); };
  if (min == max) return "requires exactly " + plural(min);
  if (max < (1 << 20) && min == 0) return "requires at most " + plural(max);
  return "requires at least " + plural(min);
}

// Whether a required positional argument of `command` was not given.
bool MissesArgument(const CLI::App& command) {
  return !command
              .get_options([](const CLI::Option* o) {
                return o->get_positional() && o->get_required() && o->count() == 0;
              })
              .empty();
}

int ReportParseError(CLI::App& root, const CLI::ParseError& e) {
  if (e.get_exit_code() == 0) return root.exit(e);  // --help, --version
  CLI::App& command = *ParsedCommand(root);
  const std::string name = CommandName(command);
  std::string message = e.what();
  int code = kExitBadFlag;
  // What no command took, in command-line order. (CLI11 2.1's ExtrasError message joins this
  // list in reverse: it assumes a reversed list, which remaining() is not.)
  const std::vector<std::string> extras = root.remaining(true);
  const auto flag = std::find_if(extras.begin(), extras.end(),
                                 [](const std::string& a) { return a.size() > 1 && a[0] == '-'; });
  if (flag != extras.end()) {
    message = "unknown flag: " + *flag;  // whatever else went wrong, this came first
  } else if (dynamic_cast<const CLI::ExtrasError*>(&e)) {
    message = "\"" + name + "\" " + ArgumentCountRule(command) + "; not expected:";
    for (const std::string& a : extras) message += " " + a;
    code = kExitFailure;
  } else if (dynamic_cast<const CLI::RequiredError*>(&e) && MissesArgument(command)) {
    message = "\"" + name + "\" " + ArgumentCountRule(command) + " (" + message + ")";
    code = kExitFailure;
  }
  std::cerr << "strata: " << message << ".\nSee '" << name << " --help'.\n";
  return code;
}

int Run(int argc, char** argv) {
  CLI::App app{"strata: a daemonless container image engine", "strata"};
  app.require_subcommand(1);
  app.set_version_flag("-v,--version", std::string("strata version ") + kStrataVersion,
                       "Print version information and quit");
  GlobalOptions global;
  const char* env_root = std::getenv("STRATA_ROOT");
  global.root = env_root && *env_root ? env_root : strata::DefaultStoreRoot();
  app.add_option("--root", global.root, "Store directory (env STRATA_ROOT)")->capture_default_str();
  app.add_flag("--debug", global.debug, "Print timings of each phase to stderr");
  const char* env_policy = std::getenv("STRATA_REGISTRIES_CONFIG");
  global.registries_config = env_policy ? env_policy : "";
  app.add_option("--registries-config", global.registries_config,
                 "Registry name policy file (TOML; env STRATA_REGISTRIES_CONFIG; default "
                 "$XDG_CONFIG_HOME/strata/registries.toml, then /etc/strata/registries.toml)");
  RegisterCommands(app, global);

  std::vector<std::string> args = CommandLineArgs(argc, argv);
  RewriteDockerSpellings(app, args);
  const CommandPath path = FindCommandPath(app, args);
  const bool asks_help_or_version = std::any_of(args.begin(), args.end(), [](const std::string& a) {
    return a == "-h" || a == "--help" || a == "-v" || a == "--version";
  });
  if (path.unknown) return ReportUnknownCommand(path, args);
  if (IsGroup(*path.apps.back()) && !asks_help_or_version && !path.value_missing &&
      !path.unknown_flag) {
    // `strata`, `strata image`: docker shows the command's help.
    const CLI::App* group = path.apps.back();
    std::cout << group->help(group->get_parent() ? CommandName(*group->get_parent()) : "");
    return 0;
  }
  app.parse_complete_callback([&global] {
    if (global.debug) strata::EnableDebugLog();
  });
  std::reverse(args.begin(), args.end());  // CLI11 takes the arguments last first
  // Ctrl-C and SIGTERM cancel a pull or a load cleanly (util/cancel.h); exit 130 / 143 as docker.
  strata::InstallCancelHandlers();
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return ReportParseError(app, e);
  }
  if (strata::CancelRequested()) return 128 + strata::CancelSignal();
  return global.exit_code;
}

}  // namespace
}  // namespace strata::cli

int main(int argc, char** argv) { return strata::cli::Run(argc, argv); }
