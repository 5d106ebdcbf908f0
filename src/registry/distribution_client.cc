// RegistryClient over HttpClient: the distribution API with auth, retries and resumable blob
// downloads (see registry_client.h).
#include <chrono>
#include <cstring>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <thread>

#include "registry/http_client.h"
#include "registry/registry_client.h"
#include "registry/www_authenticate.h"
#include "util/base64.h"
#include "util/cancel.h"
#include "util/json_depth.h"

namespace strata {
namespace {

constexpr std::string_view kManifestAccept =
    "Accept: application/vnd.docker.distribution.manifest.v2+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, "
    "application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.5";

// Percent-encodes all but unreserved characters and those in `keep`.
std::string PercentEscape(std::string_view s, std::string_view keep) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
        c == '~' || keep.find(c) != std::string_view::npos) {
      out += c;
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", static_cast<unsigned char>(c));
      out += buf;
    }
  }
  return out;
}

std::string UrlEscape(std::string_view s) { return PercentEscape(s, "/:"); }  // path segments
std::string QueryEscape(std::string_view s) { return PercentEscape(s, ""); }

// "CODE: message" from a registry's JSON error body, or the status alone.
std::string RegistryError(const HttpResponse& r) {
  std::string text = "HTTP " + std::to_string(r.status);
  auto j = ParseUntrustedJson(r.body);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array() && !j["errors"].empty()) {
    text.clear();
    for (const auto& e : j["errors"]) {
      if (!text.empty()) text += "; ";
      std::string code = e.value("code", "");
      std::string message = e.value("message", "");
      text += code.empty() ? message : code + ": " + message;
    }
  } else if (j.is_object() && j.contains("details")) {
    text += ": " + j.value("details", "");
  }
  return text;
}

// The kind of a registry's error response, by its status; a DIGEST_INVALID error (the bytes
// sent do not hash to the digest named) is corrupt data whatever the status.
ErrorCode RegistryErrorCode(const HttpResponse& r) {
  auto j = ParseUntrustedJson(r.body);
  if (j.is_object() && j.contains("errors") && j["errors"].is_array()) {
    for (const auto& e : j["errors"]) {
      if (e.is_object() && e.value("code", "") == "DIGEST_INVALID") return ErrorCode::kCorrupt;
    }
  }
  if (r.status == 401) return ErrorCode::kUnauthenticated;
  if (r.status == 403) return ErrorCode::kDenied;
  if (r.status == 404) return ErrorCode::kNotFound;
  if (r.status == 429 || r.status >= 500) return ErrorCode::kUnavailable;
  if (r.status == 400) return ErrorCode::kInvalidArgument;
  return ErrorCode::kUnknown;
}

// An error for an unexpected response, of the kind its status says.
tl::unexpected<Error> FailResponse(const HttpResponse& r, std::string message) {
  return Fail(RegistryErrorCode(r), std::move(message));
}

std::string StripParams(std::string media_type) {
  size_t semi = media_type.find(';');
  if (semi != std::string::npos) media_type.resize(semi);
  while (!media_type.empty() && media_type.back() == ' ') media_type.pop_back();
  return media_type;
}

bool Retryable(long status) { return status == 429 || status >= 500; }

// Whether another upload attempt may succeed: not when the registry refused the bytes
// (DIGEST_INVALID), the credentials or the access, nor once the user cancelled.
bool WorthRetrying(const Error& e) {
  return !IsCorrupt(e) && !IsUnauthenticated(e) && !IsDenied(e) && !IsCancelled(e);
}

// A scope of the token service: "repository:NAME:pull" or "repository:NAME:pull,push".
std::string RepoScope(const std::string& repo, bool push) {
  return "repository:" + repo + (push ? ":pull,push" : ":pull");
}

// A request body's source: remembers the first error it gave (and gives it again), so that a
// failure of what is being sent (a damaged blob in the store, a cancelled push) is reported as
// itself and never retried, instead of as the transfer error curl makes of it.
class GuardedBody : public Reader {
 public:
  explicit GuardedBody(Reader& inner) : inner_(inner) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    if (error_) return tl::unexpected(*error_);
    auto n = inner_.Read(buffer, size);
    if (!n) error_ = n.error();
    if (n && *n > 0) read_ = true;
    return n;
  }
  const std::optional<Error>& error() const { return error_; }
  // Whether any byte was handed out: such a body cannot be sent again.
  bool read() const { return read_; }

 private:
  Reader& inner_;
  std::optional<Error> error_;
  bool read_ = false;
};

