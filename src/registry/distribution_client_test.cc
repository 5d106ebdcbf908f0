// The kinds of registry errors, through the real HTTP client against a scripted loopback server:
// the status of a response (401, 403, 404, 429/5xx) and a failure with no response (refused, a
// TLS handshake with a plain-http server) become kinds, and the client's decisions (fall back to
// http, stop retrying an upload) follow the kinds, not the words of the messages.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "registry/http_client.h"
#include "registry/registry_client.h"
#include "util/io.h"

namespace strata {
namespace STRATA_UNITY_ID {

struct Reply {
  int status = 200;
  std::string body = {};
  std::vector<std::string> headers = {};  // "Name: value"
};

// Answers each connection with handler(method, path), then closes it. A connection that opens
// with a TLS ClientHello gets a plain HTTP error, as a plain-http registry's port would answer.
class ScriptedServer {
 public:
  using Handler = std::function<Reply(const std::string& method, const std::string& path)>;

  explicit ScriptedServer(Handler handler) : handler_(std::move(handler)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    ::listen(fd_, 16);
    thread_ = std::thread([this] { Serve(); });
  }
  ~ScriptedServer() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  int tls_hellos() const { return tls_hellos_; }
  // "METHOD path" of each request, in order.
  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }
  // The body of each request, in order.
  std::vector<std::string> bodies() {
    std::lock_guard<std::mutex> lock(mu_);
    return bodies_;
  }
  int Count(const std::string& method) {
    int n = 0;
    for (const std::string& r : requests()) n += r.rfind(method + " ", 0) == 0;
    return n;
  }

 private:
  void Serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0) continue;
      Answer(c);
      ::shutdown(c, SHUT_RDWR);
      ::close(c);
    }
  }

  void Answer(int c) {
    std::string in;
    char buf[8192];
    size_t end = std::string::npos;
    for (;;) {
      if (!in.empty() && in[0] == 0x16) {  // a TLS record: not HTTP
        ++tls_hellos_;
        Send(c, "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
        return;
      }
      end = in.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t cl = in.find("Content-Length: ");
        size_t want = cl == std::string::npos || cl > end ? 0 : std::stoul(in.substr(cl + 16));
        if (in.size() >= end + 4 + want) break;
      }
      ssize_t n = ::recv(c, buf, sizeof buf, 0);
      if (n <= 0) {
        // The client gave up before its body was complete: recorded with what arrived.
        if (end != std::string::npos) {
          std::lock_guard<std::mutex> lock(mu_);
          requests_.push_back(in.substr(0, in.find(' ', in.find(' ') + 1)));
          bodies_.push_back(in.substr(end + 4));
        }
        return;
      }
      in.append(buf, static_cast<size_t>(n));
    }
    const size_t sp1 = in.find(' ');
    const size_t sp2 = in.find(' ', sp1 + 1);
    const std::string method = in.substr(0, sp1);
    const std::string path = in.substr(sp1 + 1, sp2 - sp1 - 1);
    {
      std::lock_guard<std::mutex> lock(mu_);
      requests_.push_back(method + " " + path);
      bodies_.push_back(in.substr(end + 4));
    }
    Reply r = handler_(method, path);
    std::string out = "HTTP/1.1 " + std::to_string(r.status) + " X\r\n";
    for (const std::string& h : r.headers) out += h + "\r\n";
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\nConnection: close\r\n\r\n";
    if (method != "HEAD") out += r.body;
    Send(c, out);
  }

  static void Send(int c, const std::string& data) {
    size_t off = 0;
    while (off < data.size()) {
      ssize_t w = ::send(c, data.data() + off, data.size() - off, MSG_NOSIGNAL);
      if (w <= 0) return;
      off += static_cast<size_t>(w);
    }
  }

  Handler handler_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> tls_hellos_{0};
  std::mutex mu_;
  std::vector<std::string> requests_;
  std::vector<std::string> bodies_;
  std::thread thread_;
};

std::string ErrorBody(const std::string& code, const std::string& message) {
  return R"({"errors":[{"code":")" + code + R"(","message":")" + message + R"("}]})";
}

