#include "transport/oci_archive.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "archive/tar_reader.h"
#include "transport/transport_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::Slurp;
using archive_test::TarBuilder;
using archive_test::TempDir;
using transport_test::MakeImage;
using transport_test::TestImage;
using transport_test::WriteLayout;

std::vector<std::string> Names(const std::string& tar_bytes) {
  StringReader in(tar_bytes);
  TarReader tar(in);
  std::vector<std::string> out;
  for (;;) {
    auto e = tar.Next();
    if (!e || !*e) break;
    out.push_back((*e)->name);
  }
  return out;
}

// The image of `layout` tagged `tag`, written by an OciArchiveDestination into `path`.
Status Pack(const std::string& layout, const std::string& tag, const std::string& path) {
  STRATA_ASSIGN(source, OciLayoutSource::Open(layout, tag));
  STRATA_ASSIGN(destination, OciArchiveDestination::Open(path, tag));
  STRATA_TRY(TransferImage(*source, *destination));
  return destination->Commit();
}

TEST(OciArchiveTest, WriterIsDeterministicLayoutTar) {
  TestImage image = MakeImage(true, "w");
  StringWriter out;
  OciArchiveWriter writer(out);
  for (const std::string& b : image.blobs) {
    StringReader r(b);
    ASSERT_TRUE(writer.AddBlob({"x", Digest::Sha256Of(b), static_cast<int64_t>(b.size())}, r));
  }
  StringReader again(image.blobs[0]);  // repeated blobs are written once
  ASSERT_TRUE(writer.AddBlob(
      {"x", Digest::Sha256Of(image.blobs[0]), static_cast<int64_t>(image.blobs[0].size())}, again));
  auto d = writer.AddManifest({image.manifest, image.manifest_media_type, false});
  ASSERT_TRUE(d);
  EXPECT_EQ(*d, image.manifest_descriptor());
  ASSERT_TRUE(writer.AddIndexEntry(*d, {{std::string(kRefNameAnnotation), "t"}}));
  writer.AddExtraFile("manifest.json", "[]\n");
  ASSERT_TRUE(writer.Close());
  auto hex = [](const std::string& b) { return "blobs/sha256/" + Digest::Sha256Of(b).hex(); };
  EXPECT_EQ(Names(out.out), (std::vector<std::string>{
                                "blobs/", "blobs/sha256/", hex(image.blobs[0]), hex(image.blobs[1]),
                                hex(image.manifest), "index.json", "oci-layout", "manifest.json"}));

  // Blob bytes that do not match the descriptor are refused.
  StringWriter other;
  OciArchiveWriter bad(other);
  StringReader wrong("abc");
  auto st = bad.AddBlob({"x", Digest::Sha256Of("abd"), 3}, wrong);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("does not match its digest"), std::string::npos);
}

TEST(OciArchiveTest, DetectsAndReadsArchives) {
  TempDir dir;
  TestImage image = MakeImage(true, "r");
  WriteLayout(dir / "l", {{&image, "t"}});
  ASSERT_TRUE(Pack(dir / "l", "t", dir / "a.tar"));
  EXPECT_TRUE(*IsOciArchiveFile(dir / "a.tar"));

  auto source = OciArchiveSource::Open(dir / "a.tar", "t");
  ASSERT_TRUE(source) << source.error().message;
  EXPECT_EQ((*source)->GetManifest()->bytes, image.manifest);
  auto blob = (*source)->GetBlob(image.manifest_descriptor());
  ASSERT_TRUE(blob);
  auto bytes = ReadVerifiedBlob(**blob, image.manifest_descriptor());
  EXPECT_EQ(*bytes, image.manifest);
  auto wrong_tag = OciArchiveSource::Open(dir / "a.tar", "nope");
  ASSERT_FALSE(wrong_tag);
  EXPECT_EQ(wrong_tag.error().message, "oci-archive:" + dir / "a.tar" + ": OCI layout " +
                                           dir / "a.tar" +
                                           " has no image tagged \"nope\" (tags: t)");

  // A Docker 25 save (manifest.json too) is not an OCI-only archive; a long PAX name before
  // index.json is skipped correctly; compressed or foreign files are not archives at all.
  TarBuilder docker;
  docker.File(std::string(150, 'p') + "/long", "x").File("index.json", "{}");
  docker.File("oci-layout", "{}").File("manifest.json", "[]");
  ASSERT_TRUE(WriteFileAtomic(dir / "docker.tar", docker.Build()));
  EXPECT_FALSE(*IsOciArchiveFile(dir / "docker.tar"));
  TarBuilder pax;
  pax.File(std::string(150, 'p') + "/long", "x").Dir("blobs/").File("index.json", "{}");
  pax.File("./oci-layout", "{}");
  std::string pax_bytes = pax.Build();
  ASSERT_TRUE(WriteFileAtomic(dir / "pax.tar", pax_bytes));
  EXPECT_TRUE(*IsOciArchiveFile(dir / "pax.tar"));
  ASSERT_TRUE(WriteFileAtomic(dir / "pax.tar.gz", transport_test::Gzip(pax_bytes)));
  EXPECT_FALSE(*IsOciArchiveFile(dir / "pax.tar.gz"));
  EXPECT_FALSE(*IsOciArchiveFile(transport_test::BlobFile(dir / "l", image.id())));
  EXPECT_FALSE(IsOciArchiveFile(dir / "missing.tar"));  // an error: no such file
}

TEST(OciArchiveTest, ExtractKeepsOnlyLayoutMembers) {
  TempDir dir;
  std::string hex(64, 'c');
  TarBuilder b;
  b.File("../evil", "x").File("blobs/sha256/" + hex, "blob").File("blobs/sha256/nothex", "n");
  b.File("manifest.json", "[]").File("index.json", "{}").File("oci-layout", "{}");
  b.File("blobs/sha256/../../../escape", "e");
  StringReader in(b.Build());
  ASSERT_TRUE(ExtractOciArchive(in, dir / "x"));
  EXPECT_EQ(Slurp(dir / "x/blobs/sha256/" + hex), "blob");
  EXPECT_EQ(Slurp(dir / "x/index.json"), "{}");
  EXPECT_FALSE(PathExists(dir / "x/blobs/sha256/nothex"));
  EXPECT_FALSE(PathExists(dir / "x/manifest.json"));
  EXPECT_FALSE(PathExists(dir / "evil"));
  EXPECT_FALSE(PathExists(dir / "x/escape"));
  EXPECT_FALSE(PathExists(dir / "escape"));
}

TEST(OciArchiveTest, FailedWriteLeavesNoFile) {
  TempDir dir;
  TestImage image = MakeImage(true, "f");
  WriteLayout(dir / "l", {{&image, "t"}});
  ASSERT_TRUE(WriteFileAtomic(transport_test::BlobFile(dir / "l", image.id()), "{}"));
  auto st = Pack(dir / "l", "t", dir / "out.tar");
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("blob " + image.id().str() + " has 2 bytes"), std::string::npos)
      << st.error().message;
  EXPECT_FALSE(PathExists(dir / "out.tar"));
  std::string listing;
  for (const auto& e : std::filesystem::directory_iterator(dir.path())) {
    listing += e.path().filename().string() + " ";
  }
  EXPECT_EQ(listing, "l ");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
