#include "registry/registry_policy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <toml++/toml.h>

#include <cstdlib>
#include <cstring>

#include "util/file.h"

namespace strata {
namespace {

// Docker Hub's API host: "docker.io" is only the name's domain.
constexpr std::string_view kDockerHubEndpoint = "registry-1.docker.io";

std::string Position(const std::string& source, const toml::source_region& region) {
  return source + ":" + std::to_string(region.begin.line) + ":" +
         std::to_string(region.begin.column);
}

// Splits "host[/path]" into host and path.
std::pair<std::string, std::string> SplitLocation(const std::string& location) {
  size_t slash = location.find('/');
  if (slash == std::string::npos) return {location, ""};
  return {location.substr(0, slash), location.substr(slash + 1)};
}

std::string NormalizeHubHost(const std::string& host) {
  return host == kLegacyDefaultDomain ? std::string(kDefaultDomain) : host;
}

std::string EndpointHost(const std::string& host) {
  return host == kDefaultDomain || host == kLegacyDefaultDomain ? std::string(kDockerHubEndpoint)
                                                                : host;
}

// host[:port] without the port; "[::1]:5000" -> "[::1]".
std::string_view WithoutPort(std::string_view host) {
  size_t colon = host.rfind(':');
  if (colon == std::string_view::npos) return host;
  size_t bracket = host.rfind(']');
  if (bracket != std::string_view::npos && bracket > colon) return host;
  if (host.front() != '[' && host.find(':') != colon) return host;  // bare IPv6
  return host.substr(0, colon);
}

// A host that can start a fully qualified name: what IsQualifiedName sees as a registry.
bool IsRegistryHost(std::string_view host) {
  return IsValidDomain(host) &&
         (host.find_first_of(".:") != std::string_view::npos || host == "localhost");
}

// "host[/path]" where host names a registry.
bool IsValidLocation(const std::string& location) {
  auto [host, path] = SplitLocation(location);
  return IsRegistryHost(host) && (path.empty() || IsValidPath(path));
}

bool IsWildcard(const std::string& prefix) { return prefix.rfind("*.", 0) == 0; }

// Reads one TOML file into a policy, checking every key and value.
class PolicyParser {
 public:
  explicit PolicyParser(std::string source) : source_(std::move(source)) {}

  Result<std::vector<std::string>> SearchRegistries(const toml::node& node,
                                                    const std::string& where) {
    const toml::array* array = node.as_array();
    if (array == nullptr)
      return Fail(ErrorCode::kInvalidArgument, where + " must be an array of registry hosts");
    std::vector<std::string> out;
    for (const toml::node& entry : *array) {
      const std::string at = Position(source_, entry.source()) + ": unqualified-search-registries";
      STRATA_ASSIGN(host, String(entry, at));
      if (!IsRegistryHost(host)) {
        return Fail(ErrorCode::kInvalidArgument,
                    at + ": \"" + host +
                        "\" is not a registry host (like \"quay.io\" or \"127.0.0.1:5000\")");
      }
      out.push_back(NormalizeHubHost(host));
    }
    return out;
  }

  Result<std::map<std::string, std::string>> Aliases(const toml::node& node,
                                                     const std::string& where) {
    const toml::table* table = node.as_table();
    if (table == nullptr)
      return Fail(ErrorCode::kInvalidArgument, where + " must be a table ([aliases])");
    std::map<std::string, std::string> out;
    for (const auto& [key, value] : *table) {
      const std::string name(key.str());
      const std::string at = Position(source_, key.source()) + ": aliases.\"" + name + "\"";
      STRATA_ASSIGN(target, String(value, at));
      if (!ParseName(name) || IsQualifiedName(name)) {
        return Fail(ErrorCode::kInvalidArgument,
                    at + ": an alias must be a short name (like \"myapp\" or \"team/myapp\")");
      }
      if (!ParseName(target) || !IsQualifiedName(target)) {
        return Fail(ErrorCode::kInvalidArgument,
                    at + ": the alias target \"" + target +
                        "\" must be a fully qualified repository without tag or digest (like "
                        "\"quay.io/team/myapp\")");
      }
      auto normalized = ParseNormalizedNamed(target);
      if (!normalized) return Wrap(at + ": \"" + target + "\"", normalized.error());
      out[name] = normalized->Name();
    }
    return out;
  }

