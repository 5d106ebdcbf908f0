// The engine tests' fixture: a store in a temporary directory (store/test_util.h), where the
// tests commit images directly, and an Engine over the same directory, which opens its own.
#pragma once

#include <memory>

#include "engine/engine.h"
#include "store/test_util.h"

namespace strata::engine_test {

class EngineTest : public store_test::StoreTest {
 protected:
  void SetUp() override {
    StoreTest::SetUp();
    engine_ = Engine::Create({.root = root(), .registries_config = ""});
  }

  std::unique_ptr<Engine> engine_;
};

}  // namespace strata::engine_test
