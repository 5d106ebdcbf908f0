// images, history, inspect, tag, rmi, image prune.
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>
#include <set>

#include "cli/commands.h"
#include "cli/table.h"
#include "image/docker_units.h"
#include "image/go_json.h"
#include "image/go_time.h"
#include "reference/reference.h"
#include "store/image_commit.h"
#include "store/image_delete.h"
#include "store/image_lookup.h"
#include "store/image_views.h"

namespace strata::cli {
namespace {

int64_t UnixSeconds(const std::string& rfc3339) {
  auto t = ParseRfc3339Nano(rfc3339);
  return t ? t->unix_seconds : 0;
}

// docker's {{json .}} of a formatter context: keys sorted, values as displayed.
void PrintJsonLine(const nlohmann::ordered_json& fields) {
  std::cout << GoMarshalSortedKeys(fields) << "\n";
}

struct HistoryOptions {
  std::string image;
  bool no_trunc = false;
  bool human = true;
  bool quiet = false;
  std::string format;
};

void RunHistory(GlobalOptions& g, const HistoryOptions& o) {
  auto store = OpenStoreOrReport(g, StoreAccess::kReadOnly);
  if (!store) return;
  auto id = ResolveImage(*store, o.image);
  if (!id) return ReportError(g, id.error().message);
  auto rows = ImageHistory(*store, *id);
  if (!rows) return ReportError(g, rows.error().message);
  const bool trunc = !o.no_trunc;
  Table table;
  if (o.format.empty() && !o.quiet) {
    table.AddRow({"IMAGE", "CREATED", "CREATED BY", "SIZE", "COMMENT"});
  }
  for (const HistoryRow& row : *rows) {
    std::string id_text =
        row.id ? (trunc ? TruncateId(row.id->str()) : row.id->str()) : "<missing>";
    if (o.quiet) {
      std::cout << id_text << "\n";
      continue;
    }
    int64_t created = UnixSeconds(row.created);
    std::string created_at = FormatCreatedAt(created);
    std::string since = o.human ? CreatedSince(created) : created_at;
    std::string created_by = row.created_by;
    for (char& c : created_by) {
      if (c == '\t') c = ' ';
    }
    if (trunc) created_by = Ellipsis(created_by, 45);
    std::string size = o.human ? HumanSizeWithPrecision(static_cast<double>(row.size), 3)
                               : std::to_string(row.size);
    if (o.format == "json") {
      PrintJsonLine({{"Comment", row.comment},
                     {"CreatedAt", created_at},
                     {"CreatedBy", created_by},
                     {"CreatedSince", since},
                     {"ID", id_text},
                     {"Size", size}});
    } else {
      table.AddRow({id_text, since, created_by, size, row.comment});
    }
  }
  if (o.format.empty() && !o.quiet) std::cout << table.Render();
}

struct ImagesOptions {
  std::string repository;
  bool all = false;
  bool quiet = false;
  bool digests = false;
  bool no_trunc = false;
  std::string format;
};

void RunImages(GlobalOptions& g, const ImagesOptions& o) {
  auto store = OpenStoreOrReport(g, StoreAccess::kReadOnly);
  if (!store) return;
  auto images = ListImages(*store);
  if (!images) return ReportError(g, images.error().message);
  std::optional<Reference> filter;
  if (!o.repository.empty()) {
    auto ref = ParseNormalizedNamed(o.repository);
    if (!ref) return ReportError(g, ref.error().message);
    filter = *ref;
  }
  Table table;
  std::vector<std::string> header = {"REPOSITORY", "TAG"};
  if (o.digests) header.push_back("DIGEST");
  for (const char* h : {"IMAGE ID", "CREATED", "SIZE"}) header.push_back(h);
  if (o.format.empty() && !o.quiet) table.AddRow(header);
  std::set<std::string> quiet_seen;
  for (const ImageSummary& image : *images) {
    // Like docker: without -a, untagged images that have children are intermediate layers.
    if (!o.all && image.repo_tags.empty() && image.has_children) continue;
    std::string id_text = o.no_trunc ? image.id.str() : TruncateId(image.id.str());
    int64_t created = UnixSeconds(image.created);
    // One row per tag; an untagged image gets one <none> row (with its digest if it has one).
    struct Row {
      std::string repo, tag, digest;
    };
    std::vector<Row> rows;
    for (const std::string& t : image.repo_tags) {
      auto ref = ParseNormalizedNamed(t);
      if (!ref) continue;
      if (filter && ref->Name() != filter->Name()) continue;
      if (filter && filter->tag() && ref->tag() != filter->tag()) continue;
      std::string digest = "<none>";
      for (const std::string& d : image.repo_digests) {
        auto dref = ParseNormalizedNamed(d);
        if (dref && dref->Name() == ref->Name() && dref->digest()) digest = dref->digest()->str();
      }
      rows.push_back({ref->FamiliarName(), ref->tag().value_or("<none>"), digest});
    }
    if (image.repo_tags.empty() && !filter) {
      if (image.repo_digests.empty()) {
        rows.push_back({"<none>", "<none>", "<none>"});
      }
      for (const std::string& d : image.repo_digests) {
        auto dref = ParseNormalizedNamed(d);
        rows.push_back({dref ? dref->FamiliarName() : "<none>", "<none>",
                        dref && dref->digest() ? dref->digest()->str() : "<none>"});
      }
    }
    for (const Row& row : rows) {
      if (o.quiet) {
        if (quiet_seen.insert(id_text).second) std::cout << id_text << "\n";
        continue;
      }
      std::string size = HumanSizeWithPrecision(static_cast<double>(image.size), 3);
      if (o.format == "json") {
        PrintJsonLine({{"Containers", "N/A"},
                       {"CreatedAt", FormatImageCreatedAt(created)},
                       {"CreatedSince", CreatedSince(created)},
                       {"Digest", row.digest},
                       {"ID", id_text},
                       {"Repository", row.repo},
                       {"SharedSize", "N/A"},
                       {"Size", size},
                       {"Tag", row.tag},
                       {"UniqueSize", "N/A"},
                       {"VirtualSize", size}});
        continue;
      }
      std::vector<std::string> cells = {row.repo, row.tag};
      if (o.digests) cells.push_back(row.digest);
      cells.push_back(id_text);
      cells.push_back(CreatedSince(created));
      cells.push_back(size);
      table.AddRow(cells);
    }
  }
  if (o.format.empty() && !o.quiet) std::cout << table.Render();
}

void RunInspect(GlobalOptions& g, const std::vector<std::string>& names) {
  auto store = OpenStoreOrReport(g, StoreAccess::kReadOnly);
  if (!store) return;
  nlohmann::ordered_json out = nlohmann::ordered_json::array();
  for (const std::string& name : names) {
    auto id = ResolveImage(*store, name);
    if (!id) {
      ReportError(g, id.error().message);
      continue;
    }
    auto j = InspectImage(*store, *id);
    if (!j) {
      ReportError(g, j.error().message);
      continue;
    }
    out.push_back(*j);
  }
  std::cout << out.dump(4) << "\n";
}

void RunTag(GlobalOptions& g, const std::string& source, const std::string& target) {
  auto store = OpenStoreOrReport(g);
  if (!store) return;
  auto id = ResolveImage(*store, source);
  if (!id) return ReportError(g, id.error().message);
  auto ref = ParseNormalizedNamed(target);
  if (!ref) return ReportError(g, ref.error().message);
  if (ref->digest()) return ReportError(g, "refusing to create a tag with a digest reference");
  if (ref->path() == "library/sha256" || ref->path() == "sha256") {
    return ReportError(g, "refusing to create an ambiguous tag using digest algorithm as name");
  }
  Metadata& md = (*store).metadata();
  auto tx = Transaction::Begin(md.db());
  if (!tx) return ReportError(g, tx.error().message);
  auto st = PutReference(md, TagNameOnly(*ref), *id);
  if (st) st = md.SetLastTagTime(*id, NowRfc3339Nano());
  if (st) st = tx->Commit();
  if (!st) return ReportError(g, st.error().message);
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
  h->add_option("--format", history->format, "Output format: json");
  h->callback([&g, history] { RunHistory(g, *history); });

  auto images = std::make_shared<ImagesOptions>();
  auto* i = app.add_subcommand("images", "List images");
  i->add_option("REPOSITORY", images->repository);
  i->add_flag("-a,--all", images->all, "Show all images (default hides intermediate images)");
  i->add_flag("-q,--quiet", images->quiet, "Only show image IDs");
  i->add_flag("--digests", images->digests, "Show digests");
  i->add_flag("--no-trunc", images->no_trunc, "Don't truncate output");
  i->add_option("--format", images->format, "Output format: json");
  i->callback([&g, images] { RunImages(g, *images); });

  auto inspect_names = std::make_shared<std::vector<std::string>>();
  auto* inspect = app.add_subcommand("inspect", "Display detailed information on images");
  inspect->add_option("IMAGE", *inspect_names)->required();
  inspect->callback([&g, inspect_names] { RunInspect(g, *inspect_names); });

  auto tag_args = std::make_shared<std::pair<std::string, std::string>>();
  auto* tag = app.add_subcommand("tag", "Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE");
  tag->add_option("SOURCE_IMAGE", tag_args->first)->required();
  tag->add_option("TARGET_IMAGE", tag_args->second)->required();
  tag->callback([&g, tag_args] { RunTag(g, tag_args->first, tag_args->second); });

  struct RmiOptions {
    std::vector<std::string> names;
    bool force = false;
  };
  auto rmi_opts = std::make_shared<RmiOptions>();
  auto* rmi = app.add_subcommand("rmi", "Remove one or more images");
  rmi->add_option("IMAGE", rmi_opts->names)->required();
  rmi->add_flag("-f,--force", rmi_opts->force, "Force removal of the image");
  rmi->callback([&g, rmi_opts] {
    auto store = OpenStoreOrReport(g);
    if (!store) return;
    for (const std::string& name : rmi_opts->names) {
      auto report = RemoveImage(*store, name, rmi_opts->force);
      if (!report) {
        ReportError(g, report.error().message);
        continue;
      }
      PrintReport(*report);
    }
  });

  auto* image = app.add_subcommand("image", "Manage images");
  image->require_subcommand(1);
  struct PruneOptions {
    bool all = false;
    bool force = false;
  };
  auto prune_opts = std::make_shared<PruneOptions>();
  auto* prune = image->add_subcommand("prune", "Remove unused images");
  prune->add_flag("-a,--all", prune_opts->all, "Remove all unused images, not just dangling ones");
  prune->add_flag("-f,--force", prune_opts->force, "Do not prompt for confirmation");
  prune->callback([&g, prune_opts] {
    auto store = OpenStoreOrReport(g);
    if (!store) return;
    auto report = PruneImages(*store, prune_opts->all);
    if (!report) return ReportError(g, report.error().message);
    if (!report->lines.empty()) {
      std::cout << "Deleted Images:\n";
      for (const std::string& line : report->lines) {
        std::string lower = line;
        if (lower.starts_with("Untagged")) lower[0] = 'u';
        if (lower.starts_with("Deleted")) lower[0] = 'd';
        std::cout << lower << "\n";
      }
      std::cout << "\n";
    }
    std::cout << "Total reclaimed space: "
              << HumanSize(static_cast<double>(report->reclaimed_bytes)) << "\n";
  });
}

}  // namespace strata::cli