  Result<std::vector<RegistryRule>> Registries(const toml::node& node, const std::string& where) {
    const toml::array* array = node.as_array();
    if (array == nullptr) {
      return Fail(ErrorCode::kInvalidArgument,
                  where + " must be an array of tables: write [[registry]], not [registry]");
    }
    std::vector<RegistryRule> rules;
    for (const toml::node& entry : *array) {
      const toml::table* table = entry.as_table();
      const std::string at = Position(source_, entry.source()) + ": [[registry]]";
      if (table == nullptr)
        return Fail(ErrorCode::kInvalidArgument, at + " entries must be tables");
      STRATA_ASSIGN(rule, Registry(*table, at));
      for (const RegistryRule& other : rules) {
        if (other.prefix == rule.prefix) {
          return Fail(ErrorCode::kInvalidArgument,
                      at + ": prefix \"" + rule.prefix +
                          "\" is already used by the [[registry]] at " + other.origin +
                          " (which one applies would be a guess)");
        }
      }
      rules.push_back(std::move(rule));
    }
    return rules;
  }

 private:
  Result<std::string> String(const toml::node& node, const std::string& where) {
    if (auto s = node.value<std::string>()) return *s;
    return Fail(ErrorCode::kInvalidArgument, where + " must be a string");
  }
  Result<bool> Bool(const toml::node& node, const std::string& where) {
    if (auto b = node.value<bool>()) return *b;
    return Fail(ErrorCode::kInvalidArgument, where + " must be true or false");
  }

  Result<RegistryRule> Registry(const toml::table& table, const std::string& at) {
    RegistryRule rule;
    rule.origin = source_ + ":" + std::to_string(table.source().begin.line);
    bool explicit_mirror_use = false;
    for (const auto& [key, value] : table) {
      const std::string name(key.str());
      const std::string where = Position(source_, key.source()) + ": registry." + name;
      if (name == "prefix") {
        STRATA_ASSIGN(s, String(value, where));
        rule.prefix = s;
      } else if (name == "location") {
        STRATA_ASSIGN(s, String(value, where));
        if (!IsValidLocation(s)) {
          return Fail(ErrorCode::kInvalidArgument,
                      where + ": \"" + s + "\" is not host[:port][/path]");
        }
        rule.location = s;
      } else if (name == "insecure") {
        STRATA_ASSIGN(b, Bool(value, where));
        rule.insecure = b;
      } else if (name == "blocked") {
        STRATA_ASSIGN(b, Bool(value, where));
        rule.blocked = b;
      } else if (name == "mirror-by-digest-only") {
        STRATA_ASSIGN(b, Bool(value, where));
        rule.mirror_by_digest_only = b;
      } else if (name == "ca-file" || name == "cert-file" || name == "key-file") {
        STRATA_ASSIGN(s, String(value, where));
        if (s.empty()) return Fail(ErrorCode::kInvalidArgument, where + " must not be empty");
        (name == "ca-file"     ? rule.ca_file
         : name == "cert-file" ? rule.cert_file
                               : rule.key_file) = s;
      } else if (name == "mirror") {
        const toml::array* mirrors = value.as_array();
        if (mirrors == nullptr) {
          return Fail(ErrorCode::kInvalidArgument,
                      where + " must be an array of tables: write [[registry.mirror]]");
        }
        for (const toml::node& m : *mirrors) {
          const toml::table* mt = m.as_table();
          if (mt == nullptr)
            return Fail(ErrorCode::kInvalidArgument, where + " entries must be tables");
          STRATA_ASSIGN(mirror, Mirror(*mt, Position(source_, m.source()) + ": [[registry.mirror]]",
                                       &explicit_mirror_use));
          rule.mirrors.push_back(std::move(mirror));
        }
      } else {
        return Fail(ErrorCode::kInvalidArgument,
                    where +
                        ": unknown key (known: prefix, location, insecure, blocked, "
                        "mirror-by-digest-only, ca-file, cert-file, key-file, mirror)");
      }
    }
    // As in registries.conf, a rule without a prefix is about its location.
    if (rule.prefix.empty()) rule.prefix = rule.location;
    if (rule.prefix.empty())
      return Fail(ErrorCode::kInvalidArgument, at + " needs a prefix (or a location)");
    if (IsWildcard(rule.prefix)) {
      const std::string domain = rule.prefix.substr(2);
      if (!IsValidDomain(domain) || domain.find_first_of(":/") != std::string::npos) {
        return Fail(ErrorCode::kInvalidArgument,
                    at + ": prefix \"" + rule.prefix +
                        "\": a wildcard prefix is \"*.\" followed by a DNS name, like "
                        "\"*.example.com\"");
      }
      if (!rule.location.empty()) {
        return Fail(ErrorCode::kInvalidArgument,
                    at + ": prefix \"" + rule.prefix +
                        "\": a wildcard prefix cannot have a location (what would it rewrite?)");
      }
    } else {
      auto [host, path] = SplitLocation(rule.prefix);
      if (!IsRegistryHost(host) || (!path.empty() && !IsValidPath(path))) {
        return Fail(ErrorCode::kInvalidArgument,
                    at + ": prefix \"" + rule.prefix +
                        "\" does not start with a registry host (like \"docker.io\", "
                        "\"quay.io/team\" or \"*.example.com\"), so no name could match it");
      }
      rule.prefix = path.empty() ? NormalizeHubHost(host) : NormalizeHubHost(host) + "/" + path;
    }
    if (rule.cert_file.empty() != rule.key_file.empty()) {
      return Fail(
          ErrorCode::kInvalidArgument,
          at + " (prefix \"" + rule.prefix +
              "\"): cert-file and key-file go together (a client certificate needs its key)");
    }
    if (rule.mirror_by_digest_only && explicit_mirror_use) {
      return Fail(ErrorCode::kInvalidArgument,
                  at + " (prefix \"" + rule.prefix +
                      "\"): mirror-by-digest-only conflicts with a mirror's pull-from-mirror");
    }
    return rule;
  }

