#include "registry/http_client.h"

#include <curl/curl.h>
#include <strings.h>

#include <algorithm>
#include <cstring>

#include "util/cancel.h"

namespace strata {

std::optional<std::string> HttpHeaders::Get(std::string_view name) const {
  for (const auto& [k, v] : items_) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0) {
      return v;
    }
  }
  return std::nullopt;
}

std::vector<std::string> HttpHeaders::GetAll(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : items_) {
    if (k.size() == name.size() && ::strncasecmp(k.data(), name.data(), name.size()) == 0) {
      out.push_back(v);
    }
  }
  return out;
}

struct HttpStream::Transfer {
  HttpClient* client = nullptr;
  CURL* easy = nullptr;
  CURLM* multi = nullptr;
  curl_slist* header_list = nullptr;
  std::string url;
  bool follow = false;
  // Response body: bytes curl delivered that no Read has taken yet, buffer[offset..]. While a
  // Read waits, curl writes straight into the reader's memory instead (direct), saving a copy.
  std::string buffer;
  size_t offset = 0;
  char* direct = nullptr;
  size_t direct_size = 0;
  size_t direct_got = 0;
  long status = 0;
  HttpHeaders headers;
  bool headers_done = false;
  bool finished = false;
  bool paused = false;
  CURLcode result = CURLE_OK;
  char errbuf[CURL_ERROR_SIZE] = {};
  // Request body
  Reader* body_reader = nullptr;
  std::optional<Error> body_error;

  ~Transfer() {
    if (multi != nullptr) {
      curl_multi_remove_handle(multi, easy);
      curl_multi_cleanup(multi);
    }
    if (header_list != nullptr) curl_slist_free_all(header_list);
    if (easy != nullptr) {
      // A transfer cut short may leave its connection unusable; curl closes it when needed.
      client->ReturnHandle(easy);
    }
  }

  // What kind of failure the transfer's end was: a network one is transient, except a
  // certificate that does not verify (retrying cannot help); an error of the request body's
  // reader keeps its own kind.
  Error TransferError() const {
    Error e{ErrorText(), ErrorCode::kUnavailable};
    if (body_error && (result == CURLE_ABORTED_BY_CALLBACK || result == CURLE_READ_ERROR)) {
      e.code = body_error->code;
    } else if (result == CURLE_PEER_FAILED_VERIFICATION || result == CURLE_SSL_CACERT_BADFILE ||
               result == CURLE_SSL_CERTPROBLEM) {
      e.code = ErrorCode::kUnknown;
    }
    e.tls_handshake = result == CURLE_SSL_CONNECT_ERROR;
    return e;
  }

  std::string ErrorText() const {
    std::string text = errbuf[0] != '\0' ? std::string(errbuf) : curl_easy_strerror(result);
    if (body_error) text += " (" + body_error->message + ")";
    return url + ": " + text;
  }

  // Moves the transfer forward a little, waiting up to a second for the network.
  void Pump() {
    if (paused) {
      paused = false;
      curl_easy_pause(easy, CURLPAUSE_CONT);  // may deliver the held chunk right away
    }
    int running = 0;
    curl_multi_perform(multi, &running);
    int left = 0;
    while (CURLMsg* msg = curl_multi_info_read(multi, &left)) {
      if (msg->msg == CURLMSG_DONE) {
        finished = true;
        result = msg->data.result;
      }
    }
    if (!finished && running > 0 && buffer.size() == offset && direct_got == 0) {
      curl_multi_poll(multi, nullptr, 0, 1000, nullptr);
    }
  }
};

namespace {

size_t OnHeader(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<HttpStream::Transfer*>(user);
  const size_t n = size * count;
  std::string line(data, n);
  while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.pop_back();
  if (line.rfind("HTTP/", 0) == 0) {
    t->headers.Clear();
    size_t sp = line.find(' ');
    t->status = sp == std::string::npos ? 0 : std::atol(line.c_str() + sp + 1);
  } else if (line.empty()) {
    const bool redirect = t->follow && (t->status == 301 || t->status == 302 || t->status == 303 ||
                                        t->status == 307 || t->status == 308);
    if (t->status >= 200 && !redirect) t->headers_done = true;
  } else {
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      size_t v = colon + 1;
      while (v < line.size() && (line[v] == ' ' || line[v] == '\t')) ++v;
      t->headers.Add(line.substr(0, colon), line.substr(v));
    }
  }
  return n;
}

