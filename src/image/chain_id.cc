#include "image/chain_id.h"

#include <cstdio>
#include <cstdlib>

namespace strata {

Digest ChainIdFromParent(const Digest& parent_chain_id, const Digest& diff_id) {
  return Digest::Sha256Of(parent_chain_id.str() + " " + diff_id.str());
}

Digest ChainId(std::span<const Digest> diff_ids) {
  if (diff_ids.empty()) {
    std::fputs("strata: ChainId called with no layers\n", stderr);
    std::abort();
  }
  Digest chain = diff_ids.front();
  for (size_t i = 1; i < diff_ids.size(); ++i) chain = ChainIdFromParent(chain, diff_ids[i]);
  return chain;
}

std::vector<Digest> ChainIds(std::span<const Digest> diff_ids) {
  std::vector<Digest> chains;
  chains.reserve(diff_ids.size());
  for (size_t i = 0; i < diff_ids.size(); ++i) {
    chains.push_back(i == 0 ? diff_ids[0] : ChainIdFromParent(chains.back(), diff_ids[i]));
  }
  return chains;
}

}  // namespace strata