  Result<MirrorRule> Mirror(const toml::table& table, const std::string& at, bool* explicit_use) {
    MirrorRule mirror;
    for (const auto& [key, value] : table) {
      const std::string name(key.str());
      const std::string where = Position(source_, key.source()) + ": registry.mirror." + name;
      if (name == "location") {
        STRATA_ASSIGN(s, String(value, where));
        if (!IsValidLocation(s))
          return Fail(ErrorCode::kInvalidArgument,
                      where + ": \"" + s + "\" is not host[:port][/path]");
        mirror.location = s;
      } else if (name == "insecure") {
        STRATA_ASSIGN(b, Bool(value, where));
        mirror.insecure = b;
      } else if (name == "pull-from-mirror") {
        STRATA_ASSIGN(s, String(value, where));
        if (s == "all") {
          mirror.use = MirrorUse::kAll;
        } else if (s == "digest-only") {
          mirror.use = MirrorUse::kDigestOnly;
        } else if (s == "tag-only") {
          mirror.use = MirrorUse::kTagOnly;
        } else {
          return Fail(ErrorCode::kInvalidArgument,
                      where + ": \"" + s + "\" is not one of all, digest-only, tag-only");
        }
        *explicit_use = true;
      } else {
        return Fail(ErrorCode::kInvalidArgument,
                    where + ": unknown key (known: location, insecure, pull-from-mirror)");
      }
    }
    if (mirror.location.empty()) return Fail(ErrorCode::kInvalidArgument, at + " needs a location");
    return mirror;
  }

