// Import into and export from a real store in a temporary directory.
#include "transport/store_transport.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "store/image_lookup.h"
#include "transport/oci_layout.h"
#include "transport/transport_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TempDir;
using transport_test::MakeImage;
using transport_test::TestImage;
using transport_test::WriteLayout;

class StoreTransportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto s = Store::Open(dir_ / "store");
    ASSERT_TRUE(s) << s.error().message;
    store_ = std::move(*s);
  }

  // oci:<layout>:<tag> into the store as `name`.
  Result<Digest> Import(const std::string& layout, const std::string& tag,
                        const std::string& name) {
    STRATA_ASSIGN(source, OciLayoutSource::Open(layout, tag));
    STRATA_ASSIGN(ref, ParseDockerRef(name));
    STRATA_ASSIGN(destination, StoreImageDestination::Open(*store_, {ref}));
    STRATA_TRY(TransferImage(*source, *destination));
    STRATA_TRY(destination->Commit());
    return *destination->image_id();
  }

  Status Export(const std::string& name, const std::string& layout, const std::string& tag,
                ManifestChoice choice = ManifestChoice::kOci) {
    STRATA_ASSIGN(id, ResolveImage(*store_, name));
    STRATA_ASSIGN(source, StoreImageSource::Open(*store_, id, choice));
    STRATA_ASSIGN(destination, OciLayoutDestination::Open(layout, tag));
    STRATA_TRY(TransferImage(*source, *destination));
    return destination->Commit();
  }

  std::vector<std::string> Files() { return archive_test::StoreFiles(dir_.path() + "/store"); }

  TempDir dir_;
  std::unique_ptr<Store> store_;
};

TEST_F(StoreTransportTest, GzipLayoutRoundTripKeepsManifestDigest) {
  TestImage image = MakeImage(/*gzip=*/true, "round");
  WriteLayout(dir_ / "in", {{&image, "v1"}});
  const int64_t commits_before = store_->metadata().commits();
  auto id = Import(dir_ / "in", "v1", "example/round:1");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(store_->metadata().commits() - commits_before, 1);  // image, blobs and manifest
  EXPECT_EQ(*id, image.id());
  EXPECT_EQ(*ResolveImage(*store_, "example/round:1"), image.id());

  // Both forms of each layer are kept: the gzip blob as it came, the tar under its diffID.
  ContentStore& cs = store_->content();
  for (size_t i = 0; i < image.tars.size(); ++i) {
    EXPECT_TRUE(cs.Exists(Digest::Sha256Of(image.blobs[i])));
    EXPECT_TRUE(cs.Exists(Digest::Sha256Of(image.tars[i])));
    auto blobs = store_->metadata().LayerBlobs(Digest::Sha256Of(image.tars[i]));
    ASSERT_TRUE(blobs);
    ASSERT_EQ(blobs->size(), 1u);
    EXPECT_EQ((*blobs)[0].digest, Digest::Sha256Of(image.blobs[i]));
    EXPECT_EQ((*blobs)[0].media_type, kOciLayerGzipMediaType);
    EXPECT_EQ((*blobs)[0].size, static_cast<int64_t>(image.blobs[i].size()));
  }
  auto manifests = store_->metadata().ImageManifests(image.id());
  ASSERT_TRUE(manifests);
  ASSERT_EQ(manifests->size(), 1u);
  EXPECT_EQ((*manifests)[0].digest, image.manifest_digest());
  EXPECT_EQ(*cs.ReadVerified(image.manifest_digest()), image.manifest);

  ASSERT_TRUE(Export("example/round:1", dir_ / "out", "again"));
  auto entries = ReadOciIndex(dir_ / "out");
  ASSERT_TRUE(entries) << entries.error().message;
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].descriptor.digest, image.manifest_digest());
  EXPECT_EQ((*entries)[0].annotations.at(std::string(kRefNameAnnotation)), "again");
  for (const std::string& b : image.blobs) {
    EXPECT_EQ(archive_test::Slurp(transport_test::BlobFile(dir_ / "out", Digest::Sha256Of(b))), b);
  }
}

