#include "image/docker_format.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

using Json = nlohmann::ordered_json;

const Json kHeaders = {{"ID", "IMAGE ID"}, {"Repository", "REPOSITORY"}, {"Tag", "TAG"}};

std::vector<Json> Rows() {
  return {Json{{"ID", "0123456789ab"}, {"Repository", "busybox"}, {"Tag", "latest"}},
          Json{{"ID", "ba9876543210"}, {"Repository", "<none>"}, {"Tag", "<none>"}}};
}

TEST(DockerFormatTest, PlainTemplateOneLinePerRow) {
  auto out = RenderDockerFormat("{{.ID}}", Rows(), kHeaders, {});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out, "0123456789ab\nba9876543210\n");
  out = RenderDockerFormat("{{.Repository}}\\t{{.Tag}}", Rows(), kHeaders, {});
  EXPECT_EQ(*out, "busybox\tlatest\n<none>\t<none>\n");
}

TEST(DockerFormatTest, TableHeaderFromFieldNamesAligned) {
  auto out = RenderDockerFormat("table {{.Repository}}\\t{{.Tag}}\\t{{.ID}}", Rows(), kHeaders, {});
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(*out,
            "REPOSITORY   TAG       IMAGE ID\n"
            "busybox      latest    0123456789ab\n"
            "<none>       <none>    ba9876543210\n");
  // No rows: the header alone. Header functions pass their argument through; json prints "".
  out = RenderDockerFormat("table {{upper .Tag}}\\t{{json .ID}}|{{.Nope}}", {}, kHeaders, {});
  EXPECT_EQ(*out, "TAG       |<no value>\n");
}

TEST(DockerFormatTest, ErrorsProduceNoOutput) {
  GoTemplateOptions typed;
  typed.root_type = "*formatter.imageContext";
  auto out = RenderDockerFormat("table {{.ID}}\\t{{.Foo}}", Rows(), kHeaders, typed);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message,
            "template parsing error: template: :1:10: executing \"\" at <.Foo>: can't evaluate "
            "field Foo in type *formatter.imageContext");
  out = RenderDockerFormat("{{.ID", Rows(), kHeaders, typed);
  ASSERT_FALSE(out);
  EXPECT_EQ(out.error().message, "template parsing error: template: :1: unclosed action");
}

TEST(DockerFormatTest, TabwriterColumnBlocks) {
  EXPECT_EQ(GoTabwrite("a\tb\nlonger cell\tc\n"), "a             b\nlonger cell   c\n");
  // A line without tabs ends the column block; the next block is aligned on its own.
  EXPECT_EQ(GoTabwrite("aaaaaaaaaaaaaa\tx\nplain\nb\ty\n"),
            "aaaaaaaaaaaaaa   x\nplain\nb         y\n");
  // Cells count code points, not bytes.
  EXPECT_EQ(GoTabwrite("h\xc3\xa9llo\tx\n"), "h\xc3\xa9llo     x\n");
  EXPECT_EQ(GoTabwrite("no newline\tat end"), "no newline   at end");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
