// A real registry on loopback for engine tests: the embedded registry (server/registry_api.h)
// over its own store, served by an HttpServer on 127.0.0.1 and an ephemeral port, which strata's
// clients reach over plain http (loopback registries are insecure, as in docker).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <thread>

#include "server/http_server.h"
#include "server/local_registry_storage.h"
#include "server/registry_api.h"
#include "store/store.h"

namespace strata::engine_test {

class LoopbackRegistry {
 public:
  // `dir` holds the registry's store; check ok() (or host() non-empty) before use.
  explicit LoopbackRegistry(const std::string& dir) {
    auto store = Store::Open(dir);
    if (!store) return;
    store_ = std::move(*store);
    auto storage = server::LocalRegistryStorage::Open(*store_);
    if (!storage) return;
    storage_ = std::move(*storage);
    api_ = std::make_unique<server::RegistryApi>(*storage_, server::RegistryOptions{});
    server::ServerOptions options;
    options.address = "127.0.0.1:0";
    options.threads = 2;
    options.common_headers = server::kRegistryHeaders;
    auto server = server::HttpServer::Listen(options, *api_);
    if (!server) return;
    server_ = std::move(*server);
    thread_ = std::thread([this] { (void)server_->Run(); });
  }
  ~LoopbackRegistry() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
  }
  LoopbackRegistry(const LoopbackRegistry&) = delete;
  LoopbackRegistry& operator=(const LoopbackRegistry&) = delete;

  bool ok() const { return server_ != nullptr; }
  std::string host() const { return server_ ? server_->address() : ""; }  // "127.0.0.1:41234"

 private:
  std::unique_ptr<Store> store_;
  std::unique_ptr<server::LocalRegistryStorage> storage_;
  std::unique_ptr<server::RegistryApi> api_;
  std::unique_ptr<server::HttpServer> server_;
  std::thread thread_;
};

}  // namespace strata::engine_test
