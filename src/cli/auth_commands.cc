// login, logout, resolve: credentials and the name policy, as docker and podman print them.
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "registry/credentials.h"
#include "registry/registry_access.h"

namespace strata::cli {
namespace {

struct LoginFlags {
  std::string server;
  std::string username;
  std::string password;
  bool password_stdin = false;
};

// "docker.io" for Docker Hub's various spellings; the host otherwise.
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

void RunLogin(GlobalOptions& g, LoginFlags f) {
  const std::string host = ServerHost(f.server);
  if (f.password_stdin) {
    if (!f.password.empty())
      return ReportError(g, "--password and --password-stdin are mutually exclusive");
    std::getline(std::cin, f.password);
    while (!f.password.empty() && (f.password.back() == '\r' || f.password.back() == '\n')) {
      f.password.pop_back();
    }
  }
  if (f.username.empty()) {
    if (::isatty(0) != 1)
      return ReportError(g, "Cannot perform an interactive login from a non TTY device");
    std::cout << "Username: " << std::flush;
    std::getline(std::cin, f.username);
  }
  if (f.password.empty()) {
    if (::isatty(0) != 1)
      return ReportError(g, "Cannot perform an interactive login from a non TTY device");
    const char* p = ::getpass("Password: ");
    f.password = p ? p : "";
  }
  if (f.username.empty() || f.password.empty())
    return ReportError(g, "username and password are required");
  auto policy = RegistryPolicy::Load(g.registries_config);
  if (!policy) return ReportError(g, policy.error().message);
  auto name = ParseNormalizedNamed(host == "docker.io" ? "docker.io/library/x" : host + "/x");
  if (!name) return ReportError(g, "invalid registry \"" + f.server + "\"");
  auto route = policy->PushRoute(*name);
  if (!route) return ReportError(g, route.error().message);
  const Credentials creds{f.username, f.password, ""};
  auto client = RegistryClient::Create(
      route->endpoint, [creds](const std::string&) { return std::optional<Credentials>(creds); });
  if (!client) return ReportError(g, client.error().message);
  auto ping = (*client)->Ping();
  if (!ping) return ReportError(g, "login to " + host + " failed: " + ping.error().message);
  CredentialStore store;
  auto saved = store.Put(host, creds);
  if (!saved) return ReportError(g, saved.error().message);
  std::cout << "Login Succeeded\n";
}

void RunLogout(GlobalOptions& g, const std::string& server) {
  const std::string host = ServerHost(server);
  CredentialStore store;
  auto erased = store.Erase(host);
  if (!erased) return ReportError(g, erased.error().message);
  if (!*erased) {
    std::cout << "Not logged in to " << CredentialStore::KeyFor(host) << "\n";
    return;
  }
  std::cout << "Removing login credentials for " << CredentialStore::KeyFor(host) << "\n";
}

void RunResolve(GlobalOptions& g, const std::string& name) {
  auto policy = RegistryPolicy::Load(g.registries_config);
  if (!policy) return ReportError(g, policy.error().message);
  auto r = policy->Resolve(name);
  if (!r) return ReportError(g, r.error().message);
  for (const Reference& c : r->candidates) {
    std::cout << c.String();
    auto routes = policy->PullRoutes(c);
    if (routes) {
      std::cout << "  (from";
      for (const PolicyRoute& route : *routes) {
        std::cout << " " << route.endpoint.host << "/" << route.repository
                  << (route.mirror ? " [mirror]" : "")
                  << (route.endpoint.insecure ? " [insecure]" : "");
      }
      std::cout << ")";
    }
    std::cout << "\n";
  }
  std::cout << "reason: " << r->reason << "\n";
  if (r->search) {
    std::cout << "pull checks each registry and refuses the name unless exactly one has it\n";
  }
}

}  // namespace

void RegisterAuthCommands(CLI::App& app, GlobalOptions& g) {
  auto login = std::make_shared<LoginFlags>();
  auto* l =
      app.add_subcommand("login", "Log in to a registry (credentials go to docker's config.json)");
  l->add_option("SERVER", login->server, "Registry (default: Docker Hub)");
  l->add_option("-u,--username", login->username, "Username");
  l->add_option("-p,--password", login->password, "Password");
  l->add_flag("--password-stdin", login->password_stdin, "Take the password from stdin");
  l->callback([&g, login] { RunLogin(g, *login); });

  auto logout_server = std::make_shared<std::string>();
  auto* o = app.add_subcommand("logout", "Log out from a registry");
  o->add_option("SERVER", *logout_server, "Registry (default: Docker Hub)");
  o->callback([&g, logout_server] { RunLogout(g, *logout_server); });

  auto resolve_name = std::make_shared<std::string>();
  auto* r = app.add_subcommand("resolve", "Show what an image name resolves to, and why");
  r->add_option("NAME", *resolve_name, "Image name")->required();
  r->callback([&g, resolve_name] { RunResolve(g, *resolve_name); });
}

}  // namespace strata::cli
