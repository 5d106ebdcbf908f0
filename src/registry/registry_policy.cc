#include "registry/registry_policy.h"

#include <toml++/toml.h>

#include <cstdlib>
#include <set>

#include "util/file.h"

namespace strata {
namespace {

constexpr std::string_view kDockerHub = "docker.io";
constexpr std::string_view kDockerHubEndpoint = "registry-1.docker.io";

Result<std::string> StringValue(const toml::node& node, const std::string& where) {
  if (auto s = node.value<std::string>()) return *s;
  return Fail(where + " must be a string");
}

Result<bool> BoolValue(const toml::node& node, const std::string& where) {
  if (auto b = node.value<bool>()) return *b;
  return Fail(where + " must be true or false");
}

std::string At(const std::string& source, const toml::node& node) {
  const auto& s = node.source();
  return source + ":" + std::to_string(s.begin.line);
}

// Splits "host[/path]" into host and path.
std::pair<std::string, std::string> SplitLocation(const std::string& location) {
  size_t slash = location.find('/');
  if (slash == std::string::npos) return {location, ""};
  return {location.substr(0, slash), location.substr(slash + 1)};
}

std::string JoinPath(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (b.empty()) return a;
  return a + "/" + b;
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  std::string h(host);
  if (!h.empty() && h[0] == '[') {
    size_t close = h.find(']');
    h = h.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    return h == "::1";
  }
  size_t colon = h.rfind(':');
  if (colon != std::string::npos && h.find(':') == colon) h = h.substr(0, colon);
  if (h == "localhost" || h == "::1") return true;
  return h.rfind("127.", 0) == 0;
}

Result<RegistryPolicy> RegistryPolicy::Load(const std::string& path) {
  std::vector<std::string> candidates;
  if (!path.empty()) {
    STRATA_ASSIGN(text, ReadFile(path));
    return Parse(text, path);
  }
  if (const char* env = std::getenv("STRATA_REGISTRIES_CONFIG"); env && *env) {
    STRATA_ASSIGN(text, ReadFile(env));
    return Parse(text, env);
  }
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    candidates.push_back(std::string(xdg) + "/strata/registries.toml");
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    candidates.push_back(std::string(home) + "/.config/strata/registries.toml");
  }
  candidates.push_back("/etc/strata/registries.toml");
  for (const std::string& c : candidates) {
    if (!PathExists(c)) continue;
    STRATA_ASSIGN(text, ReadFile(c));
    return Parse(text, c);
  }
  return RegistryPolicy{};
}

Result<RegistryPolicy> RegistryPolicy::Parse(std::string_view text, const std::string& source) {
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return Fail(source + ":" + std::to_string(e.source().begin.line) + ":" +
                std::to_string(e.source().begin.column) + ": " + std::string(e.description()));
  }
  RegistryPolicy policy;
  policy.source_ = source;
  for (const auto& [key, node] : table) {
    const std::string k(key.str());
    const std::string where = At(source, node) + ": " + k;
    if (k == "unqualified-search-registries") {
      const toml::array* arr = node.as_array();
      if (arr == nullptr) return Fail(where + " must be an array of registry names");
      for (const toml::node& r : *arr) {
        STRATA_ASSIGN(s, StringValue(r, where));
        policy.search_.push_back(s);
      }
    } else if (k == "aliases") {
      const toml::table* t = node.as_table();
      if (t == nullptr) return Fail(where + " must be a table");
      for (const auto& [name, value] : *t) {
        STRATA_ASSIGN(s, StringValue(value, where + "." + std::string(name.str())));
        auto target = ParseNormalizedNamed(s);
        if (!target || target->domain().empty() || s.find('/') == std::string::npos) {
          return Fail(where + "." + std::string(name.str()) +
                      ": an alias must name a fully qualified repository, not \"" + s + "\"");
        }
        policy.aliases_[std::string(name.str())] = s;
      }
    } else if (k == "registry") {
      const toml::array* arr = node.as_array();
      if (arr == nullptr) return Fail(where + " must be an array of tables ([[registry]])");
      for (const toml::node& entry : *arr) {
        const toml::table* t = entry.as_table();
        if (t == nullptr) return Fail(where + " entries must be tables");
        RegistryRule rule;
        for (const auto& [rk, rv] : *t) {
          const std::string name(rk.str());
          const std::string at = At(source, rv) + ": registry." + name;
          if (name == "prefix") {
            STRATA_ASSIGN(s, StringValue(rv, at));
            rule.prefix = s;
          } else if (name == "location") {
            STRATA_ASSIGN(s, StringValue(rv, at));
            rule.location = s;
          } else if (name == "insecure") {
            STRATA_ASSIGN(b, BoolValue(rv, at));
            rule.insecure = b;
          } else if (name == "blocked") {
            STRATA_ASSIGN(b, BoolValue(rv, at));
            rule.blocked = b;
          } else if (name == "ca-file") {
            STRATA_ASSIGN(s, StringValue(rv, at));
            rule.ca_file = s;
          } else if (name == "cert-file") {
            STRATA_ASSIGN(s, StringValue(rv, at));
            rule.cert_file = s;
          } else if (name == "key-file") {
            STRATA_ASSIGN(s, StringValue(rv, at));
            rule.key_file = s;
          } else if (name == "mirror") {
            const toml::array* mirrors = rv.as_array();
            if (mirrors == nullptr)
              return Fail(at + " must be an array of tables ([[registry.mirror]])");
            for (const toml::node& m : *mirrors) {
              const toml::table* mt = m.as_table();
              if (mt == nullptr) return Fail(at + " entries must be tables");
              MirrorRule mirror;
              for (const auto& [mk, mv] : *mt) {
                const std::string mname(mk.str());
                const std::string mat = At(source, mv) + ": registry.mirror." + mname;
                if (mname == "location") {
                  STRATA_ASSIGN(s, StringValue(mv, mat));
                  mirror.location = s;
                } else if (mname == "insecure") {
                  STRATA_ASSIGN(b, BoolValue(mv, mat));
                  mirror.insecure = b;
                } else {
                  return Fail(mat + ": unknown key (known: location, insecure)");
                }
              }
              if (mirror.location.empty()) return Fail(at + ": a mirror needs a location");
              rule.mirrors.push_back(mirror);
            }
          } else {
            return Fail(at +
                        ": unknown key (known: prefix, location, insecure, blocked, "
                        "ca-file, cert-file, key-file, mirror)");
          }
        }
        if (rule.prefix.empty()) rule.prefix = rule.location;
        if (rule.prefix.empty()) return Fail(where + ": a [[registry]] needs a prefix");
        policy.rules_.push_back(std::move(rule));
      }
    } else {
      return Fail(where +
                  ": unknown key (known: unqualified-search-registries, aliases, "
                  "registry)");
    }
  }
  return policy;
}

