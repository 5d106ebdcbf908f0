// completion bash|zsh|fish and man: shell completion scripts and a man page, generated at run
// time from the CLI11 definition of every command, so they list exactly what the binary takes.
#include <iostream>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"

namespace strata::cli {
namespace {

struct FlagInfo {
  std::vector<std::string> names;  // "-a", "--all"
  std::string value;               // "TEXT", "INT"; empty for a flag without a value
  std::string description;
};

// One command as completion and the man page need it. An alias (`image ls`) describes the
// command it stands for.
struct CommandInfo {
  std::string path;  // "" for strata itself, "images", "image prune"
  std::string description;
  std::vector<std::pair<std::string, std::string>> subcommands;  // name, description
  std::vector<FlagInfo> flags;
  std::vector<std::string> positionals;  // "IMAGE", "IMAGE..."
};

bool Visible(const CLI::App* app) { return !app->get_group().empty(); }

FlagInfo DescribeFlag(const CLI::Option& o) {
  FlagInfo f;
  for (const std::string& s : o.get_snames()) f.names.push_back("-" + s);
  for (const std::string& l : o.get_lnames()) f.names.push_back("--" + l);
  if (o.get_items_expected_min() > 0)
    f.value = o.get_type_name().empty() ? "VALUE" : o.get_type_name();
  f.description = o.get_description();
  return f;
}

void Describe(CLI::App& root, CLI::App& app, const std::string& path,
              std::vector<CommandInfo>& out) {
  CLI::App* definition = &app;
  if (app.get_parent() && app.get_parent() != &root) {
    if (const char* target = AliasTarget(*app.get_parent(), app)) {
      auto found = root.get_subcommands([&](CLI::App* s) { return s->get_name() == target; });
      if (!found.empty()) definition = found.front();
    }
  }
  CommandInfo info{path, definition->get_description(), {}, {}, {}};
  for (const CLI::Option* o : definition->get_options()) {
    if (o->get_group().empty()) continue;  // hidden
    if (o->get_positional()) {
      info.positionals.push_back(o->get_name() + (o->get_items_expected_max() > 1 ? "..." : ""));
    } else {
      info.flags.push_back(DescribeFlag(*o));
    }
  }
  std::vector<CLI::App*> subs = app.get_subcommands([](CLI::App* s) { return Visible(s); });
  for (CLI::App* sub : subs) info.subcommands.emplace_back(sub->get_name(), sub->get_description());
  out.push_back(info);
  for (CLI::App* sub : subs) {
    Describe(root, *sub, path.empty() ? sub->get_name() : path + " " + sub->get_name(), out);
  }
}

std::vector<CommandInfo> DescribeAll(CLI::App& root) {
  std::vector<CommandInfo> out;
  Describe(root, root, "", out);
  return out;
}

std::string Join(const std::vector<std::string>& words, const std::string& sep = " ") {
  std::string out;
  for (const std::string& w : words) out += (out.empty() ? "" : sep) + w;
  return out;
}

std::vector<std::string> SubcommandNames(const CommandInfo& c) {
  std::vector<std::string> names;
  for (const auto& [name, description] : c.subcommands) names.push_back(name);
  return names;
}

std::vector<std::string> FlagNames(const CommandInfo& c, bool with_value_only) {
  std::vector<std::string> names;
  for (const FlagInfo& f : c.flags) {
    if (with_value_only && f.value.empty()) continue;
    names.insert(names.end(), f.names.begin(), f.names.end());
  }
  return names;
}

// A shell `case` on the command path that prints a word list per command.
std::string CaseFunction(const std::string& name, const std::vector<CommandInfo>& commands,
                         std::vector<std::string> (*words)(const CommandInfo&)) {
  std::string out = name + "() {\n  case \"$1\" in\n";
  for (const CommandInfo& c : commands) {
    std::vector<std::string> list = words(c);
    if (!list.empty()) out += "    \"" + c.path + "\") echo \"" + Join(list) + "\" ;;\n";
  }
  return out + "  esac\n}\n";
}

std::vector<std::string> AllFlags(const CommandInfo& c) { return FlagNames(c, false); }
std::vector<std::string> ValueFlags(const CommandInfo& c) { return FlagNames(c, true); }

// Shared by bash and zsh: the command path of the words before the cursor, skipping flags and
// the values of flags that take one.
constexpr char kPathLoop[] = R"SH(
  local cmdpath="" i w
  for ((i = FIRST; i < LAST; i++)); do
    w=${WORDS[i]}
    if [[ $w == -* ]]; then
      if [[ $w != *=* && " $(_strata_value_flags "$cmdpath") " == *" $w "* ]]; then
        ((i++))
      fi
      continue
    fi
    if [[ " $(_strata_subcommands "$cmdpath") " == *" $w "* ]]; then
      cmdpath=${cmdpath:+$cmdpath }$w
    fi
  done
)SH";

std::string PathLoop(const std::string& first, const std::string& last, const std::string& words) {
  std::string loop = kPathLoop;
  for (auto [from, to] :
       {std::pair<std::string, std::string>{"FIRST", first}, {"LAST", last}, {"WORDS", words}}) {
    loop.replace(loop.find(from), from.size(), to);
  }
  return loop;
}

std::string BashScript(const std::vector<CommandInfo>& commands) {
  std::string out = "# bash completion for strata (generated by `strata completion bash`)\n";
  out += CaseFunction("_strata_subcommands", commands, SubcommandNames);
  out += CaseFunction("_strata_flags", commands, AllFlags);
  out += CaseFunction("_strata_value_flags", commands, ValueFlags);
  out += "_strata() {\n  local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}";
  out += PathLoop("1", "COMP_CWORD", "COMP_WORDS");
  out += R"SH(  COMPREPLY=()
  # The value of a flag: leave it to bash's default (file names).
  if [[ $prev == -* && $prev != *=* && " $(_strata_value_flags "$cmdpath") " == *" $prev "* ]]; then
    return
  fi
  if [[ $cur == -* ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$(_strata_flags "$cmdpath")" -- "$cur")
    return
  fi
  local subs
  subs=$(_strata_subcommands "$cmdpath")
  if [[ -n $subs ]]; then
    mapfile -t COMPREPLY < <(compgen -W "$subs" -- "$cur")
  fi
}
complete -o default -F _strata strata
)SH";
  return out;
}

std::string SingleQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// zsh: `_describe` lists "name:description" entries.
std::string ZshScript(const std::vector<CommandInfo>& commands) {
  std::string out =
      "#compdef strata\n# zsh completion for strata (generated by `strata completion zsh`)\n";
  out += CaseFunction("_strata_subcommands", commands, SubcommandNames);
  out += CaseFunction("_strata_value_flags", commands, ValueFlags);
  out += "_strata_described() {\n  case \"$1\" in\n";
  for (const CommandInfo& c : commands) {
    std::vector<std::string> entries;
    for (const auto& [name, description] : c.subcommands) {
      entries.push_back(SingleQuoted("c" + name + ":" + description));
    }
    for (const FlagInfo& f : c.flags) {
      for (const std::string& n : f.names)
        entries.push_back(SingleQuoted("f" + n + ":" + f.description));
    }
    if (!entries.empty()) out += "    \"" + c.path + "\") print -rl -- " + Join(entries) + " ;;\n";
  }
  out += "  esac\n}\n_strata() {\n  local prev=${words[CURRENT-1]}";
  out += PathLoop("2", "CURRENT", "words");
  out +=
      R"SH(  if [[ $prev == -* && $prev != *=* && " $(_strata_value_flags "$cmdpath") " == *" $prev "* ]]; then
    _files
    return
  fi
  local -a entries subs flags
  entries=("${(@f)$(_strata_described "$cmdpath")}")
  local e
  for e in $entries; do
    case $e in
      c*) subs+=("${e#c}") ;;
      f*) flags+=("${e#f}") ;;
    esac
  done
  if [[ $PREFIX == -* ]]; then
    _describe -t flags 'flag' flags
  elif (( ${#subs} )); then
    _describe -t commands 'strata command' subs
  else
    _files
  fi
}
if [[ $zsh_eval_context[-1] == loadautofunc ]]; then
  _strata "$@"
else
  compdef _strata strata
fi
)SH";
  return out;
}

