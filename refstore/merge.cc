// Merge, revert, cherry-pick and the two resets.
//
// Merge, Revert and CherryPick share one optimistic loop (MergeIntoBranch), the same as a
// commit's steps (2) and (3) (commit.cc) without staging:
//   (a) read the branch; refuse staged writes unless kept; plan against its head: up to
//       date, a fast-forward, or a three-way merge of two trees into the head's tree;
//   (b) merge the trees on ranges (CommittedManager::Merge) and insert the commit record
//       (content-addressed: a retry inserts the same record), between two reads of the
//       range-sweep fence (as a commit: a sweep in between means build again);
//   (c) compare-and-set the branch record to the new head, keeping its staging tokens
//       (so keep_staged writes stay staged on top, and a commit in flight rebuilds on the
//       new head, as after any concurrent commit).
// A lost (c) re-reads the branch: if the head did not move (a staged write's token
// rotation, a concurrent no-op) and the fence is unchanged, only (c) is repeated with
// the record already built; otherwise (a) and (b) run again against the new head.
//
// Merge base: migrations::MergeBase over the ancestry index: the common ancestor of the
// highest generation, ties broken by the greatest id (deterministic for criss-cross
// histories; the other candidates are not merged recursively).
#include "refstore/internal/ref_store_impl.h"
#include "refstore/migrations/commit_index.h"

namespace refkv::refstore::internal {
namespace {

std::string Quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

const char* StrategyName(MergeOptions::Strategy s) {
  switch (s) {
    case MergeOptions::Strategy::kFail:
      return "fail";
    case MergeOptions::Strategy::kSourceWins:
      return "source-wins";
    case MergeOptions::Strategy::kDestWins:
      return "dest-wins";
    case MergeOptions::Strategy::kResolver:
      return "resolver";
  }
  return "?";
}

Status CheckInfoBytes(std::string_view what, std::string_view branch, const std::string& message,
                      const std::string& committer,
                      const std::map<std::string, std::string>& metadata) {
  size_t bytes = message.size() + committer.size();
  for (const auto& [k, v] : metadata) bytes += k.size() + v.size();
  if (bytes > kMaxCommitInfoBytes) {
    return Status::InvalidArgument(
        std::string(what) + " branch " + Quoted(branch) + ": message, committer and metadata are " +
        std::to_string(bytes) + " bytes, more than the limit of " +
        std::to_string(kMaxCommitInfoBytes) + " bytes (refstore::kMaxCommitInfoBytes)");
  }
  return Status::OK();
}

MergeConflict ToConflict(TreeConflict c) {
  return MergeConflict{std::move(c.path), std::move(c.base), std::move(c.source),
                       std::move(c.dest)};
}

}  // namespace

Result<bool> RefStoreImpl::HasStaged(const Repo& repo, const pb::Branch& branch) {
  if (branch.sealed_tokens_size() > 0) return true;
  kv::ScanOptions scan;
  scan.start = branch.staging_token();
  scan.end = kv::PrefixUpperBound(branch.staging_token());
  scan.batch_size = 1;
  REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(repo.staging, scan));
  if (it->Valid()) return true;
  REFKV_RETURN_IF_ERROR(it->status());
  return false;
}

Status RefStoreImpl::ConfirmMovedBranch(const Repo& repo, std::string_view fence_before,
                                        std::string_view commit_id, const std::string& key,
                                        const std::string& raw_after,
                                        const std::string& raw_before) {
  REFKV_ASSIGN_OR_RETURN(std::string fence, ReadSweepFence());
  if (fence == fence_before && !SweepRunning(fence)) return Status::OK();
  const int64_t give_up = NowMs() + options_.gc_lease.count();
  while (SweepRunning(fence)) {
    if (NowMs() > give_up) {
      return Status::Busy("a range sweep held the move of '" + kv::Printable(key) +
                          "' off for longer than gc_lease");
    }
    Backoff(options_, 4);
    REFKV_ASSIGN_OR_RETURN(fence, ReadSweepFence());
  }
  auto exists = store_.Get(repo.refs, CommitKey(commit_id));
  if (exists.ok()) return Status::OK();
  if (!exists.status().IsNotFound()) return Annotate(exists.status(), "commit", commit_id);
  (void)store_.SetIf(repo.refs, key, raw_before, kv::Predicate::Equals(raw_after));
  return Status::NotFound("commit '" + kv::Printable(commit_id) + "' of '" + repo.record.name() +
                          "' was removed by the cleaner (unreachable) while '" +
                          kv::Printable(key) + "' was moved to it; the branch is unchanged");
}

