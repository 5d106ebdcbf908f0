#include "server/bearer_token.h"

#include <openssl/ecdsa.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <strings.h>

#include <nlohmann/json.hpp>

#include "digest/digest.h"
#include "util/base64.h"
#include "util/json_depth.h"

namespace strata::server {
namespace {

using Json = nlohmann::json;

constexpr int64_t kLeewaySeconds = 60;

Result<std::string> Base64UrlDecode(std::string_view text) {
  std::string s(text);
  for (char& c : s) {
    if (c == '-') c = '+';
    if (c == '_') c = '/';
  }
  while (s.size() % 4 != 0) s += '=';
  return Base64Decode(s);
}

struct X509Free {
  void operator()(X509* x) const { ::X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;

X509Ptr ParseDer(const std::string& der) {
  const unsigned char* p = reinterpret_cast<const unsigned char*>(der.data());
  return X509Ptr(::d2i_X509(nullptr, &p, static_cast<long>(der.size())));
}

// ES256 signatures in a JWT are r || s (32 bytes each); OpenSSL verifies DER.
Result<std::string> EcdsaRawToDer(const std::string& raw) {
  if (raw.size() != 64) return Fail("ES256 signature is not 64 bytes");
  ECDSA_SIG* sig = ::ECDSA_SIG_new();
  BIGNUM* r = ::BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()), 32, nullptr);
  BIGNUM* s = ::BN_bin2bn(reinterpret_cast<const unsigned char*>(raw.data()) + 32, 32, nullptr);
  ::ECDSA_SIG_set0(sig, r, s);
  unsigned char* der = nullptr;
  int n = ::i2d_ECDSA_SIG(sig, &der);
  ::ECDSA_SIG_free(sig);
  if (n <= 0) return Fail("bad ES256 signature");
  std::string out(reinterpret_cast<char*>(der), static_cast<size_t>(n));
  ::OPENSSL_free(der);
  return out;
}

bool AudienceMatches(const Json& aud, const std::string& service) {
  if (aud.is_string()) return aud == service;
  if (aud.is_array()) {
    for (const Json& a : aud) {
      if (a.is_string() && a == service) return true;
    }
  }
  return false;
}

}  // namespace

bool VerifiedToken::Allows(std::string_view type, std::string_view name,
                           std::string_view action) const {
  for (const TokenGrant& g : access) {
    if (g.type == type && g.name == name &&
        (g.actions.count(std::string(action)) || g.actions.count("*"))) {
      return true;
    }
  }
  return false;
}

Result<std::unique_ptr<TokenVerifier>> TokenVerifier::Load(TokenAuthOptions options) {
  if (options.realm.empty() || options.service.empty() || options.issuer.empty() ||
      options.root_cert_bundle.empty()) {
    return Fail("token auth needs a realm, a service, an issuer and a root certificate bundle");
  }
  std::unique_ptr<TokenVerifier> v(new TokenVerifier(std::move(options)));
  v->roots_ = ::X509_STORE_new();
  if (::X509_STORE_load_file(v->roots_, v->options_.root_cert_bundle.c_str()) != 1) {
    ::ERR_clear_error();
    return Fail("token auth: cannot read certificates from " + v->options_.root_cert_bundle);
  }
  return v;
}

TokenVerifier::~TokenVerifier() { ::X509_STORE_free(roots_); }

std::string TokenVerifier::Challenge(const std::string& scope, const std::string& error) const {
  std::string c = "Bearer realm=\"" + options_.realm + "\",service=\"" + options_.service + "\"";
  if (!scope.empty()) c += ",scope=\"" + scope + "\"";
  if (!error.empty()) c += ",error=\"" + error + "\"";
  return c;
}

Result<VerifiedToken> TokenVerifier::Verify(std::string_view authorization, int64_t now) const {
  if (authorization.size() < 7 || strncasecmp(authorization.data(), "bearer ", 7) != 0) {
    return Fail("no bearer token");
  }
  std::string_view jwt = authorization.substr(7);
  while (!jwt.empty() && jwt.front() == ' ') jwt.remove_prefix(1);
  std::string key = Digest::Sha256Of(jwt).hex();
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) {
      if (it->second.expires + kLeewaySeconds >= now) return it->second;
      cache_.erase(it);
    }
  }
  STRATA_ASSIGN(token, VerifyUncached(jwt, now));
  std::lock_guard<std::mutex> lock(mu_);
  if (cache_.size() > 10000) cache_.clear();
  cache_[key] = token;
  return token;
}

