// The optimistic commit, log, show and diff.
//
// Commit, with nothing but Get/Set/SetIf on the branch record:
//   (1) CaS the branch: its staging token becomes sealed (newest first), a fresh token
//       takes new writes. The token sealed here is "ours": the writes this call commits.
//   (2) Read the base commit and every sealed token (ours and those of earlier commits
//       that failed), Apply them to the base's committed data, insert the commit record
//       (content-addressed, insert-only).
//   (3) CaS the branch to the new commit with no sealed tokens; then release the tokens'
//       staged entries (the keys step 2 read, in one batch of deletes; a DeleteRange per
//       token for big commits; only a speed-up, the cleaner does the rest).
// Durability (Options::sync_commits): nothing above syncs; every OK return syncs the store
// once, after the CaS that decided what it reports (step 3, or the release of sealed
// tokens, or a concurrent commit's step 3). The ranges (in the same store), the record and
// the head then survive together: the store loses only a suffix of its writes.
// The staged entries are streamed from one scan per sealed token into Apply.
// A call commits its "targets": the tokens that held staged writes when it began (the
// current one and the sealed ones at its first read). If a CaS fails the branch changed:
// back off (full jitter) and re-read it. Targets that are neither current nor sealed any
// more were folded by another call (or discarded by a reset): if none is left, we find the
// commit that lists one in folded_tokens and report kCommittedConcurrently - never "no
// changes" for writes someone else committed. If no commit lists them but the branch's
// released_tokens do, a concurrent call found they changed nothing (typically: the writes
// had been committed by yet another call before this one began) and released them:
// kNoChanges, as this call would have found itself. Anything else is a reset (or a delete
// and re-create): Conflict saying so. Otherwise
// step (2) runs again on the new state (a target already sealed is not rotated again).
// After max_commit_attempts: Conflict; our writes stay sealed and the next commit folds
// them.
//
// The range-sweep fence (gc.cc) is read before Apply and after the commit record is
// written; if a sweep ran in between, the ranges the record points at may have been
// swept, so step (2) runs again (Apply re-stores any missing range).
#include <algorithm>
#include <queue>
#include <random>
#include <set>
#include <thread>

#include "base/random.h"
#include "refstore/internal/ref_store_impl.h"
#include "refstore/internal/staged.h"

namespace refkv::refstore::internal {

void Backoff(const Options& options, int attempt) {
  std::mt19937_64& rng = ThreadRng();
  int64_t cap = options.backoff_base.count() << std::min(attempt, 20);
  cap = std::min<int64_t>(cap, options.backoff_max.count());
  if (cap <= 0) return;
  // Full jitter, in microseconds.
  std::uniform_int_distribution<int64_t> dist(0, cap * 1000);
  std::this_thread::sleep_for(std::chrono::microseconds(dist(rng)));
}

namespace {

// Up to this many staged entries a commit releases by point deletes of the keys it read
// (one Store::Write); beyond, by one DeleteRange per token. On RocksDB a DeleteRange
// holds every key stripe (it stalls every writer of the store) and leaves a range
// tombstone that later scans and reads of the partition must fragment and check.
constexpr size_t kMaxPointReleases = 4096;

// How many tokens released without a commit a branch remembers (pb::Branch
// released_tokens): enough for the commits that can race one another in practice; a
// call that loses this many rounds reports its writes as discarded (Conflict).
constexpr int kMaxReleasedTokens = 16;

// Records in `branch` that `tokens` were released without a commit record.
void RememberReleased(pb::Branch* branch, const std::vector<std::string>& tokens) {
  if (tokens.empty()) return;
  std::vector<std::string> kept(tokens.begin(), tokens.end());
  for (const auto& t : branch->released_tokens()) {
    if (static_cast<int>(kept.size()) >= kMaxReleasedTokens) break;
    if (std::find(tokens.begin(), tokens.end(), t) == tokens.end()) kept.push_back(t);
  }
  if (static_cast<int>(kept.size()) > kMaxReleasedTokens) kept.resize(kMaxReleasedTokens);
  branch->clear_released_tokens();
  for (auto& t : kept) branch->add_released_tokens(std::move(t));
}

// The staged entries of the sealed tokens (newest first) as one sorted stream of changes:
// a merge of one scan per token in which the newest token wins a path. Apply consumes it
// directly, so a commit holds one entry per token in memory, not all it commits.
class StagedChanges final : public ChangeSource {
 public:
  // Opens one scan per token of `tokens`. Empty() tells whether anything is staged.
  static Result<std::unique_ptr<StagedChanges>> Open(kv::Store& store, const std::string& partition,
                                                     const std::vector<std::string>& tokens) {
    std::unique_ptr<StagedChanges> out(new StagedChanges(store, partition));
    for (const auto& token : tokens) {
      kv::ScanOptions scan;
      scan.start = token;
      scan.end = kv::PrefixUpperBound(token);
      REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(partition, scan));
      REFKV_RETURN_IF_ERROR(it->status());
      out->cursors_.push_back({token.size(), std::move(it)});
    }
    return out;
  }

