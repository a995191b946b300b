// refstore: a Git-like versioned store of entries (path -> value bytes) on a kv::Store.
//
// Repositories hold branches, commits and tags; a branch has staged (uncommitted) writes
// on top of its head commit. Commits are made with optimistic compare-and-set on the
// branch record only (no locks, no transactions, no Store::Write), so they are safe across
// threads and, on a shared driver, across processes. Committed data lives in immutable,
// content-addressed ranges (refstore/committed/), so a commit costs O(size of change).
//
// Refs: wherever a `ref` is taken it is a ref expression: a base, then optional steps.
// The base is a branch name, a tag name, a full commit id or a unique prefix of at least
// 6 hex digits of a commit id, tried in that order: branch > tag > full id (one batched
// lookup) > prefix (one bounded scan of the commit records, at most 2 keys read when
// unique), so a branch or tag named like a hex prefix always wins. An ambiguous prefix
// is InvalidArgument listing the candidates. Steps: `~N` the N-th first-parent ancestor
// (`~` = `~1`, `~0` = the commit itself), `^N` the N-th parent (`^` = `^1`, N >= 1),
// chained left to right (`main~2^2`: the second parent of main's grandparent). A
// malformed expression (`main~x`, `^0`), `~` past a root or `^N` beyond a commit's
// parents is InvalidArgument naming the expression and the 0-based position of the
// step. Reading at a branch sees its staged writes over its head commit; an expression
// with steps names a commit (committed data only).
//
// Names: repository names match [A-Za-z0-9][A-Za-z0-9._-]{0,62}; branch and tag names
// [A-Za-z0-9][A-Za-z0-9._/-]{0,127}; paths are any non-empty bytes up to kMaxPathBytes.
// Anything else is InvalidArgument.
//
// Limits (the kv::Store limits, engine/store.h, applied to what the ref store derives
// from them): a staged path at most kMaxPathBytes, a staged value at most
// kMaxEntryValueBytes, a commit's message and metadata together at most
// kMaxCommitInfoBytes (with the committer). A write beyond them (PutEntry, DeleteEntry, Commit) is
// InvalidArgument naming the limit, the size and the path, and writes nothing. Reads take
// any path, so entries committed before the limits existed stay readable.
//
// Errors common to every method: InvalidArgument (a bad name or path), NotFound (the
// repository, branch, tag, commit or entry does not exist; the message names it),
// and any error of the underlying kv::Store or range store, passed through with context.
//
// Durability: all state lives in the kv::Store, so a process crash loses nothing the store
// acknowledged (per driver: engine/rocks/rocks_store.h). Against power loss:
//   - Options::sync_commits: every call that changes refs (Commit, Create/DeleteRepository,
//     Create/Delete/ResetBranch, Create/DeleteTag) writes without syncing and calls
//     kv::Store::Sync() exactly once, after its last publishing write (a commit: after the
//     final compare-and-set of the branch), before it returns OK; what it acknowledged
//     then survives power loss. Cost on RocksDB with sync=false: one WAL fsync per call
//     (~0.25 ms); none on mem or PostgreSQL (every statement commits durably there).
//     A commit writes its ranges, metarange and record before its CaS; with ranges in the
//     same kv::Store (the KV range store, refstore/open_for_store.h) the one Sync covers
//     them, because a store loses at most a suffix of its writes (one WAL), never the
//     ranges under a head that survived. A directory range store fsyncs its own files
//     before the commit record is written.
//   - Options::sync_staged_writes: PutEntry and DeleteEntry sync once too. Without it a
//     staged write becomes durable with the next Sync of the store (the next synced call
//     of any branch); a power loss may lose staged writes acknowledged since, never
//     committed ones.
//   - Visible before durable: other readers may see a call's writes (a new head) shortly
//     before its Sync returns; only the call's OK promises durability.
//   - Reads and CollectGarbage never sync (the cleaner only removes what nothing reaches;
//     running it again finishes what a crash interrupted).
//   These rely on the kv::Store losing only a suffix of acknowledged writes in a crash
//   (true of every built-in driver). Off (the default), nothing here calls Sync.
//
// Nodes (shared stores): a RefStore on a shared kv::Store (PostgreSQL) registers itself
// as a node with a heartbeat (migrate/nodes.h; Options::heartbeat) recording its code
// schema, for the whole of its life; `refkv migrate up` refuses to start while a live
// node is older than its target. When a beat finds the store migrated (or migrating) past
// this code's schema, the RefStore is fenced for good: every write (PutEntry,
// DeleteEntry, Commit, Create/Delete/ResetBranch, Create/DeleteRepository,
// Create/DeleteTag, CollectGarbage) fails first with VersionMismatch, one line naming
// both schemas and "restart this node with a refkv that knows schema N". Bound: one beat
// interval (Options::heartbeat_interval, default 2 s) after the migration starts; the
// runner waits for the fence before its step runs. Reads keep working. Independently,
// every commit re-reads the schema and refuses past this code's schema (refstore/schema.h).
//
// Thread-safety: a RefStore is thread-safe; any number of threads (and processes sharing
// the kv::Store) may call any method concurrently. The kv::Store and RangeStore it
// borrows must outlive it.
#ifndef REFKV_REFSTORE_REFSTORE_H_
#define REFKV_REFSTORE_REFSTORE_H_

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/clock.h"
#include "base/result.h"
#include "engine/store.h"

