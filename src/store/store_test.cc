// Store::Open (the layout it creates, reopening, read-only access) and the store lock (shared
// holders coexist, the exclusive one excludes them).
#include "store/store.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>

#include "store/test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using store_test::Layer;

class StoreOpenTest : public store_test::StoreTest {
 protected:
  // Whether another open file description of the lock file could take `operation` now.
  bool CanLock(int operation) {
    UniqueFd fd(::open((root() + "/lock").c_str(), O_RDWR | O_CLOEXEC));
    EXPECT_GE(fd.get(), 0);
    if (::flock(fd.get(), operation | LOCK_NB) == 0) return true;
    EXPECT_EQ(errno, EWOULDBLOCK);
    return false;
  }
};

TEST_F(StoreOpenTest, CreatesItsLayout) {
  EXPECT_EQ(store_->root(), root());
  EXPECT_FALSE(store_->read_only());
  for (const char* path : {"/strata.db", "/blobs", "/ingest", "/snapshots"}) {
    EXPECT_TRUE(PathExists(root() + path)) << path;
  }
  EXPECT_EQ(store_->snapshots().FilesDir("abc"), root() + "/snapshots/abc/fs");
  EXPECT_FALSE(PathExists(root() + "/layers"));
  const Digest d = *store_->content().Put("hello");
  EXPECT_EQ(store_->content().BlobPath(d), root() + "/blobs/sha256/" + d.hex());
}

TEST_F(StoreOpenTest, ReopeningSeesWhatWasCommitted) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  store_.reset();
  auto again = Store::Open(root());
  ASSERT_TRUE(again) << again.error().message;
  auto ref = (*again)->metadata().GetRef("docker.io/x/a:1");
  ASSERT_TRUE(ref && *ref);
  EXPECT_EQ((*ref)->image_id, id);
  EXPECT_TRUE((*again)->content().Exists(id));
}

TEST_F(StoreOpenTest, TwoOpenStoresOfOneRootShareIt) {
  auto other = Store::Open(root());
  ASSERT_TRUE(other) << other.error().message;
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  auto image = (*other)->metadata().GetImage(id);
  ASSERT_TRUE(image);
  EXPECT_TRUE(image->has_value());
}

TEST_F(StoreOpenTest, ReadOnlyOpenOfAnExistingStore) {
  Digest id = Add({.layers = {Layer("a", 1)}, .tags = {"x/a:1"}});
  auto ro = Store::Open(root(), StoreAccess::kReadOnly);
  ASSERT_TRUE(ro) << ro.error().message;
  EXPECT_FALSE((*ro)->read_only());  // writable here, so opened for writing
  EXPECT_TRUE((*ro)->metadata().GetImage(id)->has_value());
}

TEST_F(StoreOpenTest, ReadOnlyOpenOfAMissingStoreCreatesIt) {
  const std::string fresh = dir_.path() + "/fresh";
  auto s = Store::Open(fresh, StoreAccess::kReadOnly);
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_TRUE(PathExists(fresh + "/strata.db"));
  EXPECT_TRUE((*s)->metadata().ListImages()->empty());
}

TEST_F(StoreOpenTest, ARootThatIsAFileIsRefused) {
  const std::string file = dir_.path() + "/file";
  ASSERT_TRUE(archive_test::WriteTestFile(file, "x"));
  auto s = Store::Open(file);
  ASSERT_FALSE(s);
  EXPECT_NE(s.error().message.find(file), std::string::npos) << s.error().message;
}

TEST_F(StoreOpenTest, SharedLocksCoexistTheExclusiveOneExcludes) {
  {
    auto shared = store_->LockShared();
    ASSERT_TRUE(shared) << shared.error().message;
    auto second = store_->LockShared();
    ASSERT_TRUE(second) << second.error().message;
    EXPECT_TRUE(CanLock(LOCK_SH));
    EXPECT_FALSE(CanLock(LOCK_EX));
  }
  {
    auto exclusive = store_->LockExclusive();
    ASSERT_TRUE(exclusive) << exclusive.error().message;
    EXPECT_FALSE(CanLock(LOCK_SH));
    EXPECT_FALSE(CanLock(LOCK_EX));
  }
  EXPECT_TRUE(CanLock(LOCK_EX));  // released with the StoreLock
}

TEST(DefaultStoreRootTest, IsAbsolute) {
  const std::string root = DefaultStoreRoot();
  ASSERT_FALSE(root.empty());
  EXPECT_EQ(root[0], '/');
  if (::geteuid() == 0) {
    EXPECT_EQ(root, "/var/lib/strata");
  }
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
