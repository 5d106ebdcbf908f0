// An event-driven HTTP/1.1 server: one epoll loop per thread, all waiting on one listening socket
// (EPOLLEXCLUSIVE: a new connection wakes one idle loop, which then serves it alone, so no lock
// is shared on the hot path). The port is this process's alone: a second server on the same
// address fails with "address already in use" (no SO_REUSEPORT).
// Keep-alive and pipelining; request bodies (Content-Length or chunked) are streamed to the
// handler's BodySink as they arrive, never buffered whole; file bodies go out with sendfile.
// Handlers run on the loop thread and must not block on the network (disk I/O is fine).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "server/http_message.h"
#include "util/file.h"
#include "util/result.h"

struct ssl_ctx_st;  // OpenSSL's SSL_CTX

namespace strata::server {

// Receives a request body. Write() errors end the request with Failed()'s response.
class BodySink {
 public:
  virtual ~BodySink() = default;  // also when the client goes away mid-body
  virtual Status Write(std::string_view data) = 0;
  virtual Response Finish() = 0;                    // the whole body arrived
  virtual Response Failed(const Error& error) = 0;  // Write() failed or the framing was bad
};

// What a handler makes of a request head: a response now, or a sink for the body whose
// Finish() gives the response.
struct Dispatch {
  Response response;
  std::unique_ptr<BodySink> sink;
};

class Handler {
 public:
  virtual ~Handler() = default;
  virtual Dispatch Handle(Request& request) = 0;
  // After a response went out (or the connection broke while sending it).
  virtual void Completed(const Request& request, const Response& response, uint64_t body_bytes,
                         double seconds) = 0;
};

struct ServerOptions {
  std::string address = "127.0.0.1:5000";  // host:port, [v6]:port or :port (all interfaces)
  int threads = 0;                         // 0: one per core
  size_t max_head_bytes = 64 << 10;
  int idle_timeout_seconds = 120;  // a connection silent this long (even mid-body) is closed
  // A request head must arrive whole within this long of its first byte (Go's ReadHeaderTimeout):
  // a client trickling a byte at a time cannot hold a connection by staying just short of idle.
  int header_timeout_seconds = 60;
  // A request body must bring at least min_body_bytes_per_window bytes in every window of
  // body_timeout_seconds (about 270 bytes/s by default), or the connection is closed.
  int body_timeout_seconds = 60;
  uint64_t min_body_bytes_per_window = 16 << 10;
  // TLS (OpenSSL, TLS 1.2+) when both are set: a PEM certificate chain and its private key.
  std::string tls_cert_file;
  std::string tls_key_file;
  // Added to every response (after the handler's own headers).
  std::vector<std::pair<std::string, std::string>> common_headers;
};

class HttpServer {
 public:
  // Binds and listens (so a port of 0 is resolved when this returns).
  static Result<std::unique_ptr<HttpServer>> Listen(const ServerOptions& options, Handler& handler);
  ~HttpServer();

  std::string address() const { return bound_address_; }  // "127.0.0.1:41234"
  // Serves until Stop(); runs the loops on threads - 1 new threads and the calling one.
  Status Run();
  // Safe from any thread and from a signal handler.
  void Stop();

 private:
  class Loop;
  HttpServer(ServerOptions options, Handler& handler);

  ServerOptions options_;
  Handler& handler_;
  std::string bound_address_;
  ssl_ctx_st* tls_ = nullptr;
  UniqueFd listener_;  // shared by the loops (declared first: closed after them)
  std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace strata::server
