#include "image/go_template.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

using Json = nlohmann::ordered_json;

std::string Render(const std::string& text, const Json& data, GoTemplateOptions opts = {}) {
  auto t = GoTemplate::Parse(text);
  if (!t) return "PARSE: " + t.error().message;
  auto out = t->Execute(data, opts);
  if (!out) return "EXEC: " + out.error().message;
  return *out;
}

const Json kImage = Json::parse(R"({
  "Id": "sha256:abc", "RepoTags": ["busybox:latest", "busybox:1"], "Size": 1984172,
  "Config": {"Cmd": ["sh", "-c", "echo hi"], "Labels": {"b": "2", "a": "1"}, "Env": null,
             "Volumes": {"/vol": {}}},
  "Ratio": 0.5, "Empty": "", "Name": "<none>"})");

TEST(GoTemplateTest, TextFieldsAndPaths) {
  EXPECT_EQ(Render("id={{.Id}} cmd={{.Config.Cmd}}", kImage), "id=sha256:abc cmd=[sh -c echo hi]");
  EXPECT_EQ(Render("{{.Config.Labels}}", kImage), "map[a:1 b:2]");
  EXPECT_EQ(Render("{{.Size}} {{.Ratio}}", kImage), "1984172 0.5");
  EXPECT_EQ(Render("{{.}}", Json("plain")), "plain");
  EXPECT_EQ(Render("no actions", kImage), "no actions");
}

TEST(GoTemplateTest, MissingFieldsAndNulls) {
  EXPECT_EQ(Render("{{.Nope}}", kImage), "<no value>");
  EXPECT_EQ(Render("{{.Config.Env}}", kImage), "<no value>");
  GoTemplateOptions strict;
  strict.missing_key_error = true;
  EXPECT_EQ(Render("{{.Id}} {{.Nope}}", kImage, strict),
            "EXEC: template: :1:10: executing \"\" at <.Nope>: map has no entry for key \"Nope\"");
  GoTemplateOptions typed;
  typed.root_type = "*formatter.imageContext";
  EXPECT_EQ(Render("{{.ID}}|{{.Foo}}", Json{{"ID", "x"}}, typed),
            "EXEC: template: :1:10: executing \"\" at <.Foo>: can't evaluate field Foo in type "
            "*formatter.imageContext");
  EXPECT_EQ(
      Render("{{.Id.X}}", kImage),
      "EXEC: template: :1:2: executing \"\" at <.Id.X>: can't evaluate field X in type string");
  GoTemplateOptions nulls;
  nulls.typed_zero = [](std::string_view field) -> std::optional<std::string> {
    if (field == "Env") return "[]";
    if (field == "Shell") return "[]";
    return std::nullopt;
  };
  nulls.missing_key_error = true;
  nulls.empty_member_object_as_struct = true;
  EXPECT_EQ(Render("{{.Config.Env}} {{.Config.Volumes}}", kImage, nulls), "[] map[/vol:{}]");
  EXPECT_EQ(Render("{{.Config.Shell}} {{json .Config.Shell}}", kImage, nulls), "[] null");
  EXPECT_EQ(Render("{{.Config.Nope}}", kImage, nulls).substr(0, 5), "EXEC:");
}

TEST(GoTemplateTest, JsonFunction) {
  EXPECT_EQ(Render("{{json .Config.Labels}}", kImage), R"({"b":"2","a":"1"})");
  EXPECT_EQ(Render("{{.Config.Env | json}}", kImage), "null");
  EXPECT_EQ(Render("{{json .Name}}", kImage), "\"<none>\"");  // docker's json: no HTML escaping
  GoTemplateOptions escape_root;
  escape_root.json_escape_html_root = true;
  EXPECT_EQ(Render("{{json .}}", Json{{"Name", "<none>"}}, escape_root),
            R"({"Name":"\u003cnone\u003e"})");
  EXPECT_EQ(Render("{{json .Name}}", Json{{"Name", "<none>"}}, escape_root), "\"<none>\"");
  EXPECT_EQ(Render("{{json .}}", Json{{"Path", "a\\u003cb"}}), R"({"Path":"a\\u003cb"})");
}

