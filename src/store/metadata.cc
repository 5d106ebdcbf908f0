#include "store/metadata.h"

namespace strata {
namespace {

// The images domain: layers, their compressed forms, images, references, manifests and where
// blobs were seen. Step 1 is the schema of every release before domains (user_version 1), without
// the registry's tables, which are the registry domain's now.
constexpr const char* kImagesStep1 = R"sql(
CREATE TABLE IF NOT EXISTS layers(
  chain_id TEXT PRIMARY KEY,
  diff_id TEXT NOT NULL,
  parent TEXT,
  size INTEGER NOT NULL,
  tar_size INTEGER NOT NULL,
  cache_id TEXT NOT NULL UNIQUE,
  unpacked INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS layers_diff ON layers(diff_id);
CREATE TABLE IF NOT EXISTS layer_blobs(
  diff_id TEXT NOT NULL,
  digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  size INTEGER NOT NULL,
  PRIMARY KEY(diff_id, digest));
CREATE TABLE IF NOT EXISTS images(
  id TEXT PRIMARY KEY,
  parent TEXT,
  top_layer TEXT,
  added_at INTEGER NOT NULL,
  last_tag_time TEXT);
CREATE INDEX IF NOT EXISTS images_parent ON images(parent);
CREATE TABLE IF NOT EXISTS refs(
  name TEXT PRIMARY KEY,
  repository TEXT NOT NULL,
  is_digest INTEGER NOT NULL,
  image_id TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS refs_image ON refs(image_id);
CREATE TABLE IF NOT EXISTS image_manifests(
  image_id TEXT NOT NULL,
  manifest_digest TEXT NOT NULL,
  media_type TEXT NOT NULL,
  PRIMARY KEY(image_id, manifest_digest));
CREATE TABLE IF NOT EXISTS blob_sources(
  digest TEXT NOT NULL,
  registry TEXT NOT NULL,
  repository TEXT NOT NULL,
  PRIMARY KEY(digest, registry, repository));
)sql";

// Step 2: unpacked layers are snapshots (snapshot/snapshotter.h) in the overlay form, kept by the
// view gc_snapshots_images. What earlier releases unpacked, into layers/<cache-id> with whiteouts
// applied by deleting, is not that form: those layers are unpacked again when next needed, and
// gc removes layers/ (derived data only).
constexpr const char* kImagesStep2 = R"sql(
UPDATE layers SET unpacked = 0;
CREATE VIEW IF NOT EXISTS gc_snapshots_images(id) AS
  SELECT cache_id FROM layers WHERE unpacked = 1;
)sql";

const SchemaDomain& ImagesDomain() {
  static const SchemaDomain domain{"images", {kImagesStep1, kImagesStep2}};
  return domain;
}

constexpr const char* kDomainsTable = R"sql(
CREATE TABLE IF NOT EXISTS schema_domains(
  name TEXT PRIMARY KEY,
  version INTEGER NOT NULL) WITHOUT ROWID;
)sql";

// Layout 1 -> 2. A store of layout 1 holds the images tables (images step 1) and, created with
// them, the registry's tables (registry step 1). The registry's gc roots were a query in this
// file; they become its view now (registry step 2, the same SQL as src/server's), so that a gc
// run before the registry code next opens the store still keeps its blobs.
constexpr const char* kLayout1To2 = R"sql(
INSERT OR REPLACE INTO schema_domains(name, version) VALUES('images', 1);
CREATE VIEW IF NOT EXISTS gc_roots_registry(digest) AS
  SELECT digest FROM registry_blobs UNION SELECT digest FROM registry_manifests;
INSERT OR REPLACE INTO schema_domains(name, version) VALUES('registry', 2);
)sql";

Result<int64_t> ReadUserVersion(Database& db) {
  STRATA_ASSIGN(s, db.Prepare("PRAGMA user_version"));
  STRATA_ASSIGN(row, s.Step());
  return row ? s.Int(0) : 0;
}

Status RefuseNewer(int64_t version, const std::string& path) {
  if (version <= kMetadataVersion) return {};
  return Fail(path + ": the store's metadata is layout version " + std::to_string(version) +
              ", newer than this strata knows (" + std::to_string(kMetadataVersion) +
              "): it was written by a newer strata; use that one (or a newer one) on this store");
}

