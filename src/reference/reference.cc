// Hand-written recogniser for the reference grammar (no regex engine):
//
//   reference        := name [":" tag] ["@" digest]
//   name             := [domain "/"] path
//   domain           := host [":" port]        port := [0-9]+
//   host             := dns-name | "[" [0-9A-Fa-f:]+ "]"
//   dns-name         := dns-component ("." dns-component)*
//   dns-component    := [A-Za-z0-9] | [A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]
//   path             := path-component ("/" path-component)*
//   path-component   := [a-z0-9]+ (separator [a-z0-9]+)*
//   separator        := "." | "_" | "__" | "-"+
//   tag              := [A-Za-z0-9_][A-Za-z0-9_.-]{0,127}
//   digest           := algorithm ":" [0-9A-Fa-f]{32,}
//   algorithm        := alg-component ([+._-] alg-component)*,  alg-component :=
//   [A-Za-z][A-Za-z0-9]*
//
// The first "/"-separated piece is the domain exactly when it is followed by "/" and matches
// `domain`; otherwise it is part of the path. Path characters never include ":" or "@", so the
// name ends at the first of those after the domain.
#include "reference/reference.h"

#include <cstdint>
#include <vector>

namespace strata {
namespace {

constexpr std::string_view kErrInvalidFormat = "invalid reference format";
constexpr std::string_view kErrNameEmpty = "repository name must have at least one component";
constexpr std::string_view kErrUppercase = "repository name must be lowercase";
constexpr std::string_view kErrTooLong = "repository name must not be more than 255 characters";
constexpr std::string_view kErrNotCanonical = "repository name must be canonical";
constexpr std::string_view kErrTagFormat = "invalid tag format";
constexpr std::string_view kErrDigestUnsupported = "unsupported digest algorithm";
constexpr std::string_view kErrDigestLength = "invalid checksum digest length";
constexpr std::string_view kErrDigestFormat = "invalid checksum digest format";

bool IsDigit(char c) { return c >= '0' && c <= '9'; }
bool IsLower(char c) { return c >= 'a' && c <= 'z'; }
bool IsUpper(char c) { return c >= 'A' && c <= 'Z'; }
bool IsLetter(char c) { return IsLower(c) || IsUpper(c); }
bool IsAlnum(char c) { return IsLetter(c) || IsDigit(c); }
bool IsLowerAlnum(char c) { return IsLower(c) || IsDigit(c); }
bool IsHexDigit(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }
bool IsWordChar(char c) { return IsAlnum(c) || c == '_'; }
bool IsTagChar(char c) { return IsWordChar(c) || c == '.' || c == '-'; }
bool IsPathChar(char c) { return IsLowerAlnum(c) || c == '.' || c == '_' || c == '-' || c == '/'; }

bool HasUppercase(std::string_view s) {
  for (char c : s) {
    if (IsUpper(c)) return true;
  }
  return false;
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (IsUpper(c)) c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

bool IsValidPathComponent(std::string_view s) {
  size_t i = 0;
  const size_t n = s.size();
  while (true) {
    const size_t run = i;
    while (i < n && IsLowerAlnum(s[i])) ++i;
    if (i == run) return false;  // empty, leading separator or two separators in a row
    if (i == n) return true;
    const size_t sep_begin = i;
    while (i < n && !IsLowerAlnum(s[i])) ++i;
    std::string_view sep = s.substr(sep_begin, i - sep_begin);
    const bool dashes = sep.find_first_not_of('-') == std::string_view::npos;
    if (!(sep == "." || sep == "_" || sep == "__" || dashes)) return false;
  }
}

bool IsValidDnsComponent(std::string_view s) {
  if (s.empty() || !IsAlnum(s.front()) || !IsAlnum(s.back())) return false;
  for (char c : s) {
    if (!IsAlnum(c) && c != '-') return false;
  }
  return true;
}

bool IsValidHost(std::string_view s) {
  if (!s.empty() && s.front() == '[') {
    if (s.size() < 3 || s.back() != ']') return false;
    for (char c : s.substr(1, s.size() - 2)) {
      if (!IsHexDigit(c) && c != ':') return false;
    }
    return true;
  }
  while (true) {
    const size_t dot = s.find('.');
    if (!IsValidDnsComponent(s.substr(0, dot))) return false;
    if (dot == std::string_view::npos) return true;
    s.remove_prefix(dot + 1);
  }
}

bool IsValidPort(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!IsDigit(c)) return false;
  }
  return true;
}

// Digest grammar only: algorithm ":" at least 32 hex digits. Semantic checks are in ParseDigest.
bool IsValidDigestGrammar(std::string_view s) {
  const size_t colon = s.find(':');
  if (colon == std::string_view::npos) return false;
  std::string_view algorithm = s.substr(0, colon);
  std::string_view hex = s.substr(colon + 1);
  if (hex.size() < 32) return false;
  for (char c : hex) {
    if (!IsHexDigit(c)) return false;
  }
  // Components start with a letter and are separated by exactly one of "+._-".
  bool expect_component_start = true;
  for (char c : algorithm) {
    if (expect_component_start) {
      if (!IsLetter(c)) return false;
      expect_component_start = false;
    } else if (c == '+' || c == '.' || c == '_' || c == '-') {
      expect_component_start = true;
    } else if (!IsAlnum(c)) {
      return false;
    }
  }
  return !expect_component_start;  // also rejects an empty algorithm
}

std::optional<ReferenceParts> MatchGrammar(std::string_view s, bool allow_tag_and_digest) {
  ReferenceParts parts;
  size_t path_begin = 0;
  const size_t slash = s.find('/');
  if (slash != std::string_view::npos && IsValidDomain(s.substr(0, slash))) {
    parts.domain = s.substr(0, slash);
    path_begin = slash + 1;
  }
  size_t i = path_begin;
  while (i < s.size() && IsPathChar(s[i])) ++i;
  parts.path = s.substr(path_begin, i - path_begin);
  if (!IsValidPath(parts.path)) return std::nullopt;
  parts.name = s.substr(0, i);
  if (allow_tag_and_digest && i < s.size() && s[i] == ':') {
    const size_t begin = ++i;
    while (i < s.size() && IsTagChar(s[i])) ++i;
    parts.tag = s.substr(begin, i - begin);
    if (!IsValidTag(*parts.tag)) return std::nullopt;
  }
  if (allow_tag_and_digest && i < s.size() && s[i] == '@') {
    parts.digest = s.substr(i + 1);
    if (!IsValidDigestGrammar(*parts.digest)) return std::nullopt;
    i = s.size();
  }
  if (i != s.size()) return std::nullopt;
  return parts;
}

tl::unexpected<Error> ReferenceError(std::string_view text, std::string_view message) {
  return Fail(ErrorCode::kInvalidArgument,
              "invalid reference \"" + std::string(text) + "\": " + std::string(message));
}

// The semantic digest checks the grammar leaves open, with go-digest's error texts.
Result<Digest> ParseDigest(std::string_view text, std::string_view display) {
  const size_t colon = text.find(':');
  std::string_view algorithm = text.substr(0, colon);
  std::string_view hex = text.substr(colon + 1);
  DigestAlgorithm a;
  size_t hex_length;
  if (algorithm == "sha256") {
    a = DigestAlgorithm::kSha256;
    hex_length = 64;
  } else if (algorithm == "sha512") {
    a = DigestAlgorithm::kSha512;
    hex_length = 128;
  } else {
    return ReferenceError(display, kErrDigestUnsupported);
  }
  if (hex.size() != hex_length) return ReferenceError(display, kErrDigestLength);
  for (char c : hex) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) return ReferenceError(display, kErrDigestFormat);
  }
  return Digest::FromHex(a, std::string(hex));
}