Result<MergeResult> RefStoreImpl::MergeIntoBranch(
    const Repo& repo, std::string_view branch_name, const MergeWrite& write,
    const std::function<Result<MergePlan>(const pb::Commit&)>& plan) {
  const std::string key = BranchKey(branch_name);
  const int64_t start = NowMs();
  TreeMergeOptions tree_options;
  tree_options.conflicts_after = write.conflicts_after;
  tree_options.conflicts_limit = std::max<size_t>(write.conflicts_limit, 1);
  switch (write.strategy) {
    case MergeOptions::Strategy::kFail:
      break;
    case MergeOptions::Strategy::kSourceWins:
      tree_options.resolve = [](const TreeConflict& c) { return TreeResolution{true, c.source}; };
      break;
    case MergeOptions::Strategy::kDestWins:
      tree_options.resolve = [](const TreeConflict& c) { return TreeResolution{true, c.dest}; };
      break;
    case MergeOptions::Strategy::kResolver:
      if (!write.resolver) {
        return Status::InvalidArgument(write.what + " branch " + Quoted(branch_name) +
                                       ": strategy resolver without a resolver");
      }
      tree_options.resolve = [&write](const TreeConflict& c) {
        MergeResolution r = write.resolver(MergeConflict{c.path, c.base, c.source, c.dest});
        return TreeResolution{r.resolved, std::move(r.value)};
      };
      break;
  }
  auto acknowledge = [&](MergeResult result) -> Result<MergeResult> {
    REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, write.what + " branch", branch_name));
    return result;
  };

  std::string written;     // the commit record this call inserted (last attempt)
  std::string written_on;  // the head it was built on
  std::string fence;       // the sweep fence read before it was built
  MergeResult result;
  int attempt = 0;
  while (true) {
    if (attempt >= options_.max_commit_attempts) {
      return Status::Conflict(write.what + " branch " + Quoted(branch_name) + " of " +
                              Quoted(repo.record.name()) + " lost " + std::to_string(attempt) +
                              " races; nothing was changed, run it again");
    }
    if (attempt > 0) Backoff(options_, attempt);
    ++attempt;
    result.attempts = attempt;
    REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, branch_name));
    if (!written.empty() && state.branch.commit_id() == written) {
      // Our compare-and-set happened although its outcome looked unknown.
      REFKV_ASSIGN_OR_RETURN(pb::Commit mine, LoadCommit(repo, written));
      result.outcome = MergeResult::Outcome::kMerged;
      result.commit = ToInfo(mine);
      return acknowledge(std::move(result));
    }
    if (write.expected_head && state.branch.commit_id() != *write.expected_head) {
      return Status::PredicateFailed("branch " + Quoted(branch_name) + " is at " +
                                     state.branch.commit_id() + ", expected " +
                                     *write.expected_head);
    }
    if (!write.keep_staged) {
      REFKV_ASSIGN_OR_RETURN(bool staged, HasStaged(repo, state.branch));
      if (staged) {
        return Status::PredicateFailed(
            "branch " + Quoted(branch_name) + " of " + Quoted(repo.record.name()) +
            " has staged writes: commit or reset them first, or keep them staged on top");
      }
    }
    REFKV_ASSIGN_OR_RETURN(pb::Commit head, LoadCommit(repo, state.branch.commit_id()));
    bool cas_only = false;
    if (!written.empty() && written_on == head.id()) {
      // The head did not move: the record built for it stands if no sweep overlapped.
      REFKV_ASSIGN_OR_RETURN(std::string fence_now, ReadSweepFence());
      cas_only = fence_now == fence && !SweepRunning(fence_now);
    }
    if (!cas_only) {
      written.clear();
      REFKV_ASSIGN_OR_RETURN(MergePlan p, plan(head));
      result.base = p.base_id;
      if (p.up_to_date) {
        result.outcome = MergeResult::Outcome::kAlreadyUpToDate;
        result.commit = ToInfo(head);
        return result;
      }
      if (!p.fast_forward_to.empty()) {
        // The target was resolved from a ref, but the cleaner may delete it if that ref
        // moved since: checked against the fence read before the resolve.
        const std::string& fence_ff = write.fence_before_resolve;
        pb::Branch next = state.branch;
        next.set_commit_id(p.fast_forward_to);
        const std::string raw = Encode(next);
        Status s = store_.SetIf(repo.refs, key, raw, kv::Predicate::Equals(state.raw));
        if (s.IsPredicateFailed() || s.IsUnknownOutcome()) continue;
        REFKV_RETURN_IF_ERROR(Annotate(s, "fast-forwarding branch", branch_name));
        REFKV_RETURN_IF_ERROR(
            ConfirmMovedBranch(repo, fence_ff, p.fast_forward_to, key, raw, state.raw));
        REFKV_ASSIGN_OR_RETURN(pb::Commit target, LoadCommit(repo, p.fast_forward_to));
        result.outcome = MergeResult::Outcome::kFastForwarded;
        result.commit = ToInfo(target);
        return acknowledge(std::move(result));
      }
      REFKV_ASSIGN_OR_RETURN(fence, ReadSweepFence());
      if (SweepRunning(fence)) {
        if (NowMs() - start > options_.gc_lease.count()) {
          return Status::Busy("a range sweep held " + write.what + " branch " +
                              Quoted(branch_name) + " off for longer than gc_lease");
        }
        --attempt;  // waiting for the cleaner is not a lost race
        Backoff(options_, 4);
        continue;
      }
      REFKV_ASSIGN_OR_RETURN(MetaRangeFormat format, CommitMetaRangeFormat());
      ApplyStats stats;
      REFKV_ASSIGN_OR_RETURN(TreeMergeResult merged,
                             committed_->Merge(p.base_metarange, p.source_metarange,
                                               head.metarange_id(), tree_options, &stats, format));
      result.ranges_reused = stats.ranges_reused;
      result.ranges_read = stats.ranges_read;
      result.ranges_written = stats.ranges_written;
      if (merged.conflicted) {
        result.outcome = MergeResult::Outcome::kConflicts;
        result.commit = ToInfo(head);
        for (auto& c : merged.conflicts) result.conflicts.push_back(ToConflict(std::move(c)));
        if (merged.more_conflicts && !result.conflicts.empty()) {
          result.conflicts_next_after = result.conflicts.back().path;
        }
        return result;
      }
      if (merged.metarange == head.metarange_id() && !write.allow_empty) {
        result.outcome = MergeResult::Outcome::kNoChanges;
        result.commit = ToInfo(head);
        return result;
      }
      pb::Commit commit;
      commit.add_parents(head.id());
      for (const auto& parent : p.extra_parents) commit.add_parents(parent);
      commit.set_committer(write.committer);
      commit.set_message(write.message);
      for (const auto& [k, v] : write.metadata) (*commit.mutable_metadata())[k] = v;
      for (const auto& [k, v] : p.metadata) (*commit.mutable_metadata())[k] = v;
      commit.set_creation_time_ms(NowMs());
      commit.set_generation(std::max(head.generation(), p.min_generation) + 1);
      commit.set_metarange_id(merged.metarange);
      MetaRangeFormat now = MetaRangeFormat::kFlat;
      REFKV_RETURN_IF_ERROR(InsertCommit(repo, &commit, &now));
      if (format == MetaRangeFormat::kTwoLevel && now != MetaRangeFormat::kTwoLevel) {
        // As Commit: a 4->3 step may have listed the roots before ours.
        REFKV_RETURN_IF_ERROR(Annotate(committed_->WriteFlatMetaRange(merged.metarange),
                                       "writing flat metarange", merged.metarange));
      }
      REFKV_ASSIGN_OR_RETURN(std::string fence_after, ReadSweepFence());
      if (fence_after != fence) {
        if (NowMs() - start > options_.gc_lease.count()) {
          return Status::Busy("range sweeps kept overlapping " + write.what + " branch " +
                              Quoted(branch_name) + " for longer than gc_lease");
        }
        --attempt;
        continue;
      }
      written = commit.id();
      written_on = head.id();
    }
    // Publish only a record younger than gc_grace / 2 (gc.cc deletes older ones).
    REFKV_ASSIGN_OR_RETURN(pb::Commit mine, LoadCommit(repo, written));
    if (options_.gc_grace.count() > 0 &&
        NowMs() - mine.creation_time_ms() > options_.gc_grace.count() / 2) {
      written.clear();
      continue;
    }
    pb::Branch next = state.branch;
    next.set_commit_id(written);
    Status s = store_.SetIf(repo.refs, key, Encode(next), kv::Predicate::Equals(state.raw));
    if (s.IsPredicateFailed() || s.IsUnknownOutcome()) continue;
    REFKV_RETURN_IF_ERROR(Annotate(s, "moving branch", branch_name));
    result.outcome = MergeResult::Outcome::kMerged;
    result.commit = ToInfo(mine);
    return acknowledge(std::move(result));
  }
}

