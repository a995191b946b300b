// refstore: a Git-like versioned store of entries (path -> value bytes) on a kv::Store.
//
// Repositories hold branches, commits and tags; a branch has staged (uncommitted) writes
// on top of its head commit. Commits are made with optimistic compare-and-set on the
// branch record only (no locks, no transactions, no Store::Write), so they are safe across
// threads and, on a shared driver, across processes. Committed data lives in immutable,
// content-addressed ranges (refstore/committed/), so a commit costs O(size of change).
//
// Refs: wherever a `ref` is taken it is a branch name, a tag name or a full commit id,
// tried in that order (one batched lookup). Reading at a branch sees its staged writes
// over its head commit.
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
  // Tests only: the code schema this node reports, fences against and checks at each
  // commit, as if it were an older refkv. 0: kCodeSchema (refstore/schema.h).
  int64_t code_schema = 0;
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
  // The history of `ref`, newest first (by generation, following every parent).
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
