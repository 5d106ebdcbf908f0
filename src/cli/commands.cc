#include "cli/commands.h"

#include <iostream>

namespace strata::cli {

void ReportError(GlobalOptions& global, const std::string& message) {
  std::cerr << "Error: " << message << "\n";
  global.exit_code = 1;
}

std::unique_ptr<Store> OpenStoreOrReport(GlobalOptions& global, StoreAccess access) {
  auto store = Store::Open(global.root, access);
  if (!store) {
    ReportError(global, store.error().message);
    return nullptr;
  }
  return std::move(*store);
}

void RegisterCommands(CLI::App& app, GlobalOptions& global) {
  RegisterImageCommands(app, global);
  RegisterArchiveCommands(app, global);
  RegisterMaintenanceCommands(app, global);
  RegisterCopyCommands(app, global);
  RegisterRegistryCommands(app, global);
  RegisterAuthCommands(app, global);
  RegisterMigrateCommands(app, global);
  RegisterRegistryServerCommands(app, global);
  auto* version = app.add_subcommand("version", "Show the strata version");
  version->callback([] { std::cout << "strata version 0.1.0\n"; });
}

}  // namespace strata::cli
