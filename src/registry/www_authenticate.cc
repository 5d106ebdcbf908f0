#include "registry/www_authenticate.h"

#include <cctype>

namespace strata {
namespace {

bool IsTokenChar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~/").find(c) != std::string_view::npos;
}

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

}  // namespace

std::vector<AuthChallenge> ParseWwwAuthenticate(std::string_view h) {
  std::vector<AuthChallenge> out;
  size_t i = 0;
  auto skip_space = [&] {
    while (i < h.size() && (h[i] == ' ' || h[i] == '\t')) ++i;
  };
  auto token = [&] {
    size_t start = i;
    while (i < h.size() && IsTokenChar(h[i])) ++i;
    return std::string(h.substr(start, i - start));
  };
  while (i < h.size()) {
    skip_space();
    while (i < h.size() && (h[i] == ',' || h[i] == ' ')) ++i;
    std::string scheme = token();
    if (scheme.empty()) {
      ++i;
      continue;
    }
    AuthChallenge challenge{Lower(scheme), {}};
    // Parameters: name=value or name="quoted", separated by commas, until the next scheme
    // (a token not followed by '=').
    for (;;) {
      skip_space();
      size_t save = i;
      std::string name = token();
      skip_space();
      if (name.empty() || i >= h.size() || h[i] != '=') {
        i = save;
        break;
      }
      ++i;
      skip_space();
      std::string value;
      if (i < h.size() && h[i] == '"') {
        ++i;
        while (i < h.size() && h[i] != '"') {
          if (h[i] == '\\' && i + 1 < h.size()) ++i;
          value += h[i++];
        }
        if (i < h.size()) ++i;
      } else {
        value = token();
      }
      challenge.params[Lower(name)] = value;
      skip_space();
      if (i < h.size() && h[i] == ',') ++i;
    }
    out.push_back(std::move(challenge));
  }
  return out;
}

}  // namespace strata