  bool Empty() const {
    for (const auto& c : cursors_) {
      if (c.it->Valid()) return false;
    }
    return true;
  }

  // The staging keys (token + path) of every entry consumed so far, for the release of
  // the tokens after the commit; nullopt once there were more than `limit`.
  std::optional<std::vector<std::string>> TakeKeys() {
    if (keys_overflow_) return std::nullopt;
    return std::move(keys_);
  }

  bool Next(Change* change) override {
    while (status_.ok()) {
      bool any = false;
      std::string_view best_path;
      for (const auto& c : cursors_) {
        if (!c.it->Valid()) {
          if (!c.it->status().ok()) {
            status_ = c.it->status();
            return false;
          }
          continue;
        }
        std::string_view path = c.it->key().substr(c.prefix);
        if (!any || path < best_path) {
          any = true;
          best_path = path;
        }
      }
      if (!any) return false;
      change->path.assign(best_path);
      // The newest token whose record stands for an entry wins the path (an intent over
      // nothing defers to older tokens); every cursor at the path moves on.
      std::optional<pb::StagedEntry> winner;
      for (auto& c : cursors_) {
        if (!c.it->Valid() || c.it->key().substr(c.prefix) != change->path) continue;
        if (!winner) {
          winner = Resolve(std::string(c.it->key()), std::string(c.it->value()));
          if (!status_.ok()) return false;
        }
        if (!keys_overflow_) {
          if (keys_.size() < kMaxPointReleases) {
            keys_.emplace_back(c.it->key());
          } else {
            keys_overflow_ = true;
            keys_.clear();
          }
        }
        c.it->Next();
      }
      if (!winner) continue;  // nothing is staged at this path after all
      if (winner->kind_case() == pb::StagedEntry::kValue) {
        change->value = std::move(*winner->mutable_value());
      } else {
        change->value.reset();
      }
      return true;
    }
    return false;
  }

  Status status() const override { return status_; }

 private:
  struct Cursor {
    size_t prefix;  // the token's length: a key is token + path
    std::unique_ptr<kv::Iterator> it;
  };
  StagedChanges(kv::Store& store, std::string partition)
      : store_(store), partition_(std::move(partition)) {}

  // What the record `raw` at `key` stands for. An undecided intent of a conditional write
  // (refstore/conditional.cc) is aborted first, by a compare-and-set that races its
  // writer's own: whichever wins decides what this commit folds. Sets status_ on error.
  std::optional<pb::StagedEntry> Resolve(const std::string& key, std::string raw) {
    const std::string where = partition_ + "/" + kv::Printable(key);
    for (int round = 0; round < 16; ++round) {
      pb::StagedEntry entry;
      status_ = Decode(raw, &entry, where);
      if (!status_.ok()) return std::nullopt;
      if (IsUndecidedIntent(entry)) {
        entry.mutable_intent()->set_aborted(true);
        std::string aborted = Encode(entry);
        Status s = store_.SetIf(partition_, key, aborted, kv::Predicate::Equals(raw));
        if (s.ok()) {
          raw = std::move(aborted);
        } else if (s.IsPredicateFailed() || s.IsUnknownOutcome()) {
          auto now = store_.Get(partition_, key);
          if (now.status().IsNotFound()) return std::nullopt;  // released by another commit
          if (!now.ok()) {
            status_ = Annotate(now.status(), "staged record", where);
            return std::nullopt;
          }
          raw = std::move(*now);
          continue;
        } else {
          status_ = Annotate(s, "aborting the intent at", where);
          return std::nullopt;
        }
      }
      auto decoded = DecodeStaged(raw, where);
      if (!decoded.ok()) {
        status_ = decoded.status();
        return std::nullopt;
      }
      return std::move(*decoded);
    }
    status_ = Status::Conflict("the intent at " + where + " kept changing while a commit read it");
    return std::nullopt;
  }

