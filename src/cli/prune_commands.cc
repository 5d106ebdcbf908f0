// image prune: docker's confirmation prompt, --filter, and its "Deleted Images:" report.
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "engine/images.h"
#include "image/docker_units.h"

namespace strata::cli {
namespace {

constexpr char kDanglingWarning[] = "WARNING! This will remove all dangling images.";
constexpr char kAllWarning[] =
    "WARNING! This will remove all images without at least one container associated to them.";

struct PruneOptions {
  bool all = false;
  bool force = false;
  std::vector<std::string> filters;
};

// docker's PromptForConfirmation: the question on stdout, one line from stdin, and only "y"
// (any case) means yes; end of input means no.
bool Confirm(const std::string& warning) {
  std::cout << warning << "\nAre you sure you want to continue? [y/N] " << std::flush;
  std::string answer;
  std::getline(std::cin, answer);
  if (!answer.empty() && answer.back() == '\r') answer.pop_back();
  return answer == "y" || answer == "Y";
}

// docker prints removals in lower case: "untagged: busybox:latest", "deleted: sha256:…".
void PrintDeleted(const DeleteReport& report) {
  if (report.removals.empty()) return;
  std::cout << "Deleted Images:\n";
  for (const ImageRemoval& removal : report.removals) {
    std::cout << (removal.kind == ImageRemoval::Kind::kUntagged ? "untagged: " : "deleted: ")
              << removal.name << "\n";
  }
  std::cout << "\n";
}

void RunPrune(GlobalOptions& g, const PruneOptions& o) {
  ImagePruneEvents events;
  if (!o.force) events.confirm = [&o] { return Confirm(o.all ? kAllWarning : kDanglingWarning); };
  auto engine = CreateEngine(g);
  auto report = ImagePrune(*engine, ImagePruneRequest{.all = o.all, .filters = o.filters}, events);
  if (!report) return ReportError(g, report.error());
  PrintDeleted(*report);
  std::cout << "Total reclaimed space: "
            << HumanSize(static_cast<double>(report->removed_layers_size)) << "\n";
}

}  // namespace

void RegisterPruneCommand(CLI::App& image, GlobalOptions& g) {
  auto o = std::make_shared<PruneOptions>();
  auto* prune = image.add_subcommand("prune", "Remove unused images");
  prune->add_flag("-a,--all", o->all, "Remove all unused images, not just dangling ones");
  prune
      ->add_option("--filter", o->filters,
                   "Provide filter values (e.g. 'until=<timestamp>', 'label=<key>=<value>', "
                   "'label!=<key>')")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll)
      ->check(CLI::Validator(
          [](std::string& value) -> std::string {
            if (value.find('=') != std::string::npos) return "";
            return "bad format of filter (expected name=value)";
          },
          "name=value"));
  prune->add_flag("-f,--force", o->force, "Do not prompt for confirmation");
  prune->callback([&g, o] { RunPrune(g, *o); });
}

}  // namespace strata::cli
