#include "image/image_config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "util/go_json.h"
#include "util/vectors_test_util.h"

namespace strata {
namespace STRATA_UNITY_ID {

const char* kDiffA = "sha256:c6f988f4874bb0add23a778f753c65efe992244e148a1d2ec2a8b664fb66bbd1";
const char* kDiffB = "sha256:5f70bf18a086007016e948b04aed3b82103a36bea41755b6cddfaf10ace3c6ef";

// Docker 20.10's zero container.Config, as in every `docker import` config.
const std::string kZeroContainerConfig =
    R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,)"
    R"("AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":null,)"
    R"("Cmd":null,"Image":"","Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,)"
    R"("Labels":null})";

std::string Minimal(const std::string& extra = "") {
  return std::string(R"({"architecture":"amd64",)") + extra +
         R"("os":"linux","rootfs":{"type":"layers","diff_ids":[")" + kDiffA + R"("]}})";
}

TEST(ContainerConfig, TemplateIsDockersZeroConfig) {
  EXPECT_EQ(GoMarshal(ContainerConfigTemplate()), kZeroContainerConfig);
}

TEST(ContainerConfig, AllFieldsInStructOrder) {
  ContainerConfig c;
  c.user = "nobody";
  c.exposed_ports = {"80/tcp", "53/udp"};
  c.env = std::vector<std::string>{"PATH=/bin", "A=<b>"};
  c.cmd = std::vector<std::string>{};
  c.healthcheck = HealthConfig{{"CMD-SHELL", "true"}, 30000000000, 0, 0, 3};
  c.args_escaped = true;
  c.volumes = std::set<std::string>{"/data"};
  c.working_dir = "/srv";
  c.entrypoint = std::vector<std::string>{"/init"};
  c.on_build = std::vector<std::string>{"RUN x"};
  c.labels = std::map<std::string, std::string>{{"b", "2"}, {"a", "1"}};
  c.stop_signal = "SIGINT";
  c.stop_timeout = 0;
  c.shell = {"/bin/bash", "-c"};
  EXPECT_EQ(
      GoMarshal(c.ToJson()),
      R"({"Hostname":"","Domainname":"","User":"nobody","AttachStdin":false,)"
      R"("AttachStdout":false,"AttachStderr":false,"ExposedPorts":{"53/udp":{},"80/tcp":{}},)"
      R"("Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["PATH=/bin","A=\u003cb\u003e"],)"
      R"("Cmd":[],"Healthcheck":{"Test":["CMD-SHELL","true"],"Interval":30000000000,"Retries":3},)"
      R"("ArgsEscaped":true,"Image":"","Volumes":{"/data":{}},"WorkingDir":"/srv",)"
      R"("Entrypoint":["/init"],"OnBuild":["RUN x"],"Labels":{"a":"1","b":"2"},)"
      R"("StopSignal":"SIGINT","StopTimeout":0,"Shell":["/bin/bash","-c"]})");
  auto back = ContainerConfig::FromJson(c.ToJson(), "config");
  ASSERT_TRUE(back) << back.error().message;
  EXPECT_EQ(*back, c);
}

TEST(ContainerConfig, DecodesLikeGo) {
  auto json = nlohmann::ordered_json::parse(
      R"({"cmd":"sh","Entrypoint":null,"Labels":{},"Memory":0,"ExposedPorts":{},)"
      R"("Env":["A=1",null],"Healthcheck":{}})");
  auto c = ContainerConfig::FromJson(json, "config");
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cmd, std::vector<std::string>{"sh"});  // key matched case-insensitively
  EXPECT_EQ(c->env, (std::vector<std::string>{"A=1", ""}));
  EXPECT_FALSE(c->entrypoint.has_value());
  // Unknown "Memory" dropped, empty ExposedPorts omitted, empty Labels kept as {}.
  EXPECT_EQ(
      GoMarshal(c->ToJson()),
      R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,)"
      R"("AttachStderr":false,"Tty":false,"OpenStdin":false,"StdinOnce":false,"Env":["A=1",""],)"
      R"("Cmd":["sh"],"Healthcheck":{},"Image":"","Volumes":null,"WorkingDir":"",)"
      R"("Entrypoint":null,"OnBuild":null,"Labels":{}})");
}

TEST(ContainerConfig, TypeErrorsNameTheField) {
  auto c = ContainerConfig::FromJson(nlohmann::ordered_json::parse(R"({"Env":"A=1"})"), "config");
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().message, "config.Env: cannot unmarshal string into an array of strings");
  auto t = ContainerConfig::FromJson(nlohmann::ordered_json::parse(R"({"StopTimeout":1.5})"), "c");
  ASSERT_FALSE(t);
  EXPECT_NE(t.error().message.find("c.StopTimeout"), std::string::npos);
}

