#include "migrate/v1_image_config.h"

#include <array>
#include <nlohmann/json.hpp>

#include "util/go_decode.h"
#include "util/go_json.h"
#include "util/go_time.h"
#include "util/json_depth.h"

namespace strata {
namespace {

using Json = nlohmann::ordered_json;
namespace gd = go_decode;

// Docker 1.10 (engine-api) container.Config, in declaration order.
enum class Kind { kString, kBool, kStringList, kStrSlice, kStringSet, kStringMap };
struct Field {
  std::string_view name;
  Kind kind;
  bool omitempty;
};
constexpr std::array<Field, 23> kConfigFields{{
    {"Hostname", Kind::kString, false},
    {"Domainname", Kind::kString, false},
    {"User", Kind::kString, false},
    {"AttachStdin", Kind::kBool, false},
    {"AttachStdout", Kind::kBool, false},
    {"AttachStderr", Kind::kBool, false},
    {"ExposedPorts", Kind::kStringSet, true},
    {"PublishService", Kind::kString, true},
    {"Tty", Kind::kBool, false},
    {"OpenStdin", Kind::kBool, false},
    {"StdinOnce", Kind::kBool, false},
    {"Env", Kind::kStringList, false},
    {"Cmd", Kind::kStrSlice, false},
    {"ArgsEscaped", Kind::kBool, true},
    {"Image", Kind::kString, false},
    {"Volumes", Kind::kStringSet, false},
    {"WorkingDir", Kind::kString, false},
    {"Entrypoint", Kind::kStrSlice, false},
    {"NetworkDisabled", Kind::kBool, true},
    {"MacAddress", Kind::kString, true},
    {"OnBuild", Kind::kStringList, false},
    {"Labels", Kind::kStringMap, false},
    {"StopSignal", Kind::kString, true},
}};

Result<Json> DecodeField(const Field& f, const Json& value, const std::string& path) {
  switch (f.kind) {
    case Kind::kString: {
      std::string s;
      STRATA_TRY(gd::String(value, path, &s));
      if (f.omitempty && s.empty()) return Json();
      return Json(s);
    }
    case Kind::kBool: {
      bool b = false;
      STRATA_TRY(gd::Bool(value, path, &b));
      if (f.omitempty && !b) return Json();
      return Json(b);
    }
    case Kind::kStringList:
    case Kind::kStrSlice: {
      std::optional<std::vector<std::string>> list;
      if (f.kind == Kind::kStrSlice) {
        STRATA_TRY(gd::StrSlice(value, path, &list));
      } else {
        STRATA_TRY(gd::StringList(value, path, &list));
      }
      if (!list) return Json(nullptr);
      return Json(*list);
    }
    case Kind::kStringSet: {
      std::optional<std::set<std::string>> set;
      STRATA_TRY(gd::StringSet(value, path, &set));
      if (f.omitempty && (!set || set->empty())) return Json();
      if (!set) return Json(nullptr);
      Json obj = Json::object();
      for (const std::string& k : *set) obj[k] = Json::object();  // sorted, as Go marshals maps
      return obj;
    }
    case Kind::kStringMap: {
      std::optional<std::map<std::string, std::string>> map;
      STRATA_TRY(gd::StringMap(value, path, &map));
      if (!map) return Json(nullptr);
      Json obj = Json::object();
      for (const auto& [k, v] : *map) obj[k] = v;
      return obj;
    }
  }
  return Json();
}

// Go's json.Unmarshal into container.Config, then json.Marshal.
Result<Json> RoundTripContainerConfig(const Json& in, const std::string& path) {
  if (!in.is_object()) {
    return Fail(path + ": cannot unmarshal " + std::string(gd::TypeName(in)) + " into a config");
  }
  std::array<std::string_view, kConfigFields.size()> names;
  for (size_t i = 0; i < names.size(); ++i) names[i] = kConfigFields[i].name;
  std::array<const Json*, kConfigFields.size()> values{};
  for (auto it = in.begin(); it != in.end(); ++it) {
    const int i = gd::MatchField(names, it.key());
    if (i >= 0) values[i] = &it.value();  // later duplicates win, as in Go
  }
  static const Json kNull;
  Json out = Json::object();
  for (size_t i = 0; i < kConfigFields.size(); ++i) {
    const Field& f = kConfigFields[i];
    STRATA_ASSIGN(v, DecodeField(f, values[i] ? *values[i] : kNull, gd::Join(path, f.name)));
    if (f.omitempty && v.is_null() && f.kind != Kind::kStringList) continue;
    out[std::string(f.name)] = std::move(v);
  }
  return out;
}

// Go's json.Unmarshal into Docker 1.10's image.V1Image, then json.Marshal.
Result<Json> RoundTripV1Image(const Json& in) {
  static constexpr std::array<std::string_view, 12> kNames{"id",
                                                           "parent",
                                                           "comment",
                                                           "created",
                                                           "container",
                                                           "container_config",
                                                           "docker_version",
                                                           "author",
                                                           "config",
                                                           "architecture",
                                                           "os",
                                                           "Size"};
  std::array<const Json*, kNames.size()> values{};
  for (auto it = in.begin(); it != in.end(); ++it) {
    const int i = gd::MatchField(kNames, it.key());
    if (i >= 0) values[i] = &it.value();
  }
  static const Json kNull;
  auto at = [&](size_t i) -> const Json& { return values[i] ? *values[i] : kNull; };
  Json out = Json::object();
  auto string_field = [&](size_t i) -> Status {
    std::string s;
    STRATA_TRY(gd::String(at(i), kNames[i], &s));
    if (!s.empty()) out[std::string(kNames[i])] = s;
    return {};
  };
  STRATA_TRY(string_field(0));
  STRATA_TRY(string_field(1));
  STRATA_TRY(string_field(2));
  GoTime created;
  STRATA_TRY(gd::Time(at(3), "created", &created));
  out["created"] = FormatRfc3339Nano(created);
  STRATA_TRY(string_field(4));
  Json empty = Json::object();
  STRATA_ASSIGN(container_config,
                RoundTripContainerConfig(at(5).is_null() ? empty : at(5), "container_config"));
  out["container_config"] = std::move(container_config);
  STRATA_TRY(string_field(6));
  STRATA_TRY(string_field(7));
  if (!at(8).is_null()) {
    STRATA_ASSIGN(config, RoundTripContainerConfig(at(8), "config"));
    out["config"] = std::move(config);
  }
  STRATA_TRY(string_field(9));
  STRATA_TRY(string_field(10));
  int64_t size = 0;
  STRATA_TRY(gd::Int64(at(11), "Size", &size));
  if (size != 0) out["Size"] = size;
  return out;
}

// image/v1 HistoryFromConfig: created, author, created_by (container_config.Cmd joined by
// spaces), comment; empty_layer false (omitted).
Result<Json> HistoryEntry(const Json& v1) {
  static constexpr std::array<std::string_view, 4> kNames{"created", "author", "comment",
                                                          "container_config"};
  std::array<const Json*, kNames.size()> values{};
  for (auto it = v1.begin(); it != v1.end(); ++it) {
    const int i = gd::MatchField(kNames, it.key());
    if (i >= 0) values[i] = &it.value();
  }
  static const Json kNull;
  auto at = [&](size_t i) -> const Json& { return values[i] ? *values[i] : kNull; };
  GoTime created;
  STRATA_TRY(gd::Time(at(0), "created", &created));
  std::string author, comment;
  STRATA_TRY(gd::String(at(1), "author", &author));
  STRATA_TRY(gd::String(at(2), "comment", &comment));
  std::string created_by;
  if (at(3).is_object()) {
    static constexpr std::array<std::string_view, 1> kCmd{"Cmd"};
    const Json* cmd = nullptr;
    for (auto it = at(3).begin(); it != at(3).end(); ++it) {
      if (gd::MatchField(kCmd, it.key()) == 0) cmd = &it.value();
    }
    if (cmd != nullptr) {
      std::optional<std::vector<std::string>> words;
      STRATA_TRY(gd::StrSlice(*cmd, "container_config.Cmd", &words));
      if (words) {
        for (size_t i = 0; i < words->size(); ++i) {
          if (i > 0) created_by += ' ';
          created_by += (*words)[i];
        }
      }
    }
  } else if (!at(3).is_null()) {
    return Fail("container_config: cannot unmarshal " + std::string(gd::TypeName(at(3))) +
                " into a config");
  }
  Json entry = Json::object();
  entry["created"] = FormatRfc3339Nano(created);
  if (!author.empty()) entry["author"] = author;
  if (!created_by.empty()) entry["created_by"] = created_by;
  if (!comment.empty()) entry["comment"] = comment;
  return entry;
}

}  // namespace

bool DockerVersionLess(std::string_view a, std::string_view b) {
  // Compare field by field as integers; a missing field counts as 0 (versions.compare).
  auto next = [](std::string_view& s) -> long {
    const size_t dot = s.find('.');
    std::string_view part = s.substr(0, dot);
    s = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    long v = 0;
    for (char c : part) {
      if (c < '0' || c > '9') break;  // Go's strconv.Atoi error gives 0
      v = v * 10 + (c - '0');
    }
    for (char c : part) {
      if (c < '0' || c > '9') return 0;
    }
    return v;
  };
  while (!a.empty() || !b.empty()) {
    const long x = next(a), y = next(b);
    if (x != y) return x < y;
  }
  return false;
}

Result<std::string> ConfigFromV1Image(std::string_view v1_json, std::string_view parent_config,
                                      const Digest& diff_id) {
  Json v1 = ParseUntrustedJson<nlohmann::ordered_json>(v1_json);
  if (!v1.is_object()) return Fail("image JSON is not a JSON object");
  std::string version;
  if (auto it = v1.find("docker_version"); it != v1.end() && it->is_string()) {
    version = it->get<std::string>();
  }
  STRATA_ASSIGN(history_entry, HistoryEntry(v1));
  if (DockerVersionLess(version, "1.8.3")) {
    STRATA_ASSIGN(normalised, RoundTripV1Image(v1));
    v1 = std::move(normalised);
  }

  Json diff_ids = Json::array();
  Json history = Json::array();
  if (!parent_config.empty()) {
    Json parent = ParseUntrustedJson<nlohmann::ordered_json>(parent_config);
    if (!parent.is_object()) return Fail("parent config is not a JSON object");
    const Json& ids = parent["rootfs"]["diff_ids"];
    if (ids.is_array()) diff_ids = ids;
    if (parent.contains("history") && parent["history"].is_array()) history = parent["history"];
  }
  diff_ids.push_back(diff_id.str());
  history.push_back(std::move(history_entry));

  Json config = Json::object();
  for (auto it = v1.begin(); it != v1.end(); ++it) {
    const std::string& k = it.key();
    if (k == "id" || k == "parent" || k == "Size" || k == "parent_id" || k == "layer_id" ||
        k == "throwaway") {
      continue;
    }
    config[k] = it.value();
  }
  Json rootfs = Json::object();
  rootfs["type"] = "layers";
  rootfs["diff_ids"] = std::move(diff_ids);
  config["rootfs"] = std::move(rootfs);
  config["history"] = std::move(history);
  return GoMarshalSortedTopLevel(config);
}

}  // namespace strata
