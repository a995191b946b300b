// The commit indexes of schema 2 and 3 (refstore/schema.h) and the queries that use them.
//
// Keys in a repository's refs partition (repo/<name>/<instance>/refs):
//   "a/<id>"              -> 8-byte big-endian generation, then the parent ids, each
//                            followed by '\n' (schema >= 2)
//   "k/<parent>/<child>"  -> "" (schema >= 3)
// The ancestry record of a commit is derived from its immutable commit record, so a
// missing one is never wrong: readers fall back to the commit record ("c/<id>").
//
// Thread-safety: pure functions over the store; safe concurrently.
#ifndef REFKV_REFSTORE_MIGRATIONS_COMMIT_INDEX_H_
#define REFKV_REFSTORE_MIGRATIONS_COMMIT_INDEX_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/store.h"
#include "refstore/refstore.pb.h"

namespace refkv::refstore::migrations {

inline constexpr std::string_view kAncestryPrefix = "a/";
inline constexpr std::string_view kChildPrefix = "k/";

std::string AncestryKey(std::string_view id);
std::string ChildKey(std::string_view parent, std::string_view child);

struct Ancestry {
  int64_t generation = 0;
  std::vector<std::string> parents;
};
std::string EncodeAncestry(const pb::Commit& commit);
// Corruption naming `what` if malformed.
Result<Ancestry> DecodeAncestry(std::string_view bytes, std::string_view what);

// Adds the index keys of `commit` for a store at `schema` to `batch` (none below 2).
void AddIndexKeys(const pb::Commit& commit, int64_t schema, kv::WriteBatch* batch);

// Ancestry of `ids` (one MultiGet of "a/", one of "c/" for the ones without an index
// record). NotFound naming the first commit that has neither.
Result<std::vector<Ancestry>> LoadAncestry(kv::Store& store, std::string_view refs,
                                           const std::vector<std::string>& ids);

// True if `ancestor` is `descendant` or reachable from it through parents. Walks by
// descending generation and stops below the ancestor's generation: cost O(commits
// between them), one batched read per generation level.
Result<bool> IsAncestor(kv::Store& store, std::string_view refs, std::string_view ancestor,
                        std::string_view descendant);

// A best common ancestor of `a` and `b` (the one of highest generation, ties by the
// greatest id); nullopt if they share no history.
Result<std::optional<std::string>> MergeBase(kv::Store& store, std::string_view refs,
                                             std::string_view a, std::string_view b);

// The children of `parent` from the child index (schema >= 3 only; one prefix scan).
Result<std::vector<std::string>> Children(kv::Store& store, std::string_view refs,
                                          std::string_view parent);

// What `refkv check` verifies of the indexes on a store at `schema`: in every active
// repository's refs partition, each commit reachable from a branch, a tag or the initial
// commit has its ancestry record, equal to the one derived from it (schema >= 2), and a
// child key for each parent link (>= 3). Sorted by (partition, key). Not violations: an
// unpublished record without its index keys (a commit writes its record, then its index,
// then publishes; a crash in between), and index keys without a record (the cleaner's
// leftovers, collected by its next sweep). Cost: one scan of every refs partition, a Get
// per expected key.
struct IndexViolation {
  std::string partition;
  std::string key;
  std::string problem;
};
Result<std::vector<IndexViolation>> CheckIndex(kv::Store& store, int64_t schema);

}  // namespace refkv::refstore::migrations

#endif  // REFKV_REFSTORE_MIGRATIONS_COMMIT_INDEX_H_