// Body bytes wait here until the reader takes them; past this much, curl is paused so a fast
// sender cannot make a stream hold more than about this in memory.
constexpr size_t kMaxBuffered = 1 << 20;

size_t OnBody(char* data, size_t size, size_t count, void* user) {
  auto* t = static_cast<HttpStream::Transfer*>(user);
  t->headers_done = true;
  if (t->offset == t->buffer.size()) {
    t->buffer.clear();
    t->offset = 0;
  }
  size_t n = size * count;
  if (t->direct != nullptr && t->offset == t->buffer.size()) {
    const size_t take = std::min(n, t->direct_size - t->direct_got);
    std::memcpy(t->direct + t->direct_got, data, take);
    t->direct_got += take;
    data += take;
    n -= take;
    if (n == 0) return size * count;
  }
  if (t->buffer.size() - t->offset >= kMaxBuffered) {
    // curl keeps this chunk and delivers it again on resume. (No part of it went to a reader:
    // that happens only while the buffer is empty.)
    t->paused = true;
    return CURL_WRITEFUNC_PAUSE;
  }
  t->buffer.append(data, n);
  return size * count;
}

size_t OnRead(char* buffer, size_t size, size_t count, void* user) {
  auto* t = static_cast<HttpStream::Transfer*>(user);
  auto n = t->body_reader->Read(buffer, size * count);
  if (!n) {
    t->body_error = n.error();
    return CURL_READFUNC_ABORT;
  }
  return *n;
}

void InitCurlOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

HttpClient::HttpClient(TlsOptions tls) : tls_(std::move(tls)) { InitCurlOnce(); }

HttpClient::~HttpClient() {
  for (void* h : idle_) curl_easy_cleanup(static_cast<CURL*>(h));
}

void* HttpClient::TakeHandle() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!idle_.empty()) {
      void* h = idle_.back();
      idle_.pop_back();
      return h;
    }
  }
  return curl_easy_init();
}

void HttpClient::ReturnHandle(void* handle) {
  std::lock_guard<std::mutex> lock(mu_);
  if (idle_.size() < 16) {
    idle_.push_back(handle);
  } else {
    curl_easy_cleanup(static_cast<CURL*>(handle));
  }
}

