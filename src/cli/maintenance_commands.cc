// fsck, gc.
#include <iostream>

#include "cli/commands.h"
#include "digest/digest.h"
#include "engine/maintenance.h"
#include "image/docker_units.h"
#include "util/file.h"
#include "util/io.h"

namespace strata::cli {

void RegisterMaintenanceCommands(CLI::App& app, GlobalOptions& g) {
  auto repair = std::make_shared<bool>(false);
  auto* fsck = app.add_subcommand("fsck", "Verify every digest in the store");
  fsck->add_flag("--repair", *repair, "Remove damaged images and unreferenced files");
  fsck->callback([&g, repair] {
    auto engine = CreateEngine(g);
    auto report = CheckStore(*engine, CheckStoreRequest{.repair = *repair});
    if (!report) return ReportError(g, report.error());
    for (const std::string& p : report->problems) std::cout << "problem: " << p << "\n";
    for (const std::string& r : report->repairs) std::cout << "repaired: " << r << "\n";
    std::cout << "checked " << report->blobs_checked << " blobs ("
              << HumanSize(static_cast<double>(report->bytes_checked)) << "), "
              << report->problems.size() << " problems\n";
    if (!report->problems.empty() && !*repair) g.exit_code = 1;
  });

  auto digest_path = std::make_shared<std::string>();
  auto* digest = app.add_subcommand("digest", "Print the sha256 digest of a file (or - for stdin)");
  digest->add_option("FILE", *digest_path)->required();
  digest->callback([&g, digest_path] {
    UniqueFd fd;
    if (*digest_path != "-") {
      auto opened = OpenRead(*digest_path);
      if (!opened) return ReportError(g, opened.error());
      fd = std::move(*opened);
    }
    FdReader reader(fd ? fd.get() : 0, *digest_path);
    auto d = DigestStream(reader);
    if (!d) return ReportError(g, d.error());
    std::cout << d->str() << "\n";
  });

  const std::string gc_help =
      "Remove layers and blobs no image references, and old files in ingest/: temporary files "
      "are kept for " +
      std::to_string(kIngestKeepSeconds / 3600) +
      " hour, partial downloads (which a repeated pull continues) for " +
      std::to_string(kPartialKeepSeconds / 3600) + " hours";
  auto* gc = app.add_subcommand("gc", gc_help);
  gc->callback([&g] {
    auto engine = CreateEngine(g);
    auto report = CollectGarbage(*engine);
    if (!report) return ReportError(g, report.error());
    for (const std::string& line : report->lines) std::cout << line << "\n";
    std::cout << "Total reclaimed space: "
              << HumanSize(static_cast<double>(report->reclaimed_bytes)) << "\n";
  });
}

}  // namespace strata::cli
