// image prune: docker's confirmation prompt, --filter, and its "Deleted Images:" report.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "cli/commands.h"
#include "image/docker_units.h"
#include "store/image_delete.h"
#include "store/prune_filter.h"

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
  if (report.lines.empty()) return;
  std::cout << "Deleted Images:\n";
  for (std::string line : report.lines) {
    if (line.starts_with("Untagged") || line.starts_with("Deleted")) line[0] += 'a' - 'A';
    std::cout << line << "\n";
  }
  std::cout << "\n";
}

void RunPrune(GlobalOptions& g, const PruneOptions& o) {
  const auto now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  auto filter = ParsePruneFilter(o.filters, o.all, now);
  if (!filter) return ReportError(g, filter.error());
  int64_t reclaimed = 0;
  if (o.force || Confirm(o.all ? kAllWarning : kDanglingWarning)) {
    auto store = OpenStoreOrReport(g);
    if (!store) return;
    auto report = PruneImages(*store, o.all, *filter);
    if (!report) return ReportError(g, report.error());
    PrintDeleted(*report);
    reclaimed = report->removed_layers_size;
  }
  std::cout << "Total reclaimed space: " << HumanSize(static_cast<double>(reclaimed)) << "\n";
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