Result<MergeResult> RefStoreImpl::Merge(std::string_view repo_name, std::string_view dest_branch,
                                        std::string_view source_ref, const MergeOptions& options) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidateRefName("branch", dest_branch));
  REFKV_RETURN_IF_ERROR(CheckInfoBytes("merge into", dest_branch, options.message,
                                       options.committer, options.metadata));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  MergeWrite write;
  REFKV_ASSIGN_OR_RETURN(write.fence_before_resolve, ReadSweepFence());
  REFKV_ASSIGN_OR_RETURN(Resolved source, Resolve(repo, source_ref));
  write.strategy = options.strategy;
  write.resolver = options.resolver;
  write.expected_head = options.expected_dest_head;
  write.message = options.message.empty()
                      ? "Merge " + Quoted(source_ref) + " into " + Quoted(dest_branch)
                      : options.message;
  write.committer = options.committer;
  write.metadata = options.metadata;
  write.allow_empty = options.allow_empty;
  write.keep_staged = options.keep_staged;
  write.conflicts_after = options.conflicts_after;
  write.conflicts_limit = options.conflicts_limit;
  write.what = "merge into";
  const pb::Commit& src = source.commit;
  auto plan = [&](const pb::Commit& head) -> Result<MergePlan> {
    MergePlan p;
    if (head.id() == src.id()) {
      p.up_to_date = true;
      return p;
    }
    REFKV_ASSIGN_OR_RETURN(bool merged_already,
                           migrations::IsAncestor(store_, repo.refs, src.id(), head.id()));
    if (merged_already) {
      p.up_to_date = true;
      return p;
    }
    REFKV_ASSIGN_OR_RETURN(bool can_ff,
                           migrations::IsAncestor(store_, repo.refs, head.id(), src.id()));
    if (options.fast_forward == MergeOptions::FastForward::kOnly && !can_ff) {
      return Status::PredicateFailed("merge of " + Quoted(source_ref) + " into " +
                                     Quoted(dest_branch) + ": cannot fast-forward, the head " +
                                     head.id() + " is not an ancestor of " + src.id());
    }
    if (can_ff && !options.squash && options.fast_forward != MergeOptions::FastForward::kNever) {
      p.fast_forward_to = src.id();
      p.base_id = head.id();
      return p;
    }
    REFKV_ASSIGN_OR_RETURN(auto base,
                           migrations::MergeBase(store_, repo.refs, head.id(), src.id()));
    p.base_metarange = committed_->EmptyMetaRangeId();
    if (base) {
      REFKV_ASSIGN_OR_RETURN(pb::Commit base_commit, LoadCommit(repo, *base));
      p.base_metarange = base_commit.metarange_id();
      p.base_id = *base;
    }
    p.source_metarange = src.metarange_id();
    if (!options.squash) p.extra_parents.push_back(src.id());
    p.min_generation = src.generation();
    p.metadata["merge.base"] = p.base_id;
    p.metadata["merge.source"] = src.id();
    p.metadata["merge.strategy"] = StrategyName(options.strategy);
    return p;
  };
  return MergeIntoBranch(repo, dest_branch, write, plan);
}

