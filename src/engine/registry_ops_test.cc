// The engine's registry-side calls (push, tags, manifest inspect, copy, login/logout, resolve,
// and pull through a failing mirror) against real registries on loopback.
#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <fstream>
#include <optional>
#include <sstream>

#include "engine/auth.h"
#include "engine/copy.h"
#include "engine/loopback_registry_test_util.h"
#include "engine/push.h"
#include "engine/remote.h"
#include "store/image_lookup.h"
#include "transport/transport_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TempDir;
using engine_test::LoopbackRegistry;
using transport_test::MakeImage;
using transport_test::TestImage;

std::string ReadFile(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

bool Contains(const std::vector<std::string>& lines, const std::string& line) {
  return std::find(lines.begin(), lines.end(), line) != lines.end();
}

PushRequest PushOf(const std::string& name, bool all_tags = false) {
  PushRequest request;
  request.name = name;
  request.all_tags = all_tags;
  return request;
}

CopyRequest CopyOf(const std::string& source, const std::string& destination) {
  CopyRequest request;
  request.source = source;
  request.destination = destination;
  return request;
}

class EngineRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_TRUE(registry_.ok());
    WritePolicy("");
    engine_ = Engine::Create({.root = dir_ / "store", .registries_config = dir_ / "reg.toml"});
    // An image in an OCI layout, copied into the store under a name on the registry.
    transport_test::WriteLayout(dir_ / "layout", {{&image_, "v"}});
  }

  void WritePolicy(const std::string& text) { std::ofstream(dir_ / "reg.toml") << text; }
  std::string Name(const std::string& path) { return registry_.host() + "/" + path; }

  // Copies the layout's image into the store as `name`.
  void StoreAs(const std::string& name) {
    auto copied = Copy(*engine_, CopyOf("oci:" + (dir_ / "layout") + ":v", "strata:" + name));
    ASSERT_TRUE(copied) << copied.error().message;
    ASSERT_TRUE(copied->image_id);
    EXPECT_EQ(*copied->image_id, image_.id());
  }

  TempDir dir_;
  LoopbackRegistry registry_{dir_ / "registry"};
  std::unique_ptr<Engine> engine_;
  TestImage image_ = MakeImage(/*gzip=*/true, "engine");
};

TEST_F(EngineRegistryTest, PushReportsEachStepAndTheRegistryHasTheTag) {
  StoreAs(Name("team/app:1"));
  std::vector<std::string> seen;
  PushEvents events;
  events.started = [&](const Reference& repo) { seen.push_back("started " + repo.String()); };
  events.pushing = [&](const Reference& ref) -> LayerProgressFn {
    seen.push_back("pushing " + ref.String());
    return nullptr;
  };
  events.pushed = [&](const Reference& ref, const PushResult&) {
    seen.push_back("pushed " + ref.String());
  };
  auto pushed = Push(*engine_, PushOf(Name("team/app:1")), events);
  ASSERT_TRUE(pushed) << pushed.error().message;
  ASSERT_EQ(pushed->size(), 1u);
  const std::vector<std::string> expected = {"started " + Name("team/app"),
                                             "pushing " + Name("team/app:1"),
                                             "pushed " + Name("team/app:1")};
  EXPECT_EQ(seen, expected);

  auto tags = ListTags(*engine_, Name("team/app"));
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_EQ(tags->repository.String(), Name("team/app"));
  EXPECT_EQ(tags->tags, std::vector<std::string>{"1"});

  auto manifest = InspectManifest(*engine_, Name("team/app:1"));
  ASSERT_TRUE(manifest) << manifest.error().message;
  EXPECT_EQ(manifest->blob.digest(), (*pushed)[0].result.digest);
  EXPECT_EQ(manifest->host, registry_.host());
}

TEST_F(EngineRegistryTest, PushAllTagsPushesEveryLocalTagOfTheRepository) {
  StoreAs(Name("team/app:1"));
  StoreAs(Name("team/app:2"));
  StoreAs(Name("team/other:1"));
  auto pushed = Push(*engine_, PushOf(Name("team/app"), true));
  ASSERT_TRUE(pushed) << pushed.error().message;
  std::vector<std::string> refs;
  for (const PushedImage& p : *pushed) refs.push_back(p.ref.String());
  std::sort(refs.begin(), refs.end());
  EXPECT_EQ(refs, (std::vector<std::string>{Name("team/app:1"), Name("team/app:2")}));
  auto tags = ListTags(*engine_, Name("team/app"));
  ASSERT_TRUE(tags) << tags.error().message;
  EXPECT_EQ(tags->tags, (std::vector<std::string>{"1", "2"}));
}