namespace refkv::refstore {

class RangeStore;  // refstore/committed/: where ranges and metaranges are kept

// A staged entry's key is its 32-byte staging token followed by the path
// (refstore/internal/keys.h), so a path takes what is left of kv::kMaxKeyBytes.
inline constexpr size_t kMaxPathBytes = kv::kMaxKeyBytes - 32;
// Entries are metadata: 16 MiB bounds what one entry adds to a range (cut at 64 MiB of
// content, refstore/committed/FORMAT.md) and keeps a staged record (the value, its path
// and a few bytes of protobuf) well within kv::kMaxValueBytes.
inline constexpr size_t kMaxEntryValueBytes = size_t{16} << 20;
// A commit record (message, metadata, parents, ids) is one kv value, read by every log.
inline constexpr size_t kMaxCommitInfoBytes = size_t{1} << 20;
static_assert(kMaxEntryValueBytes + kMaxPathBytes + 64 <= kv::kMaxValueBytes);
static_assert(kMaxCommitInfoBytes * 2 <= kv::kMaxValueBytes);

struct Options {
  // Commit: how often the final compare-and-set of the branch is tried before the commit
  // gives up with Conflict, and the jittered exponential backoff between tries.
  int max_commit_attempts = 20;
  std::chrono::milliseconds backoff_base{1};
  std::chrono::milliseconds backoff_max{64};
  // The cleaner removes an unreferenced staging token, a partition of a half-created
  // repository or an unreachable commit record only when it is older than this. Must
  // exceed the longest repository creation and the longest commit attempt (both abandon
  // themselves past half of it) plus the clock skew between processes. 0 (tests): no
  // grace at all; then the cleaner must not run concurrently with writers.
  std::chrono::milliseconds gc_grace{std::chrono::hours(1)};
  // A range sweep that died holds committers off for at most this long.
  std::chrono::milliseconds gc_lease{std::chrono::seconds(60)};
  // Immutable commit records kept in memory (0 disables the cache).
  size_t commit_cache_entries = 8192;
  // One kv::Store::Sync() per acknowledged ref-changing call, resp. staged write (see
  // "Durability" above). The CLI turns both on.
  bool sync_commits = false;
  bool sync_staged_writes = false;