TEST_F(StoreTransportTest, CorruptLayerBlobLeavesStoreUnchanged) {
  TestImage good = MakeImage(true, "good");
  WriteLayout(dir_ / "good", {{&good, "g"}});
  ASSERT_TRUE(Import(dir_ / "good", "g", "good:1"));
  auto before = Files();

  // A gzip blob whose digest does not match (still a valid gzip stream of a valid tar).
  TestImage bad = MakeImage(true, "bad");
  WriteLayout(dir_ / "bad", {{&bad, "b"}});
  Digest named = Digest::Sha256Of(bad.blobs[1]);
  std::string other = transport_test::Gzip(bad.tars[1] + std::string(1024, '\0'));
  ASSERT_TRUE(WriteFileAtomic(transport_test::BlobFile(dir_ / "bad", named), other));
  auto r = Import(dir_ / "bad", "b", "bad:1");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("layer blob " + named.str() +
                                   ": the blob does not match its digest: the content hashes to " +
                                   Digest::Sha256Of(other).str()),
            std::string::npos)
      << r.error().message;

  // A flipped byte inside the gzip stream: the decoder or the digest check refuses it.
  std::string flipped = bad.blobs[1];
  flipped[flipped.size() / 2] ^= 0x55;
  ASSERT_TRUE(WriteFileAtomic(transport_test::BlobFile(dir_ / "bad", named), flipped));
  auto r2 = Import(dir_ / "bad", "b", "bad:1");
  ASSERT_FALSE(r2);
  EXPECT_NE(r2.error().message.find("layer blob " + named.str()), std::string::npos)
      << r2.error().message;

  EXPECT_EQ(Files(), before);
  EXPECT_EQ(store_->metadata().ListImages()->size(), 1u);
  EXPECT_FALSE(ResolveImage(*store_, "bad:1"));
}

TEST_F(StoreTransportTest, ConfigAndDiffIdMismatchesAreRefused) {
  TestImage image = MakeImage(false, "m");
  // The config promises the diffIDs of another image's layers.
  TestImage other = MakeImage(false, "other");
  TestImage mixed = image;
  mixed.config = other.config;
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(image.manifest);
  doc["config"]["digest"] = mixed.id().str();
  doc["config"]["size"] = mixed.config.size();
  mixed.manifest = doc.dump();
  WriteLayout(dir_ / "mixed", {{&mixed, "x"}});
  auto before = Files();
  auto r = Import(dir_ / "mixed", "x", "mixed:1");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find(
                "invalid diffID for layer 0 (blob " + Digest::Sha256Of(image.tars[0]).str() +
                "): the config expects " + Digest::Sha256Of(other.tars[0]).str()),
            std::string::npos)
      << r.error().message;

  // A config blob that does not hash to its descriptor.
  WriteLayout(dir_ / "cfg", {{&image, "c"}});
  std::string changed = image.config;
  changed[changed.size() - 3] = 'X';
  ASSERT_TRUE(WriteFileAtomic(transport_test::BlobFile(dir_ / "cfg", image.id()), changed));
  auto c = Import(dir_ / "cfg", "c", "cfg:1");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "image config: blob " + image.id().str() +
                                   " does not match its digest: the content hashes to " +
                                   Digest::Sha256Of(changed).str());
  EXPECT_EQ(Files(), before);
}

