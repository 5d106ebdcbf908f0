#include "registry/registry_policy.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "archive/test_util.h"
#include "util/env_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

using archive_test::TempDir;
using archive_test::WriteTestFile;

const std::string kDigest = "sha256:" + std::string(64, 'a');

RegistryPolicy MustParse(const std::string& text) {
  auto p = RegistryPolicy::Parse(text, "test.toml");
  EXPECT_TRUE(p) << p.error().message;
  return p ? *p : RegistryPolicy{};
}

std::string ParseError(const std::string& text) {
  auto p = RegistryPolicy::Parse(text, "f.toml");
  return p ? "(parsed)" : p.error().message;
}

Reference Ref(const std::string& text) {
  auto r = ParseNormalizedNamed(text);
  EXPECT_TRUE(r) << text;
  return *r;
}

std::vector<std::string> RouteStrings(const RegistryPolicy& p, const std::string& name) {
  auto routes = p.PullRoutes(Ref(name));
  EXPECT_TRUE(routes) << routes.error().message;
  std::vector<std::string> out;
  if (!routes) return out;
  for (const PolicyRoute& r : *routes) {
    out.push_back(r.endpoint.host + "/" + r.repository + (r.mirror ? " mirror" : "") +
                  (r.endpoint.insecure ? " insecure" : ""));
  }
  return out;
}

TEST(RegistryPolicyTest, DefaultsAreDockers) {
  RegistryPolicy p;
  for (const auto& [typed, want] : std::vector<std::pair<std::string, std::string>>{
           {"busybox", "docker.io/library/busybox:latest"},
           {"busybox:1.36", "docker.io/library/busybox:1.36"},
           {"team/app", "docker.io/team/app:latest"},
           {"busybox@" + kDigest, "docker.io/library/busybox@" + kDigest},
           {"docker.io/busybox", "docker.io/library/busybox:latest"},
           {"index.docker.io/library/busybox", "docker.io/library/busybox:latest"},
           {"localhost/app", "localhost/app:latest"},
           {"quay.io/team/app:2", "quay.io/team/app:2"}}) {
    auto r = p.Resolve(typed);
    ASSERT_TRUE(r) << typed << ": " << r.error().message;
    ASSERT_EQ(r->candidates.size(), 1u) << typed;
    EXPECT_EQ(r->candidates[0].String(), want) << typed;
    EXPECT_FALSE(r->search);
  }
  EXPECT_NE(p.Resolve("busybox")->reason.find("docker.io, as docker reads it"), std::string::npos);
  EXPECT_EQ(p.Resolve("quay.io/a/b")->reason, "fully qualified name");
  EXPECT_FALSE(p.Resolve("Busybox"));  // upper case is invalid, as in docker

  EXPECT_EQ(RouteStrings(p, "busybox"),
            std::vector<std::string>{"registry-1.docker.io/library/busybox"});
  auto push = p.PushRoute(Ref("127.0.0.1:5000/team/app@" + kDigest));
  ASSERT_TRUE(push);
  EXPECT_TRUE(push->endpoint.insecure);  // loopback, as docker
  EXPECT_EQ(push->endpoint.host, "127.0.0.1:5000");
  EXPECT_EQ(push->repository, "team/app");
  EXPECT_FALSE(p.PushRoute(Ref("quay.io/a/b"))->endpoint.insecure);
}

