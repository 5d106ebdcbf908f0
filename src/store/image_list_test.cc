#include "store/image_list.h"

#include <gtest/gtest.h>

namespace strata {
namespace STRATA_UNITY_ID {

Digest Id(char c) { return *Digest::Parse("sha256:" + std::string(64, c)); }

ImageSummary Image(char id, std::vector<std::string> tags, std::string created,
                   bool has_children = false, nlohmann::ordered_json labels = nullptr,
                   std::vector<std::string> digests = {}) {
  ImageSummary s{.id = Id(id),
                 .parent = {},
                 .repo_tags = {},
                 .repo_digests = {},
                 .created = {},
                 .size = 0,
                 .has_children = false,
                 .labels = nullptr};
  s.repo_tags = std::move(tags);
  s.repo_digests = std::move(digests);
  s.created = std::move(created);
  s.size = 1984172;
  s.has_children = has_children;
  s.labels = std::move(labels);
  return s;
}

std::vector<ImageSummary> Store() {
  return {
      Image('e', {"app:2", "other/app:1"}, "2026-01-05T00:00:00.5Z", false, {{"tier", "web"}}),
      Image('d', {}, "2026-01-04T00:00:00Z"),        // dangling
      Image('c', {}, "2026-01-03T00:00:00Z", true),  // intermediate
      Image('b', {"app:1"}, "2026-01-02T00:00:00Z", true, {{"tier", "db"}, {"x", ""}}),
      Image('a', {"busybox:latest"}, "2026-01-01T00:00:00Z"),
  };
}

std::string Ids(const Result<std::vector<ImageSummary>>& images) {
  if (!images) return "error: " + images.error().message;
  std::string out;
  for (const ImageSummary& i : images.value()) out += i.id.hex()[0];
  return out;
}

ImageFilters Filters(std::vector<std::string> args) {
  auto f = ParseImageFilters(args);
  EXPECT_TRUE(f) << f.error().message;
  return f ? *f : ImageFilters{};
}

TEST(ImageListTest, AllAndDangling) {
  EXPECT_EQ(Ids(FilterImages(Store(), {}, false, {}, {})), "edba");
  EXPECT_EQ(Ids(FilterImages(Store(), {}, true, {}, {})), "edcba");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"dangling=true"}), false, {}, {})), "d");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"dangling=true"}), true, {}, {})), "d");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"dangling=false"}), true, {}, {})), "eba");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"dangling=false", "dangling=true"}), false, {}, {})),
            "d");
}

TEST(ImageListTest, ReferencePatterns) {
  auto images = FilterImages(Store(), Filters({"reference=app"}), false, {}, {});
  EXPECT_EQ(Ids(images), "eb");
  EXPECT_EQ(images->front().repo_tags, std::vector<std::string>{"app:2"});  // other/app dropped
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"reference=app:1"}), false, {}, {})), "b");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"reference=*app*"}), false, {}, {})), "eb");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"reference=*/*"}), false, {}, {})), "e");
  EXPECT_EQ(
      Ids(FilterImages(Store(), Filters({"reference=busy*", "reference=app:2"}), false, {}, {})),
      "ea");  // same key: OR
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"reference=[a-"}), false, {}, {})),
            "error: syntax error in pattern");
}

TEST(ImageListTest, LabelsBeforeSince) {
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"label=tier"}), false, {}, {})), "eb");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"label=tier=db"}), false, {}, {})), "b");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"label=tier", "label=x"}), false, {}, {})), "b");
  EXPECT_EQ(Ids(FilterImages(Store(), Filters({"label=tier", "reference=busybox"}), false, {}, {})),
            "");  // different keys: AND
  GoTime b_created = *ParseRfc3339Nano("2026-01-02T00:00:00Z");
  EXPECT_EQ(Ids(FilterImages(Store(), {}, false, b_created, {})), "a");
  EXPECT_EQ(Ids(FilterImages(Store(), {}, false, {}, b_created)), "ed");
  // Nanoseconds count: e was created half a second after this.
  EXPECT_EQ(Ids(FilterImages(Store(), {}, false, {}, *ParseRfc3339Nano("2026-01-05T00:00:00Z"))),
            "e");
}

TEST(ImageListTest, FilterArgumentErrors) {
  EXPECT_EQ(ParseImageFilters({"dangling"}).error().message,
            "invalid argument \"dangling\" for \"-f, --filter\" flag: bad format of filter "
            "(expected name=value)");
  EXPECT_EQ(ParseImageFilters({"foo=bar"}).error().message, "Invalid filter 'foo'");
  EXPECT_EQ(ParseImageFilters({"dangling=maybe"}).error().message,
            "Invalid filter 'dangling=[maybe]'");
  auto f = ParseImageFilters({"before=a", "before=b", "since=c"});
  ASSERT_TRUE(f);
  EXPECT_EQ(f->before, "b");
  EXPECT_EQ(f->since, "c");
}

TEST(ImageListTest, RowsPerRepositoryAndTag) {
  std::string dg = "sha256:" + std::string(64, '1');
  ImageSummary img = Image('e', {"app:1", "app:2", "lib/x:1"}, "2026-01-01T00:00:00Z", false,
                           nullptr, {"app@" + dg, "only@" + dg});
  auto rows = ImageListRows(img, false);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].repository + " " + rows[0].tag + " " + rows[0].digest, "app 1 <none>");
  EXPECT_EQ(rows[2].repository + " " + rows[2].tag, "lib/x 1");
  EXPECT_EQ(rows[3].repository + " " + rows[3].tag + " [" + rows[3].digest + "]", "only <none> []");
  rows = ImageListRows(img, true);
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].digest, dg);
  EXPECT_EQ(rows[2].digest, "<none>");
  EXPECT_EQ(rows[3].digest, dg);
  rows = ImageListRows(Image('d', {}, "2026-01-01T00:00:00Z"), true);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].repository + rows[0].tag + rows[0].digest, "<none><none><none>");
}

TEST(ImageListTest, RowFields) {
  auto j = ImageListRowFields(Image('a', {"busybox:latest"}, "2026-01-01T00:00:00Z"),
                              {"busybox", "latest", "<none>"}, true);
  EXPECT_EQ(j["ID"], "aaaaaaaaaaaa");
  EXPECT_EQ(j["Size"], "1.98MB");
  EXPECT_EQ(j["VirtualSize"], "1.984MB");  // docker: HumanSize (4 digits) for VirtualSize
  EXPECT_EQ(j["Containers"], "N/A");
  EXPECT_EQ(ImageListHeaders()["ID"], "IMAGE ID");
}

}  // namespace STRATA_UNITY_ID
}  // namespace strata
