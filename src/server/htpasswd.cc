#include "server/htpasswd.h"

#include <crypt.h>
#include <openssl/crypto.h>

#include <cstring>

#include "digest/digest.h"
#include "util/base64.h"
#include "util/file.h"

namespace strata::server {

Result<Htpasswd> Htpasswd::Load(const std::string& path) {
  auto text = ReadFile(path);
  if (!text) return Wrap("reading htpasswd file", text.error());
  return Parse(*text, path);
}

Result<Htpasswd> Htpasswd::Parse(std::string_view text, const std::string& origin) {
  Htpasswd out;
  int line_no = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    std::string_view line = text.substr(0, nl);
    text = nl == std::string_view::npos ? std::string_view() : text.substr(nl + 1);
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.empty() || line[0] == '#') continue;
    size_t colon = line.find(':');
    std::string where = origin + ":" + std::to_string(line_no);
    if (colon == std::string_view::npos || colon == 0) {
      return Fail(where + ": expected user:hash");
    }
    std::string_view hash = line.substr(colon + 1);
    if (!(hash.starts_with("$2y$") || hash.starts_with("$2b$") || hash.starts_with("$2a$"))) {
      return Fail(where + ": only bcrypt entries are supported (htpasswd -B)");
    }
    out.users_[std::string(line.substr(0, colon))] = std::string(hash);
  }
  return out;
}

std::optional<std::string> Htpasswd::Authenticate(std::string_view authorization) const {
  if (authorization.size() < 6 || strncasecmp(authorization.data(), "basic ", 6) != 0) {
    return std::nullopt;
  }
  std::string key = Digest::Sha256Of(authorization).hex();
  {
    std::lock_guard<std::mutex> lock(cache_->mu);
    auto it = cache_->accepted.find(key);
    if (it != cache_->accepted.end()) return it->second;
  }
  std::string_view encoded = authorization.substr(6);
  while (!encoded.empty() && encoded.front() == ' ') encoded.remove_prefix(1);
  auto decoded = Base64Decode(encoded);
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  std::string user = decoded->substr(0, colon);
  std::string password = decoded->substr(colon + 1);
  auto it = users_.find(user);
  if (it == users_.end()) return std::nullopt;
  crypt_data data{};
  const char* hashed = ::crypt_r(password.c_str(), it->second.c_str(), &data);
  if (hashed == nullptr || hashed[0] == '*' || std::strlen(hashed) != it->second.size() ||
      CRYPTO_memcmp(hashed, it->second.data(), it->second.size()) != 0) {
    return std::nullopt;
  }
  std::lock_guard<std::mutex> lock(cache_->mu);
  if (cache_->accepted.size() > 10000) cache_->accepted.clear();  // bounded: a few rechecks
  cache_->accepted[key] = user;
  return user;
}

}  // namespace strata::server
