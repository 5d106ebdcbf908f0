// Cancellation of the whole process by SIGINT or SIGTERM (Ctrl-C, `kill`), as docker's CLI
// honours them: the first signal only sets a flag that long operations poll (readers of a pull or
// a load fail with a "cancelled" error, so every thread unwinds and cleans up what it staged);
// a second one ends the process at once (the store stays consistent: nothing is visible before
// it is verified and committed). The exit status is then 128 + the signal, 130 or 143.
// Thread-safe; the flag is process-wide state because signals are.
#pragma once

#include <cstddef>

#include "util/io.h"
#include "util/result.h"

namespace strata {

void InstallCancelHandlers();

// The signal that asked to cancel, or 0.
int CancelSignal();
inline bool CancelRequested() { return CancelSignal() != 0; }

// For tests: as if the signal had arrived (0 clears).
void SetCancelSignalForTesting(int signal);

// "cancelled by SIGINT" and the like, of kind kCancelled.
Error CancelledError();

// A reader that fails once cancellation was requested, so that a stream being consumed stops.
class CancellableByUserReader : public Reader {
 public:
  explicit CancellableByUserReader(Reader& source) : source_(source) {}
  Result<size_t> Read(char* buffer, size_t size) override {
    if (CancelRequested()) return tl::unexpected(CancelledError());
    return source_.Read(buffer, size);
  }

 private:
  Reader& source_;
};

}  // namespace strata
