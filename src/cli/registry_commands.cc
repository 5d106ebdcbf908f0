// pull, push, tags, manifest inspect: the registry commands, printing what docker prints.
#include <cstdio>
#include <iostream>

#include "archive/compression.h"
#include "cli/commands.h"
#include "cli/layer_progress_view.h"
#include "engine/engine.h"
#include "engine/push.h"
#include "engine/remote.h"
#include "oci/platform.h"
#include "registry/image_pull.h"
#include "util/go_json.h"

namespace strata::cli {
namespace {

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
  auto engine = CreateEngine(g);
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

void RunPush(GlobalOptions& g, const PushFlags& f) {
  PushRequest request{.name = f.name,
                      .all_tags = f.all_tags,
                      .compression = Compression::kGzip,
                      .compression_level = f.compression_level,
                      .max_concurrent_uploads = f.max_concurrent_uploads,
                      .chunk_size = f.chunk_size};
  if (f.compression == "zstd") {
    request.compression = Compression::kZstd;
  } else if (f.compression != "gzip") {
    return ReportError(g, Error{"unknown compression \"" + f.compression + "\" (gzip or zstd)",
                                ErrorCode::kInvalidArgument});
  }
  std::unique_ptr<LayerProgressView> view;
  PushEvents events;
  events.started = [&](const Reference& repository) {
    if (f.quiet) return;
    if (!f.all_tags && !NamesTagOrDigest(f.name)) std::cout << "Using default tag: latest\n";
    std::cout << "The push refers to repository [" << repository.Name() << "]\n" << std::flush;
  };
  events.pushing = [&](const Reference&) {
    view = std::make_unique<LayerProgressView>(stdout, /*push=*/true, f.quiet);
    return view->callback();
  };
  events.pushed = [&](const Reference& ref, const PushResult& pushed) {
    if (!f.quiet) {
      std::cout << (ref.tag() ? *ref.tag() : pushed.digest.str())
                << ": digest: " << pushed.digest.str() << " size: " << pushed.size << "\n";
    } else {
      std::cout << ref.String() << "\n";
    }
    std::cout << std::flush;
  };
  auto engine = CreateEngine(g);
  auto pushed = Push(*engine, request, events);
  if (!pushed) ReportError(g, pushed.error());
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
    return ReportError(g, Error{"unsupported --format \"" + format + "\" (supported: json)",
                                ErrorCode::kInvalidArgument});
  }
  auto engine = CreateEngine(g);
  auto listed = ListTags(*engine, name);
  if (!listed) return ReportError(g, listed.error());
  if (format == "json") return PrintTagsJson(listed->repository.Name(), listed->tags);
  for (const std::string& t : listed->tags) std::cout << t << "\n";
}

void RunManifestInspect(GlobalOptions& g, const std::string& name) {
  auto engine = CreateEngine(g);
  auto manifest = InspectManifest(*engine, name);
  if (!manifest) return ReportError(g, manifest.error());
  const std::string& bytes = manifest->blob.bytes;
  std::cout << bytes;
  if (bytes.empty() || bytes.back() != '\n') std::cout << "\n";
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
