#include "util/cancel.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>

namespace strata {
namespace {

std::atomic<int> g_signal{0};

void OnSignal(int signal) {
  int expected = 0;
  if (!g_signal.compare_exchange_strong(expected, signal)) _exit(128 + expected);
}

}  // namespace

void InstallCancelHandlers() {
  struct sigaction action;
  std::memset(&action, 0, sizeof action);
  action.sa_handler = OnSignal;
  sigemptyset(&action.sa_mask);
  // No SA_RESTART: a read blocked on a pipe returns EINTR and sees the flag (util/io.cc).
  action.sa_flags = 0;
  sigaction(SIGINT, &action, nullptr);
  sigaction(SIGTERM, &action, nullptr);
}

int CancelSignal() { return g_signal.load(std::memory_order_relaxed); }

void SetCancelSignalForTesting(int signal) { g_signal.store(signal); }

Error CancelledError() {
  const int s = CancelSignal();
  return Error{std::string("cancelled by ") + (s == SIGINT    ? "SIGINT"
                                               : s == SIGTERM ? "SIGTERM"
                                                              : "a signal"),
               ErrorCode::kCancelled};
}

}  // namespace strata
