// STRATA_NEED_VECTORS: missing upstream vectors skip a test with the reason, and fail it under
// CI=true (the real users are go_json_test, image_config_test, manifest_test, reference_test).
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <optional>
#include <string>

#include "util/env_test_util.h"
#include "util/vectors_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

constexpr char kMissingDir[] = "/nonexistent/strata-vectors";

// A test body that needs a vectors file; it records a failure if it goes on past the check.
void NeedsVectors() {
  STRATA_NEED_VECTORS(path, "reference.json");
  ADD_FAILURE() << "went on without " << path;
}

TEST(TestVectors, MissingUnderCiFails) {
  ScopedEnv dir("STRATA_VECTORS_DIR", kMissingDir);
  ScopedEnv ci("CI", "true");
  EXPECT_FATAL_FAILURE(NeedsVectors(), "CI=true: missing test vectors are failures");
  EXPECT_FATAL_FAILURE(NeedsVectors(),
                       "no test vectors at /nonexistent/strata-vectors/reference.json");
}

// Outside CI the same check skips (GTEST_SKIP cannot be caught here without skipping this test
// too): not required, and the reason names the file.
TEST(TestVectors, MissingOutsideCiIsNotRequired) {
  ScopedEnv dir("STRATA_VECTORS_DIR", kMissingDir);
  for (std::optional<std::string> value :
       {std::optional<std::string>(), std::optional<std::string>("false"),
        std::optional<std::string>("")}) {
    ScopedEnv ci("CI", value);
    EXPECT_FALSE(test_vectors::Required());
  }
  EXPECT_EQ(test_vectors::Dir(), kMissingDir);
  std::string why = test_vectors::Missing(test_vectors::Dir() + "/reference.json");
  EXPECT_NE(why.find("/nonexistent/strata-vectors/reference.json"), std::string::npos) << why;
  EXPECT_NE(why.find("No such file or directory"), std::string::npos) << why;
}

TEST(TestVectors, PresentFileGoesOn) {
  char tmpl[] = "/tmp/strata-vectors-XXXXXX";
  ASSERT_NE(::mkdtemp(tmpl), nullptr);
  std::string file = std::string(tmpl) + "/reference.json";
  { std::ofstream(file) << "{}"; }
  {
    ScopedEnv dir("STRATA_VECTORS_DIR", std::string(tmpl));
    ScopedEnv ci("CI", "true");
    EXPECT_EQ(test_vectors::Missing(file), "");
    STRATA_NEED_VECTORS(path, "reference.json");
    EXPECT_EQ(path, file);
  }
  ::unlink(file.c_str());
  ::rmdir(tmpl);
}

TEST(TestVectors, DefaultIsTheBuiltInDirectory) {
  ScopedEnv dir("STRATA_VECTORS_DIR", std::nullopt);
  EXPECT_EQ(test_vectors::Dir(), STRATA_VECTORS_DIR);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
