// Ref expressions, commit-id prefixes, merge base and ancestry (refstore.h, "Refs" and
// "Ref expressions and ancestry"). Ancestry queries run on the commit index
// (refstore/migrations/commit_index.h), which falls back to commit records.
#include "refstore/internal/ref_expr.h"
#include "refstore/internal/ref_store_impl.h"
#include "refstore/migrations/commit_index.h"

namespace refkv::refstore::internal {

namespace {

// Candidates listed in the error of an ambiguous prefix.
constexpr size_t kMaxPrefixCandidates = 10;

Status BadStep(std::string_view expr, size_t position, const std::string& why) {
  return Status::InvalidArgument("ref expression '" + kv::Printable(expr) + "' at position " +
                                 std::to_string(position) + ": " + why);
}

}  // namespace

Result<RefStoreImpl::Resolved> RefStoreImpl::ResolvePrefix(const Repo& repo,
                                                           std::string_view prefix) {
  // Two results tell unique from ambiguous; only an ambiguous prefix scans on for the list.
  REFKV_ASSIGN_OR_RETURN(auto ids, FindCommitsByPrefix(store_, repo.refs, prefix, 2));
  if (ids.empty()) {
    return Status::NotFound("ref '" + std::string(prefix) +
                            "' is no branch, tag, commit or commit-id prefix of '" +
                            repo.record.name() + "'");
  }
  if (ids.size() > 1) {
    REFKV_ASSIGN_OR_RETURN(
        ids, FindCommitsByPrefix(store_, repo.refs, prefix, kMaxPrefixCandidates + 1));
    std::string list;
    for (size_t i = 0; i < ids.size() && i < kMaxPrefixCandidates; ++i) {
      if (!list.empty()) list += ", ";
      list += ids[i];
    }
    if (ids.size() > kMaxPrefixCandidates) list += ", ...";
    return Status::InvalidArgument("commit-id prefix '" + std::string(prefix) +
                                   "' is ambiguous in repository '" + repo.record.name() +
                                   "': " + list);
  }
  Resolved out;
  REFKV_ASSIGN_OR_RETURN(out.commit, LoadCommit(repo, ids.front()));
  return out;
}

Result<RefStoreImpl::Resolved> RefStoreImpl::ResolveExpression(const Repo& repo,
                                                               std::string_view ref) {
  REFKV_ASSIGN_OR_RETURN(RefExpr expr, ParseRefExpr(ref));
  REFKV_ASSIGN_OR_RETURN(Resolved at, Resolve(repo, expr.base));
  Resolved out;  // a commit, never a branch: steps leave the branch's staged writes behind
  out.commit = std::move(at.commit);
  for (const RefStep& step : expr.steps) {
    if (step.kind == RefStep::Kind::kParent) {
      const int64_t have = out.commit.parents_size();
      if (step.n > have) {
        return BadStep(ref, step.position,
                       "commit " + out.commit.id() + " has " + std::to_string(have) +
                           (have == 1 ? " parent" : " parents") + ", not a parent " +
                           std::to_string(step.n));
      }
      REFKV_ASSIGN_OR_RETURN(out.commit, LoadCommit(repo, out.commit.parents(step.n - 1)));
      continue;
    }
    for (int64_t i = 0; i < step.n; ++i) {
      if (out.commit.parents_size() == 0) {
        return BadStep(ref, step.position,
                       "'~" + std::to_string(step.n) + "' goes past the root commit " +
                           out.commit.id() + " (" + std::to_string(i) + " generations up)");
      }
      REFKV_ASSIGN_OR_RETURN(out.commit, LoadCommit(repo, out.commit.parents(0)));
    }
  }
  return out;
}

Result<CommitInfo> RefStoreImpl::Resolve(std::string_view repo_name, std::string_view expr) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(Resolved at, Resolve(repo, expr));
  return ToInfo(at.commit);
}

Result<std::optional<CommitInfo>> RefStoreImpl::MergeBase(std::string_view repo_name,
                                                          std::string_view a, std::string_view b) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(Resolved left, Resolve(repo, a));
  REFKV_ASSIGN_OR_RETURN(Resolved right, Resolve(repo, b));
  REFKV_ASSIGN_OR_RETURN(
      auto base, migrations::MergeBase(store_, repo.refs, left.commit.id(), right.commit.id()));
  if (!base.has_value()) return std::optional<CommitInfo>();
  REFKV_ASSIGN_OR_RETURN(pb::Commit commit, LoadCommit(repo, *base));
  return std::optional<CommitInfo>(ToInfo(commit));
}

Result<bool> RefStoreImpl::IsAncestor(std::string_view repo_name, std::string_view ancestor,
                                      std::string_view descendant) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(Resolved older, Resolve(repo, ancestor));
  REFKV_ASSIGN_OR_RETURN(Resolved newer, Resolve(repo, descendant));
  return migrations::IsAncestor(store_, repo.refs, older.commit.id(), newer.commit.id());
}

Result<std::vector<EntryDiff>> RefStoreImpl::Compare(std::string_view repo_name,
                                                     std::string_view base_ref,
                                                     std::string_view head_ref, size_t limit) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(Resolved base, Resolve(repo, base_ref));
  REFKV_ASSIGN_OR_RETURN(Resolved head, Resolve(repo, head_ref));
  REFKV_ASSIGN_OR_RETURN(auto merge_base, migrations::MergeBase(store_, repo.refs, base.commit.id(),
                                                                head.commit.id()));
  if (!merge_base.has_value()) {
    return Status::NotFound("compare: '" + std::string(base_ref) + "' and '" +
                            std::string(head_ref) + "' have no common ancestor in repository '" +
                            repo.record.name() + "'");
  }
  // Both by id: the head as resolved above, even if its branch moves meanwhile.
  return Diff(repo_name, *merge_base, head.commit.id(), limit);
}

}  // namespace refkv::refstore::internal
