// The kind of a failure to open a file for reading.
#include "util/file.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

TEST(FileTest, OpeningAFileThatIsNotThereIsNotFound) {
  auto missing = OpenRead("/nonexistent-strata-dir/file");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(missing.error().message,
            "open /nonexistent-strata-dir/file: No such file or directory");
  auto under_a_file = ReadFile("/etc/passwd/x");  // ENOTDIR
  ASSERT_FALSE(under_a_file);
  EXPECT_EQ(under_a_file.error().code, ErrorCode::kNotFound);
  auto readable = ReadFile("/etc/passwd");
  EXPECT_TRUE(readable) << readable.error().message;
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