Result<MergeResult> RefStoreImpl::Pick(std::string_view repo_name, std::string_view branch,
                                       std::string_view ref, const PickOptions& options,
                                       bool revert) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidateRefName("branch", branch));
  const std::string what = revert ? "revert on" : "cherry-pick on";
  REFKV_RETURN_IF_ERROR(
      CheckInfoBytes(what, branch, options.message, options.committer, options.metadata));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(Resolved target, Resolve(repo, ref));
  const pb::Commit& c = target.commit;
  const int parents = c.parents_size();
  if (parents > 1 && options.parent_number == 0) {
    std::string names;
    for (int i = 0; i < parents; ++i) {
      names += (i ? ", " : "") + std::to_string(i + 1) + ": " + c.parents(i);
    }
    return Status::InvalidArgument(what + " branch " + Quoted(branch) + ": " + c.id() +
                                   " is a merge commit; choose a parent number (" + names + ")");
  }
  if (options.parent_number < 0 || options.parent_number > std::max(parents, 1) ||
      (parents == 0 && options.parent_number > 0)) {
    return Status::InvalidArgument(what + " branch " + Quoted(branch) + ": " + c.id() + " has " +
                                   std::to_string(parents) + " parent(s), not parent number " +
                                   std::to_string(options.parent_number));
  }
  std::string parent_metarange = committed_->EmptyMetaRangeId();
  std::string parent_id;
  if (parents > 0) {
    parent_id = c.parents(options.parent_number > 0 ? options.parent_number - 1 : 0);
    REFKV_ASSIGN_OR_RETURN(pb::Commit parent, LoadCommit(repo, parent_id));
    parent_metarange = parent.metarange_id();
  }
  MergeWrite write;
  write.strategy = options.strategy;
  write.resolver = options.resolver;
  write.expected_head = options.expected_head;
  write.message = !options.message.empty() ? options.message
                  : revert                 ? "Revert " + c.id()
                                           : "Cherry-pick " + c.id();
  write.committer = options.committer;
  write.metadata = options.metadata;
  write.allow_empty = options.allow_empty;
  write.keep_staged = options.keep_staged;
  write.conflicts_after = options.conflicts_after;
  write.conflicts_limit = options.conflicts_limit;
  write.what = what;
  auto plan = [&](const pb::Commit&) -> Result<MergePlan> {
    MergePlan p;
    // Revert: the change commit -> parent; cherry-pick: parent -> commit.
    p.base_metarange = revert ? c.metarange_id() : parent_metarange;
    p.source_metarange = revert ? parent_metarange : c.metarange_id();
    p.base_id = revert ? c.id() : parent_id;
    const std::string prefix = revert ? "revert." : "cherry-pick.";
    p.metadata[prefix + "commit"] = c.id();
    p.metadata[prefix + "parent"] = parent_id;
    p.metadata[prefix + "strategy"] = StrategyName(options.strategy);
    return p;
  };
  return MergeIntoBranch(repo, branch, write, plan);
}

