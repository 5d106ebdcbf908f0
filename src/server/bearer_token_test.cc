// TokenVerifier against JWTs signed here with throwaway keys and self-signed certificates.
#include "server/bearer_token.h"

#include <gtest/gtest.h>
#include <openssl/ec.h>
#include <openssl/ecdsa.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <ctime>
#include <nlohmann/json.hpp>

#include "archive/test_util.h"
#include "util/base64.h"
#include "util/file.h"

namespace strata::server {
namespace STRATA_UNITY_ID {

using Json = nlohmann::json;

std::string Base64Url(std::string_view bytes) {
  std::string s = Base64Encode(bytes);
  for (char& c : s) {
    if (c == '+') c = '-';
    if (c == '/') c = '_';
  }
  while (!s.empty() && s.back() == '=') s.pop_back();
  return s;
}

// A key and a self-signed certificate for it.
struct Signer {
  EVP_PKEY* key = nullptr;
  X509* cert = nullptr;
  bool ec = false;

  explicit Signer(bool use_ec) : ec(use_ec) {
    key = use_ec ? EVP_EC_gen("P-256") : EVP_RSA_gen(2048);
    cert = X509_new();
    ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
    X509_gmtime_adj(X509_getm_notBefore(cert), -3600);
    X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
    X509_set_pubkey(cert, key);
    X509_NAME* name = X509_get_subject_name(cert);
    X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("token signer"), -1, -1, 0);
    X509_set_issuer_name(cert, name);
    X509_sign(cert, key, EVP_sha256());
  }
  ~Signer() {
    X509_free(cert);
    EVP_PKEY_free(key);
  }
  std::string Pem() const {
    BIO* bio = BIO_new(BIO_s_mem());
    PEM_write_bio_X509(bio, cert);
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    std::string out(data, static_cast<size_t>(n));
    BIO_free(bio);
    return out;
  }
  std::string DerBase64() const {
    unsigned char* der = nullptr;
    int n = i2d_X509(cert, &der);
    std::string out = Base64Encode(std::string_view(reinterpret_cast<char*>(der), n));
    OPENSSL_free(der);
    return out;
  }
  std::string Sign(const std::string& input) const {
    EVP_MD_CTX* md = EVP_MD_CTX_new();
    size_t len = 0;
    EVP_DigestSignInit(md, nullptr, EVP_sha256(), nullptr, key);
    EVP_DigestSign(md, nullptr, &len, reinterpret_cast<const unsigned char*>(input.data()),
                   input.size());
    std::string sig(len, '\0');
    EVP_DigestSign(md, reinterpret_cast<unsigned char*>(sig.data()), &len,
                   reinterpret_cast<const unsigned char*>(input.data()), input.size());
    sig.resize(len);
    EVP_MD_CTX_free(md);
    if (!ec) return sig;
    // DER ECDSA-Sig-Value -> JWT's r || s.
    const unsigned char* p = reinterpret_cast<const unsigned char*>(sig.data());
    ECDSA_SIG* es = d2i_ECDSA_SIG(nullptr, &p, static_cast<long>(sig.size()));
    std::string raw(64, '\0');
    BN_bn2binpad(ECDSA_SIG_get0_r(es), reinterpret_cast<unsigned char*>(raw.data()), 32);
    BN_bn2binpad(ECDSA_SIG_get0_s(es), reinterpret_cast<unsigned char*>(raw.data()) + 32, 32);
    ECDSA_SIG_free(es);
    return raw;
  }
  std::string Token(const Json& claims, const std::string& alg = "") const {
    Json header = {{"typ", "JWT"},
                   {"alg", alg.empty() ? (ec ? "ES256" : "RS256") : alg},
                   {"x5c", {DerBase64()}}};
    std::string input = Base64Url(header.dump()) + "." + Base64Url(claims.dump());
    return "Bearer " + input + "." + Base64Url(Sign(input));
  }
};

class TokenVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bundle_ = dir_.path() + "/roots.pem";
    ASSERT_TRUE(WriteFileAtomic(bundle_, rsa_.Pem() + ec_.Pem()));
    auto v =
        TokenVerifier::Load({"http://auth.test/token", "registry.test", "issuer.test", bundle_});
    ASSERT_TRUE(v) << v.error().message;
    verifier_ = std::move(*v);
  }
  Json Claims(int64_t exp_offset = 300) const {
    return {{"iss", "issuer.test"},
            {"sub", "bob"},
            {"aud", "registry.test"},
            {"exp", now_ + exp_offset},
            {"nbf", now_ - 10},
            {"iat", now_},
            {"access",
             {{{"type", "repository"}, {"name", "team/app"}, {"actions", {"pull", "push"}}}}}};
  }

  archive_test::TempDir dir_;
  std::string bundle_;
  Signer rsa_{false};
  Signer ec_{true};
  std::unique_ptr<TokenVerifier> verifier_;
  int64_t now_ = static_cast<int64_t>(std::time(nullptr));
};

