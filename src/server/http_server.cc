#include "server/http_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/sendfile.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <climits>
#include <cstring>
#include <optional>
#include <thread>
#include <unordered_map>

namespace strata::server {
namespace {

using Clock = std::chrono::steady_clock;

constexpr size_t kReadChunk = 256 << 10;
// An idle connection's input buffer is released when it holds more than this.
constexpr size_t kIdleBufferBytes = 16 << 10;
constexpr size_t kSendfileChunk = 8 << 20;
// A body the handler does not want is read and dropped when it is this small; a larger one
// ends the connection after the response instead of being received for nothing.
constexpr int64_t kMaxDiscardedBody = 1 << 20;

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

std::string SslError(const std::string& what) {
  char buf[256] = "unknown error";
  if (unsigned long e = ::ERR_get_error()) ::ERR_error_string_n(e, buf, sizeof buf);
  ::ERR_clear_error();
  return what + ": " + buf;
}

struct SslFree {
  void operator()(SSL* ssl) const { ::SSL_free(ssl); }
};

struct HostPort {
  std::string host;  // empty: all interfaces
  std::string port;
};

Result<HostPort> SplitAddress(const std::string& address) {
  HostPort hp;
  if (!address.empty() && address[0] == '[') {
    size_t close = address.find(']');
    if (close == std::string::npos || close + 1 >= address.size() || address[close + 1] != ':') {
      return Fail("listen address \"" + address + "\": expected [ipv6]:port");
    }
    hp.host = address.substr(1, close - 1);
    hp.port = address.substr(close + 2);
  } else {
    size_t colon = address.rfind(':');
    if (colon == std::string::npos) return Fail("listen address \"" + address + "\": no port");
    hp.host = address.substr(0, colon);
    hp.port = address.substr(colon + 1);
  }
  if (hp.port.empty() || hp.port.find_first_not_of("0123456789") != std::string::npos) {
    return Fail("listen address \"" + address + "\": bad port");
  }
  return hp;
}

std::string SockaddrText(const sockaddr_storage& ss) {
  char host[INET6_ADDRSTRLEN] = {};
  int port = 0;
  if (ss.ss_family == AF_INET6) {
    auto* a = reinterpret_cast<const sockaddr_in6*>(&ss);
    ::inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
    port = ntohs(a->sin6_port);
    return "[" + std::string(host) + "]:" + std::to_string(port);
  }
  auto* a = reinterpret_cast<const sockaddr_in*>(&ss);
  ::inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
  port = ntohs(a->sin_port);
  return std::string(host) + ":" + std::to_string(port);
}

Result<UniqueFd> OpenListener(const HostPort& hp) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  int rc =
      ::getaddrinfo(hp.host.empty() ? nullptr : hp.host.c_str(), hp.port.c_str(), &hints, &res);
  if (rc != 0) return Fail("resolving " + hp.host + ": " + ::gai_strerror(rc));
  std::string last_error = "no address";
  for (addrinfo* ai = res; ai; ai = ai->ai_next) {
    UniqueFd fd(::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, 0));
    if (!fd) {
      last_error = Errno("socket");
      continue;
    }
    // SO_REUSEADDR only: a port in TIME_WAIT may be bound again, a port another process listens
    // on may not (no SO_REUSEPORT, which would let a second server take half the connections).
    int one = 1;
    ::setsockopt(fd.get(), SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (::bind(fd.get(), ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd.get(), 1024) != 0) {
      const std::string where = "listening on " + hp.host + ":" + hp.port;
      last_error = errno == EADDRINUSE
                       ? where +
                             ": address already in use (another server has this port: stop "
                             "it or choose another --addr)"
                       : Errno(where);
      continue;
    }
    ::freeaddrinfo(res);
    return fd;
  }
  ::freeaddrinfo(res);
  return Fail(last_error);
}

}  // namespace

// One event loop: its connections, the server's listening socket (shared with the other loops;
// EPOLLEXCLUSIVE wakes one idle loop per new connection), and an eventfd to stop it.
class HttpServer::Loop {
 public:
  Loop(const ServerOptions& options, Handler& handler, int listener, SSL_CTX* tls)
      : options_(options), handler_(handler), listener_(listener), tls_(tls) {}

