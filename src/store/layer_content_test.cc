// Reading a layer's tar from the store, as the diffID blob or only through a compressed blob
// (layer_content), and unpacking stored layers into their directories (layer_unpack).
#include "store/layer_content.h"

#include <gtest/gtest.h>

#include "archive/compression.h"
#include "image/chain_id.h"
#include "store/layer_unpack.h"
#include "store/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::Slurp;
using archive_test::TarBuilder;

class LayerContentTest : public store_test::StoreTest {
 protected:
  // Keeps the layer only as a gzip blob, as a pull does; returns the blob's digest.
  Digest KeepOnlyCompressed(const std::string& tar, const std::string& stored_form = "") {
    const Digest diff = Digest::Sha256Of(tar);
    StringWriter out;
    GzipWriter gz(out);
    const std::string& plain = stored_form.empty() ? tar : stored_form;
    EXPECT_TRUE(gz.Write(plain.data(), plain.size()));
    EXPECT_TRUE(gz.Close());
    const Digest blob = *store_->content().Put(out.out);
    EXPECT_TRUE(store_->metadata().AddLayerBlob(
        {diff, blob, "application/vnd.oci.image.layer.v1.tar+gzip", int64_t(out.out.size())}));
    EXPECT_TRUE(store_->content().Delete(diff));
    return blob;
  }
  Result<std::string> ReadTar(const Digest& diff) {
    STRATA_ASSIGN(reader, OpenLayerTar(*store_, diff));
    std::string out;
    char buf[4096];
    for (;;) {
      STRATA_ASSIGN(n, reader->Read(buf, sizeof buf));
      if (n == 0) return out;
      out.append(buf, n);
    }
  }
};

TEST_F(LayerContentTest, TheTarBlobItself) {
  const std::string tar = TarBuilder().File("f", "hello").Build();
  Add({.layers = {tar}});
  const Digest diff = Digest::Sha256Of(tar);
  EXPECT_TRUE(*HasLayerTar(*store_, diff));
  EXPECT_EQ(*LayerTarSize(*store_, diff), static_cast<int64_t>(tar.size()));
  EXPECT_FALSE(*CompressedLayerBlob(*store_, diff));
  EXPECT_EQ(*ReadTar(diff), tar);
}

TEST_F(LayerContentTest, OnlyACompressedBlob) {
  const std::string tar = TarBuilder().File("f", "hello").Build();
  Add({.layers = {tar}});
  const Digest diff = Digest::Sha256Of(tar);
  const Digest blob = KeepOnlyCompressed(tar);
  EXPECT_TRUE(*HasLayerTar(*store_, diff));
  EXPECT_EQ(*CompressedLayerBlob(*store_, diff), blob);
  EXPECT_EQ(*LayerTarSize(*store_, diff), static_cast<int64_t>(tar.size()));  // from the record
  auto read = ReadTar(diff);
  ASSERT_TRUE(read) << read.error().message;
  EXPECT_EQ(*read, tar);
}

TEST_F(LayerContentTest, ACompressedBlobOfAnotherTarIsRefused) {
  const std::string tar = TarBuilder().File("f", "hello").Build();
  const std::string other = TarBuilder().File("f", "HELLO").Build();  // same size
  Add({.layers = {tar}});
  const Digest diff = Digest::Sha256Of(tar);
  const Digest blob = KeepOnlyCompressed(tar, other);
  auto read = ReadTar(diff);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message,
            "layer " + diff.str() + ": its stored compressed blob " + blob.str() +
                " decompresses to " + Digest::Sha256Of(other).str() + " (" +
                std::to_string(other.size()) +
                " bytes); run `strata fsck` to see what it damages (`strata fsck --repair` "
                "removes those images)");
}

TEST_F(LayerContentTest, AMissingLayerIsNamed) {
  const Digest diff = Digest::Sha256Of("never stored");
  EXPECT_FALSE(*HasLayerTar(*store_, diff));
  auto read = OpenLayerTar(*store_, diff);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().message, "layer " + diff.str() + " is missing from the store");
  EXPECT_EQ(LayerTarSize(*store_, diff).error().message,
            "layer " + diff.str() + " is missing from the store");
}

TEST_F(LayerContentTest, UnpackImagePutsEachLayerInItsOwnDirectory) {
  const std::string l0 = TarBuilder().Dir("etc/").File("etc/os", "base\n").Build();
  const std::string l1 = TarBuilder().File("app", "top\n").Build();
  Digest id = Add({.layers = {l0, l1}});
  auto report = UnpackImage(*store_, id);
  ASSERT_TRUE(report) << report.error().message;
  EXPECT_EQ(report->layers_unpacked, 2);
  const std::vector<Digest> diff_ids{Digest::Sha256Of(l0), Digest::Sha256Of(l1)};
  const std::vector<Digest> chain = ChainIds(diff_ids);
  auto bottom = **store_->metadata().GetLayer(chain[0]);
  auto top = **store_->metadata().GetLayer(chain[1]);
  EXPECT_TRUE(bottom.unpacked);
  EXPECT_TRUE(top.unpacked);
  EXPECT_EQ(Slurp(store_->snapshots().FilesDir(bottom.cache_id) + "/etc/os"), "base\n");
  EXPECT_EQ(Slurp(store_->snapshots().FilesDir(top.cache_id) + "/app"), "top\n");
  EXPECT_FALSE(PathExists(store_->snapshots().FilesDir(top.cache_id) + "/etc"));
  // Unpacked layers are not unpacked again.
  auto again = UnpackImage(*store_, id);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_EQ(again->layers_unpacked, 0);
}

TEST_F(LayerContentTest, UnpackReadsACompressedOnlyLayer) {
  const std::string tar = TarBuilder().File("f", "zipped\n").Build();
  Digest id = Add({.layers = {tar}});
  KeepOnlyCompressed(tar);
  auto report = UnpackImage(*store_, id);
  ASSERT_TRUE(report) << report.error().message;
  auto layer = **store_->metadata().GetLayer(Digest::Sha256Of(tar));
  EXPECT_EQ(Slurp(store_->snapshots().FilesDir(layer.cache_id) + "/f"), "zipped\n");
}

TEST_F(LayerContentTest, ADamagedLayerIsNotMarkedUnpacked) {
  const std::string tar = TarBuilder().File("f", "data").Build();
  Digest id = Add({.layers = {tar}});
  const Digest diff = Digest::Sha256Of(tar);
  std::string bytes = tar;
  bytes[600] ^= 1;  // in the file's content block
  ASSERT_TRUE(archive_test::WriteTestFile(store_->content().BlobPath(diff), bytes));
  auto report = UnpackImage(*store_, id);
  ASSERT_FALSE(report);
  EXPECT_NE(report.error().message.find(diff.str()), std::string::npos) << report.error().message;
  auto layer = **store_->metadata().GetLayer(diff);
  EXPECT_FALSE(layer.unpacked);
  EXPECT_FALSE(PathExists(store_->snapshots().FilesDir(layer.cache_id)));
  EXPECT_TRUE(ListDirectory(store_->snapshots().dir())->empty());  // no staging directory left
}

TEST_F(LayerContentTest, UnpackOfAnUnknownChainIsRefused) {
  const Digest chain = Digest::Sha256Of("no layer");
  auto report = UnpackLayers(*store_, {chain});
  ASSERT_FALSE(report);
  EXPECT_EQ(report.error().message, "layer " + chain.str() + " is not in the store");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
