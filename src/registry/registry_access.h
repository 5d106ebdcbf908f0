// Everything a command needs to reach registries, in one place: the name policy (short names,
// aliases, mirrors, blocked and insecure registries), the user's credentials, and one shared
// client per endpoint. It turns what a user typed into fully qualified references and those
// into endpoints to try, and opens docker:// images for copy. Not thread-safe (the clients it
// hands out are).
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "reference/reference.h"
#include "registry/registry_client.h"
#include "registry/registry_policy.h"
#include "transport/image_copy.h"

namespace strata {

// One place to fetch a name from (the registry itself or a mirror).
struct RegistryRoute {
  std::shared_ptr<RegistryClient> client;
  std::string repository;  // path on that endpoint
  std::string host;        // the endpoint, for messages
  bool mirror = false;
};

class RegistryAccess : public RegistryOpener {
 public:
  // `policy_file` empty: the default search (see registry_policy.h).
  static Result<std::unique_ptr<RegistryAccess>> Open(const std::string& policy_file,
                                                      RetryPolicy retry = {});

  const RegistryPolicy& policy() const { return policy_; }

  // The fully qualified reference (":latest" added when neither tag nor digest is given) a name
  // means for a pull. A short name with several search registries is looked up in each (HEAD)
  // and must exist in exactly one, unless an alias pins it.
  Result<Reference> ResolveForPull(std::string_view text);
  // For a push: no search; the policy's meaning of the name, checked against blocked rules.
  Result<Reference> ResolveForPush(std::string_view text);

  // Where to pull `name` from, in order: mirrors, then the registry.
  Result<std::vector<RegistryRoute>> PullRoutes(const Reference& name);
  // Where to push `name` (never a mirror).
  Result<RegistryRoute> PushRoute(const Reference& name);

  Result<std::unique_ptr<ImageSource>> OpenSource(const std::string& name,
                                                  const std::optional<Platform>& platform) override;
  Result<std::unique_ptr<ImageDestination>> OpenDestination(const std::string& name) override;

  // skopeo copy's --src-tls-verify/--src-creds and --dest-* options: settings for the images
  // OpenSource or OpenDestination opens only.
  struct SideOptions {
    // true: verify the registry's certificate even where the policy calls it insecure;
    // false: do not verify it, and fall back to http (an insecure registry).
    std::optional<bool> tls_verify;
    std::optional<Credentials> credentials;  // instead of the credential store's
    bool empty() const { return !tls_verify && !credentials; }
  };
  SideOptions source_options;
  SideOptions destination_options;

 private:
  RegistryAccess(RegistryPolicy policy, RetryPolicy retry)
      : policy_(std::move(policy)), retry_(retry) {}
  Result<std::shared_ptr<RegistryClient>> Client(RegistryEndpoint endpoint,
                                                 const SideOptions* side = nullptr);
  Result<std::vector<RegistryRoute>> Routes(const Reference& name, const SideOptions* side);

  RegistryPolicy policy_;
  RetryPolicy retry_;
  // by host (and side, when a side has its own options)
  std::map<std::string, std::shared_ptr<RegistryClient>> clients_;
};

}  // namespace strata