  // Node heartbeat (migrate/nodes.h, "Nodes" above). kAuto: on when the kv::Store is
  // shared (kv::Store::shared(): PostgreSQL), off where the store's own lock keeps other
  // processes out (rocks) or it lives in one process (mem). kOff for a store opened
  // read-only (the node record cannot be written there; nothing else can either).
  enum class Heartbeat { kAuto, kOn, kOff };
  Heartbeat heartbeat = Heartbeat::kAuto;
  std::chrono::milliseconds heartbeat_interval{2000};  // the bound; ttl = 3x
  // The heartbeat's time (must outlive the store). nullptr: the system clock; tests pass a
  // ManualClock (base/clock.h).
  Clock* heartbeat_clock = nullptr;
  std::string node_role = "refstore";  // shown by `refkv migrate status`
  // At schema >= 4 a commit stores a metarange of more than this many ranges as a
  // two-level tree (refstore/committed/FORMAT.md), smaller ones flat. Tests set 0 so
  // that every tree is two-level.
  size_t metarange_flat_max_ranges = 128;
};

struct RepositoryInfo {
  std::string name;
  std::string default_branch;
  int64_t creation_time_ms = 0;  // Unix epoch milliseconds
  std::string instance_id;
  std::string storage_namespace;
};

struct BranchInfo {
  std::string name;
  std::string commit_id;
  size_t sealed_tokens = 0;  // > 0 while a commit is in flight or after one failed, and
                             // after an atomic batch (WriteEntries) until the next commit
};

struct CommitInfo {
  std::string id;
  std::vector<std::string> parents;
  std::string committer;
  std::string message;
  std::map<std::string, std::string> metadata;
  int64_t creation_time_ms = 0;
  int64_t generation = 0;
  std::string metarange_id;
};

struct TagInfo {
  std::string name;
  std::string commit_id;
  int64_t creation_time_ms = 0;
};

struct Entry {
  std::string path;
  std::string value;
};

struct ListEntriesOptions {
  std::string prefix;  // only paths starting with this
  std::string after;   // only paths > after (the previous page's next_after)
  size_t limit = 1000;
  // Paths only: every Entry::value is left empty, and no value is copied or decoded
  // (a staged value is skipped over in its record; committed values are not copied out
  // of the range's blocks, which hold them beside their paths).
  bool names_only = false;
};

struct EntryPage {
  std::vector<Entry> entries;
  std::string next_after;  // pass as `after` for the next page; empty when this was the last
};

// A page of repositories, branches or tags, in name order.
struct ListOptions {
  std::string after;    // only names > after (the previous page's next_after)
  size_t limit = 1000;  // at most this many (0 = all)
};

struct RepositoryPage {
  std::vector<RepositoryInfo> repositories;
  std::string next_after;  // pass as `after` for the next page; empty when this was the last
};

struct BranchPage {
  std::vector<BranchInfo> branches;
  std::string next_after;  // as RepositoryPage::next_after
};

struct TagPage {
  std::vector<TagInfo> tags;
  std::string next_after;  // as RepositoryPage::next_after
};

struct LogOptions {
  size_t limit = 100;
  std::string page_token;  // the previous page's next_page_token
  // Filters (refstore/log.cc). The walk is the same with or without them; they decide
  // which commits are listed. A page holds up to `limit` listed commits.
  bool first_parent = false;  // follow only first parents (the mainline of merges)
  // Only commits with creation time in [since_ms, until_ms] (Unix ms; 0 = no bound).
  // Times are not ordered along parents, so the walk does not stop at `since_ms`.
  int64_t since_ms = 0;
  int64_t until_ms = 0;
  // A ref: neither it nor any commit reachable from it (through any parent) is listed,
  // and the walk ends where only such commits remain (`log stop_at..ref`).
  std::string stop_at;
  // Only commits that changed one of `paths` (exact paths) or something under one of
  // `prefixes`: the value differs from that in every parent compared (the first parent
  // with first_parent, else each parent; a merge that took a path's value from one of
  // its parents did not change it there; a root commit: against the empty tree).
  // Cost per commit and parent: one cached metarange lookup per path (the id of the
  // range covering it); ranges are read only where those ids differ.
  std::vector<std::string> paths;
  std::vector<std::string> prefixes;
};

struct LogPage {
  std::vector<CommitInfo> commits;  // by descending generation
  std::string next_page_token;      // empty when this was the last page
};

struct CommitRequest {
  std::string committer;
  std::string message;
  std::map<std::string, std::string> metadata;
  // Commit only if the branch head is this commit (PredicateFailed otherwise).
  std::optional<std::string> expected_parent;
};

struct CommitResult {
  enum class Outcome {
    kCommitted,              // `commit` is the new commit made by this call
    kNoChanges,              // nothing was staged (or every staged write was a no-op -
                             // also when a concurrent commit found so and released
                             // them); `commit` is the unchanged head
    kCommittedConcurrently,  // a concurrent commit of the same branch took this call's
                             // staged writes; `commit` is that commit
  };
  Outcome outcome = Outcome::kNoChanges;
  CommitInfo commit;
  int attempts = 0;  // compare-and-set rounds used
};

struct EntryDiff {
  enum class Kind { kAdded, kRemoved, kChanged };
  std::string path;
  Kind kind = Kind::kAdded;
  std::optional<std::string> left;   // the value on the left side (absent if added)
  std::optional<std::string> right;  // the value on the right side (absent if removed)
};

struct GcStats {
  size_t repositories_finished = 0;  // deletions completed for DELETING records
  size_t partitions_dropped = 0;     // of deleted or half-created repositories
  size_t staging_tokens_released = 0;
  size_t metaranges_deleted = 0;
  size_t metarange_parts_deleted = 0;  // parts of two-level metaranges
  size_t ranges_deleted = 0;
  size_t commits_deleted = 0;     // unreachable commit records (e.g. of commits that lost a race)
  size_t index_keys_deleted = 0;  // commit index keys left without their record (a crash)
};

// ---- Merge, revert, cherry-pick, reset (RefStore::Merge and below) ----------------------
// One path whose value differs on all three sides of a merge (nullopt: absent there).
struct MergeConflict {
  std::string path;
  std::optional<std::string> base, source, dest;
};
// What a resolver decides for one conflict.
struct MergeResolution {
  bool resolved = false;             // false: it stays a conflict
  std::optional<std::string> value;  // the merged value; nullopt: the path is absent
};
using MergeResolver = std::function<MergeResolution(const MergeConflict&)>;

struct MergeOptions {
  // How conflicts are settled: kFail lists them and writes nothing; kSourceWins /
  // kDestWins take that side's value (or absence); kResolver asks `resolver` per path
  // (what it leaves unresolved is listed as with kFail).
  enum class Strategy { kFail, kSourceWins, kDestWins, kResolver };
  Strategy strategy = Strategy::kFail;
  MergeResolver resolver;
  // One parent (the destination head) instead of [destination head, source].
  bool squash = false;
  // kAuto: move the branch to the source when its head is an ancestor of the source;
  // kNever: always make a merge commit; kOnly: fast-forward or fail (PredicateFailed).
  enum class FastForward { kAuto, kNever, kOnly };
  FastForward fast_forward = FastForward::kAuto;
  // Merge only if the destination head is this commit (PredicateFailed otherwise).
  std::optional<std::string> expected_dest_head;
  std::string message;  // default: "Merge '<source>' into '<dest>'"
  std::string committer;
  std::map<std::string, std::string> metadata;
  // Make the commit even when the merged tree equals the destination's.
  bool allow_empty = false;
  // The destination's staged writes stay staged on top of the new head; without it a
  // destination with staged writes is refused (PredicateFailed naming the branch).
  bool keep_staged = false;
  // The page of conflicts reported: paths > conflicts_after, at most conflicts_limit.
  std::string conflicts_after;
  size_t conflicts_limit = 1000;
};

struct MergeResult {
  enum class Outcome {
    kMerged,           // `commit` is the new commit (a merge commit unless squashed)
    kFastForwarded,    // the branch moved to the source; `commit` is the source commit
    kAlreadyUpToDate,  // the source is an ancestor of the head; `commit` is the head
    kNoChanges,        // the result equals the head's tree (and !allow_empty); nothing written
    kConflicts,        // `conflicts` lists them; nothing visible written, `commit` the head
  };
  Outcome outcome = Outcome::kAlreadyUpToDate;
  CommitInfo commit;
  std::vector<MergeConflict> conflicts;  // in path order: one page (see MergeOptions)
  std::string conflicts_next_after;      // pass as conflicts_after for the next page; empty: last
  std::string base;                      // the merge base used (empty: none, or not needed)
  int attempts = 0;                      // compare-and-set rounds used
  // Of the tree merge (the last attempt): ranges kept whole by id, read, and written.
  uint64_t ranges_reused = 0;
  uint64_t ranges_read = 0;
  uint64_t ranges_written = 0;
};

// Revert and cherry-pick: `parent_number` (1-based) picks the parent of a merge commit the
// change is taken against; 0 for a commit with one parent.
struct PickOptions {
  int parent_number = 0;
  MergeOptions::Strategy strategy = MergeOptions::Strategy::kFail;
  MergeResolver resolver;
  std::optional<std::string> expected_head;
  std::string message;  // default: "Revert <id>" / "Cherry-pick <id>"
  std::string committer;
  std::map<std::string, std::string> metadata;
  bool allow_empty = false;
  bool keep_staged = false;
  std::string conflicts_after;
  size_t conflicts_limit = 1000;
};

// A precondition of a conditional PutEntry / DeleteEntry, judged against what GetEntry at
// the branch would return (staged over committed; a staged deletion is absent).
struct EntryPrecondition {
  enum class Kind {
    kAbsent,  // no value at the path
    kExists,  // some value at the path
    kEquals,  // exactly `value` at the path
  };
  Kind kind = Kind::kAbsent;
  std::string value;  // kEquals only

