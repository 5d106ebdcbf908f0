// HttpServer on loopback with a recording handler: the listening port belongs to one server
// alone, every loop of a multi-threaded server answers on it, and a request that cannot be HTTP
// (a TLS ClientHello) is answered 400 and reported with the client's address.
#include "server/http_server.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <mutex>
#include <thread>

namespace strata::server {
namespace STRATA_UNITY_ID {

struct Completion {
  std::string peer;
  std::string method;
  std::string target;
  int status = 0;
};

class RecordingHandler : public Handler {
 public:
  Dispatch Handle(Request& request) override {
    Response r(200);
    r.body = "ok " + request.target + "\n";
    return Dispatch{std::move(r), nullptr};
  }
  void Completed(const Request& request, const Response& response, uint64_t, double) override {
    std::lock_guard<std::mutex> lock(mu_);
    done_.push_back({request.peer, request.method, request.target, response.status});
  }
  std::vector<Completion> done() {
    std::lock_guard<std::mutex> lock(mu_);
    return done_;
  }

 private:
  std::mutex mu_;
  std::vector<Completion> done_;
};

// Starts a server on 127.0.0.1 (a free port) with `threads` loops; stops it when destroyed.
class RunningServer {
 public:
  explicit RunningServer(Handler& handler, int threads = 1, ServerOptions options = {}) {
    options.address = "127.0.0.1:0";
    options.threads = threads;
    auto server = HttpServer::Listen(options, handler);
    EXPECT_TRUE(server) << (server ? "" : server.error().message);
    if (!server) return;
    server_ = std::move(*server);
    thread_ = std::thread([this] { (void)server_->Run(); });
  }
  ~RunningServer() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
  }
  std::string address() const { return server_ ? server_->address() : ""; }
  int port() const {
    std::string a = address();
    return a.empty() ? 0 : std::stoi(a.substr(a.rfind(':') + 1));
  }

 private:
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
};

// Connects to 127.0.0.1:port; returns the socket (or -1) and the client's own address.
int Connect(int port, std::string* local = nullptr) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  if (local) {
    sockaddr_in me{};
    socklen_t len = sizeof me;
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&me), &len);
    char host[INET_ADDRSTRLEN] = {};
    ::inet_ntop(AF_INET, &me.sin_addr, host, sizeof host);
    *local = std::string(host) + ":" + std::to_string(ntohs(me.sin_port));
  }
  return fd;
}

// Sends `bytes`, then reads until the server closes (or 5 s pass).
std::string Exchange(int fd, std::string_view bytes) {
  EXPECT_EQ(static_cast<ssize_t>(bytes.size()), ::send(fd, bytes.data(), bytes.size(), 0));
  std::string got;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return got;
}

