#include "image/config_changes.h"

#include <gtest/gtest.h>

#include "util/go_json.h"

namespace strata {
namespace STRATA_UNITY_ID {

using Strings = std::vector<std::string>;

Result<ContainerConfig> Apply(const Strings& changes, const ContainerConfig& base = {}) {
  return ApplyChanges(base, changes);
}

std::string ErrorOf(const Strings& changes) {
  auto c = Apply(changes);
  return c ? std::string("OK") : c.error().message;
}

TEST(ConfigChanges, NoChangesKeepsTheConfig) {
  ContainerConfig base;
  base.cmd = Strings{"x"};
  auto c = Apply({}, base);
  ASSERT_TRUE(c);
  EXPECT_EQ(*c, base);
}

TEST(ConfigChanges, ExecAndShellForms) {
  auto c = Apply({"CMD [\"sh\"]"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->cmd, Strings{"sh"});
  c = Apply({"cmd echo \"a  b\" $HOME"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cmd, (Strings{"/bin/sh", "-c", "echo \"a  b\" $HOME"}));
  c = Apply({"CMD"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cmd, Strings{});  // [] rather than null
  c = Apply({"ENTRYPOINT [\"/init\", \"--x\"]"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->entrypoint, (Strings{"/init", "--x"}));
  // Not a JSON array: shell form.
  c = Apply({"CMD [not json"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cmd, (Strings{"/bin/sh", "-c", "[not json"}));
}

TEST(ConfigChanges, EntrypointResetsCmdUnlessCmdWasSet) {
  ContainerConfig base;
  base.cmd = Strings{"old"};
  auto c = Apply({"ENTRYPOINT /init"}, base);
  ASSERT_TRUE(c);
  EXPECT_FALSE(c->cmd.has_value());
  EXPECT_EQ(c->entrypoint, (Strings{"/bin/sh", "-c", "/init"}));
  c = Apply({"CMD [\"a\"]", "ENTRYPOINT [\"/e\"]"}, base);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->cmd, Strings{"a"});
}

TEST(ConfigChanges, EnvFormsAndSubstitution) {
  auto c = Apply({"ENV A=1 B=\"two words\"", "ENV A 3  4", "ENV C=$A:${B} D=${UNSET:-def} E='$A'"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->env, (Strings{"A=3  4", "B=two words", "C=3  4:two words", "D=def", "E=$A"}));
  // Values are expanded against the Env as it was before the instruction.
  c = Apply({"ENV X=1", "ENV X=2 Y=$X"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->env, (Strings{"X=2", "Y=1"}));
}

TEST(ConfigChanges, LabelsExposeVolumesUserWorkdir) {
  auto c =
      Apply({"LABEL \"com.example.vendor\"=\"ACME Inc\" x=y", "ENV PORTS=\"443 8080\"",
             "EXPOSE 80 53/udp 8000-8001/TCP $PORTS", "VOLUME [\"/a\", \"/b\"]", "VOLUME /c /d",
             "USER nobody:nogroup", "WORKDIR /srv", "WORKDIR app/../bin", "ONBUILD RUN echo hi"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->labels,
            (std::map<std::string, std::string>{{"com.example.vendor", "ACME Inc"}, {"x", "y"}}));
  EXPECT_EQ(c->exposed_ports, (std::set<std::string>{"443/tcp", "53/udp", "80/tcp", "8000/tcp",
                                                     "8001/tcp", "8080/tcp"}));
  EXPECT_EQ(c->volumes, (std::set<std::string>{"/a", "/b", "/c", "/d"}));
  EXPECT_EQ(c->user, "nobody:nogroup");
  EXPECT_EQ(c->working_dir, "/srv/bin");
  EXPECT_EQ(c->on_build, Strings{"RUN echo hi"});
  c = Apply({"WORKDIR /x//y/"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->working_dir, "/x//y/");  // absolute paths are not cleaned
}

TEST(ConfigChanges, Healthcheck) {
  auto c =
      Apply({"HEALTHCHECK --interval=1m30s --timeout=500ms --retries=3 CMD curl -f http://x/"});
  ASSERT_TRUE(c) << c.error().message;
  ASSERT_TRUE(c->healthcheck);
  EXPECT_EQ(c->healthcheck->test, (Strings{"CMD-SHELL", "curl -f http://x/"}));
  EXPECT_EQ(c->healthcheck->interval_ns, 90000000000);
  EXPECT_EQ(c->healthcheck->timeout_ns, 500000000);
  EXPECT_EQ(c->healthcheck->retries, 3);
  c = Apply({"HEALTHCHECK CMD [\"/check\", \"-q\"]"});
  ASSERT_TRUE(c);
  EXPECT_EQ(c->healthcheck->test, (Strings{"CMD", "/check", "-q"}));
  c = Apply({"HEALTHCHECK NONE"});
  ASSERT_TRUE(c);
  EXPECT_EQ(GoMarshal(c->ToJson()).find(R"("Healthcheck":{"Test":["NONE"]})") != std::string::npos,
            true);
}

TEST(ConfigChanges, ContinuationsAndComments) {
  auto c = Apply({"# a comment\nENV A=1 \\\n  # inner comment\n  B=2", "", "LABEL x=1"});
  ASSERT_TRUE(c) << c.error().message;
  EXPECT_EQ(c->env, (Strings{"A=1", "B=2"}));
  EXPECT_EQ(c->labels->at("x"), "1");
}

TEST(ConfigChanges, ImportConfigWithChangesSerialisesLikeDocker) {
  auto c = Apply(
      {"CMD [\"sh\"]", "ENV PATH=/usr/local/bin:/usr/bin", "EXPOSE 8080", "LABEL maintainer=me"});
  ASSERT_TRUE(c);
  EXPECT_EQ(GoMarshal(c->ToJson()),
            R"({"Hostname":"","Domainname":"","User":"","AttachStdin":false,"AttachStdout":false,)"
            R"("AttachStderr":false,"ExposedPorts":{"8080/tcp":{}},"Tty":false,"OpenStdin":false,)"
            R"("StdinOnce":false,"Env":["PATH=/usr/local/bin:/usr/bin"],"Cmd":["sh"],"Image":"",)"
            R"("Volumes":null,"WorkingDir":"","Entrypoint":null,"OnBuild":null,)"
            R"("Labels":{"maintainer":"me"}})");
}

TEST(ConfigChanges, ErrorsUseDockersWording) {
  EXPECT_EQ(ErrorOf({"STOPSIGNAL SIGINT"}),
            "change \"STOPSIGNAL SIGINT\": stopsignal is not a valid change command");
  EXPECT_NE(ErrorOf({"ENV A=1", "RUN make"}).find("run is not a valid change command"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"ENV"}).find("ENV requires at least one argument"), std::string::npos);
  EXPECT_NE(ErrorOf({"ENV foo"}).find("ENV must have two arguments"), std::string::npos);
  EXPECT_NE(ErrorOf({"LABEL a=1 b"})
                .find("Syntax error - can't find = in \"b\". Must be of the form: name=value"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"CMD [1, 2]"})
                .find("when using JSON array syntax, arrays must be comprised of strings only"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"CMD --verbose x"}).find("Unknown flag: verbose"), std::string::npos);
  EXPECT_NE(ErrorOf({"EXPOSE 80/foo"}).find("Invalid proto: foo"), std::string::npos);
  EXPECT_NE(ErrorOf({"EXPOSE 99999"}).find("Invalid containerPort: 99999"), std::string::npos);
  EXPECT_NE(ErrorOf({"EXPOSE"}).find("EXPOSE requires at least one argument"), std::string::npos);
  EXPECT_NE(ErrorOf({"VOLUME [\"\"]"}).find("VOLUME specified can not be an empty string"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"USER"}).find("USER requires exactly one argument"), std::string::npos);
  EXPECT_NE(ErrorOf({"ONBUILD ONBUILD RUN x"}).find("Chaining ONBUILD"), std::string::npos);
  EXPECT_NE(ErrorOf({"ONBUILD FROM x"}).find("FROM isn't allowed as an ONBUILD trigger"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"HEALTHCHECK --bogus=1 CMD x"}).find("Unknown flag: bogus"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"HEALTHCHECK --interval CMD x"}).find("Missing a value on flag: interval"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"HEALTHCHECK --interval=0.5ms CMD x"}).find("cannot be less than 1ms"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"HEALTHCHECK --retries=0 CMD x"}).find("--retries must be at least 1"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"HEALTHCHECK RUN x"}).find("Unknown type \"RUN\" in HEALTHCHECK (try CMD)"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"HEALTHCHECK NONE x"}).find("HEALTHCHECK NONE takes no arguments"),
            std::string::npos);
  EXPECT_NE(ErrorOf({"ENV A=\"open"}).find("matching double-quote"), std::string::npos);
}

