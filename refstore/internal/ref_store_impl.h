// The RefStore implementation. Its methods are split by topic over refstore/*.cc:
//   ref_store.cc   repositories, branches, tags, ref resolution, the commit cache
//   entries.cc     staged writes, reads and listings at a ref, uncommitted diff
//   commit.cc      the optimistic commit, log, diff
//   gc.cc          the cleaner and the range-sweep fence
//
// Thread-safety: as RefStore. The only mutable in-memory state is the commit cache
// (immutable records, guarded by cache_mu_).
#ifndef REFKV_REFSTORE_INTERNAL_REF_STORE_IMPL_H_
#define REFKV_REFSTORE_INTERNAL_REF_STORE_IMPL_H_

#include <atomic>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_map>

#include "migrate/nodes.h"
#include "refstore/committed/committed.h"
#include "refstore/internal/codec.h"
#include "refstore/internal/commit_graph.h"
#include "refstore/internal/keys.h"
#include "refstore/refstore.h"
#include "refstore/schema.h"

namespace refkv::refstore::internal {

class RefStoreImpl final : public RefStore {
 public:
  using RefStore::CreateRepository;
  using RefStore::Diff;
  using RefStore::DiffUncommitted;
  using RefStore::ListEntries;
  using RefStore::Log;

  // `committed` may be any CommittedManager (tests inject failing ones).
  // `schema`: the store's schema version at open (refstore/schema.h). New commits write
  // the index keys of the store's schema as it is when they are written (CommitSchema).
  // `node`: the heartbeat of this node on a shared store, or nullptr.
  RefStoreImpl(kv::Store& store, std::unique_ptr<CommittedManager> committed, Options options,
               int64_t schema, std::unique_ptr<kv::migrate::NodeHeartbeat> node = nullptr,
               int64_t code_schema = kCodeSchema)
      : store_(store),
        committed_(std::move(committed)),
        options_(options),
        code_schema_(code_schema),
        schema_(schema),
        node_(std::move(node)) {}

  Result<RepositoryInfo> CreateRepository(std::string_view name, std::string_view default_branch,
                                          std::string_view storage_namespace) override;
  Result<RepositoryInfo> GetRepository(std::string_view name) override;
  using RefStore::ListRepositories;
  Result<RepositoryPage> ListRepositories(const ListOptions& options) override;
  Status DeleteRepository(std::string_view name) override;

  Result<BranchInfo> CreateBranch(std::string_view repo, std::string_view name,
                                  std::string_view from_ref) override;
  Result<BranchInfo> GetBranch(std::string_view repo, std::string_view name) override;
  using RefStore::ListBranches;
  Result<BranchPage> ListBranches(std::string_view repo, const ListOptions& options) override;
  Status DeleteBranch(std::string_view repo, std::string_view name) override;
  Status ResetBranch(std::string_view repo, std::string_view branch) override;

  Status PutEntry(std::string_view repo, std::string_view branch, std::string_view path,
                  std::string_view value) override;
  Status DeleteEntry(std::string_view repo, std::string_view branch,
                     std::string_view path) override;
  Status PutEntry(std::string_view repo, std::string_view branch, std::string_view path,
                  std::string_view value, const EntryPrecondition& precondition) override;
  Status DeleteEntry(std::string_view repo, std::string_view branch, std::string_view path,
                     const EntryPrecondition& precondition) override;
  using RefStore::WriteEntries;
  Status WriteEntries(std::string_view repo, std::string_view branch,
                      EntryWriteSource& source) override;
  Result<std::string> GetEntry(std::string_view repo, std::string_view ref,
                               std::string_view path) override;
  Result<EntryPage> ListEntries(std::string_view repo, std::string_view ref,
                                const ListEntriesOptions& options) override;

  Result<CommitResult> Commit(std::string_view repo, std::string_view branch,
                              const CommitRequest& request) override;
  Result<CommitInfo> GetCommit(std::string_view repo, std::string_view ref) override;
  Result<LogPage> Log(std::string_view repo, std::string_view ref,
                      const LogOptions& options) override;

