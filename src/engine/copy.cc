// Copy: opening what the two names need, and one CopyImage between them.
#include "engine/copy.h"

namespace strata {
namespace {

bool EitherIs(const ImageName& from, const ImageName& to, Transport transport) {
  return from.transport == transport || to.transport == transport;
}

Result<RegistryAccess::SideOptions> SideOptionsFor(const CopySide& side, const char* creds_flag) {
  if (side.credentials && side.credentials->username.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                std::string(creds_flag) + ": expected USER[:PASSWORD]");
  }
  return RegistryAccess::SideOptions{.tls_verify = side.tls_verify,
                                     .credentials = side.credentials};
}

// The engine's registry access with a copy's side options for as long as the copy runs; the
// next operation on the engine gets the options it had.
class ScopedSideOptions {
 public:
  ScopedSideOptions(RegistryAccess& access, RegistryAccess::SideOptions source,
                    RegistryAccess::SideOptions destination)
      : access_(access),
        source_(std::exchange(access.source_options, std::move(source))),
        destination_(std::exchange(access.destination_options, std::move(destination))) {}
  ~ScopedSideOptions() {
    access_.source_options = std::move(source_);
    access_.destination_options = std::move(destination_);
  }
  ScopedSideOptions(const ScopedSideOptions&) = delete;
  ScopedSideOptions& operator=(const ScopedSideOptions&) = delete;

 private:
  RegistryAccess& access_;
  RegistryAccess::SideOptions source_;
  RegistryAccess::SideOptions destination_;
};

}  // namespace

Result<CopyResult> Copy(Engine& engine, const CopyRequest& request, const CopyEvents& events) {
  STRATA_ASSIGN(from, ParseImageName(request.source));
  STRATA_ASSIGN(to, ParseImageName(request.destination));
  Store* store = nullptr;
  if (EitherIs(from, to, Transport::kStore)) {
    STRATA_ASSIGN(opened, engine.store());
    store = opened;
  }
  CopyOptions options{
      .platform = request.platform, .all = request.all, .blob_progress = events.blob_progress};
  if (!EitherIs(from, to, Transport::kDocker)) {
    return CopyImage(store, from, to, events.line, nullptr, options);
  }
  STRATA_ASSIGN(access, engine.registries());
  STRATA_ASSIGN(source, SideOptionsFor(request.source_side, "--src-creds"));
  STRATA_ASSIGN(destination, SideOptionsFor(request.destination_side, "--dest-creds"));
  ScopedSideOptions scoped(*access, std::move(source), std::move(destination));
  return CopyImage(store, from, to, events.line, access, options);
}

}  // namespace strata