Result<bool> TableExists(Database& db, const std::string& name) {
  STRATA_ASSIGN(s, db.Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?"));
  s.Bind(1, name);
  return s.Step();
}

// Brings the database to kMetadataVersion: the domains table, the upgrade of a layout-1 store,
// and the images domain's steps, in one transaction.
Status Upgrade(Database& db) {
  // Without the write lock first: a store that is up to date costs one read.
  STRATA_ASSIGN(seen, ReadUserVersion(db));
  STRATA_TRY(RefuseNewer(seen, db.path()));
  if (seen == kMetadataVersion) return {};
  STRATA_ASSIGN(tx, Transaction::Begin(db));
  STRATA_ASSIGN(version, ReadUserVersion(db));
  STRATA_TRY(RefuseNewer(version, db.path()));
  if (version < kMetadataVersion) {
    STRATA_TRY(db.Exec(kDomainsTable));
    // Layout 1, or a store of the earliest releases that set no version but made the tables.
    STRATA_ASSIGN(had_registry, TableExists(db, "registry_blobs"));
    if (version == 1 || had_registry) STRATA_TRY(db.Exec(kLayout1To2));
    STRATA_TRY(db.Exec("PRAGMA user_version = " + std::to_string(kMetadataVersion)));
  }
  STRATA_TRY(tx.Commit());
  return {};
}

Result<int64_t> DomainVersionIn(Database& db, const std::string& name) {
  STRATA_ASSIGN(s, db.Prepare("SELECT version FROM schema_domains WHERE name = ?"));
  s.Bind(1, name);
  STRATA_ASSIGN(row, s.Step());
  return row ? s.Int(0) : 0;
}

Status EnsureDomain(Database& db, const SchemaDomain& domain) {
  const auto known = static_cast<int64_t>(domain.steps.size());
  STRATA_ASSIGN(seen, DomainVersionIn(db, domain.name));
  if (seen == known) return {};
  STRATA_ASSIGN(tx, Transaction::Begin(db));
  STRATA_ASSIGN(version, DomainVersionIn(db, domain.name));
  if (version > known) {
    return Fail(db.path() + ": the " + domain.name + " tables are at version " +
                std::to_string(version) + ", newer than this strata knows (" +
                std::to_string(known) + "): use the newer strata that wrote them");
  }
  if (version == known) return {};
  for (int64_t i = version; i < known; ++i) {
    auto st = db.Exec(domain.steps[static_cast<size_t>(i)]);
    if (!st) {
      return Wrap("upgrading the " + domain.name + " tables to version " + std::to_string(i + 1),
                  st.error());
    }
  }
  STRATA_ASSIGN(s, db.Prepare("INSERT OR REPLACE INTO schema_domains(name, version) VALUES(?, ?)"));
  s.Bind(1, domain.name).Bind(2, known);
  STRATA_TRY(s.Run());
  return tx.Commit();
}

// The images tables are written only by this file, so a digest column that fails to parse means
// the database was edited by hand or damaged; surface it instead of guessing.
Result<Digest> ColumnDigest(const Statement& s, int column, const char* what) {
  auto d = Digest::Parse(s.Text(column));
  if (!d) return Fail(std::string("metadata database: bad ") + what + ": " + d.error().message);
  return *d;
}

Result<std::optional<Digest>> ColumnOptionalDigest(const Statement& s, int column,
                                                   const char* what) {
  auto text = s.OptionalText(column);
  if (!text) return std::optional<Digest>();
  STRATA_ASSIGN(d, ColumnDigest(s, column, what));
  return std::optional<Digest>(d);
}

std::optional<std::string> OptionalStr(const std::optional<Digest>& d) {
  return d ? std::optional<std::string>(d->str()) : std::nullopt;
}

Result<LayerRecord> ReadLayer(const Statement& s) {
  STRATA_ASSIGN(chain, ColumnDigest(s, 0, "layer chain ID"));
  STRATA_ASSIGN(diff, ColumnDigest(s, 1, "layer diff ID"));
  STRATA_ASSIGN(parent, ColumnOptionalDigest(s, 2, "layer parent"));
  return LayerRecord{.chain_id = chain,
                     .diff_id = diff,
                     .parent = parent,
                     .size = s.Int(3),
                     .tar_size = s.Int(4),
                     .cache_id = s.Text(5),
                     .unpacked = s.Int(6) != 0};
}

Result<ImageRecord> ReadImage(const Statement& s) {
  STRATA_ASSIGN(id, ColumnDigest(s, 0, "image ID"));
  STRATA_ASSIGN(parent, ColumnOptionalDigest(s, 1, "image parent"));
  STRATA_ASSIGN(top, ColumnOptionalDigest(s, 2, "image top layer"));
  return ImageRecord{.id = id,
                     .parent = parent,
                     .top_layer = top,
                     .added_at = s.Int(3),
                     .last_tag_time = s.OptionalText(4)};
}

Result<RefRecord> ReadRef(const Statement& s) {
  STRATA_ASSIGN(id, ColumnDigest(s, 3, "reference target"));
  return RefRecord{
      .name = s.Text(0), .repository = s.Text(1), .is_digest = s.Int(2) != 0, .image_id = id};
}

// Steps through every row of `s`, converting each with `read` (which returns a Result).
template <typename T, typename ReadRow>
Result<std::vector<T>> CollectRows(Statement& s, ReadRow read) {
  std::vector<T> out;
  for (;;) {
    STRATA_ASSIGN(row, s.Step());
    if (!row) return out;
    STRATA_ASSIGN(value, read(s));
    out.push_back(std::move(value));
  }
}

const char* kLayerColumns = "chain_id, diff_id, parent, size, tar_size, cache_id, unpacked";
const char* kImageColumns = "id, parent, top_layer, added_at, last_tag_time";
const char* kRefColumns = "name, repository, is_digest, image_id";

}  // namespace