TEST_F(EngineRegistryTest, PushOfAMissingLocalImageIsNotFoundBeforeAnyUpload) {
  StoreAs(Name("team/app:1"));
  int pushing = 0;
  PushEvents events;
  events.pushing = [&](const Reference&) -> LayerProgressFn {
    ++pushing;
    return nullptr;
  };
  auto missing = Push(*engine_, PushOf(Name("team/app:nope")), events);
  ASSERT_FALSE(missing);
  EXPECT_TRUE(IsNotFound(missing.error())) << missing.error().message;
  EXPECT_EQ(missing.error().message,
            "An image does not exist locally with the tag: " + Name("team/app:nope"));
  EXPECT_EQ(pushing, 0);

  auto none = Push(*engine_, PushOf(Name("team/none"), true));
  ASSERT_FALSE(none);
  EXPECT_TRUE(IsNotFound(none.error())) << none.error().message;
  EXPECT_EQ(none.error().message,
            "An image does not exist locally with the tag: " + Name("team/none"));

  auto by_digest = Push(*engine_, PushOf(Name("team/app@") + image_.manifest_digest().str()));
  ASSERT_FALSE(by_digest);
  EXPECT_TRUE(IsInvalidArgument(by_digest.error())) << by_digest.error().message;
}

TEST_F(EngineRegistryTest, InspectOfAManifestNobodyHasNamesEachSource) {
  auto manifest = InspectManifest(*engine_, Name("team/app:absent"));
  ASSERT_FALSE(manifest);
  EXPECT_TRUE(IsNotFound(manifest.error())) << manifest.error().message;
  EXPECT_TRUE(manifest.error().message.starts_with("no manifest for " + Name("team/app:absent") +
                                                   ":\n  " + registry_.host() + ": "))
      << manifest.error().message;
}

TEST_F(EngineRegistryTest, CopyThroughTheRegistryKeepsTheImageAndReportsLines) {
  std::vector<std::string> lines;
  CopyEvents events;
  events.line = [&](const std::string& line) { lines.push_back(line); };
  auto up =
      Copy(*engine_, CopyOf("oci:" + (dir_ / "layout") + ":v", "docker://" + Name("team/copied:1")),
           events);
  ASSERT_TRUE(up) << up.error().message;
  EXPECT_TRUE(Contains(lines, "Writing manifest to image destination"));
  EXPECT_FALSE(up->image_id);  // the store was not the destination

  auto down = Copy(*engine_,
                   CopyOf("docker://" + Name("team/copied:1"), "strata:" + Name("team/copied:1")));
  ASSERT_TRUE(down) << down.error().message;
  ASSERT_TRUE(down->image_id);
  EXPECT_EQ(*down->image_id, image_.id());
  auto store = engine_->store();
  ASSERT_TRUE(store);
  auto found = ResolveImage(**store, Name("team/copied:1"));
  ASSERT_TRUE(found) << found.error().message;
  EXPECT_EQ(*found, image_.id());
}

TEST_F(EngineRegistryTest, CopyRefusesBadNamesAndCredentialsAsInvalidArguments) {
  auto transport = Copy(*engine_, CopyOf("containers-storage:x", "oci:/tmp/y"));
  ASSERT_FALSE(transport);
  EXPECT_TRUE(IsInvalidArgument(transport.error())) << transport.error().message;

  CopyRequest request = CopyOf("docker://" + Name("team/app:1"), "oci:" + (dir_ / "out") + ":x");
  request.source_side.credentials = Credentials{"", "secret", ""};
  auto creds = Copy(*engine_, request);
  ASSERT_FALSE(creds);
  EXPECT_TRUE(IsInvalidArgument(creds.error())) << creds.error().message;
  EXPECT_EQ(creds.error().message, "--src-creds: expected USER[:PASSWORD]");
}

TEST_F(EngineRegistryTest, CopySideOptionsLastOnlyForTheCopy) {
  auto access = engine_->registries();
  ASSERT_TRUE(access);
  CopyRequest request =
      CopyOf("oci:" + (dir_ / "layout") + ":v", "docker://" + Name("team/sides:1"));
  request.destination_side.tls_verify = false;
  ASSERT_TRUE(Copy(*engine_, request));
  EXPECT_TRUE((*access)->destination_options.empty());
  EXPECT_TRUE((*access)->source_options.empty());
}

