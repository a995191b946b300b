// Planning (internal): what the migration records say about a store, and the steps a
// run would take from there. Reads only.
#ifndef REFKV_MIGRATE_PLAN_H_
#define REFKV_MIGRATE_PLAN_H_

#include <optional>
#include <string>
#include <vector>

#include "migrate/migrate.h"

namespace refkv::kv::migrate {

struct Snapshot {
  int64_t schema = 0;
  std::string writer_version;
  std::optional<std::string> state_raw;  // nullopt: no state record (ready)
  MigrationState state;
  std::vector<HistoryEntry> history;                    // by seq
  std::vector<std::pair<std::string, Direction>> kept;  // step id, last direction
  int64_t next_seq = 1;
};

Result<Snapshot> ReadSnapshot(Store& store);

// `direction` kUp or kDown (kCleanup plans with PlanCleanup). `to` unset for Up = newest.
Result<Plan> MakePlan(Store& store, const Snapshot& snap, const StepRegistry& steps,
                      Direction direction, std::optional<int64_t> to);
Result<Plan> MakeCleanupPlan(Store& store, const Snapshot& snap, const StepRegistry& steps);

}  // namespace refkv::kv::migrate

#endif  // REFKV_MIGRATE_PLAN_H_