TEST(GoTemplateTest, StringFunctions) {
  EXPECT_EQ(Render("{{join .RepoTags \", \"}}", kImage), "busybox:latest, busybox:1");
  EXPECT_EQ(Render("{{upper .Id}} {{lower \"AbC\"}} {{title \"hello wide-world\"}}", kImage),
            "SHA256:ABC abc Hello Wide-World");
  EXPECT_EQ(Render("{{split \"a:b:c\" \":\"}} {{index (split .Id \":\") 1}}", kImage),
            "[a b c] abc");
  EXPECT_EQ(Render("[{{pad .Id 1 2}}][{{pad .Empty 1 2}}] {{truncate .Id 6}}", kImage),
            "[ sha256:abc  ][] sha256");
  EXPECT_EQ(Render("{{len .RepoTags}} {{len .Id}} {{len .Config.Labels}}", kImage), "2 10 2");
  EXPECT_EQ(Render("[{{join .Config.Env \",\"}}] {{len .Config.Env}}", kImage), "[] 0");
}

TEST(GoTemplateTest, IndexFunction) {
  EXPECT_EQ(Render("{{index .RepoTags 1}}", kImage), "busybox:1");
  EXPECT_EQ(Render("{{index .Config.Labels \"a\"}}", kImage), "1");
  EXPECT_EQ(Render("[{{index .Config.Labels \"zz\"}}]", kImage), "[<no value>]");
  EXPECT_EQ(Render("{{index .RepoTags 5}}", kImage),
            "EXEC: template: :1:2: executing \"\" at <index .RepoTags 5>: error calling index: "
            "index out of range: 5");
}

TEST(GoTemplateTest, PrintFunctions) {
  EXPECT_EQ(Render("{{printf \"%s=%d\" .Id .Size}}", kImage), "sha256:abc=1984172");
  EXPECT_EQ(Render("{{printf \"%-12s|%8s|%q\" \"ab\" \"cd\" .Id}}", kImage),
            "ab          |      cd|\"sha256:abc\"");
  EXPECT_EQ(Render("{{printf \"%05d %x %5.2f %v %t\" 42 255 3.14159 .RepoTags true}}", kImage),
            "00042 ff  3.14 [busybox:latest busybox:1] true");
  EXPECT_EQ(Render("{{printf \"%d\" .Id}}", kImage), "%!d(string=sha256:abc)");
  EXPECT_EQ(Render("{{printf \"%s %s\" .Id}}", kImage), "sha256:abc %!s(MISSING)");
  EXPECT_EQ(Render("{{printf \"100%%\"}}", kImage), "100%");
  EXPECT_EQ(Render("{{println .Id .Size}}", kImage), "sha256:abc 1984172\n");
  EXPECT_EQ(Render("{{print .Id .Size 1 2}}", kImage), "sha256:abc1984172 1 2");
}

TEST(GoTemplateTest, ControlStructures) {
  EXPECT_EQ(Render("{{if .Config.Labels}}yes{{else}}no{{end}}", kImage), "yes");
  EXPECT_EQ(Render("{{if .Config.Env}}yes{{else if .Empty}}empty{{else}}no{{end}}", kImage), "no");
  EXPECT_EQ(Render("{{range .RepoTags}}<{{.}}>{{end}}", kImage), "<busybox:latest><busybox:1>");
  EXPECT_EQ(Render("{{range $i, $t := .RepoTags}}{{$i}}={{$t}} {{end}}", kImage),
            "0=busybox:latest 1=busybox:1 ");
  EXPECT_EQ(Render("{{range $k, $v := .Config.Labels}}{{$k}}={{$v}};{{end}}", kImage), "a=1;b=2;");
  EXPECT_EQ(Render("{{range .Config.Env}}x{{else}}none{{end}}", kImage), "none");
  EXPECT_EQ(Render("{{with .Config}}{{.Cmd}}{{end}}", kImage), "[sh -c echo hi]");
  EXPECT_EQ(Render("{{range .RepoTags}}{{$.Id}} {{end}}", kImage), "sha256:abc sha256:abc ");
  EXPECT_EQ(Render("{{$x := .Size}}{{if gt $x 1000}}big{{end}}", kImage), "big");
  EXPECT_EQ(Render("{{if and (eq .Empty \"\") (ne .Size 0) (not .Config.Env)}}ok{{end}}", kImage),
            "ok");
  EXPECT_EQ(Render("{{if or .Empty .Id}}{{.Id}}{{end}}", kImage), "sha256:abc");
  EXPECT_EQ(Render("{{eq .Size 1 1984172}} {{lt \"a\" \"b\"}} {{ge 1.5 2}}", kImage),
            "true true false");
}

