// The store's metadata in SQLite (WAL): layers, the compressed blobs known for each layer, images
// with their local Parent link, and references (tags and digests). Every change an operation makes
// goes into one Transaction, so a crash never leaves half an image. Blob bytes live in the
// ContentStore; rows here only name them.
//
// Domains. The database is shared by domains, each owning its tables: "images" (this file) and
// "registry" (the embedded registry, src/server/local_registry_storage.cc), later containers,
// volumes and the build cache. A domain's tables are created and upgraded by its ordered steps
// (SchemaDomain), and its version is kept in the table schema_domains. A domain keeps blobs alive
// by a view named gc_roots_<domain> with one column of digests: gc keeps, and fsck verifies, every
// blob such a view names, whichever strata wrote it, without knowing the domain. In the same way a
// domain keeps snapshots (unpacked layers, writable layers: snapshot/snapshotter.h) by a view
// gc_snapshots_<domain>(id): gc removes every snapshot directory no such view names. The images
// domain's view names the cache-ids of its unpacked layers.
//
// Versions. PRAGMA user_version is the version of the layout of domains itself: 1 for stores
// written before domains (every table created by this file), 2 since. Opening a store for writing
// upgrades it in place in one transaction; a store of a newer version than this strata knows is
// refused, read-only or not, rather than misread.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "store/sqlite.h"
#include "util/result.h"

namespace strata {

struct LayerRecord {
  Digest chain_id;
  Digest diff_id;
  std::optional<Digest> parent;  // chainID of the layer below
  int64_t size = 0;              // Docker's DiffSize (overlay2 rule), shown by history
  int64_t tar_size = 0;          // bytes of the uncompressed tar (the diffID blob)
  std::string cache_id;          // random; names the layer's snapshot when unpacked
  bool unpacked = false;
};

// A compressed (distribution) form of a layer that the store holds or has seen.
struct LayerBlob {
  Digest diff_id;
  Digest digest;
  std::string media_type;
  int64_t size = 0;
};

// A registry repository known to hold a blob (pulled from it or pushed to it), so a push can
// skip the upload after a HEAD, or mount the blob from a sibling repository of the same registry.
struct BlobSource {
  Digest digest;
  std::string registry;    // "127.0.0.1:5000", "docker.io"
  std::string repository;  // path in that registry: "library/busybox"
};

struct ImageRecord {
  Digest id;                        // sha256 of the config bytes
  std::optional<Digest> parent;     // local-only link (build, commit, load with Parent)
  std::optional<Digest> top_layer;  // chainID of the whole rootfs; none for zero layers
  int64_t added_at = 0;             // unix seconds when it entered this store
  std::optional<std::string> last_tag_time;
};

// A distribution manifest the store holds (as a blob) for an image: the exact bytes an import
// read, so that an export can write them again and keep the manifest digest.
struct ImageManifestRecord {
  Digest image_id;
  Digest digest;           // of the manifest bytes
  std::string media_type;  // application/vnd.oci.image.manifest.v1+json, ...
};

struct RefRecord {
  std::string name;        // full normalized reference: docker.io/library/busybox:latest
  std::string repository;  // docker.io/library/busybox
  bool is_digest = false;
  Digest image_id;
};

// A domain's share of the database. steps[i] is the SQL that takes the domain from version i to
// i+1 (so steps.size() is its current version); a step may create tables, indexes and the view
// gc_roots_<name>. Steps are only ever appended: a released step never changes.
struct SchemaDomain {
  std::string name;
  std::vector<std::string> steps;
};

// The metadata layout version this strata writes (PRAGMA user_version).
inline constexpr int64_t kMetadataVersion = 2;

class Metadata {
 public:
  static Result<Metadata> Open(const std::string& path);
  // An existing database, read without writing anything (see Database::OpenReadOnly).
  static Result<Metadata> OpenReadOnly(const std::string& path);

  // A transaction over the whole database (every domain): BEGIN IMMEDIATE, rolled back unless
  // committed.
  Result<Transaction> Begin() { return Transaction::Begin(db_); }
  // Write transactions committed since the store was opened (see Database::commits).
  int64_t commits() const { return db_.commits(); }

  // Creates or upgrades a domain's tables (in one transaction) and returns the connection its
  // own code uses for them. Other domains' tables are not its business.
  Result<Database*> OpenDomain(const SchemaDomain& domain);
  // The version recorded for a domain (0: not created in this store).
  Result<int64_t> DomainVersion(const std::string& name);
  // PRAGMA user_version of the open database.
  Result<int64_t> LayoutVersion();

  // Layers
  Result<std::optional<LayerRecord>> GetLayer(const Digest& chain_id);
  Status PutLayer(const LayerRecord& layer);  // no-op if the chainID exists
  Status SetLayerUnpacked(const Digest& chain_id, bool unpacked);
  Result<std::vector<LayerRecord>> ListLayers();
  Status DeleteLayer(const Digest& chain_id);
  Status AddLayerBlob(const LayerBlob& blob);
  Result<std::vector<LayerBlob>> LayerBlobs(const Digest& diff_id);
  Result<std::vector<LayerBlob>> ListLayerBlobs();
  Status DeleteLayerBlobs(const Digest& diff_id);
  // Any layer (of any chain) carrying this diffID; its size and tar size are the diffID's own.
  Result<std::optional<LayerRecord>> FindLayerByDiffId(const Digest& diff_id);

  // Where blobs were seen in registries (blob_sources).
  Status AddBlobSource(const BlobSource& source);                     // idempotent
  Result<std::vector<BlobSource>> BlobSources(const Digest& digest);  // oldest first

  // Images
  Result<std::optional<ImageRecord>> GetImage(const Digest& id);
  Status PutImage(const ImageRecord& image);  // keeps an existing row, updating nothing
  Status SetParent(const Digest& id, const std::optional<Digest>& parent);
  Status SetLastTagTime(const Digest& id, const std::string& time);
  Result<std::vector<ImageRecord>> ListImages();
  Result<std::vector<Digest>> Children(const Digest& id);
  Status DeleteImage(const Digest& id);  // also clears children's parent links
  // Images whose ID starts with the hex prefix.
  Result<std::vector<Digest>> FindImagesByPrefix(const std::string& hex_prefix);

  // References
  Result<std::optional<RefRecord>> GetRef(const std::string& name);
  Status PutRef(const RefRecord& ref);  // replaces
  Status DeleteRef(const std::string& name);
  Result<std::vector<RefRecord>> RefsForImage(const Digest& id);
  Result<std::vector<RefRecord>> ListRefs();

  // Manifests (image_manifests). gc must keep the manifest blobs of live images.
  Status AddImageManifest(const ImageManifestRecord& manifest);  // idempotent; newest first
  Result<std::vector<ImageManifestRecord>> ImageManifests(const Digest& image_id);  // newest first
  Result<std::vector<ImageManifestRecord>> ListImageManifests();

  // Every blob another domain keeps alive: the rows of the gc_roots_* views (see above).
  struct GcRoot {
    std::string domain;  // "registry" for gc_roots_registry
    Digest digest;
  };
  Result<std::vector<GcRoot>> DomainGcRoots();
  // Every snapshot a domain keeps: the rows of the gc_snapshots_* views (see above).
  struct SnapshotRoot {
    std::string domain;  // "images" for gc_snapshots_images
    std::string id;
  };
  Result<std::vector<SnapshotRoot>> DomainSnapshotRoots();
  Status DeleteImageManifests(const Digest& image_id);

 private:
  explicit Metadata(Database db) : db_(std::move(db)) {}
  Database db_;
};

}  // namespace strata
