#include "digest/digest.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace strata {
namespace {

size_t HexLength(DigestAlgorithm a) { return a == DigestAlgorithm::kSha256 ? 64 : 128; }

std::string ToHex(const unsigned char* bytes, size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '\0');
  for (size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[bytes[i] >> 4];
    out[2 * i + 1] = kHex[bytes[i] & 15];
  }
  return out;
}

}  // namespace

Result<Digest> Digest::Parse(std::string_view text) {
  auto colon = text.find(':');
  if (colon == std::string_view::npos) {
    return Fail(ErrorCode::kInvalidArgument,
                "invalid digest \"" + std::string(text) + "\": missing algorithm prefix");
  }
  std::string_view algo = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  DigestAlgorithm a;
  if (algo == "sha256") {
    a = DigestAlgorithm::kSha256;
  } else if (algo == "sha512") {
    a = DigestAlgorithm::kSha512;
  } else {
    return Fail(ErrorCode::kInvalidArgument, "invalid digest \"" + std::string(text) +
                                                 "\": unsupported algorithm \"" +
                                                 std::string(algo) + "\"");
  }
  if (hex.size() != HexLength(a)) {
    return Fail(ErrorCode::kInvalidArgument, "invalid digest \"" + std::string(text) +
                                                 "\": expected " + std::to_string(HexLength(a)) +
                                                 " hex characters");
  }
  for (char c : hex) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) {
      return Fail(ErrorCode::kInvalidArgument,
                  "invalid digest \"" + std::string(text) + "\": not lowercase hex");
    }
  }
  return Digest(a, std::string(hex));
}

Digest Digest::FromHex(DigestAlgorithm algorithm, std::string hex) {
  return Digest(algorithm, std::move(hex));
}

Result<Digest> DigestStream(Reader& reader, DigestAlgorithm algorithm) {
  Hasher h(algorithm);
  std::string buffer(1 << 20, '\0');
  for (;;) {
    STRATA_ASSIGN(n, reader.Read(buffer.data(), buffer.size()));
    if (n == 0) return h.Finish();
    h.Update(buffer.data(), n);
  }
}

Digest Digest::Sha256Of(std::string_view bytes) {
  Hasher h;
  h.Update(bytes);
  return h.Finish();
}

std::string_view Digest::algorithm_name() const {
  return algorithm_ == DigestAlgorithm::kSha256 ? "sha256" : "sha512";
}

std::string Digest::str() const {
  std::string out(algorithm_name());
  out += ':';
  out += hex_;
  return out;
}

struct Hasher::Context {
  EVP_MD_CTX* ctx = nullptr;
  ~Context() { EVP_MD_CTX_free(ctx); }
};

Hasher::Hasher(DigestAlgorithm algorithm)
    : algorithm_(algorithm), context_(std::make_unique<Context>()) {
  context_->ctx = EVP_MD_CTX_new();
  const EVP_MD* md = algorithm == DigestAlgorithm::kSha256 ? EVP_sha256() : EVP_sha512();
  if (context_->ctx == nullptr || EVP_DigestInit_ex(context_->ctx, md, nullptr) != 1) {
    throw std::runtime_error("OpenSSL digest initialisation failed");
  }
}

Hasher::~Hasher() = default;
Hasher::Hasher(Hasher&&) noexcept = default;
Hasher& Hasher::operator=(Hasher&&) noexcept = default;

void Hasher::Update(const void* data, size_t size) {
  EVP_DigestUpdate(context_->ctx, data, size);
  bytes_ += size;
}

Digest Hasher::Finish() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_DigestFinal_ex(context_->ctx, out, &n);
  return Digest::FromHex(algorithm_, ToHex(out, n));
}

}  // namespace strata
