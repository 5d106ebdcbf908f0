#include "image/v1_id.h"

#include "image/chain_id.h"
#include "util/go_json.h"

namespace strata {

Digest CreateV1Id(const V1Image& image, const Digest& layer_id,
                  const std::optional<Digest>& parent) {
  V1Image without_id = image;
  without_id.id.clear();
  nlohmann::ordered_json document = without_id.ToJson();
  document["layer_id"] = layer_id.str();
  if (parent) document["parent"] = parent->str();
  return Digest::Sha256Of(GoMarshalSortedTopLevel(document));
}

Result<std::vector<V1Layer>> ComputeV1Layers(const V1Image& top, std::span<const Digest> diff_ids,
                                             const V1Options& options) {
  if (diff_ids.empty()) return Fail("empty export - not implemented");
  std::vector<Digest> chains = ChainIds(diff_ids);
  std::vector<V1Layer> layers;
  layers.reserve(diff_ids.size());
  std::optional<Digest> parent;
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    V1Image image;
    if (i + 1 == diff_ids.size()) {
      image = top;
    } else {
      image.created = GoTime{0, 0, options.epoch_utc_offset};
    }
    Digest v1_id = CreateV1Id(image, chains[i], parent);
    image.id = v1_id.hex();
    if (parent) image.parent = parent->hex();
    image.os = top.os;
    layers.push_back(V1Layer{v1_id.hex(), parent ? parent->hex() : std::string(),
                             GoMarshal(image.ToJson()), diff_ids[i], chains[i]});
    parent = v1_id;
  }
  return layers;
}

Result<std::vector<V1Layer>> ComputeV1Layers(const ImageConfig& config, const V1Options& options) {
  auto layers = ComputeV1Layers(config.spec().v1, config.diff_ids(), options);
  if (!layers) return Wrap("saving image " + config.id().str(), layers.error());
  return layers;
}

}  // namespace strata