  kv::Store& store_;
  const std::string partition_;
  std::vector<Cursor> cursors_;
  Status status_;
  std::vector<std::string> keys_;
  bool keys_overflow_ = false;
};

}  // namespace

void RefStoreImpl::ReleaseStaged(const Repo& repo, const std::vector<std::string>& tokens,
                                 const std::optional<std::vector<std::string>>& keys) {
  if (!keys) return ReleaseTokens(repo, tokens);
  // Entries staged into these tokens after our scan (a writer that raced the rotation
  // re-stages them in the new token) stay behind until the cleaner releases the tokens.
  kv::WriteBatch batch;
  for (const auto& key : *keys) batch.Delete(key);
  if (!batch.empty()) (void)store_.Write(repo.staging, batch);
}

Result<std::optional<pb::Commit>> RefStoreImpl::FindFoldingCommit(
    const Repo& repo, std::string_view head, const std::set<std::string>& tokens,
    int64_t min_generation) {
  std::string id(head);
  while (!id.empty()) {
    REFKV_ASSIGN_OR_RETURN(pb::Commit commit, LoadCommit(repo, id));
    if (commit.generation() <= min_generation) break;
    for (const auto& t : commit.folded_tokens()) {
      if (tokens.count(t)) return std::optional<pb::Commit>(commit);
    }
    id = commit.parents_size() > 0 ? commit.parents(0) : "";
  }
  return std::optional<pb::Commit>();
}

