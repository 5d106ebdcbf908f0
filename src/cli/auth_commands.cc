#include "cli/commands.h"

namespace strata::cli {

void RegisterAuthCommands(CLI::App& app, GlobalOptions& global) {
  (void)app;
  (void)global;
}

}  // namespace strata::cli
