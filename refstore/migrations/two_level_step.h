// Step 3->4 of the ref store's schema (refstore/schema.h): two-level metaranges.
//
// Up rewrites nothing: code of schema 4 reads flat (v1) and two-level (v2) metaranges
// alike, and commits at schema 4 start writing v2. Down writes, for every v2 root in
// the KV range store (the partition given; the CLI's is kRangesPartition of
// refstore/open_for_store.h), the flat
// v1 form of the same tree beside it under the same id, in batches with a checkpointed
// cursor (the last root id done). Cleanup after a down drops every v2 root (each only
// once its flat form is there) and then every part; after an up there is nothing to drop.
//
// Fencing: the flat objects are written through the range store, not the StepContext:
// a holder fenced out after its last checkpoint may still write one batch late. That
// is harmless: the objects are content-addressed and insert-only (same id, same bytes).
// Ranges kept in a directory (OpenForStoreOptions::range_dir) are not seen by the step.
//
// Thread-safety: the step functions run on one thread, as every step does.
#ifndef REFKV_REFSTORE_MIGRATIONS_TWO_LEVEL_STEP_H_
#define REFKV_REFSTORE_MIGRATIONS_TWO_LEVEL_STEP_H_

#include <string>

#include "migrate/migrate.h"

namespace refkv::refstore::migrations {

// The step, with id "refs-two-level-metarange" and fingerprint
// "refs-two-level-metarange/1".
kv::migrate::MigrationStep TwoLevelMetaRangeStep(std::string ranges_partition);

}  // namespace refkv::refstore::migrations

#endif  // REFKV_REFSTORE_MIGRATIONS_TWO_LEVEL_STEP_H_
