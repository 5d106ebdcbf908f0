// The distribution API (OCI distribution spec v1.1, plus what the docker client needs) over a
// RegistryStorage: routing, the blob, upload, manifest, tag, catalog and referrers endpoints,
// spec error bodies, basic auth, read-only mode, limits and the access log.
#pragma once

#include <atomic>
#include <cstdio>
#include <memory>
#include <mutex>
#include <set>
#include <string>

#include "server/bearer_token.h"
#include "server/htpasswd.h"
#include "server/http_server.h"
#include "server/registry_storage.h"

namespace strata::server {

struct RegistryOptions {
  bool read_only = false;
  uint64_t max_manifest_bytes = 4 << 20;
  uint64_t max_upload_bytes = 0;          // 0: no limit
  int max_concurrent_uploads = 0;         // request bodies being received at once; 0: no limit
  const Htpasswd* htpasswd = nullptr;     // basic auth when set
  const TokenVerifier* tokens = nullptr;  // bearer tokens when set (instead of htpasswd)
  std::string realm = "strata-registry";
  std::FILE* access_log = nullptr;  // one line per request when set
};

class RegistryApi : public Handler {
 public:
  RegistryApi(RegistryStorage& storage, RegistryOptions options)
      : storage_(storage), options_(std::move(options)) {}

  Dispatch Handle(Request& request) override;
  void Completed(const Request& request, const Response& response, uint64_t body_bytes,
                 double seconds) override;

  // Upload bookkeeping shared with the body sinks.
  bool ClaimUpload(const std::string& id);
  void ReleaseUpload(const std::string& id);
  bool AcquireUploadSlot();
  void ReleaseUploadSlot() { active_uploads_.fetch_sub(1); }
  RegistryStorage& storage() { return storage_; }
  const RegistryOptions& options() const { return options_; }

 private:
  Dispatch WithToken(Request& request);
  Dispatch Route(Request& request, const VerifiedToken* token);
  Dispatch Blob(Request& request, const std::string& name, const std::string& digest_text);
  Dispatch StartUpload(Request& request, const std::string& name, const VerifiedToken* token);
  Dispatch ContinueUpload(Request& request, const std::string& name, const std::string& id);
  Dispatch Manifest(Request& request, const std::string& name, const std::string& reference);
  Dispatch TagsList(Request& request, const std::string& name);
  Dispatch Catalog(Request& request);
  Dispatch Referrers(Request& request, const std::string& name, const std::string& digest_text);

  RegistryStorage& storage_;
  RegistryOptions options_;
  std::mutex busy_mu_;
  std::set<std::string> busy_uploads_;  // uploads a request is writing to
  std::atomic<int> active_uploads_{0};
  std::mutex log_mu_;
};

// Headers every registry response carries (ServerOptions::common_headers).
inline const std::vector<std::pair<std::string, std::string>> kRegistryHeaders = {
    {"Docker-Distribution-API-Version", "registry/2.0"}};

// The spec's error body: {"errors":[{"code":...,"message":...,"detail":...}]}.
Response ErrorResponse(int status, std::string_view code, std::string_view message,
                       std::string_view detail = {});

}  // namespace strata::server