constexpr RetryPolicy kFastRetries{/*attempts=*/2, /*initial_backoff_ms=*/1,
                                   /*max_backoff_ms=*/1};

std::shared_ptr<RegistryClient> ClientFor(const std::string& host, bool insecure = true) {
  RegistryEndpoint endpoint;
  endpoint.host = host;
  endpoint.insecure = insecure;
  auto client = RegistryClient::Create(endpoint, nullptr, kFastRetries);
  EXPECT_TRUE(client) << client.error().message;
  return *client;
}

// A port nothing listens on.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(HttpClientErrorTest, ARefusedConnectionIsUnavailable) {
  HttpClient http(TlsOptions{});
  HttpRequest req;
  req.url = "http://127.0.0.1:" + std::to_string(ClosedPort()) + "/v2/";
  auto r = http.Do(req);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable) << r.error().message;
  EXPECT_FALSE(r.error().tls_handshake);
}

TEST(HttpClientErrorTest, ATlsHandshakeWithAPlainHttpServerIsFlaggedNotWritten) {
  ScriptedServer server([](const std::string&, const std::string&) { return Reply{}; });
  TlsOptions tls;
  tls.verify = false;
  HttpClient http(tls);
  HttpRequest req;
  req.url = "https://" + server.host() + "/v2/";
  auto r = http.Do(req);
  ASSERT_FALSE(r);
  EXPECT_TRUE(r.error().tls_handshake) << r.error().message;
  EXPECT_EQ(r.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(r.error().message.find("[tls]"), std::string::npos) << r.error().message;
  EXPECT_GE(server.tls_hellos(), 1);
}

// The insecure registry's fallback to plain http is decided on the flag: without it the https
// attempt's failure would be final.
TEST(DistributionClientErrorTest, AnInsecureRegistryFallsBackToHttpOnATlsFailure) {
  ScriptedServer server([](const std::string&, const std::string& path) {
    return path == "/v2/" ? Reply{200, "{}"} : Reply{404};
  });
  auto client = ClientFor(server.host());
  auto st = client->Ping();
  EXPECT_TRUE(st) << st.error().message;
  EXPECT_GE(server.tls_hellos(), 1);
  EXPECT_EQ(server.Count("GET"), 1);
}

TEST(DistributionClientErrorTest, ASecureRegistryDoesNotFallBack) {
  ScriptedServer server([](const std::string&, const std::string&) { return Reply{200, "{}"}; });
  auto client = ClientFor(server.host(), /*insecure=*/false);
  auto st = client->Ping();
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().tls_handshake);
  EXPECT_EQ(server.Count("GET"), 0);
}

TEST(DistributionClientErrorTest, ARefusedConnectionIsUnavailable) {
  auto client = ClientFor("127.0.0.1:" + std::to_string(ClosedPort()));
  auto m = client->GetManifest("team/app", "v1");
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kUnavailable) << m.error().message;
}

// Each repository answers its manifests with the status it is named after.
Reply ByStatusInName(const std::string&, const std::string& path) {
  if (path == "/v2/") return Reply{200, "{}"};
  const size_t s = path.find("/status");
  if (s == std::string::npos) return Reply{404, ErrorBody("NAME_UNKNOWN", "no such repository")};
  const int status = std::stoi(path.substr(s + 7, 3));
  return Reply{status, ErrorBody("SOME_CODE", "status " + std::to_string(status))};
}