TEST_F(StoreTransportTest, GeneratesUncompressedManifestWithoutRecordedOne) {
  TestImage image = MakeImage(true, "gen");
  WriteLayout(dir_ / "in", {{&image, "t"}});
  ASSERT_TRUE(Import(dir_ / "in", "t", "gen:1"));
  // No usable recorded manifest once a blob it names is gone: an OCI manifest is generated
  // from the config and the layer tars, as Docker 25's save writes it.
  ASSERT_TRUE(store_->content().Delete(Digest::Sha256Of(image.blobs[0])));
  auto source = StoreImageSource::Open(*store_, image.id(), ManifestChoice::kOci);
  ASSERT_TRUE(source) << source.error().message;
  auto manifest = (*source)->GetManifest();
  ASSERT_TRUE(manifest);
  EXPECT_TRUE(manifest->generated);
  Descriptor config{std::string(kOciConfigMediaType), image.id(),
                    static_cast<int64_t>(image.config.size())};
  std::vector<Descriptor> layers;
  for (const std::string& t : image.tars) {
    layers.push_back(
        {std::string(kOciLayerMediaType), Digest::Sha256Of(t), static_cast<int64_t>(t.size())});
  }
  EXPECT_EQ(manifest->bytes, MarshalOciManifest(config, layers));

  auto docker = StoreImageSource::Open(*store_, image.id(), ManifestChoice::kAny);
  ASSERT_TRUE(docker);
  auto dm = (*docker)->GetManifest();
  EXPECT_EQ(dm->media_type, kDockerManifestMediaType);
  config.media_type = kDockerConfigMediaType;
  for (Descriptor& l : layers) l.media_type = kDockerLayerMediaType;
  EXPECT_EQ(dm->bytes, MarshalDockerManifest(config, layers));
}

TEST_F(StoreTransportTest, RecordedDockerManifestServedOnlyWhenAnyTypeWanted) {
  TestImage image = MakeImage(true, "dock", /*docker=*/true);
  WriteLayout(dir_ / "in", {{&image, "t"}});
  ASSERT_TRUE(Import(dir_ / "in", "t", "dock:1"));
  auto any = StoreImageSource::Open(*store_, image.id(), ManifestChoice::kAny);
  ASSERT_TRUE(any);
  EXPECT_EQ((*any)->GetManifest()->bytes, image.manifest);
  auto oci = StoreImageSource::Open(*store_, image.id(), ManifestChoice::kOci);
  ASSERT_TRUE(oci);
  EXPECT_TRUE((*oci)->GetManifest()->generated);
  EXPECT_EQ((*oci)->GetManifest()->media_type, kOciManifestMediaType);
}

TEST_F(StoreTransportTest, UncompressedLayerUnderGzipMediaTypeIsSniffed) {
  TestImage image = MakeImage(false, "sniff", true);
  // What skopeo's dir: output of a docker-archive looks like: tar bytes, ...tar.gzip type.
  nlohmann::ordered_json doc = nlohmann::ordered_json::parse(image.manifest);
  for (auto& l : doc["layers"]) l["mediaType"] = kDockerLayerGzipMediaType;
  image.manifest = doc.dump();
  WriteLayout(dir_ / "in", {{&image, "t"}});
  auto id = Import(dir_ / "in", "t", "sniff:1");
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(*id, image.id());
}

TEST(ImageManifestsMetadataTest, NewestFirstAndIdempotent) {
  TempDir dir;
  auto md = Metadata::Open(dir / "m.db");
  ASSERT_TRUE(md);
  Digest image = Digest::Sha256Of("config");
  Digest m1 = Digest::Sha256Of("m1"), m2 = Digest::Sha256Of("m2");
  ASSERT_TRUE(md->AddImageManifest({image, m1, std::string(kOciManifestMediaType)}));
  ASSERT_TRUE(md->AddImageManifest({image, m2, std::string(kDockerManifestMediaType)}));
  auto list = md->ImageManifests(image);
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].digest, m2);
  EXPECT_EQ((*list)[1].media_type, kOciManifestMediaType);
  ASSERT_TRUE(md->AddImageManifest({image, m1, std::string(kOciManifestMediaType)}));
  list = md->ImageManifests(image);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].digest, m1);  // re-added: newest again
  EXPECT_EQ(md->ListImageManifests()->size(), 2u);
  ASSERT_TRUE(md->DeleteImageManifests(image));
  EXPECT_TRUE(md->ImageManifests(image)->empty());
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