TEST(RegistryPolicyTest, SearchAliasesMirrorsAndBlocks) {
  RegistryPolicy p = MustParse(R"(
unqualified-search-registries = ["registry.example.com", "quay.io"]
[aliases]
"pinned" = "quay.io/team/pinned"
"team/tool" = "docker.io/team/tool"
[[registry]]
prefix = "docker.io"
[[registry.mirror]]
location = "127.0.0.1:5001/hub"
[[registry.mirror]]
location = "mirror.example.com"
insecure = true
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
  EXPECT_EQ(r->reason,
            "short name: search registries [registry.example.com, quay.io] from test.toml");

  // Two components without a '.', ':' or localhost are still a short name (docker's rule).
  auto nested = p.Resolve("other/tool@" + kDigest);
  ASSERT_TRUE(nested);
  ASSERT_EQ(nested->candidates.size(), 2u);
  EXPECT_EQ(nested->candidates[1].String(), "quay.io/other/tool@" + kDigest);

  auto pinned = p.Resolve("pinned:2");
  ASSERT_TRUE(pinned);
  ASSERT_EQ(pinned->candidates.size(), 1u);
  EXPECT_FALSE(pinned->search);
  EXPECT_EQ(pinned->candidates[0].String(), "quay.io/team/pinned:2");
  EXPECT_EQ(pinned->reason, "alias from test.toml: pinned -> quay.io/team/pinned");
  auto rewritten = p.PushRoute(pinned->candidates[0]);
  ASSERT_TRUE(rewritten);
  EXPECT_EQ(rewritten->endpoint.host, "127.0.0.1:6000");
  EXPECT_EQ(rewritten->repository, "quay-team/pinned");
  EXPECT_TRUE(rewritten->endpoint.insecure);
  EXPECT_EQ(p.Resolve("team/tool")->candidates[0].String(), "docker.io/team/tool:latest");

  EXPECT_EQ(RouteStrings(p, "docker.io/library/alpine"),
            (std::vector<std::string>{"127.0.0.1:5001/hub/library/alpine mirror insecure",
                                      "mirror.example.com/library/alpine mirror insecure",
                                      "registry-1.docker.io/library/alpine"}));
  auto push = p.PushRoute(Ref("alpine"));  // a push never goes to a mirror
  ASSERT_TRUE(push);
  EXPECT_EQ(push->endpoint.host, "registry-1.docker.io");

  auto blocked = p.Resolve("evil.example.com/x/y");
  ASSERT_FALSE(blocked);
  EXPECT_NE(blocked.error().message.find("blocked prefix \"evil.example.com\" in test.toml:13"),
            std::string::npos)
      << blocked.error().message;
  EXPECT_FALSE(p.PullRoutes(Ref("evil.example.com/x/y")));
  EXPECT_FALSE(p.PushRoute(Ref("evil.example.com/x/y")));
}

TEST(RegistryPolicyTest, BlockedSearchRegistriesAreSkippedAndAliasesCanBeBlocked) {
  RegistryPolicy p = MustParse(R"(
unqualified-search-registries = ["docker.io", "quay.io"]
[aliases]
"bad" = "docker.io/evil/bad"
[[registry]]
prefix = "docker.io"
blocked = true
[[registry]]
prefix = "docker.io/library/busybox"
)");
  auto r = p.Resolve("alpine");
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(r->candidates.size(), 1u);
  EXPECT_EQ(r->candidates[0].String(), "quay.io/alpine:latest");
  EXPECT_FALSE(r->search);
  EXPECT_NE(r->reason.find("blocked, not searched: docker.io"), std::string::npos) << r->reason;
  // The longer prefix allows what the shorter one blocks.
  auto busybox = p.Resolve("busybox");
  ASSERT_TRUE(busybox);
  ASSERT_EQ(busybox->candidates.size(), 2u);
  EXPECT_EQ(busybox->candidates[0].String(), "docker.io/library/busybox:latest");
  auto bad = p.Resolve("bad");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().message.find("blocked prefix \"docker.io\" in test.toml:5"),
            std::string::npos)
      << bad.error().message;

  RegistryPolicy all_blocked = MustParse(R"(
unqualified-search-registries = ["docker.io"]
[[registry]]
prefix = "docker.io"
blocked = true
)");
  auto none = all_blocked.Resolve("alpine");
  ASSERT_FALSE(none);
  EXPECT_NE(none.error().message.find("every search registry"), std::string::npos);
}

TEST(RegistryPolicyTest, LongestPrefixWildcardsAndRewrites) {
  RegistryPolicy p = MustParse(R"(
[[registry]]
prefix = "*.example.com"
insecure = true
ca-file = "/etc/ca.pem"
[[registry.mirror]]
location = "127.0.0.1:7000/cache"
[[registry]]
prefix = "b.example.com"
[[registry]]
prefix = "index.docker.io/library/foo"
location = "internal.corp:5000/vendored/foo"
[[registry]]
prefix = "docker.io/library/bar"
[[registry.mirror]]
location = "127.0.0.1:5001/bar-cache"
)");
  // Subdomains at any depth and with a port; not the bare domain.
  const RegistryRule* a = p.MatchingRule(Ref("x.a.example.com:8443/team/app"));
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->prefix, "*.example.com");
  EXPECT_EQ(p.MatchingRule(Ref("example.com/team/app")), nullptr);
  EXPECT_EQ(p.MatchingRule(Ref("b.example.com/x"))->prefix, "b.example.com");  // exact wins
  EXPECT_EQ(p.MatchingRule(Ref("docker.io/library/foobar")), nullptr);  // components, not text

  auto wild = p.PushRoute(Ref("a.example.com/team/app"));
  ASSERT_TRUE(wild);
  EXPECT_TRUE(wild->endpoint.insecure);
  EXPECT_EQ(wild->endpoint.ca_file, "/etc/ca.pem");
  EXPECT_EQ(RouteStrings(p, "a.example.com/team/app"),
            (std::vector<std::string>{"127.0.0.1:7000/cache/team/app mirror insecure",
                                      "a.example.com/team/app insecure"}));
  EXPECT_FALSE(p.PushRoute(Ref("b.example.com/x"))->endpoint.insecure);

  // index.docker.io in a prefix means docker.io; a prefix naming a whole repository.
  EXPECT_EQ(RouteStrings(p, "foo:1"), std::vector<std::string>{"internal.corp:5000/vendored/foo"});
  EXPECT_EQ(RouteStrings(p, "bar"),
            (std::vector<std::string>{"127.0.0.1:5001/bar-cache mirror insecure",
                                      "registry-1.docker.io/library/bar"}));

  RegistryPolicy no_path =
      MustParse("[[registry]]\nprefix = \"docker.io/library/foo\"\nlocation = \"internal.corp\"\n");
  auto empty_repo = no_path.PushRoute(Ref("foo"));
  ASSERT_FALSE(empty_repo);
  EXPECT_NE(empty_repo.error().message.find("leaves no repository path"), std::string::npos);
}

