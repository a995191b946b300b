// Conditional staged writes (PutEntry / DeleteEntry with an EntryPrecondition) and
// UpdateEntry. The protocol and why it is linearizable: refstore/refstore.h, at PutEntry
// with a precondition. In short, a write's record goes through an intent
// (pb::StagedIntent) that reads as the record before it, and becomes the new record by one
// compare-and-set that a commit sealing the token can pre-empt with its own (an abort).
#include "refstore/internal/ref_store_impl.h"
#include "refstore/internal/staged.h"

namespace refkv::refstore::internal {
namespace {

constexpr int kMaxConditionalAttempts = 64;

std::string Describe(const EntryPrecondition& p) {
  switch (p.kind) {
    case EntryPrecondition::Kind::kAbsent:
      return "absent";
    case EntryPrecondition::Kind::kExists:
      return "exists";
    case EntryPrecondition::Kind::kEquals:
      return "equals '" + kv::Printable(p.value) + "'";
  }
  return "?";
}

bool Holds(const EntryPrecondition& p, const std::optional<std::string>& current) {
  switch (p.kind) {
    case EntryPrecondition::Kind::kAbsent:
      return !current.has_value();
    case EntryPrecondition::Kind::kExists:
      return current.has_value();
    case EntryPrecondition::Kind::kEquals:
      return current.has_value() && *current == p.value;
  }
  return false;
}

}  // namespace

Status RefStoreImpl::StageConditional(std::string_view repo_name, std::string_view branch_name,
                                      std::string_view path, const pb::StagedEntry& after,
                                      const EntryPrecondition& precondition) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidatePath(path));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  for (int attempt = 0; attempt < kMaxConditionalAttempts; ++attempt) {
    // (1) The branch, then the path as a read at it sees it.
    REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, branch_name));
    std::vector<std::string> keys;
    keys.push_back(StagingKey(state.branch.staging_token(), path));
    for (const auto& t : state.branch.sealed_tokens()) keys.push_back(StagingKey(t, path));
    REFKV_ASSIGN_OR_RETURN(auto found, store_.MultiGet(repo.staging, keys));
    std::optional<std::string> current_raw;         // the record under the current token
    std::optional<pb::StagedEntry> current_before;  // what that record reads as
    std::optional<pb::StagedEntry> decided;         // the newest staged entry that decides
    bool aborted_sealed = false;
    for (size_t i = 0; i < found.size() && !decided; ++i) {
      if (found[i].status().IsNotFound()) continue;
      if (!found[i].ok()) return Annotate(found[i].status(), "staged path", path);
      const std::string where = repo.staging + "/" + kv::Printable(keys[i]);
      if (i > 0) {
        // An undecided intent in a sealed token may still be decided by its writer (who
        // saw the token current) and change what this write judges against, without the
        // branch changing: abort it first, as a commit would, and read again.
        pb::StagedEntry raw_entry;
        REFKV_RETURN_IF_ERROR(Decode(*found[i], &raw_entry, where));
        if (IsUndecidedIntent(raw_entry)) {
          raw_entry.mutable_intent()->set_aborted(true);
          Status s = store_.SetIf(repo.staging, keys[i], Encode(raw_entry),
                                  kv::Predicate::Equals(*found[i]));
          if (!s.ok() && !s.IsPredicateFailed() && !s.IsUnknownOutcome()) {
            return Annotate(s, "aborting the intent at", where);
          }
          aborted_sealed = true;
          break;
        }
      }
      REFKV_ASSIGN_OR_RETURN(auto entry, DecodeStaged(*found[i], where));
      if (i == 0) {
        current_raw = *found[i];
        current_before = entry;
      }
      if (entry) decided = std::move(entry);
    }
    if (aborted_sealed) continue;
    std::optional<std::string> current;
    if (decided) {
      if (decided->kind_case() == pb::StagedEntry::kValue) current = decided->value();
    } else {
      REFKV_ASSIGN_OR_RETURN(pb::Commit head, LoadCommit(repo, state.branch.commit_id()));
      auto value = committed_->Get(head.metarange_id(), path);
      if (value.ok()) {
        current = std::move(*value);
      } else if (!value.status().IsNotFound()) {
        return Annotate(value.status(), "committed path", path);
      }
    }
    if (!Holds(precondition, current)) {
      // A failure is a read: it must not mix a staging read with the committed data of a
      // later head (see entries.cc, "Why a read ... re-reads its branch").
      if (!decided) {
        REFKV_ASSIGN_OR_RETURN(BranchState now, LoadBranch(repo, branch_name));
        if (now.branch.commit_id() != state.branch.commit_id()) continue;
      }
      return Status::PredicateFailed(
          "precondition " + Describe(precondition) + " does not hold for path '" +
          kv::Printable(path) + "' on branch '" + std::string(branch_name) + "' of '" +
          std::string(repo_name) +
          "': " + (current ? "its value is '" + kv::Printable(*current) + "'" : "it is absent") +
          "; nothing was written");
    }

    // (2) The intent, in place of exactly the record read in (1).
    pb::StagedEntry intent_entry;
    pb::StagedIntent* intent = intent_entry.mutable_intent();
    if (current_before) *intent->mutable_before() = *current_before;
    *intent->mutable_after() = after;
    intent->set_writer(NewTimedId());
    const std::string intent_raw = Encode(intent_entry);
    Status s =
        store_.SetIf(repo.staging, keys[0], intent_raw,
                     current_raw ? kv::Predicate::Equals(*current_raw) : kv::Predicate::Absent());
    if (s.IsPredicateFailed()) continue;  // the path changed since (1)
    auto abort = [&] {
      // Errors and a lost race are both fine: a commit aborts the intent or the token's
      // release removes it; until then it reads as `before`.
      intent->set_aborted(true);
      (void)store_.SetIf(repo.staging, keys[0], Encode(intent_entry),
                         kv::Predicate::Equals(intent_raw));
    };
    if (s.IsUnknownOutcome()) {
      abort();
      continue;
    }
    REFKV_RETURN_IF_ERROR(Annotate(s, "staging path", path));

    // (3) Nothing about the branch may have changed since (1).
    auto now = LoadBranch(repo, branch_name);
    if (!now.ok()) {
      abort();
      return now.status();
    }
    if (now->raw != state.raw) {
      abort();
      continue;
    }

    // (4) Decide: unless a commit sealing the token aborted the intent first.
    s = store_.SetIf(repo.staging, keys[0], Encode(after), kv::Predicate::Equals(intent_raw));
    if (s.IsPredicateFailed()) continue;
    REFKV_RETURN_IF_ERROR(Annotate(s, "staging path", path));
    return SyncIf(options_.sync_staged_writes, "staged write of", path);
  }
  return Status::Conflict("conditional write of path '" + kv::Printable(path) + "' on branch '" +
                          std::string(branch_name) + "' lost " +
                          std::to_string(kMaxConditionalAttempts) +
                          " rounds to concurrent writes or commits; nothing was written");
}