// Grammar and length checks of a strict parse; errors quote `display`.
Result<ReferenceParts> ParseParts(std::string_view text, std::string_view display) {
  auto parts = MatchReferenceGrammar(text);
  if (!parts) {
    if (text.empty()) return ReferenceError(display, kErrNameEmpty);
    // Upper case is allowed in the domain and the tag, so only the path can be the culprit here.
    if (MatchReferenceGrammar(ToLower(text))) return ReferenceError(display, kErrUppercase);
    return ReferenceError(display, kErrInvalidFormat);
  }
  if (parts->path.size() > kMaxPathLength) return ReferenceError(display, kErrTooLong);
  return *parts;
}

// Where a Docker Hub-style name splits into domain and path ("ubuntu" -> docker.io,
// library/ubuntu). The text after the split is returned unvalidated (it may carry tag/digest).
struct HubSplit {
  std::string domain;
  std::string remainder;
};

HubSplit SplitDockerDomain(std::string_view text) {
  HubSplit split;
  const size_t slash = text.find('/');
  std::string_view first = text.substr(0, slash);
  // The first component names a registry when it is "localhost", has a dot (a DNS name or IPv4),
  // a colon (a port or an IPv6 literal), or upper case (never valid in a Hub namespace).
  const bool is_domain =
      slash != std::string_view::npos &&
      (first == "localhost" || first.find_first_of(".:") != std::string_view::npos ||
       HasUppercase(first));
  if (is_domain) {
    split.domain = first == kLegacyDefaultDomain ? std::string(kDefaultDomain) : std::string(first);
    split.remainder = std::string(text.substr(slash + 1));
  } else {
    split.domain = std::string(kDefaultDomain);
    split.remainder = std::string(text);
  }
  // Single-component Hub repositories are the "official" ones under library/.
  if (split.domain == kDefaultDomain && split.remainder.find('/') == std::string::npos) {
    split.remainder.insert(0, kOfficialRepoPrefix);
  }
  return split;
}