std::string FishQuoted(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string FishScript(const std::vector<CommandInfo>& commands) {
  std::string out = "# fish completion for strata (generated by `strata completion fish`)\n";
  auto fish_case = [&](const std::string& name,
                       std::vector<std::string> (*words)(const CommandInfo&)) {
    std::string f = "function " + name + "\n    switch \"$argv[1]\"\n";
    for (const CommandInfo& c : commands) {
      std::vector<std::string> list = words(c);
      if (!list.empty())
        f += "        case " + FishQuoted(c.path) + "\n            string split ' ' -- " +
             FishQuoted(Join(list)) + "\n";
    }
    return f + "    end\nend\n";
  };
  out += fish_case("__strata_subcommands", SubcommandNames);
  out += fish_case("__strata_value_flags", ValueFlags);
  out += R"SH(function __strata_cmdpath
    set -l tokens (commandline -opc)
    set -e tokens[1]
    set -l cmdpath ''
    set -l skip 0
    for t in $tokens
        if test $skip = 1
            set skip 0
            continue
        end
        if string match -q -- '-*' $t
            if not string match -q -- '*=*' $t; and contains -- $t (__strata_value_flags "$cmdpath")
                set skip 1
            end
            continue
        end
        if contains -- $t (__strata_subcommands "$cmdpath")
            set cmdpath (string trim -- "$cmdpath $t")
        end
    end
    echo $cmdpath
end
function __strata_at
    set -l p (__strata_cmdpath)
    test "$p" = "$argv[1]"
end
)SH";
  for (const CommandInfo& c : commands) {
    const std::string cond = "-n " + FishQuoted("__strata_at " + SingleQuoted(c.path));
    for (const auto& [name, description] : c.subcommands) {
      out +=
          "complete -c strata -f " + cond + " -a " + name + " -d " + FishQuoted(description) + "\n";
    }
    for (const FlagInfo& f : c.flags) {
      out += "complete -c strata " + cond;
      for (const std::string& n : f.names)
        out += (n.starts_with("--") ? " -l " + n.substr(2) : " -s " + n.substr(1));
      if (!f.value.empty()) out += " -r";
      out += " -d " + FishQuoted(f.description) + "\n";
    }
  }
  return out;
}

