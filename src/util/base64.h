// Standard base64 (RFC 4648, with padding) over OpenSSL, for HTTP basic auth and docker's
// config.json "auth" fields. Stateless; thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "util/result.h"

namespace strata {

std::string Base64Encode(std::string_view bytes);
Result<std::string> Base64Decode(std::string_view text);

}  // namespace strata
