// login, logout, resolve: the policy's endpoint for a registry, the credential store, and the
// routes of a name.
#include "engine/auth.h"

#include "registry/credentials.h"

namespace strata {
namespace {

// The endpoint a login to `host` talks to: the policy may rewrite the registry's location or
// block it. Pulls look credentials up by that endpoint, so they are stored under it.
Result<PolicyRoute> LoginRoute(const RegistryPolicy& policy, const std::string& server,
                               const std::string& host) {
  auto name = ParseNormalizedNamed(host == "docker.io" ? "docker.io/library/x" : host + "/x");
  if (!name || name->domain() != host) {
    return Fail(ErrorCode::kInvalidArgument,
                "invalid registry \"" + server + "\" (expected host[:port])");
  }
  return policy.PushRoute(*name);
}

ResolvedCandidate Candidate(const RegistryPolicy& policy, const Reference& reference) {
  ResolvedCandidate c{reference, std::nullopt, {}, std::nullopt, std::nullopt};
  if (const RegistryRule* rule = policy.MatchingRule(reference)) c.rule = *rule;
  auto pull = policy.PullRoutes(reference);
  auto push = policy.PushRoute(reference);
  if (pull && push) {
    c.pull = std::move(*pull);
    c.push = std::move(*push);
  } else {
    c.error = pull ? push.error() : pull.error();
  }
  return c;
}

}  // namespace

std::string LoginHost(std::string server) {
  for (const std::string_view scheme : {"https://", "http://"}) {
    if (server.starts_with(scheme)) server = server.substr(scheme.size());
  }
  if (size_t slash = server.find('/'); slash != std::string::npos) server.resize(slash);
  if (server.empty() || server == "index.docker.io" || server == "registry-1.docker.io") {
    return "docker.io";
  }
  return server;
}

Result<LoginResult> Login(Engine& engine, const LoginRequest& request) {
  if (request.username.empty()) {
    return Fail(ErrorCode::kInvalidArgument, "Non-null Username Required");
  }
  if (request.password.empty()) return Fail(ErrorCode::kInvalidArgument, "Password Required");
  const std::string host = LoginHost(request.server);
  STRATA_ASSIGN(access, engine.registries());
  STRATA_ASSIGN(route, LoginRoute(access->policy(), request.server, host));
  const Credentials creds{request.username, request.password, ""};
  STRATA_ASSIGN(client, RegistryClient::Create(route.endpoint, [creds](const std::string&) {
                  return std::optional<Credentials>(creds);
                }));
  if (auto ping = client->Ping(); !ping) {
    return Rephrase(ping.error(), "login to " + host + " failed: " + ping.error().message);
  }
  CredentialStore store;
  if (auto saved = store.Put(route.endpoint.host, creds); !saved) {
    return Wrap("saving credentials to " + store.path(), saved.error());
  }
  return LoginResult{host, route.endpoint.host, store.path()};
}

Result<LogoutResult> Logout(Engine& engine, const std::string& server) {
  const std::string host = LoginHost(server);
  // What login stored: the endpoint after the policy's rewrites, and the name as typed.
  std::vector<std::string> hosts = {host};
  if (auto access = engine.registries()) {
    if (auto route = LoginRoute((*access)->policy(), server, host);
        route && CredentialStore::KeyFor(route->endpoint.host) != CredentialStore::KeyFor(host)) {
      hosts.push_back(route->endpoint.host);
    }
  }
  CredentialStore store;
  LogoutResult result{CredentialStore::KeyFor(host), false};
  for (const std::string& h : hosts) {
    STRATA_ASSIGN(erased, store.Erase(h));
    result.removed |= erased;
  }
  return result;
}

Result<NameResolution> ResolveName(Engine& engine, const std::string& name) {
  STRATA_ASSIGN(access, engine.registries());
  const RegistryPolicy& policy = access->policy();
  STRATA_ASSIGN(resolution, policy.Resolve(name));
  NameResolution out{.name = name,
                     .candidates = {},
                     .reason = resolution.reason,
                     .search = resolution.search,
                     .config = policy.source()};
  for (const Reference& c : resolution.candidates) out.candidates.push_back(Candidate(policy, c));
  return out;
}

}  // namespace strata