  std::string source_;
};

template <typename Error>
tl::unexpected<strata::Error> ParseFailure(const std::string& source, const Error& e) {
  return Fail(ErrorCode::kInvalidArgument,
              Position(source, e.source()) + ": " + std::string(e.description()));
}

}  // namespace

bool IsLoopbackHost(std::string_view host) {
  std::string h(WithoutPort(host));
  if (h.size() >= 2 && h.front() == '[' && h.back() == ']') h = h.substr(1, h.size() - 2);
  if (h == "localhost") return true;
  in_addr v4{};
  if (::inet_pton(AF_INET, h.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (::inet_pton(AF_INET6, h.c_str(), &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

bool IsQualifiedName(std::string_view text) {
  size_t slash = text.find('/');
  if (slash == std::string_view::npos) return false;
  std::string_view first = text.substr(0, slash);
  return first.find_first_of(".:") != std::string_view::npos || first == "localhost";
}

Result<RegistryPolicy> RegistryPolicy::Load(const std::string& path) {
  std::string named = path;
  if (named.empty()) {
    if (const char* env = std::getenv("STRATA_REGISTRIES_CONFIG"); env && *env) named = env;
  }
  if (!named.empty()) {
    auto text = ReadFile(named);
    if (!text) return Wrap("registries config " + named, text.error());
    return Parse(*text, named);
  }
  std::vector<std::string> candidates;
  if (const char* xdg = std::getenv("XDG_CONFIG_HOME"); xdg && *xdg) {
    candidates.push_back(std::string(xdg) + "/strata/registries.toml");
  } else if (const char* home = std::getenv("HOME"); home && *home) {
    candidates.push_back(std::string(home) + "/.config/strata/registries.toml");
  }
  candidates.push_back("/etc/strata/registries.toml");
  for (const std::string& c : candidates) {
    if (!PathExists(c)) continue;
    auto text = ReadFile(c);
    if (!text) return Wrap("registries config " + c, text.error());
    return Parse(*text, c);
  }
  return RegistryPolicy{};
}

Result<RegistryPolicy> RegistryPolicy::Parse(std::string_view text, const std::string& source) {
#if TOML_EXCEPTIONS
  toml::table table;
  try {
    table = toml::parse(text, source);
  } catch (const toml::parse_error& e) {
    return ParseFailure(source, e);
  }
#else
  toml::parse_result parsed = toml::parse(text, source);
  if (!parsed) return ParseFailure(source, parsed.error());
  toml::table table = std::move(parsed).table();
#endif
  RegistryPolicy policy;
  policy.source_ = source;
  PolicyParser parser(source);
  for (const auto& [key, node] : table) {
    const std::string k(key.str());
    const std::string where = Position(source, key.source()) + ": " + k;
    if (k == "unqualified-search-registries") {
      STRATA_ASSIGN(search, parser.SearchRegistries(node, where));
      policy.search_ = std::move(search);
    } else if (k == "aliases") {
      STRATA_ASSIGN(aliases, parser.Aliases(node, where));
      policy.aliases_ = std::move(aliases);
    } else if (k == "registry") {
      STRATA_ASSIGN(rules, parser.Registries(node, where));
      policy.rules_ = std::move(rules);
    } else {
      return Fail(
          ErrorCode::kInvalidArgument,
          where + ": unknown key (known: unqualified-search-registries, aliases, registry)");
    }
  }
  return policy;
}

const RegistryRule* RegistryPolicy::MatchingRule(const Reference& name) const {
  const std::string full = name.Name();
  const std::string_view host = WithoutPort(name.domain());
  const RegistryRule* best = nullptr;
  for (const RegistryRule& r : rules_) {
    bool match = false;
    if (IsWildcard(r.prefix)) {
      const std::string_view suffix = std::string_view(r.prefix).substr(1);  // ".example.com"
      match = host.size() > suffix.size() && host.ends_with(suffix);
    } else {
      match = full == r.prefix || full.starts_with(r.prefix + "/");
    }
    if (!match) continue;
    // Longest prefix wins; on a tie the exact prefix beats the wildcard.
    if (best == nullptr || r.prefix.size() > best->prefix.size() ||
        (r.prefix.size() == best->prefix.size() && IsWildcard(best->prefix))) {
      best = &r;
    }
  }
  return best;
}

Status RegistryPolicy::CheckAllowed(const Reference& name) const {
  const RegistryRule* rule = MatchingRule(name);
  if (rule != nullptr && rule->blocked) {
    return Fail(ErrorCode::kDenied, "registry " + name.domain() + " is blocked: " + name.Name() +
                                        " matches the blocked prefix \"" + rule->prefix + "\" in " +
                                        rule->origin);
  }
  return {};
}

Result<RegistryPolicy::Resolution> RegistryPolicy::Resolve(std::string_view text) const {
  auto strict = ParseReference(text);
  if (!strict) return Wrap("invalid reference \"" + std::string(text) + "\"", strict.error());
  Resolution out;
  auto add = [&](Reference ref) -> Status {
    ref = TagNameOnly(std::move(ref));
    STRATA_TRY(CheckAllowed(ref));
    out.candidates.push_back(std::move(ref));
    return {};
  };
  // The repository `name` with the tag and digest the user typed.
  auto with_tag_and_digest = [&](std::string name) {
    if (strict->tag()) name += ":" + *strict->tag();
    if (strict->digest()) name += "@" + strict->digest()->str();
    return name;
  };
  if (IsQualifiedName(text)) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(text));
    STRATA_TRY(add(ref));
    out.reason = "fully qualified name";
    return out;
  }
  const std::string short_name = strict->Name();
  if (auto alias = aliases_.find(short_name); alias != aliases_.end()) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(with_tag_and_digest(alias->second)));
    STRATA_TRY(add(ref));
    out.reason = "alias from " + source_ + ": " + short_name + " -> " + alias->second;
    return out;
  }
  if (search_.empty()) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(text));
    STRATA_TRY(add(ref));
    out.reason = source_.empty()
                     ? "short name: docker.io, as docker reads it (no registries config)"
                     : "short name: docker.io, as docker reads it (" + source_ +
                           " sets no unqualified-search-registries)";
    return out;
  }
  std::string searched, skipped;
  for (const std::string& registry : search_) {
    STRATA_ASSIGN(ref, ParseNormalizedNamed(with_tag_and_digest(registry + "/" + short_name)));
    if (!CheckAllowed(TagNameOnly(ref))) {  // a blocked registry is not searched
      skipped += (skipped.empty() ? "" : ", ") + registry;
      continue;
    }
    STRATA_TRY(add(ref));
    searched += (searched.empty() ? "" : ", ") + registry;
  }
  if (out.candidates.empty()) {
    return Fail(ErrorCode::kDenied, "short name \"" + std::string(text) +
                                        "\": every search registry in " + source_ +
                                        " blocks it ([" + skipped + "])");
  }
  out.search = out.candidates.size() > 1;
  out.reason = "short name: search registries [" + searched + "] from " + source_;
  if (!skipped.empty()) out.reason += " (blocked, not searched: " + skipped + ")";
  return out;
}

