// Atomic batches of staged writes (WriteEntries): staged under a private token, attached
// to the branch by one compare-and-set (the contract: refstore/refstore.h).
#include <algorithm>

#include "refstore/internal/ref_store_impl.h"

namespace refkv::refstore::internal {
namespace {

constexpr size_t kChunkWrites = 1024;
constexpr size_t kChunkBytes = size_t{4} << 20;
constexpr int kMaxAttachAttempts = 1000;

class VectorSource final : public EntryWriteSource {
 public:
  explicit VectorSource(const std::vector<EntryWrite>& writes) : writes_(writes) {}
  bool Next(EntryWrite* write) override {
    if (next_ == writes_.size()) return false;
    *write = writes_[next_++];
    return true;
  }
  Status status() const override { return Status::OK(); }

 private:
  const std::vector<EntryWrite>& writes_;
  size_t next_ = 0;
};

}  // namespace

Status RefStoreImpl::WriteEntries(std::string_view repo_name, std::string_view branch_name,
                                  EntryWriteSource& source) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_RETURN_IF_ERROR(LoadBranch(repo, branch_name).status());  // NotFound before writing
  const std::string token = NewTimedId();                         // private until the attaching CaS
  kv::WriteBatch chunk;
  size_t chunk_writes = 0, chunk_bytes = 0, total = 0;
  auto flush = [&]() -> Status {
    if (chunk_writes == 0) return Status::OK();
    Status s = store_.Write(repo.staging, chunk);
    chunk.Clear();
    chunk_writes = chunk_bytes = 0;
    return Annotate(s, "staging a batch for branch", branch_name);
  };
  // Nothing under `token` is visible: on any error the cleaner could release it, but
  // releasing it now saves it the work.
  auto fail = [&](Status s) {
    ReleaseTokens(repo, {token});
    return s;
  };
  EntryWrite write;
  while (source.Next(&write)) {
    Status valid = ValidatePath(write.path);
    if (valid.ok() && write.value) valid = ValidateEntryValue(write.path, *write.value);
    if (!valid.ok()) return fail(valid);
    pb::StagedEntry entry;
    if (write.value) {
      entry.set_value(std::move(*write.value));
    } else {
      entry.set_tombstone(true);
    }
    std::string raw = Encode(entry);
    chunk_bytes += write.path.size() + raw.size() + token.size();
    chunk.Put(StagingKey(token, write.path), raw);
    ++total;
    if (++chunk_writes >= kChunkWrites || chunk_bytes >= kChunkBytes) {
      if (Status s = flush(); !s.ok()) return fail(s);
    }
  }
  if (!source.status().ok()) return fail(source.status());
  if (Status s = flush(); !s.ok()) return fail(s);
  if (total == 0) return Status::OK();

  const std::string key = BranchKey(branch_name);
  bool attached = false;
  for (int attempt = 0; attempt < kMaxAttachAttempts && !attached; ++attempt) {
    auto state = LoadBranch(repo, branch_name);
    if (!state.ok()) return fail(state.status());
    // Newest first: a fresh current token, the batch, the previous current token, then
    // the tokens sealed before (by commits in flight or failed, or earlier batches).
    pb::Branch next = state->branch;
    next.clear_sealed_tokens();
    next.add_sealed_tokens(token);
    next.add_sealed_tokens(state->branch.staging_token());
    for (const auto& t : state->branch.sealed_tokens()) next.add_sealed_tokens(t);
    next.set_staging_token(NewTimedId());
    Status s = store_.SetIf(repo.refs, key, Encode(next), kv::Predicate::Equals(state->raw));
    if (s.IsPredicateFailed()) continue;
    if (s.IsUnknownOutcome()) {
      // Attached or not: the branch tells (the token is this call's alone).
      auto now = LoadBranch(repo, branch_name);
      if (!now.ok()) return now.status();  // the token may be attached: keep it
      const auto& sealed = now->branch.sealed_tokens();
      if (std::find(sealed.begin(), sealed.end(), token) != sealed.end()) {
        attached = true;
        break;
      }
      // Not attached unless a commit folded it already (the head moved): then it cannot
      // be told; the token is kept (the cleaner releases it if nothing references it).
      if (now->branch.commit_id() != state->branch.commit_id()) return s;
      continue;
    }
    if (!s.ok()) return fail(Annotate(s, "attaching a batch to branch", branch_name));
    attached = true;
  }
  if (!attached) {
    return fail(Status::Conflict("attaching a batch to branch '" + std::string(branch_name) +
                                 "' lost " + std::to_string(kMaxAttachAttempts) +
                                 " races; nothing was staged"));
  }
  return SyncIf(options_.sync_staged_writes, "staged batch of branch", branch_name);
}

}  // namespace refkv::refstore::internal

namespace refkv::refstore {

Status RefStore::WriteEntries(std::string_view repo, std::string_view branch,
                              const std::vector<EntryWrite>& batch) {
  internal::VectorSource source(batch);
  return WriteEntries(repo, branch, source);
}

}  // namespace refkv::refstore