// ---- path.Match-style globbing for FamiliarMatch -------------------------------------------

// Decodes one UTF-8 code point at s[i]; malformed bytes decode as U+FFFD of length 1.
char32_t DecodeRune(std::string_view s, size_t i, size_t* length) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  size_t n = b0 < 0x80           ? 1
             : (b0 >> 5) == 0x6  ? 2
             : (b0 >> 4) == 0xE  ? 3
             : (b0 >> 3) == 0x1E ? 4
                                 : 0;
  if (n == 0 || i + n > s.size()) {
    *length = 1;
    return n == 1 ? b0 : 0xFFFD;
  }
  char32_t r = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
  for (size_t k = 1; k < n; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    if ((b >> 6) != 0x2) {
      *length = 1;
      return 0xFFFD;
    }
    r = (r << 6) | (b & 0x3F);
  }
  *length = n;
  return r;
}

struct GlobToken {
  enum Kind { kLiteral, kAnyChar, kStar, kClass } kind = kLiteral;
  char32_t literal = 0;
  bool negated = false;
  std::vector<std::pair<char32_t, char32_t>> ranges;
};

// One class-range endpoint: a plain rune other than '-' and ']', or an escaped rune.
bool ReadClassRune(std::string_view p, size_t* i, char32_t* out) {
  if (*i >= p.size() || p[*i] == '-' || p[*i] == ']') return false;
  if (p[*i] == '\\') {
    if (++*i >= p.size()) return false;
  }
  size_t n;
  *out = DecodeRune(p, *i, &n);
  *i += n;
  return true;
}

// Tokenises a glob pattern; nullopt when it is malformed (path.ErrBadPattern).
std::optional<std::vector<GlobToken>> CompileGlob(std::string_view p) {
  std::vector<GlobToken> tokens;
  size_t i = 0;
  while (i < p.size()) {
    GlobToken t;
    const char c = p[i];
    if (c == '*') {
      t.kind = GlobToken::kStar;
      ++i;
    } else if (c == '?') {
      t.kind = GlobToken::kAnyChar;
      ++i;
    } else if (c == '[') {
      t.kind = GlobToken::kClass;
      ++i;
      if (i < p.size() && p[i] == '^') {
        t.negated = true;
        ++i;
      }
      do {  // a class holds at least one range
        char32_t lo, hi;
        if (!ReadClassRune(p, &i, &lo)) return std::nullopt;
        hi = lo;
        if (i < p.size() && p[i] == '-') {
          ++i;
          if (!ReadClassRune(p, &i, &hi)) return std::nullopt;
        }
        t.ranges.emplace_back(lo, hi);
      } while (i < p.size() && p[i] != ']');
      if (i >= p.size()) return std::nullopt;  // unterminated class
      ++i;
    } else {
      if (c == '\\' && ++i >= p.size()) return std::nullopt;
      size_t n;
      t.literal = DecodeRune(p, i, &n);
      i += n;
    }
    tokens.push_back(std::move(t));
  }
  return tokens;
}

