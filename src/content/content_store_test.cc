#include "content/content_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace strata {
namespace STRATA_UNITY_ID {

class ContentStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() / ("strata-cs-" + RandomHexId().substr(0, 8));
    auto s = ContentStore::Open(dir_);
    ASSERT_TRUE(s) << s.error().message;
    store_.emplace(std::move(*s));
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  size_t IngestFiles() {
    size_t n = 0;
    for (auto& e : std::filesystem::directory_iterator(dir_ / "ingest")) n += e.exists();
    return n;
  }
  std::filesystem::path dir_;
  std::optional<ContentStore> store_;
};

TEST_F(ContentStoreTest, PutThenReadVerified) {
  auto d = store_->Put("hello");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->str(), "sha256:2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_TRUE(store_->Exists(*d));
  EXPECT_EQ(*store_->ReadVerified(*d), "hello");
  EXPECT_EQ(*store_->Size(*d), 5u);
  EXPECT_EQ(IngestFiles(), 0u);
}

TEST_F(ContentStoreTest, StreamingWriterCommitsOnlyExpectedDigest) {
  auto w = store_->NewWriter();
  ASSERT_TRUE(w);
  std::string big(3 << 20, 'x');
  ASSERT_TRUE(w->Write(big.data(), big.size()));
  ASSERT_TRUE(w->Write("y", 1));
  auto wrong = Digest::Sha256Of("something else");
  auto st = w->Commit(wrong);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("digest mismatch"), std::string::npos);
  EXPECT_FALSE(store_->Exists(Digest::Sha256Of(big + "y")));
  EXPECT_EQ(IngestFiles(), 0u);
}

// Bigger than several write buffers, written in pieces that straddle buffer boundaries, with a
// tail that is not a whole block; moved mid-way. In both write modes (direct: O_DIRECT blocks
// from a helper thread; buffered: write-back started every 32 MiB).
void WriteLargeBlobInOddPieces(ContentStore& store, BlobWriteMode mode, size_t size) {
  store.set_write_mode(mode);
  std::string data;
  for (int i = 0; data.size() < size; ++i) data += std::to_string(i) + ",";
  auto w = store.NewWriter();
  ASSERT_TRUE(w);
  size_t off = 0;
  for (size_t piece = 1; off < data.size() / 2; piece = piece * 3 + 7) {
    const size_t n = std::min(piece % (5 << 20), data.size() - off);
    ASSERT_TRUE(w->Write(data.data() + off, n));
    off += n;
  }
  BlobWriter moved(std::move(*w));
  ASSERT_TRUE(moved.Write(data.data() + off, data.size() - off));
  const Digest want = Digest::Sha256Of(data);
  ASSERT_TRUE(moved.Commit(want));
  auto back = store.ReadVerified(want, 128 << 20);
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(back->size(), data.size());
  EXPECT_TRUE(*back == data);
}

TEST_F(ContentStoreTest, LargeBlobsSurviveDirectWritesInOddPieces) {
  WriteLargeBlobInOddPieces(*store_, BlobWriteMode::kDirect, (13u << 20) + 1234);
  EXPECT_EQ(IngestFiles(), 0u);
}

TEST_F(ContentStoreTest, LargeBlobsSurviveBufferedWritesInOddPieces) {
  // Past two write-back chunks.
  WriteLargeBlobInOddPieces(*store_, BlobWriteMode::kBuffered, (70u << 20) + 1234);
  EXPECT_EQ(IngestFiles(), 0u);
}

TEST_F(ContentStoreTest, AbandonedLargeWriterLeavesNothing) {
  for (BlobWriteMode mode : {BlobWriteMode::kDirect, BlobWriteMode::kBuffered}) {
    store_->set_write_mode(mode);
    {
      auto w = store_->NewWriter();
      ASSERT_TRUE(w);
      std::string big(9 << 20, 'z');
      ASSERT_TRUE(w->Write(big.data(), big.size()));  // a direct write may still be in flight
    }
    EXPECT_EQ(IngestFiles(), 0u);
  }
}

TEST_F(ContentStoreTest, AbandonedWriterLeavesNothing) {
  {
    auto w = store_->NewWriter();
    ASSERT_TRUE(w);
    ASSERT_TRUE(w->Write("partial", 7));
    EXPECT_EQ(IngestFiles(), 1u);
  }
  EXPECT_EQ(IngestFiles(), 0u);
  auto list = store_->List();
  ASSERT_TRUE(list);
  EXPECT_TRUE(list->empty());
}

