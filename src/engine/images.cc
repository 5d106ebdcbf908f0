// list, history, inspect, tag, remove, prune.
#include "engine/images.h"

#include <chrono>
#include <optional>

#include "store/image_list.h"
#include "store/image_lookup.h"
#include "store/prune_filter.h"
#include "util/go_time.h"

namespace strata {
namespace {

// Creation time of the image named by a before=/since= filter.
Result<std::optional<GoTime>> FilterImageTime(Store& store,
                                              const std::optional<std::string>& name) {
  if (!name) return std::optional<GoTime>();
  STRATA_ASSIGN(id, ResolveImage(store, *name));
  STRATA_ASSIGN(config, LoadImageConfig(store, id));
  return std::optional<GoTime>(config.created());
}

int64_t NowUnixNanos() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Result<std::vector<ImageSummary>> ImageList(Engine& engine, const ImageListRequest& request) {
  STRATA_ASSIGN(filters, ParseImageFilters(request.filters));
  // docker images REPOSITORY[:TAG] is a reference filter (a path.Match pattern).
  if (!request.repository.empty()) filters.references.push_back(request.repository);
  STRATA_ASSIGN(store, engine.store(StoreAccess::kReadOnly));
  STRATA_ASSIGN(before, FilterImageTime(*store, filters.before));
  STRATA_ASSIGN(since, FilterImageTime(*store, filters.since));
  STRATA_ASSIGN(listed, ListImages(*store));
  return FilterImages(std::move(listed), filters, request.all, before, since);
}

Result<std::vector<HistoryRow>> ImageHistory(Engine& engine, const ImageHistoryRequest& request) {
  STRATA_ASSIGN(store, engine.store(StoreAccess::kReadOnly));
  STRATA_ASSIGN(id, ResolveImage(*store, request.name));
  return ImageHistory(*store, id);
}

Result<nlohmann::ordered_json> ImageInspect(Engine& engine, const ImageInspectRequest& request) {
  STRATA_ASSIGN(store, engine.store(StoreAccess::kReadOnly));
  STRATA_ASSIGN(id, ResolveImage(*store, request.name));
  return InspectImage(*store, id);
}

Result<ImageTagResult> ImageTag(Engine& engine, const ImageTagRequest& request) {
  STRATA_ASSIGN(store, engine.store());
  STRATA_ASSIGN(id, ResolveImage(*store, request.source));
  STRATA_ASSIGN(ref, ParseNormalizedNamed(request.target));
  STRATA_ASSIGN(moved, TagImage(*store, id, ref));
  return ImageTagResult{.image = id, .tag = TagNameOnly(ref), .moved = std::move(moved)};
}

Result<DeleteReport> ImageRemove(Engine& engine, const ImageRemoveRequest& request) {
  STRATA_ASSIGN(store, engine.store());
  return RemoveImage(*store, request.name, request.force, request.prune_parents);
}

Result<DeleteReport> ImagePrune(Engine& engine, const ImagePruneRequest& request,
                                const ImagePruneEvents& events) {
  const int64_t now = request.now_unix_nanos != 0 ? request.now_unix_nanos : NowUnixNanos();
  STRATA_ASSIGN(filter, ParsePruneFilter(request.filters, request.all, now));
  if (events.confirm && !events.confirm()) return DeleteReport{};
  STRATA_ASSIGN(store, engine.store());
  return PruneImages(*store, request.all, filter);
}

}  // namespace strata
