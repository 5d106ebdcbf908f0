// Reader of the legacy Docker data root layout (before 1.10), as the v1.10 migration read it:
//   graph/<v1id>/json               v1 image JSON ("parent", or v1.9's "parent_id")
//   graph/<v1id>/parent             parent v1 ID when it differs from the JSON
//   graph/<v1id>/tar-data.json.gz   tar-split of the layer (Docker 1.8 and later)
//   repositories-<driver>           {"Repositories":{"name":{"tag" or "sha256:…": "<v1id>"}}}
//   <driver dir>/<v1id>             the layer's files (aufs: its diff branch)
// Every image is one layer; its rootfs is its ancestors' layers plus its own.
#include <map>
#include <nlohmann/json.hpp>

#include "migrate/driver_layout.h"
#include "migrate/migration_plan.h"
#include "util/file.h"
#include "util/json_depth.h"

namespace strata {
namespace {

bool IsV1Id(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// The parent as v1.10's migration found it: the json's "parent", else v1.9's "parent_id"
// (sha256:<v1id>), overridden by a parent file.
std::string ParentOf(const nlohmann::json& j, const std::string& graph_dir) {
  std::string parent;
  if (j.contains("parent") && j["parent"].is_string()) parent = j["parent"].get<std::string>();
  if (parent.empty() && j.contains("parent_id") && j["parent_id"].is_string()) {
    parent = j["parent_id"].get<std::string>();
    if (parent.starts_with("sha256:")) parent = parent.substr(7);
  }
  if (auto file = ReadFile(graph_dir + "/parent"); file && !TrimLineEnd(*file).empty()) {
    parent = TrimLineEnd(*file);
  }
  return parent;
}

Result<std::map<std::string, std::vector<Reference>>> ReadLegacyRepositories(
    const std::string& path) {
  std::map<std::string, std::vector<Reference>> refs;
  if (!PathExists(path)) return refs;
  STRATA_ASSIGN(bytes, ReadFile(path));
  auto j = ParseUntrustedJson(bytes);
  if (!j.is_object() || !j["Repositories"].is_object()) {
    return Fail(path + " is not a tag store (malformed JSON)");
  }
  for (const auto& [repo, entries] : j["Repositories"].items()) {
    if (!entries.is_object()) continue;
    for (const auto& [key, id] : entries.items()) {
      if (!id.is_string()) continue;
      // Keys that parse as digests were pulled by digest; the others are tags.
      const std::string text = key.starts_with("sha256:") ? repo + "@" + key : repo + ":" + key;
      auto ref = ParseNormalizedNamed(text);
      if (!ref) return Wrap(path + ": reference \"" + text + "\"", ref.error());
      refs[id.get<std::string>()].push_back(*ref);
    }
  }
  return refs;
}

}  // namespace

Result<MigrationPlan> PlanLegacyDockerRoot(const std::string& data_root,
                                           const std::string& driver_wanted) {
  std::string error;
  auto driver = ChooseDriver(DriversPresent(data_root), driver_wanted, &error);
  if (!driver) return Fail(data_root + ": " + error);

  MigrationPlan plan;
  plan.layout = MigrationPlan::Layout::kLegacy;
  plan.data_root = data_root;
  plan.driver = *driver;
  STRATA_ASSIGN(refs, ReadLegacyRepositories(data_root + "/repositories-" + *driver));

  STRATA_ASSIGN(entries, ListDirectory(data_root + "/graph"));
  std::map<std::string, size_t> by_id;
  std::vector<std::string> parents;
  for (const std::string& id : entries) {
    if (!IsV1Id(id) || !IsDirectory(data_root + "/graph/" + id)) continue;
    const std::string graph_dir = data_root + "/graph/" + id;
    PlannedImage image;
    image.source = id;
    if (auto it = refs.find(id); it != refs.end()) {
      image.references = it->second;
      for (const Reference& r : it->second) image.names.push_back(r.FamiliarString());
    }
    PlannedLayer layer;
    layer.source = "layer of v1 image " + id;
    std::string parent;
    auto json = ReadFile(graph_dir + "/json");
    if (!json) {
      image.problem = json.error().message;
    } else {
      auto j = ParseUntrustedJson(*json);
      if (!j.is_object()) {
        image.problem = graph_dir + "/json is not a JSON object";
      } else {
        image.v1_json = std::move(*json);
        parent = ParentOf(j, graph_dir);
      }
    }
    auto files = DriverLayerDir(data_root, *driver, id);
    const std::string tar_data = graph_dir + "/tar-data.json.gz";
    if (!files) {
      layer.problem = "the " + *driver +
                      " storage driver keeps layers where strata cannot read them without "
                      "mounting";
    } else if (!IsDirectory(*files)) {
      layer.problem = "the layer's files (" + *files + ") are missing";
    } else if (PathExists(tar_data)) {
      layer.files_dir = *files;
      layer.tar_split = tar_data;
    } else if (DriverKeepsAufsBranches(*driver)) {
      layer.files_dir = *files;  // archived from the branch, as Docker's aufs Diff does
      layer.kind = PlannedLayer::Source::kAufsBranch;
    } else {
      layer.files_dir = *files;  // diffed against the parent's tree (set below)
      layer.kind = PlannedLayer::Source::kTreeDiff;
    }
    by_id.emplace(id, plan.images.size());
    parents.push_back(parent);
    plan.layers.push_back(std::move(layer));
    plan.images.push_back(std::move(image));
  }
  // Layer i is image i's own; the rootfs is the ancestors' layers then its own.
  for (size_t i = 0; i < plan.images.size(); ++i) {
    if (parents[i].empty()) continue;
    auto it = by_id.find(parents[i]);
    if (it == by_id.end()) {
      if (plan.images[i].problem.empty()) {
        plan.images[i].problem = "its parent image " + parents[i] + " is missing from graph/";
      }
      continue;
    }
    plan.images[i].parent = it->second;
    PlannedLayer& layer = plan.layers[i];
    if (layer.kind == PlannedLayer::Source::kTreeDiff) {
      const PlannedLayer& parent_layer = plan.layers[it->second];
      if (parent_layer.files_dir.empty()) {
        layer.problem = "no tar-data.json.gz, and the parent's tree to diff against is missing";
      } else {
        layer.parent_files_dir = parent_layer.files_dir;
      }
    }
  }
  for (size_t i = 0; i < plan.images.size(); ++i) {
    std::vector<size_t> chain;
    std::vector<bool> seen(plan.images.size(), false);
    for (std::optional<size_t> k = i; k && !seen[*k]; k = plan.images[*k].parent) {
      seen[*k] = true;
      chain.insert(chain.begin(), *k);
    }
    plan.images[i].layers = chain;  // a loop is reported by OrderParentsFirst
  }
  OrderParentsFirst(plan);
  return plan;
}

}  // namespace strata
