// Pull: the name policy, the sources in order (mirrors first), --all-tags.
#include "engine/engine.h"

namespace strata {
namespace {

// One fully qualified reference, trying each source until one works.
Result<PullResult> PullOne(Store& store, RegistryAccess& access, const Reference& ref,
                           const PullRequest& request, const PullEvents& events) {
  STRATA_ASSIGN(routes, access.PullRoutes(ref));
  std::string failures;
  for (const RegistryRoute& route : routes) {
    PullOptions options{.platform = request.platform,
                        .max_concurrent_downloads = request.max_concurrent_downloads,
                        .unpack = request.unpack,
                        .progress = events.attempt ? events.attempt(ref, route) : nullptr};
    auto pulled = PullImage(store, PullSource{route.client.get(), route.repository}, ref, options);
    if (pulled) return pulled;
    if (!route.mirror) return tl::unexpected(pulled.error());
    // A mirror that fails is skipped, as docker does; the caller hears about it.
    if (events.mirror_failed) events.mirror_failed(route, pulled.error());
    failures += "\n  " + route.host + ": " + pulled.error().message;
  }
  return Fail(ErrorCode::kUnavailable,
              "pulling " + ref.String() + ": every source failed:" + failures);
}

}  // namespace

Result<std::vector<PulledImage>> Pull(Engine& engine, const PullRequest& request,
                                      const PullEvents& events) {
  if (request.max_concurrent_downloads < 1) {
    return Fail(ErrorCode::kInvalidArgument, "--max-concurrent-downloads must be at least 1");
  }
  if (request.all_tags && NamesTagOrDigest(request.name)) {
    return Fail(ErrorCode::kInvalidArgument, "tag can't be used with --all-tags/-a");
  }
  STRATA_ASSIGN(access, engine.registries());
  STRATA_ASSIGN(ref, access->ResolveForPull(request.name));
  STRATA_ASSIGN(store, engine.store());
  std::vector<Reference> refs;
  if (!request.all_tags) {
    refs.push_back(ref);
  } else {
    STRATA_ASSIGN(routes, access->PullRoutes(ref));
    STRATA_ASSIGN(tags, routes.back().client->ListTags(routes.back().repository));
    for (const std::string& tag : tags) {
      STRATA_ASSIGN(tagged, ref.NameOnly().WithTag(tag));
      refs.push_back(std::move(tagged));
    }
  }
  std::vector<PulledImage> pulled;
  for (const Reference& r : refs) {
    STRATA_ASSIGN(result, PullOne(*store, *access, r, request, events));
    if (events.pulled) events.pulled(r, result);
    pulled.push_back(PulledImage{r, std::move(result)});
  }
  return pulled;
}

}  // namespace strata
