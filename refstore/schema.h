// The ref store's schema versions and the migration steps between them.
//
// Schema history (each step is registered by RegisterSchemaSteps, see
// refstore/migrations/commit_index.h for the key layouts):
//   1  the original layout: commit records "c/<id>" only; ancestry queries decode whole
//      commit records, one Get per commit.
//   2  + ancestry index "a/<id>" in each repository's refs partition: generation and
//      parents in a fixed binary form (about 8 + 33 bytes per parent instead of a
//      protobuf commit with message and metadata); IsAncestor / MergeBase read it in
//      batched MultiGets. Written by every new commit at schema >= 2.
//   3  + child index "k/<parent>/<child>": the children of a commit are one prefix scan
//      (descendant queries, "which commits build on X"). Written by new commits at >= 3.
//   4  two-level metaranges (refstore/committed/FORMAT.md, format v2): a commit writes a
//      small root and only the parts of the range list its change touches, instead of
//      the whole flat list (~100 KB at 1M entries). Tree ids are unchanged (the hash of
//      the flat encoding). Written by commits at schema >= 4 while no step runs.
// Steps 1->2 and 2->3 only add keys beside the commit records; `down` is the schema
// switch alone and `migrate cleanup` after a down drops the index keys. Step 3->4
// rewrites nothing on the way up (code of schema 4 reads both formats); its `down`
// writes the flat form of every v2 root beside it under the same id, and `migrate
// cleanup` after that down drops the roots and parts (after an up: nothing).
// A RefStore reads the store's schema (and migration state) at every commit, before and
// after writing the commit record, so one opened before a migration writes the index
// of the new schema (and of a running step's target), and refuses to commit once a
// newer refkv moved the store past kCodeSchema (refstore/internal/ref_store_impl.h).
// On shared stores (PostgreSQL) a RefStore also runs a node heartbeat (migrate/nodes.h)
// that fences every write kind, not only commits, within one beat of a migration
// towards a newer schema starting (refstore/refstore.h, "Nodes").
// A commit writes its record, then its index keys, then moves the branch: a reachable
// commit always has both; a crash leaves at most an unpublished record without index
// keys. The cleaner deletes a record's index keys before the record, and index keys
// whose record is absent (refstore/gc.cc).
//
// Thread-safety: RegisterSchemaSteps is a pure function of its argument.
#ifndef REFKV_REFSTORE_SCHEMA_H_
#define REFKV_REFSTORE_SCHEMA_H_

#include <cstdint>
#include <string_view>

#include "base/status.h"
#include "migrate/migrate.h"

namespace refkv::refstore {

inline constexpr int64_t kSchemaOriginal = 1;
inline constexpr int64_t kSchemaAncestryIndex = 2;
inline constexpr int64_t kSchemaChildIndex = 3;
inline constexpr int64_t kSchemaTwoLevelMetaRange = 4;
// The schema this code writes; a new store starts here.
inline constexpr int64_t kCodeSchema = kSchemaTwoLevelMetaRange;

// The KV range store partition the 3<->4 step converts (refstore/open_for_store.h's
// kRangesPartition, where the CLI keeps ranges).
inline constexpr std::string_view kDefaultRangesPartition = "refstore.ranges";

// Adds the ref store's steps (1->2, 2->3, 3->4) to `registry`; the 3<->4 step works on
// the ranges in `ranges_partition`. The errors of StepRegistry::Add (InvalidArgument if
// a step of the same id or `from` is present).
Status RegisterSchemaSteps(kv::migrate::StepRegistry& registry,
                           std::string_view ranges_partition = kDefaultRangesPartition);

// A registry holding exactly the ref store's steps (base schema 1).
kv::migrate::StepRegistry SchemaSteps(std::string_view ranges_partition = kDefaultRangesPartition);

}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_SCHEMA_H_
