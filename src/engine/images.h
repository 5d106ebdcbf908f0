// The engine's local image operations: list, history, inspect, tag, remove, prune. Named as
// docker's API client names them (ImageList, ImageHistory, ImageInspect, ImageTag, ImageRemove,
// ImagesPrune). Each resolves names the way docker does and applies docker's rules (which tags a
// tag may be, when an image in use is refused, what a prune filter means); the caller only
// formats what comes back. Views open the store read-only. Not thread-safe (see Engine).
#pragma once

#include <cstdint>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "engine/engine.h"
#include "reference/reference.h"
#include "store/image_commit.h"
#include "store/image_delete.h"
#include "store/image_views.h"

namespace strata {

// --- list ----------------------------------------------------------------------------------------

struct ImageListRequest {
  // docker's --filter KEY=VALUE pairs (dangling, reference, label, before, since), as the API's
  // filters map flattened; errors in docker's words (store/image_list.h).
  std::vector<std::string> filters = {};
  std::string repository =
      {};            // `images REPOSITORY[:TAG]`: one more reference pattern; may be empty
  bool all = false;  // intermediate images too
};

// docker images: the images the filters select, newest first. A before=/since= image that does
// not exist is kNotFound.
Result<std::vector<ImageSummary>> ImageList(Engine& engine, const ImageListRequest& request);

// --- history -------------------------------------------------------------------------------------

struct ImageHistoryRequest {
  std::string name = {};  // a reference, ID or ID prefix
};

// docker history: rows newest first.
Result<std::vector<HistoryRow>> ImageHistory(Engine& engine, const ImageHistoryRequest& request);

// --- inspect -------------------------------------------------------------------------------------

struct ImageInspectRequest {
  std::string name = {};
};

// docker image inspect: the object docker's API returns for one image.
Result<nlohmann::ordered_json> ImageInspect(Engine& engine, const ImageInspectRequest& request);

// --- tag -----------------------------------------------------------------------------------------

struct ImageTagRequest {
  std::string source = {};  // an image: reference, ID or ID prefix
  std::string target = {};  // NAME[:TAG]; a short name is docker.io's, no tag is ":latest"
};

struct ImageTagResult {
  Digest image;
  Reference tag;                        // the target, normalized
  std::vector<CommitEvent> moved = {};  // the tag pointed at another image before
};

// docker tag: the source must exist (kNotFound); a malformed target, a digest reference or a
// name that is a digest algorithm is kInvalidArgument.
Result<ImageTagResult> ImageTag(Engine& engine, const ImageTagRequest& request);

// --- remove --------------------------------------------------------------------------------------

struct ImageRemoveRequest {
  std::string name = {};
  bool force = false;
  bool prune_parents = true;  // false: `rmi --no-prune`
};

// docker rmi of one image (store/image_delete.h has the rules). An image with children, or named
// by ID while it has several references, is kConflict; a missing one kNotFound.
Result<DeleteReport> ImageRemove(Engine& engine, const ImageRemoveRequest& request);

// --- prune ---------------------------------------------------------------------------------------

struct ImagePruneRequest {
  bool all = false;                       // every unused image, not only dangling ones
  std::vector<std::string> filters = {};  // until=, label=, label!= (store/prune_filter.h)
  int64_t now_unix_nanos = 0;             // anchors until=<duration>; 0: the clock
};

struct ImagePruneEvents {
  // Asked once the filters are valid, before the store is opened; false removes nothing (and
  // returns an empty report). Empty: no question (--force).
  std::function<bool()> confirm;
};

// docker image prune. Reclaimed space, as docker reports it, is the result's
// removed_layers_size. A bad filter is kInvalidArgument.
Result<DeleteReport> ImagePrune(Engine& engine, const ImagePruneRequest& request,
                                const ImagePruneEvents& events = {});

}  // namespace strata