  Status Init();
  void Run();
  void Stop() {
    uint64_t one = 1;
    [[maybe_unused]] ssize_t n = ::write(stop_fd_.get(), &one, sizeof one);
  }

 private:
  enum class Phase { kHead, kBody, kWrite };
  struct Connection {
    UniqueFd fd;
    std::unique_ptr<SSL, SslFree> ssl;  // TLS: every byte goes through it (no sendfile)
    std::string file_chunk;             // TLS: file bytes read, not yet written
    size_t file_chunk_pos = 0;
    std::string peer;
    std::string in;
    size_t in_pos = 0;
    Phase phase = Phase::kHead;
    Request request;
    std::unique_ptr<BodySink> sink;
    bool discard = false;   // dropping a body nobody wants
    int64_t body_left = 0;  // Content-Length bodies
    ChunkedDecoder chunked;
    Response response;
    std::string out;
    size_t out_pos = 0;
    uint64_t file_sent = 0;
    bool keep_alive = true;
    bool want_write = false;  // registered for EPOLLOUT
    Clock::time_point started;
    Clock::time_point active;
    // The first byte of the head being read (unset while no request is under way): the whole
    // head must arrive within header_timeout_seconds, however the bytes trickle in.
    std::optional<Clock::time_point> head_started;
    // Body rate: bytes of the body received since body_window began.
    Clock::time_point body_window;
    uint64_t body_window_bytes = 0;
  };

  void Accept();
  void OnEvent(int fd, uint32_t events);
  // Socket I/O, plain or through TLS: bytes moved, 0 for "try again later" (EAGAIN, or TLS
  // wanting the other direction), -1 for a dead connection (or EOF on receive).
  ssize_t Receive(Connection& c, char* buffer, size_t size);
  ssize_t Send(Connection& c, const char* data, size_t size, bool more);
  ssize_t SendFile(Connection& c, uint64_t offset, size_t size);
  // Reads what is there; returns false if the connection is finished.
  bool ReadInput(Connection& c);
  // Consumes buffered input (heads and bodies); returns false to close the connection.
  bool Process(Connection& c);
  bool BeginRequest(Connection& c, size_t head_size);
  bool FeedBody(Connection& c);
  // Queues the response and sends what it can; false when the connection is finished.
  bool StartResponse(Connection& c, Response response);
  // Sends what it can; returns false on a dead connection. Sets c.phase back to kHead when done.
  bool Flush(Connection& c);
  void WatchWrite(Connection& c, bool on);
  void Close(int fd);
  void SweepIdle();
  // Out of descriptors on accept: close the connection idle the longest (no request under way);
  // false when there is none.
  bool ShedIdleConnection();
  // Out of descriptors with nothing to shed: take the waiting connection with the spare
  // descriptor and close it at once, so the listener stops waking this loop.
  void RefuseOneConnection();

  const ServerOptions& options_;
  Handler& handler_;
  int listener_;  // owned by HttpServer
  SSL_CTX* tls_;  // owned by HttpServer; null for plain http
  UniqueFd epoll_;
  UniqueFd stop_fd_;
  UniqueFd spare_fd_;          // kept open so that a descriptor can be freed when none is left
  std::vector<char> scratch_;  // every read lands here first: idle connections hold no buffer
  std::unordered_map<int, std::unique_ptr<Connection>> connections_;
};

Status HttpServer::Loop::Init() {
  epoll_ = UniqueFd(::epoll_create1(EPOLL_CLOEXEC));
  stop_fd_ = UniqueFd(::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC));
  if (!epoll_ || !stop_fd_) return Fail(Errno("epoll"));
  spare_fd_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  scratch_.resize(kReadChunk);
  for (int fd : {listener_, stop_fd_.get()}) {
    epoll_event ev{};
    ev.events = fd == listener_ ? EPOLLIN | EPOLLEXCLUSIVE : EPOLLIN;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) return Fail(Errno("epoll_ctl"));
  }
  return {};
}

void HttpServer::Loop::Run() {
  epoll_event events[256];
  Clock::time_point last_sweep = Clock::now();
  for (;;) {
    int n = ::epoll_wait(epoll_.get(), events, 256, 1000);
    if (n < 0 && errno != EINTR) return;
    for (int i = 0; i < n; ++i) {
      int fd = events[i].data.fd;
      if (fd == stop_fd_.get()) {
        connections_.clear();
        return;
      }
      if (fd == listener_) {
        Accept();
      } else {
        OnEvent(fd, events[i].events);
      }
    }
    if (Clock::now() - last_sweep > std::chrono::seconds(1)) {
      SweepIdle();
      last_sweep = Clock::now();
    }
  }
}

