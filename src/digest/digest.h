// Content digests ("sha256:<hex>", "sha512:<hex>") as a strong type, and a streaming hasher.
// A Digest is always valid once constructed (use Digest::Parse for untrusted text).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "util/io.h"
#include "util/result.h"

namespace strata {

enum class DigestAlgorithm { kSha256, kSha512 };

class Digest {
 public:
  // Parses "algo:hex", checking the algorithm and the hex length; the error names the input.
  static Result<Digest> Parse(std::string_view text);
  static Digest FromHex(DigestAlgorithm algorithm, std::string hex);
  static Digest Sha256Of(std::string_view bytes);

  DigestAlgorithm algorithm() const { return algorithm_; }
  std::string_view algorithm_name() const;
  const std::string& hex() const { return hex_; }
  std::string str() const;  // "sha256:<hex>"
  std::string short_id() const { return hex_.substr(0, 12); }

  bool operator==(const Digest&) const = default;
  auto operator<=>(const Digest&) const = default;

 private:
  Digest(DigestAlgorithm a, std::string hex) : algorithm_(a), hex_(std::move(hex)) {}
  DigestAlgorithm algorithm_ = DigestAlgorithm::kSha256;
  std::string hex_;
};

// Streaming hasher over OpenSSL EVP. Update() may be called any number of times.
class Hasher {
 public:
  explicit Hasher(DigestAlgorithm algorithm = DigestAlgorithm::kSha256);
  ~Hasher();
  Hasher(Hasher&&) noexcept;
  Hasher& operator=(Hasher&&) noexcept;
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;

  void Update(const void* data, size_t size);
  void Update(std::string_view bytes) { Update(bytes.data(), bytes.size()); }
  Digest Finish();  // the hasher must not be used afterwards
  uint64_t bytes_hashed() const { return bytes_; }

 private:
  DigestAlgorithm algorithm_;
  struct Context;
  std::unique_ptr<Context> context_;
  uint64_t bytes_ = 0;
};

// Hashes a whole stream (1 MiB reads).
Result<Digest> DigestStream(Reader& reader, DigestAlgorithm algorithm = DigestAlgorithm::kSha256);

}  // namespace strata

template <>
struct std::hash<strata::Digest> {
  size_t operator()(const strata::Digest& d) const noexcept {
    return std::hash<std::string>()(d.hex());
  }
};
