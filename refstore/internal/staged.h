// What a stored staging record means, now that a record may be a conditional write's
// intent (pb::StagedIntent, refstore/conditional.cc).
//
// Thread-safety: pure functions.
#ifndef REFKV_REFSTORE_INTERNAL_STAGED_H_
#define REFKV_REFSTORE_INTERNAL_STAGED_H_

#include <optional>
#include <string_view>

#include "base/result.h"
#include "refstore/refstore.pb.h"

namespace refkv::refstore::internal {

// The entry a reader sees in the record `raw`: a value or a tombstone, or nullopt when the
// record stands for nothing staged at its key (an undecided or aborted intent over a key
// that held nothing). An intent reads as its `before` whether undecided or aborted: only
// its writer's compare-and-set to `after` makes the write visible. Corruption naming
// `what` if the bytes do not parse.
Result<std::optional<pb::StagedEntry>> DecodeStaged(std::string_view raw, std::string_view what);

// Whether `entry` is an intent nobody has decided yet (a commit must abort it first).
inline bool IsUndecidedIntent(const pb::StagedEntry& entry) {
  return entry.kind_case() == pb::StagedEntry::kIntent && !entry.intent().aborted();
}

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_INTERNAL_STAGED_H_