TEST(RegistryPolicyTest, MirrorsForDigestsOrTagsOnly) {
  RegistryPolicy p = MustParse(R"(
[[registry]]
prefix = "quay.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "m1.example.com"
[[registry]]
prefix = "ghcr.io"
[[registry.mirror]]
location = "tags.example.com"
pull-from-mirror = "tag-only"
[[registry.mirror]]
location = "digests.example.com"
pull-from-mirror = "digest-only"
)");
  EXPECT_EQ(RouteStrings(p, "quay.io/a/b:1"), std::vector<std::string>{"quay.io/a/b"});
  EXPECT_EQ(RouteStrings(p, "quay.io/a/b@" + kDigest),
            (std::vector<std::string>{"m1.example.com/a/b mirror", "quay.io/a/b"}));
  EXPECT_EQ(RouteStrings(p, "ghcr.io/a/b:1"),
            (std::vector<std::string>{"tags.example.com/a/b mirror", "ghcr.io/a/b"}));
  EXPECT_EQ(RouteStrings(p, "ghcr.io/a/b@" + kDigest),
            (std::vector<std::string>{"digests.example.com/a/b mirror", "ghcr.io/a/b"}));
}

TEST(RegistryPolicyTest, MistakesAreErrorsNamingTheSpot) {
  // Typos must not silently disable a rule.
  EXPECT_EQ(ParseError("[[registry]]\nprefix = \"a.io\"\nblockd = true\n")
                .rfind("f.toml:3:1: registry.blockd: unknown key", 0),
            0u)
      << ParseError("[[registry]]\nprefix = \"a.io\"\nblockd = true\n");
  EXPECT_NE(ParseError("unqualified-search-registry = [\"a.io\"]\n")
                .find("f.toml:1:1: unqualified-search-registry: unknown key"),
            std::string::npos);
  EXPECT_NE(ParseError("[[registry]]\nprefix = \"a.io\"\n[[registry.mirror]]\nlocaton = \"b.io\"\n")
                .find("f.toml:4:1: registry.mirror.locaton: unknown key"),
            std::string::npos);
  EXPECT_EQ(ParseError("unqualified-search-registries = [").rfind("f.toml:1:", 0), 0u);
  EXPECT_NE(ParseError("[[registry]]\nprefix = \"a.io\"\nblocked = \"yes\"\n")
                .find("registry.blocked must be true or false"),
            std::string::npos);
  // Values that could never match or mean two things.
  for (const auto& [text, want] : std::vector<std::pair<std::string, std::string>>{
           {"[aliases]\nx = \"notqualified\"\n", "must be a fully qualified repository"},
           {"[aliases]\nx = \"team/x\"\n", "must be a fully qualified repository"},
           {"[aliases]\nx = \"quay.io/a/x:1\"\n", "without tag or digest"},
           {"[aliases]\n\"quay.io/x\" = \"quay.io/a/x\"\n", "must be a short name"},
           {"unqualified-search-registries = [\"quay.io/team\"]\n", "not a registry host"},
           {"[[registry]]\nprefix = \"library/foo\"\n", "does not start with a registry host"},
           {"[[registry]]\nprefix = \"https://a.io\"\n", "does not start with a registry host"},
           {"[[registry]]\nprefix = \"*.a.io\"\nlocation = \"b.io\"\n", "wildcard prefix cannot"},
           {"[[registry]]\nprefix = \"*.a.io/x\"\n", "a wildcard prefix is"},
           {"[[registry]]\nprefix = \"a.io\"\n[[registry]]\nprefix = \"a.io\"\n",
            "already used by the [[registry]] at f.toml:1"},
           {"[[registry]]\nprefix = \"a.io\"\ncert-file = \"c.pem\"\n", "go together"},
           {"[[registry]]\nprefix = \"a.io\"\nlocation = \"b.io:x\"\n", "not host[:port][/path]"},
           {"[[registry]]\ninsecure = true\n", "needs a prefix"},
           {"[registry]\nprefix = \"a.io\"\n", "write [[registry]], not [registry]"},
           {"[[registry]]\nprefix = \"a.io\"\n[[registry.mirror]]\ninsecure = true\n",
            "needs a location"},
           {"[[registry]]\nprefix = \"a.io\"\n[[registry.mirror]]\nlocation = \"b.io\"\n"
            "pull-from-mirror = \"some\"\n",
            "not one of all, digest-only, tag-only"},
           {"[[registry]]\nprefix = \"a.io\"\nmirror-by-digest-only = true\n[[registry.mirror]]\n"
            "location = \"b.io\"\npull-from-mirror = \"all\"\n",
            "conflicts"}}) {
    EXPECT_NE(ParseError(text).find(want), std::string::npos)
        << text << "\ngave: " << ParseError(text);
  }
  // A rule with only a location is about that location.
  RegistryPolicy p = MustParse("[[registry]]\nlocation = \"reg.example.com\"\ninsecure = true\n");
  EXPECT_TRUE(p.PushRoute(Ref("reg.example.com/a"))->endpoint.insecure);
}