Result<MergeResult> RefStoreImpl::Revert(std::string_view repo, std::string_view branch,
                                         std::string_view ref, const PickOptions& options) {
  return Pick(repo, branch, ref, options, /*revert=*/true);
}

Result<MergeResult> RefStoreImpl::CherryPick(std::string_view repo, std::string_view branch,
                                             std::string_view ref, const PickOptions& options) {
  return Pick(repo, branch, ref, options, /*revert=*/false);
}

Result<BranchInfo> RefStoreImpl::ResetBranchTo(std::string_view repo_name, std::string_view branch,
                                               std::string_view ref,
                                               std::optional<std::string> expected_head,
                                               bool discard_staged) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidateRefName("branch", branch));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  // The cleaner may be deleting the commit as unreachable (gc.cc: ConfirmRefTarget).
  REFKV_ASSIGN_OR_RETURN(std::string fence, ReadSweepFence());
  REFKV_ASSIGN_OR_RETURN(Resolved target, Resolve(repo, ref));
  const std::string key = BranchKey(branch);
  for (int attempt = 0; attempt < options_.max_commit_attempts; ++attempt) {
    if (attempt > 0) Backoff(options_, attempt);
    REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, branch));
    if (expected_head && state.branch.commit_id() != *expected_head) {
      return Status::PredicateFailed("branch " + Quoted(branch) + " is at " +
                                     state.branch.commit_id() + ", expected " + *expected_head);
    }
    pb::Branch next = state.branch;
    next.set_commit_id(target.commit.id());
    std::vector<std::string> released;
    if (discard_staged) {
      released.assign(state.branch.sealed_tokens().begin(), state.branch.sealed_tokens().end());
      released.push_back(state.branch.staging_token());
      next.clear_sealed_tokens();
      next.set_staging_token(NewTimedId());
    } else {
      REFKV_ASSIGN_OR_RETURN(bool staged, HasStaged(repo, state.branch));
      if (staged) {
        return Status::PredicateFailed("branch " + Quoted(branch) + " of " + Quoted(repo_name) +
                                       " has staged writes: commit them, or discard them with "
                                       "the reset");
      }
    }
    const std::string raw = Encode(next);
    Status s = store_.SetIf(repo.refs, key, raw, kv::Predicate::Equals(state.raw));
    if (s.IsPredicateFailed()) continue;
    REFKV_RETURN_IF_ERROR(Annotate(s, "resetting branch", branch));
    REFKV_RETURN_IF_ERROR(ConfirmMovedBranch(repo, fence, target.commit.id(), key, raw, state.raw));
    REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, "reset of branch", branch));
    ReleaseTokens(repo, released);
    return ToInfo(next);
  }
  return Status::Conflict("branch " + Quoted(branch) + " kept changing during reset");
}