Result<Metadata> Metadata::Open(const std::string& path) {
  STRATA_ASSIGN(db, Database::Open(path));
  STRATA_TRY(Upgrade(db));
  STRATA_TRY(EnsureDomain(db, ImagesDomain()));
  return Metadata(std::move(db));
}

Result<Metadata> Metadata::OpenReadOnly(const std::string& path) {
  STRATA_ASSIGN(db, Database::OpenReadOnly(path));
  STRATA_ASSIGN(version, ReadUserVersion(db));
  STRATA_TRY(RefuseNewer(version, path));
  return Metadata(std::move(db));
}

Result<Database*> Metadata::OpenDomain(const SchemaDomain& domain) {
  STRATA_TRY(EnsureDomain(db_, domain));
  return &db_;
}

Result<int64_t> Metadata::DomainVersion(const std::string& name) {
  STRATA_ASSIGN(exists, TableExists(db_, "schema_domains"));
  if (!exists) return 0;
  return DomainVersionIn(db_, name);
}

Result<int64_t> Metadata::LayoutVersion() { return ReadUserVersion(db_); }

namespace {

// The views whose names start with `prefix` (escaped for LIKE: "gc\\_roots\\_"), by name.
Result<std::vector<std::string>> ViewsNamed(Database& db, const std::string& like_prefix) {
  STRATA_ASSIGN(views, db.Prepare("SELECT name FROM sqlite_master WHERE type = 'view' AND "
                                  "name LIKE ? ESCAPE '\\' ORDER BY name"));
  views.Bind(1, like_prefix + "%");
  std::vector<std::string> names;
  for (;;) {
    STRATA_ASSIGN(row, views.Step());
    if (!row) return names;
    names.push_back(views.Text(0));
  }
}

}  // namespace

Result<std::vector<Metadata::GcRoot>> Metadata::DomainGcRoots() {
  STRATA_ASSIGN(names, ViewsNamed(db_, "gc\\_roots\\_"));
  // A store read without write access may be of layout 1, whose registry roots have no view yet.
  STRATA_ASSIGN(version, ReadUserVersion(db_));
  std::vector<std::pair<std::string, std::string>> queries;  // domain, SELECT
  for (const std::string& view : names) {
    queries.emplace_back(view.substr(std::string("gc_roots_").size()),
                         "SELECT digest FROM \"" + view + "\"");
  }
  STRATA_ASSIGN(legacy_registry, TableExists(db_, "registry_blobs"));
  if (version < 2 && legacy_registry) {
    queries.emplace_back("registry",
                         "SELECT digest FROM registry_blobs UNION SELECT digest FROM "
                         "registry_manifests");
  }
  std::vector<GcRoot> out;
  for (const auto& [domain, sql] : queries) {
    STRATA_ASSIGN(s, db_.Prepare(sql));
    for (;;) {
      STRATA_ASSIGN(row, s.Step());
      if (!row) break;
      STRATA_ASSIGN(d, ColumnDigest(s, 0, (domain + " gc root").c_str()));
      out.push_back({domain, d});
    }
  }
  return out;
}

