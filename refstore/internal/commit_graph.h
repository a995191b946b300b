// The commit graph of one repository, as the cleaner and the index check see it: every
// commit record of its refs partition, and which of them its roots reach.
//
// Roots: the initial commit, every branch head and every tag, read before the commit
// records, plus every record created after a cutoff (the cleaner's grace: a commit in
// flight). An id without a record ends its walk.
//
// Thread-safety: a pure function over the store; safe beside writers (a record written
// after the scan is simply absent from the graph).
#ifndef REFKV_REFSTORE_INTERNAL_COMMIT_GRAPH_H_
#define REFKV_REFSTORE_INTERNAL_COMMIT_GRAPH_H_

#include <cstdint>
#include <limits>
#include <string>
#include <unordered_map>
#include <vector>

#include "base/result.h"
#include "engine/store.h"

namespace refkv::refstore::internal {

struct CommitNode {
  int64_t generation = 0;
  std::vector<std::string> parents;
  std::string metarange;
  bool reached = false;  // from a root, through parents
};

// commit id -> node, for every record of the partition.
using CommitGraph = std::unordered_map<std::string, CommitNode>;

// Reads the roots and every commit record of `refs` (one prefix scan each of branches,
// tags and commits) and marks what the roots reach. Records with creation time after
// `young_after_ms` are roots too (the default: none). Corruption if a record does not
// parse; the store's errors otherwise.
Result<CommitGraph> LoadCommitGraph(kv::Store& store, const std::string& refs,
                                    const std::string& initial_commit,
                                    int64_t young_after_ms = std::numeric_limits<int64_t>::max());

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_INTERNAL_COMMIT_GRAPH_H_
