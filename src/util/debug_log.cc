#include "util/debug_log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <string>

namespace strata {
namespace {

std::atomic<bool> enabled{false};
const auto start = std::chrono::steady_clock::now();

}  // namespace

void EnableDebugLog() { enabled.store(true, std::memory_order_relaxed); }

bool DebugLogEnabled() { return enabled.load(std::memory_order_relaxed); }

void DebugLog(std::string_view what) {
  if (!DebugLogEnabled()) return;
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  char stamp[32];
  std::snprintf(stamp, sizeof stamp, "[%8.3fs] ", seconds);
  std::string line = stamp;
  line.append(what);
  line.push_back('\n');
  // One write per line: lines from several threads stay whole.
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace strata
