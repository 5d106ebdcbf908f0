#include "store/metadata.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "util/file.h"

namespace strata {
namespace {

class MetadataTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-md-" + RandomHexId().substr(0, 8));
    std::filesystem::create_directories(dir_);
    auto m = Metadata::Open(dir_ / "strata.db");
    ASSERT_TRUE(m) << m.error().message;
    md_.emplace(std::move(*m));
  }
  void TearDown() override {
    md_.reset();
    std::filesystem::remove_all(dir_);
  }
  std::filesystem::path dir_;
  std::optional<Metadata> md_;
};

TEST_F(MetadataTest, RolledBackTransactionLeavesNothing) {
  Digest id = Digest::Sha256Of("config");
  {
    auto tx = Transaction::Begin(md_->db());
    ASSERT_TRUE(tx);
    ASSERT_TRUE(md_->PutImage(
        {.id = id, .parent = {}, .top_layer = {}, .added_at = 1, .last_tag_time = {}}));
    // no Commit: destructor rolls back
  }
  EXPECT_FALSE(md_->GetImage(id)->has_value());
}

TEST_F(MetadataTest, ImagesParentsAndRefs) {
  Digest parent = Digest::Sha256Of("p");
  Digest child = Digest::Sha256Of("c");
  auto tx = Transaction::Begin(md_->db());
  ASSERT_TRUE(tx);
  ASSERT_TRUE(md_->PutImage({parent, {}, {}, 1, {}}));
  ASSERT_TRUE(md_->PutImage({child, parent, {}, 2, {}}));
  ASSERT_TRUE(md_->PutRef({"docker.io/library/x:latest", "docker.io/library/x", false, child}));
  ASSERT_TRUE(tx->Commit());

  auto kids = md_->Children(parent);
  ASSERT_TRUE(kids);
  ASSERT_EQ(kids->size(), 1u);
  EXPECT_EQ((*kids)[0], child);
  auto found = md_->FindImagesByPrefix(child.hex().substr(0, 5));
  ASSERT_EQ(found->size(), 1u);
  EXPECT_EQ(md_->RefsForImage(child)->at(0).name, "docker.io/library/x:latest");

  ASSERT_TRUE(md_->DeleteImage(parent));
  EXPECT_FALSE(md_->GetImage(child)->value().parent.has_value());
}

TEST_F(MetadataTest, LayersAreKeyedByChainId) {
  Digest diff = Digest::Sha256Of("tar");
  LayerRecord l{.chain_id = diff,
                .diff_id = diff,
                .parent = {},
                .size = 10,
                .tar_size = 1024,
                .cache_id = "abc",
                .unpacked = false};
  ASSERT_TRUE(md_->PutLayer(l));
  ASSERT_TRUE(md_->PutLayer(l));  // idempotent
  ASSERT_EQ(md_->ListLayers()->size(), 1u);
  ASSERT_TRUE(md_->SetLayerUnpacked(diff, true));
  auto got = md_->GetLayer(diff);
  ASSERT_TRUE(got && got->has_value());
  EXPECT_TRUE((*got)->unpacked);
  EXPECT_EQ((*got)->size, 10);
}

}  // namespace
}  // namespace strata