namespace {

// The endpoint host and repository of `name` when `location` replaces the rule's prefix (for a
// wildcard rule, the name's registry host).
Result<std::pair<std::string, std::string>> Rewrite(const RegistryRule& rule,
                                                    const std::string& location,
                                                    const Reference& name) {
  const std::string rewritten = IsWildcard(rule.prefix)
                                    ? location + "/" + name.path()
                                    : location + name.Name().substr(rule.prefix.size());
  auto [host, repository] = SplitLocation(rewritten);
  if (repository.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                name.Name() + ": location \"" + location + "\" of the [[registry]] at " +
                    rule.origin + " leaves no repository path (give the location a path)");
  }
  return std::make_pair(host, repository);
}

}  // namespace

Result<std::vector<PolicyRoute>> RegistryPolicy::PullRoutes(const Reference& name) const {
  STRATA_TRY(CheckAllowed(name));
  std::vector<PolicyRoute> routes;
  const RegistryRule* rule = MatchingRule(name);
  if (rule != nullptr) {
    const bool by_digest = name.digest().has_value();
    for (const MirrorRule& m : rule->mirrors) {
      const MirrorUse use = rule->mirror_by_digest_only ? MirrorUse::kDigestOnly : m.use;
      if ((use == MirrorUse::kDigestOnly && !by_digest) ||
          (use == MirrorUse::kTagOnly && by_digest)) {
        continue;
      }
      STRATA_ASSIGN(target, Rewrite(*rule, m.location, name));
      PolicyRoute r;
      r.endpoint.host = EndpointHost(target.first);
      r.endpoint.insecure = m.insecure || IsLoopbackHost(target.first);
      r.repository = target.second;
      r.mirror = true;
      routes.push_back(std::move(r));
    }
  }
  STRATA_ASSIGN(registry, PushRoute(name));
  routes.push_back(std::move(registry));
  return routes;
}

Result<PolicyRoute> RegistryPolicy::PushRoute(const Reference& name) const {
  STRATA_TRY(CheckAllowed(name));
  const RegistryRule* rule = MatchingRule(name);
  std::string host = name.domain();
  std::string repository = name.path();
  if (rule != nullptr && !rule->location.empty()) {
    STRATA_ASSIGN(target, Rewrite(*rule, rule->location, name));
    host = target.first;
    repository = target.second;
  }
  PolicyRoute r;
  r.endpoint.host = EndpointHost(host);
  r.endpoint.insecure = (rule != nullptr && rule->insecure) || IsLoopbackHost(host);
  if (rule != nullptr) {
    r.endpoint.ca_file = rule->ca_file;
    r.endpoint.cert_file = rule->cert_file;
    r.endpoint.key_file = rule->key_file;
  }
  r.repository = repository;
  return r;
}

}  // namespace strata