Result<std::unique_ptr<HttpStream>> HttpClient::Stream(const HttpRequest& request) {
  auto t = std::make_unique<HttpStream::Transfer>();
  t->client = this;
  t->easy = static_cast<CURL*>(TakeHandle());
  if (t->easy == nullptr) return Fail("curl: cannot create a handle");
  t->url = request.url;
  t->follow = request.follow_redirects;
  CURL* e = t->easy;
  curl_easy_reset(e);
  curl_easy_setopt(e, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(e, CURLOPT_USERAGENT, "strata/0.1");
  curl_easy_setopt(e, CURLOPT_ERRORBUFFER, t->errbuf);
  curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT, 30L);
  // No total timeout (blobs are large); give up on a transfer stalled for a minute.
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, 60L);
  curl_easy_setopt(e, CURLOPT_BUFFERSIZE, 512L * 1024L);
  curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L);
  curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(e, CURLOPT_HEADERDATA, t.get());
  curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(e, CURLOPT_WRITEDATA, t.get());
  curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, request.follow_redirects ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_MAXREDIRS, 10L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYPEER, tls_.verify ? 1L : 0L);
  curl_easy_setopt(e, CURLOPT_SSL_VERIFYHOST, tls_.verify ? 2L : 0L);
  if (!tls_.ca_file.empty()) {
    curl_easy_setopt(e, CURLOPT_CAINFO, tls_.ca_file.c_str());
    curl_easy_setopt(e, CURLOPT_CAPATH, "/etc/ssl/certs");  // keep the system CAs too
  }
  if (!tls_.cert_file.empty()) curl_easy_setopt(e, CURLOPT_SSLCERT, tls_.cert_file.c_str());
  if (!tls_.key_file.empty()) curl_easy_setopt(e, CURLOPT_SSLKEY, tls_.key_file.c_str());

  std::vector<std::string> headers = request.headers;
  headers.push_back("Expect:");  // no 100-continue round trip
  const std::string& m = request.method;
  if (m == "HEAD") {
    curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
  } else if (m != "GET") {
    if (request.body_reader != nullptr) {
      t->body_reader = request.body_reader;
      curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
      curl_easy_setopt(e, CURLOPT_READFUNCTION, OnRead);
      curl_easy_setopt(e, CURLOPT_READDATA, t.get());
      if (request.body_size >= 0) {
        curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, static_cast<curl_off_t>(request.body_size));
      } else {
        headers.push_back("Transfer-Encoding: chunked");
      }
    } else {
      curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
                       static_cast<curl_off_t>(request.body.size()));
      curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, request.body.c_str());
    }
    curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, m.c_str());
  }
  for (const std::string& h : headers)
    t->header_list = curl_slist_append(t->header_list, h.c_str());
  curl_easy_setopt(e, CURLOPT_HTTPHEADER, t->header_list);

  t->multi = curl_multi_init();
  if (t->multi == nullptr) return Fail("curl: cannot create a multi handle");
  curl_multi_add_handle(t->multi, e);
  while (!t->headers_done && !t->finished && !CancelRequested()) t->Pump();
  if (!t->headers_done && !t->finished) return tl::unexpected(CancelledError());
  if (t->finished && t->result != CURLE_OK && !t->headers_done) {
    return tl::unexpected(t->TransferError());
  }
  std::unique_ptr<HttpStream> stream(new HttpStream(std::move(t)));
  return stream;
}

HttpStream::HttpStream(std::unique_ptr<Transfer> t) : t_(std::move(t)) {
  status_ = t_->status;
  headers_ = t_->headers;
}

HttpStream::~HttpStream() = default;

Result<size_t> HttpStream::Read(char* buffer, size_t size) {
  Transfer& t = *t_;
  if (t.offset == t.buffer.size() && !t.finished && size > 0) {
    t.direct = buffer;
    t.direct_size = size;
    t.direct_got = 0;
    while (t.direct_got == 0 && t.offset == t.buffer.size() && !t.finished && !CancelRequested()) {
      t.Pump();
    }
    const size_t got = t.direct_got;
    t.direct = nullptr;
    t.direct_got = 0;
    if (got > 0) return got;
  }
  while (t.offset == t.buffer.size() && !t.finished && !CancelRequested()) t.Pump();
  if (t.offset < t.buffer.size()) {
    size_t n = std::min(size, t.buffer.size() - t.offset);
    std::memcpy(buffer, t.buffer.data() + t.offset, n);
    t.offset += n;
    return n;
  }
  if (!t.finished) return tl::unexpected(CancelledError());  // Ctrl-C: stop waiting
  if (t.result != CURLE_OK) return tl::unexpected(t.TransferError());
  return 0;
}

Result<HttpResponse> HttpClient::Do(const HttpRequest& request, uint64_t max_body) {
  STRATA_ASSIGN(stream, Stream(request));
  HttpResponse response;
  response.status = stream->status();
  response.headers = stream->headers();
  if (auto length = response.headers.Get("Content-Length"); length && request.method != "HEAD") {
    if (std::strtoull(length->c_str(), nullptr, 10) > max_body) {
      return Fail(request.url + ": the response body is " + *length + " bytes, over the limit of " +
                  std::to_string(max_body));
    }
  }
  std::string chunk(64 << 10, '\0');
  for (;;) {
    STRATA_ASSIGN(n, stream->Read(chunk.data(), chunk.size()));
    if (n == 0) break;
    if (response.body.size() + n > max_body) {
      return Fail(request.url + ": the response body is over the limit of " +
                  std::to_string(max_body) + " bytes");
    }
    response.body.append(chunk.data(), n);
  }
  return response;
}

}  // namespace strata
