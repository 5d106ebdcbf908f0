// images, history, inspect, tag, rmi.
#include <chrono>
#include <iostream>
#include <map>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "cli/table.h"
#include "engine/images.h"
#include "image/docker_format.h"
#include "image/docker_units.h"
#include "image/go_template.h"
#include "store/image_list.h"
#include "util/go_time.h"

namespace strata::cli {
namespace {

int64_t UnixSeconds(const std::string& rfc3339) {
  auto t = ParseRfc3339Nano(rfc3339);
  return t ? t->unix_seconds : 0;
}

// Renders rows with a docker --format string and prints them; false (error reported) on failure.
bool PrintFormatted(GlobalOptions& g, const std::string& format,
                    const std::vector<nlohmann::ordered_json>& rows,
                    const nlohmann::ordered_json& headers, const std::string& root_type) {
  GoTemplateOptions options;
  options.root_type = root_type;
  options.json_escape_html_root = true;  // docker's contexts marshal themselves (MarshalJSON)
  auto text = RenderDockerFormat(format == "json" ? "{{json .}}" : format, rows, headers, options);
  if (!text) {
    ReportError(g, text.error());
    return false;
  }
  std::cout << *text;
  return true;
}

struct HistoryOptions {
  std::string image;
  bool no_trunc = false;
  bool human = true;
  bool quiet = false;
  std::string format;
};

// cli/command/image/formatter_history.go: NewHistoryFormat and historyContext's header names.
std::string HistoryFormat(const HistoryOptions& o) {
  if (!o.format.empty() && o.format != "table") return o.format;
  if (o.quiet) return "{{.ID}}";
  return o.human ? "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}"
                 : "table {{.ID}}\t{{.CreatedAt}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}";
}

const nlohmann::ordered_json& HistoryHeaders() {
  static const nlohmann::ordered_json kHeaders = {
      {"ID", "IMAGE"},  {"CreatedSince", "CREATED"}, {"CreatedAt", "CREATED AT"},
      {"Size", "SIZE"}, {"CreatedBy", "CREATED BY"}, {"Comment", "COMMENT"}};
  return kHeaders;
}

void RunHistory(GlobalOptions& g, const HistoryOptions& o) {
  auto rows = ImageHistory(*CreateEngine(g), ImageHistoryRequest{.name = o.image});
  if (!rows) return ReportError(g, rows.error());
  const bool trunc = !o.no_trunc;
  std::vector<nlohmann::ordered_json> fields;
  for (const HistoryRow& row : *rows) {
    std::string id_text =
        row.id ? (trunc ? TruncateId(row.id->str()) : row.id->str()) : "<missing>";
    int64_t created = UnixSeconds(row.created);
    std::string created_at = FormatCreatedAt(created);
    std::string created_by = row.created_by;
    for (char& c : created_by) {
      if (c == '\t') c = ' ';
    }
    if (trunc) created_by = Ellipsis(created_by, 45);
    std::string size = o.human ? HumanSizeWithPrecision(static_cast<double>(row.size), 3)
                               : std::to_string(row.size);
    // Keys sorted: {{json .}} prints them in this order, as docker's map.
    fields.push_back({{"Comment", row.comment},
                      {"CreatedAt", created_at},
                      {"CreatedBy", created_by},
                      {"CreatedSince", o.human ? CreatedSince(created) : created_at},
                      {"ID", id_text},
                      {"Size", size}});
  }
  PrintFormatted(g, HistoryFormat(o), fields, HistoryHeaders(), "*image.historyContext");
}

struct ImagesOptions {
  std::string repository;
  bool all = false;
  bool quiet = false;
  bool digests = false;
  bool no_trunc = false;
  std::string format;
  std::vector<std::string> filters;
};

// formatter.NewImageFormat (cli/command/formatter/image.go).
std::string ImagesFormat(const ImagesOptions& o) {
  if (o.format.empty() || o.format == "table") {
    if (o.quiet) return "{{.ID}}";
    return o.digests
               ? "table "
                 "{{.Repository}}\t{{.Tag}}\t{{.Digest}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}"
               : "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}";
  }
  if (IsTableFormat(o.format) && o.digests && o.format.find("{{.Digest}}") == std::string::npos) {
    return o.format + "\t{{.Digest}}";
  }
  return o.format;
}

void RunImages(GlobalOptions& g, const ImagesOptions& o) {
  auto images =
      ImageList(*CreateEngine(g),
                ImageListRequest{.filters = o.filters, .repository = o.repository, .all = o.all});
  if (!images) return ReportError(g, images.error());
  std::vector<nlohmann::ordered_json> rows;
  for (const ImageSummary& image : *images) {
    for (const ImageListRow& row : ImageListRows(image, o.digests)) {
      rows.push_back(ImageListRowFields(image, row, !o.no_trunc));
    }
  }
  PrintFormatted(g, ImagesFormat(o), rows, ImageListHeaders(), "*formatter.imageContext");
}

// Go zero values of docker's typed ImageInspect fields that may be null or omitted in its JSON:
// `docker inspect -f` executes on the typed struct first (nil map "map[]", nil slice "[]").
std::optional<std::string> InspectTypedZero(std::string_view field) {
  static const std::map<std::string, std::string, std::less<>> kZero = {
      {"", ""},  // index of a missing map key: map[string]string's zero value
      {"ExposedPorts", "map[]"},
      {"Volumes", "map[]"},
      {"Labels", "map[]"},
      {"Data", "map[]"},
      {"Env", "[]"},
      {"Cmd", "[]"},
      {"Entrypoint", "[]"},
      {"OnBuild", "[]"},
      {"Shell", "[]"},
      {"RepoTags", "[]"},
      {"RepoDigests", "[]"},
      {"Layers", "[]"},
      {"Healthcheck", "<nil>"},
      {"StopTimeout", "<nil>"},
      {"ArgsEscaped", "false"},
      {"NetworkDisabled", "false"},
      {"MacAddress", ""},
      {"StopSignal", ""},
      {"Variant", ""},
      {"OsVersion", ""}};
  auto it = kZero.find(field);
  if (it == kZero.end()) return std::nullopt;
  return it->second;
}

void RunInspect(GlobalOptions& g, const std::vector<std::string>& names,
                const std::string& format) {
  std::optional<GoTemplate> tmpl;
  if (!format.empty()) {
    auto parsed = GoTemplate::Parse(format);
    if (!parsed) {
      ReportError(g, "template parsing error: " + parsed.error().message);
      g.exit_code = 64;  // docker: cli.StatusError{StatusCode: 64}
      return;
    }
    tmpl = std::move(*parsed);
  }
  auto engine = CreateEngine(g);
  // Opened once, up front: a store that cannot be opened is one error, not one per name.
  if (auto store = engine->store(StoreAccess::kReadOnly); !store) {
    return ReportError(g, store.error());
  }
  GoTemplateOptions options;
  options.missing_key_error = true;  // docker's raw fallback: missingkey=error
  options.typed_zero = InspectTypedZero;
  options.empty_member_object_as_struct = true;  // Volumes, ExposedPorts: map[string]struct{}
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const std::string& name : names) {
    auto j = ImageInspect(*engine, ImageInspectRequest{.name = name});
    if (!j) {
      ReportError(g, j.error());
      continue;
    }
    if (!tmpl) {
      out.push_back(*j);
      continue;
    }
    auto text = tmpl->Execute(*j, options);
    if (!text) {
      ReportError(g, "template parsing error: " + text.error().message);
      continue;
    }
    std::cout << *text << "\n";
  }
  if (!tmpl) std::cout << out.dump(4) << "\n";
}

void RunTag(GlobalOptions& g, const std::string& source, const std::string& target) {
  auto tagged = ImageTag(*CreateEngine(g), ImageTagRequest{.source = source, .target = target});
  if (!tagged) return ReportError(g, tagged.error());
}

void PrintReport(const DeleteReport& report) {
  for (const std::string& line : report.lines) std::cout << line << "\n";
}

}  // namespace

