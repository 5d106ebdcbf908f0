#include "digest/digest.h"

#include <gtest/gtest.h>

#include <string>

namespace strata {
namespace STRATA_UNITY_ID {

TEST(Digest, EmptyTarConstant) {
  // Docker's layer.DigestSHA256EmptyTar: 1024 zero bytes.
  EXPECT_EQ(Digest::Sha256Of(std::string(1024, '\0')).str(),
            "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
}

TEST(Digest, StreamingEqualsOneShot) {
  Hasher h;
  h.Update("hello ");
  h.Update("world");
  EXPECT_EQ(h.bytes_hashed(), 11u);
  EXPECT_EQ(h.Finish(), Digest::Sha256Of("hello world"));
}

TEST(Digest, ParseRoundTrip) {
  auto d = Digest::Parse("sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->short_id(), "5f70bf18a086");
  EXPECT_EQ(d->algorithm(), DigestAlgorithm::kSha256);
}

TEST(Digest, Sha512) {
  Hasher h(DigestAlgorithm::kSha512);
  h.Update("abc");
  Digest d = h.Finish();
  EXPECT_EQ(d.hex().size(), 128u);
  EXPECT_EQ(d.hex().substr(0, 16), "ddaf35a193617aba");
  EXPECT_TRUE(Digest::Parse(d.str()));
}

TEST(Digest, ParseRejectsBadInput) {
  EXPECT_FALSE(Digest::Parse("5f70bf18"));
  EXPECT_FALSE(Digest::Parse("md5:abcd"));
  EXPECT_FALSE(Digest::Parse("sha256:abc"));
  EXPECT_FALSE(
      Digest::Parse("sha256:5F70BF18A086007016E948B04AED3B82103A36BEA41755B6CDDFAF10ACE3C6EF"));
  auto e = Digest::Parse("sha256:xyz");
  ASSERT_FALSE(e);
  EXPECT_NE(e.error().message.find("sha256:xyz"), std::string::npos);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