  static EntryPrecondition Absent() { return {Kind::kAbsent, {}}; }
  static EntryPrecondition Exists() { return {Kind::kExists, {}}; }
  static EntryPrecondition Equals(std::string_view value) {
    return {Kind::kEquals, std::string(value)};
  }
};

// One write of an atomic batch (WriteEntries): `value` at `path`, or its deletion.
struct EntryWrite {
  std::string path;
  std::optional<std::string> value;  // nullopt: delete the path
};

// The writes of a batch, streamed: Next fills `write` and returns true, or returns false
// at the end, when status() says whether the stream ended cleanly.
class EntryWriteSource {
 public:
  virtual ~EntryWriteSource() = default;
  virtual bool Next(EntryWrite* write) = 0;
  virtual Status status() const = 0;
};

// UpdateEntry's function: the current value (nullopt: absent) to the new one (nullopt:
// delete the path), or an error, which UpdateEntry returns as is with nothing written.
using EntryUpdateFn =
    std::function<Result<std::optional<std::string>>(const std::optional<std::string>& current)>;

class RefStore {
 public:
  // Opens a ref store on `store`, keeping committed data in `ranges`. Both are borrowed.
  // Writes nothing, but the node record when the heartbeat is on (one MultiGet + one
  // SetIf; removed again when the RefStore is destroyed). Cost: none beyond setting up
  // the committed-data manager (and the heartbeat's thread). Errors: the store's.
  static Result<std::unique_ptr<RefStore>> Open(kv::Store& store, RangeStore& ranges,
                                                Options options = {});

