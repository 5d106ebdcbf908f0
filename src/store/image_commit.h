// Adding images to the store: the one ingest every importer uses, and tagging.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "digest/digest.h"
#include "layer/layer_stage.h"
#include "oci/manifest.h"
#include "reference/reference.h"
#include "store/store.h"
#include "util/result.h"

namespace strata {

// The one way images enter the store. Every importer (pull, load, copy into the store, OCI
// archives, migrate, import) stages its layers and hands the result to IngestImages, which
//   1. checks, once, that each image's config, manifest and staged layers agree (the diffIDs the
//      config lists, the layer count, the blobs the manifest names, the diffID each staged layer
//      hashed to);
//   2. makes the staged blobs visible: layer tars, compressed layer blobs, configs, manifests;
//   3. records layers (by chainID), which compressed blob carries which diffID, images, parent
//      links, tags, manifests and pull sources in ONE metadata transaction.
// A failure before that transaction commits leaves only unreferenced blobs, which gc removes; the
// store's view (images, tags) never shows half an image.

struct IngestLayer {
  // The staged layer carrying this diffID, or null when the store already has the chain up to it
  // (or an earlier image of the same call records it).
  StagedLayer* staged = nullptr;
  // The blob the image's manifest names for this layer. When it is not the layer tar itself (a
  // compressed blob), the store records that it carries the diffID.
  std::optional<Descriptor> blob;
  // That blob as received, staged and not yet visible: committed (or dropped when the store has
  // it) and emptied. May be shared by layers that repeat a blob.
  std::optional<BlobWriter>* blob_writer = nullptr;
  // Where the layer came from, for errors: "blob sha256:…", "\"abc/layer.tar\"".
  std::string origin;
};

struct IngestManifest {
  std::string bytes;  // exact bytes: recorded as the image's manifest, re-served byte for byte
  std::string media_type;
};

struct IngestImage {
  std::string config_bytes;                // exact bytes; the image ID is their sha256
  std::vector<IngestLayer> layers;         // one per diffID of the config, bottom to top
  std::optional<IngestManifest> manifest;  // when the image came with one (pull, copy, OCI)
  std::optional<Digest> parent;            // a local parent image (docker's Parent)
  std::vector<Reference> tags;             // references (tags or digests) to point at this image
  // The repository the image was pulled from: its config and layer blobs are recorded as
  // available there, so a push elsewhere can mount them.
  std::optional<Reference> source;
  // What lists the layers, for errors: "manifest sha256:…", "manifest.json".
  std::string listed_by = "the image";
};

struct CommitEvent {
  enum Kind { kTagMoved } kind;
  std::string tag;  // familiar form
  Digest old_image;
};

struct IngestResult {
  std::vector<Digest> image_ids;  // one per image, in order
  // The tags that moved away from another image, for "renaming the old one" messages.
  std::vector<CommitEvent> events;
};

Result<IngestResult> IngestImages(Store& store, std::vector<IngestImage>& images);

// The checks of step 1 alone, for an importer that wants them before it fetches the layers
// (layers not staged yet are skipped). Returns the config's diffIDs.
Result<std::vector<Digest>> CheckIngestImage(const IngestImage& image);

// The diffID check on its own (kCorrupt), for an importer that fails a layer as soon as it is
// staged: layer `index` of an image, from `origin`, hashed to `actual` where the config names
// `expected`.
Status CheckLayerDiffId(size_t index, const std::string& origin, const Digest& expected,
                        const Digest& actual);

// Points `refs` (tags or digest references) at an image already in the store, in one
// transaction, stamping its LastTagTime when one changed. Returns the tags that moved away from
// another image.
Result<std::vector<CommitEvent>> AddReferences(Store& store, const Digest& image_id,
                                               const std::vector<Reference>& refs);

// `docker tag`: refuses a digest reference and a name that is a digest algorithm ("sha256"), as
// docker's reference store does (kInvalidArgument), then points the tag at the image and stamps
// its LastTagTime even when the tag was already there.
Result<std::vector<CommitEvent>> TagImage(Store& store, const Digest& image_id,
                                          const Reference& tag);

// Records one tag (or digest) reference. Used by tag, load, import.
Status PutReference(Metadata& metadata, const Reference& ref, const Digest& image_id);

// Current time as Go's RFC3339Nano in UTC (for lastUpdated-style stamps).
std::string NowRfc3339Nano();

}  // namespace strata
