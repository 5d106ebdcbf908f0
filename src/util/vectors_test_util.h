// Upstream test vectors for the unit tests (shared/vectors beside the checkout, compiled in as
// STRATA_VECTORS_DIR; the environment variable of the same name overrides it). A test that
// needs one of its files starts with
//   STRATA_NEED_VECTORS(path, "reference.json");
// which declares `path` (the file's full path) and, when the file cannot be read, skips the test
// saying why, or fails it when the environment has CI=true, as the integration tests do with a
// missing peer (tests/integration/lib.sh): in CI a silent skip would hide that the upstream cases
// never ran.
#pragma once

#include <gtest/gtest.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <string>
#include <string_view>

namespace strata::test_vectors {

// The vectors directory: $STRATA_VECTORS_DIR if set and not empty, else the built-in one.
inline std::string Dir() {
  const char* env = std::getenv("STRATA_VECTORS_DIR");
  if (env != nullptr && *env != '\0') return env;
  return STRATA_VECTORS_DIR;
}

// Whether missing vectors fail the test rather than skip it: CI=true in the environment.
inline bool Required() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string_view(ci) == "true";
}

// "" when `path` opens for reading, else why not.
inline std::string Missing(const std::string& path) {
  std::ifstream in(path);
  if (in) return "";
  return "no test vectors at " + path + ": " + std::strerror(errno) +
         " (shared/vectors is not beside the checkout; STRATA_VECTORS_DIR overrides it)";
}

}  // namespace strata::test_vectors

#define STRATA_NEED_VECTORS(path, name)                                                    \
  const std::string path = ::strata::test_vectors::Dir() + "/" + (name);                   \
  if (const std::string strata_vectors_missing = ::strata::test_vectors::Missing(path);    \
      !strata_vectors_missing.empty()) {                                                   \
    if (::strata::test_vectors::Required())                                                \
      FAIL() << strata_vectors_missing << " [CI=true: missing test vectors are failures]"; \
    GTEST_SKIP() << strata_vectors_missing;                                                \
  }
