#include "registry/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <optional>

#include "archive/test_util.h"
#include "util/env_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::Slurp;
using archive_test::TempDir;
using archive_test::WriteTestFile;

// The body of the fake helper; $dir is set in front of it.
constexpr const char* kScript = R"SH(
echo "$1" >>"$dir/../calls"
case "$1" in
store)
  json=$(cat)
  server=$(echo "$json" | sed -n 's/.*"ServerURL":"\([^"]*\)".*/\1/p')
  echo "$json" >"$dir/$(printf %s "$server" | tr -c 'A-Za-z0-9.' _)"
  ;;
get|erase)
  read server
  f="$dir/$(printf %s "$server" | tr -c 'A-Za-z0-9.' _)"
  if [ ! -f "$f" ]; then echo "credentials not found in native keychain"; exit 1; fi
  if [ "$1" = get ]; then cat "$f"; else rm "$f"; fi
  ;;
list)
  echo '{"stored.example.com":"someone"}'
  ;;
esac
)SH";

// A docker-credential-fake on PATH that keeps one file per server under $dir/state and logs
// every call to $dir/calls, speaking the helper protocol docker uses.
class FakeHelper {
 public:
  FakeHelper() : state_(dir_.path() + "/state"), path_("PATH", dir_.path() + "/bin:" + OldPath()) {
    EXPECT_TRUE(MakeDirs(dir_.path() + "/bin"));
    EXPECT_TRUE(MakeDirs(state_));
    EXPECT_TRUE(WriteTestFile(dir_.path() + "/bin/docker-credential-fake",
                              "#!/bin/sh\ndir=" + state_ + "\n" + kScript, 0755));
  }
  int Calls(const std::string& verb) const {
    const std::string log = Slurp(dir_.path() + "/calls");
    int n = 0;
    for (size_t at = log.find(verb + "\n"); at != std::string::npos;
         at = log.find(verb + "\n", at + 1)) {
      ++n;
    }
    return n;
  }
  const TempDir& dir() const { return dir_; }

 private:
  static std::string OldPath() {
    const char* p = std::getenv("PATH");
    return p ? p : "/usr/bin:/bin";
  }
  TempDir dir_;
  std::string state_;
  ScopedEnv path_;
};

