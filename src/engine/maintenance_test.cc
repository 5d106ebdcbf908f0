#include "engine/maintenance.h"

#include <gtest/gtest.h>

#include "engine/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::Layer;

using EngineMaintenanceTest = engine_test::EngineTest;

TEST_F(EngineMaintenanceTest, FsckOfAHealthyStoreChecksEveryBlob) {
  Add({.layers = {Layer("a", 10), Layer("b", 20)}, .tags = {"app:1"}});
  auto report = CheckStore(*engine_, {});
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->problems.empty());
  EXPECT_TRUE(report->repairs.empty());
  EXPECT_EQ(report->blobs_checked, 3);  // the config and two layers
}

TEST_F(EngineMaintenanceTest, GcKeepsWhatImagesUse) {
  const Digest id = Add({.layers = {Layer("a", 10)}, .tags = {"app:1"}});
  auto report = CollectGarbage(*engine_);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_TRUE(report->removals.empty());
  EXPECT_TRUE(Exists(id));
  EXPECT_EQ(LayerCount(), 1u);
}

TEST_F(EngineMaintenanceTest, MigrateNamesTheDataRootInItsError) {
  const std::string missing = dir_.path() + "/no-docker-here";
  auto report = Migrate(*engine_, {.data_root = missing});
  ASSERT_FALSE(report);
  EXPECT_TRUE(report.error().message.starts_with("migrating " + missing + ": "))
      << report.error().message;
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