Result<VerifiedToken> TokenVerifier::VerifyUncached(std::string_view jwt, int64_t now) const {
  size_t dot1 = jwt.find('.');
  size_t dot2 = dot1 == std::string_view::npos ? dot1 : jwt.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos) return Fail("malformed token");
  STRATA_ASSIGN(header_text, Base64UrlDecode(jwt.substr(0, dot1)));
  STRATA_ASSIGN(claims_text, Base64UrlDecode(jwt.substr(dot1 + 1, dot2 - dot1 - 1)));
  STRATA_ASSIGN(signature, Base64UrlDecode(jwt.substr(dot2 + 1)));
  Json header = ParseUntrustedJson(header_text);
  Json claims = ParseUntrustedJson(claims_text);
  if (!header.is_object() || !claims.is_object()) return Fail("malformed token");
  std::string alg = header.value("alg", "");
  if (alg != "RS256" && alg != "ES256") return Fail("token algorithm \"" + alg + "\" refused");
  if (!header.contains("x5c") || !header["x5c"].is_array() || header["x5c"].empty()) {
    return Fail("token without an x5c certificate chain");
  }
  // The chain: leaf first, then intermediates; it must end at a bundle certificate.
  std::vector<X509Ptr> chain;
  for (const Json& c : header["x5c"]) {
    if (!c.is_string()) return Fail("bad x5c entry");
    STRATA_ASSIGN(der, Base64Decode(c.get<std::string>()));
    X509Ptr cert = ParseDer(der);
    if (!cert) return Fail("bad x5c certificate");
    chain.push_back(std::move(cert));
  }
  STACK_OF(X509)* intermediates = sk_X509_new_null();
  for (size_t i = 1; i < chain.size(); ++i) sk_X509_push(intermediates, chain[i].get());
  X509_STORE_CTX* ctx = ::X509_STORE_CTX_new();
  bool trusted = ctx && ::X509_STORE_CTX_init(ctx, roots_, chain[0].get(), intermediates) == 1 &&
                 ::X509_verify_cert(ctx) == 1;
  ::X509_STORE_CTX_free(ctx);
  sk_X509_free(intermediates);
  ::ERR_clear_error();
  if (!trusted) return Fail("token certificate does not chain to the root bundle");

  std::string signing_input(jwt.substr(0, dot2));
  if (alg == "ES256") {
    STRATA_ASSIGN(der, EcdsaRawToDer(signature));
    signature = der;
  }
  EVP_PKEY* pkey = ::X509_get0_pubkey(chain[0].get());
  EVP_MD_CTX* md = ::EVP_MD_CTX_new();
  bool valid =
      md && pkey && ::EVP_DigestVerifyInit(md, nullptr, ::EVP_sha256(), nullptr, pkey) == 1 &&
      ::EVP_DigestVerify(
          md, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
          reinterpret_cast<const unsigned char*>(signing_input.data()), signing_input.size()) == 1;
  ::EVP_MD_CTX_free(md);
  ::ERR_clear_error();
  if (!valid) return Fail("token signature does not verify");

  if (claims.value("iss", "") != options_.issuer) return Fail("token issuer mismatch");
  if (!claims.contains("aud") || !AudienceMatches(claims["aud"], options_.service)) {
    return Fail("token audience mismatch");
  }
  if (!claims.contains("exp") || !claims["exp"].is_number()) return Fail("token without exp");
  VerifiedToken token;
  token.expires = claims["exp"].get<int64_t>();
  if (token.expires + kLeewaySeconds < now) return Fail("token expired");
  if (claims.contains("nbf") && claims["nbf"].is_number() &&
      claims["nbf"].get<int64_t>() - kLeewaySeconds > now) {
    return Fail("token not valid yet");
  }
  token.subject = claims.value("sub", "");
  if (claims.contains("access") && claims["access"].is_array()) {
    for (const Json& a : claims["access"]) {
      if (!a.is_object()) continue;
      TokenGrant g{a.value("type", ""), a.value("name", ""), {}};
      if (a.contains("actions") && a["actions"].is_array()) {
        for (const Json& act : a["actions"]) {
          if (act.is_string()) g.actions.insert(act.get<std::string>());
        }
      }
      token.access.push_back(std::move(g));
    }
  }
  return token;
}

}  // namespace strata::server
