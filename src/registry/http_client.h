// HTTP/1.1 over libcurl for the registry client: buffered requests with a capped body, and
// streaming GETs whose body is read as a strata::Reader, driven by curl's multi interface from
// the reading thread (no helper thread, no copy of a whole blob). TLS is OpenSSL with the system
// CAs, plus a CA file / client certificate per endpoint, or no verification for insecure
// registries. Connections are reused through a pool of easy handles. Thread-safe.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/io.h"
#include "util/result.h"

namespace strata {

class HttpHeaders {
 public:
  void Add(std::string name, std::string value) {
    items_.emplace_back(std::move(name), std::move(value));
  }
  void Clear() { items_.clear(); }
  // The first value of a header, case-insensitively.
  std::optional<std::string> Get(std::string_view name) const;
  std::vector<std::string> GetAll(std::string_view name) const;

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct TlsOptions {
  bool verify = true;
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
};

struct HttpRequest {
  std::string method = "GET";
  std::string url;
  std::vector<std::string> headers;  // "Name: value"
  std::string body;                  // sent when body_reader is null (and non-empty or PUT/POST)
  Reader* body_reader = nullptr;     // streamed body
  int64_t body_size = -1;            // of body_reader; -1: chunked transfer encoding
  bool follow_redirects = false;     // Authorization is never sent to another host
};

struct HttpResponse {
  long status = 0;
  HttpHeaders headers;
  std::string body;
};

// A response whose body is being received.
class HttpStream : public Reader {
 public:
  ~HttpStream() override;
  long status() const { return status_; }
  const HttpHeaders& headers() const { return headers_; }
  Result<size_t> Read(char* buffer, size_t size) override;

  struct Transfer;  // libcurl state (http_client.cc)

 private:
  friend class HttpClient;
  explicit HttpStream(std::unique_ptr<Transfer> t);
  std::unique_ptr<Transfer> t_;
  long status_ = 0;
  HttpHeaders headers_;
};

class HttpClient {
 public:
  explicit HttpClient(TlsOptions tls);
  ~HttpClient();
  HttpClient(const HttpClient&) = delete;
  HttpClient& operator=(const HttpClient&) = delete;

  // Failure means no HTTP response (connection, TLS, timeout); the message says which. A
  // network failure is kUnavailable, with tls_handshake set when the TLS handshake failed (a
  // plain-http server on the port); a certificate that does not verify is kUnknown. Bodies over
  // max_body fail rather than being cut.
  Result<HttpResponse> Do(const HttpRequest& request, uint64_t max_body = 4 << 20);
  // Returns once the status line and headers are in; the body is read from the stream.
  Result<std::unique_ptr<HttpStream>> Stream(const HttpRequest& request);

  // The pool of curl easy handles (keeps connections open between requests).
  void* TakeHandle();
  void ReturnHandle(void* handle);

 private:
  TlsOptions tls_;
  std::mutex mu_;
  std::vector<void*> idle_;
};

}  // namespace strata