Status RefStoreImpl::PutEntry(std::string_view repo, std::string_view branch, std::string_view path,
                              std::string_view value, const EntryPrecondition& precondition) {
  REFKV_RETURN_IF_ERROR(ValidatePath(path));
  REFKV_RETURN_IF_ERROR(ValidateEntryValue(path, value));
  pb::StagedEntry entry;
  entry.set_value(std::string(value));
  return StageConditional(repo, branch, path, entry, precondition);
}

Status RefStoreImpl::DeleteEntry(std::string_view repo, std::string_view branch,
                                 std::string_view path, const EntryPrecondition& precondition) {
  pb::StagedEntry entry;
  entry.set_tombstone(true);
  return StageConditional(repo, branch, path, entry, precondition);
}

}  // namespace refkv::refstore::internal

namespace refkv::refstore {

Status RefStore::UpdateEntry(std::string_view repo, std::string_view branch, std::string_view path,
                             const EntryUpdateFn& fn, int max_attempts) {
  for (int attempt = 0; attempt < max_attempts; ++attempt) {
    std::optional<std::string> current;
    auto read = GetEntry(repo, branch, path);
    if (read.ok()) {
      current = std::move(*read);
    } else if (!read.status().IsNotFound()) {
      return read.status();
    }
    REFKV_ASSIGN_OR_RETURN(std::optional<std::string> next, fn(current));
    if (next == current) return Status::OK();
    const EntryPrecondition unchanged =
        current ? EntryPrecondition::Equals(*current) : EntryPrecondition::Absent();
    Status s = next ? PutEntry(repo, branch, path, *next, unchanged)
                    : DeleteEntry(repo, branch, path, unchanged);
    if (!s.IsPredicateFailed()) return s;
  }
  return Status::Conflict("update of path '" + kv::Printable(path) + "' on branch '" +
                          std::string(branch) + "' of '" + std::string(repo) +
                          "': the value changed under every one of " +
                          std::to_string(max_attempts) + " attempts; nothing was written");
}

}  // namespace refkv::refstore
