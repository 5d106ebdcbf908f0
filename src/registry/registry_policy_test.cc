#include "registry/registry_policy.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

RegistryPolicy MustParse(const std::string& text) {
  auto p = RegistryPolicy::Parse(text, "test.toml");
  EXPECT_TRUE(p) << p.error().message;
  return *p;
}

TEST(RegistryPolicyTest, DefaultsAreDockers) {
  RegistryPolicy p = MustParse("");
  auto r = p.Resolve("busybox");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0].String(), "docker.io/library/busybox:latest");
  EXPECT_FALSE(r->search);
  auto routes = p.PullRoutes(r->candidates[0]);
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes->size(), 1u);
  EXPECT_EQ((*routes)[0].endpoint.host, "registry-1.docker.io");
  EXPECT_EQ((*routes)[0].repository, "library/busybox");
  EXPECT_FALSE((*routes)[0].endpoint.insecure);
  auto local = p.Resolve("127.0.0.1:5000/team/app@sha256:" + std::string(64, 'a'));
  ASSERT_TRUE(local);
  auto push = p.PushRoute(local->candidates[0]);
  ASSERT_TRUE(push);
  EXPECT_TRUE(push->endpoint.insecure);  // loopback, as docker
  EXPECT_EQ(push->repository, "team/app");
}

TEST(RegistryPolicyTest, SearchAliasesMirrorsAndBlocks) {
  RegistryPolicy p = MustParse(R"(
unqualified-search-registries = ["registry.example.com", "quay.io"]
[aliases]
"pinned" = "quay.io/team/pinned"
[[registry]]
prefix = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:5001/hub"
[[registry]]
prefix = "evil.example.com"
blocked = true
[[registry]]
prefix = "quay.io/team"
location = "127.0.0.1:6000/quay-team"
)");
  auto r = p.Resolve("tool:1");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->search);
  ASSERT_EQ(r->candidates.size(), 2u);
  EXPECT_EQ(r->candidates[0].String(), "registry.example.com/tool:1");
  EXPECT_EQ(r->candidates[1].String(), "quay.io/tool:1");

  // Two components without a '.', ':' or localhost are still a short name (docker's rule).
  auto nested = p.Resolve("team/tool");
  ASSERT_TRUE(nested);
  ASSERT_EQ(nested->candidates.size(), 2u);
  EXPECT_EQ(nested->candidates[1].String(), "quay.io/team/tool:latest");

  auto pinned = p.Resolve("pinned:2");
  ASSERT_TRUE(pinned);
  ASSERT_EQ(pinned->candidates.size(), 1u);
  EXPECT_EQ(pinned->candidates[0].String(), "quay.io/team/pinned:2");
  EXPECT_NE(pinned->reason.find("alias"), std::string::npos);
  auto rewritten = p.PushRoute(pinned->candidates[0]);
  ASSERT_TRUE(rewritten);
  EXPECT_EQ(rewritten->endpoint.host, "127.0.0.1:6000");
  EXPECT_EQ(rewritten->repository, "quay-team/pinned");

  auto hub = p.Resolve("docker.io/library/alpine");
  ASSERT_TRUE(hub);
  auto routes = p.PullRoutes(hub->candidates[0]);
  ASSERT_TRUE(routes);
  ASSERT_EQ(routes->size(), 2u);
  EXPECT_TRUE((*routes)[0].mirror);
  EXPECT_EQ((*routes)[0].endpoint.host, "127.0.0.1:5001");
  EXPECT_EQ((*routes)[0].repository, "hub/library/alpine");
  EXPECT_EQ((*routes)[1].endpoint.host, "registry-1.docker.io");

  auto blocked = p.Resolve("evil.example.com/x/y");
  ASSERT_FALSE(blocked);
  EXPECT_NE(blocked.error().message.find("blocked prefix \"evil.example.com\" in test.toml"),
            std::string::npos)
      << blocked.error().message;
}

TEST(RegistryPolicyTest, TyposAreErrors) {
  auto typo = RegistryPolicy::Parse("[[registry]]\nprefix = \"a.io\"\nblockd = true\n", "f.toml");
  ASSERT_FALSE(typo);
  EXPECT_NE(typo.error().message.find("f.toml:3: registry.blockd: unknown key"), std::string::npos)
      << typo.error().message;
  auto bad = RegistryPolicy::Parse("unqualified-search-registries = [", "g.toml");
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().message.rfind("g.toml:1:", 0), 0u) << bad.error().message;
  EXPECT_FALSE(RegistryPolicy::Parse("[aliases]\nx = \"notqualified\"\n", "h.toml"));
}

TEST(RegistryPolicyTest, LoopbackHosts) {
  EXPECT_TRUE(IsLoopbackHost("127.0.0.1:5000"));
  EXPECT_TRUE(IsLoopbackHost("localhost"));
  EXPECT_TRUE(IsLoopbackHost("[::1]:5000"));
  EXPECT_FALSE(IsLoopbackHost("registry.example.com"));
  EXPECT_FALSE(IsLoopbackHost("10.0.0.1:5000"));
}

}  // namespace
}  // namespace strata