TEST(ConfigEditor, BuilderOnlyInstructions) {
  ConfigEditor editor(ContainerConfig{});
  ASSERT_TRUE(editor.Apply("SHELL [\"/bin/bash\", \"-c\"]"));
  ASSERT_TRUE(editor.Apply("CMD make all"));
  ASSERT_TRUE(editor.Apply("STOPSIGNAL sigterm"));
  EXPECT_EQ(editor.config().cmd, (Strings{"/bin/bash", "-c", "make all"}));
  EXPECT_EQ(editor.config().stop_signal, "sigterm");
  ASSERT_TRUE(editor.Apply("STOPSIGNAL 9"));

  ContainerConfig before = editor.config();
  auto bad_signal = editor.Apply("STOPSIGNAL SIGBOGUS");
  ASSERT_FALSE(bad_signal);
  EXPECT_EQ(bad_signal.error().message, "Invalid signal: SIGBOGUS");
  auto shell_form = editor.Apply("SHELL /bin/bash -c");
  ASSERT_FALSE(shell_form);
  EXPECT_EQ(shell_form.error().message, "SHELL requires the arguments to be in JSON form");
  auto run = editor.Apply("RUN make");
  ASSERT_FALSE(run);
  EXPECT_EQ(editor.config(), before);  // failed instructions change nothing
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
