// migrate: bring a Docker data root (current or legacy layout) into the store.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <mutex>
#include <thread>

#include "cli/commands.h"
#include "cli/layer_progress_view.h"
#include "engine/maintenance.h"
#include "image/docker_units.h"

namespace strata::cli {
namespace {

std::string Named(const std::vector<std::string>& names, const std::string& source) {
  if (names.empty()) return source;
  std::string s;
  for (const std::string& n : names) s += (s.empty() ? "" : ", ") + n;
  return s;
}

std::string Seconds(double s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.2fs", s);
  return buf;
}

}  // namespace

void RegisterMigrateCommands(CLI::App& app, GlobalOptions& g) {
  struct Options {
    std::string from_docker;
    std::string driver;
    bool dry_run = false;
    bool quiet = false;
    int jobs = 0;
  };
  auto o = std::make_shared<Options>();
  auto* cmd = app.add_subcommand(
      "migrate", "Import every image of a Docker data root (1.10+ or legacy graph) into the store");
  cmd->add_option("--from-docker", o->from_docker,
                  "Docker data root to read (e.g. /var/lib/docker); never modified")
      ->required();
  cmd->add_option("--storage-driver", o->driver, "Storage driver to read when several are present");
  cmd->add_flag("--dry-run", o->dry_run, "Show what would be migrated; read no layer");
  cmd->add_option("-j,--jobs", o->jobs, "Layers read at once (default: one per CPU)");
  cmd->add_flag("-q,--quiet", o->quiet, "Print only errors and the summary");
  cmd->callback([&g, o] {
    auto engine = CreateEngine(g);
    if (auto store = engine->store(); !store) return ReportError(g, store.error());
    const auto start = std::chrono::steady_clock::now();
    // Per-layer bars when stdout is a terminal; else a one-line count when stderr is.
    LayerProgressView view(stdout, /*push=*/false, o->quiet);
    const bool terminal = ::isatty(2) == 1 && !o->quiet && !view.terminal();
    std::mutex mu;
    MigrateEvents events;
    if (terminal) {
      events.progress = [&mu](const MigrationProgress& p) {
        std::lock_guard<std::mutex> lock(mu);
        std::fprintf(stderr, "\r\033[KReading layers: %zu/%zu, %s", p.layers_done, p.layers_total,
                     HumanSize(static_cast<double>(p.bytes_done)).c_str());
        std::fflush(stderr);
      };
    }
    if (view.terminal()) events.layer_progress = view.BytesCallback("Reading layer");
    MigrateRequest request{
        .data_root = o->from_docker, .driver = o->driver, .dry_run = o->dry_run, .jobs = o->jobs};
    auto report = Migrate(*engine, request, events);
    if (terminal) std::fprintf(stderr, "\r\033[K");
    if (!report) return ReportError(g, report.error());
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    size_t present = 0;
    for (const MigratedImage& m : report->migrated) {
      present += m.already_present;
      if (o->quiet) continue;
      const std::string id = m.id ? m.id->str() : "(ID known once its layer is read)";
      if (report->dry_run) {
        std::cout << (m.already_present ? "Already present: " : "Would migrate: ")
                  << Named(m.names, m.source) << " " << id << "\n";
      } else if (m.already_present) {
        std::cout << "Already present: " << Named(m.names, m.source) << " " << id << "\n";
      } else if (m.names.empty()) {
        std::cout << "Migrated image ID: " << id << "\n";
      } else {
        for (const std::string& name : m.names) std::cout << "Migrated image: " << name << "\n";
      }
    }
    for (const std::string& msg : report->messages) std::cout << msg << "\n";
    for (const FailedImage& f : report->failed) {
      std::cerr << "Error: image " << Named(f.names, f.source)
                << (f.names.empty() ? "" : " (" + f.source + ")") << ": " << f.reason << "\n";
    }
    const size_t migrated = report->migrated.size() - present;
    if (report->dry_run) {
      std::cout << "Dry run of " << report->layout << ": " << migrated << " images to migrate, "
                << present << " already present, " << report->failed.size() << " cannot migrate; "
                << report->layers_read << " layers to read, " << report->layers_present
                << " already in the store\n";
    } else {
      std::cout << "Migrated " << migrated << " images from " << report->layout << " (" << present
                << " already present, " << report->failed.size()
                << " failed): " << report->layers_read << " layers read ("
                << HumanSize(static_cast<double>(report->bytes_read)) << "), "
                << report->layers_present << " already in the store, in " << Seconds(secs) << "\n";
    }
    if (!report->failed.empty()) g.exit_code = 1;
  });
}

}  // namespace strata::cli