  RefStore() = default;
  RefStore(const RefStore&) = delete;
  RefStore& operator=(const RefStore&) = delete;
  virtual ~RefStore() = default;

  // ---- Repositories -------------------------------------------------------------------
  // Creates `name` with an empty initial commit on `default_branch`. Writes, in order:
  // its partitions (one batch), the initial commit, the branch, the repository record;
  // a failure leaves nothing visible (the cleaner removes the rest).
  // AlreadyExists if a repository of that name exists (or is being deleted).
  virtual Result<RepositoryInfo> CreateRepository(std::string_view name,
                                                  std::string_view default_branch,
                                                  std::string_view storage_namespace) = 0;
  // Default branch "main", no storage namespace (no default arguments on the virtual).
  Result<RepositoryInfo> CreateRepository(std::string_view name,
                                          std::string_view default_branch = "main") {
    return CreateRepository(name, default_branch, {});
  }
  virtual Result<RepositoryInfo> GetRepository(std::string_view name) = 0;
  // Active repositories by name, one page at a time. Cost: one scan of up to limit + 1
  // records (plus those being deleted, which are skipped). A page reflects the store at
  // its own scan; names created or deleted between pages may or may not appear.
  virtual Result<RepositoryPage> ListRepositories(const ListOptions& options) = 0;
  // Every active repository, by name (all pages).
  Result<std::vector<RepositoryInfo>> ListRepositories();
  // Marks the repository DELETING (it vanishes from get/list at once), drops its
  // partitions, then removes the record. Calling it again (or the cleaner) finishes an
  // interrupted deletion. Its committed ranges go with the next range sweep.
  virtual Status DeleteRepository(std::string_view name) = 0;

  // ---- Branches ---------------------------------------------------------------------
  // Creates branch `name` at the commit `from_ref` resolves to, with nothing staged.
  // AlreadyExists if it exists. NotFound (and no branch) if the cleaner deleted that
  // commit, unreachable, while the branch was being created. Cost: 2 Gets of the
  // cleaner's fence beyond the resolve and the insert (more only if a sweep overlapped).
  virtual Result<BranchInfo> CreateBranch(std::string_view repo, std::string_view name,
                                          std::string_view from_ref) = 0;
  virtual Result<BranchInfo> GetBranch(std::string_view repo, std::string_view name) = 0;
  // Branches by name, one page at a time (as ListRepositories).
  virtual Result<BranchPage> ListBranches(std::string_view repo, const ListOptions& options) = 0;
  // Every branch, by name (all pages).
  Result<std::vector<BranchInfo>> ListBranches(std::string_view repo);
  // InvalidArgument for the default branch. Its staged writes are released.
  virtual Status DeleteBranch(std::string_view repo, std::string_view name) = 0;
  // Discards every staged write of the branch (also those of failed commits).
  virtual Status ResetBranch(std::string_view repo, std::string_view branch) = 0;

