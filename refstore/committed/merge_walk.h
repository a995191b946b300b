// The walk behind CommittedManager::Merge: base, source and destination range lists read
// together, deciding the merged tree path by path and keeping whole ranges by id where
// they can be kept (see committed.h, CommittedManager::Merge, for the contract).
//
// The output is canonical (the tree a from-scratch build of the merged content gives):
// a range of one side is kept by id only when the output is at a range start, the range
// starts after everything decided, the other two sides are provably equal through its
// max path (the same range id on both, or no entries at all), and, if it is the last
// range of its side, nothing can follow it in the merged tree. Everything else goes
// through the content-defined chunker, which re-aligns with the sides' ranges at their
// next common boundary.
//
// Thread-safety: a pure function of its arguments; `load` must be safe to call.
#ifndef REFKV_REFSTORE_COMMITTED_MERGE_WALK_H_
#define REFKV_REFSTORE_COMMITTED_MERGE_WALK_H_

#include <functional>
#include <memory>
#include <string_view>

#include "base/result.h"
#include "refstore/committed/committed.h"
#include "refstore/committed/encoding.h"
#include "refstore/committed/range_io.h"

namespace refkv::refstore::internal {

// Where the walk puts the merged tree: the manager's chunker and metarange builder.
class MergeOutput {
 public:
  virtual ~MergeOutput() = default;
  // Adds an entry (paths strictly increasing) to the range being built.
  virtual Status Add(std::string_view path, std::string_view value) = 0;
  // True when no entry is pending: the next entry starts a range.
  virtual bool AtRangeStart() const = 0;
  // Appends range i of `tree` whole (precondition: AtRangeStart()).
  virtual void Keep(const MetaRange& tree, size_t i) = 0;
};

// A verified reader of range `id`.
using RangeLoader = std::function<Result<std::shared_ptr<const RangeReader>>(std::string_view id)>;

// Merges the three trees into `out`; fills result->conflicts, more_conflicts and
// conflicted (not metarange). Once a conflict stays unresolved nothing more is added to
// `out` and the walk only lists conflicts. stats: ranges_reused, ranges_read,
// entries_read (ranges_written is the chunker's).
Status WalkMerge(const MetaRange& base, const MetaRange& source, const MetaRange& dest,
                 const TreeMergeOptions& options, const RangeLoader& load, MergeOutput& out,
                 TreeMergeResult* result, ApplyStats* stats);

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_COMMITTED_MERGE_WALK_H_
