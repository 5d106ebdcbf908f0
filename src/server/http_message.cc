#include "server/http_message.h"

#include <algorithm>
#include <charconv>

namespace strata::server {
namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) { return Lower(x) == y; });
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// A header token: visible ASCII except separators (RFC 9110 tchar).
bool IsToken(std::string_view s) {
  if (s.empty()) return false;
  for (unsigned char c : s) {
    if (c <= ' ' || c >= 127 ||
        std::string_view("()<>@,;:\\\"/[]?={}").find(static_cast<char>(c)) !=
            std::string_view::npos) {
      return false;
    }
  }
  return true;
}

}  // namespace

std::optional<std::string_view> Request::Header(std::string_view lower_name) const {
  for (const auto& [name, value] : headers) {
    if (name == lower_name) return std::string_view(value);
  }
  return std::nullopt;
}

std::optional<std::string> Request::Query(std::string_view key) const {
  std::string_view rest = query;
  while (!rest.empty()) {
    size_t amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    rest = amp == std::string_view::npos ? std::string_view() : rest.substr(amp + 1);
    size_t eq = pair.find('=');
    if (PercentDecode(pair.substr(0, eq), true) != key) continue;
    return eq == std::string_view::npos ? std::string() : PercentDecode(pair.substr(eq + 1), true);
  }
  return std::nullopt;
}

bool Request::KeepAlive() const {
  auto connection = Header("connection");
  if (connection) {
    if (EqualsIgnoreCase(Trim(*connection), "close")) return false;
    if (EqualsIgnoreCase(Trim(*connection), "keep-alive")) return true;
  }
  return !http10;
}

Response& Response::Set(std::string name, std::string value) {
  headers.emplace_back(std::move(name), std::move(value));
  return *this;
}

Result<size_t> ParseRequestHead(std::string_view buffer, size_t max_head, Request& out) {
  // Fail at once on what cannot start a request line (a TLS ClientHello starts 0x16 0x03): a
  // client trying https first gets its answer now instead of waiting for a head that never ends.
  for (size_t i = 0; i < buffer.size() && i < 16 && buffer[i] != ' '; ++i) {
    if (!IsToken(buffer.substr(i, 1))) return Fail("not an HTTP request");
  }
  size_t end = buffer.find("\r\n\r\n");
  size_t head_size = end == std::string_view::npos ? 0 : end + 4;
  if (head_size == 0) {
    if (buffer.size() > max_head)
      return Fail("request head longer than " + std::to_string(max_head));
    return size_t{0};
  }
  if (head_size > max_head) return Fail("request head longer than " + std::to_string(max_head));
  std::string_view head = buffer.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string_view line = head.substr(0, line_end);
  head = line_end == std::string_view::npos ? std::string_view() : head.substr(line_end + 2);

  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos) return Fail("malformed request line");
  out = Request{};
  out.method = std::string(line.substr(0, sp1));
  out.target = std::string(line.substr(sp1 + 1, sp2 - sp1 - 1));
  std::string_view version = line.substr(sp2 + 1);
  if (!IsToken(out.method) || out.target.empty() || out.target[0] != '/') {
    return Fail("malformed request line");
  }
  if (version == "HTTP/1.0") {
    out.http10 = true;
  } else if (version != "HTTP/1.1") {
    return Fail("unsupported HTTP version");
  }
  size_t q = out.target.find('?');
  out.path = PercentDecode(std::string_view(out.target).substr(0, q), false);
  if (q != std::string::npos) out.query = out.target.substr(q + 1);

  while (!head.empty()) {
    size_t e = head.find("\r\n");
    std::string_view h = head.substr(0, e);
    head = e == std::string_view::npos ? std::string_view() : head.substr(e + 2);
    size_t colon = h.find(':');
    if (colon == std::string_view::npos || !IsToken(h.substr(0, colon))) {
      return Fail("malformed header line");
    }
    std::string name(h.substr(0, colon));
    for (char& c : name) c = Lower(c);
    out.headers.emplace_back(std::move(name), std::string(Trim(h.substr(colon + 1))));
  }
  if (auto te = out.Header("transfer-encoding")) {
    if (!EqualsIgnoreCase(*te, "chunked")) return Fail("unsupported Transfer-Encoding");
    out.chunked = true;
  }
  if (auto cl = out.Header("content-length")) {
    if (out.chunked) return Fail("both Content-Length and chunked Transfer-Encoding");
    uint64_t n = 0;
    auto [ptr, ec] = std::from_chars(cl->data(), cl->data() + cl->size(), n);
    if (ec != std::errc() || ptr != cl->data() + cl->size() || n > (uint64_t{1} << 62)) {
      return Fail("malformed Content-Length");
    }
    out.content_length = static_cast<int64_t>(n);
  }
  return head_size;
}

