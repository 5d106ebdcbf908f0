#include "engine/engine.h"

namespace strata {

Result<std::unique_ptr<Store>> OpenStoreAt(const std::string& root, StoreAccess access) {
  if (root.empty()) {
    return Fail(ErrorCode::kInvalidArgument,
                "no store directory: HOME is not set and the user has no home directory in "
                "the password database; give one with --root DIR or STRATA_ROOT");
  }
  return Store::Open(root, access);
}

Result<Store*> Engine::store(StoreAccess access) {
  const bool reopen =
      store_ && access == StoreAccess::kReadWrite && store_access_ == StoreAccess::kReadOnly;
  if (!store_ || reopen) {
    store_.reset();
    STRATA_ASSIGN(opened, OpenStoreAt(options_.root, access));
    store_ = std::move(opened);
    store_access_ = access;
  }
  return store_.get();
}

Result<RegistryAccess*> Engine::registries() {
  if (!registries_) {
    STRATA_ASSIGN(access, RegistryAccess::Open(options_.registries_config));
    registries_ = std::move(access);
  }
  return registries_.get();
}

bool NamesTagOrDigest(std::string_view text) {
  auto strict = ParseReference(text);
  return strict && (strict->tag() || strict->digest());
}

}  // namespace strata
