// load, save, import.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <iostream>
#include <optional>

#include "cli/commands.h"
#include "cli/layer_progress_view.h"
#include "engine/archive.h"
#include "util/file.h"

namespace strata::cli {
namespace {

struct LoadOptions {
  std::string input;
  bool quiet = false;
  bool unpack = false;
};

void RunLoad(GlobalOptions& g, const LoadOptions& o) {
  auto engine = CreateEngine(g);
  if (auto store = engine->store(); !store) return ReportError(g, store.error());
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
  ImageLoadEvents events;
  if (view.terminal()) events.layer_progress = view.BytesCallback("Loading layer");
  ImageLoadRequest request{
      .fd = fd ? fd.get() : 0, .name = fd ? o.input : "stdin", .unpack = o.unpack};
  auto report = ImageLoad(*engine, request, events);
  if (!report) return ReportError(g, report.error());
  if (report->unpack_losses.any()) {
    std::cerr << "warning: " << DescribeUnpackLosses(report->unpack_losses) << "\n";
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

// Where a save goes: stdout (never a terminal), or a temporary file beside -o's path that
// Commit renames into place, so a failed save never leaves a partial archive.
class SaveOutput {
 public:
  explicit SaveOutput(std::string path) : path_(std::move(path)) {}
  ~SaveOutput() {
    if (!temp_.empty()) ::unlink(temp_.c_str());
  }

  Result<Writer*> Open() {
    if (path_.empty() || path_ == "-") {
      if (::isatty(1)) {
        return Fail("cowardly refusing to save to a terminal. Use the -o flag or redirect");
      }
      writer_.emplace(1, "stdout");
      return &*writer_;
    }
    std::string temp = path_ + ".strata-tmp-" + RandomHexId().substr(0, 8);
    int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    // The temporary name is ours; the error names the path the user gave.
    if (fd < 0) return Fail("open " + path_ + ": " + std::strerror(errno));
    fd_ = UniqueFd(fd);
    temp_ = std::move(temp);
    writer_.emplace(fd, path_);
    return &*writer_;
  }

  Status Commit() {
    if (temp_.empty()) return {};
    if (::fsync(fd_.get()) != 0) return Fail("fsync " + path_ + ": " + std::strerror(errno));
    if (::rename(temp_.c_str(), path_.c_str()) != 0) {
      return Fail("rename to " + path_ + ": " + std::strerror(errno));
    }
    temp_.clear();
    return {};
  }

 private:
  std::string path_;
  std::string temp_;  // while it is not renamed into place
  UniqueFd fd_;
  std::optional<FdWriter> writer_;
};

void RunSave(GlobalOptions& g, const SaveOptions& o) {
  // Per-layer bars on stderr when it is a terminal (stdout may be the archive).
  LayerProgressView view(stderr, /*push=*/false, /*quiet=*/false);
  ImageSaveEvents events;
  if (view.terminal()) events.layer_progress = view.BytesCallback("Saving layer");
  SaveOutput output(o.output);
  ImageSaveRequest request{
      .names = o.images,
      .format = o.format == "oci" ? ArchiveFormat::kOci : ArchiveFormat::kDocker,
      .open_output = [&output] { return output.Open(); }};
  auto st = ImageSave(*CreateEngine(g), request, events);
  if (st) st = output.Commit();
  if (!st) return ReportError(g, st.error());
}

struct ImportArgs {
  std::string source;
  std::string reference;
  std::vector<std::string> changes;
  std::string message;
};

void RunImport(GlobalOptions& g, const ImportArgs& a) {
  FdReader in(0, "stdin");
  ImageImportRequest request{.source = a.source,
                             .input = a.source == "-" ? &in : nullptr,
                             .reference = a.reference,
                             .changes = a.changes,
                             .message = a.message};
  auto id = ImageImport(*CreateEngine(g), request);
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
