// docker's credential store: config.json ("auths", "credsStore", "credHelpers") and the
// docker-credential-<name> helper programs, so `docker login` and `strata login` share
// credentials. Docker Hub is keyed "https://index.docker.io/v1/", other registries by host;
// keys written as "https://host" or "http://host/v2/" are found too when reading.
// Writes keep every other key of config.json and replace the file atomically (mode 0600).
// A CredentialStore holds only its path: lookups may run concurrently; concurrent writers (two
// logins at once) race on the file as they do with docker.
#pragma once

#include <map>
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
  // host ("registry-1.docker.io"). nullopt: no credentials for it (a helper's "credentials not
  // found" included). A helper that fails otherwise, or a config.json that is not JSON, is an
  // error.
  Result<std::optional<Credentials>> Get(const std::string& host) const;
  // Through the host's helper when config.json names one (leaving an empty "auths" entry, as
  // docker does), else base64 user:password in "auths" (plus "identitytoken" when set).
  Status Put(const std::string& host, const Credentials& credentials) const;
  // From the helper and from "auths" (every spelling of the host's key). False when there was
  // nothing to remove.
  Result<bool> Erase(const std::string& host) const;
  // Every server with credentials: config.json key -> username ("<token>" for identity tokens),
  // from "auths" and from the helpers' `list`.
  Result<std::map<std::string, std::string>> List() const;
  // The docker-credential-<name> program that keeps `host`'s credentials, or "" for config.json.
  Result<std::string> HelperFor(const std::string& host) const;

  // For RegistryClient. Answers are cached per host for the lookup's lifetime (one helper run
  // per registry, not per token fetch). The type has no room for errors: a broken config.json
  // or helper counts as "no credentials" (the registry's 401 then says what is missing).
  CredentialLookup Lookup() const;

  const std::string& path() const { return path_; }

  // Whether config.json is absent, empty or a JSON object; the error names the file and what is
  // wrong with it (for docker's "WARNING: Error loading config file: ..." before a command).
  Status Validate() const;

  // The config.json key for a host ("https://index.docker.io/v1/" for Docker Hub).
  static std::string KeyFor(const std::string& host);

 private:
  std::string path_;
};

}  // namespace strata
