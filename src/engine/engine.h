// The engine: one call per user operation. Each takes a request struct and returns a result; it
// reports progress through callbacks and never prints. The CLI is argument parsing and printing
// over these calls, and a later Engine API server is a second front end over the same calls
// (in the manner of containerd's transfer service over its small services, or crun's commands
// over libcrun).
//
// An Engine holds what operations share: the store (opened on first use, read-only when only
// read-only operations ran) and the registry access (name policy, credentials, one client per
// endpoint). It is not thread-safe: one operation at a time.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "oci/manifest.h"
#include "reference/reference.h"
#include "registry/image_pull.h"
#include "registry/registry_access.h"
#include "registry/transfer_progress.h"
#include "store/store.h"
#include "util/result.h"

namespace strata {

struct EngineOptions {
  std::string root;               // the store directory
  std::string registries_config;  // the name policy file; empty: the default search
};

class Engine {
 public:
  static std::unique_ptr<Engine> Create(EngineOptions options) {
    return std::unique_ptr<Engine>(new Engine(std::move(options)));
  }

  // The store, opened on first use. An engine first asked for read-only access and later for
  // read-write reopens it.
  Result<Store*> store(StoreAccess access = StoreAccess::kReadWrite);
  // The name policy, credentials and clients, loaded on first use.
  Result<RegistryAccess*> registries();

  const EngineOptions& options() const { return options_; }

 private:
  explicit Engine(EngineOptions options) : options_(std::move(options)) {}
  EngineOptions options_;
  std::unique_ptr<Store> store_;
  StoreAccess store_access_ = StoreAccess::kReadOnly;
  std::unique_ptr<RegistryAccess> registries_;
};

// Opens the store at `root` (the --root directory); an empty root is kInvalidArgument, saying how
// to name one. For front ends that need a store without an engine (registry serve).
Result<std::unique_ptr<Store>> OpenStoreAt(const std::string& root, StoreAccess access);

// Whether the user wrote a tag or digest (the name policy adds ":latest" otherwise).
bool NamesTagOrDigest(std::string_view text);

// --- pull ----------------------------------------------------------------------------------------

struct PullRequest {
  std::string name;                  // as the user wrote it: short names go through the name policy
  bool all_tags = false;             // every tag of the repository (the name must not carry one)
  std::optional<Platform> platform;  // default: the host's
  int max_concurrent_downloads = 3;
  bool unpack = true;
};

struct PullEvents {
  // Before each attempt at one reference from one source (a mirror, then the registry): returns
  // the layer progress callback for that attempt (may be empty).
  std::function<LayerProgressFn(const Reference& ref, const RegistryRoute& route)> attempt;
  // A mirror failed; the next source is tried, as docker does.
  std::function<void(const RegistryRoute& route, const Error& error)> mirror_failed;
  // One reference is pulled (for --all-tags, once per tag, as each ends).
  std::function<void(const Reference& ref, const PullResult& result)> pulled;
};

struct PulledImage {
  Reference ref;
  PullResult result;
};

// docker pull: resolves the name (short names, aliases, mirrors, blocked registries), tries each
// source in turn, and for --all-tags pulls every tag the registry lists.
Result<std::vector<PulledImage>> Pull(Engine& engine, const PullRequest& request,
                                      const PullEvents& events = {});

}  // namespace strata
