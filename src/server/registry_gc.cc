#include "server/registry_gc.h"

#include <ctime>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

#include "server/local_registry_storage.h"
#include "store/image_delete.h"
#include "store/sqlite.h"
#include "util/json_depth.h"

namespace strata::server {
namespace {

using Json = nlohmann::json;

struct ManifestRow {
  std::string digest;
  std::optional<std::string> subject;
  int64_t added_at = 0;
};

struct RepositoryState {
  std::map<std::string, ManifestRow> manifests;        // by digest
  std::set<std::string> tagged;                        // digests some tag points at
  std::vector<std::pair<std::string, int64_t>> blobs;  // linked digest, added_at
};

// Digests a manifest names: config and layers, or an index's manifests.
Result<std::vector<std::string>> Referenced(Store& store, const std::string& digest_text) {
  STRATA_ASSIGN(digest, Digest::Parse(digest_text));
  STRATA_ASSIGN(bytes, store.content().ReadVerified(digest));
  Json doc = ParseUntrustedJson(bytes);
  std::vector<std::string> out;
  if (!doc.is_object()) return out;
  auto add = [&](const Json& d) {
    if (d.is_object() && d.contains("digest") && d["digest"].is_string())
      out.push_back(d["digest"]);
  };
  if (doc.contains("config")) add(doc["config"]);
  for (const char* key : {"layers", "manifests"}) {
    if (doc.contains(key) && doc[key].is_array()) {
      for (const Json& d : doc[key]) add(d);
    }
  }
  return out;
}

Result<std::map<std::string, RepositoryState>> ReadState(Database& db) {
  std::map<std::string, RepositoryState> repos;
  STRATA_ASSIGN(m, db.Prepare("SELECT repository, digest, subject, added_at FROM "
                              "registry_manifests"));
  for (;;) {
    STRATA_ASSIGN(row, m.Step());
    if (!row) break;
    repos[m.Text(0)].manifests[m.Text(1)] = {m.Text(1), m.OptionalText(2), m.Int(3)};
  }
  STRATA_ASSIGN(t, db.Prepare("SELECT repository, digest FROM registry_tags"));
  for (;;) {
    STRATA_ASSIGN(row, t.Step());
    if (!row) break;
    repos[t.Text(0)].tagged.insert(t.Text(1));
  }
  STRATA_ASSIGN(b, db.Prepare("SELECT repository, digest, added_at FROM registry_blobs"));
  for (;;) {
    STRATA_ASSIGN(row, b.Step());
    if (!row) break;
    repos[b.Text(0)].blobs.emplace_back(b.Text(1), b.Int(2));
  }
  return repos;
}

}  // namespace

Result<RegistryGcReport> CollectRegistryGarbage(Store& store, const RegistryGcOptions& options) {
  STRATA_ASSIGN(lock, store.LockExclusive());
  STRATA_ASSIGN(domain_db, store.metadata().OpenDomain(RegistryDomain()));
  Database& db = *domain_db;
  STRATA_ASSIGN(repos, ReadState(db));
  const int64_t cutoff = static_cast<int64_t>(std::time(nullptr)) - options.grace_seconds;
  RegistryGcReport report;
  std::vector<std::pair<std::string, std::string>> dead_manifests, dead_links;

  for (auto& [name, repo] : repos) {
    // Manifests kept: all of them, or (delete_untagged) what tags reach through indexes, plus
    // referrers of kept manifests, plus anything inside the grace period.
    std::set<std::string> kept;
    std::map<std::string, std::vector<std::string>> children;
    for (const auto& [digest, row] : repo.manifests) {
      STRATA_ASSIGN(refs, Referenced(store, digest));
      children[digest] = std::move(refs);
    }
    std::vector<std::string> work;
    for (const auto& [digest, row] : repo.manifests) {
      if (!options.delete_untagged || repo.tagged.count(digest) || row.added_at > cutoff) {
        work.push_back(digest);
      }
    }
    bool grew = true;
    while (grew) {
      while (!work.empty()) {
        std::string d = work.back();
        work.pop_back();
        if (!kept.insert(d).second) continue;
        for (const std::string& c : children[d]) {
          if (repo.manifests.count(c)) work.push_back(c);
        }
      }
      grew = false;
      for (const auto& [digest, row] : repo.manifests) {
        if (!kept.count(digest) && row.subject && kept.count(*row.subject)) {
          work.push_back(digest);
          grew = true;
        }
      }
    }
    std::set<std::string> referenced;
    for (const auto& [digest, row] : repo.manifests) {
      if (!kept.count(digest)) {
        dead_manifests.emplace_back(name, digest);
        report.lines.push_back("Removed manifest " + name + "@" + digest);
        continue;
      }
      for (const std::string& c : children[digest]) referenced.insert(c);
    }
    for (const auto& [digest, added_at] : repo.blobs) {
      if (!referenced.count(digest) && added_at <= cutoff) {
        dead_links.emplace_back(name, digest);
        report.lines.push_back("Unlinked " + name + " blob " + digest);
      }
    }
  }
  report.unlinked_blobs = dead_links.size();
  report.removed_manifests = dead_manifests.size();
  if (options.dry_run) return report;

  {
    STRATA_ASSIGN(tx, Transaction::Begin(db));
    for (const auto& [name, digest] : dead_manifests) {
      for (const char* sql : {"DELETE FROM registry_manifests WHERE repository = ? AND digest = ?",
                              "DELETE FROM registry_tags WHERE repository = ? AND digest = ?"}) {
        STRATA_ASSIGN(s, db.Prepare(sql));
        s.Bind(1, name).Bind(2, digest);
        STRATA_TRY(s.Run());
      }
    }
    for (const auto& [name, digest] : dead_links) {
      STRATA_ASSIGN(s,
                    db.Prepare("DELETE FROM registry_blobs WHERE repository = ? AND digest = ?"));
      s.Bind(1, name).Bind(2, digest);
      STRATA_TRY(s.Run());
    }
    STRATA_TRY(tx.Commit());
  }
  STRATA_ASSIGN(before, store.content().List());
  STRATA_ASSIGN(gc, CollectGarbage(store));
  STRATA_ASSIGN(after, store.content().List());
  report.deleted_blobs = before.size() - after.size();
  for (std::string& line : gc.lines) report.lines.push_back(std::move(line));
  return report;
}

}  // namespace strata::server
