// ChainIDs: the identity of a stack of layers, which names layer store directories.
// ChainID(L0) = DiffID(L0); ChainID(Ln) = "sha256:" + hex(sha256(ChainID(Ln-1) + " " + DiffID(Ln)))
// where both operands are the full "sha256:<hex>" strings (Docker's layer.CreateChainID).
#pragma once

#include <span>
#include <vector>

#include "digest/digest.h"

namespace strata {

// Chain of `parent` extended by one layer.
Digest ChainIdFromParent(const Digest& parent_chain_id, const Digest& diff_id);

// ChainID of the whole stack. Precondition: diff_ids is not empty (an image without layers
// has no chain; Docker's empty ChainID ""). Aborts on an empty list.
Digest ChainId(std::span<const Digest> diff_ids);

// ChainIDs of every prefix: result[i] = ChainId(diff_ids[0..i]). Empty in, empty out.
std::vector<Digest> ChainIds(std::span<const Digest> diff_ids);

}  // namespace strata
