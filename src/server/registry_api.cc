#include "server/registry_api.h"

#include <charconv>
#include <ctime>
#include <nlohmann/json.hpp>

#include "oci/manifest.h"
#include "reference/reference.h"
#include "util/json_depth.h"

namespace strata::server {
namespace {

using Json = nlohmann::json;

constexpr size_t kDefaultPageSize = 1000;

Dispatch Now(Response r) { return Dispatch{std::move(r), nullptr}; }

Dispatch Err(int status, std::string_view code, std::string_view message,
             std::string_view detail = {}) {
  return Now(ErrorResponse(status, code, message, detail));
}

Dispatch Internal(const Error& e) { return Err(500, "UNKNOWN", e.message); }

bool IsRepositoryName(const std::string& name) {
  return !name.empty() && name.size() <= 255 && IsValidPath(name);
}

// "bytes=a-b", "bytes=a-", "bytes=-n" against a blob of `size` bytes.
std::optional<std::pair<uint64_t, uint64_t>> ParseRange(std::string_view header, uint64_t size) {
  if (!header.starts_with("bytes=")) return std::nullopt;
  header.remove_prefix(6);
  if (header.find(',') != std::string_view::npos) return std::nullopt;  // one range only
  size_t dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  auto number = [](std::string_view s, uint64_t& out) {
    auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return !s.empty() && ec == std::errc() && p == s.data() + s.size();
  };
  std::string_view a = header.substr(0, dash), b = header.substr(dash + 1);
  uint64_t first = 0, last = 0;
  if (a.empty()) {
    uint64_t suffix = 0;
    if (!number(b, suffix) || suffix == 0 || size == 0) return std::nullopt;
    first = suffix >= size ? 0 : size - suffix;
    last = size - 1;
  } else {
    if (!number(a, first) || first >= size) return std::nullopt;
    if (b.empty()) {
      last = size - 1;
    } else if (!number(b, last) || last < first) {
      return std::nullopt;
    }
    last = std::min(last, size - 1);
  }
  return std::make_pair(first, last);
}

// Content-Range of an upload chunk: "a-b" (docker) or "bytes a-b/*".
std::optional<std::pair<uint64_t, uint64_t>> ParseChunkRange(std::string_view header) {
  if (header.starts_with("bytes ")) header.remove_prefix(6);
  if (size_t slash = header.find('/'); slash != std::string_view::npos) {
    header = header.substr(0, slash);
  }
  size_t dash = header.find('-');
  if (dash == std::string_view::npos) return std::nullopt;
  uint64_t a = 0, b = 0;
  auto [p1, e1] = std::from_chars(header.data(), header.data() + dash, a);
  auto [p2, e2] = std::from_chars(header.data() + dash + 1, header.data() + header.size(), b);
  if (e1 != std::errc() || e2 != std::errc() || p1 != header.data() + dash ||
      p2 != header.data() + header.size() || b < a) {
    return std::nullopt;
  }
  return std::make_pair(a, b);
}

std::string UploadLocation(const std::string& name, const std::string& id) {
  return "/v2/" + name + "/blobs/uploads/" + id;
}

std::string RangeHeader(uint64_t size) { return "0-" + std::to_string(size == 0 ? 0 : size - 1); }

Response UploadStatus(int status, const Upload& upload) {
  Response r(status);
  r.Set("Location", UploadLocation(upload.repository(), upload.id()));
  r.Set("Range", RangeHeader(upload.size()));
  r.Set("Docker-Upload-UUID", upload.id());
  return r;
}

Response BlobCreated(const std::string& name, const Digest& digest) {
  Response r(201);
  r.Set("Location", "/v2/" + name + "/blobs/" + digest.str());
  r.Set("Docker-Content-Digest", digest.str());
  return r;
}

// The media type a manifest declares: Content-Type (without parameters) unless it is generic,
// then its mediaType field, then its shape (OCI allows leaving mediaType out).
std::string ManifestMediaType(std::string_view content_type, const Json& doc) {
  std::string type(content_type);
  if (size_t semi = type.find(';'); semi != std::string::npos) type.resize(semi);
  while (!type.empty() && type.back() == ' ') type.pop_back();
  if (!type.empty() && type != "application/json" && type != "application/octet-stream") {
    return type;
  }
  if (doc.contains("mediaType") && doc["mediaType"].is_string()) return doc["mediaType"];
  if (doc.contains("manifests")) return std::string(kOciIndexMediaType);
  return std::string(kOciManifestMediaType);
}

bool IsIndexType(std::string_view t) {
  return t == kOciIndexMediaType || t == kDockerManifestListMediaType;
}
bool IsManifestType(std::string_view t) {
  return t == kOciManifestMediaType || t == kDockerManifestMediaType;
}

// The digest of a descriptor object, or an error naming where it is.
Result<Digest> DescriptorDigest(const Json& descriptor, const std::string& where) {
  if (!descriptor.is_object() || !descriptor.contains("digest") ||
      !descriptor["digest"].is_string()) {
    return Fail(where + ": descriptor without a digest");
  }
  auto d = Digest::Parse(descriptor["digest"].get<std::string>());
  if (!d) return Fail(where + ": " + d.error().message);
  return *d;
}

// Buffers a body up to a limit (manifests), then hands it to `finish`.
template <typename FinishFn>
class BufferSink : public BodySink {
 public:
  BufferSink(uint64_t limit, FinishFn finish) : limit_(limit), finish_(std::move(finish)) {}
  Status Write(std::string_view data) override {
    if (body_.size() + data.size() > limit_) {
      too_big_ = true;
      return Fail("manifest larger than the limit of " + std::to_string(limit_) + " bytes");
    }
    body_.append(data);
    return {};
  }
  Response Finish() override { return finish_(body_); }
  Response Failed(const Error& error) override {
    if (too_big_) return ErrorResponse(413, "SIZE_INVALID", error.message);
    return ErrorResponse(400, "MANIFEST_INVALID", error.message);
  }

