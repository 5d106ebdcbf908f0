// The client side of the distribution API (OCI distribution spec v1.1 / Docker registry v2) for
// one registry endpoint: manifests, blobs, uploads, mounts and tag lists, over HttpClient, with
// the registry's auth challenge answered transparently (basic, or a bearer token fetched from
// the token service for the repository scope and reused until it expires). Transient failures
// (connection errors, 5xx, 429) are retried with backoff; a blob download that breaks off is
// resumed with a Range request. Nothing here verifies blob bytes: callers hash what they read.
// Thread-safe: one client is shared by the parallel layer downloads of a pull.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "oci/manifest.h"
#include "transport/image_transport.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

struct Credentials {
  std::string username;
  std::string password;        // or the identity token when username is "<token>"
  std::string identity_token;  // docker's IdentityToken (OAuth refresh token), if any
};

// Where and how to reach one registry (or one of its mirrors).
struct RegistryEndpoint {
  std::string host;  // "registry-1.docker.io", "127.0.0.1:5000", "[::1]:5000"
  // An insecure registry, as docker treats one: https without certificate checks, falling back
  // to plain http when the registry does not speak TLS. Loopback registries are insecure by
  // default (registry policy decides).
  bool insecure = false;
  std::string ca_file;    // extra CA bundle for this registry (PEM), if any
  std::string cert_file;  // client certificate (mutual TLS), if any
  std::string key_file;
};

struct RetryPolicy {
  int attempts = 5;              // total tries of one request
  int initial_backoff_ms = 200;  // doubled after each failure
  int max_backoff_ms = 5000;
};

// Looks up credentials for a registry host ("docker.io" for Docker Hub); nullopt = anonymous.
using CredentialLookup = std::function<std::optional<Credentials>(const std::string& host)>;

// Bytes transferred so far for a blob being downloaded or uploaded (for progress bars).
using ByteProgressFn = std::function<void(uint64_t done)>;

class RegistryClient {
 public:
  static Result<std::shared_ptr<RegistryClient>> Create(RegistryEndpoint endpoint,
                                                        CredentialLookup credentials,
                                                        RetryPolicy retry = {});
  virtual ~RegistryClient() = default;

  // GET /v2/: checks the registry answers the v2 API (and that credentials are accepted).
  virtual Status Ping() = 0;

  // GET /v2/<repo>/manifests/<reference> (a tag or a digest) with an Accept header for Docker
  // schema2, manifest lists, OCI manifests and indexes. Refuses bodies over max_size (4 MiB by
  // default, as containerd) and schema 1 manifests ("unsupported legacy manifest"). When
  // `reference` is a digest, the bytes must hash to it. "manifest unknown" errors name repo and
  // reference.
  virtual Result<ManifestBlob> GetManifest(const std::string& repo, const std::string& reference,
                                           uint64_t max_size = 4 << 20) = 0;
  // HEAD of the same: the descriptor (media type, Docker-Content-Digest, size), or nullopt on 404.
  virtual Result<std::optional<Descriptor>> HeadManifest(const std::string& repo,
                                                         const std::string& reference) = 0;
  // PUT /v2/<repo>/manifests/<reference>; returns the digest the registry reports (checked
  // against the bytes' own digest).
  virtual Result<Digest> PutManifest(const std::string& repo, const std::string& reference,
                                     const ManifestBlob& manifest) = 0;

  // GET /v2/<repo>/blobs/<digest>, following redirects. The reader streams the body (never
  // buffering the whole blob), resumes from where it was with Range after a dropped connection,
  // and fails (naming the blob) on a truncated body or after the retries are used up.
  virtual Result<std::unique_ptr<Reader>> GetBlob(const std::string& repo, const Descriptor& blob,
                                                  const ByteProgressFn& progress = nullptr) = 0;
  // The same from byte `offset` on (a Range request; a registry without Range support sends it
  // all and the first `offset` bytes are skipped), to continue a download an earlier attempt
  // kept part of. Progress counts from the blob's start. The default reads and skips.
  virtual Result<std::unique_ptr<Reader>> GetBlobFrom(const std::string& repo,
                                                      const Descriptor& blob, uint64_t offset,
                                                      const ByteProgressFn& progress = nullptr);
  // HEAD /v2/<repo>/blobs/<digest>: whether the repository has it.
  virtual Result<bool> BlobExists(const std::string& repo, const Digest& digest) = 0;
  // POST /v2/<repo>/blobs/uploads/?mount=<digest>&from=<from_repo>: true when the registry
  // mounted it (201); false when it did not (the upload session it opened instead is cancelled).
  virtual Result<bool> MountBlob(const std::string& repo, const Digest& digest,
                                 const std::string& from_repo) = 0;
  // Uploads a blob whose digest is known: POST then one PUT with the whole body (chunk_size 0),
  // or PATCH chunks of chunk_size bytes then PUT ?digest=. The body is streamed from what
  // `open` returns, which must produce exactly blob.size bytes; a failed attempt is retried
  // from the start with a fresh reader from `open`.
  using OpenContent = std::function<Result<std::unique_ptr<Reader>>()>;
  virtual Status UploadBlob(const std::string& repo, const Descriptor& blob,
                            const OpenContent& open, uint64_t chunk_size = 0,
                            const ByteProgressFn& progress = nullptr) = 0;
  // Uploads a stream whose digest is not known in advance (a layer compressed on the fly, as
  // docker push does): POST, one streamed PATCH (chunked transfer encoding, hashed while it is
  // sent), then PUT ?digest=<sha256 of what was sent>. Returns digest and size. No retry (the
  // caller re-runs the producer).
  virtual Result<Descriptor> UploadStream(const std::string& repo, Reader& content,
                                          const std::string& media_type,
                                          const ByteProgressFn& progress = nullptr) = 0;

  // GET /v2/<repo>/tags/list, following Link pagination (n=page_size).
  virtual Result<std::vector<std::string>> ListTags(const std::string& repo,
                                                    int page_size = 1000) = 0;
};

}  // namespace strata
