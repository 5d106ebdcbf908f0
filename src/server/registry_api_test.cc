// The registry protocol end to end over loopback: a real HttpServer with RegistryApi on a
// LocalRegistryStorage in a temporary store, driven by a raw HTTP/1.1 client so that framing
// (chunked bodies, pipelining, out-of-order chunks, garbage) is under the test's control.
#include "server/registry_api.h"

#include <arpa/inet.h>
#include <crypt.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "archive/test_util.h"
#include "server/local_registry_storage.h"
#include "server/registry_gc.h"
#include "store/image_delete.h"
#include "util/base64.h"

namespace strata::server {
namespace STRATA_UNITY_ID {

using Json = nlohmann::json;
using archive_test::TempDir;

struct Reply {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const {
    auto it = headers.find(name);
    return it == headers.end() ? "" : it->second;
  }
  std::string ErrorCode() const {
    Json j = Json::parse(body, nullptr, false);
    if (j.is_discarded() || !j.contains("errors")) return "";
    return j["errors"][0]["code"];
  }
};

// One keep-alive connection; requests are written raw.
class RawClient {
 public:
  explicit RawClient(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(static_cast<uint16_t>(port));
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~RawClient() { ::close(fd_); }
  bool connected() const { return connected_; }

  void Send(std::string_view bytes) {
    while (!bytes.empty()) {
      ssize_t n = ::send(fd_, bytes.data(), bytes.size(), MSG_NOSIGNAL);
      if (n <= 0) return;
      bytes.remove_prefix(static_cast<size_t>(n));
    }
  }
  // Reads one response (a HEAD's has no body).
  Reply Receive(bool head = false) {
    Reply r;
    size_t end;
    while ((end = buffer_.find("\r\n\r\n")) == std::string::npos) {
      if (!Fill()) return r;
    }
    std::string head_text = buffer_.substr(0, end);
    buffer_.erase(0, end + 4);
    r.status = std::stoi(head_text.substr(9, 3));
    size_t pos = head_text.find("\r\n");
    while (pos != std::string::npos) {
      size_t next = head_text.find("\r\n", pos + 2);
      std::string line =
          head_text.substr(pos + 2, next == std::string::npos ? std::string::npos : next - pos - 2);
      size_t colon = line.find(':');
      std::string name = line.substr(0, colon);
      for (char& c : name) c = static_cast<char>(std::tolower(c));
      r.headers[name] = line.substr(colon + 2);
      pos = next;
    }
    size_t length = head || r.status == 100 ? 0 : std::stoul("0" + r.Header("content-length"));
    while (buffer_.size() < length) {
      if (!Fill()) return r;
    }
    r.body = buffer_.substr(0, length);
    buffer_.erase(0, length);
    return r;
  }
  Reply Do(const std::string& method, const std::string& target, std::string_view body = {},
           const std::vector<std::string>& headers = {}) {
    std::string req = method + " " + target + " HTTP/1.1\r\nHost: x\r\n";
    for (const std::string& h : headers) req += h + "\r\n";
    if (!body.empty() || method == "PUT" || method == "POST" || method == "PATCH") {
      req += "Content-Length: " + std::to_string(body.size()) + "\r\n";
    }
    req += "\r\n";
    req += body;
    Send(req);
    return Receive(method == "HEAD");
  }
  // Whether the server closed the connection (reads until EOF or a short timeout).
  bool ClosedByPeer() {
    timeval tv{2, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    char c;
    return ::recv(fd_, &c, 1, 0) == 0;
  }

 private:
  bool Fill() {
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    buffer_.append(buf, static_cast<size_t>(n));
    return true;
  }
  int fd_;
  bool connected_ = false;
  std::string buffer_;
};

class RegistryServerTest : public ::testing::Test {
 protected:
  void SetUp() override { Start(RegistryOptions{}); }
  void TearDown() override { Stop(); }

  void Start(RegistryOptions options) {
    auto store = Store::Open(dir_.path() + "/store");
    ASSERT_TRUE(store) << store.error().message;
    store_ = std::move(*store);
    auto storage = LocalRegistryStorage::Open(*store_);
    ASSERT_TRUE(storage) << storage.error().message;
    storage_ = std::move(*storage);
    api_ = std::make_unique<RegistryApi>(*storage_, options);
    ServerOptions so;
    so.address = "127.0.0.1:0";
    so.threads = 2;
    so.common_headers = kRegistryHeaders;
    auto server = HttpServer::Listen(so, *api_);
    ASSERT_TRUE(server) << server.error().message;
    server_ = std::move(*server);
    port_ = std::stoi(server_->address().substr(server_->address().rfind(':') + 1));
    thread_ = std::thread([this] { (void)server_->Run(); });
  }
  void Stop() {
    if (!server_) return;
    server_->Stop();
    thread_.join();
    server_.reset();
    api_.reset();
    storage_.reset();
    store_.reset();
  }

  // Uploads a blob monolithically; returns its digest text.
  std::string PutBlob(RawClient& c, const std::string& repo, const std::string& bytes) {
    std::string digest = Digest::Sha256Of(bytes).str();
    Reply r = c.Do("POST", "/v2/" + repo + "/blobs/uploads/?digest=" + digest, bytes);
    EXPECT_EQ(r.status, 201) << r.body;
    return digest;
  }
  // An image manifest naming a config and one layer, both uploaded to `repo`.
  std::string ImageManifest(RawClient& c, const std::string& repo, const std::string& seed) {
    std::string config = R"({"architecture":"amd64","os":"linux","seed":")" + seed + "\"}";
    std::string layer = "layer-bytes-" + seed;
    Json m = {{"schemaVersion", 2},
              {"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
              {"config",
               {{"mediaType", "application/vnd.docker.container.image.v1+json"},
                {"size", config.size()},
                {"digest", PutBlob(c, repo, config)}}},
              {"layers",
               {{{"mediaType", "application/vnd.docker.image.rootfs.diff.tar.gzip"},
                 {"size", layer.size()},
                 {"digest", PutBlob(c, repo, layer)}}}}};
    return m.dump(3);
  }
  static constexpr const char* kDockerManifest =
      "Content-Type: application/vnd.docker.distribution.manifest.v2+json";

  TempDir dir_;
  std::unique_ptr<Store> store_;
  std::unique_ptr<LocalRegistryStorage> storage_;
  std::unique_ptr<RegistryApi> api_;
  std::unique_ptr<HttpServer> server_;
  std::thread thread_;
  int port_ = 0;
};

TEST_F(RegistryServerTest, BaseEndpointAnswersWithTheApiVersion) {
  RawClient c(port_);
  ASSERT_TRUE(c.connected());
  Reply r = c.Do("GET", "/v2/");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("docker-distribution-api-version"), "registry/2.0");
  EXPECT_EQ(c.Do("GET", "/v3/").status, 404);
  EXPECT_EQ(c.Do("GET", "/v2/UPPER/tags/list").ErrorCode(), "NAME_INVALID");
}

TEST_F(RegistryServerTest, MonolithicUploadThenGetHeadAndRanges) {
  RawClient c(port_);
  std::string bytes(300000, 'x');
  for (size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<char>(i * 7);
  std::string digest = PutBlob(c, "lib/app", bytes);
  Reply get = c.Do("GET", "/v2/lib/app/blobs/" + digest);
  EXPECT_EQ(get.status, 200);
  EXPECT_EQ(get.body, bytes);
  EXPECT_EQ(get.Header("docker-content-digest"), digest);
  Reply head = c.Do("HEAD", "/v2/lib/app/blobs/" + digest);
  EXPECT_EQ(head.status, 200);
  EXPECT_EQ(head.Header("content-length"), "300000");
  Reply part = c.Do("GET", "/v2/lib/app/blobs/" + digest, {}, {"Range: bytes=10-19"});
  EXPECT_EQ(part.status, 206);
  EXPECT_EQ(part.body, bytes.substr(10, 10));
  EXPECT_EQ(part.Header("content-range"), "bytes 10-19/300000");
  Reply tail = c.Do("GET", "/v2/lib/app/blobs/" + digest, {}, {"Range: bytes=-5"});
  EXPECT_EQ(tail.body, bytes.substr(bytes.size() - 5));
  Reply bad = c.Do("GET", "/v2/lib/app/blobs/" + digest, {}, {"Range: bytes=300000-"});
  EXPECT_EQ(bad.status, 416);
  EXPECT_EQ(bad.Header("content-range"), "bytes */300000");
  // The blob is the store's own file, and another repository cannot read it.
  EXPECT_TRUE(store_->content().Exists(*Digest::Parse(digest)));
  EXPECT_EQ(c.Do("GET", "/v2/other/blobs/" + digest).ErrorCode(), "BLOB_UNKNOWN");
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/blobs/sha256:abc").ErrorCode(), "DIGEST_INVALID");
}

// A GET of a linked blob whose file is gone is a 404 (the storage says not found); one whose
// file cannot be opened for another reason is the server's failure, a 500, as HEAD's stat is.
TEST_F(RegistryServerTest, ABlobThatCannotBeOpenedIsUnknownOnlyWhenItIsNotThere) {
  RawClient c(port_);
  std::string digest = PutBlob(c, "lib/app", "some bytes");
  const std::string path = store_->content().BlobPath(*Digest::Parse(digest));
  ASSERT_EQ(::unlink(path.c_str()), 0);
  Reply gone = c.Do("GET", "/v2/lib/app/blobs/" + digest);
  EXPECT_EQ(gone.status, 404);
  EXPECT_EQ(gone.ErrorCode(), "BLOB_UNKNOWN");
  ASSERT_EQ(::symlink(path.c_str(), path.c_str()), 0);  // ELOOP, even for root
  Reply broken = c.Do("GET", "/v2/lib/app/blobs/" + digest);
  EXPECT_EQ(broken.status, 500);
  EXPECT_EQ(broken.ErrorCode(), "UNKNOWN");
  EXPECT_EQ(c.Do("HEAD", "/v2/lib/app/blobs/" + digest).status, 500);
  ASSERT_EQ(::unlink(path.c_str()), 0);
}

TEST_F(RegistryServerTest, AWrongDigestLeavesNothingVisible) {
  RawClient c(port_);
  std::string claimed = Digest::Sha256Of("something else").str();
  Reply r = c.Do("POST", "/v2/lib/app/blobs/uploads/?digest=" + claimed, "actual bytes");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorCode(), "DIGEST_INVALID");
  EXPECT_EQ(c.Do("HEAD", "/v2/lib/app/blobs/" + claimed).status, 404);
  EXPECT_FALSE(store_->content().Exists(Digest::Sha256Of("actual bytes")));
  EXPECT_FALSE(store_->content().Exists(*Digest::Parse(claimed)));
}

TEST_F(RegistryServerTest, ChunkedUploadInOrderAndOutOfOrder) {
  RawClient c(port_);
  Reply start = c.Do("POST", "/v2/lib/app/blobs/uploads/");
  ASSERT_EQ(start.status, 202);
  EXPECT_EQ(start.Header("range"), "0-0");
  std::string location = start.Header("location");
  ASSERT_FALSE(location.empty());
  Reply first = c.Do("PATCH", location, "hello ", {"Content-Range: 0-5"});
  EXPECT_EQ(first.status, 202);
  EXPECT_EQ(first.Header("range"), "0-5");
  Reply skipped = c.Do("PATCH", location, "zzz", {"Content-Range: 10-12"});
  EXPECT_EQ(skipped.status, 416);
  EXPECT_EQ(skipped.Header("range"), "0-5");
  Reply status = c.Do("GET", location);
  EXPECT_EQ(status.status, 204);
  EXPECT_EQ(status.Header("range"), "0-5");
  // Docker's way: a streamed PATCH without Content-Length (chunked), then PUT ?digest=.
  c.Send(
      "PATCH " + location +
      " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nwor\r\n2\r\nld\r\n0\r\n\r\n");
  Reply streamed = c.Receive();
  EXPECT_EQ(streamed.status, 202);
  EXPECT_EQ(streamed.Header("range"), "0-10");
  std::string digest = Digest::Sha256Of("hello world!").str();
  Reply done = c.Do("PUT", location + "?digest=" + digest, "!");
  EXPECT_EQ(done.status, 201);
  EXPECT_EQ(done.Header("docker-content-digest"), digest);
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/blobs/" + digest).body, "hello world!");
  // The upload is gone once committed.
  EXPECT_EQ(c.Do("GET", location).ErrorCode(), "BLOB_UPLOAD_UNKNOWN");
}

TEST_F(RegistryServerTest, UnknownCancelledAndForeignUploads) {
  RawClient c(port_);
  EXPECT_EQ(c.Do("PATCH", "/v2/lib/app/blobs/uploads/../../etc", "x").ErrorCode(),
            "BLOB_UPLOAD_UNKNOWN");
  EXPECT_EQ(
      c.Do("GET", "/v2/lib/app/blobs/uploads/00000000-0000-0000-0000-000000000000").ErrorCode(),
      "BLOB_UPLOAD_UNKNOWN");
  std::string location = c.Do("POST", "/v2/lib/app/blobs/uploads/").Header("location");
  std::string id = location.substr(location.rfind('/') + 1);
  // Another repository cannot write to it.
  EXPECT_EQ(c.Do("PATCH", "/v2/lib/other/blobs/uploads/" + id, "x").status, 404);
  EXPECT_EQ(c.Do("DELETE", location).status, 204);
  EXPECT_EQ(c.Do("GET", location).status, 404);
  EXPECT_EQ(c.Do("PUT", location + "?digest=" + Digest::Sha256Of("").str()).status, 404);
}

TEST_F(RegistryServerTest, PutWithoutDigestIsRefused) {
  RawClient c(port_);
  std::string location = c.Do("POST", "/v2/lib/app/blobs/uploads/").Header("location");
  EXPECT_EQ(c.Do("PUT", location, "abc").ErrorCode(), "DIGEST_INVALID");
}

TEST_F(RegistryServerTest, CrossRepositoryMount) {
  RawClient c(port_);
  std::string digest = PutBlob(c, "src/repo", "shared layer");
  Reply mounted = c.Do("POST", "/v2/dst/repo/blobs/uploads/?mount=" + digest + "&from=src/repo");
  EXPECT_EQ(mounted.status, 201);
  EXPECT_EQ(mounted.Header("location"), "/v2/dst/repo/blobs/" + digest);
  EXPECT_EQ(c.Do("GET", "/v2/dst/repo/blobs/" + digest).body, "shared layer");
  // Not in the source repository: an ordinary upload starts instead.
  Reply fallback =
      c.Do("POST", "/v2/dst/repo/blobs/uploads/?mount=" + Digest::Sha256Of("nope").str() +
                       "&from=src/repo");
  EXPECT_EQ(fallback.status, 202);
}

TEST_F(RegistryServerTest, ManifestsAreCheckedStoredAndServed) {
  RawClient c(port_);
  std::string manifest = ImageManifest(c, "lib/app", "1");
  std::string digest = Digest::Sha256Of(manifest).str();
  // Naming a blob the repository lacks.
  std::string other = ImageManifest(c, "lib/other", "2");
  Reply missing = c.Do("PUT", "/v2/lib/app/manifests/x", other, {kDockerManifest});
  EXPECT_EQ(missing.status, 400);
  EXPECT_EQ(missing.ErrorCode(), "MANIFEST_BLOB_UNKNOWN");
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/manifests/x").ErrorCode(), "MANIFEST_UNKNOWN");

  Reply put = c.Do("PUT", "/v2/lib/app/manifests/1.0", manifest, {kDockerManifest});
  ASSERT_EQ(put.status, 201) << put.body;
  EXPECT_EQ(put.Header("docker-content-digest"), digest);
  EXPECT_EQ(put.Header("location"), "/v2/lib/app/manifests/" + digest);
  for (const std::string& ref : {std::string("1.0"), digest}) {
    Reply get = c.Do("GET", "/v2/lib/app/manifests/" + ref);
    EXPECT_EQ(get.status, 200);
    EXPECT_EQ(get.body, manifest);
    EXPECT_EQ(get.Header("content-type"), "application/vnd.docker.distribution.manifest.v2+json");
    EXPECT_EQ(get.Header("docker-content-digest"), digest);
    Reply head = c.Do("HEAD", "/v2/lib/app/manifests/" + ref);
    EXPECT_EQ(head.Header("content-length"), std::to_string(manifest.size()));
  }
  // By digest: the bytes must hash to it.
  Reply wrong = c.Do("PUT", "/v2/lib/app/manifests/" + Digest::Sha256Of("x").str(), manifest,
                     {kDockerManifest});
  EXPECT_EQ(wrong.ErrorCode(), "DIGEST_INVALID");
  EXPECT_EQ(c.Do("PUT", "/v2/lib/app/manifests/bad", "{not json", {kDockerManifest}).ErrorCode(),
            "MANIFEST_INVALID");
  Reply schema1 = c.Do("PUT", "/v2/lib/app/manifests/old", R"({"schemaVersion":1,"fsLayers":[]})",
                       {"Content-Type: application/vnd.docker.distribution.manifest.v1+json"});
  EXPECT_EQ(schema1.ErrorCode(), "MANIFEST_INVALID");
  EXPECT_NE(schema1.body.find("schema 1"), std::string::npos);
  Reply mismatch = c.Do("PUT", "/v2/lib/app/manifests/m", manifest,
                        {"Content-Type: application/vnd.oci.image.manifest.v1+json"});
  EXPECT_EQ(mismatch.ErrorCode(), "MANIFEST_INVALID");
  EXPECT_EQ(c.Do("PUT", "/v2/lib/app/manifests/bad:tag", manifest, {kDockerManifest}).status, 400);
  // A name that is not a valid tag cannot name a manifest: 404 to read or delete (issue 15, the
  // v1.1.1 conformance suite), 400 TAG_INVALID only to put.
  const std::string invalid = "-" + std::string(10, 'x');
  EXPECT_EQ(
      c.Do("PUT", "/v2/lib/app/manifests/" + invalid, manifest, {kDockerManifest}).ErrorCode(),
      "TAG_INVALID");
  for (const char* method : {"GET", "HEAD", "DELETE"}) {
    EXPECT_EQ(c.Do(method, "/v2/lib/app/manifests/" + invalid).status, 404) << method;
  }
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/manifests/" + invalid).ErrorCode(), "MANIFEST_UNKNOWN");
}

// Issue 15: a manifest whose annotations nest 100,000 levels deep once crashed the server (the
// JSON library's recursive dump overflowed the stack). It is refused, and the server answers on.
TEST_F(RegistryServerTest, DeeplyNestedManifestIsRefusedAndTheServerSurvives) {
  RawClient c(port_);
  std::string manifest = ImageManifest(c, "lib/app", "1");
  const size_t levels = 100000;
  std::string deep = manifest.substr(0, manifest.size() - 1) + R"(,"annotations":{"a":)" +
                     std::string(levels, '[') + std::string(levels, ']') + "}}";
  Reply r = c.Do("PUT", "/v2/lib/app/manifests/deep", deep, {kDockerManifest});
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.ErrorCode(), "MANIFEST_INVALID");
  EXPECT_NE(r.body.find("deeper than"), std::string::npos) << r.body;
  RawClient c2(port_);
  EXPECT_EQ(c2.Do("GET", "/v2/").status, 200);
  EXPECT_EQ(c2.Do("GET", "/v2/lib/app/manifests/deep").ErrorCode(), "MANIFEST_UNKNOWN");
}

TEST_F(RegistryServerTest, OversizedManifestIsRefusedBeforeItsBody) {
  Stop();
  RegistryOptions options;
  options.max_manifest_bytes = 100;
  Start(options);
  RawClient c(port_);
  Reply r = c.Do("PUT", "/v2/lib/app/manifests/big", std::string(101, ' '), {kDockerManifest});
  EXPECT_EQ(r.status, 413);
  EXPECT_EQ(r.ErrorCode(), "SIZE_INVALID");
  // Chunked: refused as it crosses the limit.
  RawClient c2(port_);
  c2.Send(
      "PUT /v2/lib/app/manifests/big HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
      "64\r\n" +
      std::string(100, ' ') + "\r\n1\r\n \r\n0\r\n\r\n");
  EXPECT_EQ(c2.Receive().status, 413);
}

TEST_F(RegistryServerTest, IndexNeedsItsManifests) {
  RawClient c(port_);
  std::string manifest = ImageManifest(c, "lib/app", "1");
  std::string digest = Digest::Sha256Of(manifest).str();
  Json index = {{"schemaVersion", 2},
                {"mediaType", "application/vnd.oci.image.index.v1+json"},
                {"manifests",
                 {{{"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
                   {"digest", digest},
                   {"size", manifest.size()},
                   {"platform", {{"os", "linux"}, {"architecture", "amd64"}}}}}}};
  std::string type = "Content-Type: application/vnd.oci.image.index.v1+json";
  EXPECT_EQ(c.Do("PUT", "/v2/lib/app/manifests/multi", index.dump(), {type}).ErrorCode(),
            "MANIFEST_UNKNOWN");
  ASSERT_EQ(c.Do("PUT", "/v2/lib/app/manifests/" + digest, manifest, {kDockerManifest}).status,
            201);
  EXPECT_EQ(c.Do("PUT", "/v2/lib/app/manifests/multi", index.dump(), {type}).status, 201);
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/manifests/multi").Header("content-type"),
            "application/vnd.oci.image.index.v1+json");
}

TEST_F(RegistryServerTest, TagsAndCatalogPaginate) {
  RawClient c(port_);
  std::string manifest = ImageManifest(c, "lib/app", "1");
  for (const char* tag : {"b", "a", "c"}) {
    ASSERT_EQ(c.Do("PUT", std::string("/v2/lib/app/manifests/") + tag, manifest, {kDockerManifest})
                  .status,
              201);
  }
  Reply all = c.Do("GET", "/v2/lib/app/tags/list");
  EXPECT_EQ(Json::parse(all.body)["tags"], Json::array({"a", "b", "c"}));
  Reply page = c.Do("GET", "/v2/lib/app/tags/list?n=2");
  EXPECT_EQ(Json::parse(page.body)["tags"], Json::array({"a", "b"}));
  EXPECT_EQ(page.Header("link"), "</v2/lib/app/tags/list?last=b&n=2>; rel=\"next\"");
  Reply next = c.Do("GET", "/v2/lib/app/tags/list?last=b&n=2");
  EXPECT_EQ(Json::parse(next.body)["tags"], Json::array({"c"}));
  EXPECT_EQ(next.Header("link"), "");
  EXPECT_EQ(c.Do("GET", "/v2/nope/tags/list").ErrorCode(), "NAME_UNKNOWN");
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/tags/list?n=x").status, 400);

  PutBlob(c, "zzz/last", "z");
  Reply catalog = c.Do("GET", "/v2/_catalog?n=1");
  EXPECT_EQ(Json::parse(catalog.body)["repositories"], Json::array({"lib/app"}));
  EXPECT_EQ(catalog.Header("link"), "</v2/_catalog?last=lib/app&n=1>; rel=\"next\"");
  Reply rest = c.Do("GET", "/v2/_catalog?last=lib/app&n=1");
  EXPECT_EQ(Json::parse(rest.body)["repositories"], Json::array({"zzz/last"}));
}

TEST_F(RegistryServerTest, ReferrersListSubjectsWithArtifactTypeFilter) {
  RawClient c(port_);
  std::string manifest = ImageManifest(c, "lib/app", "1");
  std::string subject = Digest::Sha256Of(manifest).str();
  ASSERT_EQ(c.Do("PUT", "/v2/lib/app/manifests/1", manifest, {kDockerManifest}).status, 201);
  std::string empty = PutBlob(c, "lib/app", "{}");
  auto artifact = [&](const std::string& type, const std::string& note) {
    return Json{
        {"schemaVersion", 2},
        {"mediaType", "application/vnd.oci.image.manifest.v1+json"},
        {"artifactType", type},
        {"config",
         {{"mediaType", "application/vnd.oci.empty.v1+json"}, {"digest", empty}, {"size", 2}}},
        {"layers", Json::array()},
        {"subject",
         {{"mediaType", "application/vnd.docker.distribution.manifest.v2+json"},
          {"digest", subject},
          {"size", manifest.size()}}},
        {"annotations", {{"note", note}}}}
        .dump();
  };
  std::string sig = artifact("application/example.sig", "signed");
  std::string sbom = artifact("application/example.sbom", "bom");
  std::string oci = "Content-Type: application/vnd.oci.image.manifest.v1+json";
  Reply put = c.Do("PUT", "/v2/lib/app/manifests/" + Digest::Sha256Of(sig).str(), sig, {oci});
  EXPECT_EQ(put.status, 201);
  EXPECT_EQ(put.Header("oci-subject"), subject);
  ASSERT_EQ(
      c.Do("PUT", "/v2/lib/app/manifests/" + Digest::Sha256Of(sbom).str(), sbom, {oci}).status,
      201);
  Reply all = c.Do("GET", "/v2/lib/app/referrers/" + subject);
  EXPECT_EQ(all.status, 200);
  EXPECT_EQ(all.Header("content-type"), "application/vnd.oci.image.index.v1+json");
  Json index = Json::parse(all.body);
  ASSERT_EQ(index["manifests"].size(), 2u);
  Reply filtered =
      c.Do("GET", "/v2/lib/app/referrers/" + subject + "?artifactType=application/example.sig");
  EXPECT_EQ(filtered.Header("oci-filters-applied"), "artifactType");
  Json one = Json::parse(filtered.body)["manifests"];
  ASSERT_EQ(one.size(), 1u);
  EXPECT_EQ(one[0]["digest"], Digest::Sha256Of(sig).str());
  EXPECT_EQ(one[0]["annotations"]["note"], "signed");
  EXPECT_EQ(
      Json::parse(
          c.Do("GET", "/v2/lib/app/referrers/" + Digest::Sha256Of("n").str()).body)["manifests"]
          .size(),
      0u);
}

TEST_F(RegistryServerTest, DeletesManifestsTagsAndBlobs) {
  RawClient c(port_);
  std::string manifest = ImageManifest(c, "lib/app", "1");
  std::string digest = Digest::Sha256Of(manifest).str();
  ASSERT_EQ(c.Do("PUT", "/v2/lib/app/manifests/t1", manifest, {kDockerManifest}).status, 201);
  ASSERT_EQ(c.Do("PUT", "/v2/lib/app/manifests/t2", manifest, {kDockerManifest}).status, 201);
  EXPECT_EQ(c.Do("DELETE", "/v2/lib/app/manifests/t1").status, 202);
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/manifests/t1").status, 404);
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/manifests/t2").status, 200);
  EXPECT_EQ(c.Do("DELETE", "/v2/lib/app/manifests/" + digest).status, 202);
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/manifests/t2").status, 404);
  EXPECT_EQ(c.Do("DELETE", "/v2/lib/app/manifests/" + digest).ErrorCode(), "MANIFEST_UNKNOWN");
  std::string blob = PutBlob(c, "lib/app", "gone soon");
  EXPECT_EQ(c.Do("DELETE", "/v2/lib/app/blobs/" + blob).status, 202);
  EXPECT_EQ(c.Do("HEAD", "/v2/lib/app/blobs/" + blob).status, 404);
}

TEST_F(RegistryServerTest, ReadOnlyRefusesWrites) {
  Stop();
  RegistryOptions options;
  options.read_only = true;
  Start(options);
  RawClient c(port_);
  Reply r = c.Do("POST", "/v2/lib/app/blobs/uploads/");
  EXPECT_EQ(r.status, 405);
  EXPECT_EQ(r.ErrorCode(), "UNSUPPORTED");
  EXPECT_EQ(c.Do("GET", "/v2/").status, 200);
}

TEST_F(RegistryServerTest, BasicAuthFromHtpasswd) {
  crypt_data data{};
  char salt[CRYPT_GENSALT_OUTPUT_SIZE];
  ASSERT_NE(::crypt_gensalt_rn("$2b$", 5, nullptr, 0, salt, sizeof salt), nullptr);
  std::string hash = ::crypt_r("s3cret", salt, &data);
  auto htpasswd = Htpasswd::Parse("# users\nalice:" + hash + "\n", "test");
  ASSERT_TRUE(htpasswd) << htpasswd.error().message;
  EXPECT_FALSE(Htpasswd::Parse("bob:$apr1$xyz$abc\n", "test"));  // MD5: refused, like distribution
  Stop();
  RegistryOptions options;
  options.htpasswd = &*htpasswd;
  Start(options);
  RawClient c(port_);
  Reply anonymous = c.Do("GET", "/v2/");
  EXPECT_EQ(anonymous.status, 401);
  EXPECT_EQ(anonymous.ErrorCode(), "UNAUTHORIZED");
  EXPECT_EQ(anonymous.Header("www-authenticate"), "Basic realm=\"strata-registry\"");
  std::string good = "Authorization: Basic " + Base64Encode("alice:s3cret");
  std::string bad = "Authorization: Basic " + Base64Encode("alice:wrong");
  EXPECT_EQ(c.Do("GET", "/v2/", {}, {bad}).status, 401);
  EXPECT_EQ(c.Do("GET", "/v2/", {}, {good}).status, 200);
  EXPECT_EQ(c.Do("GET", "/v2/", {}, {good}).status, 200);  // the cached path
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/tags/list").status, 401);
  // A refused upload's body is not read: the connection closes after the answer.
  RawClient big(port_);
  Reply refused = big.Do("POST", "/v2/lib/app/blobs/uploads/?digest=" + Digest::Sha256Of("").str(),
                         std::string(2 << 20, 'x'));
  EXPECT_EQ(refused.status, 401);
}

TEST_F(RegistryServerTest, PipelinedRequestsAnswerInOrder) {
  RawClient c(port_);
  c.Send(
      "GET /v2/ HTTP/1.1\r\nHost: x\r\n\r\nGET /v2/nope/tags/list HTTP/1.1\r\nHost: x\r\n\r\n"
      "HEAD /v2/ HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(c.Receive().status, 200);
  EXPECT_EQ(c.Receive().status, 404);
  EXPECT_EQ(c.Receive(true).status, 200);
}

TEST_F(RegistryServerTest, GarbageGetsA400AndTheConnectionCloses) {
  RawClient c(port_);
  c.Send(std::string("\x16\x03\x01\x00\xa5\x01\x00\x00", 8));  // a TLS ClientHello's start
  EXPECT_EQ(c.Receive().status, 400);
  EXPECT_TRUE(c.ClosedByPeer());
}

TEST_F(RegistryServerTest, AnUploadSurvivesARestart) {
  std::string location;
  {
    RawClient c(port_);
    location = c.Do("POST", "/v2/lib/app/blobs/uploads/").Header("location");
    ASSERT_EQ(c.Do("PATCH", location, "first half, ").status, 202);
  }
  Stop();
  Start(RegistryOptions{});
  RawClient c(port_);
  EXPECT_EQ(c.Do("GET", location).Header("range"), "0-11");
  std::string digest = Digest::Sha256Of("first half, second half").str();
  Reply done = c.Do("PUT", location + "?digest=" + digest, "second half");
  EXPECT_EQ(done.status, 201) << done.body;
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/blobs/" + digest).body, "first half, second half");
}

TEST_F(RegistryServerTest, UploadsAbandonedForAWeekGoAtStart) {
  std::string fresh, stale;
  {
    RawClient c(port_);
    fresh = c.Do("POST", "/v2/lib/app/blobs/uploads/").Header("location");
    stale = c.Do("POST", "/v2/lib/app/blobs/uploads/").Header("location");
  }
  Stop();
  std::string id = stale.substr(stale.rfind('/') + 1);
  timeval old[2] = {{::time(nullptr) - 8 * 24 * 3600, 0}, {::time(nullptr) - 8 * 24 * 3600, 0}};
  for (const std::string& suffix : {std::string(), std::string(".repo")}) {
    ASSERT_EQ(::utimes((dir_.path() + "/store/uploads/" + id + suffix).c_str(), old), 0);
  }
  Start(RegistryOptions{});
  RawClient c(port_);
  EXPECT_EQ(c.Do("GET", fresh).status, 204);
  EXPECT_EQ(c.Do("GET", stale).ErrorCode(), "BLOB_UPLOAD_UNKNOWN");
  EXPECT_FALSE(PathExists(dir_.path() + "/store/uploads/" + id));
}

TEST_F(RegistryServerTest, ConcurrentUploadLimit) {
  Stop();
  RegistryOptions options;
  options.max_concurrent_uploads = 1;
  Start(options);
  RawClient a(port_);
  RawClient b(port_);
  std::string la = a.Do("POST", "/v2/lib/app/blobs/uploads/").Header("location");
  std::string lb = b.Do("POST", "/v2/lib/app/blobs/uploads/").Header("location");
  a.Send("PATCH " + la + " HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nhalf");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  Reply refused = b.Do("PATCH", lb, "x");
  EXPECT_EQ(refused.status, 429);
  EXPECT_EQ(refused.ErrorCode(), "TOOMANYREQUESTS");
  a.Send("-and-half");
  EXPECT_EQ(a.Receive().status, 202);
}

TEST_F(RegistryServerTest, GcUnlinksWhatNoManifestNamesAndKeepsTheRest) {
  RawClient c(port_);
  std::string manifest = ImageManifest(c, "lib/app", "1");
  ASSERT_EQ(c.Do("PUT", "/v2/lib/app/manifests/1", manifest, {kDockerManifest}).status, 201);
  std::string stray = PutBlob(c, "lib/app", "stray blob");
  std::string untagged = ImageManifest(c, "lib/app", "2");
  ASSERT_EQ(c.Do("PUT", "/v2/lib/app/manifests/" + Digest::Sha256Of(untagged).str(), untagged,
                 {kDockerManifest})
                .status,
            201);
  // Inside the grace period nothing goes.
  auto young = CollectRegistryGarbage(*store_, {.grace_seconds = 3600, .delete_untagged = true});
  ASSERT_TRUE(young) << young.error().message;
  EXPECT_EQ(young->unlinked_blobs, 0u);
  EXPECT_EQ(young->removed_manifests, 0u);
  auto report = CollectRegistryGarbage(*store_, {.grace_seconds = -10, .delete_untagged = true});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->removed_manifests, 1u);
  EXPECT_EQ(report->unlinked_blobs, 3u);  // the stray blob, and the untagged image's two
  EXPECT_FALSE(store_->content().Exists(*Digest::Parse(stray)));
  EXPECT_EQ(c.Do("HEAD", "/v2/lib/app/blobs/" + stray).status, 404);
  Reply kept = c.Do("GET", "/v2/lib/app/manifests/1");
  EXPECT_EQ(kept.status, 200);
  Json m = Json::parse(kept.body);
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/blobs/" + m["layers"][0]["digest"].get<std::string>()).status,
            200);
  // The store's own gc keeps registry blobs.
  auto plain = CollectGarbage(*store_);
  ASSERT_TRUE(plain);
  EXPECT_EQ(c.Do("GET", "/v2/lib/app/blobs/" + m["config"]["digest"].get<std::string>()).status,
            200);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata::server
