// HTTP/1.1 messages as the embedded server sees them: a request head parsed incrementally from
// the bytes received so far, a chunked-body decoder, and a response whose body is either bytes in
// memory or a range of an open file (sent with sendfile, never read into memory).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "util/file.h"
#include "util/result.h"

namespace strata::server {

struct Request {
  std::string method;
  std::string target;                                        // as sent: path and query
  std::string path;                                          // before '?', percent-decoded
  std::string query;                                         // after '?', raw
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-cased
  bool http10 = false;
  int64_t content_length = -1;  // -1: none (or chunked)
  bool chunked = false;
  std::string peer;  // client address, for the access log
  std::string user;  // set once authenticated

  // The first value of a header; `lower_name` must be lower case.
  std::optional<std::string_view> Header(std::string_view lower_name) const;
  // A query parameter, percent-decoded ("+" is a space, as in forms).
  std::optional<std::string> Query(std::string_view key) const;
  bool HasBody() const { return chunked || content_length > 0; }
  bool KeepAlive() const;
};

struct Response {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A file body: `file_length` bytes of `file` from `file_offset`, sent after `body` (if any).
  UniqueFd file;
  uint64_t file_offset = 0;
  uint64_t file_length = 0;
  // HEAD: the headers describe a body (Content-Length set by the handler), none is sent.
  bool omit_body = false;
  bool close = false;  // close the connection after this response

  Response() = default;
  explicit Response(int s) : status(s) {}
  Response& Set(std::string name, std::string value);
  uint64_t BodyLength() const { return body.size() + file_length; }
};

// Parses a request head from the start of `buffer`. Returns the number of bytes the head takes
// (through the blank line), 0 if it is not complete yet, or an error for a malformed head or
// one longer than `max_head`.
Result<size_t> ParseRequestHead(std::string_view buffer, size_t max_head, Request& out);

// The status line and headers of `response`, with Content-Length (unless the handler set one)
// and Connection. Date is left out: clients of a registry do not need it.
std::string SerializeResponseHead(const Response& response, bool keep_alive);

std::string_view ReasonPhrase(int status);
std::string PercentDecode(std::string_view text, bool plus_is_space);
std::string PercentEncode(std::string_view text);  // for query values

// Decodes a chunked transfer-encoded body incrementally. Feed() returns the number of input
// bytes consumed and appends decoded bytes through `out` (called with pieces of the input).
class ChunkedDecoder {
 public:
  template <typename Out>
  Result<size_t> Feed(std::string_view input, Out&& out);
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State { kSize, kSizeLine, kData, kDataEnd, kTrailer, kDone };
  // Consumes one framing byte; returns an error for bad framing.
  Status Step(char c);
  State state_ = State::kSize;
  uint64_t remaining_ = 0;
  int size_digits_ = 0;
  int trailer_line_ = 0;  // bytes on the current trailer line
};

template <typename Out>
Result<size_t> ChunkedDecoder::Feed(std::string_view input, Out&& out) {
  size_t i = 0;
  while (i < input.size() && state_ != State::kDone) {
    if (state_ == State::kData) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, input.size() - i));
      STRATA_TRY(out(input.substr(i, n)));
      i += n;
      remaining_ -= n;
      if (remaining_ == 0) state_ = State::kDataEnd;
      continue;
    }
    STRATA_TRY(Step(input[i]));
    ++i;
  }
  return i;
}

}  // namespace strata::server
