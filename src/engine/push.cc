// Push: resolving the name, listing the local tags, and pushing each to its registry.
#include "engine/push.h"

#include "store/image_lookup.h"

namespace strata {
namespace {

// Every local tag of `repository` (a fully qualified name), for --all-tags.
Result<std::vector<Reference>> LocalTags(Store& store, const Reference& repository) {
  STRATA_ASSIGN(all, store.metadata().ListRefs());
  std::vector<Reference> refs;
  for (const RefRecord& r : all) {
    if (r.is_digest || r.repository != repository.Name()) continue;
    if (auto parsed = ParseDockerRef(r.name)) refs.push_back(*parsed);
  }
  if (refs.empty()) {
    return Fail(ErrorCode::kNotFound,
                "An image does not exist locally with the tag: " + repository.FamiliarName());
  }
  return refs;
}

// The image a reference names in the store, with docker's message when there is none.
Result<Digest> LocalImage(Store& store, const Reference& ref) {
  auto image = ResolveImage(store, ref.String());
  if (!image && IsNotFound(image.error())) {
    return Rephrase(image.error(),
                    "An image does not exist locally with the tag: " + ref.FamiliarString());
  }
  return image;
}

Result<PushResult> PushOne(Store& store, RegistryAccess& access, const Reference& ref,
                           const Digest& image, const PushRequest& request,
                           const PushEvents& events) {
  STRATA_ASSIGN(route, access.PushRoute(ref));
  PushOptions options{.compression = request.compression,
                      .compression_forced = request.compression != Compression::kGzip,
                      .compression_level = request.compression_level,
                      .max_concurrent_uploads = request.max_concurrent_uploads,
                      .chunk_size = request.chunk_size,
                      .progress = events.pushing ? events.pushing(ref) : nullptr};
  return PushImage(store, PushTarget{route.client.get(), ref.domain(), route.repository}, image,
                   ref.tag().value_or(""), options);
}

}  // namespace

Result<std::vector<PushedImage>> Push(Engine& engine, const PushRequest& request,
                                      const PushEvents& events) {
  STRATA_ASSIGN(access, engine.registries());
  STRATA_ASSIGN(ref, access->ResolveForPush(request.name));
  if (ref.digest()) return Fail(ErrorCode::kInvalidArgument, "cannot push a digest reference");
  STRATA_ASSIGN(store, engine.store());
  std::vector<Reference> refs;
  if (request.all_tags) {
    STRATA_ASSIGN(tags, LocalTags(*store, ref));
    refs = std::move(tags);
  } else {
    refs.push_back(ref);
  }
  if (events.started) events.started(ref.NameOnly());
  std::vector<PushedImage> pushed;
  for (const Reference& r : refs) {
    // Looked up before its registry is asked (see the header).
    STRATA_ASSIGN(image, LocalImage(*store, r));
    STRATA_ASSIGN(result, PushOne(*store, *access, r, image, request, events));
    if (events.pushed) events.pushed(r, result);
    pushed.push_back(PushedImage{r, std::move(result)});
  }
  return pushed;
}

}  // namespace strata