Result<CommitResult> RefStoreImpl::Commit(std::string_view repo_name, std::string_view branch_name,
                                          const CommitRequest& request) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidateRefName("branch", branch_name));
  size_t info_bytes = request.message.size() + request.committer.size();
  for (const auto& [k, v] : request.metadata) info_bytes += k.size() + v.size();
  if (info_bytes > kMaxCommitInfoBytes) {
    return Status::InvalidArgument("commit to branch '" + std::string(branch_name) +
                                   "': message, committer and metadata are " +
                                   std::to_string(info_bytes) + " bytes, more than the limit of " +
                                   std::to_string(kMaxCommitInfoBytes) +
                                   " bytes (refstore::kMaxCommitInfoBytes)");
  }
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  const std::string key = BranchKey(branch_name);
  const int64_t start = NowMs();
  // What this call must commit: every token holding writes staged before it began (the
  // current token and the sealed ones at its first read of the branch).
  std::set<std::string> targets;
  int64_t base_generation = 0;  // the head's generation at that first read
  std::string written;          // the last commit id this call inserted
  // Every OK return: the one Sync of a durable commit (Options::sync_commits), after the
  // branch CaS that decided the outcome (ours or the concurrent commit's we report).
  auto acknowledge = [&](CommitResult result) -> Result<CommitResult> {
    REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, "commit to branch", branch_name));
    return result;
  };
  int attempt = 0;
  while (true) {
    if (attempt >= options_.max_commit_attempts) {
      return Status::Conflict("commit to branch '" + std::string(branch_name) + "' of '" +
                              std::string(repo_name) + "' lost " + std::to_string(attempt) +
                              " races; its staged writes stay for the next commit");
    }
    if (attempt > 0) Backoff(options_, attempt);
    ++attempt;
    REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, branch_name));
    if (targets.empty()) {
      targets.insert(state.branch.staging_token());
      targets.insert(state.branch.sealed_tokens().begin(), state.branch.sealed_tokens().end());
      REFKV_ASSIGN_OR_RETURN(pb::Commit head, LoadCommit(repo, state.branch.commit_id()));
      base_generation = head.generation();
    }
    CommitResult result;
    result.attempts = attempt;
    if (!written.empty() && state.branch.commit_id() == written) {
      // Our step (3) happened although its outcome looked unknown.
      REFKV_ASSIGN_OR_RETURN(pb::Commit mine, LoadCommit(repo, written));
      result.outcome = CommitResult::Outcome::kCommitted;
      result.commit = ToInfo(mine);
      return acknowledge(std::move(result));
    }
    // Targets another call folded (or a reset discarded) since our first read.
    const bool current_is_target = targets.count(state.branch.staging_token()) > 0;
    std::set<std::string> gone = targets;
    gone.erase(state.branch.staging_token());
    for (const auto& t : state.branch.sealed_tokens()) gone.erase(t);
    const bool pending = current_is_target || gone.size() < targets.size();
    // Who took them (found lazily: only needed to report).
    auto taken_by = [&]() -> Result<std::optional<pb::Commit>> {
      if (gone.empty()) return std::optional<pb::Commit>();
      return FindFoldingCommit(repo, state.branch.commit_id(), gone, base_generation);
    };
    if (!pending) {
      REFKV_ASSIGN_OR_RETURN(auto folder, taken_by());
      if (!folder) {
        const auto& released = state.branch.released_tokens();
        const bool all_released = std::all_of(gone.begin(), gone.end(), [&](const auto& t) {
          return std::find(released.begin(), released.end(), t) != released.end();
        });
        if (all_released) {
          // A concurrent call found nothing to commit in them: neither would we have.
          REFKV_ASSIGN_OR_RETURN(pb::Commit head, LoadCommit(repo, state.branch.commit_id()));
          result.outcome = CommitResult::Outcome::kNoChanges;
          result.commit = ToInfo(head);
          return acknowledge(std::move(result));
        }
        return Status::Conflict("the staged writes of this commit to branch '" +
                                std::string(branch_name) + "' of '" + std::string(repo_name) +
                                "' were discarded by a concurrent reset of the branch (or its "
                                "delete and re-create); nothing was committed");
      }
      result.outcome = folder->id() == written ? CommitResult::Outcome::kCommitted
                                               : CommitResult::Outcome::kCommittedConcurrently;
      result.commit = ToInfo(*folder);
      return acknowledge(std::move(result));
    }
    if (request.expected_parent && state.branch.commit_id() != *request.expected_parent) {
      return Status::PredicateFailed("branch '" + std::string(branch_name) + "' is at " +
                                     state.branch.commit_id() + ", expected " +
                                     *request.expected_parent);
    }

    if (current_is_target) {  // (1) seal the current token
      pb::Branch rotated = state.branch;
      rotated.clear_sealed_tokens();
      rotated.add_sealed_tokens(state.branch.staging_token());
      for (const auto& t : state.branch.sealed_tokens()) rotated.add_sealed_tokens(t);
      rotated.set_staging_token(NewTimedId());
      std::string raw = Encode(rotated);
      Status s = store_.SetIf(repo.refs, key, raw, kv::Predicate::Equals(state.raw));
      if (s.IsPredicateFailed()) continue;
      REFKV_RETURN_IF_ERROR(Annotate(s, "sealing staging of branch", branch_name));
      state.branch = std::move(rotated);
      state.raw = std::move(raw);
    }

    // (2) build the committed data.
    REFKV_ASSIGN_OR_RETURN(std::string fence, ReadSweepFence());
    if (SweepRunning(fence)) {
      if (NowMs() - start > options_.gc_lease.count()) {
        return Status::Busy("a range sweep held commits off for longer than gc_lease");
      }
      --attempt;  // waiting for the cleaner is not a lost race
      Backoff(options_, 4);
      continue;
    }
    REFKV_ASSIGN_OR_RETURN(pb::Commit base, LoadCommit(repo, state.branch.commit_id()));
    std::vector<std::string> tokens(state.branch.sealed_tokens().begin(),
                                    state.branch.sealed_tokens().end());
    std::string metarange = base.metarange_id();
    // The staged keys read, so they can be released one by one (nullopt: too many).
    std::optional<std::vector<std::string>> read_keys;
    MetaRangeFormat format = MetaRangeFormat::kFlat;
    {
      REFKV_ASSIGN_OR_RETURN(auto staged, StagedChanges::Open(store_, repo.staging, tokens));
      if (!staged->Empty()) {
        REFKV_ASSIGN_OR_RETURN(format, CommitMetaRangeFormat());
        REFKV_ASSIGN_OR_RETURN(metarange,
                               committed_->Apply(base.metarange_id(), *staged, nullptr, format));
      }
      read_keys = staged->TakeKeys();
    }  // the scans end here

    pb::Branch next = state.branch;
    next.clear_sealed_tokens();
    if (metarange == base.metarange_id()) {
      // Nothing (effective) left staged: drop the sealed tokens, keep the head, and say
      // so in the record for the calls that target them too.
      RememberReleased(&next, tokens);
      Status s = store_.SetIf(repo.refs, key, Encode(next), kv::Predicate::Equals(state.raw));
      if (s.IsPredicateFailed()) continue;
      REFKV_RETURN_IF_ERROR(Annotate(s, "releasing sealed tokens of branch", branch_name));
      ReleaseStaged(repo, tokens, read_keys);
      // If another call took some of our targets, our writes may be in its commit.
      REFKV_ASSIGN_OR_RETURN(auto folder, taken_by());
      result.outcome = folder ? CommitResult::Outcome::kCommittedConcurrently
                              : CommitResult::Outcome::kNoChanges;
      result.commit = ToInfo(folder ? *folder : base);
      return acknowledge(std::move(result));
    }

    pb::Commit commit;
    commit.add_parents(base.id());
    commit.set_committer(request.committer);
    commit.set_message(request.message);
    for (const auto& [k, v] : request.metadata) (*commit.mutable_metadata())[k] = v;
    commit.set_creation_time_ms(NowMs());  // the cleaner ages unpublished records by it
    commit.set_generation(base.generation() + 1);
    commit.set_metarange_id(metarange);
    for (const auto& t : tokens) commit.add_folded_tokens(t);
    MetaRangeFormat now = MetaRangeFormat::kFlat;
    REFKV_RETURN_IF_ERROR(InsertCommit(repo, &commit, &now));
    written = commit.id();
    if (format == MetaRangeFormat::kTwoLevel) {
      // A 4->3 step that began after our format check may have listed the roots before
      // ours (or the record existed already and we did not look): store the flat form
      // too, which every schema reads.
      if (now != MetaRangeFormat::kTwoLevel) {
        REFKV_RETURN_IF_ERROR(Annotate(committed_->WriteFlatMetaRange(metarange),
                                       "writing flat metarange", metarange));
      }
    }
    REFKV_ASSIGN_OR_RETURN(std::string fence_after, ReadSweepFence());
    if (fence_after != fence) {
      // A sweep may have removed a range we reused: Apply again.
      if (NowMs() - start > options_.gc_lease.count()) {
        return Status::Busy("range sweeps kept overlapping this commit for longer than gc_lease");
      }
      --attempt;
      continue;
    }

    // (3) publish, only a record younger than gc_grace / 2 (gc.cc deletes older ones).
    if (options_.gc_grace.count() > 0 &&
        NowMs() - commit.creation_time_ms() > options_.gc_grace.count() / 2) {
      continue;
    }
    next.set_commit_id(commit.id());
    Status s = store_.SetIf(repo.refs, key, Encode(next), kv::Predicate::Equals(state.raw));
    if (s.IsPredicateFailed() || s.IsUnknownOutcome()) continue;
    REFKV_RETURN_IF_ERROR(Annotate(s, "moving branch", branch_name));
    result.outcome = CommitResult::Outcome::kCommitted;
    result.commit = ToInfo(commit);
    auto acknowledged = acknowledge(std::move(result));
    ReleaseStaged(repo, tokens, read_keys);  // after the Sync: a speed-up, need not be durable
    return acknowledged;
  }
}

