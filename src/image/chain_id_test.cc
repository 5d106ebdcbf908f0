#include "image/chain_id.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

Digest D(const char* text) { return *Digest::Parse(text); }

const char* kA = "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1";
const char* kEmptyTar = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

TEST(ChainId, SingleLayerIsItsDiffId) {
  std::vector<Digest> ids = {D(kA)};
  EXPECT_EQ(ChainId(ids), D(kA));
  EXPECT_EQ(ChainIds(ids), ids);
}

TEST(ChainId, MobyV110Vector) {
  // moby v1.10 layer test: the prefixed strings are hashed ("sha256:a sha256:b").
  std::vector<Digest> ids = {D(kA), D(kEmptyTar)};
  EXPECT_EQ(ChainId(ids).str(),
            "sha256:c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f");
  EXPECT_EQ(ChainIdFromParent(D(kA), D(kEmptyTar)), ChainId(ids));
}

TEST(ChainId, EveryPrefix) {
  std::vector<Digest> ids = {D(kA), D(kEmptyTar), D(kA)};
  std::vector<Digest> chains = ChainIds(ids);
  ASSERT_EQ(chains.size(), 3u);
  EXPECT_EQ(chains[0], D(kA));
  EXPECT_EQ(chains[1].hex(), "c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f");
  EXPECT_EQ(chains[2].hex(), "ce60e381e7c2941cc3c11bc7a60b267bb56a3be80df231da8c523c53af72518b");
  EXPECT_EQ(ChainId(ids), chains[2]);
  EXPECT_TRUE(ChainIds(std::vector<Digest>{}).empty());
}

TEST(ChainIdDeathTest, EmptyListAborts) {
  EXPECT_DEATH(ChainId(std::vector<Digest>{}), "no layers");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