TEST(RegistryPolicyTest, LoadSearchOrder) {
  TempDir dir;
  const std::string xdg = dir.path() + "/xdg", home = dir.path() + "/home";
  ASSERT_TRUE(MakeDirs(xdg + "/strata"));
  ASSERT_TRUE(MakeDirs(home + "/.config/strata"));
  ASSERT_TRUE(WriteTestFile(xdg + "/strata/registries.toml",
                            "unqualified-search-registries = [\"xdg.example.com\"]\n"));
  ASSERT_TRUE(WriteTestFile(home + "/.config/strata/registries.toml",
                            "unqualified-search-registries = [\"home.example.com\"]\n"));
  ASSERT_TRUE(WriteTestFile(dir.path() + "/env.toml",
                            "unqualified-search-registries = [\"env.example.com\"]\n"));
  ScopedEnv env_home("HOME", home);
  ScopedEnv env_xdg("XDG_CONFIG_HOME", xdg);
  ScopedEnv env_file("STRATA_REGISTRIES_CONFIG", dir.path() + "/env.toml");
  auto search_of = [](const std::string& path) {
    auto p = RegistryPolicy::Load(path);
    EXPECT_TRUE(p) << p.error().message;
    if (!p || p->search_registries().empty()) return std::string("(none)");
    return p->search_registries()[0] + " " + p->source();
  };
  ASSERT_TRUE(WriteTestFile(dir.path() + "/given.toml", ""));
  EXPECT_EQ(search_of(dir.path() + "/given.toml"), "(none)");
  EXPECT_EQ(search_of(""), "env.example.com " + dir.path() + "/env.toml");
  ::unsetenv("STRATA_REGISTRIES_CONFIG");
  EXPECT_EQ(search_of(""), "xdg.example.com " + xdg + "/strata/registries.toml");
  ::unsetenv("XDG_CONFIG_HOME");
  EXPECT_EQ(search_of(""), "home.example.com " + home + "/.config/strata/registries.toml");
  ::setenv("HOME", (dir.path() + "/nowhere").c_str(), 1);
  if (!PathExists("/etc/strata/registries.toml")) {
    auto defaults = RegistryPolicy::Load("");
    ASSERT_TRUE(defaults);
    EXPECT_EQ(defaults->source(), "");
    EXPECT_EQ(defaults->Resolve("x")->candidates[0].String(), "docker.io/library/x:latest");
  }
  auto missing = RegistryPolicy::Load(dir.path() + "/missing.toml");
  ASSERT_FALSE(missing);
  EXPECT_NE(missing.error().message.find("missing.toml"), std::string::npos);
}

TEST(RegistryPolicyTest, LoopbackHostsAndQualifiedNames) {
  for (const char* host : {"127.0.0.1:5000", "127.1.2.3", "localhost", "localhost:5000",
                           "[::1]:5000", "[::1]", "::1"}) {
    EXPECT_TRUE(IsLoopbackHost(host)) << host;
  }
  for (const char* host : {"registry.example.com", "10.0.0.1:5000", "127.evil.com",
                           "127.0.0.1.nip.io", "localhost.example.com", "[::2]:5000"}) {
    EXPECT_FALSE(IsLoopbackHost(host)) << host;
  }
  EXPECT_TRUE(IsQualifiedName("localhost/a"));
  EXPECT_TRUE(IsQualifiedName("a.io/b"));
  EXPECT_TRUE(IsQualifiedName("host:5000/b"));
  EXPECT_FALSE(IsQualifiedName("team/app"));
  EXPECT_FALSE(IsQualifiedName("a.io"));
  EXPECT_FALSE(IsQualifiedName("busybox:1.36"));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