  Result<TagInfo> CreateTag(std::string_view repo, std::string_view name,
                            std::string_view ref) override;
  Result<TagInfo> GetTag(std::string_view repo, std::string_view name) override;
  using RefStore::ListTags;
  Result<TagPage> ListTags(std::string_view repo, const ListOptions& options) override;
  Status DeleteTag(std::string_view repo, std::string_view name) override;

  Result<std::vector<EntryDiff>> Diff(std::string_view repo, std::string_view left,
                                      std::string_view right, size_t limit) override;
  Result<std::vector<EntryDiff>> DiffUncommitted(std::string_view repo, std::string_view branch,
                                                 size_t limit) override;

  Result<MergeResult> Merge(std::string_view repo, std::string_view dest_branch,
                            std::string_view source_ref, const MergeOptions& options) override;
  Result<MergeResult> Revert(std::string_view repo, std::string_view branch, std::string_view ref,
                             const PickOptions& options) override;
  Result<MergeResult> CherryPick(std::string_view repo, std::string_view branch,
                                 std::string_view ref, const PickOptions& options) override;
  Result<BranchInfo> ResetBranchTo(std::string_view repo, std::string_view branch,
                                   std::string_view ref, std::optional<std::string> expected_head,
                                   bool discard_staged) override;
  Status ResetEntries(std::string_view repo, std::string_view branch,
                      std::string_view path_or_prefix, bool is_prefix) override;

  Result<GcStats> CollectGarbage() override;

  // history.cc
  Result<CommitInfo> Resolve(std::string_view repo, std::string_view expr) override;
  Result<std::optional<CommitInfo>> MergeBase(std::string_view repo, std::string_view a,
                                              std::string_view b) override;
  Result<bool> IsAncestor(std::string_view repo, std::string_view ancestor,
                          std::string_view descendant) override;
  Result<std::vector<EntryDiff>> Compare(std::string_view repo, std::string_view base_ref,
                                         std::string_view head_ref, size_t limit) override;

 private:
  // An active repository and its partitions.
  struct Repo {
    pb::Repository record;
    std::string refs;     // partition
    std::string staging;  // partition
  };
  // A branch record and its exact stored bytes (the expected value of a CaS).
  struct BranchState {
    pb::Branch branch;
    std::string raw;
  };
  // What a ref resolved to: the commit, and the branch when the ref named one.
  struct Resolved {
    std::optional<BranchState> branch;
    pb::Commit commit;
  };
  // The staged state of a path: a value, or a tombstone (nullopt).
  using Staged = std::optional<std::string>;

  // ref_store.cc
  // First thing of every write: OK (a guard held for the write) unless this node is
  // fenced (VersionMismatch, see refstore.h "Nodes"). Free without a heartbeat.
  Result<kv::migrate::NodeHeartbeat::WriteGuard> BeginWrite();
  Result<Repo> LoadRepo(std::string_view name);  // NotFound if absent or DELETING
  Result<BranchState> LoadBranch(const Repo& repo, std::string_view name);
  Result<pb::Commit> LoadCommit(const Repo& repo, std::string_view id);
  Result<Resolved> Resolve(const Repo& repo, std::string_view ref);
  // Inserts `commit` (its id is computed here). An identical existing record is success.
  // `format_after` (optional) receives CommitMetaRangeFormat() as read right after the
  // record was inserted (kFlat if an identical record existed).
  Status InsertCommit(const Repo& repo, pb::Commit* commit,
                      MetaRangeFormat* format_after = nullptr);
  // The schema whose index keys a commit written now must carry: the store's current
  // schema, read from its metadata (one MultiGet), so that a RefStore opened before a
  // migration follows it; while a step runs, the higher schema of the step (its keys
  // are written ahead of the switch; the step writes the same bytes). Without metadata
  // (a bare kv::Store): the schema given at construction. VersionMismatch if the store
  // is at a schema newer than code_schema_ (a newer refkv migrated it): no more commits.
  // `migrating` (optional) receives whether a migration step is running.
  Result<int64_t> CommitSchema(bool* migrating = nullptr);
  // How a commit stores its metarange now: two-level at schema >= 4 while no step runs;
  // flat otherwise (so a 4->3 step never misses a root written behind its cursor).
  Result<MetaRangeFormat> CommitMetaRangeFormat();
  // Drops the repository's partitions and its record (the record must be DELETING).
  Status FinishDelete(const pb::Repository& record, const std::string& raw);
  void CacheCommit(const std::string& refs, const pb::Commit& commit);
  // kv::Store::Sync() when `enabled` (Options::sync_commits or sync_staged_writes): the
  // last step of an acknowledged write; `what` and `name` say what is made durable.
  Status SyncIf(bool enabled, std::string_view what, std::string_view name);
  // Releases the staged entries of `tokens` (one DeleteRange each); errors are ignored:
  // the cleaner releases what is left.
  void ReleaseTokens(const Repo& repo, const std::vector<std::string>& tokens);
  // After a commit: deletes the staging `keys` it read (one batch), or releases `tokens`
  // whole if `keys` is nullopt (too many to list). Errors are ignored, as above.
  void ReleaseStaged(const Repo& repo, const std::vector<std::string>& tokens,
                     const std::optional<std::vector<std::string>>& keys);