TEST_F(TokenVerifierTest, AcceptsRs256AndEs256WithTheirGrants) {
  for (const Signer* s : {&rsa_, &ec_}) {
    auto t = verifier_->Verify(s->Token(Claims()), now_);
    ASSERT_TRUE(t) << t.error().message;
    EXPECT_EQ(t->subject, "bob");
    EXPECT_TRUE(t->Allows("repository", "team/app", "push"));
    EXPECT_TRUE(t->Allows("repository", "team/app", "pull"));
    EXPECT_FALSE(t->Allows("repository", "team/app", "delete"));
    EXPECT_FALSE(t->Allows("repository", "team/other", "pull"));
  }
}

TEST_F(TokenVerifierTest, RefusesWrongIssuerAudienceAndTime) {
  Json wrong_iss = Claims();
  wrong_iss["iss"] = "someone-else";
  EXPECT_FALSE(verifier_->Verify(rsa_.Token(wrong_iss), now_));
  Json wrong_aud = Claims();
  wrong_aud["aud"] = Json::array({"a", "b"});
  EXPECT_FALSE(verifier_->Verify(rsa_.Token(wrong_aud), now_));
  Json listed_aud = Claims();
  listed_aud["aud"] = Json::array({"a", "registry.test"});
  EXPECT_TRUE(verifier_->Verify(rsa_.Token(listed_aud), now_));
  auto expired = verifier_->Verify(rsa_.Token(Claims(-120)), now_);
  ASSERT_FALSE(expired);
  EXPECT_NE(expired.error().message.find("expired"), std::string::npos);
  Json future = Claims();
  future["nbf"] = now_ + 600;
  EXPECT_FALSE(verifier_->Verify(rsa_.Token(future), now_));
  // A cached token still expires.
  std::string token = rsa_.Token(Claims(30));
  EXPECT_TRUE(verifier_->Verify(token, now_));
  EXPECT_FALSE(verifier_->Verify(token, now_ + 200));
}

TEST_F(TokenVerifierTest, RefusesForgedUntrustedAndMalformedTokens) {
  std::string good = rsa_.Token(Claims());
  std::string tampered = good;
  tampered[tampered.size() - 3] = tampered[tampered.size() - 3] == 'A' ? 'B' : 'A';
  EXPECT_FALSE(verifier_->Verify(tampered, now_));
  // Claims swapped under the same signature.
  Json more = Claims();
  more["access"][0]["name"] = "team/other";
  size_t d1 = good.find('.'), d2 = good.find('.', d1 + 1);
  std::string swapped = good.substr(0, d1 + 1) + Base64Url(more.dump()) + good.substr(d2);
  EXPECT_FALSE(verifier_->Verify(swapped, now_));
  Signer stranger(false);  // not in the bundle
  auto untrusted = verifier_->Verify(stranger.Token(Claims()), now_);
  ASSERT_FALSE(untrusted);
  EXPECT_NE(untrusted.error().message.find("root bundle"), std::string::npos);
  EXPECT_FALSE(verifier_->Verify(rsa_.Token(Claims(), "none"), now_));
  EXPECT_FALSE(verifier_->Verify(rsa_.Token(Claims(), "HS256"), now_));
  EXPECT_FALSE(verifier_->Verify("Bearer not.a.jwt", now_));
  EXPECT_FALSE(verifier_->Verify("Bearer onlyonepart", now_));
  EXPECT_FALSE(verifier_->Verify("Basic Ym9iOmJ1aWxkZXI=", now_));
}

TEST_F(TokenVerifierTest, ChallengeNamesRealmServiceAndScope) {
  EXPECT_EQ(verifier_->Challenge(""),
            "Bearer realm=\"http://auth.test/token\",service=\"registry.test\"");
  EXPECT_EQ(verifier_->Challenge("repository:a/b:pull,push", "insufficient_scope"),
            "Bearer realm=\"http://auth.test/token\",service=\"registry.test\","
            "scope=\"repository:a/b:pull,push\",error=\"insufficient_scope\"");
  EXPECT_FALSE(TokenVerifier::Load({"", "s", "i", bundle_}));
  EXPECT_FALSE(TokenVerifier::Load({"r", "s", "i", dir_.path() + "/missing.pem"}));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata::server
