// registry serve, registry gc: the embedded registry over the store's blobs.
#include <toml++/toml.h>

#include <csignal>
#include <cstdio>
#include <iostream>

#include "cli/commands.h"
#include "server/htpasswd.h"
#include "server/http_server.h"
#include "server/local_registry_storage.h"
#include "server/registry_api.h"
#include "server/registry_gc.h"

namespace strata::cli {
namespace {

server::HttpServer* g_running = nullptr;

void OnStopSignal(int) {
  if (g_running) g_running->Stop();  // an eventfd write: async-signal-safe
}

// Fills the options of `command` that the command line left unset from a TOML file whose keys
// are the flag names without "--" (`addr = ":5000"`, `read-only = true`). Unknown keys, nested
// tables and values of the wrong kind are errors naming the key.
Status ApplyConfigFile(CLI::App& command, const std::string& path) {
  toml::table table;
  try {
    table = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    return Fail(path + ": " + std::string(e.description()));
  }
  for (const auto& [key, node] : table) {
    std::string name(key.str());
    CLI::Option* option = name == "config" ? nullptr : command.get_option_no_throw("--" + name);
    if (!option) return Fail(path + ": unknown setting \"" + name + "\"");
    std::string value;
    if (auto s = node.value<std::string>(); s && node.is_string()) {
      value = *s;
    } else if (node.is_boolean()) {
      value = *node.value<bool>() ? "true" : "false";
    } else if (node.is_integer()) {
      value = std::to_string(*node.value<int64_t>());
    } else {
      return Fail(path + ": \"" + name + "\" must be a string, a number or true/false");
    }
    if (option->count() > 0) continue;  // the command line wins
    option->add_result(value);
    option->run_callback();
  }
  return {};
}

}  // namespace

void RegisterRegistryServerCommands(CLI::App& app, GlobalOptions& g) {
  struct Options {
    std::string config;
    std::string addr = "127.0.0.1:5000";
    std::string root;
    std::string htpasswd;
    std::string access_log;
    server::TokenAuthOptions token;
    std::string tls_cert;
    std::string tls_key;
    bool read_only = false;
    uint64_t max_manifest_size = 4 << 20;
    uint64_t max_upload_size = 0;
    int max_concurrent_uploads = 0;
    int threads = 0;
    int64_t grace_seconds = 3600;
    bool delete_untagged = false;
    bool dry_run = false;
  };
  auto o = std::make_shared<Options>();
  auto* registry = app.add_subcommand("registry", "Run the embedded registry server");
  registry->require_subcommand(1);

  auto* serve = registry->add_subcommand(
      "serve", "Serve the store's blobs as an OCI / Docker registry (distribution API v2)");
  serve->add_option("--config", o->config,
                    "TOML file of these options (keys: the flag names, e.g. read-only = true); "
                    "flags on the command line win");
  serve->add_option("--addr", o->addr, "Listen address: host:port, [v6]:port or :port")
      ->capture_default_str();
  serve->add_option("--root", o->root, "Store to serve from (default: the global --root)");
  serve->add_option("--htpasswd", o->htpasswd, "Require basic auth against this bcrypt htpasswd");
  serve->add_option("--token-realm", o->token.realm,
                    "Bearer-token auth: URL of the token service (docker's token flow)");
  serve->add_option("--token-service", o->token.service, "Bearer-token auth: expected aud");
  serve->add_option("--token-issuer", o->token.issuer, "Bearer-token auth: expected iss");
  serve->add_option("--token-rootcertbundle", o->token.root_cert_bundle,
                    "Bearer-token auth: PEM certificates token signers must chain to");
  serve->add_option("--tls-cert", o->tls_cert, "Serve https: PEM certificate (chain) file");
  serve->add_option("--tls-key", o->tls_key, "Serve https: PEM private key file");
  serve->add_flag("--read-only", o->read_only, "Refuse every write (pushes, deletes)");
  serve->add_option("--max-manifest-size", o->max_manifest_size, "Largest manifest accepted")
      ->capture_default_str();
  serve->add_option("--max-upload-size", o->max_upload_size, "Largest blob accepted (0: none)");
  serve->add_option("--max-concurrent-uploads", o->max_concurrent_uploads,
                    "Request bodies received at once (0: no limit)");
  serve->add_option("--access-log", o->access_log, "Write one line per request here (- : stdout)");
  serve->add_option("--threads", o->threads, "Event loops (default: one per core)");
  serve->callback([&g, o, serve] {
    if (!o->config.empty()) {
      Status applied = ApplyConfigFile(*serve, o->config);
      if (!applied) return ReportError(g, applied.error());
    }
    if (!o->root.empty()) g.root = o->root;
    auto store = OpenStoreOrReport(g);
    if (!store) return;
    auto storage = server::LocalRegistryStorage::Open(*store);
    if (!storage) return ReportError(g, storage.error());
    std::optional<server::Htpasswd> htpasswd;
    if (!o->htpasswd.empty()) {
      auto loaded = server::Htpasswd::Load(o->htpasswd);
      if (!loaded) return ReportError(g, loaded.error());
      htpasswd = std::move(*loaded);
    }
    std::unique_ptr<server::TokenVerifier> tokens;
    if (!o->token.realm.empty() || !o->token.root_cert_bundle.empty()) {
      if (htpasswd) return ReportError(g, "choose one of --htpasswd and token auth");
      auto loaded = server::TokenVerifier::Load(o->token);
      if (!loaded) return ReportError(g, loaded.error());
      tokens = std::move(*loaded);
    }
    std::FILE* log = nullptr;
    if (o->access_log == "-") {
      log = stdout;
    } else if (!o->access_log.empty()) {
      log = std::fopen(o->access_log.c_str(), "ae");
      if (!log) return ReportError(g, "opening access log " + o->access_log);
    }
    server::RegistryOptions options{.read_only = o->read_only,
                                    .max_manifest_bytes = o->max_manifest_size,
                                    .max_upload_bytes = o->max_upload_size,
                                    .max_concurrent_uploads = o->max_concurrent_uploads,
                                    .htpasswd = htpasswd ? &*htpasswd : nullptr,
                                    .tokens = tokens.get(),
                                    .realm = "strata-registry",
                                    .access_log = log};
    server::RegistryApi api(**storage, options);
    server::ServerOptions server_options;
    server_options.address = o->addr;
    server_options.threads = o->threads;
    server_options.common_headers = server::kRegistryHeaders;
    server_options.tls_cert_file = o->tls_cert;
    server_options.tls_key_file = o->tls_key;
    auto http = server::HttpServer::Listen(server_options, api);
    if (!http) return ReportError(g, http.error());
    g_running = http->get();
    std::signal(SIGTERM, OnStopSignal);
    std::signal(SIGINT, OnStopSignal);
    std::signal(SIGPIPE, SIG_IGN);
    std::cerr << "strata registry listening on " << (*http)->address()
              << (o->tls_cert.empty() ? "" : " (https)") << " (store " << store->root()
              << (o->read_only ? ", read-only" : "") << ")" << std::endl;
    Status run = (*http)->Run();
    g_running = nullptr;
    if (log && log != stdout) std::fclose(log);
    if (!run) ReportError(g, run.error());
  });

  auto* gc = registry->add_subcommand(
      "gc", "Unlink blobs no manifest of their repository references, then collect garbage");
  gc->add_option("--root", o->root, "Store (default: the global --root)");
  gc->add_option("--grace-seconds", o->grace_seconds,
                 "Keep links younger than this (a push may still be sending its manifest)")
      ->capture_default_str();
  gc->add_flag("--delete-untagged", o->delete_untagged,
               "Also remove manifests no tag (or index) references");
  gc->add_flag("--dry-run", o->dry_run, "Print what would be removed; change nothing");
  gc->callback([&g, o] {
    if (!o->root.empty()) g.root = o->root;
    auto store = OpenStoreOrReport(g);
    if (!store) return;
    server::RegistryGcOptions options{.grace_seconds = o->grace_seconds,
                                      .delete_untagged = o->delete_untagged,
                                      .dry_run = o->dry_run};
    auto report = server::CollectRegistryGarbage(*store, options);
    if (!report) return ReportError(g, report.error());
    for (const std::string& line : report->lines) std::cout << line << "\n";
    std::cout << "Unlinked " << report->unlinked_blobs << " blob(s), removed "
              << report->removed_manifests << " manifest(s), deleted " << report->deleted_blobs
              << " blob file(s)\n";
  });
}

}  // namespace strata::cli