Result<std::vector<Metadata::SnapshotRoot>> Metadata::DomainSnapshotRoots() {
  STRATA_ASSIGN(names, ViewsNamed(db_, "gc\\_snapshots\\_"));
  std::vector<SnapshotRoot> out;
  for (const std::string& view : names) {
    STRATA_ASSIGN(s, db_.Prepare("SELECT id FROM \"" + view + "\""));
    for (;;) {
      STRATA_ASSIGN(row, s.Step());
      if (!row) break;
      out.push_back({view.substr(std::string("gc_snapshots_").size()), s.Text(0)});
    }
  }
  return out;
}

Result<std::optional<LayerRecord>> Metadata::GetLayer(const Digest& chain_id) {
  STRATA_ASSIGN(
      s, db_.Prepare(std::string("SELECT ") + kLayerColumns + " FROM layers WHERE chain_id = ?"));
  s.Bind(1, chain_id.str());
  STRATA_ASSIGN(row, s.Step());
  if (!row) return std::optional<LayerRecord>();
  STRATA_ASSIGN(layer, ReadLayer(s));
  return std::optional<LayerRecord>(layer);
}

Status Metadata::PutLayer(const LayerRecord& l) {
  STRATA_ASSIGN(s, db_.Prepare("INSERT OR IGNORE INTO layers(chain_id, diff_id, parent, size, "
                               "tar_size, cache_id, unpacked) VALUES(?,?,?,?,?,?,?)"));
  s.Bind(1, l.chain_id.str())
      .Bind(2, l.diff_id.str())
      .BindOptional(3, OptionalStr(l.parent))
      .Bind(4, l.size)
      .Bind(5, l.tar_size)
      .Bind(6, l.cache_id)
      .Bind(7, int64_t{l.unpacked});
  return s.Run();
}

Status Metadata::SetLayerUnpacked(const Digest& chain_id, bool unpacked) {
  STRATA_ASSIGN(s, db_.Prepare("UPDATE layers SET unpacked = ? WHERE chain_id = ?"));
  s.Bind(1, int64_t{unpacked}).Bind(2, chain_id.str());
  return s.Run();
}

Result<std::vector<LayerRecord>> Metadata::ListLayers() {
  STRATA_ASSIGN(s, db_.Prepare(std::string("SELECT ") + kLayerColumns + " FROM layers"));
  return CollectRows<LayerRecord>(s, ReadLayer);
}

Status Metadata::DeleteLayer(const Digest& chain_id) {
  STRATA_ASSIGN(s, db_.Prepare("DELETE FROM layers WHERE chain_id = ?"));
  s.Bind(1, chain_id.str());
  return s.Run();
}

Status Metadata::AddLayerBlob(const LayerBlob& b) {
  STRATA_ASSIGN(s, db_.Prepare("INSERT OR REPLACE INTO layer_blobs(diff_id, digest, media_type, "
                               "size) VALUES(?,?,?,?)"));
  s.Bind(1, b.diff_id.str()).Bind(2, b.digest.str()).Bind(3, b.media_type).Bind(4, b.size);
  return s.Run();
}

Result<std::vector<LayerBlob>> Metadata::LayerBlobs(const Digest& diff_id) {
  STRATA_ASSIGN(s, db_.Prepare("SELECT diff_id, digest, media_type, size FROM layer_blobs "
                               "WHERE diff_id = ? ORDER BY rowid"));
  s.Bind(1, diff_id.str());
  std::vector<LayerBlob> out;
  for (;;) {
    STRATA_ASSIGN(row, s.Step());
    if (!row) return out;
    STRATA_ASSIGN(digest, ColumnDigest(s, 1, "layer blob digest"));
    out.push_back({diff_id, digest, s.Text(2), s.Int(3)});
  }
}

Result<std::vector<LayerBlob>> Metadata::ListLayerBlobs() {
  STRATA_ASSIGN(s, db_.Prepare("SELECT diff_id, digest, media_type, size FROM layer_blobs"));
  std::vector<LayerBlob> out;
  for (;;) {
    STRATA_ASSIGN(row, s.Step());
    if (!row) return out;
    STRATA_ASSIGN(diff, ColumnDigest(s, 0, "layer blob diff ID"));
    STRATA_ASSIGN(digest, ColumnDigest(s, 1, "layer blob digest"));
    out.push_back({diff, digest, s.Text(2), s.Int(3)});
  }
}

