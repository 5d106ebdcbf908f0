// The exit status of a command that failed, from the kind of its error (util/result.h). Docker's
// CLI exits 1 when a command fails, whatever the failure, and 128 + the signal when SIGINT or
// SIGTERM cancelled it (130, 143). (Its 125, for a flag it cannot parse, is decided in main.cc
// from CLI11's parse error, before any command runs.) Header-only: the unit tests, which do not
// link the CLI, check it.
#pragma once

#include "util/result.h"

namespace strata::cli {

// Docker's exit codes: a flag the command does not know or a flag value it cannot use is 125;
// an unknown command, a wrong number of arguments and a failure while running are 1.
inline constexpr int kExitBadFlag = 125;
inline constexpr int kExitFailure = 1;

// `cancel_signal` is the signal that asked to cancel (util/cancel.h's CancelSignal()), or 0.
inline int ExitStatusFor(const Error& error, int cancel_signal) {
  if (IsCancelled(error) && cancel_signal > 0) return 128 + cancel_signal;
  return kExitFailure;
}

}  // namespace strata::cli
