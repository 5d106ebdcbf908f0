// Errors as values: every fallible call in libstrata returns Result<T> (or Status = Result<void>).
// The message names the object (path, digest, reference) and what was expected, so the CLI can
// print it as is.
#pragma once

#include <string>
#include <tl/expected.hpp>
#include <utility>

namespace strata {

struct Error {
  std::string message;
};

template <typename T>
using Result = tl::expected<T, Error>;
using Status = Result<void>;

inline tl::unexpected<Error> Fail(std::string message) {
  return tl::unexpected<Error>(Error{std::move(message)});
}

// Adds context in front of an error: "loading foo.tar: " + cause.
inline tl::unexpected<Error> Wrap(const std::string& context, const Error& cause) {
  return tl::unexpected<Error>(Error{context + ": " + cause.message});
}

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