const RegistryRule* RegistryPolicy::Match(const Reference& name) const {
  const std::string full = name.Name();
  const RegistryRule* best = nullptr;
  size_t best_len = 0;
  for (const RegistryRule& r : rules_) {
    bool match = false;
    if (r.prefix.rfind("*.", 0) == 0) {
      const std::string suffix = r.prefix.substr(1);  // ".example.com"
      const std::string& d = name.domain();
      match = d.size() > suffix.size() &&
              d.compare(d.size() - suffix.size(), suffix.size(), suffix) == 0;
    } else {
      match = full == r.prefix || full.rfind(r.prefix + "/", 0) == 0;
    }
    if (match && r.prefix.size() > best_len) {
      best = &r;
      best_len = r.prefix.size();
    }
  }
  return best;
}

Status RegistryPolicy::CheckAllowed(const Reference& name) const {
  const RegistryRule* rule = Match(name);
  if (rule != nullptr && rule->blocked) {
    return Fail("registry " + name.domain() + " is blocked: " + name.Name() +
                " matches the blocked prefix \"" + rule->prefix + "\" in " + source_);
  }
  return {};
}

Result<RegistryPolicy::Resolution> RegistryPolicy::Resolve(std::string_view text) const {
  auto strict = ParseReference(text);
  if (!strict) return Wrap("invalid reference \"" + std::string(text) + "\"", strict.error());
  Resolution out;
  auto finish = [&](Reference ref) -> Status {
    ref = TagNameOnly(std::move(ref));
    STRATA_TRY(CheckAllowed(ref));
    out.candidates.push_back(std::move(ref));
    return {};
  };
  auto with_tag_and_digest = [&](std::string name) {
    if (strict->tag()) name += ":" + *strict->tag();
    if (strict->digest()) name += "@" + strict->digest()->str();
    return name;
  };
  // docker's rule: the first component names a registry only if it has a '.' or ':' or is
  // "localhost"; otherwise the whole name is a short name.
  const std::string first(text.substr(0, text.find('/')));
  const bool qualified = text.find('/') != std::string_view::npos &&
                         (first.find_first_of(".:") != std::string::npos || first == "localhost");
  if (qualified) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(text));
    STRATA_TRY(finish(ref));
    out.reason = "fully qualified name";
    return out;
  }
  const std::string short_name = strict->Name();
  if (auto alias = aliases_.find(short_name); alias != aliases_.end()) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(with_tag_and_digest(alias->second)));
    STRATA_TRY(finish(ref));
    out.reason = "alias from " + source_ + ": " + short_name + " -> " + alias->second;
    return out;
  }
  if (search_.empty()) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(text));
    STRATA_TRY(finish(ref));
    out.reason = "short name: docker.io, as docker reads it (no search registries configured)";
    return out;
  }
  std::string list;
  for (const std::string& registry : search_) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(with_tag_and_digest(registry + "/" + short_name)));
    if (!CheckAllowed(TagNameOnly(ref))) continue;  // a blocked registry is not searched
    STRATA_TRY(finish(ref));
    list += (list.empty() ? "" : ", ") + registry;
  }
  if (out.candidates.empty()) {
    return Fail("short name \"" + std::string(text) + "\": every search registry in " + source_ +
                " is blocked");
  }
  out.search = out.candidates.size() > 1;
  out.reason = "short name: search registries [" + list + "] from " + source_;
  return out;
}