bool GlobMatchAt(const std::vector<GlobToken>& tokens, size_t ti, std::string_view name,
                 size_t ni) {
  while (ti < tokens.size()) {
    const GlobToken& t = tokens[ti];
    if (t.kind == GlobToken::kStar) {
      // Try every split of the following non-'/' run, shortest first.
      for (size_t k = ni;;) {
        if (GlobMatchAt(tokens, ti + 1, name, k)) return true;
        if (k >= name.size() || name[k] == '/') return false;
        size_t n;
        DecodeRune(name, k, &n);
        k += n;
      }
    }
    if (ni >= name.size()) return false;
    size_t n;
    const char32_t r = DecodeRune(name, ni, &n);
    switch (t.kind) {
      case GlobToken::kLiteral:
        if (r != t.literal) return false;
        break;
      case GlobToken::kAnyChar:
        if (r == '/') return false;
        break;
      case GlobToken::kClass: {
        bool in = false;
        for (const auto& [lo, hi] : t.ranges) in = in || (lo <= r && r <= hi);
        if (in == t.negated) return false;
        break;
      }
      case GlobToken::kStar:
        break;
    }
    ni += n;
    ++ti;
  }
  return ni == name.size();
}

}  // namespace

// ---- grammar ---------------------------------------------------------------------------------

bool IsValidDomain(std::string_view text) {
  size_t host_end;
  if (!text.empty() && text.front() == '[') {
    host_end = text.find(']');
    if (host_end == std::string_view::npos) return false;
    ++host_end;
  } else {
    host_end = text.find(':');
    if (host_end == std::string_view::npos) host_end = text.size();
  }
  if (!IsValidHost(text.substr(0, host_end))) return false;
  if (host_end == text.size()) return true;
  return text[host_end] == ':' && IsValidPort(text.substr(host_end + 1));
}

bool IsValidPath(std::string_view text) {
  while (true) {
    const size_t slash = text.find('/');
    if (!IsValidPathComponent(text.substr(0, slash))) return false;
    if (slash == std::string_view::npos) return true;
    text.remove_prefix(slash + 1);
  }
}

bool IsValidTag(std::string_view text) {
  if (text.empty() || text.size() > kMaxTagLength || !IsWordChar(text.front())) return false;
  for (char c : text) {
    if (!IsTagChar(c)) return false;
  }
  return true;
}

bool IsFullImageIdHex(std::string_view text) {
  if (text.size() != 64) return false;
  for (char c : text) {
    if (!IsDigit(c) && !(c >= 'a' && c <= 'f')) return false;
  }
  return true;
}

std::optional<ReferenceParts> MatchReferenceGrammar(std::string_view text) {
  return MatchGrammar(text, /*allow_tag_and_digest=*/true);
}

std::optional<ReferenceParts> MatchNameGrammar(std::string_view text) {
  return MatchGrammar(text, /*allow_tag_and_digest=*/false);
}

// ---- Reference -------------------------------------------------------------------------------

std::string Reference::Name() const {
  if (domain_.empty()) return path_;
  return domain_ + "/" + path_;
}

std::string Reference::String() const {
  std::string out = Name();
  if (tag_) out += ":" + *tag_;
  if (digest_) out += "@" + digest_->str();
  return out;
}

std::string Reference::FamiliarName() const {
  if (domain_ != kDefaultDomain) return Name();
  std::string_view path = path_;
  if (path.starts_with(kOfficialRepoPrefix) &&
      path.find('/', kOfficialRepoPrefix.size()) == std::string_view::npos) {
    path.remove_prefix(kOfficialRepoPrefix.size());
  }
  return std::string(path);
}

std::string Reference::FamiliarString() const {
  std::string out = FamiliarName();
  if (tag_) out += ":" + *tag_;
  if (digest_) out += "@" + digest_->str();
  return out;
}

Result<Reference> Reference::WithTag(std::string_view tag) const {
  if (!IsValidTag(tag)) {
    return Fail(ErrorCode::kInvalidArgument, "invalid tag \"" + std::string(tag) + "\" for " +
                                                 Name() + ": " + std::string(kErrTagFormat));
  }
  Reference out = *this;
  out.tag_ = std::string(tag);
  return out;
}

Reference Reference::WithDigest(Digest digest) const {
  Reference out = *this;
  out.digest_ = std::move(digest);
  return out;
}

Reference Reference::WithoutTag() const {
  Reference out = *this;
  out.tag_.reset();
  return out;
}

Reference Reference::WithoutDigest() const {
  Reference out = *this;
  out.digest_.reset();
  return out;
}

