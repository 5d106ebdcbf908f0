#include "transport/oci_layout.h"

#include <gtest/gtest.h>

#include "image/image_config.h"
#include "transport/transport_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::Slurp;
using archive_test::TempDir;
using transport_test::BlobFile;
using transport_test::MakeImage;
using transport_test::TestImage;
using transport_test::WriteLayout;

const std::string kRef(kRefNameAnnotation);

Descriptor ManifestAt(char c, int64_t size) {
  return {std::string(kOciManifestMediaType), *Digest::Parse("sha256:" + std::string(64, c)), size};
}

TEST(OciIndexTest, NewIndexAndReplacement) {
  auto fresh = AddToOciIndex("", ManifestAt('a', 10), {{kRef, "v1"}});
  ASSERT_TRUE(fresh);
  EXPECT_EQ(*fresh,
            R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
            R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
            R"("digest":"sha256:)" +
                std::string(64, 'a') +
                R"(","size":10,"annotations":{"org.opencontainers.image.ref.name":"v1"}}]})");
  auto second = AddToOciIndex(*fresh, ManifestAt('b', 11), {{kRef, "v2"}});
  auto replaced = AddToOciIndex(*second, ManifestAt('c', 12), {{kRef, "v1"}});
  ASSERT_TRUE(replaced);
  auto entries = ParseIndex(*replaced);
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].annotations.at(kRef), "v2");
  EXPECT_EQ((*entries)[1].descriptor, ManifestAt('c', 12));
  EXPECT_EQ((*entries)[1].annotations.at(kRef), "v1");
  // Without replacement (docker save of two repositories with the same tag) both stay.
  auto both = AddToOciIndex(*replaced, ManifestAt('d', 13), {{kRef, "v1"}}, false);
  EXPECT_EQ(ParseIndex(*both)->size(), 3u);

  // Unknown members of an existing index survive; an unnamed entry is replaced by digest.
  std::string foreign =
      R"({"schemaVersion":2,"annotations":{"x":"y"},"manifests":[)"
      R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
      std::string(64, 'e') + R"(","size":1}]})";
  auto unnamed = AddToOciIndex(foreign, ManifestAt('e', 1), {});
  ASSERT_TRUE(unnamed);
  EXPECT_EQ(*unnamed,
            R"({"schemaVersion":2,"annotations":{"x":"y"},"manifests":[)"
            R"({"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:)" +
                std::string(64, 'e') + R"(","size":1}]})");
  EXPECT_FALSE(AddToOciIndex("[1]", ManifestAt('a', 1), {}));
}

TEST(OciLayoutTest, SourceFindsImagesByTag) {
  TempDir dir;
  TestImage a = MakeImage(true, "a"), b = MakeImage(false, "b");
  WriteLayout(dir / "l", {{&a, "one"}, {&b, "two"}});
  auto one = OciLayoutSource::Open(dir / "l", "one");
  ASSERT_TRUE(one) << one.error().message;
  auto manifest = (*one)->GetManifest();
  EXPECT_EQ(manifest->bytes, a.manifest);
  EXPECT_EQ(manifest->media_type, kOciManifestMediaType);
  EXPECT_FALSE(manifest->generated);

  auto missing = OciLayoutSource::Open(dir / "l", "three");
  ASSERT_FALSE(missing);
  EXPECT_EQ(missing.error().message,
            "OCI layout " + dir / "l" + " has no image tagged \"three\" (tags: one, two)");
  auto ambiguous = OciLayoutSource::Open(dir / "l", "");
  ASSERT_FALSE(ambiguous);
  EXPECT_NE(ambiguous.error().message.find("holds 2 images"), std::string::npos);

  auto not_layout = OciLayoutSource::Open(dir.path(), "x");
  ASSERT_FALSE(not_layout);
  EXPECT_EQ(not_layout.error().message,
            dir.path() + " is not an OCI layout: it has no oci-layout file");

  // A manifest blob that does not match the index's descriptor.
  ASSERT_TRUE(WriteFileAtomic(BlobFile(dir / "l", b.manifest_digest()), b.manifest + "\n"));
  auto bad = OciLayoutSource::Open(dir / "l", "two");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("manifest " + b.manifest_digest().str() + ": blob " +
                                     b.manifest_digest().str() + " is larger than"),
            std::string::npos)
      << bad.error().message;
}

