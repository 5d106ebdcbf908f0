#include "transport/image_copy.h"

#include <memory>

#include "oci/platform.h"
#include "reference/reference.h"
#include "store/image_commit.h"
#include "store/image_lookup.h"
#include "transport/dir_transport.h"
#include "transport/docker_archive_load.h"
#include "transport/docker_archive_save.h"
#include "transport/oci_archive.h"
#include "transport/oci_layout.h"
#include "transport/store_transport.h"

namespace strata {
namespace {

struct TransportPrefix {
  std::string_view prefix;
  Transport transport;
};

constexpr TransportPrefix kTransports[] = {
    {"docker-archive:", Transport::kDockerArchive},
    {"oci-archive:", Transport::kOciArchive},
    {"oci:", Transport::kOci},
    {"dir:", Transport::kDir},
    {"strata:", Transport::kStore},
    {"docker://", Transport::kDocker},
};

constexpr std::string_view kUnsupported[] = {
    "docker-daemon:", "containers-storage:", "sif:", "tarball:", "ostree:",
};

// The tag a store or docker-archive REF names ("busybox" means busybox:latest).
Result<Reference> TagReference(const std::string& text) {
  auto ref = ParseNormalizedNamed(text);
  if (!ref) return Wrap("invalid reference \"" + text + "\"", ref.error());
  if (ref->digest()) return Fail("cannot tag an image with a digest reference \"" + text + "\"");
  return TagNameOnly(*ref);
}

// An image in a store (the local one, or a scratch store holding a loaded docker-archive) and
// the tags it goes by there.
struct StoreImage {
  Store* store = nullptr;
  std::optional<Digest> id;
  std::vector<Reference> tags;
};

struct OpenedSource {
  std::unique_ptr<ScratchDir> scratch;  // scratch store of a docker-archive
  std::unique_ptr<Store> scratch_store;
  StoreImage image;  // set when the image lives in a store
  std::unique_ptr<ImageSource> source;
};

Result<OpenedSource> OpenSource(Store* store, const ImageName& from, RegistryOpener* registries,
                                const std::optional<Platform>& platform) {
  OpenedSource out;
  switch (from.transport) {
    case Transport::kDocker: {
      if (registries == nullptr) return Fail("docker:// is not available here");
      STRATA_ASSIGN(source, registries->OpenSource(from.ref, platform));
      out.source = std::move(source);
      return out;
    }
    case Transport::kStore: {
      STRATA_ASSIGN(id, ResolveImage(*store, from.ref));
      out.image = {store, id, {}};
      auto any = ParseAnyReference(from.ref);
      if (any && std::holds_alternative<Reference>(*any)) {
        const Reference& ref = std::get<Reference>(*any);
        if (!ref.digest()) out.image.tags.push_back(TagNameOnly(ref));
      }
      return out;
    }
    case Transport::kDockerArchive: {
      STRATA_ASSIGN(scratch, ScratchDir::Create("docker-archive"));
      STRATA_ASSIGN(scratch_store, Store::Open(scratch->path() + "/store"));
      STRATA_ASSIGN(reader, OpenFileReader(from.path));
      auto report = LoadDockerArchive(*scratch_store, *reader);
      if (!report) return Wrap("docker-archive:" + from.path, report.error());
      StoreImage image{scratch_store.get(), std::nullopt, {}};
      if (!from.ref.empty()) {
        auto id = ResolveImage(*scratch_store, from.ref);
        if (!id) {
          return Fail("docker-archive:" + from.path + " has no image \"" + from.ref + "\"");
        }
        image.id = *id;
        STRATA_ASSIGN(tag, TagReference(from.ref));
        image.tags.push_back(tag);
      } else if (report->images.size() == 1) {
        image.id = report->images[0].id;
        for (const std::string& t : report->images[0].tags) {
          STRATA_ASSIGN(tag, TagReference(t));
          image.tags.push_back(tag);
        }
      } else {
        return Fail("docker-archive:" + from.path + " holds " +
                    std::to_string(report->images.size()) +
                    " images; name one as docker-archive:PATH:REF");
      }
      out.scratch = std::move(scratch);
      out.scratch_store = std::move(scratch_store);
      out.image = std::move(image);
      return out;
    }
    case Transport::kOci: {
      STRATA_ASSIGN(source, OciLayoutSource::Open(from.path, from.ref, platform));
      out.source = std::move(source);
      return out;
    }
    case Transport::kOciArchive: {
      STRATA_ASSIGN(source, OciArchiveSource::Open(from.path, from.ref, platform));
      out.source = std::move(source);
      return out;
    }
    case Transport::kDir: {
      STRATA_ASSIGN(source, DirSource::Open(from.path, platform));
      out.source = std::move(source);
      return out;
    }
  }
  return Fail("unknown transport");
}

// Progress lines for an image written by docker save (which has no manifest to walk).
Status SayDockerSave(const StoreImage& image, const ProgressFn& progress) {
  if (!progress) return {};
  STRATA_ASSIGN(config, LoadImageConfig(*image.store, *image.id));
  for (const Digest& d : config.diff_ids()) progress("Copying blob " + d.str());
  progress("Copying config " + image.id->str());
  progress("Writing manifest to image destination");
  return {};
}

Status WriteDockerArchive(const StoreImage& image, const std::vector<Reference>& tags,
                          const std::string& path) {
  STRATA_ASSIGN(file, AtomicFile::Create(path));
  std::vector<SaveRequest> requests{{*image.id, tags}};
  STRATA_TRY(SaveDockerArchive(*image.store, requests, *file));
  return file->Commit();
}

}  // namespace

Result<ImageName> ParseImageName(std::string_view text) {
  for (std::string_view bad : kUnsupported) {
    if (text.starts_with(bad)) {
      return Fail(ErrorCode::kInvalidArgument,
                  "unsupported transport \"" + std::string(bad.substr(0, bad.size() - 1)) +
                      "\" in \"" + std::string(text) +
                      "\" (strata copies docker-archive:, oci:, oci-archive:, dir: and its store)");
    }
  }
  if (text.find("://") != std::string_view::npos && !text.starts_with("docker://")) {
    return Fail(ErrorCode::kInvalidArgument,
                "unsupported transport in \"" + std::string(text) + "\"");
  }
  for (const TransportPrefix& t : kTransports) {
    if (!text.starts_with(t.prefix)) continue;
    std::string rest(text.substr(t.prefix.size()));
    ImageName name{t.transport, "", ""};
    if (t.transport == Transport::kStore || t.transport == Transport::kDocker) {
      name.ref = rest;
    } else if (t.transport == Transport::kDir) {
      name.path = rest;
    } else {
      auto colon = rest.find(':');
      name.path = rest.substr(0, colon);
      if (colon != std::string::npos) name.ref = rest.substr(colon + 1);
    }
    if (t.transport == Transport::kDocker && name.ref.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "\"" + std::string(text) + "\": docker:// needs an image name");
    }
    if (t.transport != Transport::kStore && t.transport != Transport::kDocker &&
        name.path.empty()) {
      return Fail(ErrorCode::kInvalidArgument,
                  "\"" + std::string(text) + "\": " + std::string(t.prefix) + " needs a path");
    }
    return name;
  }
  if (text.empty()) return Fail(ErrorCode::kInvalidArgument, "empty image name");
  return ImageName{Transport::kStore, "", std::string(text)};
}