Reference Reference::NameOnly() const {
  Reference out = *this;
  out.tag_.reset();
  out.digest_.reset();
  return out;
}

// ---- parsers ---------------------------------------------------------------------------------

struct ReferenceAccess {
  static Reference Make(const ReferenceParts& parts, std::optional<Digest> digest) {
    Reference ref;
    ref.domain_ = std::string(parts.domain);
    ref.path_ = std::string(parts.path);
    if (parts.tag) ref.tag_ = std::string(*parts.tag);
    ref.digest_ = std::move(digest);
    return ref;
  }
};

namespace {

// Strict parse of `text`; errors quote `display` (what the caller typed, before normalisation).
Result<Reference> ParseQuoting(std::string_view text, std::string_view display) {
  STRATA_ASSIGN(parts, ParseParts(text, display));
  std::optional<Digest> digest;
  if (parts.digest) {
    STRATA_ASSIGN(parsed, ParseDigest(*parts.digest, display));
    digest = std::move(parsed);
  }
  return ReferenceAccess::Make(parts, std::move(digest));
}

}  // namespace

Result<Reference> ParseReference(std::string_view text) { return ParseQuoting(text, text); }

Result<Reference> ParseName(std::string_view text) {
  auto parts = MatchNameGrammar(text);
  if (!parts) return ReferenceError(text, kErrInvalidFormat);
  if (parts->path.size() > kMaxPathLength) return ReferenceError(text, kErrTooLong);
  return ReferenceAccess::Make(*parts, std::nullopt);
}

Result<Reference> ParseNormalizedNamed(std::string_view text) {
  if (IsFullImageIdHex(text)) {
    return Fail(ErrorCode::kInvalidArgument,
                "invalid repository name \"" + std::string(text) +
                    "\": cannot specify 64-byte hexadecimal strings (that is an image ID)");
  }
  HubSplit split = SplitDockerDomain(text);
  // Checked before the full parse so that "docker/Docker" reports upper case, not a bad format.
  std::string_view remote = split.remainder;
  remote = remote.substr(0, remote.find(':'));
  if (HasUppercase(remote)) return ReferenceError(text, kErrUppercase);
  return ParseQuoting(split.domain + "/" + split.remainder, text);
}

Result<Reference> ParseCanonical(std::string_view text) {
  STRATA_ASSIGN(ref, ParseNormalizedNamed(text));
  if (ref.String() != text) {
    return Fail(ErrorCode::kInvalidArgument, "invalid reference \"" + std::string(text) +
                                                 "\": " + std::string(kErrNotCanonical) +
                                                 " (expected \"" + ref.String() + "\")");
  }
  return ref;
}

Result<Reference> ParseDockerRef(std::string_view text) {
  STRATA_ASSIGN(ref, ParseNormalizedNamed(text));
  if (ref.digest()) return ref.WithoutTag();
  return TagNameOnly(std::move(ref));
}

Reference TagNameOnly(Reference ref) {
  if (!ref.IsNameOnly()) return ref;
  return *ref.WithTag(kDefaultTag);
}

Result<AnyReference> ParseAnyReference(std::string_view text) {
  if (IsFullImageIdHex(text)) {
    return AnyReference(Digest::FromHex(DigestAlgorithm::kSha256, std::string(text)));
  }
  if (auto digest = Digest::Parse(text)) return AnyReference(std::move(*digest));
  STRATA_ASSIGN(ref, ParseNormalizedNamed(text));
  return AnyReference(std::move(ref));
}

std::string AnyReferenceString(const AnyReference& ref) {
  if (const auto* named = std::get_if<Reference>(&ref)) return named->String();
  return std::get<Digest>(ref).str();
}

Result<bool> FamiliarMatch(std::string_view pattern, const AnyReference& ref) {
  auto tokens = CompileGlob(pattern);
  if (!tokens)
    return Fail(ErrorCode::kInvalidArgument, "invalid reference pattern \"" + std::string(pattern) +
                                                 "\": syntax error in pattern");
  if (const auto* named = std::get_if<Reference>(&ref)) {
    return GlobMatchAt(*tokens, 0, named->FamiliarString(), 0) ||
           GlobMatchAt(*tokens, 0, named->FamiliarName(), 0);
  }
  return GlobMatchAt(*tokens, 0, std::get<Digest>(ref).str(), 0);
}

}  // namespace strata
