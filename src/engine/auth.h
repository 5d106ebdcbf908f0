// login, logout and resolve: the user's registry credentials and what the name policy makes of
// a name. Prompting for a user name or password is the front end's: these calls take both as
// given. Credentials go where docker keeps them (registry/credentials.h: config.json or its
// helper), under the endpoint the policy sends the registry's traffic to. Not thread-safe (one
// Engine, one operation).
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "engine/engine.h"
#include "registry/registry_policy.h"

namespace strata {

// docker login's server argument normalised: "docker.io" for Docker Hub's spellings ("",
// "https://index.docker.io/v1/", "registry-1.docker.io"), the host[:port] otherwise.
std::string LoginHost(std::string server);

struct LoginRequest {
  std::string server;  // as the user wrote it; empty: Docker Hub
  std::string username;
  std::string password;
};

struct LoginResult {
  std::string host;            // LoginHost(server)
  std::string endpoint;        // where the credentials are stored (after location rewrites)
  std::string credentials_at;  // the config.json written (or whose helper was used)
};

// Checks the credentials against the registry (a ping that must authenticate) and stores them.
// Errors: kInvalidArgument for an empty user name or password or a server that is not
// host[:port]; the ping's error ("login to HOST failed: ...") with its kind; the credential
// store's ("saving credentials to PATH: ...").
Result<LoginResult> Login(Engine& engine, const LoginRequest& request);

struct LogoutResult {
  std::string key;       // the config.json key of the server (docker's message names it)
  bool removed = false;  // false: there were no credentials to remove
};

// Removes the credentials login stored for `server`: under the name as typed and under the
// endpoint the policy rewrites it to (a policy that does not load leaves only the former).
Result<LogoutResult> Logout(Engine& engine, const std::string& server);

// One candidate of a name, and how it would be reached.
struct ResolvedCandidate {
  Reference reference;
  std::optional<RegistryRule> rule;  // the rule that applies, if any
  std::vector<PolicyRoute> pull;     // mirrors, then the registry
  std::optional<PolicyRoute> push;
  // Set (and pull, push empty) when the routes cannot be made: a location rewrite that leaves no
  // repository path.
  std::optional<Error> error;
};

struct NameResolution {
  std::string name;  // as given
  std::vector<ResolvedCandidate> candidates;
  std::string reason;   // why these candidates (RegistryPolicy::Resolution)
  bool search = false;  // a pull looks the name up in each candidate's registry
  std::string config;   // the policy file read, or "" for docker's rules
};

// What `name` means under the policy, before any connection (strata resolve).
Result<NameResolution> ResolveName(Engine& engine, const std::string& name);

}  // namespace strata
