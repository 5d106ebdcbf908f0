// gc, fsck, migrate.
#include "engine/maintenance.h"

namespace strata {

Result<DeleteReport> CollectGarbage(Engine& engine) {
  STRATA_ASSIGN(store, engine.store());
  STRATA_ASSIGN(lock, store->LockExclusive());
  return CollectGarbage(*store);
}

Result<FsckReport> CheckStore(Engine& engine, const CheckStoreRequest& request) {
  STRATA_ASSIGN(store,
                engine.store(request.repair ? StoreAccess::kReadWrite : StoreAccess::kReadOnly));
  return CheckStore(*store, request.repair);
}

Result<MigrationReport> Migrate(Engine& engine, const MigrateRequest& request,
                                const MigrateEvents& events) {
  STRATA_ASSIGN(store, engine.store());
  MigrationOptions options{.dry_run = request.dry_run,
                           .jobs = request.jobs,
                           .driver = request.driver,
                           .layer_progress = events.layer_progress};
  auto report = MigrateDockerRoot(*store, request.data_root, options, events.progress);
  if (!report) return Wrap("migrating " + request.data_root, report.error());
  return report;
}

}  // namespace strata