  // ---- Entries ----------------------------------------------------------------------
  // Stages `value` at `path` on `branch`. Once OK, the write is visible at the branch and
  // will be part of the next commit of the branch that succeeds (or is discarded by a
  // reset). Cost: 3 Gets (repository, branch, branch again) + 1 Set; one more Get + Set
  // each time a commit rotated the branch's token meanwhile.
  virtual Status PutEntry(std::string_view repo, std::string_view branch, std::string_view path,
                          std::string_view value) = 0;
  // Stages a deletion of `path` (a tombstone); OK whether or not the path exists.
  virtual Status DeleteEntry(std::string_view repo, std::string_view branch,
                             std::string_view path) = 0;
  // Conditional writes: as PutEntry / DeleteEntry, but only if `precondition` holds for
  // the path at the branch; PredicateFailed (naming the path, what was expected and what
  // was found) and nothing written otherwise. Linearizable with every other write, read
  // and commit of the branch, also across processes on a shared store. How, with only
  // per-key compare-and-set (refstore/conditional.cc):
  //   (1) read the branch, the path's staged records under its current and sealed tokens
  //       (one MultiGet) and, if nothing is staged, the head's committed value; judge
  //       (an undecided intent in a sealed token that would decide is aborted first, one
  //       CaS, and (1) read again: its writer could still decide it without the branch
  //       changing);
  //   (2) CaS the current token's record from the bytes read in (1) to an *intent*
  //       holding the record before and after; readers and commits still see "before";
  //   (3) re-read the branch: if it changed at all (a commit rotated the token, moved the
  //       head, a reset), CaS the intent to aborted and start again at (1);
  //   (4) CaS the intent to the new record. This CaS is the write's linearization point.
  // A commit that meets an undecided intent in a token it sealed aborts it (one CaS)
  // before folding, so of (4) and the commit's abort exactly one succeeds: either the
  // commit folds the new value, or the write starts over and is judged again against
  // what the commit folded. Any other write of the path between (1) and (4) changes the
  // record, so (2) or (4) fails and the write is judged again. A writer that dies leaves
  // an intent that reads as "before" until a commit aborts it or the token is released.
  // Conflict after 64 rounds lost to concurrent writes or commits.
  // Cost: a plain write's reads, plus the MultiGet of the path's records (and the head's
  // committed value when nothing is staged), and one CaS more (2 CaS instead of 1 Set).
  // Mixed versions: a refkv without this code reads an intent as a deletion; do not use
  // conditional writes while an older refkv writes or commits on the same store.
  virtual Status PutEntry(std::string_view repo, std::string_view branch, std::string_view path,
                          std::string_view value, const EntryPrecondition& precondition) = 0;
  virtual Status DeleteEntry(std::string_view repo, std::string_view branch, std::string_view path,
                             const EntryPrecondition& precondition) = 0;
  // Read-modify-write of `path` on `branch`: reads the value at the branch, calls `fn`,
  // and writes its result conditional on the value read (Equals, or Absent); on
  // PredicateFailed it reads and calls `fn` again, at most `max_attempts` times, then
  // Conflict. `fn` may run more than once and must have no side effects that matter.
  // A result equal to the current value (or nullopt over an absent path) writes nothing.
  Status UpdateEntry(std::string_view repo, std::string_view branch, std::string_view path,
                     const EntryUpdateFn& fn, int max_attempts = 16);

  // Atomic batch: stages every write of `source` on `branch` so that reads see all of
  // them or none, for any number of writes, holding one chunk (4 MiB or 1,024 writes) in
  // memory. A later write of the same path wins. How: the writes go under a private
  // staging token that nothing reads, in chunks (Store::Write, not relied on to be
  // atomic); then one CaS of the branch attaches the token as its newest sealed token
  // (between a fresh current token and the previous one), as a commit's rotation does.
  // Until that CaS nothing is visible; a failure or crash before it leaves an
  // unreferenced token, which the cleaner releases after Options::gc_grace (so a batch
  // must be staged within gc_grace). The next commit folds the batch like any sealed
  // token. Errors: those of the source or of a write (InvalidArgument naming the path,
  // as PutEntry), with nothing visible; NotFound for the repository or branch; Conflict
  // if the attaching CaS lost 1,000 races. Cost: N/1,024 batched writes, then as a
  // commit's rotation (1 Get + 1 CaS of the branch per round). Each batch adds one
  // sealed token (one more key per point read at the branch) until the next commit.
  virtual Status WriteEntries(std::string_view repo, std::string_view branch,
                              EntryWriteSource& source) = 0;
  Status WriteEntries(std::string_view repo, std::string_view branch,
                      const std::vector<EntryWrite>& batch);

