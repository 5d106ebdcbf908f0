// The CLI's exit status from an error's kind: docker's 1 for every failure of a command, 130 and
// 143 for one cancelled by SIGINT and SIGTERM.
#include "cli/exit_status.h"

#include <gtest/gtest.h>
#include <signal.h>

namespace strata::cli {
namespace STRATA_UNITY_ID {

TEST(ExitStatusTest, EveryFailureOfACommandIsOne) {
  for (ErrorCode code :
       {ErrorCode::kUnknown, ErrorCode::kInvalidArgument, ErrorCode::kNotFound,
        ErrorCode::kAlreadyExists, ErrorCode::kConflict, ErrorCode::kUnauthenticated,
        ErrorCode::kDenied, ErrorCode::kUnavailable, ErrorCode::kCorrupt}) {
    EXPECT_EQ(ExitStatusFor(Error{"x", code}, 0), 1);
    EXPECT_EQ(ExitStatusFor(Error{"x", code}, SIGINT), 1);  // a failure the signal did not cause
  }
  EXPECT_EQ(kExitFailure, 1);
  EXPECT_EQ(kExitBadFlag, 125);
}

TEST(ExitStatusTest, ACancellationIs128PlusTheSignal) {
  EXPECT_EQ(ExitStatusFor(Error{"cancelled by SIGINT", ErrorCode::kCancelled}, SIGINT), 130);
  EXPECT_EQ(ExitStatusFor(Error{"cancelled by SIGTERM", ErrorCode::kCancelled}, SIGTERM), 143);
  // A pull abandoned because another layer failed, with no signal: a plain failure.
  EXPECT_EQ(ExitStatusFor(Error{"cancelled", ErrorCode::kCancelled}, 0), 1);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata::cli
