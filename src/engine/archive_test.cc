#include "engine/archive.h"

#include <fcntl.h>
#include <gtest/gtest.h>

#include "engine/images.h"
#include "engine/test_util.h"
#include "util/file.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::Layer;

class EngineArchiveTest : public engine_test::EngineTest {
 protected:
  // Saves `names` from `engine` into a string; counts the output opening.
  Result<std::string> SaveToString(Engine& engine, const std::vector<std::string>& names,
                                   ArchiveFormat format = ArchiveFormat::kDocker) {
    StringWriter out;
    ImageSaveRequest request{.names = names, .format = format, .open_output = [&]() {
                               ++outputs_opened_;
                               return Result<Writer*>(&out);
                             }};
    ImageSaveEvents events{.layer_progress = [&](const std::string&, uint64_t current, uint64_t) {
      progress_bytes_ = current;
    }};
    STRATA_TRY(ImageSave(engine, request, events));
    return out.out;
  }

  // Loads an archive from a file (as `load -i FILE`) into `engine`.
  Result<ImageLoadResult> LoadFromString(Engine& engine, const std::string& archive) {
    const std::string path = dir_.path() + "/archive.tar";
    STRATA_TRY(WriteFileAtomic(path, archive));
    STRATA_ASSIGN(fd, OpenRead(path));
    return ImageLoad(engine, {.fd = fd.get(), .name = path, .unpack = false});
  }

  int outputs_opened_ = 0;
  uint64_t progress_bytes_ = 0;
};

TEST_F(EngineArchiveTest, SaveLoadListRoundTrip) {
  const Digest id = Add({.layers = {Layer("a", 100), Layer("b", 200)}, .tags = {"app:1"}});
  for (ArchiveFormat format : {ArchiveFormat::kDocker, ArchiveFormat::kOci}) {
    outputs_opened_ = 0;
    progress_bytes_ = 0;
    auto saved = SaveToString(*engine_, {"app"}, format);
    ASSERT_TRUE(saved) << saved.error().message;
    EXPECT_EQ(outputs_opened_, 1);
    EXPECT_GT(progress_bytes_, 0u);

    archive_test::TempDir other;
    auto second = Engine::Create({.root = other.path() + "/store", .registries_config = ""});
    auto loaded = LoadFromString(*second, *saved);
    ASSERT_TRUE(loaded) << loaded.error().message;
    ASSERT_EQ(loaded->images.size(), 1u);
    EXPECT_EQ(loaded->images[0].id, id);
    EXPECT_EQ(loaded->images[0].tags, (std::vector<std::string>{"app:1"}));
    EXPECT_TRUE(loaded->messages.empty());

    auto listed = ImageList(*second, {});
    ASSERT_TRUE(listed) << listed.error().message;
    ASSERT_EQ(listed->size(), 1u);
    EXPECT_EQ((*listed)[0].id, id);
    EXPECT_EQ((*listed)[0].repo_tags, (std::vector<std::string>{"app:1"}));

    // What the second store saves is what the first saved.
    auto again = SaveToString(*second, {"app:1"}, format);
    ASSERT_TRUE(again) << again.error().message;
    EXPECT_EQ(*again, *saved);
  }
}

TEST_F(EngineArchiveTest, SaveResolvesEveryNameBeforeOpeningTheOutput) {
  Add({.layers = {Layer("a", 100)}, .tags = {"app:1"}});
  auto saved = SaveToString(*engine_, {"app:1", "nothing:here"});
  ASSERT_FALSE(saved);
  EXPECT_TRUE(IsNotFound(saved.error())) << saved.error().message;
  EXPECT_EQ(outputs_opened_, 0);
}

TEST_F(EngineArchiveTest, LoadOfGarbageChangesNothing) {
  auto loaded = LoadFromString(*engine_, std::string(4096, 'x'));
  ASSERT_FALSE(loaded);
  EXPECT_EQ(ImageCount(), 0u);
}

TEST_F(EngineArchiveTest, ImportReadsTheGivenStreamForDash) {
  StringReader tar(Layer("hello", 5));
  auto id = ImageImport(*engine_, {.source = "-", .input = &tar, .reference = "imported:1"});
  ASSERT_TRUE(id) << id.error().message;
  EXPECT_EQ(Tags(*id), (std::vector<std::string>{"docker.io/library/imported:1"}));
  auto history = ImageHistory(*engine_, ImageHistoryRequest{.name = "imported:1"});
  ASSERT_TRUE(history) << history.error().message;
  ASSERT_EQ(history->size(), 1u);
  EXPECT_EQ(history->front().comment, "Imported from -");

  auto no_stream = ImageImport(*engine_, {.source = "-"});
  ASSERT_FALSE(no_stream);
  EXPECT_EQ(no_stream.error().code, ErrorCode::kInvalidArgument);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
