// copy: skopeo copy between docker-archive:, oci:, oci-archive:, dir: and the store.
#include <iostream>

#include "cli/commands.h"
#include "cli/layer_progress_view.h"
#include "engine/copy.h"
#include "oci/platform.h"

namespace strata::cli {
namespace {

struct CopyFlags {
  std::string source;
  std::string destination;
  bool quiet = false;
  bool all = false;
  std::string platform;
  std::optional<bool> src_tls_verify;
  std::optional<bool> dest_tls_verify;
  std::string src_creds;
  std::string dest_creds;
};

// USER[:PASS], as skopeo's --src-creds (the engine refuses an empty user name).
Credentials ParseCreds(const std::string& text) {
  const auto colon = text.find(':');
  Credentials c;
  c.username = text.substr(0, colon);
  if (colon != std::string::npos) c.password = text.substr(colon + 1);
  return c;
}

void RunCopy(GlobalOptions& g, const CopyFlags& o) {
  CopyRequest request;
  request.source = o.source;
  request.destination = o.destination;
  request.all = o.all;
  if (!o.platform.empty()) {
    auto platform = ParsePlatform(o.platform);
    if (!platform) return ReportError(g, platform.error());
    request.platform = *platform;
  }
  request.source_side.tls_verify = o.src_tls_verify;
  request.destination_side.tls_verify = o.dest_tls_verify;
  if (!o.src_creds.empty()) request.source_side.credentials = ParseCreds(o.src_creds);
  if (!o.dest_creds.empty()) request.destination_side.credentials = ParseCreds(o.dest_creds);
  // On a terminal each layer gets a progress bar instead of its "Copying blob" line.
  LayerProgressView view(stdout, /*push=*/false, o.quiet);
  CopyEvents events;
  if (view.terminal()) events.blob_progress = view.BytesCallback("Copying blob");
  if (!o.quiet) {
    const bool bars = view.terminal();
    events.line = [bars](const std::string& line) {
      if (bars && line.starts_with("Copying blob") && !line.ends_with("already exists")) return;
      std::cout << line << "\n" << std::flush;
    };
  }
  auto engine = CreateEngine(g);
  auto result = Copy(*engine, request, events);
  if (!result) return ReportError(g, result.error());
  for (const std::string& m : result->messages) std::cout << m << "\n";
}

}  // namespace

void RegisterCopyCommands(CLI::App& app, GlobalOptions& g) {
  auto options = std::make_shared<CopyFlags>();
  auto* c = app.add_subcommand(
      "copy",
      "Copy an image between transports: docker://NAME, docker-archive:PATH[:REF], "
      "oci:DIR[:TAG], oci-archive:PATH[:TAG], dir:DIR, and the store (strata:NAME or NAME)");
  c->add_option("SOURCE-IMAGE", options->source, "Image to copy")->required();
  c->add_option("DESTINATION-IMAGE", options->destination, "Where to copy it")->required();
  c->add_flag("-q,--quiet", options->quiet, "Suppress output information when copying images");
  c->add_option("--platform", options->platform,
                "os/arch[/variant] to pick from a multi-platform index (default: this host)");
  c->add_flag("-a,--all", options->all,
              "Copy a multi-platform index and every image in it (oci:, oci-archive:, docker://)");
  // skopeo's boolean flags: --src-tls-verify, --src-tls-verify=false; unset keeps the policy's.
  auto src_verify = std::make_shared<bool>(true);
  auto dest_verify = std::make_shared<bool>(true);
  auto* sv = c->add_flag("--src-tls-verify", *src_verify,
                         "Require HTTPS and verify certificates when talking to the source "
                         "registry (=false: neither)");
  auto* dv = c->add_flag("--dest-tls-verify", *dest_verify,
                         "Require HTTPS and verify certificates when talking to the destination "
                         "registry (=false: neither)");
  c->add_option("--src-creds", options->src_creds,
                "USERNAME[:PASSWORD] for accessing the source registry");
  c->add_option("--dest-creds", options->dest_creds,
                "USERNAME[:PASSWORD] for accessing the destination registry");
  c->callback([&g, options, sv, dv, src_verify, dest_verify] {
    if (sv->count() > 0) options->src_tls_verify = *src_verify;
    if (dv->count() > 0) options->dest_tls_verify = *dest_verify;
    RunCopy(g, *options);
  });
}

}  // namespace strata::cli
