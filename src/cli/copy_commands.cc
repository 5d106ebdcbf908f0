// copy: skopeo copy between docker-archive:, oci:, oci-archive:, dir: and the store.
#include <iostream>

#include "cli/commands.h"
#include "registry/registry_access.h"
#include "transport/image_copy.h"
#include "transport/platform.h"

namespace strata::cli {
namespace {

struct CopyOptions {
  std::string source;
  std::string destination;
  bool quiet = false;
  std::string platform;
};

void RunCopy(GlobalOptions& g, const CopyOptions& o) {
  auto from = ParseImageName(o.source);
  if (!from) return ReportError(g, from.error().message);
  auto to = ParseImageName(o.destination);
  if (!to) return ReportError(g, to.error().message);
  std::unique_ptr<Store> store;
  if (from->transport == Transport::kStore || to->transport == Transport::kStore) {
    store = OpenStoreOrReport(g);
    if (!store) return;
  }
  std::unique_ptr<RegistryAccess> registries;
  if (from->transport == Transport::kDocker || to->transport == Transport::kDocker) {
    auto access = RegistryAccess::Open(g.registries_config);
    if (!access) return ReportError(g, access.error().message);
    registries = std::move(*access);
    if (!o.platform.empty()) {
      auto platform = ParsePlatform(o.platform);
      if (!platform) return ReportError(g, platform.error().message);
      registries->platform = *platform;
    }
  }
  ProgressFn progress;
  if (!o.quiet) {
    progress = [](const std::string& line) { std::cout << line << "\n" << std::flush; };
  }
  auto result = CopyImage(store.get(), *from, *to, progress, registries.get());
  if (!result) return ReportError(g, result.error().message);
  for (const std::string& m : result->messages) std::cout << m << "\n";
}

}  // namespace

void RegisterCopyCommands(CLI::App& app, GlobalOptions& g) {
  auto options = std::make_shared<CopyOptions>();
  auto* c = app.add_subcommand(
      "copy",
      "Copy an image between transports: docker://NAME, docker-archive:PATH[:REF], "
      "oci:DIR[:TAG], oci-archive:PATH[:TAG], dir:DIR, and the store (strata:NAME or NAME)");
  c->add_option("SOURCE-IMAGE", options->source, "Image to copy")->required();
  c->add_option("DESTINATION-IMAGE", options->destination, "Where to copy it")->required();
  c->add_flag("-q,--quiet", options->quiet, "Suppress output information when copying images");
  c->add_option("--platform", options->platform,
                "os/arch[/variant] to pick from a docker:// index (default: this host)");
  c->callback([&g, options] { RunCopy(g, *options); });
}

}  // namespace strata::cli