  // history.cc
  // `ref` holds '~' or '^' (ref_expr.h): the base resolved by Resolve, then each step.
  Result<Resolved> ResolveExpression(const Repo& repo, std::string_view ref);
  // `prefix` matched no branch, tag or id and looks like an id prefix (IsCommitIdPrefix).
  Result<Resolved> ResolvePrefix(const Repo& repo, std::string_view prefix);

  // entries.cc
  Status StageWrite(std::string_view repo, std::string_view branch, std::string_view path,
                    const pb::StagedEntry& entry);
  // conditional.cc: the conditional write of `after` (a value or a tombstone).
  Status StageConditional(std::string_view repo, std::string_view branch, std::string_view path,
                          const pb::StagedEntry& after, const EntryPrecondition& precondition);
  // Every staged path of `tokens` (newest first wins) in path order, from `start`,
  // restricted to `prefix`, at most `limit` paths (0 = all). `names_only`: a staged
  // value is returned empty (not a tombstone), its bytes neither copied nor decoded.
  Result<std::vector<std::pair<std::string, Staged>>> ReadStaged(
      const Repo& repo, const std::vector<std::string>& tokens, std::string_view prefix,
      std::string_view start, size_t limit, bool names_only = false);

  // commit.cc
  // The newest commit from `head` back to (excluding) `min_generation` that folded one
  // of `tokens`, following first parents; nullopt if none did.
  Result<std::optional<pb::Commit>> FindFoldingCommit(const Repo& repo, std::string_view head,
                                                      const std::set<std::string>& tokens,
                                                      int64_t min_generation);
  // merge.cc
  // What a merge-like call does against one destination head (see merge.cc).
  struct MergePlan {
    bool up_to_date = false;                      // nothing to do: report the head
    std::string fast_forward_to;                  // move the branch here (no commit)
    std::string base_metarange;                   // else: the three-way merge of these two
    std::string source_metarange;                 //   into the head's tree
    std::string base_id;                          // reported as MergeResult::base
    std::vector<std::string> extra_parents;       // after the head
    int64_t min_generation = 0;                   // the new commit's generation is above this too
    std::map<std::string, std::string> metadata;  // recorded over the caller's
  };
  // The caller's side of a merge-like call (the fields of MergeOptions it shares).
  struct MergeWrite {
    MergeOptions::Strategy strategy = MergeOptions::Strategy::kFail;
    MergeResolver resolver;
    std::optional<std::string> expected_head;
    std::string message;
    std::string committer;
    std::map<std::string, std::string> metadata;
    bool allow_empty = false;
    bool keep_staged = false;
    std::string conflicts_after;
    size_t conflicts_limit = 1000;
    std::string what;                  // "merge into" / "revert on" / "cherry-pick on" (messages)
    std::string fence_before_resolve;  // the sweep fence read before the source was resolved
  };
  // The optimistic loop shared by Merge, Revert and CherryPick: plan against the head,
  // merge the trees, insert the commit, compare-and-set the branch.
  Result<MergeResult> MergeIntoBranch(
      const Repo& repo, std::string_view branch, const MergeWrite& write,
      const std::function<Result<MergePlan>(const pb::Commit&)>& plan);
  // True if the branch has staged writes (any entry in its token, or sealed tokens).
  Result<bool> HasStaged(const Repo& repo, const pb::Branch& branch);
  // After moving the existing branch record `key` from `raw_before` to `raw_after` (at
  // `commit_id`, resolved after `fence_before` was read): OK if no sweep overlapped or the
  // record survived it; NotFound (and the branch moved back) if a sweep deleted it.
  Status ConfirmMovedBranch(const Repo& repo, std::string_view fence_before,
                            std::string_view commit_id, const std::string& key,
                            const std::string& raw_after, const std::string& raw_before);
  Result<MergeResult> Pick(std::string_view repo_name, std::string_view branch,
                           std::string_view ref, const PickOptions& options, bool revert);

