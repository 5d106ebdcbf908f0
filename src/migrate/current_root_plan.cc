// Reader of the current Docker data root layout (Docker 1.10 and later):
//   image/<driver>/imagedb/content/sha256/<id>         config bytes (sha256 = image ID)
//   image/<driver>/imagedb/metadata/sha256/<id>/parent local parent link
//   image/<driver>/layerdb/sha256/<chainID>/{diff,cache-id,tar-split.json.gz}
//   image/<driver>/repositories.json                   tags and digest references
//   <driver>/<cache-id>/...                             the layer's files
#include <map>
#include <nlohmann/json.hpp>

#include "image/chain_id.h"
#include "image/image_config.h"
#include "migrate/driver_layout.h"
#include "migrate/migration_plan.h"
#include "util/file.h"
#include "util/json_depth.h"

namespace strata {
namespace {

// repositories.json: {"Repositories":{"busybox":{"busybox:latest":"sha256:…", …}, …}}
Result<std::map<Digest, std::vector<Reference>>> ReadRepositories(const std::string& path) {
  std::map<Digest, std::vector<Reference>> refs;
  if (!PathExists(path)) return refs;
  STRATA_ASSIGN(bytes, ReadFile(path));
  auto j = ParseUntrustedJson(bytes);
  if (!j.is_object() || !j["Repositories"].is_object()) {
    return Fail(path + " is not a reference store (malformed JSON)");
  }
  for (const auto& [repo, entries] : j["Repositories"].items()) {
    if (!entries.is_object()) continue;
    for (const auto& [name, id] : entries.items()) {
      auto ref = ParseNormalizedNamed(name);
      auto digest = id.is_string() ? Digest::Parse(id.get<std::string>())
                                   : Result<Digest>(Fail("not a string"));
      if (!ref || !digest || ref->IsNameOnly()) {
        return Fail(path + ": cannot read the reference \"" + name + "\" of " + repo);
      }
      refs[*digest].push_back(*ref);
    }
  }
  return refs;
}

// layerdb/sha256/<chainID> and the driver's directory of one layer.
PlannedLayer PlanLayer(const std::string& data_root, const std::string& driver,
                       const std::string& image_root, const Digest& chain_id,
                       const Digest& diff_id) {
  PlannedLayer layer;
  const std::string dir = image_root + "/layerdb/sha256/" + chain_id.hex();
  layer.source = "layer " + chain_id.str();
  layer.recorded_diff_id = diff_id;
  auto diff = ReadFile(dir + "/diff");
  auto cache_id = ReadFile(dir + "/cache-id");
  if (!diff || !cache_id) {
    layer.problem = "layer " + chain_id.str() + " is missing from " + dir;
    return layer;
  }
  if (TrimLineEnd(*diff) != diff_id.str()) {
    layer.problem =
        dir + "/diff says " + TrimLineEnd(*diff) + " but the image config says " + diff_id.str();
    return layer;
  }
  layer.source += " (cache-id " + TrimLineEnd(*cache_id) + ")";
  layer.tar_split = dir + "/tar-split.json.gz";
  auto files = DriverLayerDir(data_root, driver, TrimLineEnd(*cache_id));
  if (!files) {
    layer.problem = "the " + driver +
                    " storage driver keeps layers where strata cannot read them without mounting";
  } else if (!PathExists(layer.tar_split)) {
    layer.problem = "layer " + chain_id.str() + " has no tar-split.json.gz in " + dir;
  } else if (!IsDirectory(*files)) {
    layer.problem = "the files of layer " + chain_id.str() + " (" + *files + ") are missing";
  } else {
    layer.files_dir = *files;
  }
  return layer;
}

}  // namespace

Result<MigrationPlan> PlanCurrentDockerRoot(const std::string& data_root,
                                            const std::string& driver_wanted) {
  std::vector<std::string> present;
  STRATA_ASSIGN(names, ListDirectory(data_root + "/image"));
  for (const std::string& d : names) {
    if (IsDirectory(data_root + "/image/" + d + "/imagedb")) present.push_back(d);
  }
  std::string error;
  auto driver = ChooseDriver(present, driver_wanted, &error);
  if (!driver) return Fail(data_root + "/image: " + error);

  MigrationPlan plan;
  plan.layout = MigrationPlan::Layout::kCurrent;
  plan.data_root = data_root;
  plan.driver = *driver;
  const std::string image_root = data_root + "/image/" + *driver;
  STRATA_ASSIGN(refs, ReadRepositories(image_root + "/repositories.json"));

  const std::string content_dir = image_root + "/imagedb/content/sha256";
  std::vector<std::string> ids;
  if (IsDirectory(content_dir)) {
    STRATA_ASSIGN(listed, ListDirectory(content_dir));
    ids = std::move(listed);
  }
  std::map<std::string, size_t> layer_by_chain;
  std::map<Digest, size_t> image_by_id;
  std::vector<std::optional<Digest>> parent_ids;
  for (const std::string& hex : ids) {
    auto id = Digest::Parse("sha256:" + hex);
    if (!id) continue;  // not an image (Docker's Walk skips such names too)
    PlannedImage image;
    image.source = id->str();
    if (auto it = refs.find(*id); it != refs.end()) {
      image.references = it->second;
      for (const Reference& r : it->second) image.names.push_back(r.FamiliarString());
    }
    std::optional<Digest> parent_id;
    auto parent_text = ReadFile(image_root + "/imagedb/metadata/sha256/" + hex + "/parent");
    if (parent_text) {
      auto p = Digest::Parse(TrimLineEnd(*parent_text));
      if (p) parent_id = *p;
    }
    parent_ids.push_back(parent_id);
    auto bytes = ReadFile(content_dir + "/" + hex);
    if (!bytes) {
      image.problem = bytes.error().message;
    } else if (Digest::Sha256Of(*bytes) != *id) {
      image.problem = "its config " + content_dir + "/" + hex + " does not hash to its ID";
    } else {
      auto config = ImageConfig::Parse(*bytes);
      if (!config) {
        image.problem = config.error().message;
      } else {
        image.config_bytes = std::move(*bytes);
        image.diff_ids = config->diff_ids();
        const std::vector<Digest> chain = ChainIds(config->diff_ids());
        for (size_t i = 0; i < chain.size(); ++i) {
          auto [it, added] = layer_by_chain.emplace(chain[i].hex(), plan.layers.size());
          if (added) {
            plan.layers.push_back(
                PlanLayer(data_root, *driver, image_root, chain[i], config->diff_ids()[i]));
          }
          image.layers.push_back(it->second);
        }
      }
    }
    image_by_id.emplace(*id, plan.images.size());
    plan.images.push_back(std::move(image));
  }
  for (size_t i = 0; i < plan.images.size(); ++i) {
    if (!parent_ids[i]) continue;
    auto it = image_by_id.find(*parent_ids[i]);
    if (it != image_by_id.end() && it->second != i) plan.images[i].parent = it->second;
  }
  OrderParentsFirst(plan);
  return plan;
}

}  // namespace strata
