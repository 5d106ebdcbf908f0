#include "transport/dir_transport.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "transport/transport_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::Slurp;
using archive_test::TempDir;
using transport_test::MakeImage;
using transport_test::TestImage;
using transport_test::WriteDir;

std::string Listing(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    names.push_back(e.path().filename().string());
  }
  std::sort(names.begin(), names.end());
  std::string out;
  for (const std::string& n : names) out += n + " ";
  return out;
}

Status CopyDir(const std::string& from, const std::string& to) {
  STRATA_ASSIGN(source, DirSource::Open(from));
  STRATA_ASSIGN(destination, DirDestination::Open(to));
  STRATA_TRY(TransferImage(*source, *destination));
  return destination->Commit();
}

TEST(DirTransportTest, ReadsAndWritesSkopeoLayout) {
  TempDir dir;
  TestImage image = MakeImage(true, "dir", /*docker=*/true);
  WriteDir(dir / "in", image);
  auto source = DirSource::Open(dir / "in");
  ASSERT_TRUE(source) << source.error().message;
  EXPECT_EQ((*source)->GetManifest()->media_type, kDockerManifestMediaType);

  ASSERT_TRUE(CopyDir(dir / "in", dir / "out"));
  EXPECT_EQ(Slurp(dir / "out/version"), "Directory Transport Version: 1.1\n");
  EXPECT_EQ(Slurp(dir / "out/manifest.json"), image.manifest);
  EXPECT_EQ(Slurp(dir / "out/" + image.id().hex()), image.config);
  EXPECT_EQ(Listing(dir / "in"), Listing(dir / "out"));
  EXPECT_EQ(Listing(dir.path()), "in out ");  // no temporary directory left

  // An earlier dir: output is replaced; a foreign non-empty directory is not.
  TestImage other = MakeImage(false, "other");
  WriteDir(dir / "in2", other);
  ASSERT_TRUE(CopyDir(dir / "in2", dir / "out"));
  EXPECT_EQ(Slurp(dir / "out/manifest.json"), other.manifest);
  EXPECT_FALSE(PathExists(dir / "out/" + image.id().hex()));
  ASSERT_TRUE(MakeDirs(dir / "mine"));
  ASSERT_TRUE(WriteFileAtomic(dir / "mine/notes.txt", "keep"));
  auto refused = DirDestination::Open(dir / "mine");
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("refusing to overwrite"), std::string::npos);
}

TEST(DirTransportTest, ErrorsNameTheProblem) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir / "empty"));
  auto no_version = DirSource::Open(dir / "empty");
  ASSERT_FALSE(no_version);
  EXPECT_EQ(no_version.error().message,
            "dir:" + dir / "empty" + " is not a dir: transport directory: it has no version file");

  TestImage image = MakeImage(true, "e", true);
  WriteDir(dir / "in", image);
  WriteDir(dir / "out", MakeImage(true, "previous", true));
  std::string before = Listing(dir / "out");
  Digest layer = Digest::Sha256Of(image.blobs[0]);
  ASSERT_TRUE(WriteFileAtomic(dir / "in/" + layer.hex(), image.blobs[1]));
  auto st = CopyDir(dir / "in", dir / "out");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("blob " + layer.str()), std::string::npos)
      << st.error().message;
  EXPECT_EQ(Listing(dir / "out"), before);          // the old output is untouched
  EXPECT_EQ(Listing(dir.path()), "empty in out ");  // no temporary directory left
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
