// pull, push, tags, manifest inspect: the registry commands, printing what docker prints.
#include <cstdio>
#include <iostream>

#include "archive/compression.h"
#include "cli/commands.h"
#include "cli/layer_progress_view.h"
#include "engine/engine.h"
#include "oci/platform.h"
#include "registry/image_pull.h"
#include "registry/image_push.h"
#include "registry/registry_access.h"
#include "store/image_lookup.h"
#include "util/go_json.h"

namespace strata::cli {
namespace {

std::unique_ptr<RegistryAccess> OpenAccessOrReport(GlobalOptions& g) {
  auto access = RegistryAccess::Open(g.registries_config);
  if (!access) {
    ReportError(g, access.error());
    return nullptr;
  }
  return std::move(*access);
}

struct PullFlags {
  std::string name;
  bool all_tags = false;
  bool quiet = false;
  std::string platform;
  int max_concurrent_downloads = 3;
  bool no_unpack = false;
};

// "latest", or the digest for a pull by digest: docker's "<this>: Pulling from <path>".
std::string PullingWhat(const Reference& ref) {
  return ref.digest() ? ref.digest()->str() : ref.tag().value_or("latest");
}

void RunPull(GlobalOptions& g, const PullFlags& f) {
  PullRequest request{.name = f.name,
                      .all_tags = f.all_tags,
                      .platform = std::nullopt,
                      .max_concurrent_downloads = f.max_concurrent_downloads,
                      .unpack = !f.no_unpack};
  if (!f.platform.empty()) {
    auto platform = ParsePlatform(f.platform);
    if (!platform) return ReportError(g, platform.error());
    request.platform = *platform;
  }
  if (!f.quiet && !f.all_tags && ParseNormalizedNamed(f.name) && !NamesTagOrDigest(f.name)) {
    std::cout << "Using default tag: latest\n";
  }
  std::unique_ptr<LayerProgressView> view;
  std::optional<Reference> announced;
  PullEvents events;
  events.attempt = [&](const Reference& ref, const RegistryRoute&) {
    if (!f.quiet && announced != ref) {
      std::cout << PullingWhat(ref) << ": Pulling from " << ref.path() << "\n" << std::flush;
      announced = ref;
    }
    view = std::make_unique<LayerProgressView>(stdout, /*push=*/false, f.quiet);
    return view->callback();
  };
  events.mirror_failed = [&](const RegistryRoute& route, const Error& error) {
    if (!f.quiet) {
      std::cerr << "strata: mirror " << route.host << " failed: " << error.message
                << "; trying the next source\n";
    }
  };
  events.pulled = [&](const Reference& ref, const PullResult& pulled) {
    if (!f.quiet) {
      std::cout << "Digest: " << pulled.digest.str() << "\n";
      std::cout << (pulled.up_to_date ? "Status: Image is up to date for "
                                      : "Status: Downloaded newer image for ")
                << ref.FamiliarString() << "\n";
    }
    std::cout << ref.String() << "\n" << std::flush;
    if (pulled.unpack_losses.any()) {
      std::cerr << "warning: " << DescribeUnpackLosses(pulled.unpack_losses) << "\n";
    }
  };
  auto engine = Engine::Create({.root = g.root, .registries_config = g.registries_config});
  auto pulled = Pull(*engine, request, events);
  if (!pulled) ReportError(g, pulled.error());
}

struct PushFlags {
  std::string name;
  bool all_tags = false;
  bool quiet = false;
  std::string compression = "gzip";
  int compression_level = -1;
  int max_concurrent_uploads = 5;
  uint64_t chunk_size = 0;
};

Status PushOne(Store& store, RegistryAccess& access, const Reference& ref, const Digest& image,
               const PushFlags& f, const PushOptions& base) {
  STRATA_ASSIGN(route, access.PushRoute(ref));
  LayerProgressView view(stdout, /*push=*/true, f.quiet);
  PushOptions options = base;
  options.progress = view.callback();
  const std::string tag = ref.tag().value_or("");
  STRATA_ASSIGN(pushed,
                PushImage(store, PushTarget{route.client.get(), ref.domain(), route.repository},
                          image, tag, options));
  if (!f.quiet) {
    std::cout << (tag.empty() ? pushed.digest.str() : tag) << ": digest: " << pushed.digest.str()
              << " size: " << pushed.size << "\n";
  } else {
    std::cout << ref.String() << "\n";
  }
  std::cout << std::flush;
  return {};
}

void RunPush(GlobalOptions& g, const PushFlags& f) {
  PushOptions options;
  if (f.compression == "gzip") {
    options.compression = Compression::kGzip;
  } else if (f.compression == "zstd") {
    options.compression = Compression::kZstd;
  } else {
    return ReportError(g, "unknown compression \"" + f.compression + "\" (gzip or zstd)");
  }
  options.compression_forced = f.compression != "gzip";
  options.compression_level = f.compression_level;
  options.max_concurrent_uploads = f.max_concurrent_uploads;
  options.chunk_size = f.chunk_size;
  auto access = OpenAccessOrReport(g);
  if (!access) return;
  auto ref = access->ResolveForPush(f.name);
  if (!ref) return ReportError(g, ref.error());
  if (ref->digest()) return ReportError(g, "cannot push a digest reference");
  auto store = OpenStoreOrReport(g);
  if (!store) return;
  std::vector<Reference> refs;
  if (f.all_tags) {
    auto all = store->metadata().ListRefs();
    if (!all) return ReportError(g, all.error());
    for (const RefRecord& r : *all) {
      if (r.is_digest || r.repository != ref->Name()) continue;
      auto parsed = ParseDockerRef(r.name);
      if (parsed) refs.push_back(*parsed);
    }
    if (refs.empty())
      return ReportError(g, "An image does not exist locally with the tag: " + ref->FamiliarName());
  } else {
    if (!f.quiet && !NamesTagOrDigest(f.name)) std::cout << "Using default tag: latest\n";
    refs.push_back(*ref);
  }
  if (!f.quiet)
    std::cout << "The push refers to repository [" << ref->Name() << "]\n" << std::flush;
  for (const Reference& r : refs) {
    // Looked up here, before any registry is asked, so that only the local lookup's not-found
    // reads as docker's message (a registry's 404 during the push is reported as itself).
    auto image = ResolveImage(*store, r.String());
    if (!image && IsNotFound(image.error())) {
      return ReportError(g, "An image does not exist locally with the tag: " + r.FamiliarString());
    }
    if (!image) return ReportError(g, image.error());
    auto st = PushOne(*store, *access, r, *image, f, options);
    if (!st) return ReportError(g, st.error());
  }
}

// skopeo list-tags: {"Repository": "<full name>", "Tags": [...]} indented by four spaces.
void PrintTagsJson(const std::string& repository, const std::vector<std::string>& tags) {
  nlohmann::ordered_json out;
  out["Repository"] = repository;
  out["Tags"] = nlohmann::ordered_json::array();
  for (const std::string& t : tags) out["Tags"].push_back(t);
  std::cout << GoMarshalIndent(out, "", "    ") << "\n";
}

void RunTags(GlobalOptions& g, const std::string& name, const std::string& format) {
  if (!format.empty() && format != "json") {
    return ReportError(g, "unsupported --format \"" + format + "\" (supported: json)");
  }
  auto access = OpenAccessOrReport(g);
  if (!access) return;
  auto ref = access->ResolveForPush(name);  // no search: the name as the policy reads it
  if (!ref) return ReportError(g, ref.error());
  auto routes = access->PullRoutes(*ref);
  if (!routes) return ReportError(g, routes.error());
  auto tags = routes->back().client->ListTags(routes->back().repository);
  if (!tags) return ReportError(g, tags.error());
  if (format == "json") return PrintTagsJson(ref->Name(), *tags);
  for (const std::string& t : *tags) std::cout << t << "\n";
}

void RunManifestInspect(GlobalOptions& g, const std::string& name) {
  auto access = OpenAccessOrReport(g);
  if (!access) return;
  auto ref = access->ResolveForPull(name);
  if (!ref) return ReportError(g, ref.error());
  auto routes = access->PullRoutes(*ref);
  if (!routes) return ReportError(g, routes.error());
  std::string failures;
  for (const RegistryRoute& route : *routes) {
    auto m = route.client->GetManifest(
        route.repository, ref->digest() ? ref->digest()->str() : ref->tag().value_or("latest"));
    if (!m) {
      failures += "\n  " + route.host + ": " + m.error().message;
      continue;
    }
    std::cout << m->bytes;
    if (m->bytes.empty() || m->bytes.back() != '\n') std::cout << "\n";
    return;
  }
  ReportError(g, "no manifest for " + ref->String() + ":" + failures);
}

}  // namespace

void RegisterRegistryCommands(CLI::App& app, GlobalOptions& g) {
  auto pull = std::make_shared<PullFlags>();
  auto* p = app.add_subcommand("pull", "Download an image from a registry");
  p->add_option("NAME", pull->name, "NAME[:TAG|@DIGEST]")->required();
  p->add_flag("-a,--all-tags", pull->all_tags, "Download all tagged images in the repository");
  p->add_flag("-q,--quiet", pull->quiet, "Suppress verbose output");
  p->add_option("--platform", pull->platform, "os/arch[/variant] to pull from an index");
  p->add_option("--max-concurrent-downloads", pull->max_concurrent_downloads,
                "Layers downloaded in parallel")
      ->capture_default_str();
  p->add_flag("--no-unpack", pull->no_unpack,
              "Store the layers without unpacking them (they are unpacked when first needed)");
  p->callback([&g, pull] { RunPull(g, *pull); });

  auto push = std::make_shared<PushFlags>();
  auto* u = app.add_subcommand("push", "Upload an image to a registry");
  u->add_option("NAME", push->name, "NAME[:TAG]")->required();
  u->add_flag("-a,--all-tags", push->all_tags, "Push all tags of the repository");
  u->add_flag("-q,--quiet", push->quiet, "Suppress verbose output");
  u->add_option("--compression", push->compression, "gzip (docker's) or zstd (OCI)")
      ->capture_default_str();
  u->add_option("--compression-level", push->compression_level,
                "gzip -1..9 (-1: zlib's default), zstd 1..19")
      ->capture_default_str();
  u->add_option("--max-concurrent-uploads", push->max_concurrent_uploads,
                "Layers uploaded in parallel")
      ->capture_default_str();
  u->add_option("--chunk-size", push->chunk_size,
                "Upload stored blobs in PATCH chunks of this many bytes (0: one request)");
  u->callback([&g, push] { RunPush(g, *push); });

  auto tags_args = std::make_shared<std::pair<std::string, std::string>>();
  auto* t = app.add_subcommand("tags", "List the tags of a repository in a registry");
  t->add_option("NAME", tags_args->first, "Repository")->required();
  t->add_option("--format", tags_args->second,
                "json: print skopeo list-tags' {\"Repository\", \"Tags\"} object");
  t->callback([&g, tags_args] { RunTags(g, tags_args->first, tags_args->second); });

  auto* manifest = app.add_subcommand("manifest", "Inspect manifests in a registry");
  manifest->require_subcommand(1);
  auto inspect_name = std::make_shared<std::string>();
  auto* mi = manifest->add_subcommand("inspect", "Print an image's manifest or index as stored");
  mi->add_option("NAME", *inspect_name, "NAME[:TAG|@DIGEST]")->required();
  mi->callback([&g, inspect_name] { RunManifestInspect(g, *inspect_name); });
}

}  // namespace strata::cli
