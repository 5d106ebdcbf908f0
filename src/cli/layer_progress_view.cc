#include "cli/layer_progress_view.h"

#include <unistd.h>

#include "image/docker_units.h"

namespace strata::cli {
namespace {

bool IsFinal(LayerStatus s) {
  return s == LayerStatus::kPullComplete || s == LayerStatus::kAlreadyExists ||
         s == LayerStatus::kPushed || s == LayerStatus::kMounted;
}

bool HasBytes(LayerStatus s) {
  return s == LayerStatus::kDownloading || s == LayerStatus::kPushing;
}

constexpr auto kRedrawInterval = std::chrono::milliseconds(100);

}  // namespace

LayerProgressView::LayerProgressView(std::FILE* out, bool push, bool quiet)
    : out_(out), push_(push), quiet_(quiet), terminal_(::isatty(::fileno(out)) == 1) {}

LayerProgressFn LayerProgressView::callback() {
  return [this](const LayerProgress& p) { Update(p); };
}

BlobProgressFn LayerProgressView::BytesCallback(std::string verb) {
  return [this, verb = std::move(verb)](const std::string& id, uint64_t current, uint64_t total) {
    Update(LayerProgress{id, LayerStatus::kDownloading, current, total, verb});
  };
}

std::string LayerProgressView::Line(const LayerProgress& p) const {
  // A byte-count row (BytesCallback) carries its verb in `detail`.
  const bool verb = p.status == LayerStatus::kDownloading && !p.detail.empty();
  std::string line = p.id + ": " + (verb ? p.detail : LayerStatusText(p, push_));
  if (HasBytes(p.status) && p.current > 0) {
    if (p.total > 0) {
      // docker's 50-column bar: "[=====>      ]"
      const int width = 50;
      int filled = static_cast<int>(width * std::min(1.0, double(p.current) / double(p.total)));
      std::string bar(width, ' ');
      for (int i = 0; i < filled; ++i) bar[i] = '=';
      if (filled < width) bar[filled] = '>';
      line += " [" + bar + "]  " + HumanSize(double(p.current)) + "/" + HumanSize(double(p.total));
    } else {
      line += "  " + HumanSize(double(p.current));
    }
  }
  return line;
}

void LayerProgressView::Draw(size_t row) {
  // Move up to the row, rewrite it, move back down (docker's jsonmessage does the same).
  const size_t up = rows_.size() - row;
  std::fprintf(out_, "\x1b[%zuA\r\x1b[2K%s\x1b[%zuB\r", up, Line(rows_[row].last).c_str(), up);
}

void LayerProgressView::Update(const LayerProgress& p) {
  if (quiet_) return;
  std::lock_guard<std::mutex> lock(mu_);
  size_t row = rows_.size();
  for (size_t i = 0; i < rows_.size(); ++i) {
    if (rows_[i].last.id == p.id) row = i;
  }
  if (!terminal_) {
    if (IsFinal(p.status)) {
      std::fprintf(out_, "%s\n", Line(p).c_str());
      std::fflush(out_);
    }
    return;
  }
  const auto now = std::chrono::steady_clock::now();
  if (row == rows_.size()) {
    rows_.push_back(Row{p, now});
    std::fprintf(out_, "%s\n", Line(p).c_str());
  } else {
    Row& r = rows_[row];
    const bool same_status = r.last.status == p.status;
    r.last = p;
    const bool finished = p.total > 0 && p.current == p.total;
    if (same_status && HasBytes(p.status) && !finished && now - r.drawn < kRedrawInterval) return;
    r.drawn = now;
    Draw(row);
  }
  std::fflush(out_);
}

}  // namespace strata::cli
