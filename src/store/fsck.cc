#include "store/fsck.h"

#include <map>
#include <set>

#include "image/chain_id.h"
#include "image/image_config.h"
#include "reference/reference.h"
#include "store/image_delete.h"
#include "store/layer_content.h"

namespace strata {
namespace {

std::string Familiar(const std::string& name) {
  auto parsed = ParseReference(name);
  return parsed ? parsed->FamiliarString() : name;
}

// What to run to get a removed image back: a pull of the reference it came from (a tag or
// digest of the repository its config was pulled from or pushed to), else a load.
Result<std::string> RecoveryHint(Metadata& md, const Digest& id,
                                 const std::vector<RefRecord>& refs) {
  STRATA_ASSIGN(sources, md.BlobSources(id));
  STRATA_ASSIGN(manifests, md.ImageManifests(id));
  for (const BlobSource& source : sources) {
    auto repo = ParseNormalizedNamed(source.registry + "/" + source.repository);
    if (!repo) continue;
    const std::string name = repo->Name();
    std::optional<std::string> digest_ref;
    for (const RefRecord& r : refs) {
      if (r.repository != name) continue;
      if (!r.is_digest) return "strata pull " + Familiar(r.name);
      digest_ref = r.name;
    }
    if (digest_ref) return "strata pull " + Familiar(*digest_ref);
    if (!manifests.empty()) {
      return "strata pull " +
             repo->NameOnly().WithDigest(manifests.front().digest).FamiliarString();
    }
  }
  return std::string("re-load it from the archive it came from (strata load -i FILE)");
}

// "removed damaged image sha256:... (busybox:latest, busybox:1.36); to get it back: ..."
Result<std::string> DescribeRemoval(Metadata& md, const Digest& id,
                                    const std::vector<RefRecord>& refs) {
  std::string tags;
  for (const RefRecord& r : refs) {
    if (r.is_digest) continue;
    tags += (tags.empty() ? "" : ", ") + Familiar(r.name);
  }
  STRATA_ASSIGN(hint, RecoveryHint(md, id, refs));
  return "removed damaged image " + id.str() + " (" + (tags.empty() ? "untagged" : tags) +
         "); to get it back: " + hint;
}

}  // namespace

Result<FsckReport> CheckStore(Store& store, bool repair) {
  STRATA_ASSIGN(lock, store.LockExclusive());
  Metadata& md = store.metadata();
  ContentStore& content = store.content();
  FsckReport report;
  std::set<Digest> verified;
  std::set<Digest> bad_blobs;
  auto verify = [&](const Digest& d, const std::string& what) {
    if (verified.count(d)) return !bad_blobs.count(d);
    verified.insert(d);
    ++report.blobs_checked;
    auto size = content.Size(d);
    auto st = content.Verify(d);
    if (!st) {
      report.problems.push_back(what + ": " + st.error().message);
      bad_blobs.insert(d);
      return false;
    }
    report.bytes_checked += size ? *size : 0;
    return true;
  };

  STRATA_ASSIGN(layers, md.ListLayers());
  std::map<Digest, const LayerRecord*> by_chain;
  for (const LayerRecord& l : layers) by_chain[l.chain_id] = &l;
  std::set<Digest> bad_chains;
  // A layer kept only in compressed form is checked by decompressing it against its diffID.
  auto verify_layer = [&](const LayerRecord& l) {
    if (content.Exists(l.diff_id)) return verify(l.diff_id, "layer " + l.chain_id.str());
    if (verified.count(l.diff_id)) return !bad_blobs.count(l.diff_id);
    verified.insert(l.diff_id);
    ++report.blobs_checked;
    auto reader = OpenLayerTar(store, l.diff_id);
    auto bytes = reader ? Drain(**reader) : tl::unexpected(reader.error());
    if (!bytes) {
      report.problems.push_back("layer " + l.chain_id.str() + ": " + bytes.error().message);
      bad_blobs.insert(l.diff_id);
      return false;
    }
    report.bytes_checked += *bytes;
    return true;
  };
  for (const LayerRecord& l : layers) {
    if (!verify_layer(l)) bad_chains.insert(l.chain_id);
    if (l.parent && !by_chain.count(*l.parent)) {
      report.problems.push_back("layer " + l.chain_id.str() + ": parent layer " + l.parent->str() +
                                " is missing");
      bad_chains.insert(l.chain_id);
    }
  }
  STRATA_ASSIGN(layer_blobs, md.ListLayerBlobs());
  for (const LayerBlob& b : layer_blobs) {
    if (content.Exists(b.digest)) verify(b.digest, "compressed blob of layer " + b.diff_id.str());
  }

  STRATA_ASSIGN(roots, md.DomainGcRoots());
  for (const Metadata::GcRoot& root : roots) {
    const Digest& d = root.digest;
    if (!content.Exists(d)) {
      report.problems.push_back(root.domain + " blob " + d.str() + " is missing");
    } else {
      verify(d, root.domain + " blob");
    }
  }

  STRATA_ASSIGN(images, md.ListImages());
  std::vector<Digest> broken_images;
  for (const ImageRecord& image : images) {
    const std::string what = "image " + image.id.str();
    if (!verify(image.id, what + " config")) {
      broken_images.push_back(image.id);
      continue;
    }
    auto bytes = content.ReadVerified(image.id);
    auto config = bytes ? ImageConfig::Parse(*bytes) : tl::unexpected(bytes.error());
    if (!config) {
      report.problems.push_back(what + ": " + config.error().message);
      broken_images.push_back(image.id);
      continue;
    }
    std::vector<Digest> chain = ChainIds(config->diff_ids());
    bool ok = true;
    for (const Digest& c : chain) {
      if (!by_chain.count(c)) {
        report.problems.push_back(what + ": layer " + c.str() + " is missing");
        ok = false;
      } else if (bad_chains.count(c)) {
        report.problems.push_back(what + ": layer " + c.str() + " is damaged");
        ok = false;
      }
    }
    std::optional<Digest> top = chain.empty() ? std::nullopt : std::optional<Digest>(chain.back());
    if (top != image.top_layer) {
      report.problems.push_back(what + ": recorded top layer does not match its config");
      ok = false;
    }
    if (!ok) broken_images.push_back(image.id);
  }
  std::set<Digest> image_ids;
  for (const ImageRecord& image : images) image_ids.insert(image.id);
  STRATA_ASSIGN(refs, md.ListRefs());
  std::vector<std::string> dangling_refs;
  for (const RefRecord& r : refs) {
    if (!image_ids.count(r.image_id)) {
      report.problems.push_back("reference " + r.name + " points to missing image " +
                                r.image_id.str());
      dangling_refs.push_back(r.name);
    }
  }

  if (repair) {
    STRATA_ASSIGN(tx, md.Begin());
    for (const std::string& name : dangling_refs) {
      STRATA_TRY(md.DeleteRef(name));
      report.repairs.push_back("removed reference " + name);
    }
    for (const Digest& id : broken_images) {
      STRATA_ASSIGN(image_refs, md.RefsForImage(id));
      STRATA_ASSIGN(removal, DescribeRemoval(md, id, image_refs));
      for (const RefRecord& r : image_refs) STRATA_TRY(md.DeleteRef(r.name));
      STRATA_TRY(md.DeleteImageManifests(id));
      STRATA_TRY(md.DeleteImage(id));
      report.repairs.push_back(removal);
    }
    for (const Digest& c : bad_chains) {
      STRATA_TRY(md.DeleteLayer(c));
      report.repairs.push_back("removed damaged layer " + c.str());
    }
    STRATA_TRY(tx.Commit());
    for (const Digest& d : bad_blobs) STRATA_TRY(content.Delete(d));
    STRATA_ASSIGN(gc, CollectGarbage(store));
    for (const std::string& line : gc.lines) report.repairs.push_back(line);
  }
  return report;
}

}  // namespace strata