  // The value of `path` at `ref`. NotFound if absent (or deleted in staging).
  // Cost at a branch: 1 Get (repository), 1 MultiGet resolving the ref, 1 MultiGet over
  // the branch's current and sealed staging tokens (however many are sealed); if not
  // staged, 1 more Get of the branch (to detect a concurrent commit) and a committed read
  // (commit records are cached; the range read is cached by the committed layer).
  virtual Result<std::string> GetEntry(std::string_view repo, std::string_view ref,
                                       std::string_view path) = 0;
  // Entries at `ref` in path order, one page at a time.
  virtual Result<EntryPage> ListEntries(std::string_view repo, std::string_view ref,
                                        const ListEntriesOptions& options) = 0;
  Result<EntryPage> ListEntries(std::string_view repo, std::string_view ref) {
    return ListEntries(repo, ref, ListEntriesOptions{});
  }

  // ---- Commits ----------------------------------------------------------------------
  // Commits everything staged on `branch` (see CommitResult for the three outcomes).
  // Writes a concurrent commit took are kCommittedConcurrently (naming that commit), or
  // kNoChanges if that commit found they changed nothing and released them.
  // Conflict (retryable) if the branch kept changing through every attempt: the staged
  // writes stay staged and the next commit includes them. Conflict also if a concurrent
  // ResetBranch discarded them (the message says so; nothing was committed).
  // PredicateFailed if expected_parent is set and the head differs. Never loses a
  // staged write.
  virtual Result<CommitResult> Commit(std::string_view repo, std::string_view branch,
                                      const CommitRequest& request) = 0;
  // The commit `ref` resolves to (`show`).
  virtual Result<CommitInfo> GetCommit(std::string_view repo, std::string_view ref) = 0;
  // The history of `ref`, newest first (by generation, following every parent; ties by
  // the greatest id), filtered by `options` (LogOptions).
  virtual Result<LogPage> Log(std::string_view repo, std::string_view ref,
                              const LogOptions& options) = 0;
  Result<LogPage> Log(std::string_view repo, std::string_view ref) {
    return Log(repo, ref, LogOptions{});
  }

  // ---- Tags -------------------------------------------------------------------------
  // AlreadyExists if the tag exists. Tags are immutable. A commit deleted by the cleaner
  // meanwhile: NotFound, as CreateBranch.
  virtual Result<TagInfo> CreateTag(std::string_view repo, std::string_view name,
                                    std::string_view ref) = 0;
  virtual Result<TagInfo> GetTag(std::string_view repo, std::string_view name) = 0;
  // Tags by name, one page at a time (as ListRepositories).
  virtual Result<TagPage> ListTags(std::string_view repo, const ListOptions& options) = 0;
  // Every tag, by name (all pages).
  Result<std::vector<TagInfo>> ListTags(std::string_view repo);
  virtual Status DeleteTag(std::string_view repo, std::string_view name) = 0;

  // ---- Diff -------------------------------------------------------------------------
  // What changes from the committed data of `left` to that of `right`, in path order
  // (staged writes are not included), at most `limit` entries (0 = all).
  // Ranges with equal ids are skipped without being read.
  virtual Result<std::vector<EntryDiff>> Diff(std::string_view repo, std::string_view left,
                                              std::string_view right, size_t limit) = 0;
  Result<std::vector<EntryDiff>> Diff(std::string_view repo, std::string_view left,
                                      std::string_view right) {
    return Diff(repo, left, right, 0);
  }
  // The staged (uncommitted) changes of `branch` against its head, in path order.
  virtual Result<std::vector<EntryDiff>> DiffUncommitted(std::string_view repo,
                                                         std::string_view branch, size_t limit) = 0;
  Result<std::vector<EntryDiff>> DiffUncommitted(std::string_view repo, std::string_view branch) {
    return DiffUncommitted(repo, branch, 0);
  }

