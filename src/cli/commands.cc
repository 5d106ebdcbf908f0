#include "cli/commands.h"

#include <iostream>

#include "cli/exit_status.h"
#include "engine/engine.h"
#include "registry/credentials.h"
#include "util/cancel.h"

namespace strata::cli {
namespace {

// docker's `image` subcommands that are top-level commands too.
struct CommandAlias {
  const char* group;
  const char* name;
  const char* target;
};
constexpr CommandAlias kAliases[] = {
    {"image", "ls", "images"},  {"image", "list", "images"},     {"image", "rm", "rmi"},
    {"image", "remove", "rmi"}, {"image", "inspect", "inspect"}, {"image", "history", "history"},
    {"image", "tag", "tag"},    {"image", "save", "save"},       {"image", "load", "load"},
    {"image", "pull", "pull"},  {"image", "push", "push"},       {"image", "import", "import"},
};

CLI::App* FindSubcommand(CLI::App& app, const std::string& name) {
  auto found = app.get_subcommands([&](CLI::App* sub) { return sub->get_name() == name; });
  return found.empty() ? nullptr : found.front();
}

void RegisterImageGroup(CLI::App& app, GlobalOptions& global) {
  auto* image = app.add_subcommand("image", "Manage images");
  image->require_subcommand(1);
  for (const CommandAlias& alias : kAliases) {
    CLI::App* target = FindSubcommand(app, alias.target);
    if (!target) continue;  // that command is not built
    image->add_subcommand(alias.name, target->get_description())->allow_extras();
  }
  RegisterPruneCommand(*image, global);
}

// Docker reads config.json before every command and warns once when it is broken; strata reads
// it for the commands that may need credentials.
void WarnAboutBrokenDockerConfig(CLI::App& app) {
  for (const char* name : {"pull", "push", "login", "logout", "tags", "manifest", "copy"}) {
    CLI::App* command = FindSubcommand(app, name);
    if (!command) continue;
    command->preparse_callback([](size_t) {
      auto st = CredentialStore().Validate();
      if (!st) std::cerr << "WARNING: Error loading config file: " << st.error().message << "\n";
    });
  }
}

}  // namespace

void ReportError(GlobalOptions& global, const std::string& message) {
  std::cerr << "Error: " << message << "\n";
  global.exit_code = kExitFailure;
}

void ReportError(GlobalOptions& global, const Error& error) {
  std::cerr << "Error: " << error.message << "\n";
  global.exit_code = ExitStatusFor(error, CancelSignal());
}

std::unique_ptr<Store> OpenStoreOrReport(GlobalOptions& global, StoreAccess access) {
  auto store = OpenStoreAt(global.root, access);
  if (!store) {
    ReportError(global, store.error());
    return nullptr;
  }
  return std::move(*store);
}

std::unique_ptr<Engine> CreateEngine(const GlobalOptions& global) {
  return Engine::Create({.root = global.root, .registries_config = global.registries_config});
}

const char* AliasTarget(const CLI::App& group, const CLI::App& sub) {
  for (const CommandAlias& alias : kAliases) {
    if (group.get_name() == alias.group && sub.get_name() == alias.name) return alias.target;
  }
  return nullptr;
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
  RegisterSnapshotCommands(app, global);
  auto* version = app.add_subcommand("version", "Show the strata version");
  version->callback([] { std::cout << "strata version " << kStrataVersion << "\n"; });
  RegisterImageGroup(app, global);
  WarnAboutBrokenDockerConfig(app);
  RegisterCompletionCommands(app);
}

}  // namespace strata::cli