 private:
  uint64_t limit_;
  FinishFn finish_;
  std::string body_;
  bool too_big_ = false;
};

// Appends a request body to an upload; commits it at the end when a digest was given.
class UploadSink : public BodySink {
 public:
  UploadSink(RegistryApi& api, std::shared_ptr<Upload> upload, std::optional<Digest> commit,
             int done_status)
      : api_(api), upload_(std::move(upload)), commit_(std::move(commit)), status_(done_status) {}
  ~UploadSink() override {
    api_.ReleaseUpload(upload_->id());
    api_.ReleaseUploadSlot();
  }
  Status Write(std::string_view data) override {
    uint64_t limit = api_.options().max_upload_bytes;
    if (limit && upload_->size() + data.size() > limit) {
      too_big_ = true;
      return Fail("blob larger than the limit of " + std::to_string(limit) + " bytes");
    }
    return upload_->Append(data);
  }
  Response Finish() override {
    if (commit_) {
      Status st = api_.storage().CommitUpload(*upload_, *commit_);
      if (!st) return ErrorResponse(400, "DIGEST_INVALID", st.error().message);
      return BlobCreated(upload_->repository(), *commit_);
    }
    Status st = upload_->Sync();
    if (!st) return ErrorResponse(500, "UNKNOWN", st.error().message);
    return UploadStatus(status_, *upload_);
  }
  Response Failed(const Error& error) override {
    if (too_big_) {
      (void)api_.storage().CancelUpload(*upload_);
      return ErrorResponse(413, "SIZE_INVALID", error.message);
    }
    return ErrorResponse(400, "BLOB_UPLOAD_INVALID", error.message);
  }