class DistributionClient : public RegistryClient,
                           public std::enable_shared_from_this<DistributionClient> {
 public:
  DistributionClient(RegistryEndpoint endpoint, CredentialLookup credentials, RetryPolicy retry)
      : endpoint_(std::move(endpoint)),
        credentials_(std::move(credentials)),
        retry_(retry),
        http_(TlsOptions{!endpoint_.insecure, endpoint_.ca_file, endpoint_.cert_file,
                         endpoint_.key_file}),
        scheme_(endpoint_.insecure ? "" : "https") {}

  const RegistryEndpoint& Endpoint() const { return endpoint_; }

  // --- requests with auth and retries ---------------------------------------------------------

  std::string Base() {
    std::lock_guard<std::mutex> lock(mu_);
    return (scheme_.empty() ? std::string("https") : scheme_) + "://" + endpoint_.host;
  }

  std::string Url(const std::string& path) { return Base() + path; }

  // Resolves a Location header against the endpoint.
  std::string Absolute(const std::string& location) {
    if (location.rfind("http://", 0) == 0 || location.rfind("https://", 0) == 0) return location;
    return Base() + (location.empty() || location[0] != '/' ? "/" : "") + location;
  }

  std::optional<std::string> AuthHeader(const std::string& scope) {
    std::lock_guard<std::mutex> lock(mu_);
    if (bearer_) {
      auto it = tokens_.find(scope);
      if (it != tokens_.end() && std::chrono::steady_clock::now() < it->second.expiry) {
        return "Authorization: Bearer " + it->second.token;
      }
      return std::nullopt;
    }
    if (basic_) return "Authorization: Basic " + *basic_;
    return std::nullopt;
  }

  Result<std::optional<Credentials>> Creds() {
    if (!credentials_) return std::optional<Credentials>();
    return credentials_(endpoint_.host);
  }

  // Answers a 401: fetches a token for the scope (bearer) or sets basic credentials.
  Status Authenticate(const HttpResponse& challenge_response, const std::string& scope) {
    // Parallel layer transfers hit the first 401 together; one fetches the token, the others
    // wait and reuse it.
    std::lock_guard<std::mutex> auth_lock(auth_mu_);
    {
      std::lock_guard<std::mutex> lock(mu_);
      auto it = tokens_.find(scope);
      if (bearer_ && it != tokens_.end() && std::chrono::steady_clock::now() < it->second.expiry) {
        return {};
      }
    }
    auto challenges =
        ParseWwwAuthenticate(challenge_response.headers.Get("WWW-Authenticate").value_or(""));
    STRATA_ASSIGN(creds, Creds());
    for (const AuthChallenge& c : challenges) {
      if (c.scheme == "bearer") return FetchToken(c, scope, creds);
    }
    for (const AuthChallenge& c : challenges) {
      if (c.scheme != "basic") continue;
      if (!creds) {
        return Fail(ErrorCode::kUnauthenticated, "authentication required for " + endpoint_.host +
                                                     " (log in with strata login " +
                                                     endpoint_.host + ")");
      }
      // Another thread may have set the same credentials meanwhile; the caller retries once
      // and a second 401 is final.
      std::lock_guard<std::mutex> lock(mu_);
      basic_ = Base64Encode(creds->username + ":" + creds->password);
      return {};
    }
    return Fail(ErrorCode::kUnauthenticated, "unauthorized: " + RegistryError(challenge_response));
  }

  Status FetchToken(const AuthChallenge& c, const std::string& scope,
                    const std::optional<Credentials>& creds) {
    auto realm = c.params.find("realm");
    if (realm == c.params.end()) return Fail(endpoint_.host + ": bearer challenge without realm");
    std::string url = realm->second;
    std::string query;
    auto add = [&](const std::string& k, const std::string& v) {
      query += (query.empty() ? "" : "&") + k + "=" + QueryEscape(v);
    };
    if (auto s = c.params.find("service"); s != c.params.end()) add("service", s->second);
    if (!scope.empty()) add("scope", scope);
    HttpRequest req;
    if (creds && !creds->identity_token.empty()) {
      // docker's OAuth2 flow for identity tokens.
      req.method = "POST";
      req.url = url;
      std::string form = "grant_type=refresh_token&client_id=strata&refresh_token=" +
                         QueryEscape(creds->identity_token);
      if (auto s = c.params.find("service"); s != c.params.end()) {
        form += "&service=" + QueryEscape(s->second);
      }
      if (!scope.empty()) form += "&scope=" + QueryEscape(scope);
      req.body = form;
      req.headers.push_back("Content-Type: application/x-www-form-urlencoded");
    } else {
      req.url = url + (url.find('?') == std::string::npos ? "?" : "&") + query;
      if (creds) {
        req.headers.push_back("Authorization: Basic " +
                              Base64Encode(creds->username + ":" + creds->password));
      }
    }
    auto r = WithRetries([&] { return http_.Do(req, 1 << 20); });
    if (!r) return Wrap("token service " + url, r.error());
    if (r->status == 401 || r->status == 403) {
      return Fail(
          ErrorCode::kUnauthenticated,
          "unauthorized: the token service " + url + " refused " +
              (creds ? "the credentials for " + endpoint_.host : std::string("anonymous access")) +
              " (" + RegistryError(*r) + ")");
    }
    if (r->status != 200)
      return FailResponse(*r, "token service " + url + ": " + RegistryError(*r));
    auto j = ParseUntrustedJson(r->body);
    std::string token;
    if (j.is_object()) {
      token = j.value("token", "");
      if (token.empty()) token = j.value("access_token", "");
    }
    if (token.empty()) return Fail("token service " + url + " returned no token");
    int expires = j.value("expires_in", 60);
    if (expires < 60) expires = 60;
    std::lock_guard<std::mutex> lock(mu_);
    bearer_ = true;
    tokens_[scope] =
        Token{token, std::chrono::steady_clock::now() + std::chrono::seconds(expires - 10)};
    return {};
  }

  // Runs `attempt` until it gives a non-retryable outcome, `give_up` says so, or the attempts
  // are used up.
  template <typename F>
  auto WithRetries(F attempt, const std::function<bool()>& give_up = {}) -> decltype(attempt()) {
    int backoff = retry_.initial_backoff_ms;
    bool fell_back = false;
    for (int i = 1;; ++i) {
      auto r = attempt();
      bool again = false;
      if (!r) {
        if (!fell_back && r.error().tls_handshake && SwitchToHttp()) {
          // The fallback is not a failed attempt: the registry answered, in plain HTTP.
          fell_back = true;
          --i;
          continue;
        }
        again = i < retry_.attempts && !(give_up && give_up()) && !CancelRequested();
      } else if (Retryable(r->status) && i < retry_.attempts && !(give_up && give_up())) {
        again = true;
        if (auto after = r->headers.Get("Retry-After")) {
          int s = std::atoi(after->c_str());
          if (s > 0 && s <= 10) backoff = std::max(backoff, s * 1000);
        }
      }
      if (!again) return r;
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff = std::min(backoff * 2, retry_.max_backoff_ms);
    }
  }

  // An insecure registry that does not speak TLS: use plain http from now on, as docker does.
  // True when the request should go again over http, whether this call switched or a request
  // that ran at the same time already had (parallel layer requests all try https first).
  bool SwitchToHttp() {
    std::lock_guard<std::mutex> lock(mu_);
    if (!endpoint_.insecure || scheme_ == "https") return false;
    scheme_ = "http";
    return true;
  }

  void Settle() {
    std::lock_guard<std::mutex> lock(mu_);
    if (scheme_.empty()) scheme_ = "https";
  }

  // One request with auth for `scope`: on 401, authenticate and try once more.
  Result<HttpResponse> Send(HttpRequest req, const std::string& scope,
                            uint64_t max_body = 4 << 20) {
    const std::vector<std::string> base_headers = req.headers;
    std::optional<GuardedBody> body;
    if (req.body_reader != nullptr) req.body_reader = &body.emplace(*req.body_reader);
    for (int round = 0; round < 2; ++round) {
      req.headers = base_headers;
      if (auto h = AuthHeader(scope)) req.headers.push_back(*h);
      auto r = WithRetries(
          [&] {
            HttpRequest q = req;
            q.url = Rebase(q.url);
            return http_.Do(q, max_body);
          },
          // A streamed body that was read from cannot be sent again: the caller starts over.
          [&] { return body && (body->error() || body->read()); });
      if (body && body->error()) return tl::unexpected(*body->error());
      if (!r) return r;
      Settle();
      if (r->status != 401 || round == 1 || (body && body->read())) return r;
      STRATA_TRY(Authenticate(*r, scope));
    }
    return Fail("unreachable");
  }

  // URLs are built before the scheme is known for insecure registries; fix them up.
  std::string Rebase(const std::string& url) {
    const std::string https = "https://" + endpoint_.host;
    if (url.rfind(https, 0) == 0) return Base() + url.substr(https.size());
    const std::string http = "http://" + endpoint_.host;
    if (url.rfind(http, 0) == 0) return Base() + url.substr(http.size());
    return url;
  }

  // --- RegistryClient ---------------------------------------------------------------------------

  Status Ping() override {
    HttpRequest req;
    req.url = Url("/v2/");
    STRATA_ASSIGN(r, Send(req, ""));
    if (r.status == 200) return {};
    if (r.status == 401) {
      return Fail(ErrorCode::kUnauthenticated, "unauthorized: " + endpoint_.host +
                                                   " refused the credentials (" + RegistryError(r) +
                                                   ")");
    }
    if (r.status == 404) {
      return Fail(ErrorCode::kNotFound, endpoint_.host + " does not serve the registry v2 API");
    }
    return FailResponse(r, endpoint_.host + ": " + RegistryError(r));
  }

  Result<ManifestBlob> GetManifest(const std::string& repo, const std::string& reference,
                                   uint64_t max_size) override {
    const std::string what = endpoint_.host + "/" + repo + ":" + reference;
    HttpRequest req;
    req.url = Url("/v2/" + UrlEscape(repo) + "/manifests/" + UrlEscape(reference));
    req.headers.emplace_back(kManifestAccept);
    auto r = Send(req, RepoScope(repo, false), max_size);
    if (!r) return Wrap("manifest " + what, r.error());
    if (r->status == 404) {
      return Fail(ErrorCode::kNotFound,
                  "manifest unknown: " + what + " (" + RegistryError(*r) + ")");
    }
    if (r->status != 200) return FailResponse(*r, "manifest " + what + ": " + RegistryError(*r));
    std::string media_type = StripParams(r->headers.Get("Content-Type").value_or(""));
    if (IsSchema1Manifest(media_type, r->body)) {
      return Fail("unsupported legacy manifest (schema 1) for " + what +
                  "; push the image again with a current docker or strata");
    }
    if (!IsIndexMediaType(media_type) && !IsImageManifestMediaType(media_type)) {
      auto guessed = ManifestMediaType(r->body);
      if (!guessed) return Wrap("manifest " + what, guessed.error());
      media_type = *guessed;
    }
    ManifestBlob blob{std::move(r->body), media_type, false};
    auto wanted = Digest::Parse(reference);
    if (wanted) {
      Digest got = wanted->algorithm() == DigestAlgorithm::kSha256
                       ? blob.digest()
                       : Digest::Sha256Of(blob.bytes);  // (sha512 refs are rare)
      if (wanted->algorithm() == DigestAlgorithm::kSha256 && got != *wanted) {
        return Fail(ErrorCode::kCorrupt,
                    "manifest " + what + " does not match its digest: the registry sent bytes " +
                        "that hash to " + got.str());
      }
    }
    return blob;
  }

  Result<std::optional<Descriptor>> HeadManifest(const std::string& repo,
                                                 const std::string& reference) override {
    HttpRequest req;
    req.method = "HEAD";
    req.url = Url("/v2/" + UrlEscape(repo) + "/manifests/" + UrlEscape(reference));
    req.headers.emplace_back(kManifestAccept);
    STRATA_ASSIGN(r, Send(req, RepoScope(repo, false)));
    if (r.status == 404) return std::optional<Descriptor>();
    if (r.status != 200) {
      return FailResponse(
          r, "manifest " + endpoint_.host + "/" + repo + ":" + reference + ": " + RegistryError(r));
    }
    auto digest = Digest::Parse(r.headers.Get("Docker-Content-Digest").value_or(""));
    if (!digest) {
      return Fail("manifest " + endpoint_.host + "/" + repo + ":" + reference +
                  ": the registry sent no Docker-Content-Digest");
    }
    int64_t size = std::atoll(r.headers.Get("Content-Length").value_or("0").c_str());
    return std::optional<Descriptor>(
        Descriptor{StripParams(r.headers.Get("Content-Type").value_or("")), *digest, size});
  }

  Result<Digest> PutManifest(const std::string& repo, const std::string& reference,
                             const ManifestBlob& manifest) override {
    const std::string what = endpoint_.host + "/" + repo + ":" + reference;
    HttpRequest req;
    req.method = "PUT";
    req.url = Url("/v2/" + UrlEscape(repo) + "/manifests/" + UrlEscape(reference));
    req.headers.push_back("Content-Type: " + manifest.media_type);
    req.body = manifest.bytes;
    STRATA_ASSIGN(r, Send(req, RepoScope(repo, true)));
    if (r.status != 201 && r.status != 200 && r.status != 202) {
      return FailResponse(r, "putting manifest " + what + ": " + RegistryError(r));
    }
    const Digest digest = manifest.digest();
    if (auto header = r.headers.Get("Docker-Content-Digest")) {
      auto reported = Digest::Parse(*header);
      if (reported && *reported != digest) return *reported;
    }
    return digest;
  }

  Result<std::unique_ptr<Reader>> GetBlob(const std::string& repo, const Descriptor& blob,
                                          const ByteProgressFn& progress) override;
  Result<std::unique_ptr<Reader>> GetBlobFrom(const std::string& repo, const Descriptor& blob,
                                              uint64_t offset,
                                              const ByteProgressFn& progress) override;

  Result<bool> BlobExists(const std::string& repo, const Digest& digest) override {
    HttpRequest req;
    req.method = "HEAD";
    req.url = Url("/v2/" + UrlEscape(repo) + "/blobs/" + digest.str());
    req.follow_redirects = true;
    STRATA_ASSIGN(r, Send(req, RepoScope(repo, false)));
    if (r.status == 200) return true;
    if (r.status == 404) return false;
    return FailResponse(
        r, "blob " + digest.str() + " in " + endpoint_.host + "/" + repo + ": " + RegistryError(r));
  }

  Result<std::string> StartUpload(const std::string& repo, const std::string& query) {
    HttpRequest req;
    req.method = "POST";
    req.url = Url("/v2/" + UrlEscape(repo) + "/blobs/uploads/" + query);
    STRATA_ASSIGN(r, Send(req, RepoScope(repo, true)));
    if (r.status == 201) return std::string();  // mounted (or done)
    if (r.status != 202) {
      return FailResponse(
          r, "starting an upload to " + endpoint_.host + "/" + repo + ": " + RegistryError(r));
    }
    auto location = r.headers.Get("Location");
    if (!location) return Fail(endpoint_.host + " started an upload without a Location");
    return Absolute(*location);
  }

  static std::string WithQuery(const std::string& url, const std::string& param) {
    return url + (url.find('?') == std::string::npos ? "?" : "&") + param;
  }

  Result<bool> MountBlob(const std::string& repo, const Digest& digest,
                         const std::string& from_repo) override {
    // The token must allow pulling from the source repository too.
    const std::string scope = RepoScope(repo, true) + " " + RepoScope(from_repo, false);
    HttpRequest req;
    req.method = "POST";
    req.url = Url("/v2/" + UrlEscape(repo) + "/blobs/uploads/?mount=" + digest.str() +
                  "&from=" + QueryEscape(from_repo));
    STRATA_ASSIGN(r, Send(req, scope));
    if (r.status == 201) return true;
    if (r.status == 202) {
      if (auto location = r.headers.Get("Location")) {
        HttpRequest cancel;
        cancel.method = "DELETE";
        cancel.url = Absolute(*location);
        (void)Send(cancel, RepoScope(repo, true));
      }
      return false;
    }
    return FailResponse(r, "mounting " + digest.str() + " from " + from_repo + " into " +
                               endpoint_.host + "/" + repo + ": " + RegistryError(r));
  }

  Status FinishUpload(const std::string& repo, const std::string& location, const Digest& digest,
                      HttpRequest put) {
    put.method = "PUT";
    put.url = WithQuery(location, "digest=" + digest.str());
    STRATA_ASSIGN(r, Send(put, RepoScope(repo, true)));
    if (r.status != 201 && r.status != 204 && r.status != 200) {
      return FailResponse(r, "uploading blob " + digest.str() + " to " + endpoint_.host + "/" +
                                 repo + ": " + RegistryError(r));
    }
    return {};
  }

  Status UploadOnce(const std::string& repo, const Descriptor& blob, Reader& content,
                    uint64_t chunk_size, const ByteProgressFn& progress) {
    STRATA_ASSIGN(location, StartUpload(repo, ""));
    if (location.empty()) return {};
    if (chunk_size == 0) {
      CountingReader counted(content, progress);
      HttpRequest put;
      put.body_reader = &counted;
      put.body_size = blob.size;
      put.headers.push_back("Content-Type: application/octet-stream");
      return FinishUpload(repo, location, blob.digest, put);
    }
    uint64_t offset = 0;
    std::string chunk;
    for (;;) {
      chunk.resize(chunk_size);
      size_t filled = 0;
      while (filled < chunk.size()) {
        STRATA_ASSIGN(n, content.Read(chunk.data() + filled, chunk.size() - filled));
        if (n == 0) break;
        filled += n;
      }
      if (filled == 0) break;
      chunk.resize(filled);
      HttpRequest patch;
      patch.method = "PATCH";
      patch.url = location;
      patch.body = chunk;
      patch.headers.push_back("Content-Type: application/octet-stream");
      patch.headers.push_back("Content-Range: " + std::to_string(offset) + "-" +
                              std::to_string(offset + filled - 1));
      STRATA_ASSIGN(r, Send(patch, RepoScope(repo, true)));
      if (r.status != 202) {
        return FailResponse(r, "uploading a chunk of " + blob.digest.str() + " to " +
                                   endpoint_.host + "/" + repo + ": " + RegistryError(r));
      }
      if (auto next = r.headers.Get("Location")) location = Absolute(*next);
      offset += filled;
      if (progress) progress(offset);
      if (filled < chunk_size) break;
    }
    return FinishUpload(repo, location, blob.digest, HttpRequest{});
  }

  Status UploadBlob(const std::string& repo, const Descriptor& blob, const OpenContent& open,
                    uint64_t chunk_size, const ByteProgressFn& progress) override {
    Error last{"no attempt"};
    for (int i = 0; i < retry_.attempts; ++i) {
      auto content = open();
      if (!content) return tl::unexpected(content.error());
      GuardedBody source(**content);
      auto st = UploadOnce(repo, blob, source, chunk_size, progress);
      if (st) return {};
      if (source.error()) return tl::unexpected(*source.error());  // the bytes, not the network
      last = st.error();
      if (!WorthRetrying(last)) break;
    }
    return tl::unexpected(last);
  }

  Result<Descriptor> UploadStream(const std::string& repo, Reader& content,
                                  const std::string& media_type,
                                  const ByteProgressFn& progress) override {
    STRATA_ASSIGN(location, StartUpload(repo, ""));
    HashingReader hashed(content, progress);
    HttpRequest patch;
    patch.method = "PATCH";
    patch.url = location;
    patch.body_reader = &hashed;
    patch.body_size = -1;
    patch.headers.push_back("Content-Type: application/octet-stream");
    STRATA_ASSIGN(r, Send(patch, RepoScope(repo, true)));
    if (r.status != 202) {
      return FailResponse(r,
                          "uploading to " + endpoint_.host + "/" + repo + ": " + RegistryError(r));
    }
    if (auto next = r.headers.Get("Location")) location = Absolute(*next);
    Descriptor blob{media_type, hashed.Finish(), static_cast<int64_t>(hashed.size())};
    STRATA_TRY(FinishUpload(repo, location, blob.digest, HttpRequest{}));
    return blob;
  }

  Result<std::vector<std::string>> ListTags(const std::string& repo, int page_size) override {
    std::vector<std::string> tags;
    std::string url = Url("/v2/" + UrlEscape(repo) + "/tags/list?n=" + std::to_string(page_size));
    for (int pages = 0; pages < 100000; ++pages) {
      HttpRequest req;
      req.url = url;
      STRATA_ASSIGN(r, Send(req, RepoScope(repo, false)));
      if (r.status != 200) {
        return FailResponse(r, "tags of " + endpoint_.host + "/" + repo + ": " + RegistryError(r));
      }
      auto j = ParseUntrustedJson(r.body);
      if (!j.is_object()) return Fail("tags of " + endpoint_.host + "/" + repo + ": not JSON");
      if (j.contains("tags") && j["tags"].is_array()) {
        for (const auto& t : j["tags"]) {
          if (t.is_string()) tags.push_back(t.get<std::string>());
        }
      }
      auto link = r.headers.Get("Link");
      if (!link) break;
      size_t lt = link->find('<'), gt = link->find('>');
      if (lt == std::string::npos || gt == std::string::npos || gt < lt) break;
      url = Absolute(link->substr(lt + 1, gt - lt - 1));
    }
    return tags;
  }

  // --- stream helpers ---------------------------------------------------------------------------

  class CountingReader : public Reader {
   public:
    CountingReader(Reader& inner, const ByteProgressFn& progress)
        : inner_(inner), progress_(progress) {}
    Result<size_t> Read(char* buffer, size_t size) override {
      STRATA_ASSIGN(n, inner_.Read(buffer, size));
      done_ += n;
      if (progress_ && n > 0) progress_(done_);
      return n;
    }

   private:
    Reader& inner_;
    const ByteProgressFn& progress_;
    uint64_t done_ = 0;
  };

  class HashingReader : public Reader {
   public:
    HashingReader(Reader& inner, const ByteProgressFn& progress)
        : inner_(inner), progress_(progress) {}
    Result<size_t> Read(char* buffer, size_t size) override {
      STRATA_ASSIGN(n, inner_.Read(buffer, size));
      hasher_.Update(buffer, n);
      done_ += n;
      if (progress_ && n > 0) progress_(done_);
      return n;
    }
    Digest Finish() { return hasher_.Finish(); }
    uint64_t size() const { return done_; }

   private:
    Reader& inner_;
    const ByteProgressFn& progress_;
    Hasher hasher_;
    uint64_t done_ = 0;
  };

  HttpClient& http() { return http_; }
  const RetryPolicy& retry() const { return retry_; }

 private:
  struct Token {
    std::string token;
    std::chrono::steady_clock::time_point expiry;
  };
  RegistryEndpoint endpoint_;
  CredentialLookup credentials_;
  RetryPolicy retry_;
  HttpClient http_;
  std::mutex mu_;
  std::mutex auth_mu_;  // one token fetch at a time
  std::string scheme_;  // "" until an insecure endpoint's first answer decides
  bool bearer_ = false;
  std::optional<std::string> basic_;
  std::map<std::string, Token> tokens_;
};

