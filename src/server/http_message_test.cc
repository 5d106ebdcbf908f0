#include "server/http_message.h"

#include <gtest/gtest.h>

namespace strata::server {
namespace STRATA_UNITY_ID {

TEST(ParseRequestHead, WaitsForTheBlankLine) {
  Request r;
  auto n = ParseRequestHead("GET /v2/ HTTP/1.1\r\nHost: x\r\n", 1024, r);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, 0u);
}

TEST(ParseRequestHead, ParsesLineHeadersAndQuery) {
  Request r;
  std::string head =
      "PUT /v2/a/b/blobs/uploads/x%2Dy?digest=sha256%3Aab&n=1 HTTP/1.1\r\n"
      "Content-Length: 12\r\nX-Thing:  v  \r\n\r\nbody";
  auto n = ParseRequestHead(head, 1024, r);
  ASSERT_TRUE(n) << n.error().message;
  EXPECT_EQ(*n, head.size() - 4);
  EXPECT_EQ(r.method, "PUT");
  EXPECT_EQ(r.path, "/v2/a/b/blobs/uploads/x-y");
  EXPECT_EQ(r.Query("digest"), "sha256:ab");
  EXPECT_EQ(r.Query("n"), "1");
  EXPECT_FALSE(r.Query("missing"));
  EXPECT_EQ(r.content_length, 12);
  EXPECT_EQ(r.Header("x-thing"), "v");
  EXPECT_TRUE(r.KeepAlive());
}

TEST(ParseRequestHead, RefusesMalformedAndOversizedHeads) {
  Request r;
  EXPECT_FALSE(ParseRequestHead("GET\r\n\r\n", 1024, r));
  EXPECT_FALSE(ParseRequestHead("GET /x HTTP/2.0\r\n\r\n", 1024, r));
  EXPECT_FALSE(ParseRequestHead("GET /x HTTP/1.1\r\nno colon\r\n\r\n", 1024, r));
  EXPECT_FALSE(ParseRequestHead("POST /x HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 1024, r));
  EXPECT_FALSE(ParseRequestHead(
      "POST /x HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n", 1024, r));
  EXPECT_FALSE(ParseRequestHead(std::string(2000, 'A'), 1024, r));
  // A TLS ClientHello is refused from its first bytes, not after the head limit.
  EXPECT_FALSE(ParseRequestHead(std::string("\x16\x03\x01\x02\x00", 5), 1024, r));
}

TEST(ParseRequestHead, Http10ClosesUnlessKeepAlive) {
  Request r;
  ASSERT_TRUE(ParseRequestHead("GET / HTTP/1.0\r\n\r\n", 1024, r));
  EXPECT_FALSE(r.KeepAlive());
  ASSERT_TRUE(ParseRequestHead("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 1024, r));
  EXPECT_TRUE(r.KeepAlive());
  ASSERT_TRUE(ParseRequestHead("GET / HTTP/1.1\r\nConnection: close\r\n\r\n", 1024, r));
  EXPECT_FALSE(r.KeepAlive());
}

TEST(SerializeResponseHead, AddsLengthUnlessSet) {
  Response r(201);
  r.Set("Location", "/x");
  r.body = "abc";
  EXPECT_EQ(SerializeResponseHead(r, true),
            "HTTP/1.1 201 Created\r\nLocation: /x\r\nContent-Length: 3\r\n"
            "Connection: keep-alive\r\n\r\n");
  Response head(200);
  head.Set("Content-Length", "99");
  EXPECT_EQ(SerializeResponseHead(head, false),
            "HTTP/1.1 200 OK\r\nContent-Length: 99\r\nConnection: close\r\n\r\n");
}

TEST(ChunkedDecoder, DecodesAcrossArbitrarySplits) {
  const std::string body =
      "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nT: x\r\n\r\n";
  for (size_t step = 1; step <= body.size(); ++step) {
    ChunkedDecoder d;
    std::string out;
    size_t pos = 0;
    while (pos < body.size() && !d.done()) {
      std::string_view piece = std::string_view(body).substr(pos, step);
      auto used = d.Feed(piece, [&](std::string_view s) -> Status {
        out.append(s);
        return {};
      });
      ASSERT_TRUE(used) << used.error().message;
      pos += *used;
    }
    EXPECT_TRUE(d.done()) << "step " << step;
    EXPECT_EQ(pos, body.size());
    EXPECT_EQ(out, "Wikipedia in\r\n\r\nchunks.") << "step " << step;
  }
}

TEST(ChunkedDecoder, RefusesBadFraming) {
  auto feed = [](std::string_view text) {
    ChunkedDecoder d;
    return d.Feed(text, [](std::string_view) -> Status { return {}; });
  };
  EXPECT_FALSE(feed("zz\r\n"));
  EXPECT_FALSE(feed("3\r\nabcX"));
  EXPECT_FALSE(feed("1000000000000000\r\n"));
}

TEST(PercentCoding, RoundTrips) {
  EXPECT_EQ(PercentDecode("a%2Fb+c%zz", true), "a/b c%zz");
  EXPECT_EQ(PercentDecode("a+b", false), "a+b");
  EXPECT_EQ(PercentEncode("lib/busy box&x"), "lib/busy%20box%26x");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata::server
