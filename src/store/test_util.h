// Helpers shared by the store tests: a store in a temporary directory and small images committed
// into it through IngestImages (layers staged from in-memory tars, a generated config).
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "archive/test_util.h"
#include "layer/layer_stage.h"
#include "reference/reference.h"
#include "store/image_commit.h"
#include "store/image_delete.h"
#include "store/store.h"

namespace strata::store_test {

// An ingest layer for a staged layer (or for a chain the store has, with null).
inline IngestLayer Staged(StagedLayer* layer) {
  return IngestLayer{.staged = layer, .blob = std::nullopt, .blob_writer = nullptr, .origin = {}};
}

// A layer whose DiffSize is `bytes` (one regular file of that size).
inline std::string Layer(const std::string& name, size_t bytes) {
  return archive_test::TarBuilder().File(name, std::string(bytes, 'x')).Build();
}

struct ImageSpecForTest {
  std::vector<std::string> layers = {};  // tars, bottom first
  std::string created = "2023-01-01T00:00:00Z";
  nlohmann::json labels = nullptr;  // null: no Labels; "absent": no "config" object at all
  std::optional<Digest> parent = std::nullopt;
  std::vector<std::string> tags = {};
};

// The config Add() commits for `spec` whose layers have these diffIDs.
inline std::string ConfigForTest(const ImageSpecForTest& spec,
                                 const std::vector<Digest>& diff_ids) {
  nlohmann::ordered_json ids = nlohmann::ordered_json::array();
  for (const Digest& d : diff_ids) ids.push_back(d.str());
  nlohmann::ordered_json config = {{"architecture", "amd64"}, {"created", spec.created}};
  if (spec.labels != "absent") config["config"] = {{"Labels", spec.labels}};
  config["os"] = "linux";
  config["rootfs"] = {{"type", "layers"}, {"diff_ids", ids}};
  return config.dump();
}

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(root());
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  std::string root() const { return dir_.path() + "/store"; }

  // Stages the tars and commits an image of them; returns its ID.
  Digest Add(const ImageSpecForTest& spec) {
    std::vector<StagedLayer> staged;
    std::vector<Digest> diff_ids;
    for (const std::string& tar : spec.layers) {
      StringReader r(tar);
      auto layer = StageLayer(store_->content(), r);
      EXPECT_TRUE(layer) << layer.error().message;
      diff_ids.push_back(layer->diff_id);
      staged.push_back(std::move(*layer));
    }
    IngestImage image;
    image.config_bytes = ConfigForTest(spec, diff_ids);
    for (StagedLayer& l : staged) image.layers.push_back(Staged(&l));
    image.parent = spec.parent;
    for (const std::string& t : spec.tags) {
      image.tags.push_back(TagNameOnly(*ParseNormalizedNamed(t)));  // as load and pull do
    }
    const Digest id = Digest::Sha256Of(image.config_bytes);
    std::vector<IngestImage> images{std::move(image)};
    auto committed = IngestImages(*store_, images);
    EXPECT_TRUE(committed) << committed.error().message;
    return id;
  }

  // Points a tag or digest reference ("x/a:1", "x/a@sha256:...", "x/a" for x/a:latest) at an
  // image.
  void Ref(const std::string& name, const Digest& id) {
    auto ref = ParseNormalizedNamed(name);
    ASSERT_TRUE(ref) << ref.error().message;
    auto put = PutReference(store_->metadata(), TagNameOnly(*ref), id);
    ASSERT_TRUE(put) << put.error().message;
  }

  bool Exists(const Digest& id) {
    auto record = store_->metadata().GetImage(id);
    return record && record->has_value();
  }

  // Full names of the image's references, sorted.
  std::vector<std::string> Tags(const Digest& id) {
    std::vector<std::string> out;
    auto refs = store_->metadata().RefsForImage(id);
    EXPECT_TRUE(refs);
    if (refs) {
      for (const RefRecord& r : *refs) out.push_back(r.name);
    }
    return out;
  }

  size_t ImageCount() {
    auto images = store_->metadata().ListImages();
    return images ? images->size() : 0;
  }
  size_t LayerCount() {
    auto layers = store_->metadata().ListLayers();
    return layers ? layers->size() : 0;
  }
  size_t RefCount() {
    auto refs = store_->metadata().ListRefs();
    return refs ? refs->size() : 0;
  }

  static bool Has(const DeleteReport& r, const std::string& line) {
    return std::find(r.lines.begin(), r.lines.end(), line) != r.lines.end();
  }

  archive_test::TempDir dir_;
  std::unique_ptr<Store> store_;
};

}  // namespace strata::store_test
