// strata: the command line. Parses arguments, calls libstrata, prints in docker's formats.
// Behaviour lives in the library; this file only translates.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "util/cancel.h"
#include "util/debug_log.h"

int main(int argc, char** argv) {
  CLI::App app{"strata: a daemonless container image engine", "strata"};
  app.require_subcommand(1);
  strata::cli::GlobalOptions global;
  const char* env_root = std::getenv("STRATA_ROOT");
  global.root = env_root && *env_root ? env_root : strata::DefaultStoreRoot();
  app.add_option("--root", global.root, "Store directory (env STRATA_ROOT)")->capture_default_str();
  app.add_flag("--debug", global.debug, "Print timings of each phase to stderr");
  const char* env_policy = std::getenv("STRATA_REGISTRIES_CONFIG");
  global.registries_config = env_policy ? env_policy : "";
  app.add_option("--registries-config", global.registries_config,
                 "Registry name policy file (TOML; env STRATA_REGISTRIES_CONFIG; default "
                 "$XDG_CONFIG_HOME/strata/registries.toml, then /etc/strata/registries.toml)");
  strata::cli::RegisterCommands(app, global);
  // Docker's flag library accepts "-H=false" for short flags; CLI11 does not, so split it.
  std::vector<std::string> args;
  for (int i = argc - 1; i >= 1; --i) {
    std::string a = argv[i];
    if (a.size() > 3 && a[0] == '-' && a[1] != '-' && a[2] == '=') {
      args.push_back(a.substr(3));
      args.push_back(a.substr(0, 2));
    } else {
      args.push_back(a);
    }
  }
  app.parse_complete_callback([&global] {
    if (global.debug) strata::EnableDebugLog();
  });
  // Ctrl-C and SIGTERM cancel a pull or a load cleanly (util/cancel.h); exit 130 / 143 as docker.
  strata::InstallCancelHandlers();
  try {
    app.parse(args);
  } catch (const CLI::ParseError& e) {
    return app.exit(e);
  }
  if (strata::CancelRequested()) return 128 + strata::CancelSignal();
  return global.exit_code;
}
