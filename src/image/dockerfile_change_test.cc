#include "image/dockerfile_change.h"

#include <gtest/gtest.h>

namespace strata {
namespace {

TEST(DockerfileChange, ExecAndShellForms) {
  ContainerConfig c;
  ASSERT_TRUE(ApplyDockerfileChanges(c, {"CMD [\"sh\"]", "entrypoint /init --flag"}));
  EXPECT_EQ(c.cmd, (std::vector<std::string>{"sh"}));
  EXPECT_EQ(c.entrypoint, (std::vector<std::string>{"/bin/sh", "-c", "/init --flag"}));
}

TEST(DockerfileChange, EnvLabelExposeVolume) {
  ContainerConfig c;
  ASSERT_TRUE(ApplyDockerfileChanges(
      c, {"ENV A=1 B=\"two\"", "ENV A 3", "LABEL x=y", "EXPOSE 80 53/udp", "VOLUME /data",
          "WORKDIR /srv", "USER nobody", "STOPSIGNAL SIGINT"}));
  EXPECT_EQ(c.env, (std::vector<std::string>{"A=3", "B=two"}));
  EXPECT_EQ(c.labels->at("x"), "y");
  EXPECT_EQ(c.exposed_ports, (std::set<std::string>{"53/udp", "80/tcp"}));
  EXPECT_TRUE(c.volumes->count("/data"));
  EXPECT_EQ(c.working_dir, "/srv");
  EXPECT_EQ(c.user, "nobody");
  EXPECT_EQ(c.stop_signal, "SIGINT");
}

TEST(DockerfileChange, RejectsUnknownInstruction) {
  ContainerConfig c;
  auto st = ApplyDockerfileChanges(c, {"RUN echo hi"});
  ASSERT_FALSE(st);
  EXPECT_NE(st.error().message.find("unsupported --change instruction \"RUN\""), std::string::npos);
}

}  // namespace
}  // namespace strata