  // ---- Ref expressions and ancestry (refstore/history.cc) ----------------------------
  // The commit `expr` (a ref expression, see "Refs" above) names. Cost: the plain lookup
  // (1 MultiGet), a bounded scan only when no branch, tag or id matched and the base
  // looks like a prefix, and one commit record per step (cached).
  virtual Result<CommitInfo> Resolve(std::string_view repo, std::string_view expr) = 0;
  // A best common ancestor of the commits `a` and `b` name (the one of highest generation;
  // ties by the greatest id), nullopt if their histories are unrelated. Every parent is
  // followed (merge commits included). Cost: O(commits above the base) ancestry-index
  // reads, batched per step of the walk.
  virtual Result<std::optional<CommitInfo>> MergeBase(std::string_view repo, std::string_view a,
                                                      std::string_view b) = 0;
  // True if the commit `ancestor` names is the commit `descendant` names or reachable
  // from it through parents (any parent). Cost: O(commits between them) index reads.
  virtual Result<bool> IsAncestor(std::string_view repo, std::string_view ancestor,
                                  std::string_view descendant) = 0;
  // Three-dot compare, the preview of merging `head_ref` into `base_ref`: what changed
  // from their merge base to the commit `head_ref` names (committed data), in path order,
  // at most `limit` entries (0 = all). NotFound if they have no common ancestor. Cost:
  // MergeBase plus Diff.
  virtual Result<std::vector<EntryDiff>> Compare(std::string_view repo, std::string_view base_ref,
                                                 std::string_view head_ref, size_t limit) = 0;
  // ---- Merge, revert, cherry-pick, reset ----------------------------------------------
  // Merges the commit `source_ref` resolves to into `dest_branch` (see MergeResult for
  // the outcomes). The base is the best common ancestor of the destination head and the
  // source from the ancestry index: the one of highest generation, ties (criss-cross
  // histories) broken by the greatest commit id, so every call picks the same one; no
  // common ancestor: the empty tree. A merge commit records "merge.base", "merge.source"
  // and "merge.strategy" in its metadata (over the caller's keys of those names).
  // The tree merge works on ranges (CommittedManager::Merge). Concurrency: optimistic,
  // as Commit; a lost compare-and-set whose destination head did not move repeats only
  // the compare-and-set, one whose head moved merges again against the new head.
  // PredicateFailed: expected_dest_head differs; the destination has staged writes (and
  // !keep_staged; the message names the branch); kOnly and no fast-forward is possible.
  // Conflict: lost every race (max_commit_attempts). Nothing is written on any error or
  // on kConflicts but unreferenced ranges (the cleaner removes them).
  virtual Result<MergeResult> Merge(std::string_view repo, std::string_view dest_branch,
                                    std::string_view source_ref, const MergeOptions& options) = 0;
  // Commits on `branch` the inverse of the change `ref` made against its parent
  // (options.parent_number for a merge commit: InvalidArgument naming the parents if it
  // is missing or out of range): a three-way merge with base = that commit, source = its
  // parent, destination = the head; one parent. kNoChanges unless allow_empty when the
  // result equals the head. Conflicts, staged writes, races: as Merge.
  virtual Result<MergeResult> Revert(std::string_view repo, std::string_view branch,
                                     std::string_view ref, const PickOptions& options) = 0;
  // Commits on `branch` the change `ref` made against its parent (base = the parent,
  // source = the commit). Otherwise as Revert.
  virtual Result<MergeResult> CherryPick(std::string_view repo, std::string_view branch,
                                         std::string_view ref, const PickOptions& options) = 0;
  // Moves `branch` to the commit `ref` resolves to (a hard reset) by compare-and-set.
  // PredicateFailed: the head is not expected_head (when given), or writes are staged and
  // !discard_staged (the message names the branch). With discard_staged the staged writes
  // are released. Returns the branch as moved.
  virtual Result<BranchInfo> ResetBranchTo(std::string_view repo, std::string_view branch,
                                           std::string_view ref,
                                           std::optional<std::string> expected_head,
                                           bool discard_staged) = 0;
  // Drops the staged writes of `branch` at exactly `path_or_prefix` (is_prefix false) or
  // at every path starting with it: one range delete per staging token (current and
  // sealed), whatever their number.
  virtual Status ResetEntries(std::string_view repo, std::string_view branch,
                              std::string_view path_or_prefix, bool is_prefix) = 0;

  // ---- Cleaner ----------------------------------------------------------------------
  // Removes what nothing reachable uses: finishes interrupted repository deletions, drops
  // partitions of deleted or half-created repositories, releases staging tokens no branch
  // references, deletes commit records no branch or tag reaches through parents (those of
  // commit attempts that lost their race, the history of deleted branches) with their
  // index keys, index keys whose commit record is gone (a crash), and deletes ranges and
  // metaranges no remaining commit names. Only touches things older than
  // Options::gc_grace (ranges: unreachable at all); safe while writers and committers run
  // (a sweep holds new commits and ref creations off until it is done, fenced by a
  // lease). Busy if another sweep holds the fence.
  virtual Result<GcStats> CollectGarbage() = 0;
};

}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_REFSTORE_H_