  // gc.cc: the range-sweep fence. A commit reads it before building committed data and
  // again after writing its commit record; it may proceed only if both reads are equal and
  // no sweep is running (see gc.cc).
  Result<std::string> ReadSweepFence();
  bool SweepRunning(std::string_view fence) const;
  // The fenced sweep: unreachable commit records older than `cutoff` (SweepCommits, per
  // repository; it adds the metaranges of the records it keeps to `metaranges`), then
  // metaranges and ranges no commit record names.
  Status SweepRanges(int64_t cutoff, GcStats* stats);
  Status SweepCommits(const pb::Repository& record, int64_t cutoff, int64_t deadline,
                      std::set<std::string>* metaranges, GcStats* stats);
  // Deletes the index keys ("a/", "k/") in `refs` whose commit record is absent: ids the
  // graph does not keep, each looked up again (one MultiGet) before its keys go.
  Status SweepOrphanIndex(const std::string& refs, const CommitGraph& graph, int64_t deadline,
                          GcStats* stats);
  // After writing the ref `ref_key` (stored bytes `ref_raw`) at `commit_id`, with
  // `fence_before` read before the commit was resolved: OK if no sweep overlapped or the
  // record survived it; NotFound (and the ref removed again) if a sweep deleted it.
  Status ConfirmRefTarget(const Repo& repo, std::string_view fence_before,
                          std::string_view commit_id, std::string_view ref_key,
                          const std::string& ref_raw);

  kv::Store& store_;
  std::unique_ptr<CommittedManager> committed_;
  const Options options_;
  const int64_t code_schema_;    // kCodeSchema, or another in tests (refstore/test_seam.h)
  std::atomic<int64_t> schema_;  // the schema last seen by CommitSchema

  std::mutex cache_mu_;
  std::unordered_map<std::string, pb::Commit> cache_;  // key: refs partition + "\0" + id
  std::deque<std::string> cache_order_;                // FIFO eviction

  std::unique_ptr<kv::migrate::NodeHeartbeat> node_;  // nullptr: no heartbeat
};

// Sleeps before retry `attempt` of a compare-and-set loop: full jitter, exponential up to
// Options::backoff_max (commit.cc; merge.cc).
void Backoff(const Options& options, int attempt);

// Wraps errors with "<what> '<name>'" context.
Status Annotate(const Status& status, std::string_view what, std::string_view name);

}  // namespace refkv::refstore::internal

namespace refkv::refstore {
// A RefStore on an existing CommittedManager (tests; embedders with their own manager).
// `schema`: the store's schema version (refstore/schema.h; RefStore::Open reads it).
std::unique_ptr<RefStore> NewRefStore(kv::Store& store, std::unique_ptr<CommittedManager> committed,
                                      Options options = {}, int64_t schema = kCodeSchema);
}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_INTERNAL_REF_STORE_IMPL_H_