// Real configs written by Docker (1.12.1 and 1.10.3, same struct layout as 20.10): parsing and
// re-marshalling as Image.MarshalJSON must give back the exact bytes, hence the same image ID.
TEST(ImageConfig, RealDockerConfigsRoundTripByteForByte) {
  STRATA_NEED_VECTORS(path, "image-spec-schema.json");
  std::ifstream in(path);
  std::stringstream buffer;
  buffer << in.rdbuf();
  auto vectors = nlohmann::json::parse(buffer.str());
  int checked = 0;
  for (const auto& group : vectors["groups"]) {
    if (group["id"] != "TestBackwardsCompatibilityConfig") continue;
    for (const auto& c : group["cases"]) {
      std::string document = c["document"];
      auto config = ImageConfig::Parse(document);
      ASSERT_TRUE(config) << config.error().message;
      EXPECT_EQ(config->id().str(), c["sha256_of_document"].get<std::string>());
      EXPECT_EQ(config->spec().Marshal(), document);
      ++checked;
    }
  }
  ASSERT_EQ(checked, 2);
}

TEST(ImageConfig, AccessorsOnARealConfig) {
  std::string doc =
      R"({"architecture":"amd64","author":"A \u003ca@b\u003e","config":{"Cmd":["sh"]},)"
      R"("container":"0df7","created":"2026-11-24T22:14:59.84245498Z","docker_version":"20.10.24+dfsg1",)"
      R"("history":[{"created":"2026-11-24T20:00:00Z","comment":"Imported from -"},)"
      R"({"created":"2026-11-24T22:14:59.84245498Z","created_by":"/bin/sh -c #(nop)  CMD [\"sh\"]",)"
      R"("empty_layer":true}],"os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
      std::string(kDiffA) + R"(",")" + kDiffB + R"("]},"variant":"v8"})";
  auto config = ImageConfig::Parse(doc);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->id(), Digest::Sha256Of(doc));
  EXPECT_EQ(config->bytes(), doc);
  EXPECT_EQ(config->architecture(), "amd64");
  EXPECT_EQ(config->os(), "linux");
  EXPECT_EQ(config->variant(), "v8");
  EXPECT_EQ(config->author(), "A <a@b>");
  EXPECT_EQ(config->docker_version(), "20.10.24+dfsg1");
  EXPECT_EQ(config->container(), "0df7");
  EXPECT_EQ(config->created().unix_seconds, 1795558499);
  EXPECT_EQ(config->created_string(), "2026-11-24T22:14:59.84245498Z");
  ASSERT_EQ(config->diff_ids().size(), 2u);
  EXPECT_EQ(config->diff_ids()[1].str(), kDiffB);
  ASSERT_EQ(config->history().size(), 2u);
  EXPECT_EQ(config->history()[0].comment, "Imported from -");
  EXPECT_EQ(config->history()[1].created_by, "/bin/sh -c #(nop)  CMD [\"sh\"]");
  EXPECT_TRUE(config->history()[1].empty_layer);
  ASSERT_TRUE(config->config().has_value());
  EXPECT_EQ(config->config()->cmd, std::vector<std::string>{"sh"});
  EXPECT_EQ(config->config_json().dump(), R"({"Cmd":["sh"]})");  // raw, as written
  EXPECT_TRUE(config->container_config_json().is_null());
  EXPECT_EQ(config->chain_id()->hex(),
            "c3191d32a37d7159b2e30830937d2e30268ad6c375a773a8994911a3aba9b93f");
  EXPECT_EQ(config->json().begin().key(), "architecture");
}

TEST(ImageConfig, ImportConfigMatchesDockerSerialisation) {
  ImportOptions options;
  options.created = GoTime{1795558499, 842454980, 0};
  options.architecture = "amd64";
  options.docker_version = "20.10.24+dfsg1";
  ImageSpec spec = NewImportImageSpec(*Digest::Parse(kDiffA), options);
  std::string expected =
      R"({"architecture":"amd64","comment":"Imported from -","config":)" + kZeroContainerConfig +
      R"(,"container_config":)" + kZeroContainerConfig +
      R"(,"created":"2026-11-24T22:14:59.84245498Z","docker_version":"20.10.24+dfsg1",)"
      R"("history":[{"created":"2026-11-24T22:14:59.84245498Z","comment":"Imported from -"}],)"
      R"("os":"linux","rootfs":{"type":"layers","diff_ids":[")" +
      kDiffA + R"("]}})";
  std::string bytes = spec.Marshal();
  EXPECT_EQ(bytes, expected);
  auto parsed = ImageConfig::Parse(bytes);
  ASSERT_TRUE(parsed) << parsed.error().message;
  EXPECT_EQ(parsed->spec(), spec);
}