 private:
  RegistryApi& api_;
  std::shared_ptr<Upload> upload_;
  std::optional<Digest> commit_;
  int status_;
  bool too_big_ = false;
};

std::string NextLink(const std::string& base, const std::string& last, size_t n) {
  return "<" + base + "?last=" + PercentEncode(last) + "&n=" + std::to_string(n) +
         ">; rel=\"next\"";
}

Result<size_t> PageSize(const Request& request) {
  auto n = request.Query("n");
  if (!n) return kDefaultPageSize;
  size_t value = 0;
  auto [p, ec] = std::from_chars(n->data(), n->data() + n->size(), value);
  if (n->empty() || ec != std::errc() || p != n->data() + n->size()) {
    return Fail("n must be a number");
  }
  return std::min(value, size_t{100000});
}

enum class RouteKind { kNone, kBase, kCatalog, kTags, kUpload, kBlob, kManifest, kReferrers };
struct RoutePath {
  RouteKind kind = RouteKind::kNone;
  std::string name;  // the repository (not yet validated)
  std::string tail;  // upload id, digest or reference
};

// Which endpoint a path names. Repository names contain slashes, so the markers are found
// from the end.
RoutePath ParseRoutePath(const std::string& path) {
  RoutePath r;
  if (path == "/v2/" || path == "/v2") {
    r.kind = RouteKind::kBase;
    return r;
  }
  if (!path.starts_with("/v2/")) return r;
  if (path == "/v2/_catalog") {
    r.kind = RouteKind::kCatalog;
    return r;
  }
  std::string rest = path.substr(4);
  auto split = [&](std::string_view marker) {
    size_t at = rest.rfind(marker);
    if (at == std::string::npos || at == 0) return false;
    r.name = rest.substr(0, at);
    r.tail = rest.substr(at + marker.size());
    return true;
  };
  if (rest.ends_with("/tags/list")) {
    r.name = rest.substr(0, rest.size() - 10);
    r.kind = RouteKind::kTags;
  } else if (split("/blobs/uploads/") ||
             (rest.ends_with("/blobs/uploads") && split("/blobs/uploads"))) {
    r.kind = RouteKind::kUpload;
  } else if (split("/blobs/")) {
    r.kind = RouteKind::kBlob;
  } else if (split("/manifests/")) {
    r.kind = RouteKind::kManifest;
  } else if (split("/referrers/")) {
    r.kind = RouteKind::kReferrers;
  }
  return r;
}

// The token scope a request needs: "" for /v2/ (any valid token), else type:name:actions.
struct NeededAccess {
  std::string type;
  std::string name;
  std::vector<std::string> actions;
  std::string Scope() const {
    if (type.empty()) return "";
    std::string s = type + ":" + name + ":";
    for (size_t i = 0; i < actions.size(); ++i) s += (i ? "," : "") + actions[i];
    return s;
  }
};

NeededAccess NeededFor(const Request& request) {
  RoutePath route = ParseRoutePath(request.path);
  if (route.kind == RouteKind::kBase || route.kind == RouteKind::kNone) return {};
  if (route.kind == RouteKind::kCatalog) return {"registry", "catalog", {"*"}};
  const std::string& m = request.method;
  if (m == "GET" || m == "HEAD") return {"repository", route.name, {"pull"}};
  if (m == "DELETE") return {"repository", route.name, {"delete"}};
  return {"repository", route.name, {"pull", "push"}};
}

}  // namespace

Response ErrorResponse(int status, std::string_view code, std::string_view message,
                       std::string_view detail) {
  Json error = {{"code", code}, {"message", message}};
  if (!detail.empty()) error["detail"] = detail;
  Response r(status);
  r.body = Json{{"errors", Json::array({error})}}.dump() + "\n";
  r.Set("Content-Type", "application/json; charset=utf-8");
  return r;
}

bool RegistryApi::ClaimUpload(const std::string& id) {
  std::lock_guard<std::mutex> lock(busy_mu_);
  return busy_uploads_.insert(id).second;
}

void RegistryApi::ReleaseUpload(const std::string& id) {
  std::lock_guard<std::mutex> lock(busy_mu_);
  busy_uploads_.erase(id);
}

bool RegistryApi::AcquireUploadSlot() {
  int now = active_uploads_.fetch_add(1) + 1;
  if (options_.max_concurrent_uploads > 0 && now > options_.max_concurrent_uploads) {
    active_uploads_.fetch_sub(1);
    return false;
  }
  return true;
}

Dispatch RegistryApi::Handle(Request& request) {
  Dispatch d;
  if (request.path == "/debug/health") {
    d.response.body = "{}\n";
    d.response.Set("Content-Type", "application/json");
  } else if (options_.tokens) {
    d = WithToken(request);
  } else if (!options_.htpasswd) {
    d = Route(request, nullptr);
  } else if (auto user =
                 options_.htpasswd->Authenticate(request.Header("authorization").value_or(""))) {
    request.user = *user;
    d = Route(request, nullptr);
  } else {
    d = Err(401, "UNAUTHORIZED", "authentication required");
    d.response.Set("WWW-Authenticate", "Basic realm=\"" + options_.realm + "\"");
  }
  return d;
}

Dispatch RegistryApi::WithToken(Request& request) {
  NeededAccess need = NeededFor(request);
  auto header = request.Header("authorization");
  auto token =
      options_.tokens->Verify(header.value_or(""), static_cast<int64_t>(std::time(nullptr)));
  std::string problem;
  if (!token) {
    problem = header ? token.error().message : "authentication required";
  } else {
    for (const std::string& action : need.actions) {
      if (!token->Allows(need.type, need.name, action)) problem = "insufficient scope";
    }
  }
  if (problem.empty()) {
    request.user = token->subject.empty() ? "-" : token->subject;
    return Route(request, &*token);
  }
  Dispatch d = Err(401, "UNAUTHORIZED", problem, need.Scope());
  std::string error = !header ? "" : token ? "insufficient_scope" : "invalid_token";
  d.response.Set("WWW-Authenticate", options_.tokens->Challenge(need.Scope(), error));
  return d;
}

Dispatch RegistryApi::Route(Request& request, const VerifiedToken* token) {
  const std::string& path = request.path;
  const std::string& method = request.method;
  bool read = method == "GET" || method == "HEAD";
  RoutePath route = ParseRoutePath(path);
  if (route.kind == RouteKind::kBase) {
    if (!read) return Err(405, "UNSUPPORTED", "method not allowed");
    Response r;
    r.body = "{}";
    r.Set("Content-Type", "application/json");
    return Now(std::move(r));
  }
  if (route.kind == RouteKind::kNone) return Err(404, "NOT_FOUND", "no such endpoint");
  if (!read && options_.read_only) {
    return Err(405, "UNSUPPORTED", "the registry is read-only");
  }
  if (route.kind == RouteKind::kCatalog) {
    if (!read) return Err(405, "UNSUPPORTED", "method not allowed");
    return Catalog(request);
  }
  const std::string& name = route.name;
  const std::string& tail = route.tail;
  if (!IsRepositoryName(name)) {
    return Err(400, "NAME_INVALID", "invalid repository name", name);
  }
  switch (route.kind) {
    case RouteKind::kTags:
      if (!read) return Err(405, "UNSUPPORTED", "method not allowed");
      return TagsList(request, name);
    case RouteKind::kUpload:
      if (tail.empty()) {
        if (method != "POST") return Err(405, "UNSUPPORTED", "method not allowed");
        return StartUpload(request, name, token);
      }
      return ContinueUpload(request, name, tail);
    case RouteKind::kBlob:
      return Blob(request, name, tail);
    case RouteKind::kManifest:
      return Manifest(request, name, tail);
    case RouteKind::kReferrers:
      if (!read) return Err(405, "UNSUPPORTED", "method not allowed");
      return Referrers(request, name, tail);
    default:
      return Err(404, "NOT_FOUND", "no such endpoint");
  }
}

Dispatch RegistryApi::Blob(Request& request, const std::string& name,
                           const std::string& digest_text) {
  auto digest = Digest::Parse(digest_text);
  if (!digest) return Err(400, "DIGEST_INVALID", digest.error().message, digest_text);
  if (request.method == "DELETE") {
    auto removed = storage_.UnlinkBlob(name, *digest);
    if (!removed) return Internal(removed.error());
    if (!*removed) return Err(404, "BLOB_UNKNOWN", "blob unknown to registry", digest->str());
    return Now(Response(202));
  }
  if (request.method != "GET" && request.method != "HEAD") {
    return Err(405, "UNSUPPORTED", "method not allowed");
  }
  auto linked = storage_.RepositoryHasBlob(name, *digest);
  if (!linked) return Internal(linked.error());
  if (!*linked) return Err(404, "BLOB_UNKNOWN", "blob unknown to registry", digest->str());
  // HEAD needs only the size: a stat, not an open file.
  BlobFile blob;
  if (request.method == "HEAD") {
    auto size = storage_.BlobSize(*digest);
    if (!size) return Internal(size.error());
    if (!*size) return Err(404, "BLOB_UNKNOWN", "blob unknown to registry", digest->str());
    blob.size = **size;
  } else {
    auto opened = storage_.OpenBlob(*digest);
    if (!opened && IsNotFound(opened.error())) {
      return Err(404, "BLOB_UNKNOWN", "blob unknown to registry", digest->str());
    }
    if (!opened) return Internal(opened.error());  // as HEAD's stat: not "unknown", unreadable
    blob = std::move(*opened);
  }
  Response r;
  r.Set("Content-Type", "application/octet-stream");
  r.Set("Docker-Content-Digest", digest->str());
  r.Set("ETag", "\"" + digest->str() + "\"");
  r.Set("Accept-Ranges", "bytes");
  r.Set("Cache-Control", "max-age=31536000");
  uint64_t first = 0, length = blob.size;
  if (auto range = request.Header("range")) {
    auto parsed = ParseRange(*range, blob.size);
    if (!parsed) {
      Response bad = ErrorResponse(416, "BLOB_UNKNOWN", "requested range not satisfiable");
      bad.Set("Content-Range", "bytes */" + std::to_string(blob.size));
      return Now(std::move(bad));
    }
    first = parsed->first;
    length = parsed->second - parsed->first + 1;
    r.status = 206;
    r.Set("Content-Range", "bytes " + std::to_string(parsed->first) + "-" +
                               std::to_string(parsed->second) + "/" + std::to_string(blob.size));
  }
  if (request.method == "HEAD") {
    r.Set("Content-Length", std::to_string(length));
    r.omit_body = true;
    return Now(std::move(r));
  }
  r.file = std::move(blob.fd);
  r.file_offset = first;
  r.file_length = length;
  return Now(std::move(r));
}

Dispatch RegistryApi::StartUpload(Request& request, const std::string& name,
                                  const VerifiedToken* token) {
  auto mount = request.Query("mount");
  auto from = request.Query("from");
  // With tokens, mounting needs pull access to the source too (else: an ordinary upload).
  if (mount && from && (!token || token->Allows("repository", *from, "pull"))) {
    auto digest = Digest::Parse(*mount);
    if (!digest) return Err(400, "DIGEST_INVALID", digest.error().message, *mount);
    if (IsRepositoryName(*from)) {
      auto has = storage_.RepositoryHasBlob(*from, *digest);
      if (!has) return Internal(has.error());
      if (*has) {
        Status linked = storage_.LinkBlob(name, *digest);
        if (linked) return Now(BlobCreated(name, *digest));
      }
    }
    // Not mountable: an ordinary upload, as the spec says.
  }
  std::optional<Digest> commit;
  if (auto digest_text = request.Query("digest")) {
    auto digest = Digest::Parse(*digest_text);
    if (!digest) return Err(400, "DIGEST_INVALID", digest.error().message, *digest_text);
    commit = *digest;
  }
  auto upload = storage_.CreateUpload(name);
  if (!upload) return Internal(upload.error());
  if (!commit) return Now(UploadStatus(202, **upload));
  // Monolithic: POST ?digest= with the whole blob as the body.
  if (!AcquireUploadSlot()) {
    (void)storage_.CancelUpload(**upload);
    return Err(429, "TOOMANYREQUESTS", "too many concurrent uploads");
  }
  ClaimUpload((*upload)->id());
  auto sink = std::make_unique<UploadSink>(*this, *upload, commit, 202);
  if (request.HasBody()) return Dispatch{Response(), std::move(sink)};
  return Now(sink->Finish());
}

Dispatch RegistryApi::ContinueUpload(Request& request, const std::string& name,
                                     const std::string& id) {
  auto found = storage_.FindUpload(name, id);
  if (!found) return Internal(found.error());
  std::shared_ptr<Upload> upload = *found;
  if (!upload) return Err(404, "BLOB_UPLOAD_UNKNOWN", "blob upload unknown to registry", id);
  const std::string& method = request.method;
  if (method == "GET" || method == "HEAD") return Now(UploadStatus(204, *upload));
  if (method == "DELETE") {
    if (!ClaimUpload(id)) return Err(409, "BLOB_UPLOAD_INVALID", "upload in use", id);
    Status st = storage_.CancelUpload(*upload);
    ReleaseUpload(id);
    if (!st) return Internal(st.error());
    return Now(Response(204));
  }
  if (method != "PATCH" && method != "PUT") return Err(405, "UNSUPPORTED", "method not allowed");
  std::optional<Digest> commit;
  if (method == "PUT") {
    auto digest_text = request.Query("digest");
    if (!digest_text) return Err(400, "DIGEST_INVALID", "the digest parameter is missing");
    auto digest = Digest::Parse(*digest_text);
    if (!digest) return Err(400, "DIGEST_INVALID", digest.error().message, *digest_text);
    commit = *digest;
  }
  if (auto range = request.Header("content-range"); range && request.HasBody()) {
    auto parsed = ParseChunkRange(*range);
    bool length_ok =
        !parsed || request.content_length < 0 ||
        parsed->second - parsed->first + 1 == static_cast<uint64_t>(request.content_length);
    if (!parsed || parsed->first != upload->size() || !length_ok) {
      Response r = ErrorResponse(
          416, "BLOB_UPLOAD_INVALID",
          "chunk out of order: the upload has " + std::to_string(upload->size()) + " bytes");
      r.Set("Location", UploadLocation(name, id));
      r.Set("Range", RangeHeader(upload->size()));
      return Now(std::move(r));
    }
  }
  if (!ClaimUpload(id)) return Err(409, "BLOB_UPLOAD_INVALID", "upload in use", id);
  if (!AcquireUploadSlot()) {
    ReleaseUpload(id);
    return Err(429, "TOOMANYREQUESTS", "too many concurrent uploads");
  }
  auto sink = std::make_unique<UploadSink>(*this, upload, commit, 202);
  if (request.HasBody()) return Dispatch{Response(), std::move(sink)};
  return Now(sink->Finish());
}

Dispatch RegistryApi::Manifest(Request& request, const std::string& name,
                               const std::string& reference) {
  bool by_digest = reference.find(':') != std::string::npos;
  if (by_digest) {
    auto d = Digest::Parse(reference);
    if (!d) return Err(400, "DIGEST_INVALID", d.error().message, reference);
  } else if (!IsValidTag(reference)) {
    // No manifest can have that name: reading or deleting it is a 404, as the spec and the OCI
    // conformance suite want; only a PUT of it is a client error.
    if (request.method != "PUT") {
      return Err(404, "MANIFEST_UNKNOWN", "manifest unknown", reference);
    }
    return Err(400, "TAG_INVALID", "invalid tag", reference);
  }
  const std::string& method = request.method;
  if (method == "GET" || method == "HEAD") {
    auto info = storage_.FindManifest(name, reference);
    if (!info) return Internal(info.error());
    if (!*info) return Err(404, "MANIFEST_UNKNOWN", "manifest unknown", reference);
    Response r;
    r.Set("Content-Type", (*info)->media_type);
    r.Set("Docker-Content-Digest", (*info)->digest.str());
    r.Set("ETag", "\"" + (*info)->digest.str() + "\"");
    if (method == "HEAD") {
      r.Set("Content-Length", std::to_string((*info)->size));
      r.omit_body = true;
      return Now(std::move(r));
    }
    auto blob = storage_.OpenBlob((*info)->digest);
    if (!blob) return Internal(blob.error());
    r.file = std::move(blob->fd);
    r.file_length = blob->size;
    return Now(std::move(r));
  }
  if (method == "DELETE") {
    Result<bool> removed = by_digest ? storage_.DeleteManifest(name, *Digest::Parse(reference))
                                     : storage_.DeleteTag(name, reference);
    if (!removed) return Internal(removed.error());
    if (!*removed) return Err(404, "MANIFEST_UNKNOWN", "manifest unknown", reference);
    return Now(Response(202));
  }
  if (method != "PUT") return Err(405, "UNSUPPORTED", "method not allowed");
  if (!request.chunked && request.content_length > 0 &&
      static_cast<uint64_t>(request.content_length) > options_.max_manifest_bytes) {
    return Err(413, "SIZE_INVALID",
               "manifest larger than the limit of " + std::to_string(options_.max_manifest_bytes) +
                   " bytes");
  }
  auto finish = [this, name, reference, by_digest,
                 content_type = std::string(request.Header("content-type").value_or(""))](
                    const std::string& body) -> Response {
    Digest digest = Digest::Sha256Of(body);
    if (by_digest && *Digest::Parse(reference) != digest) {
      return ErrorResponse(400, "DIGEST_INVALID",
                           "the manifest hashes to " + digest.str() + ", not " + reference);
    }
    bool too_deep = false;
    Json doc = ParseUntrustedJson(body, &too_deep);
    if (too_deep) {
      return ErrorResponse(400, "MANIFEST_INVALID",
                           "manifest nests objects and arrays deeper than " +
                               std::to_string(kMaxJsonDepth) + " levels");
    }
    if (doc.is_discarded() || !doc.is_object()) {
      return ErrorResponse(400, "MANIFEST_INVALID", "manifest is not a JSON object");
    }
    if (!doc.contains("schemaVersion") || doc["schemaVersion"] != 2) {
      return ErrorResponse(400, "MANIFEST_INVALID",
                           "unsupported manifest: schemaVersion must be 2 (schema 1 is refused)");
    }
    ManifestInfo info{.digest = digest,
                      .media_type = ManifestMediaType(content_type, doc),
                      .size = body.size(),
                      .subject = std::nullopt,
                      .artifact_type = "",
                      .annotations = ""};
    if (doc.contains("mediaType") && doc["mediaType"].is_string() &&
        doc["mediaType"] != info.media_type) {
      return ErrorResponse(400, "MANIFEST_INVALID",
                           "mediaType " + doc["mediaType"].get<std::string>() +
                               " does not match Content-Type " + info.media_type);
    }
    bool index = IsIndexType(info.media_type);
    if (!index && !IsManifestType(info.media_type)) {
      return ErrorResponse(400, "MANIFEST_INVALID",
                           "unsupported manifest media type " + info.media_type);
    }
    // Every blob it names must be in this repository (index: every manifest).
    std::vector<std::pair<Json, std::string>> refs;
    if (index) {
      if (!doc.contains("manifests") || !doc["manifests"].is_array()) {
        return ErrorResponse(400, "MANIFEST_INVALID", "index without a manifests array");
      }
      for (const Json& m : doc["manifests"]) refs.emplace_back(m, "manifests");
    } else {
      if (!doc.contains("config") || !doc.contains("layers") || !doc["layers"].is_array()) {
        return ErrorResponse(400, "MANIFEST_INVALID", "manifest without config and layers");
      }
      refs.emplace_back(doc["config"], "config");
      for (const Json& l : doc["layers"]) {
        if (l.is_object() && l.contains("urls")) continue;  // foreign layer: not ours to hold
        refs.emplace_back(l, "layers");
      }
      if (doc["config"].is_object() && doc["config"].contains("mediaType") &&
          doc["config"]["mediaType"].is_string()) {
        info.artifact_type = doc["config"]["mediaType"];
      }
    }
    for (const auto& [descriptor, where] : refs) {
      auto d = DescriptorDigest(descriptor, where);
      if (!d) return ErrorResponse(400, "MANIFEST_INVALID", d.error().message);
      Result<bool> present = false;
      if (index) {
        auto m = storage_.FindManifest(name, d->str());
        present = m ? Result<bool>(m->has_value()) : tl::unexpected(m.error());
      } else {
        present = storage_.RepositoryHasBlob(name, *d);
      }
      if (!present) return ErrorResponse(500, "UNKNOWN", present.error().message);
      if (!*present) {
        return ErrorResponse(
            400, index ? "MANIFEST_UNKNOWN" : "MANIFEST_BLOB_UNKNOWN",
            std::string(index ? "manifest" : "blob") + " unknown to this repository", d->str());
      }
    }
    if (doc.contains("artifactType") && doc["artifactType"].is_string()) {
      info.artifact_type = doc["artifactType"];
    }
    if (doc.contains("annotations") && doc["annotations"].is_object()) {
      info.annotations = doc["annotations"].dump();
    }
    if (doc.contains("subject")) {
      auto subject = DescriptorDigest(doc["subject"], "subject");
      if (!subject) return ErrorResponse(400, "MANIFEST_INVALID", subject.error().message);
      info.subject = *subject;
    }
    std::optional<std::string> tag;
    if (!by_digest) tag = reference;
    Status put = storage_.PutManifest(name, info, body, tag);
    if (!put) return ErrorResponse(500, "UNKNOWN", put.error().message);
    Response r(201);
    r.Set("Location", "/v2/" + name + "/manifests/" + digest.str());
    r.Set("Docker-Content-Digest", digest.str());
    if (info.subject) r.Set("OCI-Subject", info.subject->str());
    return r;
  };
  auto sink = std::make_unique<BufferSink<decltype(finish)>>(options_.max_manifest_bytes,
                                                             std::move(finish));
  if (!request.HasBody()) return Now(sink->Finish());
  return Dispatch{Response(), std::move(sink)};
}

Dispatch RegistryApi::TagsList(Request& request, const std::string& name) {
  auto n = PageSize(request);
  if (!n) return Err(400, "PAGINATION_NUMBER_INVALID", n.error().message);
  auto tags = storage_.Tags(name);
  if (!tags) return Internal(tags.error());
  if (tags->empty()) {
    auto exists = storage_.RepositoryExists(name);
    if (!exists) return Internal(exists.error());
    if (!*exists) return Err(404, "NAME_UNKNOWN", "repository name not known to registry", name);
  }
  std::string last = request.Query("last").value_or("");
  auto begin = std::upper_bound(tags->begin(), tags->end(), last);
  if (last.empty()) begin = tags->begin();
  Json list = Json::array();
  auto it = begin;
  for (; it != tags->end() && list.size() < *n; ++it) list.push_back(*it);
  Response r;
  r.Set("Content-Type", "application/json");
  r.body = Json{{"name", name}, {"tags", list}}.dump();
  if (it != tags->end() && !list.empty()) {
    r.Set("Link", NextLink("/v2/" + name + "/tags/list", list.back(), *n));
  }
  return Now(std::move(r));
}

Dispatch RegistryApi::Catalog(Request& request) {
  auto n = PageSize(request);
  if (!n) return Err(400, "PAGINATION_NUMBER_INVALID", n.error().message);
  std::string last = request.Query("last").value_or("");
  auto names = storage_.Repositories(last, *n + 1);
  if (!names) return Internal(names.error());
  bool more = names->size() > *n;
  if (more) names->resize(*n);
  Response r;
  r.Set("Content-Type", "application/json");
  r.body = Json{{"repositories", *names}}.dump();
  if (more && !names->empty()) r.Set("Link", NextLink("/v2/_catalog", names->back(), *n));
  return Now(std::move(r));
}

Dispatch RegistryApi::Referrers(Request& request, const std::string& name,
                                const std::string& digest_text) {
  auto digest = Digest::Parse(digest_text);
  if (!digest) return Err(400, "DIGEST_INVALID", digest.error().message, digest_text);
  auto referrers = storage_.Referrers(name, *digest);
  if (!referrers) return Internal(referrers.error());
  auto filter = request.Query("artifactType");
  Json manifests = Json::array();
  for (const ManifestInfo& m : *referrers) {
    if (filter && m.artifact_type != *filter) continue;
    Json d = {{"mediaType", m.media_type}, {"digest", m.digest.str()}, {"size", m.size}};
    if (!m.artifact_type.empty()) d["artifactType"] = m.artifact_type;
    if (!m.annotations.empty()) {
      Json a = ParseUntrustedJson(m.annotations);
      if (a.is_object()) d["annotations"] = a;
    }
    manifests.push_back(std::move(d));
  }
  Response r;
  r.Set("Content-Type", std::string(kOciIndexMediaType));
  if (filter) r.Set("OCI-Filters-Applied", "artifactType");
  r.body = Json{{"schemaVersion", 2}, {"mediaType", kOciIndexMediaType}, {"manifests", manifests}}
               .dump();
  return Now(std::move(r));
}

void RegistryApi::Completed(const Request& request, const Response& response, uint64_t body_bytes,
                            double seconds) {
  if (!options_.access_log) return;
  char when[64];
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  std::strftime(when, sizeof when, "%d/%b/%Y:%H:%M:%S +0000", &tm);
  std::lock_guard<std::mutex> lock(log_mu_);
  std::fprintf(options_.access_log, "%s - %s [%s] \"%s %s\" %d %llu %.6f\n", request.peer.c_str(),
               request.user.empty() ? "-" : request.user.c_str(), when, request.method.c_str(),
               request.target.c_str(), response.status, static_cast<unsigned long long>(body_bytes),
               seconds);
  std::fflush(options_.access_log);
}

}  // namespace strata::server
