// The registry name policy: what a short name means, and how each registry is reached. With no
// policy file a short name means exactly what it means to docker (docker.io/library/NAME:latest),
// so the same command gives the same image on every host. A TOML file (docs/registries.md;
// modelled on containers' registries.conf v2) can add search registries, aliases, pull-through
// mirrors, blocked and insecure registries, and TLS files. Immutable once loaded; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "reference/reference.h"
#include "registry/registry_client.h"
#include "util/result.h"

namespace strata {

struct MirrorRule {
  std::string location;  // host[/path]
  bool insecure = false;
};

struct RegistryRule {
  std::string prefix;    // "docker.io", "registry.example.com/team", "*.example.com"
  std::string location;  // rewrite of the prefix (host[/path]); empty: none
  bool insecure = false;
  bool blocked = false;
  std::string ca_file, cert_file, key_file;
  std::vector<MirrorRule> mirrors;
};

// How to reach one name: an endpoint and the repository path on it.
struct PolicyRoute {
  RegistryEndpoint endpoint;
  std::string repository;
  bool mirror = false;
};

class RegistryPolicy {
 public:
  // `path` empty: $STRATA_REGISTRIES_CONFIG, $XDG_CONFIG_HOME/strata/registries.toml
  // (~/.config/...), /etc/strata/registries.toml, the first that exists; none: docker's rules.
  static Result<RegistryPolicy> Load(const std::string& path);
  static Result<RegistryPolicy> Parse(std::string_view text, const std::string& source);

  struct Resolution {
    std::vector<Reference> candidates;  // fully qualified, with a tag or digest
    std::string reason;
    bool search = false;  // candidates come from several search registries
  };
  // What a user-typed name means. Blocked candidates are refused, naming the rule.
  Result<Resolution> Resolve(std::string_view text) const;

  Status CheckAllowed(const Reference& name) const;
  // Mirrors first (in order), then the registry itself.
  Result<std::vector<PolicyRoute>> PullRoutes(const Reference& name) const;
  Result<PolicyRoute> PushRoute(const Reference& name) const;

  const std::string& source() const { return source_; }  // file read, or "" for the defaults

 private:
  const RegistryRule* Match(const Reference& name) const;
  std::string source_;
  std::vector<std::string> search_;
  std::map<std::string, std::string> aliases_;
  std::vector<RegistryRule> rules_;
};

// localhost, 127.0.0.0/8 and ::1 (with or without a port): docker treats them as insecure.
bool IsLoopbackHost(std::string_view host);

}  // namespace strata
