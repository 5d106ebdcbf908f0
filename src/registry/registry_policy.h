// The registry name policy: what a short name means, and how each registry is reached. With no
// policy file a short name means exactly what it means to docker (docker.io/library/NAME:latest),
// so the same command gives the same image on every host. A TOML file (docs/registries.md;
// modelled on containers' registries.conf v2) can add search registries, aliases, pull-through
// mirrors, location rewrites, blocked and insecure registries, and TLS files. Every mistake in
// the file (a typo'd key, a prefix that can never match) is an error naming file:line, because
// a silently ignored rule could be a block rule.
// Immutable once loaded; thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "reference/reference.h"
#include "registry/registry_client.h"
#include "util/result.h"

namespace strata {

// Which pulls may use a mirror: tags on a mirror can be stale, digests cannot.
enum class MirrorUse { kAll, kDigestOnly, kTagOnly };

struct MirrorRule {
  std::string location;  // host[/path]
  bool insecure = false;
  MirrorUse use = MirrorUse::kAll;  // "pull-from-mirror"
};

struct RegistryRule {
  // "docker.io", "registry.example.com/team", "docker.io/library/foo" (component-wise prefix of
  // the fully qualified name) or "*.example.com" (any subdomain, any port).
  std::string prefix;
  std::string location;  // replaces the prefix (host[/path]); empty: none
  bool insecure = false;
  bool blocked = false;
  bool mirror_by_digest_only = false;  // applies to every mirror of the rule
  std::string ca_file, cert_file, key_file;
  std::vector<MirrorRule> mirrors;
  std::string origin;  // "FILE:LINE" of the [[registry]] table, for messages
};

// How to reach one name: an endpoint and the repository path on it.
struct PolicyRoute {
  RegistryEndpoint endpoint;
  std::string repository;  // e.g. "library/busybox"
  bool mirror = false;
};

class RegistryPolicy {
 public:
  // `path` empty: $STRATA_REGISTRIES_CONFIG, else $XDG_CONFIG_HOME/strata/registries.toml
  // (~/.config/strata/registries.toml when XDG_CONFIG_HOME is unset), else
  // /etc/strata/registries.toml; the first that exists. None: docker's rules. A named file
  // (argument or environment) that does not exist is an error.
  static Result<RegistryPolicy> Load(const std::string& path);
  // `source` names the text in messages (the file path).
  static Result<RegistryPolicy> Parse(std::string_view text, const std::string& source);

  struct Resolution {
    // Fully qualified, with a tag (":latest" added when neither tag nor digest was given) or a
    // digest; never blocked.
    std::vector<Reference> candidates;
    // Why: "fully qualified name", "short name: docker.io, as docker reads it (...)",
    // "alias from FILE: myapp -> quay.io/team/myapp", "short name: search registries [a, b]
    // from FILE".
    std::string reason;
    // True when the candidates come from several search registries: the caller must look the
    // name up in each and refuse it unless exactly one has it (an alias pins a name instead).
    bool search = false;
  };
  // What a user-typed name means, before any connection. A blocked name is an error naming the
  // rule (prefix, file:line); blocked search registries are skipped.
  Result<Resolution> Resolve(std::string_view text) const;

  // An error naming the rule when `name` (fully qualified) matches a blocked prefix.
  Status CheckAllowed(const Reference& name) const;
  // Where to pull a fully qualified name from, in order: the matching rule's mirrors (those
  // allowed for a tag or digest pull), then the registry itself (location rewrite applied).
  Result<std::vector<PolicyRoute>> PullRoutes(const Reference& name) const;
  // Where to push it: the registry itself, never a mirror.
  Result<PolicyRoute> PushRoute(const Reference& name) const;

  // The rule that applies to a fully qualified name (longest matching prefix), or null.
  const RegistryRule* MatchingRule(const Reference& name) const;

  const std::string& source() const { return source_; }  // file read, or "" for the defaults
  const std::vector<std::string>& search_registries() const { return search_; }
  const std::map<std::string, std::string>& aliases() const { return aliases_; }
  const std::vector<RegistryRule>& rules() const { return rules_; }

 private:
  std::string source_;
  std::vector<std::string> search_;
  std::map<std::string, std::string> aliases_;  // short name -> fully qualified repository
  std::vector<RegistryRule> rules_;
};

// localhost, 127.0.0.0/8 and ::1, with or without a port ("[::1]:5000"): docker treats them
// as insecure registries.
bool IsLoopbackHost(std::string_view host);

// Docker's rule for a name as typed: its first component names a registry only when a '/'
// follows it and it contains '.' or ':' or is "localhost"; otherwise it is a short name.
bool IsQualifiedName(std::string_view text);

}  // namespace strata
