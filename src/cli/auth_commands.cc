// login, logout, resolve: credentials and the name policy, printed as docker and podman do.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "engine/auth.h"

namespace strata::cli {
namespace {

struct LoginFlags {
  std::string server;
  std::string username;
  std::string password;
  bool password_stdin = false;
};

std::string ReadLine(std::istream& in) {
  std::string line;
  std::getline(in, line);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  return line;
}

void RunLogin(GlobalOptions& g, LoginFlags f) {
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
  auto engine = CreateEngine(g);
  auto login = Login(*engine, {.server = f.server, .username = f.username, .password = f.password});
  if (!login) return ReportError(g, login.error());
  std::cout << "Login Succeeded\n";
}

void RunLogout(GlobalOptions& g, const std::string& server) {
  auto engine = CreateEngine(g);
  auto logout = Logout(*engine, server);
  if (!logout) return ReportError(g, logout.error());
  std::cout << (logout->removed ? "Removing login credentials for " : "Not logged in to ")
            << logout->key << "\n";
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

nlohmann::ordered_json CandidateJson(const ResolvedCandidate& c) {
  nlohmann::ordered_json j = {{"reference", c.reference.String()}};
  if (c.rule) j["rule"] = {{"prefix", c.rule->prefix}, {"origin", c.rule->origin}};
  if (c.error) {
    j["error"] = c.error->message;
    return j;
  }
  j["pull"] = nlohmann::ordered_json::array();
  for (const PolicyRoute& route : c.pull) j["pull"].push_back(RouteJson(route));
  j["push"] = RouteJson(*c.push);
  return j;
}

void PrintResolutionJson(const NameResolution& r) {
  nlohmann::ordered_json out = {{"name", r.name},
                                {"candidates", nlohmann::ordered_json::array()},
                                {"reason", r.reason},
                                {"search", r.search},
                                {"config", r.config}};
  for (const ResolvedCandidate& c : r.candidates) out["candidates"].push_back(CandidateJson(c));
  std::cout << out.dump(2) << "\n";
}

void PrintResolutionText(const NameResolution& r) {
  for (const ResolvedCandidate& c : r.candidates) std::cout << c.reference.String() << "\n";
  std::cout << "reason: " << r.reason << "\n";
  if (r.search) std::cout << "note: " << kSearchNote << "\n";
  for (const ResolvedCandidate& c : r.candidates) {
    std::cout << "routes for " << c.reference.String() << ":\n";
    if (c.rule)
      std::cout << "  rule: prefix \"" << c.rule->prefix << "\" (" << c.rule->origin << ")\n";
    if (c.error) {
      std::cout << "  error: " << c.error->message << "\n";
      continue;
    }
    for (const PolicyRoute& route : c.pull) std::cout << "  pull " << RouteText(route) << "\n";
    std::cout << "  push " << RouteText(*c.push) << "\n";
  }
}

void RunResolve(GlobalOptions& g, const ResolveFlags& f) {
  if (!f.format.empty() && f.format != "json" && f.format != "text") {
    return ReportError(g, Error{"--format: expected json or text, not \"" + f.format + "\"",
                                ErrorCode::kInvalidArgument});
  }
  auto engine = CreateEngine(g);
  auto resolved = ResolveName(*engine, f.name);
  if (!resolved) return ReportError(g, resolved.error());
  if (f.format == "json") return PrintResolutionJson(*resolved);
  PrintResolutionText(*resolved);
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
