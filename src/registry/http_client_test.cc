// HttpClient against a tiny loopback server that answers each connection with a canned reply.
#include "registry/http_client.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <iterator>
#include <string>
#include <thread>

namespace strata {
namespace STRATA_UNITY_ID {

class CannedServer {
 public:
  explicit CannedServer(std::string reply) : reply_(std::move(reply)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 4);
    thread_ = std::thread([this] {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) return;
      // Read the whole request: headers, then Content-Length bytes of body.
      char buf[8192];
      for (;;) {
        size_t end = request_.find("\r\n\r\n");
        if (end != std::string::npos) {
          size_t cl = request_.find("Content-Length: ");
          size_t want = cl == std::string::npos ? 0 : std::stoul(request_.substr(cl + 16));
          if (request_.size() >= end + 4 + want) break;
        }
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0) break;
        request_.append(buf, static_cast<size_t>(n));
      }
      size_t off = 0;
      while (off < reply_.size()) {
        ssize_t w = ::send(c, reply_.data() + off, reply_.size() - off, MSG_NOSIGNAL);
        if (w <= 0) break;
        off += static_cast<size_t>(w);
      }
      ::shutdown(c, SHUT_RDWR);
      ::close(c);
    });
  }
  ~CannedServer() {
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    if (thread_.joinable()) thread_.join();
  }
  std::string url(const std::string& path) const {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
  const std::string& request() {
    if (thread_.joinable()) thread_.join();
    return request_;
  }

 private:
  std::string reply_;
  std::string request_;
  int fd_ = -1;
  int port_ = 0;
  std::thread thread_;
};

TEST(HttpClientTest, BufferedRequestGivesStatusHeadersAndBody) {
  CannedServer server(
      "HTTP/1.1 201 Created\r\nContent-Length: 5\r\nDocker-Content-Digest: sha256:x\r\n"
      "Connection: close\r\n\r\nhello");
  HttpClient client(TlsOptions{});
  HttpRequest req;
  req.method = "PUT";
  req.url = server.url("/v2/a/manifests/1");
  req.headers.push_back("Content-Type: application/json");
  req.body = "{}";
  auto r = client.Do(req);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->status, 201);
  EXPECT_EQ(r->body, "hello");
  EXPECT_EQ(r->headers.Get("docker-content-digest").value_or(""), "sha256:x");
  const std::string& sent = server.request();
  EXPECT_EQ(sent.rfind("PUT /v2/a/manifests/1 HTTP/1.1\r\n", 0), 0u) << sent;
  EXPECT_NE(sent.find("User-Agent: strata/0.1"), std::string::npos);
  EXPECT_NE(sent.find("\r\n\r\n{}"), std::string::npos);
}

TEST(HttpClientTest, BodyOverTheCapIsRefused) {
  CannedServer server("HTTP/1.1 200 OK\r\nContent-Length: 100\r\nConnection: close\r\n\r\n" +
                      std::string(100, 'x'));
  HttpClient client(TlsOptions{});
  HttpRequest req;
  req.url = server.url("/big");
  auto r = client.Do(req, 10);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("over the limit"), std::string::npos) << r.error().message;
}

TEST(HttpClientTest, StreamReadsLargeBodiesAndReportsTruncation) {
  // Every byte differs from its neighbours, so a chunk delivered twice, lost or out of order
  // shows; reads of changing sizes take curl's chunks whole, in part, and across chunks.
  std::string body(3 << 20, '\0');
  for (size_t i = 0; i < body.size(); ++i) body[i] = static_cast<char>((i * 2654435761u) >> 13);
  CannedServer whole("HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) +
                     "\r\nConnection: close\r\n\r\n" + body);
  HttpClient client(TlsOptions{});
  HttpRequest req;
  req.url = whole.url("/blob");
  auto s = client.Stream(req);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ((*s)->status(), 200);
  std::string got, buf(1 << 20, '\0');
  const size_t sizes[] = {1, 7, 4096, 100000, 1 << 20, 65537};
  for (size_t i = 0;; ++i) {
    auto n = (*s)->Read(buf.data(), sizes[i % std::size(sizes)]);
    ASSERT_TRUE(n) << n.error().message;
    if (*n == 0) break;
    got.append(buf.data(), *n);
  }
  ASSERT_EQ(got.size(), body.size());
  EXPECT_TRUE(got == body);

  // The server promises 1000 bytes and sends 10: a read error, never a silent short body.
  CannedServer cut(
      "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nConnection: close\r\n\r\n0123456789");
  req.url = cut.url("/cut");
  auto t = client.Stream(req);
  ASSERT_TRUE(t) << t.error().message;
  bool failed = false;
  for (int i = 0; i < 10 && !failed; ++i) {
    auto n = (*t)->Read(buf.data(), buf.size());
    if (!n)
      failed = true;
    else if (*n == 0)
      break;
  }
  EXPECT_TRUE(failed);
}

TEST(HttpClientTest, ConnectionRefusedIsAnError) {
  int port;
  {
    CannedServer gone("");
    port = std::stoi(gone.url("").substr(17));
  }
  HttpClient client(TlsOptions{});
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(port) + "/v2/";
  auto r = client.Do(req);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("127.0.0.1"), std::string::npos) << r.error().message;
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
