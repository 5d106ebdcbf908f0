#include "registry/registry_access.h"

#include "registry/credentials.h"
#include "registry/registry_transport.h"

namespace strata {

Result<std::unique_ptr<RegistryAccess>> RegistryAccess::Open(const std::string& policy_file,
                                                             RetryPolicy retry) {
  STRATA_ASSIGN(policy, RegistryPolicy::Load(policy_file));
  return std::unique_ptr<RegistryAccess>(new RegistryAccess(std::move(policy), retry));
}

Result<std::shared_ptr<RegistryClient>> RegistryAccess::Client(RegistryEndpoint endpoint,
                                                               const SideOptions* side) {
  std::string key = endpoint.host;
  CredentialLookup credentials = CredentialStore().Lookup();
  if (side != nullptr && !side->empty()) {
    key += side == &source_options ? "#source" : "#destination";
    if (side->tls_verify) endpoint.insecure = !*side->tls_verify;
    if (side->credentials) {
      credentials = [c = *side->credentials](const std::string&) {
        return std::optional<Credentials>(c);
      };
    }
  }
  auto it = clients_.find(key);
  if (it != clients_.end()) return it->second;
  STRATA_ASSIGN(client, RegistryClient::Create(endpoint, std::move(credentials), retry_));
  clients_[key] = client;
  return client;
}

Result<std::vector<RegistryRoute>> RegistryAccess::Routes(const Reference& name,
                                                          const SideOptions* side) {
  STRATA_ASSIGN(routes, policy_.PullRoutes(name));
  std::vector<RegistryRoute> out;
  for (const PolicyRoute& r : routes) {
    STRATA_ASSIGN(client, Client(r.endpoint, side));
    out.push_back(RegistryRoute{client, r.repository, r.endpoint.host, r.mirror});
  }
  return out;
}

Result<std::vector<RegistryRoute>> RegistryAccess::PullRoutes(const Reference& name) {
  return Routes(name, nullptr);
}

Result<RegistryRoute> RegistryAccess::PushRoute(const Reference& name) {
  STRATA_ASSIGN(r, policy_.PushRoute(name));
  STRATA_ASSIGN(client, Client(r.endpoint));
  return RegistryRoute{client, r.repository, r.endpoint.host, false};
}

Result<Reference> RegistryAccess::ResolveForPull(std::string_view text) {
  STRATA_ASSIGN(resolution, policy_.Resolve(text));
  if (!resolution.search) return resolution.candidates.front();
  // Several search registries: the name must exist in exactly one of them.
  std::vector<Reference> found;
  std::string misses;
  for (const Reference& candidate : resolution.candidates) {
    STRATA_ASSIGN(routes, PullRoutes(candidate));
    const RegistryRoute& registry = routes.back();
    const std::string ref =
        candidate.digest() ? candidate.digest()->str() : candidate.tag().value_or("latest");
    auto head = registry.client->HeadManifest(registry.repository, ref);
    if (head && *head) {
      found.push_back(candidate);
    } else {
      misses += "\n  " + candidate.String() + ": " +
                (head ? std::string("not found") : head.error().message);
    }
  }
  if (found.size() == 1) return found.front();
  std::string names;
  for (const Reference& r : (found.empty() ? resolution.candidates : found)) {
    names += "\n  " + r.String();
  }
  if (found.empty()) {
    return Fail(ErrorCode::kNotFound, "short name \"" + std::string(text) +
                                          "\" was not found in any search registry (" +
                                          resolution.reason + "):" + misses);
  }
  return Fail(ErrorCode::kInvalidArgument,
              "short name \"" + std::string(text) +
                  "\" is ambiguous: it exists in several search registries (" + resolution.reason +
                  "); use a fully qualified name or add an alias:" + names);
}

Result<Reference> RegistryAccess::ResolveForPush(std::string_view text) {
  STRATA_ASSIGN(resolution, policy_.Resolve(text));
  if (resolution.search) {
    return Fail(ErrorCode::kInvalidArgument,
                "short name \"" + std::string(text) + "\" could mean several registries (" +
                    resolution.reason + "); name the registry to push to");
  }
  return resolution.candidates.front();
}

Result<std::unique_ptr<ImageSource>> RegistryAccess::OpenSource(
    const std::string& name, const std::optional<Platform>& platform) {
  STRATA_ASSIGN(ref, ResolveForPull(name));
  STRATA_ASSIGN(routes, Routes(ref, &source_options));
  const std::string reference = ref.digest() ? ref.digest()->str() : ref.tag().value_or("latest");
  std::string failures;
  for (const RegistryRoute& route : routes) {
    auto source = RegistryImageSource::Open(route.client, route.repository, reference, platform);
    if (source) return std::unique_ptr<ImageSource>(std::move(*source));
    if (!route.mirror) return tl::unexpected(source.error());
    failures += route.host + ": " + source.error().message + "; ";
  }
  return Fail("docker://" + name + ": " + failures);
}

Result<std::unique_ptr<ImageDestination>> RegistryAccess::OpenDestination(const std::string& name) {
  STRATA_ASSIGN(ref, ResolveForPush(name));
  STRATA_ASSIGN(r, policy_.PushRoute(ref));
  STRATA_ASSIGN(client, Client(r.endpoint, &destination_options));
  return std::unique_ptr<ImageDestination>(
      new RegistryImageDestination(client, r.repository, ref.tag().value_or("")));
}

}  // namespace strata