Result<std::optional<LayerRecord>> Metadata::FindLayerByDiffId(const Digest& diff_id) {
  STRATA_ASSIGN(s, db_.Prepare(std::string("SELECT ") + kLayerColumns +
                               " FROM layers WHERE diff_id = ? LIMIT 1"));
  s.Bind(1, diff_id.str());
  STRATA_ASSIGN(row, s.Step());
  if (!row) return std::optional<LayerRecord>();
  STRATA_ASSIGN(layer, ReadLayer(s));
  return std::optional<LayerRecord>(layer);
}

Status Metadata::AddBlobSource(const BlobSource& source) {
  STRATA_ASSIGN(s, db_.Prepare("INSERT OR IGNORE INTO blob_sources(digest, registry, repository) "
                               "VALUES(?,?,?)"));
  s.Bind(1, source.digest.str()).Bind(2, source.registry).Bind(3, source.repository);
  return s.Run();
}

Result<std::vector<BlobSource>> Metadata::BlobSources(const Digest& digest) {
  STRATA_ASSIGN(s, db_.Prepare("SELECT registry, repository FROM blob_sources WHERE digest = ? "
                               "ORDER BY rowid"));
  s.Bind(1, digest.str());
  return CollectRows<BlobSource>(s, [&](const Statement& row) -> Result<BlobSource> {
    return BlobSource{digest, row.Text(0), row.Text(1)};
  });
}

Status Metadata::DeleteLayerBlobs(const Digest& diff_id) {
  STRATA_ASSIGN(s, db_.Prepare("DELETE FROM layer_blobs WHERE diff_id = ?"));
  s.Bind(1, diff_id.str());
  return s.Run();
}

Result<std::optional<ImageRecord>> Metadata::GetImage(const Digest& id) {
  STRATA_ASSIGN(s,
                db_.Prepare(std::string("SELECT ") + kImageColumns + " FROM images WHERE id = ?"));
  s.Bind(1, id.str());
  STRATA_ASSIGN(row, s.Step());
  if (!row) return std::optional<ImageRecord>();
  STRATA_ASSIGN(image, ReadImage(s));
  return std::optional<ImageRecord>(image);
}

Status Metadata::PutImage(const ImageRecord& i) {
  STRATA_ASSIGN(s, db_.Prepare("INSERT OR IGNORE INTO images(id, parent, top_layer, added_at, "
                               "last_tag_time) VALUES(?,?,?,?,?)"));
  s.Bind(1, i.id.str())
      .BindOptional(2, OptionalStr(i.parent))
      .BindOptional(3, OptionalStr(i.top_layer))
      .Bind(4, i.added_at)
      .BindOptional(5, i.last_tag_time);
  return s.Run();
}

Status Metadata::SetParent(const Digest& id, const std::optional<Digest>& parent) {
  STRATA_ASSIGN(s, db_.Prepare("UPDATE images SET parent = ? WHERE id = ?"));
  s.BindOptional(1, OptionalStr(parent)).Bind(2, id.str());
  return s.Run();
}

Status Metadata::SetLastTagTime(const Digest& id, const std::string& time) {
  STRATA_ASSIGN(s, db_.Prepare("UPDATE images SET last_tag_time = ? WHERE id = ?"));
  s.Bind(1, time).Bind(2, id.str());
  return s.Run();
}

Result<std::vector<ImageRecord>> Metadata::ListImages() {
  STRATA_ASSIGN(s, db_.Prepare(std::string("SELECT ") + kImageColumns + " FROM images"));
  return CollectRows<ImageRecord>(s, ReadImage);
}

Result<std::vector<Digest>> Metadata::Children(const Digest& id) {
  STRATA_ASSIGN(s, db_.Prepare("SELECT id FROM images WHERE parent = ?"));
  s.Bind(1, id.str());
  std::vector<Digest> out;
  for (;;) {
    STRATA_ASSIGN(row, s.Step());
    if (!row) return out;
    STRATA_ASSIGN(child, ColumnDigest(s, 0, "image ID"));
    out.push_back(child);
  }
}

Status Metadata::DeleteImage(const Digest& id) {
  STRATA_ASSIGN(orphan, db_.Prepare("UPDATE images SET parent = NULL WHERE parent = ?"));
  orphan.Bind(1, id.str());
  STRATA_TRY(orphan.Run());
  STRATA_ASSIGN(s, db_.Prepare("DELETE FROM images WHERE id = ?"));
  s.Bind(1, id.str());
  return s.Run();
}