TEST(CredentialStoreTest, PutGetEraseKeepsOtherKeys) {
  TempDir dir;
  const std::string path = dir.path() + "/cfg/config.json";
  ASSERT_TRUE(MakeDirs(dir.path() + "/cfg"));
  ASSERT_TRUE(WriteTestFile(path, R"({"auths":{},"psFormat":"table {{.ID}}","proxies":{"a":1}})"));
  CredentialStore store(path);
  ASSERT_TRUE(store.Put("127.0.0.1:5000", {"alice", "s3cret", ""}));
  ASSERT_TRUE(store.Put("docker.io", {"bob", "hub", ""}));
  const std::string text = Slurp(path);
  EXPECT_NE(text.find("\"psFormat\": \"table {{.ID}}\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"proxies\""), std::string::npos) << text;
  EXPECT_NE(text.find("\"https://index.docker.io/v1/\""), std::string::npos);
  EXPECT_NE(text.find("YWxpY2U6czNjcmV0"), std::string::npos);  // alice:s3cret
  struct stat st;
  ASSERT_EQ(::stat(path.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);

  auto alice = store.Get("127.0.0.1:5000");
  ASSERT_TRUE(alice && *alice);
  EXPECT_EQ((*alice)->username, "alice");
  EXPECT_EQ((*alice)->password, "s3cret");
  for (const char* hub_host : {"docker.io", "registry-1.docker.io", "index.docker.io"}) {
    auto hub = store.Get(hub_host);  // every Hub spelling finds Hub's key
    ASSERT_TRUE(hub && *hub) << hub_host;
    EXPECT_EQ((*hub)->username, "bob");
  }
  EXPECT_FALSE(*store.Get("other.example.com"));

  EXPECT_TRUE(*store.Erase("127.0.0.1:5000"));
  EXPECT_FALSE(*store.Get("127.0.0.1:5000"));
  EXPECT_FALSE(*store.Erase("127.0.0.1:5000"));
  EXPECT_TRUE(*store.Get("docker.io"));  // the other login stays
  EXPECT_NE(Slurp(path).find("psFormat"), std::string::npos);
}

TEST(CredentialStoreTest, MissingOrEmptyFileMeansNoCredentialsAndPutCreatesIt) {
  TempDir dir;
  CredentialStore absent(dir.path() + "/new/config.json");
  auto none = absent.Get("docker.io");
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  ASSERT_TRUE(absent.Put("docker.io", {"u", "p", ""}));
  EXPECT_TRUE(*absent.Get("docker.io"));

  ASSERT_TRUE(WriteTestFile(dir.path() + "/empty.json", "\n"));
  CredentialStore empty(dir.path() + "/empty.json");
  auto e = empty.Get("docker.io");
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_FALSE(*e);
}

TEST(CredentialStoreTest, DockerSpellingsOfKeysAndIdentityTokens) {
  TempDir dir;
  const std::string path = dir.path() + "/config.json";
  ASSERT_TRUE(WriteTestFile(path, R"({"auths": {
    "http://plain.example.com/v2/": {"auth": "dXNlcjpwYXNz"},
    "https://both.example.com": {"auth": "b2xkOm9sZA=="},
    "both.example.com": {"auth": "bmV3Om5ldw=="},
    "docker.io": {"auth": "aHViOmh1Yg=="},
    "tok.example.com": {"auth": "dG9tOg==", "identitytoken": "refresh"}
  }})"));
  CredentialStore store(path);
  auto plain = store.Get("plain.example.com");
  ASSERT_TRUE(plain && *plain);
  EXPECT_EQ((*plain)->username, "user");
  EXPECT_EQ((*plain)->password, "pass");
  auto both = store.Get("both.example.com");  // the exact key beats an older spelling
  ASSERT_TRUE(both && *both);
  EXPECT_EQ((*both)->username, "new");
  auto hub = store.Get("registry-1.docker.io");
  ASSERT_TRUE(hub && *hub);
  EXPECT_EQ((*hub)->username, "hub");
  auto tok = store.Get("tok.example.com");
  ASSERT_TRUE(tok && *tok);
  EXPECT_EQ((*tok)->username, "tom");
  EXPECT_EQ((*tok)->identity_token, "refresh");

  // Put writes docker's shape for an identity token; Erase drops every spelling.
  ASSERT_TRUE(store.Put("id.example.com", {"ann", "", "tok-123"}));
  auto id = store.Get("id.example.com");
  ASSERT_TRUE(id && *id);
  EXPECT_EQ((*id)->identity_token, "tok-123");
  EXPECT_NE(Slurp(path).find("\"identitytoken\": \"tok-123\""), std::string::npos);
  EXPECT_TRUE(*store.Erase("both.example.com"));
  EXPECT_FALSE(*store.Get("both.example.com"));
  EXPECT_EQ(Slurp(path).find("both.example.com"), std::string::npos);

  auto list = store.List();
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->at("docker.io"), "hub");
  EXPECT_EQ(list->at("http://plain.example.com/v2/"), "user");
  EXPECT_EQ(list->count("both.example.com"), 0u);
}

