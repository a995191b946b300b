// Check: verifies the invariants of a store holding a ref store, for `refkv check` and
// for embedders (after a restore, in CI, after a crash).
//
// What is checked, each violation reported with its location:
//   store      the metadata record (store id, format and schema versions) and the
//              migration state record parse; the schema is one this code knows; no
//              load (import, copy, dump restore) is unfinished (kMetaPendingLoad);
//   repository every active repository's default branch exists;
//   branch     every branch's head commit exists;
//   tag        every tag's commit exists;
//   commit     every commit reachable from a branch or tag: its parents exist, its
//              metarange exists, and the metarange and every range it lists verify
//              (content hashes, per-range min/max/count/bytes, order);
//   index      at schema >= 2, every reachable commit's index keys are present and equal
//              to what its record implies (migrations::CheckIndex).
// Visible objects only: leftovers the cleaner removes (partitions of half-created or
// deleted repositories, unreferenced tokens and ranges) are not violations.
//
// Cost: one read of every reachable commit record, and a full read of every reachable
// metarange and range, each once (O(committed data)). Read-only.
// Thread-safety: safe beside writers; a commit racing the check may be reported as a
// missing object only if the store is actually inconsistent (objects are written before
// the records that reference them).
#ifndef REFKV_REFSTORE_CHECK_H_
#define REFKV_REFSTORE_CHECK_H_

#include <cstddef>
#include <string>
#include <vector>

#include "base/result.h"
#include "engine/store.h"
#include "refstore/committed/range_store.h"
#include "refstore/refstore.h"

namespace refkv::refstore {

struct CheckViolation {
  std::string location;  // "store", "repo r1", "repo r1 branch main", "repo r1 commit ID" ...
  std::string problem;   // the error found there
};

struct CheckReport {
  std::vector<CheckViolation> violations;
  size_t repositories = 0, branches = 0, tags = 0, commits = 0, metaranges = 0;
  bool ok() const { return violations.empty(); }
};

// Checks `store` (with ref store `refs` whose committed data is in `ranges`) as above.
// OK with the report, whatever it finds; an error only if the check itself cannot run
// (e.g. the repository list cannot be read).
Result<CheckReport> Check(kv::Store& store, RefStore& refs, RangeStore& ranges);

}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_CHECK_H_
