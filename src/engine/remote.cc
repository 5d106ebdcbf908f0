// Tags and manifests read from registries.
#include "engine/remote.h"

namespace strata {

Result<RepositoryTags> ListTags(Engine& engine, const std::string& name) {
  STRATA_ASSIGN(access, engine.registries());
  STRATA_ASSIGN(ref, access->ResolveForPush(name));
  STRATA_ASSIGN(routes, access->PullRoutes(ref));
  const RegistryRoute& registry = routes.back();  // the registry comes after its mirrors
  STRATA_ASSIGN(tags, registry.client->ListTags(registry.repository));
  return RepositoryTags{ref.NameOnly(), std::move(tags)};
}

Result<RemoteManifest> InspectManifest(Engine& engine, const std::string& name) {
  STRATA_ASSIGN(access, engine.registries());
  STRATA_ASSIGN(ref, access->ResolveForPull(name));
  STRATA_ASSIGN(routes, access->PullRoutes(ref));
  const std::string reference = ref.digest() ? ref.digest()->str() : ref.tag().value_or("latest");
  std::string failures;
  Error last;
  for (const RegistryRoute& route : routes) {
    auto manifest = route.client->GetManifest(route.repository, reference);
    if (manifest) return RemoteManifest{ref, route.host, std::move(*manifest)};
    failures += "\n  " + route.host + ": " + manifest.error().message;
    last = manifest.error();
  }
  return Rephrase(last, "no manifest for " + ref.String() + ":" + failures);
}

}  // namespace strata