TEST(HttpServerTest, SecondServerOnTheSameAddressFails) {
  RecordingHandler handler;
  RunningServer first(handler, 2);
  ASSERT_NE(0, first.port());
  ServerOptions options;
  options.address = first.address();
  options.threads = 2;
  auto second = HttpServer::Listen(options, handler);
  ASSERT_FALSE(second) << "a second server got " << options.address;
  EXPECT_NE(std::string::npos, second.error().message.find("address already in use"))
      << second.error().message;
  EXPECT_NE(std::string::npos, second.error().message.find(options.address))
      << second.error().message;
  // The first one still answers, on each of many connections.
  for (int i = 0; i < 8; ++i) {
    int fd = Connect(first.port());
    ASSERT_GE(fd, 0);
    std::string reply = Exchange(
        fd, "GET /x" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    EXPECT_TRUE(reply.starts_with("HTTP/1.1 200")) << reply;
    EXPECT_NE(std::string::npos, reply.find("ok /x" + std::to_string(i))) << reply;
  }
}

TEST(HttpServerTest, ConcurrentConnectionsAreServedByAMultiLoopServer) {
  RecordingHandler handler;
  RunningServer server(handler, 3);
  ASSERT_NE(0, server.port());
  // Open all first, then ask on each: each connection is served whichever loop took it.
  std::vector<int> fds;
  for (int i = 0; i < 12; ++i) {
    fds.push_back(Connect(server.port()));
    ASSERT_GE(fds.back(), 0);
  }
  for (size_t i = 0; i < fds.size(); ++i) {
    std::string reply = Exchange(
        fds[i], "GET /c" + std::to_string(i) + " HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n");
    EXPECT_NE(std::string::npos, reply.find("ok /c" + std::to_string(i))) << reply;
  }
}

TEST(HttpServerTest, TlsProbeOnPlainHttpIsAnswered400WithTheClientAddress) {
  RecordingHandler handler;
  RunningServer server(handler, 1);
  ASSERT_NE(0, server.port());
  const std::string hello("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
  auto wait_for = [&](size_t n) {
    std::vector<Completion> done;
    for (int i = 0; i < 100 && done.size() < n; ++i) {
      done = handler.done();
      if (done.size() < n) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return done;
  };
  // A client trying https first: the ClientHello is the first thing on the connection.
  std::string probe_client;
  int fd = Connect(server.port(), &probe_client);
  ASSERT_GE(fd, 0);
  std::string reply = Exchange(fd, hello);
  EXPECT_TRUE(reply.starts_with("HTTP/1.1 400")) << reply;
  std::vector<Completion> done = wait_for(1);
  ASSERT_EQ(1u, done.size());
  EXPECT_EQ(400, done[0].status);
  EXPECT_EQ(probe_client, done[0].peer) << "the 400 to a TLS probe names its client";
  EXPECT_EQ("-", done[0].method);

  // After a keep-alive request: the 400 is not reported with that request's target.
  std::string local;
  fd = Connect(server.port(), &local);
  ASSERT_GE(fd, 0);
  reply = Exchange(fd, "GET /first HTTP/1.1\r\nHost: h\r\n\r\n" + hello);
  EXPECT_NE(std::string::npos, reply.find("HTTP/1.1 400")) << reply;
  done = wait_for(3);
  ASSERT_EQ(3u, done.size());
  EXPECT_EQ("/first", done[1].target);
  EXPECT_EQ(local, done[1].peer);
  EXPECT_EQ(400, done[2].status);
  EXPECT_EQ(local, done[2].peer);
  EXPECT_EQ("-", done[2].method);
  EXPECT_EQ("", done[2].target);
}

// Sends `prefix`, then one byte of `trickle` every 250 ms; true if the server closed the
// connection within `limit` bytes (each byte keeps the connection from ever being idle).
bool ClosedWhileTrickling(int port, const std::string& prefix, size_t limit) {
  int fd = Connect(port);
  EXPECT_GE(fd, 0);
  if (fd < 0) return false;
  EXPECT_EQ(static_cast<ssize_t>(prefix.size()), ::send(fd, prefix.data(), prefix.size(), 0));
  bool closed = false;
  for (size_t i = 0; i < limit && !closed; ++i) {
    if (::send(fd, "a", 1, MSG_NOSIGNAL) != 1) {
      closed = true;
      break;
    }
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 250) > 0) {
      char buf[512];
      closed = ::recv(fd, buf, sizeof buf, 0) <= 0;
    }
  }
  ::close(fd);
  return closed;
}

// Issue 15: a head or body trickling in a byte at a time used to hold its connection (and its
// buffer) for ever, since every byte reset the idle timer. The header timeout counts from the
// head's first byte, and a body must keep a minimum rate.
TEST(HttpServerTest, TricklingHeadIsClosedByTheHeaderTimeout) {
  RecordingHandler handler;
  ServerOptions options;
  options.header_timeout_seconds = 1;
  RunningServer server(handler, 1, options);
  // 1 s of timeout, a sweep a second: closed well before 24 bytes (6 s).
  EXPECT_TRUE(ClosedWhileTrickling(server.port(), "GET / HTTP/1.1\r\nX-Slow: ", 24));
  EXPECT_TRUE(handler.done().empty());
}

TEST(HttpServerTest, TricklingBodyIsClosedByTheBodyRate) {
  RecordingHandler handler;
  ServerOptions options;
  options.body_timeout_seconds = 1;
  options.min_body_bytes_per_window = 1024;
  RunningServer server(handler, 1, options);
  EXPECT_TRUE(ClosedWhileTrickling(
      server.port(), "PUT /up HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n", 24));
}

TEST(HttpServerTest, APromptClientIsNotCutOffByTheTimeouts) {
  RecordingHandler handler;
  ServerOptions options;
  options.header_timeout_seconds = 1;
  options.body_timeout_seconds = 1;
  RunningServer server(handler, 1, options);
  int fd = Connect(server.port());
  ASSERT_GE(fd, 0);
  // Idle between requests for longer than the header timeout: only the idle timeout applies.
  std::string first = "GET /a HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(static_cast<ssize_t>(first.size()), ::send(fd, first.data(), first.size(), 0));
  std::this_thread::sleep_for(std::chrono::milliseconds(2500));
  std::string reply = Exchange(fd, "GET /b HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(std::string::npos, reply.find("ok /a")) << reply;
  EXPECT_NE(std::string::npos, reply.find("ok /b")) << reply;
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata::server