Status RefStoreImpl::ResetEntries(std::string_view repo_name, std::string_view branch,
                                  std::string_view path_or_prefix, bool is_prefix) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  if (is_prefix) {
    if (path_or_prefix.size() > kMaxPathBytes) {
      return Status::InvalidArgument("entry reset: prefix of " +
                                     std::to_string(path_or_prefix.size()) +
                                     " bytes, more than kMaxPathBytes");
    }
  } else {
    REFKV_RETURN_IF_ERROR(ValidatePath(path_or_prefix));
  }
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, branch));
  std::vector<std::string> tokens(state.branch.sealed_tokens().begin(),
                                  state.branch.sealed_tokens().end());
  tokens.push_back(state.branch.staging_token());
  for (const auto& token : tokens) {
    const std::string from = StagingKey(token, path_or_prefix);
    std::string to;
    if (!is_prefix) {
      to = from + std::string(1, '\0');  // exactly the path
    } else if (path_or_prefix.empty()) {
      to = kv::PrefixUpperBound(token);
    } else {
      to = kv::PrefixUpperBound(from);
      if (to.empty()) to = kv::PrefixUpperBound(token);
    }
    REFKV_RETURN_IF_ERROR(Annotate(store_.DeleteRange(repo.staging, from, to),
                                   "resetting entries of branch", branch));
  }
  // A commit that sealed the current token after our read folds what it staged: resetting
  // its entries then races that commit, as any reset does.
  return SyncIf(options_.sync_staged_writes, "entry reset of branch", branch);
}

}  // namespace refkv::refstore::internal