void RegisterImageCommands(CLI::App& app, GlobalOptions& g) {
  auto history = std::make_shared<HistoryOptions>();
  auto* h = app.add_subcommand("history", "Show the history of an image");
  h->add_option("IMAGE", history->image)->required();
  h->add_flag("--no-trunc", history->no_trunc, "Don't truncate output");
  h->add_option("-H,--human", history->human, "Print sizes and dates in human readable format")
      ->default_val(true);
  h->add_flag("-q,--quiet", history->quiet, "Only show image IDs");
  h->add_option("--format", history->format,
                "Pretty-print history using a Go template (or json, table)");
  h->callback([&g, history] { RunHistory(g, *history); });

  auto images = std::make_shared<ImagesOptions>();
  auto* i = app.add_subcommand("images", "List images");
  i->add_option("REPOSITORY", images->repository);
  i->add_flag("-a,--all", images->all, "Show all images (default hides intermediate images)");
  i->add_flag("-q,--quiet", images->quiet, "Only show image IDs");
  i->add_flag("--digests", images->digests, "Show digests");
  i->add_flag("--no-trunc", images->no_trunc, "Don't truncate output");
  i->add_option("--format", images->format,
                "Pretty-print images using a Go template (or json, table)");
  i->add_option("-f,--filter", images->filters,
                "Filter output based on conditions provided (dangling, reference, label, before, "
                "since)")
      ->allow_extra_args(false);
  i->callback([&g, images] { RunImages(g, *images); });

  struct InspectOptions {
    std::vector<std::string> names;
    std::string format;
  };
  auto inspect_opts = std::make_shared<InspectOptions>();
  auto* inspect = app.add_subcommand("inspect", "Display detailed information on images");
  inspect->add_option("-f,--format", inspect_opts->format,
                      "Format the output using the given Go template");
  inspect->add_option("IMAGE", inspect_opts->names)->required();
  inspect->callback(
      [&g, inspect_opts] { RunInspect(g, inspect_opts->names, inspect_opts->format); });

  auto tag_args = std::make_shared<std::pair<std::string, std::string>>();
  auto* tag = app.add_subcommand("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
  tag->add_option("SOURCE_IMAGE", tag_args->first)->required();
  tag->add_option("TARGET_IMAGE", tag_args->second)->required();
  tag->callback([&g, tag_args] { RunTag(g, tag_args->first, tag_args->second); });

  struct RmiOptions {
    std::vector<std::string> names;
    bool force = false;
    bool no_prune = false;
  };
  auto rmi_opts = std::make_shared<RmiOptions>();
  auto* rmi = app.add_subcommand("rmi", "Remove one or more images");
  rmi->add_option("IMAGE", rmi_opts->names)->required();
  rmi->add_flag("-f,--force", rmi_opts->force, "Force removal of the image");
  rmi->add_flag("--no-prune", rmi_opts->no_prune, "Do not delete untagged parents");
  rmi->callback([&g, rmi_opts] {
    auto engine = CreateEngine(g);
    if (auto store = engine->store(); !store) return ReportError(g, store.error());
    for (const std::string& name : rmi_opts->names) {
      auto report = ImageRemove(*engine, ImageRemoveRequest{.name = name,
                                                            .force = rmi_opts->force,
                                                            .prune_parents = !rmi_opts->no_prune});
      if (!report) {
        ReportError(g, report.error());
        continue;
      }
      PrintReport(*report);
    }
  });
}

}  // namespace strata::cli
