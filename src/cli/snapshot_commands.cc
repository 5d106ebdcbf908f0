// snapshot mounts: a hidden debugging command that prints the mounts of an image's layer stack
// (docs/architecture.md, "Snapshots"), one per line as "TYPE SOURCE OPTIONS", for
// `mount -t TYPE -o OPTIONS SOURCE TARGET`. Layers not unpacked yet are unpacked first.
#include <iostream>

#include "cli/commands.h"
#include "store/image_lookup.h"
#include "store/image_snapshots.h"
#include "store/layer_unpack.h"

namespace strata::cli {

void RegisterSnapshotCommands(CLI::App& app, GlobalOptions& g) {
  auto* snapshot = app.add_subcommand("snapshot", "Inspect the store's snapshots (debugging)");
  snapshot->group("");  // hidden: not in help, completion or the man page
  snapshot->require_subcommand(1);
  auto image = std::make_shared<std::string>();
  auto* mounts = snapshot->add_subcommand(
      "mounts", "Print the read-only mounts of IMAGE's layers as \"TYPE SOURCE OPTIONS\"");
  mounts->add_option("IMAGE", *image)->required();
  mounts->callback([&g, image] {
    auto store = OpenStoreOrReport(g);
    if (!store) return;
    auto id = ResolveImage(*store, *image);
    if (!id) return ReportError(g, id.error());
    auto unpacked = UnpackImage(*store, *id);
    if (!unpacked) return ReportError(g, unpacked.error());
    if (unpacked->losses.any()) {
      std::cerr << "warning: " << DescribeUnpackLosses(unpacked->losses) << "\n";
    }
    auto view = ImageView(*store, *id);
    if (!view) return ReportError(g, view.error());
    for (const Mount& m : *view) {
      std::cout << m.type << " " << m.source << " " << m.OptionsString() << "\n";
    }
  });
}

}  // namespace strata::cli