std::string SerializeResponseHead(const Response& response, bool keep_alive) {
  std::string out = "HTTP/1.1 " + std::to_string(response.status) + " ";
  out += ReasonPhrase(response.status);
  out += "\r\n";
  bool has_length = false;
  for (const auto& [name, value] : response.headers) {
    has_length = has_length || EqualsIgnoreCase(name, "content-length");
    out += name;
    out += ": ";
    out += value;
    out += "\r\n";
  }
  if (!has_length && response.status != 204 && response.status != 304) {
    out += "Content-Length: " + std::to_string(response.BodyLength()) + "\r\n";
  }
  out += keep_alive ? "Connection: keep-alive\r\n\r\n" : "Connection: close\r\n\r\n";
  return out;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 100:
      return "Continue";
    case 200:
      return "OK";
    case 201:
      return "Created";
    case 202:
      return "Accepted";
    case 204:
      return "No Content";
    case 206:
      return "Partial Content";
    case 307:
      return "Temporary Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 411:
      return "Length Required";
    case 413:
      return "Payload Too Large";
    case 416:
      return "Range Not Satisfiable";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    default:
      return "Unknown";
  }
}

std::string PercentDecode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '%' && i + 2 < text.size() && HexValue(text[i + 1]) >= 0 &&
        HexValue(text[i + 2]) >= 0) {
      out += static_cast<char>(HexValue(text[i + 1]) * 16 + HexValue(text[i + 2]));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out;
}

std::string PercentEncode(std::string_view text) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : text) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~' || c == '/' || c == ':') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

Status ChunkedDecoder::Step(char c) {
  switch (state_) {
    case State::kSize: {
      int v = HexValue(c);
      if (v >= 0) {
        if (++size_digits_ > 15) return Fail("chunk size too large");
        remaining_ = remaining_ * 16 + static_cast<uint64_t>(v);
        return {};
      }
      if (size_digits_ == 0) return Fail("malformed chunk size");
      if (c == ';' || c == ' ' || c == '\t') {
        state_ = State::kSizeLine;
        return {};
      }
      if (c == '\r') return {};
      if (c != '\n') return Fail("malformed chunk size");
      break;
    }
    case State::kSizeLine:
      if (c != '\n') return {};
      break;
    case State::kDataEnd:
      if (c == '\r') return {};
      if (c != '\n') return Fail("chunk not followed by CRLF");
      state_ = State::kSize;
      remaining_ = 0;
      size_digits_ = 0;
      return {};
    case State::kTrailer:
      if (c == '\r') return {};
      if (c == '\n') {
        if (trailer_line_ == 0) state_ = State::kDone;
        trailer_line_ = 0;
        return {};
      }
      if (++trailer_line_ > 8192) return Fail("chunk trailer too long");
      return {};
    case State::kData:
    case State::kDone:
      return {};
  }
  // End of a chunk-size line.
  state_ = remaining_ == 0 ? State::kTrailer : State::kData;
  return {};
}

}  // namespace strata::server
