// Docker image references: [host[:port]/]path[:tag][@digest], parsed against the grammar of
// github.com/distribution/reference (the one Docker CLI 28 uses: bracketed IPv6 hosts, upper-case
// domains, a 255-character limit on the path alone), plus Docker Hub normalisation
// ("busybox" -> "docker.io/library/busybox") and the familiar (short) spellings.
//
// A Reference is immutable and always valid once constructed; every way to build one goes through
// the grammar. Values are cheap to copy and safe to share between threads.
#pragma once

#include <compare>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "digest/digest.h"
#include "util/result.h"

namespace strata {

inline constexpr std::string_view kDefaultDomain = "docker.io";
inline constexpr std::string_view kLegacyDefaultDomain = "index.docker.io";
inline constexpr std::string_view kOfficialRepoPrefix = "library/";
inline constexpr std::string_view kDefaultTag = "latest";
inline constexpr size_t kMaxPathLength = 255;
inline constexpr size_t kMaxTagLength = 128;

class Reference {
 public:
  // Empty only for references from the strict parsers whose first path component is not a domain
  // ("ubuntu", "library/ubuntu"); normalised references always have one.
  const std::string& domain() const { return domain_; }
  const std::string& path() const { return path_; }
  const std::optional<std::string>& tag() const { return tag_; }
  const std::optional<Digest>& digest() const { return digest_; }
  bool IsNameOnly() const { return !tag_ && !digest_; }

  std::string Name() const;            // domain "/" path, or path alone when domain is empty
  std::string String() const;          // Name() [":" tag] ["@" digest]
  std::string FamiliarName() const;    // docker.io/library/busybox -> busybox, docker.io/a/b -> a/b
  std::string FamiliarString() const;  // FamiliarName() [":" tag] ["@" digest]

  // Checks the tag grammar ([A-Za-z0-9_][A-Za-z0-9_.-]{0,127}); keeps any digest.
  Result<Reference> WithTag(std::string_view tag) const;
  Reference WithDigest(Digest digest) const;  // keeps any tag
  Reference WithoutTag() const;
  Reference WithoutDigest() const;
  Reference NameOnly() const;  // drops tag and digest

  bool operator==(const Reference&) const = default;
  auto operator<=>(const Reference&) const = default;

 private:
  Reference() = default;
  friend struct ReferenceAccess;  // the parsers in reference.cc

  std::string domain_;
  std::string path_;
  std::optional<std::string> tag_;
  std::optional<Digest> digest_;
};

// Strict parse of name[:tag][@digest]; no normalisation ("ubuntu" keeps an empty domain).
// Errors contain the upstream texts: "invalid reference format", "repository name must be
// lowercase", "repository name must have at least one component", "repository name must not be
// more than 255 characters", "invalid checksum digest length", "unsupported digest algorithm",
// "invalid checksum digest format".
Result<Reference> ParseReference(std::string_view text);

// A bare repository name ([domain/]path, no tag or digest, no normalisation); Go's WithName.
Result<Reference> ParseName(std::string_view text);

// Applies Docker Hub defaults: no domain -> docker.io, single-component Hub path -> library/...,
// index.docker.io -> docker.io. Refuses 64-hex strings (those are image IDs).
Result<Reference> ParseNormalizedNamed(std::string_view text);

// Accepts only text that is already in normalised full form (Go's ParseNamed): "docker.io/library/
// foo" yes, "foo" or "docker.io/foo" -> "repository name must be canonical".
Result<Reference> ParseCanonical(std::string_view text);

// ParseNormalizedNamed, then ":latest" when there is neither tag nor digest, and the tag dropped
// when both are present (what the daemon stores and pulls by).
Result<Reference> ParseDockerRef(std::string_view text);

// Adds ":latest" when the reference has neither tag nor digest.
Reference TagNameOnly(Reference ref);

// A reference as typed on a command line where an image ID is also allowed: a 64-hex string or a
// valid "algo:hex" digest is a Digest; anything else goes through ParseNormalizedNamed.
using AnyReference = std::variant<Reference, Digest>;
Result<AnyReference> ParseAnyReference(std::string_view text);
std::string AnyReferenceString(const AnyReference& ref);  // String() or the digest text

// Docker's `--filter reference=<pattern>`: a path.Match-style glob ('*', '?', '[...]', '\\')
// against the familiar string, then against the familiar name. A malformed pattern is an error.
Result<bool> FamiliarMatch(std::string_view pattern, const AnyReference& ref);

// ^[a-f0-9]{64}$: a full image ID without its "sha256:" prefix.
bool IsFullImageIdHex(std::string_view text);

// Grammar pieces, whole-string matches with no length limits and no digest-algorithm checks.
bool IsValidDomain(std::string_view text);  // host[:port], host = DNS name, IPv4 or [IPv6]
bool IsValidPath(std::string_view text);    // path-component ("/" path-component)*
bool IsValidTag(std::string_view text);

// The pieces of text matching the reference grammar (views into the text passed in, which must
// outlive them). `domain` is empty when the first path
// component is not followed by "/" or is not a valid domain.
struct ReferenceParts {
  std::string_view name;  // [domain "/"] path
  std::string_view domain;
  std::string_view path;
  std::optional<std::string_view> tag;
  std::optional<std::string_view> digest;  // algorithm ":" >= 32 hex digits (any case)
};
std::optional<ReferenceParts> MatchReferenceGrammar(std::string_view text);
// Name grammar only ([domain "/"] path): tag is never set.
std::optional<ReferenceParts> MatchNameGrammar(std::string_view text);

}  // namespace strata
