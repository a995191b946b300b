// Pre-flight checks and the backup taken before a migration (internal). Both run
// before the runner writes anything, the lease included.
#ifndef REFKV_MIGRATE_PREFLIGHT_H_
#define REFKV_MIGRATE_PREFLIGHT_H_

#include <string>

#include "migrate/migrate.h"

namespace refkv::kv::migrate {

// The store's "path" property (drivers with files: rocks), or "" if it has none.
std::string StorePath(Store& store);

// IOError naming the file system, the bytes free and needed if fewer than
// plan.total.bytes are free. OK for drivers without a path (unless a hook is given).
Status CheckFreeSpace(Store& store, const Plan& plan, const RunOptions& options);

// Up (`direction` kUp) to `target`: Busy naming every live, unfenced node whose code
// schema is older than `target` (Down: newer), with what to do. One prefix scan.
Status CheckNodes(Store& store, Direction direction, int64_t target, const RunOptions& options);

// After the state record says a step towards `schema` runs: waits until every live node
// of an older code schema has recorded its fence (migrate/nodes.h) or is older than its
// ttl (its record is then removed with DeleteIf, which fences it should it wake up).
// At most the longest ttl among them (plus a margin for clock skew). `fence` is called
// between polls (the lease check): its error ends the wait. Time is `clock`'s (nullptr:
// the system clock).
Status WaitForOlderNodes(Store& store, int64_t schema, const std::function<Status()>& fence,
                         Clock* clock);

// Takes the backup: options.backup if set; else store.Checkpoint where the store has a
// "path" property (rocks), a DumpBackup into options.backup_dir otherwise (PostgreSQL,
// mem). Returns its location. IOError with what to do (another backup_dir, a hook, or
// no_backup).
Result<std::string> TakeBackup(Store& store, const Plan& plan, const RunOptions& options);

}  // namespace refkv::kv::migrate

#endif  // REFKV_MIGRATE_PREFLIGHT_H_
