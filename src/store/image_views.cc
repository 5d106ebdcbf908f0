#include "store/image_views.h"

#include <algorithm>
#include <map>
#include <set>

#include "image/chain_id.h"
#include "reference/reference.h"
#include "store/image_lookup.h"

namespace strata {
namespace {

std::string Familiar(const std::string& name) {
  auto ref = ParseReference(name);
  return ref ? ref->FamiliarString() : name;
}

}  // namespace

Result<int64_t> ChainSize(Metadata& md, const std::optional<Digest>& top) {
  int64_t total = 0;
  std::optional<Digest> chain = top;
  for (int depth = 0; chain; ++depth) {
    if (depth > 1000) return Fail("layer chain of " + top->str() + " loops");
    STRATA_ASSIGN(layer, md.GetLayer(*chain));
    if (!layer)
      return Fail(ErrorCode::kCorrupt, "layer " + chain->str() + " is missing from the store");
    total += layer->size;
    chain = layer->parent;
  }
  return total;
}

Result<std::vector<HistoryRow>> ImageHistory(Store& store, const Digest& id) {
  Metadata& md = store.metadata();
  STRATA_ASSIGN(config, LoadImageConfig(store, id));
  const auto& diff_ids = config.diff_ids();
  std::vector<Digest> chains = ChainIds(diff_ids);
  std::vector<HistoryRow> rows;
  size_t layer = 0;
  for (const HistoryEntry& h : config.history()) {
    HistoryRow row;
    row.created = FormatRfc3339Nano(h.created);
    row.created_by = h.created_by;
    row.comment = h.comment;
    if (!h.empty_layer) {
      if (layer >= diff_ids.size()) return Fail("too many non-empty layers in History section");
      STRATA_ASSIGN(record, md.GetLayer(chains[layer]));
      if (!record)
        return Fail(ErrorCode::kCorrupt,
                    "layer " + chains[layer].str() + " is missing from the store");
      row.size = record->size;
      ++layer;
    }
    rows.push_back(std::move(row));
  }
  std::reverse(rows.begin(), rows.end());
  // IDs: one per row, walking the local Parent chain from the image itself (docker's rule).
  std::optional<Digest> current = id;
  for (HistoryRow& row : rows) {
    if (!current) break;
    STRATA_ASSIGN(image, md.GetImage(*current));
    if (!image) break;
    row.id = *current;
    STRATA_ASSIGN(refs, md.RefsForImage(*current));
    for (const RefRecord& r : refs) {
      if (!r.is_digest) row.tags.push_back(Familiar(r.name));
    }
    current = image->parent;
  }
  return rows;
}

Result<std::vector<ImageSummary>> ListImages(Store& store) {
  Metadata& md = store.metadata();
  STRATA_ASSIGN(images, md.ListImages());
  STRATA_ASSIGN(refs, md.ListRefs());
  std::map<Digest, std::vector<const RefRecord*>> refs_by_image;
  for (const RefRecord& r : refs) refs_by_image[r.image_id].push_back(&r);
  std::set<Digest> parents;
  for (const ImageRecord& i : images) {
    if (i.parent) parents.insert(*i.parent);
  }
  std::vector<ImageSummary> out;
  std::vector<int64_t> created_unix;
  for (const ImageRecord& i : images) {
    STRATA_ASSIGN(config, LoadImageConfig(store, i.id));
    ImageSummary s{.id = i.id,
                   .parent = i.parent,
                   .repo_tags = {},
                   .repo_digests = {},
                   .created = config.created_string(),
                   .size = 0,
                   .has_children = parents.count(i.id) > 0,
                   .labels = nullptr};
    nlohmann::ordered_json cfg = config.config_json();
    if (cfg.is_object() && cfg.contains("Labels")) s.labels = cfg["Labels"];
    STRATA_ASSIGN(size, ChainSize(md, i.top_layer));
    s.size = size;
    for (const RefRecord* r : refs_by_image[i.id]) {
      (r->is_digest ? s.repo_digests : s.repo_tags).push_back(Familiar(r->name));
    }
    out.push_back(std::move(s));
    created_unix.push_back(config.created().unix_seconds);
  }
  std::vector<size_t> order(out.size());
  for (size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(),
                   [&](size_t a, size_t b) { return created_unix[a] > created_unix[b]; });
  std::vector<ImageSummary> sorted;
  for (size_t k : order) sorted.push_back(std::move(out[k]));
  return sorted;
}

Result<nlohmann::ordered_json> InspectImage(Store& store, const Digest& id) {
  Metadata& md = store.metadata();
  STRATA_ASSIGN(record, md.GetImage(id));
  if (!record) return Fail(ErrorCode::kNotFound, "No such image: " + id.str());
  STRATA_ASSIGN(config, LoadImageConfig(store, id));
  STRATA_ASSIGN(refs, md.RefsForImage(id));
  nlohmann::ordered_json tags = nlohmann::ordered_json::array();
  nlohmann::ordered_json digests = nlohmann::ordered_json::array();
  for (const RefRecord& r : refs) (r.is_digest ? digests : tags).push_back(Familiar(r.name));
  STRATA_ASSIGN(size, ChainSize(md, record->top_layer));

  nlohmann::ordered_json j;
  j["Id"] = id.str();
  j["RepoTags"] = tags;
  j["RepoDigests"] = digests;
  j["Parent"] = record->parent ? record->parent->str() : "";
  j["Comment"] = config.comment();
  j["Created"] = config.created_string();
  j["Container"] = config.container();
  j["ContainerConfig"] = config.container_config_json();
  j["DockerVersion"] = config.docker_version();
  j["Author"] = config.author();
  j["Config"] = config.config_json();
  j["Architecture"] = config.architecture();
  if (!config.variant().empty()) j["Variant"] = config.variant();
  j["Os"] = config.os();
  if (!config.os_version().empty()) j["OsVersion"] = config.os_version();
  j["Size"] = size;
  j["VirtualSize"] = size;
  nlohmann::ordered_json layers = nlohmann::ordered_json::array();
  for (const Digest& d : config.diff_ids()) layers.push_back(d.str());
  nlohmann::ordered_json chain_ids = nlohmann::ordered_json::array();
  for (const Digest& c : ChainIds(config.diff_ids())) chain_ids.push_back(c.str());
  j["GraphDriver"] = {{"Data", nlohmann::ordered_json::object()}, {"Name", "strata"}};
  j["RootFS"] = {{"Type", "layers"}, {"Layers", layers}, {"ChainIDs", chain_ids}};
  nlohmann::ordered_json meta = nlohmann::ordered_json::object();
  meta["LastTagTime"] = record->last_tag_time.value_or("0001-01-01T00:00:00Z");
  j["Metadata"] = meta;
  return j;
}

}  // namespace strata
