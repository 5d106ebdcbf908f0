// login, logout, resolve: credentials and the name policy, printed as docker and podman do.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "registry/credentials.h"
#include "registry/registry_policy.h"

namespace strata::cli {
namespace {

struct LoginFlags {
  std::string server;
  std::string username;
  std::string password;
  bool password_stdin = false;
};

// "docker.io" for Docker Hub's various spellings ("https://index.docker.io/v1/" included); the
// host otherwise.
std::string ServerHost(std::string server) {
  for (const char* scheme : {"https://", "http://"}) {
    if (server.rfind(scheme, 0) == 0) server = server.substr(std::string(scheme).size());
  }
  size_t slash = server.find('/');
  if (slash != std::string::npos) server.resize(slash);
  if (server.empty() || server == "index.docker.io" || server == "registry-1.docker.io") {
    return "docker.io";
  }
  return server;
}

// The endpoint a login to `host` talks to: the policy may rewrite the registry's location or
// block it. Pulls look credentials up by that endpoint, so they are stored under it.
Result<PolicyRoute> LoginRoute(const RegistryPolicy& policy, const std::string& server,
                               const std::string& host) {
  auto name = ParseNormalizedNamed(host == "docker.io" ? "docker.io/library/x" : host + "/x");
  if (!name || name->domain() != host) {
    return Fail("invalid registry \"" + server + "\" (expected host[:port])");
  }
  return policy.PushRoute(*name);
}

std::string ReadLine(std::istream& in) {
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

void RunLogin(GlobalOptions& g, LoginFlags f) {
  const std::string host = ServerHost(f.server);
  if (f.password_stdin) {
    if (!f.password.empty()) {
      return ReportError(g, "--password and --password-stdin are mutually exclusive");
    }
    if (f.username.empty()) return ReportError(g, "Must provide --username with --password-stdin");
    f.password = ReadLine(std::cin);
  } else if (!f.password.empty()) {
    std::cerr << "WARNING! Using --password via the CLI is insecure. Use --password-stdin.\n";
  }
  if (f.username.empty()) {
    if (::isatty(0) != 1) {
      return ReportError(g, "Cannot perform an interactive login from a non TTY device");
    }
    std::cout << "Username: " << std::flush;
    f.username = ReadLine(std::cin);
  }
  if (f.password.empty()) {
    if (::isatty(0) != 1) {
      return ReportError(g, "Cannot perform an interactive login from a non TTY device");
    }
    const char* p = ::getpass("Password: ");
    f.password = p ? p : "";
  }
  if (f.username.empty()) return ReportError(g, "Non-null Username Required");
  if (f.password.empty()) return ReportError(g, "Password Required");

  auto policy = RegistryPolicy::Load(g.registries_config);
  if (!policy) return ReportError(g, policy.error());
  auto route = LoginRoute(*policy, f.server, host);
  if (!route) return ReportError(g, route.error());
  const Credentials creds{f.username, f.password, ""};
  auto client = RegistryClient::Create(
      route->endpoint, [creds](const std::string&) { return std::optional<Credentials>(creds); });
  if (!client) return ReportError(g, client.error());
  if (auto ping = (*client)->Ping(); !ping) {
    return ReportError(g, "login to " + host + " failed: " + ping.error().message);
  }
  CredentialStore store;
  if (auto saved = store.Put(route->endpoint.host, creds); !saved) {
    return ReportError(g, "saving credentials to " + store.path() + ": " + saved.error().message);
  }
  std::cout << "Login Succeeded\n";
}

void RunLogout(GlobalOptions& g, const std::string& server) {
  const std::string host = ServerHost(server);
  // What login stored: the endpoint after the policy's rewrites, and the name as typed.
  std::vector<std::string> hosts = {host};
  if (auto policy = RegistryPolicy::Load(g.registries_config)) {
    if (auto route = LoginRoute(*policy, server, host);
        route && CredentialStore::KeyFor(route->endpoint.host) != CredentialStore::KeyFor(host)) {
      hosts.push_back(route->endpoint.host);
    }
  }
  CredentialStore store;
  bool removed = false;
  for (const std::string& h : hosts) {
    auto erased = store.Erase(h);
    if (!erased) return ReportError(g, erased.error());
    removed |= *erased;
  }
  if (!removed) {
    std::cout << "Not logged in to " << CredentialStore::KeyFor(host) << "\n";
    return;
  }
  std::cout << "Removing login credentials for " << CredentialStore::KeyFor(host) << "\n";
}

struct ResolveFlags {
  std::string name;
  std::string format;
};

nlohmann::ordered_json RouteJson(const PolicyRoute& r) {
  nlohmann::ordered_json j = {{"host", r.endpoint.host},
                              {"repository", r.repository},
                              {"mirror", r.mirror},
                              {"insecure", r.endpoint.insecure}};
  if (!r.endpoint.ca_file.empty()) j["ca-file"] = r.endpoint.ca_file;
  if (!r.endpoint.cert_file.empty()) j["cert-file"] = r.endpoint.cert_file;
  return j;
}

std::string RouteText(const PolicyRoute& r) {
  std::string flags;
  if (r.mirror) flags += "mirror";
  if (r.endpoint.insecure) flags += std::string(flags.empty() ? "" : ", ") + "insecure";
  if (!r.endpoint.ca_file.empty()) {
    flags += std::string(flags.empty() ? "" : ", ") + "ca-file " + r.endpoint.ca_file;
  }
  return r.endpoint.host + "/" + r.repository + (flags.empty() ? "" : " (" + flags + ")");
}

constexpr const char* kSearchNote =
    "pull looks the name up in each of these registries and refuses it unless exactly one has it";

void RunResolve(GlobalOptions& g, const ResolveFlags& f) {
  if (!f.format.empty() && f.format != "json" && f.format != "text") {
    return ReportError(g, "--format: expected json or text, not \"" + f.format + "\"");
  }
  auto policy = RegistryPolicy::Load(g.registries_config);
  if (!policy) return ReportError(g, policy.error());
  auto r = policy->Resolve(f.name);
  if (!r) return ReportError(g, r.error());
  // Routes cannot fail for a candidate Resolve returned, except for a location rewrite that
  // leaves no repository path: that error is shown in place of the routes.
  if (f.format == "json") {
    nlohmann::ordered_json out = {{"name", f.name},
                                  {"candidates", nlohmann::ordered_json::array()},
                                  {"reason", r->reason},
                                  {"search", r->search},
                                  {"config", policy->source()}};
    for (const Reference& c : r->candidates) {
      nlohmann::ordered_json candidate = {{"reference", c.String()}};
      if (const RegistryRule* rule = policy->MatchingRule(c)) {
        candidate["rule"] = {{"prefix", rule->prefix}, {"origin", rule->origin}};
      }
      auto pull = policy->PullRoutes(c);
      auto push = policy->PushRoute(c);
      if (pull && push) {
        candidate["pull"] = nlohmann::ordered_json::array();
        for (const PolicyRoute& route : *pull) candidate["pull"].push_back(RouteJson(route));
        candidate["push"] = RouteJson(*push);
      } else {
        candidate["error"] = pull ? push.error().message : pull.error().message;
      }
      out["candidates"].push_back(std::move(candidate));
    }
    std::cout << out.dump(2) << "\n";
    return;
  }
  for (const Reference& c : r->candidates) std::cout << c.String() << "\n";
  std::cout << "reason: " << r->reason << "\n";
  if (r->search) std::cout << "note: " << kSearchNote << "\n";
  for (const Reference& c : r->candidates) {
    std::cout << "routes for " << c.String() << ":\n";
    if (const RegistryRule* rule = policy->MatchingRule(c)) {
      std::cout << "  rule: prefix \"" << rule->prefix << "\" (" << rule->origin << ")\n";
    }
    auto pull = policy->PullRoutes(c);
    auto push = policy->PushRoute(c);
    if (!pull || !push) {
      std::cout << "  error: " << (pull ? push.error().message : pull.error().message) << "\n";
      continue;
    }
    for (const PolicyRoute& route : *pull) std::cout << "  pull " << RouteText(route) << "\n";
    std::cout << "  push " << RouteText(*push) << "\n";
  }
}

}  // namespace

void RegisterAuthCommands(CLI::App& app, GlobalOptions& g) {
  auto login = std::make_shared<LoginFlags>();
  auto* l = app.add_subcommand(
      "login", "Log in to a registry (credentials go to docker's config.json or its helper)");
  l->add_option("SERVER", login->server, "Registry (default: Docker Hub)");
  l->add_option("-u,--username", login->username, "Username");
  l->add_option("-p,--password", login->password, "Password");
  l->add_flag("--password-stdin", login->password_stdin, "Take the password from stdin");
  l->callback([&g, login] { RunLogin(g, *login); });

  auto logout_server = std::make_shared<std::string>();
  auto* o = app.add_subcommand("logout", "Log out from a registry");
  o->add_option("SERVER", *logout_server, "Registry (default: Docker Hub)");
  o->callback([&g, logout_server] { RunLogout(g, *logout_server); });

  auto resolve = std::make_shared<ResolveFlags>();
  auto* r = app.add_subcommand(
      "resolve", "Show what an image name resolves to under the registries config, and why");
  r->add_option("NAME", resolve->name, "Image name")->required();
  r->add_option("--format", resolve->format, "Output format: text (default) or json");
  r->callback([&g, resolve] { RunResolve(g, *resolve); });
}

}  // namespace strata::cli