TEST(DistributionClientErrorTest, ResponseStatusesBecomeKinds) {
  ScriptedServer server(ByStatusInName);
  auto client = ClientFor(server.host());
  const std::pair<int, ErrorCode> cases[] = {
      {401, ErrorCode::kUnauthenticated}, {403, ErrorCode::kDenied},
      {404, ErrorCode::kNotFound},        {400, ErrorCode::kInvalidArgument},
      {429, ErrorCode::kUnavailable},     {500, ErrorCode::kUnavailable},
      {503, ErrorCode::kUnavailable},     {418, ErrorCode::kUnknown},
  };
  for (const auto& [status, code] : cases) {
    const std::string repo = "team/status" + std::to_string(status);
    auto manifest = client->GetManifest(repo, "v1");
    ASSERT_FALSE(manifest) << status;
    EXPECT_EQ(manifest.error().code, code) << status << ": " << manifest.error().message;
    auto head = client->HeadManifest(repo, "v1");
    if (status == 404) {
      ASSERT_TRUE(head) << head.error().message;  // HEAD's 404 is an answer: no such manifest
      EXPECT_FALSE(*head);
    } else {
      ASSERT_FALSE(head) << status;
      EXPECT_EQ(head.error().code, code) << status << ": " << head.error().message;
    }
    auto tags = client->ListTags(repo);
    ASSERT_FALSE(tags) << status;
    EXPECT_EQ(tags.error().code, code) << status << ": " << tags.error().message;
  }
}

TEST(DistributionClientErrorTest, BytesThatDoNotMatchTheirDigestAreCorrupt) {
  const std::string manifest =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,)"
      R"("digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},)"
      R"("layers":[]})";
  const std::string blob = "twelve bytes";
  ScriptedServer server([&](const std::string&, const std::string& path) {
    if (path.find("/manifests/") != std::string::npos) {
      return Reply{200, manifest, {"Content-Type: application/vnd.oci.image.manifest.v1+json"}};
    }
    if (path.find("/blobs/sha256:") != std::string::npos) return Reply{200, blob};
    return Reply{200, "{}"};
  });
  auto client = ClientFor(server.host());
  auto m = client->GetManifest("team/app", Digest::Sha256Of("other bytes").str());
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().code, ErrorCode::kCorrupt) << m.error().message;

  // The registry sends fewer bytes than the descriptor states: truncated.
  Descriptor longer{"application/octet-stream", Digest::Sha256Of(blob + "!"),
                    static_cast<int64_t>(blob.size() + 1)};
  auto reader = client->GetBlob("team/app", longer);
  ASSERT_TRUE(reader) << reader.error().message;
  char buf[64];
  Result<size_t> n = 0;
  while ((n = (*reader)->Read(buf, sizeof buf)) && *n > 0) {
  }
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kCorrupt) << n.error().message;
}

TEST(DistributionClientErrorTest, AMissingBlobIsNotFound) {
  ScriptedServer server(ByStatusInName);
  auto client = ClientFor(server.host());
  ASSERT_TRUE(client->Ping());  // settles the scheme: a blob request does not fall back itself
  Descriptor blob{"application/octet-stream", Digest::Sha256Of("x"), 1};
  auto reader = client->GetBlob("team/app", blob);
  ASSERT_TRUE(reader) << reader.error().message;
  char buf[8];
  auto n = (*reader)->Read(buf, sizeof buf);
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().code, ErrorCode::kNotFound) << n.error().message;
}

// An upload that gets `answer` when it starts (kAtStart) or when it puts the bytes: how many
// times the upload was tried (its content opened), and the error.
struct UploadOutcome {
  int attempts = 0;
  Error error;
};
enum class When { kAtStart, kAtPut };

UploadOutcome UploadAgainst(const Reply& answer, When when) {
  ScriptedServer server([&](const std::string& method, const std::string& path) {
    if (path == "/v2/") return Reply{200, "{}"};
    if (method == "POST" && when == When::kAtPut) {
      return Reply{202, "", {"Location: /v2/team/app/blobs/uploads/u1"}};
    }
    return answer;
  });
  auto client = ClientFor(server.host());
  const std::string bytes = "hello";
  Descriptor blob{"application/octet-stream", Digest::Sha256Of(bytes),
                  static_cast<int64_t>(bytes.size())};
  UploadOutcome out;
  auto st = client->UploadBlob("team/app", blob, [&]() -> Result<std::unique_ptr<Reader>> {
    ++out.attempts;
    return std::unique_ptr<Reader>(new StringReader(bytes));
  });
  EXPECT_FALSE(st);
  if (!st) out.error = st.error();
  return out;
}