TEST(CredentialStoreTest, WritesThroughASymlinkedConfig) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.path() + "/dotfiles"));
  ASSERT_TRUE(WriteTestFile(dir.path() + "/dotfiles/config.json", R"({"detachKeys":"ctrl-x"})"));
  ASSERT_EQ(::symlink("dotfiles/config.json", (dir.path() + "/config.json").c_str()), 0);
  CredentialStore store(dir.path() + "/config.json");
  ASSERT_TRUE(store.Put("r.example.com", {"u", "p", ""}));
  struct stat st;
  ASSERT_EQ(::lstat((dir.path() + "/config.json").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  const std::string text = Slurp(dir.path() + "/dotfiles/config.json");
  EXPECT_NE(text.find("r.example.com"), std::string::npos);
  EXPECT_NE(text.find("detachKeys"), std::string::npos);
}

TEST(CredentialStoreTest, CredsStoreHelperStoresGetsListsAndErases) {
  FakeHelper helper;
  const std::string path = helper.dir().path() + "/config.json";
  ASSERT_TRUE(WriteTestFile(path, R"({"credsStore": "fake", "currentContext": "x"})"));
  CredentialStore store(path);
  EXPECT_EQ(*store.HelperFor("127.0.0.1:5000"), "docker-credential-fake");
  ASSERT_TRUE(store.Put("127.0.0.1:5000", {"alice", "s3cret", ""}));
  ASSERT_TRUE(store.Put("docker.io", {"", "", "hub-token"}));
  const std::string text = Slurp(path);
  // The secret went to the helper; config.json keeps docker's empty placeholder.
  EXPECT_EQ(text.find("s3cret"), std::string::npos);
  EXPECT_EQ(text.find("YWxpY2U6czNjcmV0"), std::string::npos);
  EXPECT_NE(text.find("\"127.0.0.1:5000\": {}"), std::string::npos) << text;
  EXPECT_NE(text.find("currentContext"), std::string::npos);

  auto alice = store.Get("127.0.0.1:5000");
  ASSERT_TRUE(alice && *alice) << (alice ? "" : alice.error().message);
  EXPECT_EQ((*alice)->username, "alice");
  EXPECT_EQ((*alice)->password, "s3cret");
  auto hub = store.Get("registry-1.docker.io");  // stored as "<token>": an identity token
  ASSERT_TRUE(hub && *hub);
  EXPECT_EQ((*hub)->identity_token, "hub-token");
  EXPECT_TRUE((*hub)->username.empty());
  auto list = store.List();
  ASSERT_TRUE(list) << list.error().message;
  EXPECT_EQ(list->at("stored.example.com"), "someone");

  EXPECT_TRUE(*store.Erase("127.0.0.1:5000"));
  auto gone = store.Get("127.0.0.1:5000");
  ASSERT_TRUE(gone) << gone.error().message;  // "credentials not found" is not an error
  EXPECT_FALSE(*gone);
  EXPECT_FALSE(*store.Erase("127.0.0.1:5000"));
  EXPECT_EQ(Slurp(path).find("127.0.0.1:5000"), std::string::npos);
}

TEST(CredentialStoreTest, CredHelpersPerHostAndLookupCache) {
  FakeHelper helper;
  const std::string path = helper.dir().path() + "/config.json";
  ASSERT_TRUE(WriteTestFile(path, R"({
  "auths": {"plain.example.com": {"auth": "dXNlcjpwYXNz"}},
  "credHelpers": {"https://helped.example.com": "fake"}
})"));
  CredentialStore store(path);
  EXPECT_EQ(*store.HelperFor("plain.example.com"), "");
  EXPECT_EQ(*store.HelperFor("helped.example.com"), "docker-credential-fake");
  ASSERT_TRUE(store.Put("helped.example.com", {"h", "pw", ""}));
  EXPECT_EQ(helper.Calls("store"), 1);
  EXPECT_EQ((*store.Get("plain.example.com"))->username, "user");  // no helper involved

  CredentialLookup lookup = store.Lookup();
  const int before = helper.Calls("get");
  auto first = lookup("helped.example.com");
  auto second = lookup("helped.example.com");
  ASSERT_TRUE(first && second);
  EXPECT_EQ(first->password, "pw");
  EXPECT_EQ(second->password, "pw");
  EXPECT_EQ(helper.Calls("get") - before, 1);  // cached per host
  EXPECT_FALSE(lookup("nobody.example.com"));
}

TEST(CredentialStoreTest, HelperFailuresAreErrorsNotCrashes) {
  TempDir dir;
  ASSERT_TRUE(MakeDirs(dir.path() + "/bin"));
  // Closes stdin unread and fails: writing a large secret to it must not kill us by SIGPIPE.
  ASSERT_TRUE(WriteTestFile(dir.path() + "/bin/docker-credential-rude",
                            "#!/bin/sh\nexec 0<&-\necho 'keychain locked'\nexit 3\n", 0755));
  ScopedEnv path_env("PATH", dir.path() + "/bin:" + std::string(std::getenv("PATH")));
  const std::string path = dir.path() + "/config.json";
  ASSERT_TRUE(WriteTestFile(
      path, R"({"credHelpers": {"a.example.com": "rude", "b.example.com": "absent"}})"));
  CredentialStore store(path);
  auto put = store.Put("a.example.com", {"u", std::string(256 << 10, 'x'), ""});
  ASSERT_FALSE(put);
  EXPECT_NE(put.error().message.find("docker-credential-rude store a.example.com failed: "
                                     "keychain locked"),
            std::string::npos)
      << put.error().message;
  auto get = store.Get("a.example.com");
  ASSERT_FALSE(get);
  EXPECT_NE(get.error().message.find("keychain locked"), std::string::npos);
  auto absent = store.Get("b.example.com");
  ASSERT_FALSE(absent);
  EXPECT_NE(absent.error().message.find("docker-credential-absent not found in PATH"),
            std::string::npos)
      << absent.error().message;
  EXPECT_FALSE(store.Lookup()("a.example.com"));  // the lookup degrades to anonymous
}

TEST(CredentialStoreTest, ValidateNamesABrokenFile) {
  TempDir dir;
  EXPECT_TRUE(CredentialStore(dir.path() + "/absent.json").Validate());
  ASSERT_TRUE(WriteTestFile(dir.path() + "/empty.json", "\n"));
  EXPECT_TRUE(CredentialStore(dir.path() + "/empty.json").Validate());
  ASSERT_TRUE(WriteTestFile(dir.path() + "/good.json", R"({"auths":{}})"));
  EXPECT_TRUE(CredentialStore(dir.path() + "/good.json").Validate());
  ASSERT_TRUE(WriteTestFile(dir.path() + "/config.json", "{not json"));
  auto st = CredentialStore(dir.path() + "/config.json").Validate();
  ASSERT_FALSE(st);
  EXPECT_TRUE(st.error().message.starts_with(dir.path() + "/config.json: not valid JSON"))
      << st.error().message;
}

TEST(CredentialStoreTest, BrokenFileIsAnError) {
  TempDir dir;
  ASSERT_TRUE(WriteTestFile(dir.path() + "/config.json", "{not json"));
  auto r = CredentialStore(dir.path() + "/config.json").Get("x.io");
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("config.json: not valid JSON"), std::string::npos)
      << r.error().message;
  ASSERT_TRUE(WriteTestFile(dir.path() + "/array.json", "[]"));
  auto a = CredentialStore(dir.path() + "/array.json").Put("x.io", {"u", "p", ""});
  ASSERT_FALSE(a);
  EXPECT_NE(a.error().message.find("not a JSON object"), std::string::npos);
  EXPECT_EQ(Slurp(dir.path() + "/array.json"), "[]");  // never overwritten
}

TEST(CredentialStoreTest, DefaultPathPrecedence) {
  ScopedEnv home("HOME", "/home/someone");
  ScopedEnv docker("DOCKER_CONFIG", "/etc/dockercfg");
  ScopedEnv strata("STRATA_AUTH_FILE", "/run/auth.json");
  EXPECT_EQ(CredentialStore::DefaultPath(), "/run/auth.json");
  ::unsetenv("STRATA_AUTH_FILE");
  EXPECT_EQ(CredentialStore::DefaultPath(), "/etc/dockercfg/config.json");
  ::unsetenv("DOCKER_CONFIG");
  EXPECT_EQ(CredentialStore::DefaultPath(), "/home/someone/.docker/config.json");
  EXPECT_EQ(CredentialStore::KeyFor("registry-1.docker.io"), "https://index.docker.io/v1/");
  EXPECT_EQ(CredentialStore::KeyFor("127.0.0.1:5000"), "127.0.0.1:5000");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