TEST_F(ContentStoreTest, VerifyDetectsCorruption) {
  auto d = store_->Put("original");
  ASSERT_TRUE(d);
  ASSERT_TRUE(store_->Verify(*d));
  ASSERT_TRUE(WriteFileAtomic(store_->BlobPath(*d), "tampered"));
  auto st = store_->Verify(*d);
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("corrupt"), std::string::npos);
  EXPECT_EQ(st.error().code, ErrorCode::kCorrupt);
  auto read = store_->ReadVerified(*d);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kCorrupt);
}

TEST_F(ContentStoreTest, AMissingBlobIsNotFound) {
  const Digest absent = Digest::Sha256Of("never stored");
  auto read = store_->ReadVerified(absent);
  ASSERT_FALSE(read);
  EXPECT_EQ(read.error().code, ErrorCode::kNotFound);
  EXPECT_EQ(read.error().message, "blob " + absent.str() + " not found in store");
  auto opened = store_->OpenVerified(absent);
  ASSERT_FALSE(opened);
  EXPECT_EQ(opened.error().code, ErrorCode::kNotFound);
}

TEST_F(ContentStoreTest, ListAndDelete) {
  auto a = store_->Put("a");
  auto b = store_->Put("b");
  ASSERT_TRUE(a && b);
  EXPECT_EQ(store_->List()->size(), 2u);
  ASSERT_TRUE(store_->Delete(*a));
  auto list = store_->List();
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0], *b);
}

// Flips one byte of a stored blob in place.
void FlipByte(const std::string& path, off_t offset) {
  int fd = ::open(path.c_str(), O_RDWR);
  ASSERT_GE(fd, 0);
  char c = 0;
  ASSERT_EQ(::pread(fd, &c, 1, offset), 1);
  c ^= 0x01;
  ASSERT_EQ(::pwrite(fd, &c, 1, offset), 1);
  ::close(fd);
}

TEST_F(ContentStoreTest, OpenVerifiedPassesIntactBlob) {
  std::string bytes(300000, 'q');
  auto d = store_->Put(bytes);
  ASSERT_TRUE(d);
  auto reader = store_->OpenVerified(*d, bytes.size());
  ASSERT_TRUE(reader) << reader.error().message;
  StringWriter out;
  auto copied = Copy(**reader, out);
  ASSERT_TRUE(copied) << copied.error().message;
  EXPECT_EQ(out.out, bytes);
}

TEST_F(ContentStoreTest, OpenVerifiedFailsBeforeHandingOutTheLastByteOfADamagedBlob) {
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes += static_cast<char>(i * 7);
  auto d = store_->Put(bytes);
  ASSERT_TRUE(d);
  FlipByte(store_->BlobPath(*d), 5000);
  auto reader = store_->OpenVerified(*d);
  ASSERT_TRUE(reader) << reader.error().message;
  // Read in small pieces, as a consumer that streams the bytes onward does.
  uint64_t handed_out = 0;
  std::string error;
  ErrorCode code = ErrorCode::kUnknown;
  char buf[4096];
  for (;;) {
    auto n = (*reader)->Read(buf, sizeof buf);
    if (!n) {
      error = n.error().message;
      code = n.error().code;
      break;
    }
    if (*n == 0) break;
    handed_out += *n;
  }
  EXPECT_LT(handed_out, bytes.size());
  EXPECT_NE(error.find(d->str()), std::string::npos) << error;
  EXPECT_NE(error.find("corrupt"), std::string::npos) << error;
  EXPECT_NE(error.find("strata fsck"), std::string::npos) << error;
  EXPECT_EQ(code, ErrorCode::kCorrupt);
}

TEST_F(ContentStoreTest, OpenVerifiedRefusesABlobOfTheWrongSize) {
  auto d = store_->Put("twelve bytes");
  ASSERT_TRUE(d);
  auto reader = store_->OpenVerified(*d, 13);
  ASSERT_FALSE(reader);
  EXPECT_NE(reader.error().message.find("12 bytes"), std::string::npos) << reader.error().message;
  EXPECT_EQ(reader.error().code, ErrorCode::kCorrupt);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