Result<std::vector<Digest>> Metadata::FindImagesByPrefix(const std::string& hex_prefix) {
  STRATA_ASSIGN(s, db_.Prepare("SELECT id FROM images WHERE substr(id, 8, ?) = ?"));
  s.Bind(1, static_cast<int64_t>(hex_prefix.size())).Bind(2, hex_prefix);
  std::vector<Digest> out;
  for (;;) {
    STRATA_ASSIGN(row, s.Step());
    if (!row) return out;
    STRATA_ASSIGN(id, ColumnDigest(s, 0, "image ID"));
    out.push_back(id);
  }
}

Result<std::optional<RefRecord>> Metadata::GetRef(const std::string& name) {
  STRATA_ASSIGN(s, db_.Prepare(std::string("SELECT ") + kRefColumns + " FROM refs WHERE name = ?"));
  s.Bind(1, name);
  STRATA_ASSIGN(row, s.Step());
  if (!row) return std::optional<RefRecord>();
  STRATA_ASSIGN(ref, ReadRef(s));
  return std::optional<RefRecord>(ref);
}

Status Metadata::PutRef(const RefRecord& r) {
  STRATA_ASSIGN(s, db_.Prepare("INSERT OR REPLACE INTO refs(name, repository, is_digest, image_id) "
                               "VALUES(?,?,?,?)"));
  s.Bind(1, r.name).Bind(2, r.repository).Bind(3, int64_t{r.is_digest}).Bind(4, r.image_id.str());
  return s.Run();
}

Status Metadata::DeleteRef(const std::string& name) {
  STRATA_ASSIGN(s, db_.Prepare("DELETE FROM refs WHERE name = ?"));
  s.Bind(1, name);
  return s.Run();
}

Result<std::vector<RefRecord>> Metadata::RefsForImage(const Digest& id) {
  STRATA_ASSIGN(s, db_.Prepare(std::string("SELECT ") + kRefColumns +
                               " FROM refs WHERE image_id = ? ORDER BY name"));
  s.Bind(1, id.str());
  return CollectRows<RefRecord>(s, ReadRef);
}

Result<std::vector<RefRecord>> Metadata::ListRefs() {
  STRATA_ASSIGN(s, db_.Prepare(std::string("SELECT ") + kRefColumns + " FROM refs ORDER BY name"));
  return CollectRows<RefRecord>(s, ReadRef);
}

// --- Manifests --------------------------------------------------------------------------------

Status Metadata::AddImageManifest(const ImageManifestRecord& m) {
  // Re-adding moves the row to the end, so the newest source is listed first.
  STRATA_ASSIGN(del, db_.Prepare("DELETE FROM image_manifests WHERE image_id = ? AND "
                                 "manifest_digest = ?"));
  del.Bind(1, m.image_id.str()).Bind(2, m.digest.str());
  STRATA_TRY(del.Run());
  STRATA_ASSIGN(s, db_.Prepare("INSERT INTO image_manifests(image_id, manifest_digest, "
                               "media_type) VALUES(?,?,?)"));
  s.Bind(1, m.image_id.str()).Bind(2, m.digest.str()).Bind(3, m.media_type);
  return s.Run();
}

namespace {

Result<std::vector<ImageManifestRecord>> ReadManifestRows(Statement& s) {
  std::vector<ImageManifestRecord> out;
  for (;;) {
    STRATA_ASSIGN(row, s.Step());
    if (!row) return out;
    STRATA_ASSIGN(image, ColumnDigest(s, 0, "manifest image ID"));
    STRATA_ASSIGN(digest, ColumnDigest(s, 1, "manifest digest"));
    out.push_back({image, digest, s.Text(2)});
  }
}

}  // namespace

Result<std::vector<ImageManifestRecord>> Metadata::ImageManifests(const Digest& image_id) {
  STRATA_ASSIGN(s, db_.Prepare("SELECT image_id, manifest_digest, media_type FROM "
                               "image_manifests WHERE image_id = ? ORDER BY rowid DESC"));
  s.Bind(1, image_id.str());
  return ReadManifestRows(s);
}

Result<std::vector<ImageManifestRecord>> Metadata::ListImageManifests() {
  STRATA_ASSIGN(s, db_.Prepare("SELECT image_id, manifest_digest, media_type FROM "
                               "image_manifests ORDER BY rowid"));
  return ReadManifestRows(s);
}

Status Metadata::DeleteImageManifests(const Digest& image_id) {
  STRATA_ASSIGN(s, db_.Prepare("DELETE FROM image_manifests WHERE image_id = ?"));
  s.Bind(1, image_id.str());
  return s.Run();
}

}  // namespace strata