Result<CommitInfo> RefStoreImpl::GetCommit(std::string_view repo_name, std::string_view ref) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(Resolved at, Resolve(repo, ref));
  return ToInfo(at.commit);
}

Result<std::vector<EntryDiff>> RefStoreImpl::Diff(std::string_view repo_name, std::string_view left,
                                                  std::string_view right, size_t limit) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(Resolved l, Resolve(repo, left));
  REFKV_ASSIGN_OR_RETURN(Resolved r, Resolve(repo, right));
  std::vector<EntryDiff> out;
  bool stopped = false;
  Status s = committed_->Diff(l.commit.metarange_id(), r.commit.metarange_id(),
                              [&](const DiffEntry& e) -> Status {
                                if (limit != 0 && out.size() == limit) {
                                  stopped = true;
                                  return Status::Internal("diff limit reached");  // stops the walk
                                }
                                EntryDiff d;
                                d.path = std::string(e.path);
                                switch (e.kind) {
                                  case DiffEntry::Kind::kAdded:
                                    d.kind = EntryDiff::Kind::kAdded;
                                    d.right = std::string(e.right_value);
                                    break;
                                  case DiffEntry::Kind::kRemoved:
                                    d.kind = EntryDiff::Kind::kRemoved;
                                    d.left = std::string(e.left_value);
                                    break;
                                  case DiffEntry::Kind::kChanged:
                                    d.kind = EntryDiff::Kind::kChanged;
                                    d.left = std::string(e.left_value);
                                    d.right = std::string(e.right_value);
                                    break;
                                }
                                out.push_back(std::move(d));
                                return Status::OK();
                              });
  if (!s.ok() && !stopped)
    return Annotate(s, "diff of", std::string(left) + ".." + std::string(right));
  return out;
}

}  // namespace refkv::refstore::internal
