// Basic auth against an htpasswd file, as distribution's htpasswd auth: bcrypt entries only
// ($2y$, $2b$, $2a$, as `htpasswd -B` writes), checked with libcrypt. A bcrypt check costs
// milliseconds on purpose, and docker sends the header on every request, so headers that passed
// are remembered (by their sha256) for the life of the server.
#pragma once

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>

#include "util/result.h"

namespace strata::server {

class Htpasswd {
 public:
  static Result<Htpasswd> Load(const std::string& path);
  static Result<Htpasswd> Parse(std::string_view text, const std::string& origin);

  // The user an "Authorization: Basic ..." value names, if its password is right.
  std::optional<std::string> Authenticate(std::string_view authorization) const;
  size_t size() const { return users_.size(); }

 private:
  struct Cache {
    std::mutex mu;
    std::map<std::string, std::string> accepted;  // sha256 of the header value -> user
  };
  std::map<std::string, std::string> users_;  // user -> bcrypt hash
  std::unique_ptr<Cache> cache_ = std::make_unique<Cache>();
};

}  // namespace strata::server