void HttpServer::Loop::Accept() {
  for (;;) {
    sockaddr_storage ss{};
    socklen_t len = sizeof ss;
    int fd =
        ::accept4(listener_, reinterpret_cast<sockaddr*>(&ss), &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
    if (fd < 0) {
      if (errno == EINTR || errno == ECONNABORTED) continue;
      if (errno != EMFILE && errno != ENFILE) return;  // EAGAIN: none waiting
      // Out of descriptors. Returning would leave the listener readable, and epoll would wake
      // this loop again at once, for ever: shed an idle connection, or refuse this one.
      if (ShedIdleConnection()) continue;
      RefuseOneConnection();
      continue;
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    auto c = std::make_unique<Connection>();
    c->fd = UniqueFd(fd);
    c->peer = SockaddrText(ss);
    c->active = Clock::now();
    if (tls_) {
      c->ssl.reset(::SSL_new(tls_));
      if (!c->ssl || ::SSL_set_fd(c->ssl.get(), fd) != 1) continue;
      ::SSL_set_accept_state(c->ssl.get());
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP;
    ev.data.fd = fd;
    if (::epoll_ctl(epoll_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) continue;  // c closes fd
    connections_[fd] = std::move(c);
  }
}

void HttpServer::Loop::OnEvent(int fd, uint32_t events) {
  auto it = connections_.find(fd);
  if (it == connections_.end()) return;
  Connection& c = *it->second;
  c.active = Clock::now();
  bool alive = true;
  if (c.phase == Phase::kWrite) {
    if (events & (EPOLLERR | EPOLLHUP)) alive = false;
    if (alive && (events & EPOLLOUT)) alive = Flush(c) && Process(c);
  } else {
    alive = ReadInput(c) && Process(c);
  }
  if (!alive) Close(fd);
}

bool HttpServer::Loop::ReadInput(Connection& c) {
  if (c.want_write) WatchWrite(c, false);  // a TLS handshake that wanted to write got to
  if (c.in_pos > 0 && c.in_pos == c.in.size()) {
    c.in.clear();
    c.in_pos = 0;
  } else if (c.in_pos > (1 << 20)) {
    c.in.erase(0, c.in_pos);
    c.in_pos = 0;
  }
  // Reads land in the loop's scratch buffer and only the bytes received are kept: a connection
  // trickling a byte at a time holds a few bytes, not a read buffer.
  for (;;) {
    ssize_t n = Receive(c, scratch_.data(), scratch_.size());
    if (n < 0)
      return false;  // peer closed (mid-body: the sink is dropped, which keeps what it has)
    if (n == 0) break;
    c.in.append(scratch_.data(), static_cast<size_t>(n));
    // TLS hands out at most a record (16 KiB) per read, and bytes OpenSSL has already decrypted
    // do not wake epoll again: take them all. A plain socket's rest wakes epoll.
    if (!c.ssl || ::SSL_pending(c.ssl.get()) == 0) break;
  }
  return true;
}

ssize_t HttpServer::Loop::Receive(Connection& c, char* buffer, size_t size) {
  if (!c.ssl) {
    ssize_t n = ::recv(c.fd.get(), buffer, size, 0);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1;
  }
  // SSL_get_error reads the thread's error queue: it must hold nothing from earlier calls (say,
  // another connection's failed handshake, or the certificate loading on this thread).
  ::ERR_clear_error();
  int n = ::SSL_read(c.ssl.get(), buffer, static_cast<int>(std::min<size_t>(size, INT_MAX)));
  if (n > 0) return n;
  int e = ::SSL_get_error(c.ssl.get(), n);
  ::ERR_clear_error();
  if (e == SSL_ERROR_WANT_READ) return 0;
  if (e == SSL_ERROR_WANT_WRITE) {
    WatchWrite(c, true);  // handshake output pending; the next EPOLLOUT resumes it
    return 0;
  }
  return -1;
}

ssize_t HttpServer::Loop::Send(Connection& c, const char* data, size_t size, bool more) {
  if (!c.ssl) {
    ssize_t n = ::send(c.fd.get(), data, size, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
    if (n >= 0) return n;
    return errno == EAGAIN || errno == EINTR ? 0 : -1;
  }
  ::ERR_clear_error();
  int n = ::SSL_write(c.ssl.get(), data, static_cast<int>(std::min<size_t>(size, 1 << 20)));
  if (n > 0) return n;
  int e = ::SSL_get_error(c.ssl.get(), n);
  ::ERR_clear_error();
  return e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ ? 0 : -1;
}

ssize_t HttpServer::Loop::SendFile(Connection& c, uint64_t offset, size_t size) {
  if (!c.ssl) {
    off_t off = static_cast<off_t>(offset);
    ssize_t n = ::sendfile(c.fd.get(), c.response.file.get(), &off, size);
    if (n > 0) return n;
    if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
    return -1;  // an error, or the file shrank under us
  }
  // TLS: read a piece, encrypt it; a piece SSL_write took only part of is kept for the retry.
  if (c.file_chunk_pos == c.file_chunk.size()) {
    c.file_chunk.resize(std::min<size_t>(size, 256 << 10));
    ssize_t n = ::pread(c.response.file.get(), c.file_chunk.data(), c.file_chunk.size(),
                        static_cast<off_t>(offset));
    if (n <= 0) return -1;
    c.file_chunk.resize(static_cast<size_t>(n));
    c.file_chunk_pos = 0;
  }
  ssize_t n = Send(c, c.file_chunk.data() + c.file_chunk_pos,
                   c.file_chunk.size() - c.file_chunk_pos, false);
  if (n > 0) c.file_chunk_pos += static_cast<size_t>(n);
  return n;
}

bool HttpServer::Loop::Process(Connection& c) {
  for (;;) {
    if (c.phase == Phase::kWrite) return true;
    if (c.phase == Phase::kBody) {
      if (!FeedBody(c)) return false;
      if (c.phase == Phase::kBody) return true;  // needs more input
      continue;
    }
    if (c.in_pos == c.in.size()) {
      // Everything consumed: an idle keep-alive connection keeps no buffer.
      if (c.in.capacity() > kIdleBufferBytes) std::string().swap(c.in);
      c.in.clear();
      c.in_pos = 0;
      return true;
    }
    std::string_view pending(c.in.data() + c.in_pos, c.in.size() - c.in_pos);
    if (!c.head_started) c.head_started = Clock::now();
    auto head = ParseRequestHead(pending, options_.max_head_bytes, c.request);
    if (!head) {
      Response r(400);
      r.body = head.error().message + "\n";
      r.close = true;
      c.request = Request();  // not the previous request's target, user...
      c.request.peer = c.peer;
      c.request.method = "-";
      c.started = Clock::now();
      return StartResponse(c, std::move(r));
    }
    if (*head == 0) return true;
    if (!BeginRequest(c, *head)) return false;
  }
}

bool HttpServer::Loop::BeginRequest(Connection& c, size_t head_size) {
  c.in_pos += head_size;
  c.started = Clock::now();
  c.head_started.reset();
  c.body_window = c.started;
  c.body_window_bytes = 0;
  c.request.peer = c.peer;
  c.keep_alive = c.request.KeepAlive();
  Dispatch d = handler_.Handle(c.request);
  c.chunked = ChunkedDecoder();
  c.body_left = c.request.chunked ? 0 : std::max<int64_t>(c.request.content_length, 0);
  c.discard = false;
  if (d.sink) {
    c.sink = std::move(d.sink);
    if (c.request.Header("expect") && c.request.HasBody()) {
      static constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      // Tiny and first on an idle socket: it fits the send buffer.
      if (Send(c, kContinue.data(), kContinue.size(), false) !=
          static_cast<ssize_t>(kContinue.size())) {
        return false;
      }
    }
    c.phase = Phase::kBody;
    return true;
  }
  if (c.request.HasBody()) {
    bool small = !c.request.chunked && c.request.content_length <= kMaxDiscardedBody;
    if (!small || c.request.Header("expect")) {
      d.response.close = true;  // the body is not read: the connection cannot be reused
      return StartResponse(c, std::move(d.response));
    }
    c.discard = true;
    c.response = std::move(d.response);
    c.phase = Phase::kBody;
    return true;
  }
  return StartResponse(c, std::move(d.response));
}

bool HttpServer::Loop::FeedBody(Connection& c) {
  std::string_view pending(c.in.data() + c.in_pos, c.in.size() - c.in_pos);
  Status status;
  if (c.request.chunked) {
    auto used = c.chunked.Feed(pending, [&](std::string_view piece) -> Status {
      if (c.discard) return {};
      return c.sink->Write(piece);
    });
    if (!used) {
      status = tl::unexpected(used.error());
    } else {
      c.in_pos += *used;
      c.body_window_bytes += *used;
    }
  } else {
    size_t n =
        static_cast<size_t>(std::min<int64_t>(c.body_left, static_cast<int64_t>(pending.size())));
    if (n > 0 && !c.discard) status = c.sink->Write(pending.substr(0, n));
    c.in_pos += n;
    c.body_left -= static_cast<int64_t>(n);
    c.body_window_bytes += n;
  }
  if (!status) {
    Response r = c.discard ? std::move(c.response) : c.sink->Failed(status.error());
    c.sink.reset();
    r.close = true;  // the rest of the body is still on its way
    return StartResponse(c, std::move(r));
  }
  bool done = c.request.chunked ? c.chunked.done() : c.body_left == 0;
  if (!done) return true;
  Response r = c.discard ? std::move(c.response) : c.sink->Finish();
  c.sink.reset();
  return StartResponse(c, std::move(r));
}

bool HttpServer::Loop::StartResponse(Connection& c, Response response) {
  if (response.close || c.request.method == "-") c.keep_alive = false;
  c.response = std::move(response);
  for (const auto& header : options_.common_headers) c.response.headers.push_back(header);
  c.out = SerializeResponseHead(c.response, c.keep_alive);
  if (!c.response.omit_body && c.request.method != "HEAD") {
    c.out += c.response.body;
  } else {
    c.response.file = UniqueFd();
    c.response.file_length = 0;
  }
  c.out_pos = 0;
  c.file_sent = 0;
  c.phase = Phase::kWrite;
  return Flush(c);
}

bool HttpServer::Loop::Flush(Connection& c) {
  while (c.out_pos < c.out.size()) {
    ssize_t n =
        Send(c, c.out.data() + c.out_pos, c.out.size() - c.out_pos, c.response.file_length > 0);
    if (n < 0) return false;
    if (n == 0) {
      WatchWrite(c, true);
      return true;
    }
    c.out_pos += static_cast<size_t>(n);
  }
  while (c.file_sent < c.response.file_length) {
    size_t want = static_cast<size_t>(
        std::min<uint64_t>(c.response.file_length - c.file_sent, kSendfileChunk));
    ssize_t n = SendFile(c, c.response.file_offset + c.file_sent, want);
    if (n < 0) return false;
    if (n == 0) {
      WatchWrite(c, true);
      return true;
    }
    c.file_sent += static_cast<uint64_t>(n);
  }
  c.file_chunk.clear();
  c.file_chunk_pos = 0;
  WatchWrite(c, false);
  double seconds = std::chrono::duration<double>(Clock::now() - c.started).count();
  uint64_t body_bytes =
      c.response.omit_body || c.request.method == "HEAD" ? 0 : c.response.body.size() + c.file_sent;
  handler_.Completed(c.request, c.response, body_bytes, seconds);
  c.response = Response();
  c.out.clear();
  c.phase = Phase::kHead;
  return c.keep_alive;
}

void HttpServer::Loop::WatchWrite(Connection& c, bool on) {
  if (c.want_write == on) return;
  c.want_write = on;
  epoll_event ev{};
  // While sending, only EPOLLOUT: a half-closed peer (level-triggered RDHUP) must not spin us.
  ev.events = on ? EPOLLOUT : (EPOLLIN | EPOLLRDHUP);
  ev.data.fd = c.fd.get();
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_MOD, c.fd.get(), &ev);
}

void HttpServer::Loop::Close(int fd) {
  ::epoll_ctl(epoll_.get(), EPOLL_CTL_DEL, fd, nullptr);
  connections_.erase(fd);
}

bool HttpServer::Loop::ShedIdleConnection() {
  int oldest = -1;
  Clock::time_point when = Clock::time_point::max();
  for (const auto& [fd, c] : connections_) {
    const bool idle = c->phase == Phase::kHead && c->in_pos == c->in.size() && !c->head_started;
    if (idle && c->active < when) {
      when = c->active;
      oldest = fd;
    }
  }
  if (oldest < 0) return false;
  Close(oldest);
  return true;
}

void HttpServer::Loop::RefuseOneConnection() {
  spare_fd_ = UniqueFd();
  int fd = ::accept4(listener_, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd >= 0) ::close(fd);
  spare_fd_ = UniqueFd(::open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (fd < 0 || !spare_fd_) {
    // Another thread took the freed descriptor: wait a little rather than spin.
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

void HttpServer::Loop::SweepIdle() {
  const Clock::time_point now = Clock::now();
  const auto limit = now - std::chrono::seconds(options_.idle_timeout_seconds);
  const auto head_limit = now - std::chrono::seconds(options_.header_timeout_seconds);
  const auto window = std::chrono::seconds(options_.body_timeout_seconds);
  std::vector<int> expired;
  for (const auto& [fd, c] : connections_) {
    bool drop = c->active < limit;  // silent
    // A head trickling in: bytes keep it active, the header timeout still ends it.
    if (c->phase == Phase::kHead && c->head_started && *c->head_started < head_limit) drop = true;
    if (c->phase == Phase::kBody && now - c->body_window >= window) {
      if (c->body_window_bytes < options_.min_body_bytes_per_window) drop = true;  // trickling
      c->body_window = now;
      c->body_window_bytes = 0;
    }
    if (drop) expired.push_back(fd);
  }
  for (int fd : expired) Close(fd);
}

Result<std::unique_ptr<HttpServer>> HttpServer::Listen(const ServerOptions& options,
                                                       Handler& handler) {
  STRATA_ASSIGN(hp, SplitAddress(options.address));
  std::unique_ptr<HttpServer> server(new HttpServer(options, handler));
  if (!options.tls_cert_file.empty() || !options.tls_key_file.empty()) {
    if (options.tls_cert_file.empty() || options.tls_key_file.empty()) {
      return Fail("TLS needs both a certificate and a key");
    }
    SSL_CTX* ctx = ::SSL_CTX_new(::TLS_server_method());
    server->tls_ = ctx;
    if (!ctx) return Fail(SslError("TLS"));
    ::SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    ::SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (::SSL_CTX_use_certificate_chain_file(ctx, options.tls_cert_file.c_str()) != 1) {
      return Fail(SslError("TLS certificate " + options.tls_cert_file));
    }
    if (::SSL_CTX_use_PrivateKey_file(ctx, options.tls_key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
      return Fail(SslError("TLS key " + options.tls_key_file));
    }
    if (::SSL_CTX_check_private_key(ctx) != 1) {
      return Fail(SslError("TLS key " + options.tls_key_file + " does not match the certificate"));
    }
  }
  int threads = options.threads > 0
                    ? options.threads
                    : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  STRATA_ASSIGN(fd, OpenListener(hp));
  sockaddr_storage ss{};
  socklen_t len = sizeof ss;
  ::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&ss), &len);
  server->bound_address_ = SockaddrText(ss);  // port 0: the one the kernel chose
  server->listener_ = std::move(fd);
  for (int i = 0; i < threads; ++i) {
    auto loop =
        std::make_unique<Loop>(server->options_, handler, server->listener_.get(), server->tls_);
    STRATA_TRY(loop->Init());
    server->loops_.push_back(std::move(loop));
  }
  return server;
}

HttpServer::HttpServer(ServerOptions options, Handler& handler)
    : options_(std::move(options)), handler_(handler) {}

HttpServer::~HttpServer() {
  loops_.clear();
  ::SSL_CTX_free(tls_);
}

Status HttpServer::Run() {
  std::vector<std::thread> threads;
  for (size_t i = 1; i < loops_.size(); ++i) threads.emplace_back([this, i] { loops_[i]->Run(); });
  loops_[0]->Run();
  for (auto& t : threads) t.join();
  return {};
}

void HttpServer::Stop() {
  for (auto& loop : loops_) loop->Stop();
}

}  // namespace strata::server