TEST(OciLayoutTest, SourceResolvesNestedIndexToHostPlatform) {
  TempDir dir;
  TestImage a = MakeImage(true, "multi");
  WriteLayout(dir / "l", {{&a, "unused"}});
  std::string nested =
      R"({"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json",)"
      R"("manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json",)"
      R"("digest":")" +
      a.manifest_digest().str() + R"(","size":)" + std::to_string(a.manifest.size()) +
      R"(,"platform":{"os":"linux",)"
      R"("architecture":")" +
      std::string(HostGoArch()) + R"("}}]})";
  transport_test::WriteBlob(dir / "l", nested);
  std::string index = R"({"schemaVersion":2,"manifests":[{"mediaType":)"
                      R"("application/vnd.oci.image.index.v1+json","digest":")" +
                      Digest::Sha256Of(nested).str() + R"(","size":)" +
                      std::to_string(nested.size()) +
                      R"(,"annotations":{"org.opencontainers.image.ref.name":"multi"}}]})";
  ASSERT_TRUE(WriteFileAtomic(dir / "l/index.json", index));
  auto source = OciLayoutSource::Open(dir / "l", "multi");
  ASSERT_TRUE(source) << source.error().message;
  EXPECT_EQ((*source)->GetManifest()->bytes, a.manifest);
}

TEST(OciLayoutTest, DestinationCreatesAndExtendsLayouts) {
  TempDir dir;
  TestImage a = MakeImage(true, "a"), b = MakeImage(true, "b");
  WriteLayout(dir / "src", {{&a, "a"}, {&b, "b"}});
  auto copy = [&](const std::string& from_tag, const std::string& to_tag) -> Status {
    STRATA_ASSIGN(source, OciLayoutSource::Open(dir / "src", from_tag));
    STRATA_ASSIGN(destination, OciLayoutDestination::Open(dir / "dst", to_tag));
    STRATA_TRY(TransferImage(*source, *destination));
    return destination->Commit();
  };
  ASSERT_TRUE(copy("a", "x"));
  EXPECT_EQ(Slurp(dir / "dst/oci-layout"), R"({"imageLayoutVersion": "1.0.0"})");
  EXPECT_EQ(Slurp(BlobFile(dir / "dst", a.manifest_digest())), a.manifest);
  EXPECT_EQ(Slurp(BlobFile(dir / "dst", a.id())), a.config);
  ASSERT_TRUE(copy("b", "y"));
  ASSERT_TRUE(copy("b", "x"));  // x now names b
  auto entries = ReadOciIndex(dir / "dst");
  ASSERT_TRUE(entries);
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].annotations.at(kRef), "y");
  EXPECT_EQ((*entries)[1].annotations.at(kRef), "x");
  EXPECT_EQ((*entries)[1].descriptor.digest, b.manifest_digest());

  // Refuses a non-empty directory that is not a layout.
  ASSERT_TRUE(MakeDirs(dir / "junk"));
  ASSERT_TRUE(WriteFileAtomic(dir / "junk/file", "x"));
  auto junk = OciLayoutDestination::Open(dir / "junk", "t");
  ASSERT_FALSE(junk);
  EXPECT_EQ(junk.error().message,
            "oci:" + dir / "junk" + ": the directory is not empty and is not an OCI layout");
}

TEST(OciLayoutTest, FailedCopyRemovesTheDirectoryItCreated) {
  TempDir dir;
  TestImage a = MakeImage(true, "a");
  WriteLayout(dir / "src", {{&a, "a"}});
  std::string corrupt = a.blobs[1];
  corrupt[10] ^= 1;
  ASSERT_TRUE(WriteFileAtomic(BlobFile(dir / "src", Digest::Sha256Of(a.blobs[1])), corrupt));
  {
    auto source = OciLayoutSource::Open(dir / "src", "a");
    ASSERT_TRUE(source);
    auto destination = OciLayoutDestination::Open(dir / "new", "t");
    ASSERT_TRUE(destination);
    auto st = TransferImage(**source, **destination);
    ASSERT_FALSE(st);
    EXPECT_EQ(st.error().message, "blob " + Digest::Sha256Of(a.blobs[1]).str() +
                                      " does not match its digest: the content hashes to " +
                                      Digest::Sha256Of(corrupt).str());
    // The good first layer was written, the bad one was not.
    EXPECT_TRUE(PathExists(BlobFile(dir / "new", Digest::Sha256Of(a.blobs[0]))));
    EXPECT_FALSE(PathExists(BlobFile(dir / "new", Digest::Sha256Of(a.blobs[1]))));
  }
  EXPECT_FALSE(PathExists(dir / "new"));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
