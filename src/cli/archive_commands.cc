// load, save, import.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "cli/layer_progress_view.h"
#include "store/image_import.h"
#include "store/layer_unpack.h"
#include "transport/docker_archive_load.h"
#include "transport/docker_archive_save.h"
#include "transport/oci_archive.h"
#include "transport/oci_archive_store.h"
#include "util/cancel.h"
#include "util/file.h"

namespace strata::cli {
namespace {

struct LoadOptions {
  std::string input;
  bool quiet = false;
  bool unpack = false;
};

void RunLoad(GlobalOptions& g, const LoadOptions& o) {
  auto store = OpenStoreOrReport(g);
  if (!store) return;
  UniqueFd fd;
  if (!o.input.empty() && o.input != "-") {
    auto opened = OpenRead(o.input);
    if (!opened) return ReportError(g, opened.error());
    fd = std::move(*opened);
  } else if (::isatty(0)) {
    return ReportError(g, "requested load from stdin, but stdin is empty");
  }
  // docker load's "Loading layer" bars, on a terminal only.
  LayerProgressView view(stdout, /*push=*/false, o.quiet);
  strata::LoadOptions options{.unpack = o.unpack, .progress = nullptr};
  if (view.terminal()) options.progress = view.BytesCallback("Loading layer");
  // An OCI archive without Docker's manifest.json goes to the OCI loader.
  auto report = LoadArchiveFd(*store, fd ? fd.get() : 0, fd ? o.input : "stdin", options);
  if (!report) return ReportError(g, report.error());
  if (o.unpack) {
    UnpackLosses losses = report->unpack_losses;
    for (const LoadedImage& image : report->images) {
      auto unpacked = UnpackImage(*store, image.id);
      if (!unpacked) return ReportError(g, unpacked.error());
      losses.Add(unpacked->losses);
    }
    if (losses.any()) std::cerr << "warning: " << DescribeUnpackLosses(losses) << "\n";
  }
  if (o.quiet) return;
  for (const std::string& m : report->messages) std::cout << m << "\n";
  for (const LoadedImage& image : report->images) {
    if (image.tags.empty()) {
      std::cout << "Loaded image ID: " << image.id.str() << "\n";
    }
    for (const std::string& tag : image.tags) std::cout << "Loaded image: " << tag << "\n";
  }
}

struct SaveOptions {
  std::string output;
  std::string format = "docker";
  std::vector<std::string> images;
};

// Per-layer bars on stderr when it is a terminal (stdout may be the archive).
Status SaveArchive(Store& store, const SaveOptions& o, const std::vector<SaveRequest>& requests,
                   Writer& out) {
  LayerProgressView view(stderr, /*push=*/false, /*quiet=*/false);
  BlobProgressFn progress;
  if (view.terminal()) progress = view.BytesCallback("Saving layer");
  if (o.format == "oci") return SaveOciArchive(store, requests, out, progress);
  return SaveDockerArchive(store, requests, out, progress);
}

void RunSave(GlobalOptions& g, const SaveOptions& o) {
  auto store = OpenStoreOrReport(g, StoreAccess::kReadOnly);
  if (!store) return;
  auto requests = ResolveSaveArguments(*store, o.images);
  if (!requests) return ReportError(g, requests.error());
  if (o.output.empty() || o.output == "-") {
    if (::isatty(1)) {
      return ReportError(g, "cowardly refusing to save to a terminal. Use the -o flag or redirect");
    }
    FdWriter out(1, "stdout");
    auto st = SaveArchive(*store, o, *requests, out);
    if (!st) ReportError(g, st.error());
    return;
  }
  // Written beside the target and renamed, so a failed save never leaves a partial archive.
  std::string temp = o.output + ".strata-tmp-" + RandomHexId().substr(0, 8);
  int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  // The temporary name is ours; the error names the path the user gave.
  if (fd < 0) return ReportError(g, "open " + o.output + ": " + std::strerror(errno));
  UniqueFd owned(fd);
  FdWriter out(fd, o.output);
  auto st = SaveArchive(*store, o, *requests, out);
  if (st && ::fsync(fd) != 0) st = Fail("fsync " + o.output + ": " + std::strerror(errno));
  if (st && ::rename(temp.c_str(), o.output.c_str()) != 0) {
    st = Fail("rename to " + o.output + ": " + std::strerror(errno));
  }
  if (!st) {
    ::unlink(temp.c_str());
    return ReportError(g, st.error());
  }
}

struct ImportArgs {
  std::string source;
  std::string reference;
  std::vector<std::string> changes;
  std::string message;
};

void RunImport(GlobalOptions& g, const ImportArgs& a) {
  auto store = OpenStoreOrReport(g);
  if (!store) return;
  ImportRequest request{
      .source = a.source, .reference = a.reference, .changes = a.changes, .message = a.message};
  auto id = ImportImage(*store, request);
  if (!id) return ReportError(g, id.error());
  std::cout << id->str() << "\n";
}

}  // namespace

void RegisterArchiveCommands(CLI::App& app, GlobalOptions& g) {
  auto load = std::make_shared<LoadOptions>();
  auto* l = app.add_subcommand("load", "Load images from a tar archive or STDIN");
  l->add_option("-i,--input", load->input, "Read from tar archive file, instead of STDIN");
  l->add_flag("-q,--quiet", load->quiet, "Suppress the load output");
  l->add_flag("--unpack", load->unpack,
              "Also unpack every layer into the store, ready to run (as docker load leaves them)");
  l->callback([&g, load] { RunLoad(g, *load); });

  auto save = std::make_shared<SaveOptions>();
  auto* s = app.add_subcommand("save", "Save one or more images to a tar archive");
  s->add_option("-o,--output", save->output, "Write to a file, instead of STDOUT");
  s->add_option("--format", save->format,
                "docker: docker-archive (default); oci: oci-archive (a tar of an OCI layout)")
      ->check(CLI::IsMember({"docker", "oci"}));
  s->add_option("IMAGE", save->images)->required();
  s->callback([&g, save] { RunSave(g, *save); });

  auto import = std::make_shared<ImportArgs>();
  auto* i = app.add_subcommand("import", "Create an image from a tarball or a directory");
  i->add_option("SOURCE", import->source, "File, directory, or - for STDIN")->required();
  i->add_option("REPOSITORY", import->reference, "REPOSITORY[:TAG]");
  i->add_option("-c,--change", import->changes, "Apply Dockerfile instruction to the image");
  i->add_option("-m,--message", import->message, "Set commit message for imported image");
  i->callback([&g, import] { RunImport(g, *import); });
}

}  // namespace strata::cli