TEST(GoTemplateTest, TrimMarkersAndComments) {
  EXPECT_EQ(Render("a  {{- .Id -}}  \n b", kImage), "asha256:abcb");
  EXPECT_EQ(Render("{{range .RepoTags -}}\n  {{.}}\n{{- end}}", kImage), "busybox:latestbusybox:1");
  EXPECT_EQ(Render("x{{/* a comment */}}y{{- /* trimmed */ -}} z", kImage), "xyz");
  EXPECT_EQ(Render("{{-3}}", kImage), "-3");  // "{{-3" is a number, not a trim marker
}

TEST(GoTemplateTest, ParseErrors) {
  EXPECT_EQ(Render("{{.ID", kImage), "PARSE: template: :1: unclosed action");
  EXPECT_EQ(Render("{{nosuch .ID}}", kImage),
            "PARSE: template: :1: function \"nosuch\" not defined");
  EXPECT_EQ(Render("{{if .Id}}x", kImage), "PARSE: template: :1: unexpected EOF");
  EXPECT_EQ(Render("{{end}}", kImage), "PARSE: template: :1: unexpected {{end}}");
  EXPECT_EQ(Render("a\n{{$x}}", kImage), "PARSE: template: :2: undefined variable \"$x\"");
  EXPECT_EQ(Render("{{template \"x\"}}", kImage).substr(0, 6), "PARSE:");
  EXPECT_EQ(Render("{{.Id | .Size}}", kImage).substr(0, 6), "PARSE:");
}

TEST(GoTemplateTest, ExecutionErrors) {
  EXPECT_EQ(Render("{{join .Id \",\"}}", kImage).substr(0, 5), "EXEC:");
  EXPECT_EQ(Render("{{upper .Size}}", kImage).substr(0, 5), "EXEC:");
  EXPECT_EQ(Render("{{.Config.Env.X}}", kImage),
            "EXEC: template: :1:2: executing \"\" at <.Config.Env.X>: nil pointer evaluating "
            "interface {}.X");
  EXPECT_EQ(Render("{{eq .RepoTags 1}}", kImage).substr(0, 5), "EXEC:");
  auto t = GoTemplate::Parse("ok {{.A.B}} never");
  ASSERT_TRUE(t);
  GoTemplateOptions opts;
  EXPECT_EQ(t->ExecutePartial(Json{{"A", 1}}, opts), "ok ");
}

TEST(GoTemplateTest, SprintValue) {
  EXPECT_EQ(GoSprintValue(Json::parse(R"([1, "a", null, {"k": [true]}])")),
            "[1 a <nil> map[k:[true]]]");
  EXPECT_EQ(GoSprintValue(Json(1e21)), "1e+21");
  EXPECT_EQ(GoSprintValue(Json(123456.5)), "123456.5");
  EXPECT_EQ(GoSprintValue(Json(0.00001)), "1e-05");
}

TEST(GoPathMatchTest, MatchesLikeGo) {
  EXPECT_TRUE(*GoPathMatch("app*", "app:latest"));
  EXPECT_TRUE(*GoPathMatch("app*", "app"));
  EXPECT_FALSE(*GoPathMatch("app*", "app/sub:1"));
  EXPECT_TRUE(*GoPathMatch("*/app", "lib/app"));
  EXPECT_TRUE(*GoPathMatch("busybox:1.?", "busybox:1.3"));
  EXPECT_FALSE(*GoPathMatch("busybox:1.?", "busybox:1.36"));
  EXPECT_TRUE(*GoPathMatch("[a-c]at", "bat"));
  EXPECT_FALSE(*GoPathMatch("[^a-c]at", "bat"));
  EXPECT_TRUE(*GoPathMatch("a\\*b", "a*b"));
  EXPECT_FALSE(*GoPathMatch("a\\*b", "axb"));
  EXPECT_FALSE(GoPathMatch("[a-", "a"));
  EXPECT_FALSE(GoPathMatch("x[", "y"));
  EXPECT_FALSE(GoPathMatch("a\\", "a"));
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
