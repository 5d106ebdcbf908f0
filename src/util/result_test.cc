// Error kinds: set by Fail, kept by Wrap, Rephrase, STRATA_TRY and STRATA_ASSIGN, and mapped to
// HTTP statuses as moby maps errdefs.
#include "util/result.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <iterator>
#include <set>
#include <string>

#include "util/cancel.h"
#include "util/error_status.h"

namespace strata {
namespace STRATA_UNITY_ID {

Status FailWith(ErrorCode code) { return Fail(code, "the cause"); }

Status Tried(ErrorCode code) {
  STRATA_TRY(FailWith(code));
  return {};
}

Result<int> Assigned(ErrorCode code) {
  auto source = [code]() -> Result<int> {
    if (code == ErrorCode::kUnknown) return 1;
    return Fail(code, "the cause");
  };
  STRATA_ASSIGN(n, source());
  return n + 1;
}

constexpr ErrorCode kAllCodes[] = {
    ErrorCode::kUnknown,       ErrorCode::kInvalidArgument, ErrorCode::kNotFound,
    ErrorCode::kAlreadyExists, ErrorCode::kConflict,        ErrorCode::kUnauthenticated,
    ErrorCode::kDenied,        ErrorCode::kUnavailable,     ErrorCode::kCorrupt,
    ErrorCode::kCancelled,
};

TEST(ResultTest, FailWithoutACodeIsUnknown) {
  Status st = Fail("plain");
  ASSERT_FALSE(st);
  EXPECT_EQ(st.error().code, ErrorCode::kUnknown);
  EXPECT_EQ(st.error().message, "plain");
  EXPECT_FALSE(st.error().tls_handshake);
  EXPECT_FALSE(IsNotFound(st.error()));
}

TEST(ResultTest, TheCodeSurvivesWrapRephraseTryAndAssign) {
  for (ErrorCode code : kAllCodes) {
    SCOPED_TRACE(ErrorCodeName(code));
    Error cause{"the cause", code, /*tls_handshake=*/true};
    auto wrapped = Wrap("context", cause);
    EXPECT_EQ(wrapped.value().message, "context: the cause");
    EXPECT_EQ(wrapped.value().code, code);
    EXPECT_TRUE(wrapped.value().tls_handshake);
    auto rephrased = Rephrase(cause, "other words");
    EXPECT_EQ(rephrased.value().message, "other words");
    EXPECT_EQ(rephrased.value().code, code);
    EXPECT_TRUE(rephrased.value().tls_handshake);
    EXPECT_EQ(Tried(code).error().code, code);
    EXPECT_EQ(Tried(code).error().message, "the cause");
  }
  EXPECT_EQ(*Assigned(ErrorCode::kUnknown), 2);
  EXPECT_EQ(Assigned(ErrorCode::kNotFound).error().code, ErrorCode::kNotFound);
  EXPECT_EQ(Assigned(ErrorCode::kCorrupt).error().code, ErrorCode::kCorrupt);
}

TEST(ResultTest, EachPredicateMatchesItsCodeOnly) {
  using Predicate = bool (*)(const Error&);
  const std::pair<ErrorCode, Predicate> predicates[] = {
      {ErrorCode::kInvalidArgument, IsInvalidArgument},
      {ErrorCode::kNotFound, IsNotFound},
      {ErrorCode::kAlreadyExists, IsAlreadyExists},
      {ErrorCode::kConflict, IsConflict},
      {ErrorCode::kUnauthenticated, IsUnauthenticated},
      {ErrorCode::kDenied, IsDenied},
      {ErrorCode::kUnavailable, IsUnavailable},
      {ErrorCode::kCorrupt, IsCorrupt},
      {ErrorCode::kCancelled, IsCancelled},
  };
  for (const auto& [own, predicate] : predicates) {
    for (ErrorCode code : kAllCodes) {
      EXPECT_EQ(predicate(Error{"x", code}), code == own)
          << ErrorCodeName(own) << " vs " << ErrorCodeName(code);
    }
  }
}

TEST(ResultTest, HttpStatusAsMobyMapsErrdefs) {
  EXPECT_EQ(HttpStatusFor(ErrorCode::kNotFound), 404);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kInvalidArgument), 400);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kConflict), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kAlreadyExists), 409);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnauthenticated), 401);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kDenied), 403);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnavailable), 503);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kUnknown), 500);
  EXPECT_EQ(HttpStatusFor(ErrorCode::kCorrupt), 500);    // errdefs.IsDataLoss
  EXPECT_EQ(HttpStatusFor(ErrorCode::kCancelled), 500);  // errdefs.IsCancelled
}

TEST(ResultTest, EveryCodeHasItsOwnName) {
  std::set<std::string> names;
  for (ErrorCode code : kAllCodes) names.insert(ErrorCodeName(code));
  EXPECT_EQ(names.size(), std::size(kAllCodes));
  EXPECT_STREQ(ErrorCodeName(ErrorCode::kNotFound), "not found");
}

TEST(ResultTest, CancellationIsOfKindCancelled) {
  SetCancelSignalForTesting(SIGINT);
  Error e = CancelledError();
  SetCancelSignalForTesting(0);
  EXPECT_EQ(e.message, "cancelled by SIGINT");
  EXPECT_TRUE(IsCancelled(e));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