TEST_F(EngineRegistryTest, PullFallsBackFromAFailingMirrorToTheRegistry) {
  StoreAs(Name("team/app:1"));
  ASSERT_TRUE(Push(*engine_, PushOf(Name("team/app:1"))));
  // An empty registry as the mirror: it answers, but has no such manifest.
  LoopbackRegistry mirror(dir_ / "mirror");
  ASSERT_TRUE(mirror.ok());
  WritePolicy("[[registry]]\nprefix = \"" + registry_.host() + "\"\n[[registry.mirror]]\n" +
              "location = \"" + mirror.host() + "\"\n");
  auto engine = Engine::Create({.root = dir_ / "store2", .registries_config = dir_ / "reg.toml"});
  std::vector<std::string> attempts, failed_mirrors;
  int pulled_events = 0;
  PullEvents events;
  events.attempt = [&](const Reference&, const RegistryRoute& route) -> LayerProgressFn {
    attempts.push_back(route.host);
    return nullptr;
  };
  events.mirror_failed = [&](const RegistryRoute& route, const Error&) {
    failed_mirrors.push_back(route.host);
  };
  events.pulled = [&](const Reference&, const PullResult&) { ++pulled_events; };
  PullRequest request;
  request.name = Name("team/app:1");
  request.unpack = false;
  auto pulled = Pull(*engine, request, events);
  ASSERT_TRUE(pulled) << pulled.error().message;
  ASSERT_EQ(pulled->size(), 1u);
  EXPECT_EQ((*pulled)[0].result.image_id, image_.id());
  EXPECT_EQ(attempts, (std::vector<std::string>{mirror.host(), registry_.host()}));
  EXPECT_EQ(failed_mirrors, std::vector<std::string>{mirror.host()});
  EXPECT_EQ(pulled_events, 1);

  auto resolved = ResolveName(*engine, Name("team/app:1"));
  ASSERT_TRUE(resolved) << resolved.error().message;
  ASSERT_EQ(resolved->candidates.size(), 1u);
  const ResolvedCandidate& c = resolved->candidates[0];
  ASSERT_FALSE(c.error);
  ASSERT_EQ(c.pull.size(), 2u);
  EXPECT_TRUE(c.pull[0].mirror);
  EXPECT_EQ(c.pull[0].endpoint.host, mirror.host());
  EXPECT_EQ(c.push->endpoint.host, registry_.host());
  ASSERT_TRUE(c.rule);
  EXPECT_EQ(c.rule->prefix, registry_.host());
  EXPECT_EQ(resolved->config, dir_ / "reg.toml");
}

// Sets an environment variable for the test's lifetime.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = ::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST_F(EngineRegistryTest, LoginStoresCredentialsAndLogoutRemovesThem) {
  ScopedEnv auth("STRATA_AUTH_FILE", dir_ / "auth.json");
  auto empty = Login(*engine_, {registry_.host(), "alice", ""});
  ASSERT_FALSE(empty);
  EXPECT_TRUE(IsInvalidArgument(empty.error()));
  EXPECT_EQ(empty.error().message, "Password Required");

  auto login = Login(*engine_, {"http://" + registry_.host() + "/v2/", "alice", "secret"});
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_EQ(login->host, registry_.host());
  EXPECT_EQ(login->credentials_at, dir_ / "auth.json");
  EXPECT_NE(ReadFile(dir_ / "auth.json").find(registry_.host()), std::string::npos);

  auto logout = Logout(*engine_, registry_.host());
  ASSERT_TRUE(logout) << logout.error().message;
  EXPECT_TRUE(logout->removed);
  EXPECT_EQ(ReadFile(dir_ / "auth.json").find(registry_.host()), std::string::npos);
  auto again = Logout(*engine_, registry_.host());
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_FALSE(again->removed);
}

TEST(EngineLoginHost, DockerHubSpellingsAndHosts) {
  EXPECT_EQ(LoginHost(""), "docker.io");
  EXPECT_EQ(LoginHost("https://index.docker.io/v1/"), "docker.io");
  EXPECT_EQ(LoginHost("registry-1.docker.io"), "docker.io");
  EXPECT_EQ(LoginHost("http://127.0.0.1:5000/v2/"), "127.0.0.1:5000");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
