// A bounded pool for per-item work (layers of a pull or push): items are handed out in order to
// at most `max_workers` threads, the caller's own included. The first failure is returned; it
// also sets `cancel`, so no further items start and running ones can notice and stop early.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "util/result.h"

namespace strata {

inline Status RunParallel(size_t count, int max_workers, const std::function<Status(size_t)>& task,
                          std::atomic<bool>& cancel) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  std::optional<Error> first_error;
  auto work = [&] {
    for (;;) {
      if (cancel) return;
      const size_t i = next++;
      if (i >= count) return;
      auto st = task(i);
      if (!st) {
        std::lock_guard<std::mutex> lock(mu);
        if (!first_error) first_error = st.error();
        cancel = true;
        return;
      }
    }
  };
  const size_t workers = std::min(count, static_cast<size_t>(std::max(1, max_workers)));
  std::vector<std::thread> threads;
  for (size_t i = 1; i < workers; ++i) threads.emplace_back(work);
  if (workers > 0) work();
  for (std::thread& t : threads) t.join();
  if (first_error) return tl::unexpected(*first_error);
  return {};
}

}  // namespace strata