// Whether an upload is tried again depends on the kind of its failure. The words are chosen so
// that a decision on the message would go the other way each time: the old one stopped on
// "unauthorized" or "DIGEST_INVALID" anywhere in the text, and retried everything else.
TEST(DistributionClientErrorTest, AnUploadIsRetriedOnlyWhenAnotherAttemptMayWork) {
  // A registry error whose message merely mentions the words: transient, tried again. (At the
  // start: a 5xx is also retried request by request, which a streamed PUT body cannot be.)
  UploadOutcome flaky = UploadAgainst(
      Reply{500, ErrorBody("UNKNOWN", "upstream unauthorized, DIGEST_INVALID")}, When::kAtStart);
  EXPECT_EQ(flaky.error.code, ErrorCode::kUnavailable) << flaky.error.message;
  EXPECT_EQ(flaky.attempts, kFastRetries.attempts);

  // Refused access, in words without "unauthorized": final at once.
  UploadOutcome denied = UploadAgainst(
      Reply{403, ErrorBody("DENIED", "requested access to the resource is denied")}, When::kAtPut);
  EXPECT_EQ(denied.error.code, ErrorCode::kDenied) << denied.error.message;
  EXPECT_EQ(denied.attempts, 1);

  // The registry's DIGEST_INVALID code (not its text): the bytes are wrong, final.
  UploadOutcome digest = UploadAgainst(
      Reply{400, ErrorBody("DIGEST_INVALID", "provided digest did not match")}, When::kAtPut);
  EXPECT_EQ(digest.error.code, ErrorCode::kCorrupt) << digest.error.message;
  EXPECT_EQ(digest.attempts, 1);

  // A 401 that authentication cannot answer: final.
  UploadOutcome unauthorized =
      UploadAgainst(Reply{401, ErrorBody("UNAUTHORIZED", "authentication required")}, When::kAtPut);
  EXPECT_EQ(unauthorized.error.code, ErrorCode::kUnauthenticated) << unauthorized.error.message;
  EXPECT_EQ(unauthorized.attempts, 1);

  // Another client error: tried again, as before kinds.
  UploadOutcome invalid =
      UploadAgainst(Reply{400, ErrorBody("SIZE_INVALID", "wrong size")}, When::kAtPut);
  EXPECT_EQ(invalid.error.code, ErrorCode::kInvalidArgument) << invalid.error.message;
  EXPECT_EQ(invalid.attempts, kFastRetries.attempts);
}

// A PUT whose body streams from the content cannot be sent again from the same reader: a 5xx
// answer to it ends the attempt, and the upload starts over with the content opened again, so
// every PUT carries the whole blob.
TEST(DistributionClientErrorTest, AStreamedPutIsNotResentFromAConsumedBody) {
  std::atomic<int> puts{0};
  ScriptedServer server([&](const std::string& method, const std::string& path) {
    if (path == "/v2/") return Reply{200, "{}"};
    if (method == "POST") return Reply{202, "", {"Location: /v2/team/app/blobs/uploads/u1"}};
    if (method == "PUT")
      return ++puts == 1 ? Reply{500, ErrorBody("UNKNOWN", "hiccup")} : Reply{201};
    return Reply{404};
  });
  auto client = ClientFor(server.host());
  ASSERT_TRUE(client->Ping());
  const std::string bytes = "hello, all of it";
  Descriptor blob{"application/octet-stream", Digest::Sha256Of(bytes),
                  static_cast<int64_t>(bytes.size())};
  int opened = 0;
  auto st = client->UploadBlob("team/app", blob, [&]() -> Result<std::unique_ptr<Reader>> {
    ++opened;
    return std::unique_ptr<Reader>(new StringReader(bytes));
  });
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ(opened, 2);
  const auto requests = server.requests();
  const auto bodies = server.bodies();
  int put_count = 0;
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].rfind("PUT ", 0) != 0) continue;
    ++put_count;
    EXPECT_EQ(bodies[i], bytes) << "PUT number " << put_count;
  }
  EXPECT_EQ(put_count, 2);
  EXPECT_EQ(server.Count("POST"), 2);  // each attempt starts its own upload
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