Result<std::vector<PolicyRoute>> RegistryPolicy::PullRoutes(const Reference& name) const {
  STRATA_TRY(CheckAllowed(name));
  std::vector<PolicyRoute> routes;
  const RegistryRule* rule = Match(name);
  if (rule != nullptr) {
    // The part of the name below the prefix ("library/busybox" under "docker.io").
    std::string rest = name.Name().size() > rule->prefix.size() && rule->prefix[0] != '*'
                           ? name.Name().substr(rule->prefix.size() + 1)
                           : name.path();
    for (const MirrorRule& m : rule->mirrors) {
      auto [host, path] = SplitLocation(m.location);
      PolicyRoute r;
      r.endpoint.host = host;
      r.endpoint.insecure = m.insecure || IsLoopbackHost(host);
      r.repository = JoinPath(path, rest);
      r.mirror = true;
      routes.push_back(std::move(r));
    }
  }
  STRATA_ASSIGN(push, PushRoute(name));
  routes.push_back(std::move(push));
  return routes;
}

Result<PolicyRoute> RegistryPolicy::PushRoute(const Reference& name) const {
  STRATA_TRY(CheckAllowed(name));
  const RegistryRule* rule = Match(name);
  PolicyRoute r;
  std::string host = name.domain();
  std::string repo = name.path();
  if (rule != nullptr && !rule->location.empty() && rule->prefix[0] != '*') {
    const std::string rewritten = rule->location + name.Name().substr(rule->prefix.size());
    auto [h, p] = SplitLocation(rewritten);
    host = h;
    repo = p;
  }
  r.endpoint.host = host == kDockerHub ? std::string(kDockerHubEndpoint) : host;
  r.endpoint.insecure = (rule != nullptr && rule->insecure) || IsLoopbackHost(host);
  if (rule != nullptr) {
    r.endpoint.ca_file = rule->ca_file;
    r.endpoint.cert_file = rule->cert_file;
    r.endpoint.key_file = rule->key_file;
  }
  r.repository = repo;
  return r;
}

}  // namespace strata
