// Where the ref store keeps things in the kv::Store, and how names become keys.
//
// Global partitions:
//   refkv.repos   key = repository name          value = pb::Repository
//   refkv.gc      key = "range_sweep"            value = the range-sweep fence (gc.cc)
// Per repository (name + instance id, so a re-created repository starts empty):
//   repo/<name>/<instance>/refs     "b/<branch>" -> pb::Branch, "c/<id>" -> pb::Commit,
//                                   "t/<tag>" -> pb::Tag
//   repo/<name>/<instance>/staging  <token (32 bytes)><path> -> pb::StagedEntry
// Staging tokens have a fixed length, so (token, path) needs no separator and a token's
// entries are exactly the keys with that 32-byte prefix.
//
// Tokens and instance ids are 12 hex digits of their creation time in Unix milliseconds
// followed by 20 random hex digits: the cleaner reads their age from the name.
//
// Thread-safety: pure functions; NewTimedId is thread-safe.
#ifndef REFKV_REFSTORE_INTERNAL_KEYS_H_
#define REFKV_REFSTORE_INTERNAL_KEYS_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "base/status.h"
#include "engine/store.h"
#include "refstore/refstore.h"

namespace refkv::refstore::internal {

inline constexpr std::string_view kReposPartition = "refkv.repos";
inline constexpr std::string_view kGcPartition = "refkv.gc";
inline constexpr std::string_view kRangeSweepKey = "range_sweep";
inline constexpr std::string_view kRepoPartitionPrefix = "repo/";
inline constexpr size_t kTimedIdLength = 32;

inline constexpr std::string_view kBranchPrefix = "b/";
inline constexpr std::string_view kCommitPrefix = "c/";
inline constexpr std::string_view kTagPrefix = "t/";

int64_t NowMs();

// A fresh staging token or instance id (see above).
std::string NewTimedId();
// The creation time encoded in a token or instance id; nullopt if malformed.
std::optional<int64_t> TimedIdMs(std::string_view id);

inline constexpr size_t kMaxRepoNameBytes = 63;
inline constexpr size_t kMaxRefNameBytes = 128;

Status ValidateRepoName(std::string_view name);
Status ValidateRefName(std::string_view what, std::string_view name);  // branch or tag
// A path a write stages: 1..kMaxPathBytes bytes (refstore.h "Limits").
Status ValidatePath(std::string_view path);
// A path a read asks for: non-empty, any length (entries committed before the limits
// existed stay readable).
Status ValidateReadPath(std::string_view path);
// A value a write stages: at most kMaxEntryValueBytes. `path` is named in the error.
Status ValidateEntryValue(std::string_view path, std::string_view value);

// Every key and partition name the ref store derives from a name or path stays within
// the kv::Store limits (engine/store.h).
static_assert(kMaxPathBytes + kTimedIdLength <= kv::kMaxKeyBytes);  // StagingKey
static_assert(2 + kMaxRefNameBytes <= kv::kMaxKeyBytes);            // BranchKey, TagKey
static_assert(kMaxRepoNameBytes <= kv::kMaxKeyBytes);               // refkv.repos
static_assert(kRepoPartitionPrefix.size() + kMaxRepoNameBytes + 1 + kTimedIdLength +
                  std::string_view("/staging").size() <=
              kv::kMaxPartitionBytes);  // RefsPartition, StagingPartition

std::string RefsPartition(std::string_view repo, std::string_view instance);
std::string StagingPartition(std::string_view repo, std::string_view instance);

// Splits "repo/<name>/<instance>/<kind>"; false for any other partition.
struct RepoPartition {
  std::string name;
  std::string instance;
  std::string kind;
};
bool ParseRepoPartition(std::string_view partition, RepoPartition* out);

inline std::string BranchKey(std::string_view name) { return std::string(kBranchPrefix) += name; }
inline std::string CommitKey(std::string_view id) { return std::string(kCommitPrefix) += id; }
inline std::string TagKey(std::string_view name) { return std::string(kTagPrefix) += name; }
inline std::string StagingKey(std::string_view token, std::string_view path) {
  return std::string(token) += path;
}

}  // namespace refkv::refstore::internal

#endif  // REFKV_REFSTORE_INTERNAL_KEYS_H_
