// The content of the schema fixtures (tests/fixtures/refstore_schema*.dump) and a full,
// comparable snapshot of a ref store's content.
#ifndef REFKV_TESTS_REFSTORE_MIGRATIONS_FIXTURE_H_
#define REFKV_TESTS_REFSTORE_MIGRATIONS_FIXTURE_H_

#include <memory>
#include <string>

#include "base/result.h"
#include "engine/store.h"
#include "refstore/committed/range_store.h"
#include "refstore/refstore.h"

namespace refkv::testing {

inline constexpr std::string_view kRangesPartition = "refkv.ranges";

// Two repositories: "alpha" (main with 5 commits, "feature" and "hotfix" branched off
// older commits with commits of their own, three tags, staged puts and deletes on
// main and feature) and "beta" (main and "dev", a tag, staged entries on dev).
Status BuildFixtureContent(refstore::RefStore& refs);

// A ref store over `store` with its range store (partition kRangesPartition).
struct RefEnv {
  std::unique_ptr<refstore::RangeStore> ranges;
  std::unique_ptr<refstore::RefStore> refs;
};
Result<RefEnv> OpenRefEnv(kv::Store& store);

// Every repository, branch (head and every entry, staged writes included, and the
// uncommitted diff), tag, the log of every branch and tag, every field of every commit
// in them, every entry at every commit, and IsAncestor / MergeBase for every pair of
// those commits, as text. Equal snapshots mean equal content.
Result<std::string> Snapshot(kv::Store& store, refstore::RefStore& refs);

// Index keys ("a/", "k/") and commit records ("c/") over all refs partitions.
struct IndexCounts {
  size_t commits = 0, parent_links = 0, ancestry = 0, children = 0;
};
Result<IndexCounts> CountIndex(kv::Store& store);

}  // namespace refkv::testing

#endif  // REFKV_TESTS_REFSTORE_MIGRATIONS_FIXTURE_H_
