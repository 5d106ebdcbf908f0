// Bearer-token auth as distribution's `auth.token` does it: a token service (docker's token
// flow) issues JWTs; the registry checks each one offline against a root certificate bundle.
// A token is accepted when it is RS256 or ES256, its x5c certificate chain leads to a bundle
// certificate and that leaf signed it, iss and aud are the configured issuer and service, and
// it is within exp/nbf (a minute of leeway). Its "access" claim grants actions per resource.
// Verified tokens are remembered by their sha256 until they expire.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "util/result.h"

struct x509_store_st;  // OpenSSL's X509_STORE

namespace strata::server {

struct TokenAuthOptions {
  std::string realm;             // URL of the token service, sent in the challenge
  std::string service;           // the token's expected aud
  std::string issuer;            // the token's expected iss
  std::string root_cert_bundle;  // PEM file of the certificates tokens must chain to
};

struct TokenGrant {
  std::string type;  // "repository", "registry"
  std::string name;  // "library/busybox", "catalog"
  std::set<std::string> actions;
};

struct VerifiedToken {
  std::string subject;
  int64_t expires = 0;
  std::vector<TokenGrant> access;
  bool Allows(std::string_view type, std::string_view name, std::string_view action) const;
};

class TokenVerifier {
 public:
  static Result<std::unique_ptr<TokenVerifier>> Load(TokenAuthOptions options);
  ~TokenVerifier();

  // Checks an Authorization header value ("Bearer <jwt>"); the error says what is wrong.
  Result<VerifiedToken> Verify(std::string_view authorization, int64_t now) const;
  // The WWW-Authenticate value asking for `scope` (empty: no scope, as for /v2/).
  std::string Challenge(const std::string& scope, const std::string& error = "") const;

 private:
  explicit TokenVerifier(TokenAuthOptions options) : options_(std::move(options)) {}
  Result<VerifiedToken> VerifyUncached(std::string_view jwt, int64_t now) const;

  TokenAuthOptions options_;
  x509_store_st* roots_ = nullptr;
  mutable std::mutex mu_;
  mutable std::map<std::string, VerifiedToken> cache_;  // sha256 of the token -> claims
};

}  // namespace strata::server