TEST(ImageConfig, ImportWithChangesAndWithoutDockerVersion) {
  ImportOptions options;
  options.created = GoTime{1795558499, 0, 0};
  options.architecture = "arm64";
  options.variant = "v8";
  options.comment = "my import";
  options.config.cmd = std::vector<std::string>{"sh"};
  options.config.env = std::vector<std::string>{"A=b"};
  std::string bytes = NewImportImageSpec(*Digest::Parse(kDiffA), options).Marshal();
  EXPECT_EQ(bytes.find("docker_version"), std::string::npos);
  EXPECT_NE(bytes.find(R"({"architecture":"arm64","comment":"my import","config":{)"),
            std::string::npos);
  EXPECT_NE(bytes.find(R"("StdinOnce":false,"Env":["A=b"],"Cmd":["sh"],"Image":"")"),
            std::string::npos);
  EXPECT_NE(bytes.find(R"("history":[{"created":"2026-11-24T22:14:59Z","comment":"my import"}])"),
            std::string::npos);
  EXPECT_NE(bytes.find(R"("os":"linux","rootfs":)"), std::string::npos);
  EXPECT_EQ(bytes.substr(bytes.size() - 16), R"(,"variant":"v8"})");
}

TEST(ImageConfig, ParentAndLegacyFieldsFollowGoEmbedding) {
  // Top-level "parent" is Image.Parent; "id" and "Size" are V1Image fields; unknown keys vanish
  // on re-marshal; top-level keys come out sorted.
  std::string doc =
      Minimal(R"("parent":"sha256:p","id":"abc","Size":12,"zzz":1,"Architecture":"x",)");
  auto config = ImageConfig::Parse(doc);
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->spec().parent, "sha256:p");
  EXPECT_TRUE(config->spec().v1.parent.empty());
  EXPECT_EQ(config->spec().v1.id, "abc");
  EXPECT_EQ(config->spec().v1.size, 12);
  EXPECT_EQ(config->architecture(), "x");  // later case-insensitive key wins
  EXPECT_EQ(config->spec().Marshal(),
            R"({"Size":12,"architecture":"x","container_config":)" + kZeroContainerConfig +
                R"(,"created":"0001-01-01T00:00:00Z","id":"abc","os":"linux","parent":"sha256:p",)"
                R"("rootfs":{"type":"layers","diff_ids":[")" +
                kDiffA + R"("]}})");
}

TEST(ImageConfig, RejectsInvalidConfigs) {
  auto error_of = [](const std::string& doc) {
    auto config = ImageConfig::Parse(doc);
    return config ? std::string("OK") : config.error().message;
  };
  EXPECT_NE(error_of("").find("empty document"), std::string::npos);
  EXPECT_NE(error_of("{").find("not a well-formed JSON document"), std::string::npos);
  EXPECT_NE(error_of("[]").find("cannot unmarshal array"), std::string::npos);
  std::string no_rootfs = error_of(R"({"architecture":"amd64"})");
  EXPECT_NE(no_rootfs.find("invalid image JSON, no RootFS key"), std::string::npos);
  EXPECT_NE(no_rootfs.find("image config sha256:" +
                           Digest::Sha256Of(R"({"architecture":"amd64"})").hex()),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rootfs":null})").find("no RootFS key"), std::string::npos);
  EXPECT_NE(error_of(R"({"rootfs":{"type":"bogus"}})")
                .find("unsupported rootfs type \"bogus\", expected \"layers\""),
            std::string::npos);
  EXPECT_NE(error_of(R"({"rootfs":{"type":"layers","diff_ids":["sha256:zz"]}})")
                .find("rootfs.diff_ids[0]: invalid digest \"sha256:zz\""),
            std::string::npos);
  EXPECT_NE(error_of(Minimal(R"("history":[{"created":"2020-01-01T00:00:00Z"},{}],)"))
                .find("too many non-empty layers in History section"),
            std::string::npos);
  EXPECT_EQ(error_of(Minimal(R"("history":[{},{"empty_layer":true}],)")), "OK");
  EXPECT_NE(error_of(Minimal(R"("architecture":5,)")).find("architecture: cannot unmarshal number"),
            std::string::npos);
  EXPECT_NE(error_of(Minimal(R"("created":"yesterday",)")).find("invalid RFC 3339 time"),
            std::string::npos);
  EXPECT_NE(error_of(Minimal(R"("history":[{"empty_layer":"yes"}],)"))
                .find("history[0].empty_layer: cannot unmarshal string into a bool"),
            std::string::npos);
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