// A blob body that survives dropped connections: it re-requests the rest with Range and
// carries on, and fails on a body shorter or longer than the descriptor says.
class ResumingBlobReader : public Reader {
 public:
  ResumingBlobReader(DistributionClient& client, std::string repo, Descriptor blob,
                     ByteProgressFn progress)
      : client_(client),
        repo_(std::move(repo)),
        blob_(std::move(blob)),
        progress_(std::move(progress)) {}

  // Starts at byte `offset` (a Range request) instead of at the beginning.
  void StartAt(uint64_t offset) { received_ = offset; }

  Status Open() {
    HttpRequest req;
    req.url = client_.Url("/v2/" + UrlEscape(repo_) + "/blobs/" + blob_.digest.str());
    req.follow_redirects = true;
    if (received_ > 0) req.headers.push_back("Range: bytes=" + std::to_string(received_) + "-");
    const std::string scope = RepoScope(repo_, false);
    for (int round = 0; round < 2; ++round) {
      HttpRequest q = req;
      if (auto h = client_.AuthHeader(scope)) q.headers.push_back(*h);
      q.url = client_.Rebase(q.url);
      auto s = client_.http().Stream(q);
      if (!s) return tl::unexpected(s.error());
      client_.Settle();
      long status = (*s)->status();
      if (status == 401 && round == 0) {
        HttpResponse challenge{status, (*s)->headers(), {}};
        STRATA_TRY(client_.Authenticate(challenge, scope));
        continue;
      }
      if (status == 404) {
        return Fail(ErrorCode::kNotFound,
                    "blob unknown to " + client_.Endpoint().host + "/" + repo_);
      }
      if (status == 200 && received_ > 0) {
        skip_ = received_;  // no Range support: read past what we have
      } else if (status == 206) {
        skip_ = 0;
      } else if (status != 200) {
        std::string body;
        char buf[4096];
        for (int i = 0; i < 16; ++i) {
          auto n = (*s)->Read(buf, sizeof buf);
          if (!n || *n == 0) break;
          body.append(buf, *n);
        }
        HttpResponse r{status, (*s)->headers(), body};
        last_status_ = status;
        return FailResponse(r, RegistryError(r));
      }
      stream_ = std::move(*s);
      return {};
    }
    return Fail(ErrorCode::kUnauthenticated, "unauthorized");
  }

