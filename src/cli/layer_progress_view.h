// Renders pull/push layer progress as docker's CLI does. On a terminal every layer has a row
// that is rewritten in place (status, progress bar, bytes); otherwise each layer prints one
// line when it reaches a final status ("Pull complete", "Already exists", "Pushed", ...), so logs
// stay short. Thread-safe: the library reports from worker threads.
#pragma once

#include <chrono>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "registry/transfer_progress.h"
#include "transport/image_transport.h"

namespace strata::cli {

class LayerProgressView {
 public:
  // `push` picks docker's push wording; `quiet` prints nothing.
  LayerProgressView(std::FILE* out, bool push, bool quiet);
  LayerProgressFn callback();
  // For load, save, copy and migrate: byte counts become rows "<id>: <verb> [bar] cur/total"
  // (docker load's "Loading layer") on a terminal; elsewhere they print nothing.
  BlobProgressFn BytesCallback(std::string verb);
  void Update(const LayerProgress& progress);
  bool terminal() const { return terminal_ && !quiet_; }

 private:
  struct Row {
    LayerProgress last;
    std::chrono::steady_clock::time_point drawn{};
  };
  void Draw(size_t row);
  std::string Line(const LayerProgress& p) const;

  std::FILE* out_;
  bool push_;
  bool quiet_;
  bool terminal_;
  std::mutex mu_;
  std::vector<Row> rows_;
};

}  // namespace strata::cli
