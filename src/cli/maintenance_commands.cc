// fsck, gc.
#include <iostream>

#include "cli/commands.h"
#include "image/docker_units.h"
#include "store/fsck.h"
#include "store/image_delete.h"

namespace strata::cli {

void RegisterMaintenanceCommands(CLI::App& app, GlobalOptions& g) {
  auto repair = std::make_shared<bool>(false);
  auto* fsck = app.add_subcommand("fsck", "Verify every digest in the store");
  fsck->add_flag("--repair", *repair, "Remove damaged images and unreferenced files");
  fsck->callback([&g, repair] {
    auto store = OpenStoreOrReport(g);
    if (!store) return;
    auto report = CheckStore(*store, *repair);
    if (!report) return ReportError(g, report.error().message);
    for (const std::string& p : report->problems) std::cout << "problem: " << p << "\n";
    for (const std::string& r : report->repairs) std::cout << "repaired: " << r << "\n";
    std::cout << "checked " << report->blobs_checked << " blobs ("
              << HumanSize(static_cast<double>(report->bytes_checked)) << "), "
              << report->problems.size() << " problems\n";
    if (!report->problems.empty() && !*repair) g.exit_code = 1;
  });

  auto* gc = app.add_subcommand("gc", "Remove layers and blobs no image references");
  gc->callback([&g] {
    auto store = OpenStoreOrReport(g);
    if (!store) return;
    auto lock = store->LockExclusive();
    if (!lock) return ReportError(g, lock.error().message);
    auto report = CollectGarbage(*store);
    if (!report) return ReportError(g, report.error().message);
    for (const std::string& line : report->lines) std::cout << line << "\n";
    std::cout << "Total reclaimed space: "
              << HumanSize(static_cast<double>(report->reclaimed_bytes)) << "\n";
  });
}

}  // namespace strata::cli
