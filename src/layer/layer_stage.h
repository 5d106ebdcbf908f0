// Staging a layer: one streaming pass over a (possibly compressed) layer that decompresses it,
// writes the uncompressed tar into the content store (named by its diffID), hashes it, parses
// every tar header to compute Docker's layer size and to refuse entries that would escape the
// root. Nothing becomes visible until the caller commits the staged blob.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "archive/dir_tar.h"
#include "archive/tar_writer.h"
#include "archive/unpack.h"
#include "content/content_store.h"
#include "digest/digest.h"
#include "util/io.h"
#include "util/result.h"

namespace strata {

struct StagedLayer {
  Digest diff_id;                  // sha256 of the uncompressed tar
  uint64_t tar_size = 0;           // bytes of the uncompressed tar
  int64_t size = 0;                // Docker overlay2 DiffSize of the layer's own files
  std::string compression;         // "none", "gzip", "zstd": what the input was
  std::optional<BlobWriter> blob;  // finished, not yet committed; empty once committed
  // Where the layer was unpacked while staged (see StageOptions); emptied once it is moved into
  // place by a commit, after which another chain using the same layer unpacks it again.
  std::string unpacked_dir;
  UnpackLosses unpack_losses;  // what unpacking it unprivileged could not reproduce
};

struct StageOptions {
  // When set, the layer is also unpacked into this (new) directory on a second thread, from the
  // same pass over the input, in the form of an overlayfs lower directory (a snapshot's staging
  // directory: WhiteoutForm::kOverlay, archive/unpack.h).
  std::string unpack_dir;
  // When false the tar is hashed and checked but not stored: the caller keeps the layer's
  // compressed form instead (see store/layer_content.h).
  bool store_tar = true;
  // With unpack_dir: once the first 16 MiB of the tar show the layer to be cheap to unpack (few
  // entries per MiB, so the unpacking thread idles), the staging thread and the unpacking one
  // lower their CPU priority (nice +5), and a layer of many small files, whose unpacking is the
  // slow part of a pull, gets the cores first. Only for a calling thread that ends with the
  // layer: without privilege the priority cannot be raised again.
  bool yield_if_cheap = false;
  // For StageLayerBlob (transport/store_transport.h) of a compressed blob: when reading the input
  // fails (a broken download, a cancelled pull), the bytes received so far are kept at this path
  // (ContentStore::PartialPath) instead of being removed, so that a later attempt continues.
  std::string partial_path;
};

Result<StagedLayer> StageLayer(const ContentStore& content, Reader& input,
                               const StageOptions& options = {});

// Stages the tar that `produce` writes (it must not Close() the writer): the producer runs on a
// second thread and feeds this one through a pipe, so the tar is never materialised.
Result<StagedLayer> StageProducedTar(const ContentStore& content, const std::string& what,
                                     const std::function<Status(TarWriter&)>& produce);

// Stages a directory tree as Docker archives it (archive/dir_tar.h): a writer thread produces the
// tar through a pipe while this thread stages it, so the layer is never materialised twice.
Result<StagedLayer> StageDirectory(const ContentStore& content, const std::string& dir,
                                   const DirTarOptions& tar_options);

// Makes the staged blob visible in the content store (a no-op if the diffID is already there).
Status CommitStagedLayer(const ContentStore& content, StagedLayer& layer);

}  // namespace strata
