// docker's credential store: ~/.docker/config.json ("auths", "credsStore", "credHelpers") and
// the docker-credential-<name> helper programs, so `docker login` and `strata login` share
// credentials. Docker Hub is keyed "https://index.docker.io/v1/", other registries by host.
// Not thread-safe for writes; lookups may run concurrently.
#pragma once

#include <optional>
#include <string>

#include "registry/registry_client.h"
#include "util/result.h"

namespace strata {

class CredentialStore {
 public:
  // $STRATA_AUTH_FILE, else $DOCKER_CONFIG/config.json, else ~/.docker/config.json.
  static std::string DefaultPath();
  explicit CredentialStore(std::string path = DefaultPath()) : path_(std::move(path)) {}

  // `host`: a registry host as in a reference ("docker.io", "127.0.0.1:5000") or an endpoint
  // host ("registry-1.docker.io").
  Result<std::optional<Credentials>> Get(const std::string& host) const;
  Status Put(const std::string& host, const Credentials& credentials) const;
  // Returns false when there was nothing to remove.
  Result<bool> Erase(const std::string& host) const;

  CredentialLookup Lookup() const;  // for RegistryClient; errors count as "no credentials"

  const std::string& path() const { return path_; }

  // The config.json key for a host ("https://index.docker.io/v1/" for Docker Hub).
  static std::string KeyFor(const std::string& host);

 private:
  std::string path_;
};

}  // namespace strata
