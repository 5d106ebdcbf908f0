// Errors as values: every fallible call in libstrata returns Result<T> (or Status = Result<void>).
// The message names the object (path, digest, reference) and what was expected, so the CLI can
// print it as is. The code says what kind of failure it was, so that callers decide on it
// (retry, fall back, which exit status or HTTP status) and never on the message's words. Codes
// are set where an error originates; Wrap, STRATA_TRY and STRATA_ASSIGN keep them. An error made
// without one (Fail(message)) is kUnknown: an internal or I/O failure nobody acts on.
// Mappings to exit and HTTP statuses: util/error_status.h and cli/exit_status.h.
#pragma once

#include <cstdint>
#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace strata {

// The kinds of containerd's errdefs (and moby's), which the Engine API maps to HTTP statuses.
enum class ErrorCode : uint8_t {
  kUnknown,          // not classified: internal, I/O
  kInvalidArgument,  // the caller's input is malformed: a reference, flag, digest, JSON
  kNotFound,         // what was asked for does not exist (an image, a blob, a manifest)
  kAlreadyExists,    // what was to be created is there already
  kConflict,         // the operation contradicts the current state (an image in use)
  kUnauthenticated,  // credentials are missing or refused (HTTP 401)
  kDenied,           // authenticated, but not allowed (HTTP 403)
  kUnavailable,      // transient: connection failure, timeout, HTTP 429 or 5xx; may be retried
  kCorrupt,          // bytes that do not match their digest, truncated or damaged data
  kCancelled,        // SIGINT or SIGTERM (util/cancel.h)
};

struct Error {
  std::string message;
  ErrorCode code = ErrorCode::kUnknown;
  // A TLS handshake failed: the peer may speak plain HTTP on that port (an insecure registry).
  bool tls_handshake = false;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> Fail(std::string message) {
  return tl::unexpected<Error>(Error{std::move(message)});
}

inline tl::unexpected<Error> Fail(ErrorCode code, std::string message) {
  return tl::unexpected<Error>(Error{std::move(message), code});
}

// Adds context in front of an error: "loading foo.tar: " + cause. Keeps its code.
inline tl::unexpected<Error> Wrap(const std::string& context, const Error& cause) {
  Error e = cause;
  e.message = context + ": " + cause.message;
  return tl::unexpected<Error>(std::move(e));
}

// The cause's kind with a message of its own (where the cause's text is placed otherwise).
inline tl::unexpected<Error> Rephrase(const Error& cause, std::string message) {
  Error e = cause;
  e.message = std::move(message);
  return tl::unexpected<Error>(std::move(e));
}

inline bool IsInvalidArgument(const Error& e) { return e.code == ErrorCode::kInvalidArgument; }
inline bool IsNotFound(const Error& e) { return e.code == ErrorCode::kNotFound; }
inline bool IsAlreadyExists(const Error& e) { return e.code == ErrorCode::kAlreadyExists; }
inline bool IsConflict(const Error& e) { return e.code == ErrorCode::kConflict; }
inline bool IsUnauthenticated(const Error& e) { return e.code == ErrorCode::kUnauthenticated; }
inline bool IsDenied(const Error& e) { return e.code == ErrorCode::kDenied; }
inline bool IsUnavailable(const Error& e) { return e.code == ErrorCode::kUnavailable; }
inline bool IsCorrupt(const Error& e) { return e.code == ErrorCode::kCorrupt; }
inline bool IsCancelled(const Error& e) { return e.code == ErrorCode::kCancelled; }

}  // namespace strata

// Propagates an error from an expression returning Result/Status.
#define STRATA_TRY(expr)                                                        \
  do {                                                                          \
    auto&& strata_try_result_ = (expr);                                         \
    if (!strata_try_result_) return tl::unexpected(strata_try_result_.error()); \
  } while (0)

// Evaluates a Result, propagating its error, and binds the value to `var`.
#define STRATA_ASSIGN(var, expr)                                    \
  auto var##_result_ = (expr);                                      \
  if (!var##_result_) return tl::unexpected(var##_result_.error()); \
  auto var = std::move(*var##_result_)
