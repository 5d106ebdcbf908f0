// Registration of every strata subcommand on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>
#include <string>

#include "store/store.h"

namespace strata::cli {

struct GlobalOptions {
  std::string root;
  bool debug = false;
  std::string registries_config;  // --registries-config: the name policy file, if given
  int exit_code = 0;
};

void RegisterCommands(CLI::App& app, GlobalOptions& global);

// Opens the store named by --root, printing the error and setting the exit code on failure.
// Commands that only read pass StoreAccess::kReadOnly, so that they work on a store they cannot
// write.
std::unique_ptr<Store> OpenStoreOrReport(GlobalOptions& global,
                                         StoreAccess access = StoreAccess::kReadWrite);

// Prints "Error: <message>" to stderr and sets exit code 1.
void ReportError(GlobalOptions& global, const std::string& message);

void RegisterImageCommands(CLI::App& app, GlobalOptions& global);
void RegisterArchiveCommands(CLI::App& app, GlobalOptions& global);
void RegisterMaintenanceCommands(CLI::App& app, GlobalOptions& global);
void RegisterCopyCommands(CLI::App& app, GlobalOptions& global);
// pull, push, tags, manifest inspect
void RegisterRegistryCommands(CLI::App& app, GlobalOptions& global);
// login, logout, resolve
void RegisterAuthCommands(CLI::App& app, GlobalOptions& global);
// migrate
void RegisterMigrateCommands(CLI::App& app, GlobalOptions& global);
// registry serve, registry gc
void RegisterRegistryServerCommands(CLI::App& app, GlobalOptions& global);

}  // namespace strata::cli