  Result<size_t> Read(char* buffer, size_t size) override {
    if (done_) return 0;
    for (;;) {
      if (CancelRequested()) return tl::unexpected(CancelledError());
      if (!stream_) {
        auto opened = OpenWithRetries();
        if (!opened) {
          std::string after = last_failure_.empty() ? "" : " (after: " + last_failure_ + ")";
          return Rephrase(opened.error(),
                          "blob " + blob_.digest.str() + ": " + opened.error().message + after);
        }
      }
      auto n = stream_->Read(buffer, size);
      if (!n) {
        stream_.reset();
        last_failure_ = n.error().message;
        if (++failures_ >= client_.retry().attempts) {
          return Rephrase(n.error(),
                          "blob " + blob_.digest.str() + ": the download broke off after " +
                              std::to_string(received_) + " of " + std::to_string(blob_.size) +
                              " bytes: " + n.error().message);
        }
        continue;  // resume from received_
      }
      if (*n == 0) {
        stream_.reset();
        if (received_ != static_cast<uint64_t>(blob_.size)) {
          return Fail(ErrorCode::kCorrupt, "blob " + blob_.digest.str() +
                                               " is truncated: the registry sent " +
                                               std::to_string(received_) + " of " +
                                               std::to_string(blob_.size) + " bytes");
        }
        done_ = true;
        return 0;
      }
      size_t got = *n;
      if (skip_ > 0) {
        size_t drop = std::min<uint64_t>(skip_, got);
        skip_ -= drop;
        if (drop < got) std::memmove(buffer, buffer + drop, got - drop);
        got -= drop;
        if (got == 0) continue;
      }
      if (received_ + got > static_cast<uint64_t>(blob_.size)) {
        return Fail(ErrorCode::kCorrupt,
                    "blob " + blob_.digest.str() + ": the registry sent more than the " +
                        std::to_string(blob_.size) + " bytes its descriptor states");
      }
      received_ += got;
      if (progress_) progress_(received_);
      return got;
    }
  }

