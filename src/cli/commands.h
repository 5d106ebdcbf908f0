// Registration of every strata subcommand on the CLI11 app.
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "store/store.h"
#include "util/result.h"

namespace strata {
class Engine;
}  // namespace strata

namespace strata::cli {

inline constexpr char kStrataVersion[] = "0.1.0";

struct GlobalOptions {
  std::string root;
  bool debug = false;
  std::string registries_config;  // --registries-config: the name policy file, if given
  int exit_code = 0;
};

void RegisterCommands(CLI::App& app, GlobalOptions& global);

// Docker's aliases of top-level commands under a group ("image ls" = "images", "image rm" =
// "rmi"): the top-level command `sub` of `group` stands for, or nullptr. The alias exists as a
// subcommand without options of its own, for help and completion; main() rewrites it before
// parsing.
const char* AliasTarget(const CLI::App& group, const CLI::App& sub);

// Opens the store named by --root, printing the error and setting the exit code on failure.
// Commands that only read pass StoreAccess::kReadOnly, so that they work on a store they cannot
// write.
std::unique_ptr<Store> OpenStoreOrReport(GlobalOptions& global,
                                         StoreAccess access = StoreAccess::kReadWrite);

// The engine over the store (--root) and the name policy (--registries-config) the flags name.
std::unique_ptr<Engine> CreateEngine(const GlobalOptions& global);

// Prints "Error: <message>" to stderr and sets exit code 1.
void ReportError(GlobalOptions& global, const std::string& message);
// Prints "Error: <message>" to stderr and sets the exit code its kind calls for
// (cli/exit_status.h).
void ReportError(GlobalOptions& global, const Error& error);

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
// snapshot mounts (hidden: debugging)
void RegisterSnapshotCommands(CLI::App& app, GlobalOptions& global);
// image prune (under the `image` group)
void RegisterPruneCommand(CLI::App& image, GlobalOptions& global);
// completion bash|zsh|fish, man: generated from the registered commands; call last.
void RegisterCompletionCommands(CLI::App& app);

}  // namespace strata::cli
