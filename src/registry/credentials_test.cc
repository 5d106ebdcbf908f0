#include "registry/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <cstdlib>

#include "archive/test_util.h"

namespace strata {
namespace {

using archive_test::Slurp;
using archive_test::TempDir;
using archive_test::WriteTestFile;

TEST(CredentialStoreTest, PutGetEraseKeepsOtherKeys) {
  TempDir dir;
  const std::string path = dir.path() + "/cfg/config.json";
  ASSERT_TRUE(MakeDirs(dir.path() + "/cfg"));
  ASSERT_TRUE(WriteTestFile(path, R"({"auths":{},"psFormat":"table {{.ID}}"})"));
  CredentialStore store(path);
  ASSERT_TRUE(store.Put("127.0.0.1:5000", {"alice", "s3cret", ""}));
  ASSERT_TRUE(store.Put("docker.io", {"bob", "hub", ""}));
  const std::string text = Slurp(path);
  EXPECT_NE(text.find("psFormat"), std::string::npos);
  EXPECT_NE(text.find("\"https://index.docker.io/v1/\""), std::string::npos);
  EXPECT_NE(text.find("YWxpY2U6czNjcmV0"), std::string::npos);  // alice:s3cret
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto alice = store.Get("127.0.0.1:5000");
  ASSERT_TRUE(alice && *alice);
  EXPECT_EQ((*alice)->username, "alice");
  EXPECT_EQ((*alice)->password, "s3cret");
  auto hub = store.Get("registry-1.docker.io");  // the endpoint host finds Docker Hub's key
  ASSERT_TRUE(hub && *hub);
  EXPECT_EQ((*hub)->username, "bob");
  EXPECT_FALSE(*store.Get("other.example.com"));

  EXPECT_TRUE(*store.Erase("127.0.0.1:5000"));
  EXPECT_FALSE(*store.Get("127.0.0.1:5000"));
  EXPECT_FALSE(*store.Erase("127.0.0.1:5000"));
}

TEST(CredentialStoreTest, ReadsDockerStyleKeysAndHelpers) {
  TempDir dir;
  const std::string bin = dir.path() + "/bin";
  ASSERT_TRUE(MakeDirs(bin));
  // A helper that knows one server and records what it was asked.
  ASSERT_TRUE(WriteTestFile(bin + "/docker-credential-fake", R"(#!/bin/sh
read server
if [ "$1" = get ] && [ "$server" = "helped.example.com" ]; then
  echo '{"ServerURL":"helped.example.com","Username":"<token>","Secret":"refresh-me"}'
  exit 0
fi
echo "credentials not found in native keychain"
exit 1
)",
                            0755));
  const std::string old_path = std::getenv("PATH");
  ::setenv("PATH", (bin + ":" + old_path).c_str(), 1);
  const std::string path = dir.path() + "/config.json";
  ASSERT_TRUE(WriteTestFile(path, R"({
  "auths": {"http://plain.example.com/v2/": {"auth": "dXNlcjpwYXNz"}},
  "credHelpers": {"helped.example.com": "fake", "missing.example.com": "fake"}
})"));
  CredentialStore store(path);
  auto plain = store.Get("plain.example.com");
  ASSERT_TRUE(plain && *plain) << (plain ? "" : plain.error().message);
  EXPECT_EQ((*plain)->username, "user");
  auto helped = store.Get("helped.example.com");
  ASSERT_TRUE(helped && *helped) << (helped ? "" : helped.error().message);
  EXPECT_EQ((*helped)->identity_token, "refresh-me");
  auto missing = store.Get("missing.example.com");
  ASSERT_TRUE(missing);
  EXPECT_FALSE(*missing);
  ::setenv("PATH", old_path.c_str(), 1);
}

TEST(CredentialStoreTest, BrokenFileIsAnError) {
  TempDir dir;
  ASSERT_TRUE(WriteTestFile(dir.path() + "/config.json", "{not json"));
  auto r = CredentialStore(dir.path() + "/config.json").Get("x.io");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("not a JSON object"), std::string::npos);
}

}  // namespace
}  // namespace strata