// roff text: backslashes and hyphens escaped, no line starting with a control character.
std::string Roff(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\') {
      out += "\\e";
    } else if (c == '-') {
      out += "\\-";
    } else {
      out += c;
    }
  }
  if (!out.empty() && (out[0] == '.' || out[0] == '\'')) out = "\\&" + out;
  return out;
}

std::string ManFlags(const std::vector<FlagInfo>& flags) {
  std::string out;
  for (const FlagInfo& f : flags) {
    out += ".TP\n";
    std::vector<std::string> names;
    for (const std::string& n : f.names) names.push_back("\\fB" + Roff(n) + "\\fR");
    out += Join(names, ", ");
    if (!f.value.empty()) out += " \\fI" + Roff(f.value) + "\\fR";
    out += "\n" + Roff(f.description.empty() ? "(no description)" : f.description) + "\n";
  }
  return out;
}

std::string ManPage(const std::vector<CommandInfo>& commands) {
  const CommandInfo& root = commands.front();
  std::string out =
      ".TH STRATA 1 \"\" \"strata " + std::string(kStrataVersion) + "\" \"User Commands\"\n";
  out += ".SH NAME\nstrata \\- " + Roff(root.description.substr(root.description.find(':') + 2)) +
         "\n";
  out += ".SH SYNOPSIS\n.B strata\n[\\fIOPTIONS\\fR] \\fICOMMAND\\fR [\\fIARG\\fR...]\n";
  out +=
      ".SH DESCRIPTION\nstrata implements Docker's content\\-addressable image and layer model "
      "without a daemon: same commands, flags, output formats and exit codes as the docker CLI "
      "(125 for a bad flag, 1 for other errors).\n";
  out += ".SH OPTIONS\n" + ManFlags(root.flags);
  out += ".SH COMMANDS\n";
  for (size_t i = 1; i < commands.size(); ++i) {
    const CommandInfo& c = commands[i];
    out += ".SS \"strata " + Roff(c.path) + (c.flags.empty() ? "" : " [OPTIONS]");
    for (const std::string& p : c.positionals) out += " " + Roff(p);
    if (!c.subcommands.empty()) out += " COMMAND";
    out += "\"\n" + Roff(c.description) + "\n";
    if (!c.subcommands.empty()) {
      out += ".PP\nCommands: " + Roff(Join(SubcommandNames(c), ", ")) + ".\n";
    }
    out += ManFlags(c.flags);
  }
  out +=
      ".SH ENVIRONMENT\n.TP\n.B STRATA_ROOT\nThe store directory (as \\fB\\-\\-root\\fR).\n"
      ".TP\n.B STRATA_REGISTRIES_CONFIG\nThe registry name policy file.\n"
      ".TP\n.B DOCKER_CONFIG\nThe directory of docker's config.json (credentials).\n";
  out += ".SH SEE ALSO\n\\fBdocker\\fR(1), \\fBskopeo\\fR(1)\n";
  return out;
}

}  // namespace

void RegisterCompletionCommands(CLI::App& app) {
  auto shell = std::make_shared<std::string>();
  auto* completion = app.add_subcommand(
      "completion", "Print a shell completion script (bash, zsh or fish) for strata");
  completion->add_option("SHELL", *shell, "bash, zsh or fish")
      ->required()
      ->check(CLI::IsMember({"bash", "zsh", "fish"}));
  completion->callback([&app, shell] {
    std::vector<CommandInfo> commands = DescribeAll(app);
    if (*shell == "bash") std::cout << BashScript(commands);
    if (*shell == "zsh") std::cout << ZshScript(commands);
    if (*shell == "fish") std::cout << FishScript(commands);
  });
  auto* man = app.add_subcommand("man", "Print the strata(1) man page (roff)");
  man->callback([&app] { std::cout << ManPage(DescribeAll(app)); });
}

}  // namespace strata::cli