 private:
  Status OpenWithRetries() {
    int backoff = client_.retry().initial_backoff_ms;
    for (;;) {
      auto st = Open();
      if (st) return {};
      const bool transient = last_status_ == 0 || Retryable(last_status_);
      if (!transient || ++failures_ >= client_.retry().attempts || CancelRequested()) return st;
      last_status_ = 0;
      std::this_thread::sleep_for(std::chrono::milliseconds(backoff));
      backoff = std::min(backoff * 2, client_.retry().max_backoff_ms);
    }
  }

  DistributionClient& client_;
  std::string repo_;
  Descriptor blob_;
  ByteProgressFn progress_;
  std::unique_ptr<HttpStream> stream_;
  uint64_t received_ = 0;
  uint64_t skip_ = 0;
  int failures_ = 0;
  long last_status_ = 0;
  std::string last_failure_;  // why the previous connection ended early
  bool done_ = false;
};

Result<std::unique_ptr<Reader>> DistributionClient::GetBlob(const std::string& repo,
                                                            const Descriptor& blob,
                                                            const ByteProgressFn& progress) {
  auto reader = std::make_unique<ResumingBlobReader>(*this, repo, blob, progress);
  return std::unique_ptr<Reader>(std::move(reader));
}

Result<std::unique_ptr<Reader>> DistributionClient::GetBlobFrom(const std::string& repo,
                                                                const Descriptor& blob,
                                                                uint64_t offset,
                                                                const ByteProgressFn& progress) {
  if (offset > static_cast<uint64_t>(blob.size)) {
    return Fail(ErrorCode::kInvalidArgument,
                "blob " + blob.digest.str() + ": cannot start at byte " + std::to_string(offset) +
                    " of " + std::to_string(blob.size));
  }
  auto reader = std::make_unique<ResumingBlobReader>(*this, repo, blob, progress);
  reader->StartAt(offset);
  return std::unique_ptr<Reader>(std::move(reader));
}

}  // namespace

Result<std::unique_ptr<Reader>> RegistryClient::GetBlobFrom(const std::string& repo,
                                                            const Descriptor& blob, uint64_t offset,
                                                            const ByteProgressFn& progress) {
  STRATA_ASSIGN(reader, GetBlob(repo, blob, progress));
  std::string skip(64 << 10, '\0');
  while (offset > 0) {
    STRATA_ASSIGN(n, reader->Read(skip.data(), std::min<uint64_t>(offset, skip.size())));
    if (n == 0)
      return Fail(ErrorCode::kCorrupt, "blob " + blob.digest.str() + " is shorter than " +
                                           std::to_string(offset) + " bytes");
    offset -= n;
  }
  return reader;
}

Result<std::shared_ptr<RegistryClient>> RegistryClient::Create(RegistryEndpoint endpoint,
                                                               CredentialLookup credentials,
                                                               RetryPolicy retry) {
  if (endpoint.host.empty()) return Fail("registry endpoint without a host");
  return std::shared_ptr<RegistryClient>(
      std::make_shared<DistributionClient>(std::move(endpoint), std::move(credentials), retry));
}

}  // namespace strata