Result<CopyResult> CopyImage(Store* store, const ImageName& from, const ImageName& to,
                             const ProgressFn& progress, RegistryOpener* registries,
                             const CopyOptions& options) {
  const bool from_store = from.transport == Transport::kStore;
  const bool to_store = to.transport == Transport::kStore;
  if ((from_store || to_store) && store == nullptr) return Fail("no store to copy from or to");
  if (from_store && from.ref.empty()) return Fail("strata: needs an image name to copy from");
  CopyResult result;

  if (from_store && to_store) {  // within the store: a tag
    STRATA_ASSIGN(lock, store->LockShared());
    STRATA_ASSIGN(id, ResolveImage(*store, from.ref));
    if (!to.ref.empty()) {
      STRATA_ASSIGN(tag, TagReference(to.ref));
      STRATA_TRY(PutReference(store->metadata(), tag, id));
    }
    result.image_id = id;
    return result;
  }

  // With --all every image of an index is copied: any one may stand for the source's image.
  STRATA_ASSIGN(opened,
                OpenSource(store, from, registries,
                           options.all ? std::optional<Platform>(kAnyPlatform) : options.platform));
  std::optional<ManifestBlob> index;
  if (options.all && opened.source) {
    STRATA_ASSIGN(top, opened.source->GetIndex());
    index = std::move(top);
  }
  if (index && (to.transport == Transport::kStore || to.transport == Transport::kDockerArchive ||
                to.transport == Transport::kDir)) {
    return Fail("copy --all: the source is a multi-platform index, which " +
                std::string(to.transport == Transport::kStore ? "the store"
                            : to.transport == Transport::kDir ? "dir:"
                                                              : "docker-archive:") +
                " cannot hold; copy one platform's image (without --all, --platform to choose)");
  }
  const ManifestChoice choice =
      to.transport == Transport::kDir ? ManifestChoice::kAny : ManifestChoice::kOci;

  if (to.transport == Transport::kDockerArchive) {
    std::vector<Reference> tags;
    if (!to.ref.empty()) {
      STRATA_ASSIGN(tag, TagReference(to.ref));
      tags.push_back(tag);
    } else {
      tags = opened.image.tags;
    }
    StoreImage image = opened.image;
    std::unique_ptr<ScratchDir> scratch;
    std::unique_ptr<Store> scratch_store;
    if (image.store != nullptr) {
      STRATA_TRY(SayDockerSave(image, progress));
    } else {
      // Load the image into a scratch store (verifying it), then docker-save it from there.
      STRATA_ASSIGN(dir, ScratchDir::Create("docker-archive"));
      STRATA_ASSIGN(s, Store::Open(dir->path() + "/store"));
      STRATA_ASSIGN(destination, StoreImageDestination::Open(*s, {}));
      STRATA_TRY(TransferImage(*opened.source, *destination, progress, options.blob_progress));
      STRATA_TRY(destination->Commit());
      image = StoreImage{s.get(), destination->image_id(), {}};
      scratch = std::move(dir);
      scratch_store = std::move(s);
    }
    STRATA_TRY(WriteDockerArchive(image, tags, to.path));
    return result;
  }

  std::unique_ptr<ImageSource> source = std::move(opened.source);
  if (opened.image.store != nullptr) {
    STRATA_ASSIGN(s, StoreImageSource::Open(*opened.image.store, *opened.image.id, choice));
    source = std::move(s);
  }

  if (to_store) {
    std::vector<Reference> tags;
    if (!to.ref.empty()) {
      STRATA_ASSIGN(tag, TagReference(to.ref));
      tags.push_back(tag);
    }
    STRATA_ASSIGN(destination, StoreImageDestination::Open(*store, tags));
    STRATA_TRY(TransferImage(*source, *destination, progress, options.blob_progress));
    STRATA_TRY(destination->Commit());
    result.image_id = destination->image_id();
    for (const CommitEvent& ev : destination->events()) {
      result.messages.push_back("The image " + ev.tag +
                                " already exists, renaming the old one with ID " +
                                ev.old_image.str() + " to empty string");
    }
    return result;
  }

  std::unique_ptr<ImageDestination> destination;
  switch (to.transport) {
    case Transport::kOci: {
      STRATA_ASSIGN(d, OciLayoutDestination::Open(to.path, to.ref));
      destination = std::move(d);
      break;
    }
    case Transport::kOciArchive: {
      STRATA_ASSIGN(d, OciArchiveDestination::Open(to.path, to.ref));
      destination = std::move(d);
      break;
    }
    case Transport::kDir: {
      STRATA_ASSIGN(d, DirDestination::Open(to.path));
      destination = std::move(d);
      break;
    }
    case Transport::kDocker: {
      if (registries == nullptr) return Fail("docker:// is not available here");
      STRATA_ASSIGN(d, registries->OpenDestination(to.ref));
      destination = std::move(d);
      break;
    }
    default:
      return Fail("unknown destination transport");
  }
  if (index) {
    STRATA_TRY(TransferIndex(*source, *index, *destination, progress, options.blob_progress));
  } else {
    STRATA_TRY(TransferImage(*source, *destination, progress, options.blob_progress));
  }
  STRATA_TRY(destination->Commit());
  return result;
}

}  // namespace strata
