// Repositories, branches, tags, ref resolution and the commit cache.
#include <algorithm>
#include <charconv>

#include "engine/metadata.h"
#include "refstore/internal/ref_expr.h"
#include "refstore/internal/ref_store_impl.h"
#include "refstore/migrations/commit_index.h"
#include "refstore/test_seam.h"

namespace refkv::refstore {

namespace {

// RefStore::Open as a refkv whose code schema is `code_schema` (kCodeSchema but in tests,
// refstore/test_seam.h).
Result<std::unique_ptr<RefStore>> OpenAtCodeSchema(kv::Store& store, RangeStore& ranges,
                                                   const Options& options, int64_t code_schema) {
  // The store's schema decides which index keys new commits write (refstore/schema.h).
  // A store without metadata is a bare kv::Store: this code's schema.
  int64_t schema = kCodeSchema;
  auto md = kv::ReadMetadata(store);
  if (md.ok()) {
    schema = md->schema_version;
  } else if (!md.status().IsNotFound()) {
    return md.status().WithContext("reading the store's schema version");
  }
  // Ranges kept in this very store need no sync of their own: the commit record and
  // branch head written after them cannot outlive them in a crash (refstore.h,
  // "Durability"), and sync_commits syncs them with the head. That holds for a range
  // another commit wrote and this one reuses, too: it was visible, so already in the log.
  CommittedManager::Options committed_options;
  committed_options.sync = ranges.kv_store() != &store;
  committed_options.flat_max_ranges = options.metarange_flat_max_ranges;
  REFKV_ASSIGN_OR_RETURN(auto committed, CommittedManager::Create(ranges, committed_options));
  std::unique_ptr<kv::migrate::NodeHeartbeat> node;
  if (options.heartbeat == Options::Heartbeat::kOn ||
      (options.heartbeat == Options::Heartbeat::kAuto && store.shared())) {
    kv::migrate::NodeOptions node_options;
    node_options.code_schema = code_schema;
    node_options.role = options.node_role;
    node_options.interval_ms = std::max<int64_t>(1, options.heartbeat_interval.count());
    node_options.clock = options.heartbeat_clock;
    REFKV_ASSIGN_OR_RETURN(node, kv::migrate::NodeHeartbeat::Start(store, node_options));
  }
  return std::unique_ptr<RefStore>(std::make_unique<internal::RefStoreImpl>(
      store, std::move(committed), options, schema, std::move(node), code_schema));
}

}  // namespace

Result<std::unique_ptr<RefStore>> RefStore::Open(kv::Store& store, RangeStore& ranges,
                                                 Options options) {
  return OpenAtCodeSchema(store, ranges, options, kCodeSchema);
}

namespace test_seam {

Result<std::unique_ptr<RefStore>> OpenAsCodeSchema(kv::Store& store, RangeStore& ranges,
                                                   const Options& options, int64_t code_schema) {
  return OpenAtCodeSchema(store, ranges, options, code_schema);
}

}  // namespace test_seam

Result<std::vector<RepositoryInfo>> RefStore::ListRepositories() {
  ListOptions all;
  all.limit = 0;
  REFKV_ASSIGN_OR_RETURN(RepositoryPage page, ListRepositories(all));
  return std::move(page.repositories);
}

Result<std::vector<BranchInfo>> RefStore::ListBranches(std::string_view repo) {
  ListOptions all;
  all.limit = 0;
  REFKV_ASSIGN_OR_RETURN(BranchPage page, ListBranches(repo, all));
  return std::move(page.branches);
}

Result<std::vector<TagInfo>> RefStore::ListTags(std::string_view repo) {
  ListOptions all;
  all.limit = 0;
  REFKV_ASSIGN_OR_RETURN(TagPage page, ListTags(repo, all));
  return std::move(page.tags);
}

std::unique_ptr<RefStore> NewRefStore(kv::Store& store, std::unique_ptr<CommittedManager> committed,
                                      Options options, int64_t schema) {
  return std::make_unique<internal::RefStoreImpl>(store, std::move(committed), options, schema);
}

namespace internal {

Status Annotate(const Status& status, std::string_view what, std::string_view name) {
  return status.WithContext(std::string(what) + " '" + kv::Printable(name) + "'");
}

Result<kv::migrate::NodeHeartbeat::WriteGuard> RefStoreImpl::BeginWrite() {
  if (node_ == nullptr) return kv::migrate::NodeHeartbeat::WriteGuard();
  return node_->BeginWrite();
}

Status RefStoreImpl::SyncIf(bool enabled, std::string_view what, std::string_view name) {
  if (!enabled) return Status::OK();
  // The writes are done and visible; only their durability is in doubt on an error.
  return Annotate(store_.Sync(), "syncing " + std::string(what), name);
}

namespace {

// One page of the records of `partition` under `prefix` whose names (keys without the
// prefix) are > options.after, in name order, skipping records `keep` rejects. Scans at
// most one record past the page (to know whether another page follows).
template <typename T, typename Info, typename Keep>
Status ScanPage(kv::Store& store, const std::string& partition, std::string_view prefix,
                const ListOptions& options, Keep keep, std::vector<Info>* out,
                std::string* next_after) {
  kv::ScanOptions scan = kv::ScanOptions::Prefix(prefix);
  if (!options.after.empty()) {
    scan.start = std::string(prefix) + options.after;
    scan.start.push_back('\0');  // the smallest name > after
  }
  const size_t limit = options.limit == 0 ? SIZE_MAX : options.limit;
  if (options.limit != 0) scan.batch_size = std::min<size_t>(options.limit + 1, 4096);
  REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(partition, scan));
  std::string last;
  for (; it->Valid(); it->Next()) {
    T record;
    REFKV_RETURN_IF_ERROR(Decode(it->value(), &record, partition + "/" + kv::Printable(it->key())));
    if (!keep(record)) continue;
    if (out->size() == limit) {
      *next_after = std::move(last);
      return Status::OK();
    }
    last = std::string(it->key().substr(prefix.size()));
    out->push_back(ToInfo(record));
  }
  return it->status();
}

}  // namespace

// ---- Repositories ---------------------------------------------------------------------

Result<RefStoreImpl::Repo> RefStoreImpl::LoadRepo(std::string_view name) {
  REFKV_RETURN_IF_ERROR(ValidateRepoName(name));
  auto raw = store_.Get(kReposPartition, name);
  if (raw.status().IsNotFound()) {
    return Status::NotFound("repository '" + std::string(name) + "' does not exist");
  }
  if (!raw.ok()) return Annotate(raw.status(), "repository", name);
  Repo repo;
  REFKV_RETURN_IF_ERROR(Decode(*raw, &repo.record, "repository '" + std::string(name) + "'"));
  if (repo.record.state() != pb::Repository::ACTIVE) {
    return Status::NotFound("repository '" + std::string(name) + "' is being deleted");
  }
  repo.refs = RefsPartition(name, repo.record.instance_id());
  repo.staging = StagingPartition(name, repo.record.instance_id());
  return repo;
}

Result<RepositoryInfo> RefStoreImpl::CreateRepository(std::string_view name,
                                                      std::string_view default_branch,
                                                      std::string_view storage_namespace) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidateRepoName(name));
  REFKV_RETURN_IF_ERROR(ValidateRefName("branch", default_branch));
  auto existing = store_.Get(kReposPartition, name);
  if (existing.ok()) {
    return Status::AlreadyExists("repository '" + std::string(name) + "' already exists");
  }
  if (!existing.status().IsNotFound()) return Annotate(existing.status(), "repository", name);

  const int64_t start = NowMs();
  Repo repo;
  repo.record.set_name(std::string(name));
  repo.record.set_default_branch(std::string(default_branch));
  repo.record.set_creation_time_ms(start);
  repo.record.set_state(pb::Repository::ACTIVE);
  repo.record.set_instance_id(NewTimedId());
  repo.record.set_storage_namespace(std::string(storage_namespace));
  repo.refs = RefsPartition(name, repo.record.instance_id());
  repo.staging = StagingPartition(name, repo.record.instance_id());
  REFKV_RETURN_IF_ERROR(Annotate(store_.PreparePartitions({repo.refs, repo.staging}),
                                 "creating partitions of repository", name));

  // Reverse order: everything the record points to exists before the record does.
  pb::Commit commit;
  commit.set_committer("refkv");
  commit.set_message("Repository created");
  commit.set_creation_time_ms(start);
  commit.set_generation(1);
  commit.set_metarange_id(committed_->EmptyMetaRangeId());
  REFKV_RETURN_IF_ERROR(InsertCommit(repo, &commit));

  pb::Branch branch;
  branch.set_name(std::string(default_branch));
  branch.set_commit_id(commit.id());
  branch.set_staging_token(NewTimedId());
  REFKV_RETURN_IF_ERROR(Annotate(
      store_.SetIf(repo.refs, BranchKey(default_branch), Encode(branch), kv::Predicate::Absent()),
      "creating branch", default_branch));

  // The cleaner drops partitions of unrecorded instances older than gc_grace: a creation
  // that took that long must not publish its record.
  if (options_.gc_grace.count() > 0 && NowMs() - start > options_.gc_grace.count() / 2) {
    return Status::Timeout("creating repository '" + std::string(name) +
                           "' took longer than half of gc_grace; abandoned");
  }
  repo.record.set_initial_commit_id(commit.id());
  std::string record = Encode(repo.record);
  Status s = store_.SetIf(kReposPartition, name, record, kv::Predicate::Absent());
  if (!s.ok()) {
    // The write may have happened (UnknownOutcome) or a concurrent creator won.
    auto now = store_.Get(kReposPartition, name);
    pb::Repository current;
    if (now.ok() && Decode(*now, &current, "repository").ok() &&
        current.instance_id() == repo.record.instance_id()) {
      REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, "repository", name));
      return ToInfo(repo.record);
    }
    if (s.IsPredicateFailed()) {
      return Status::AlreadyExists("repository '" + std::string(name) + "' already exists");
    }
    return Annotate(s, "writing repository record", name);
  }
  REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, "repository", name));
  return ToInfo(repo.record);
}

Result<RepositoryInfo> RefStoreImpl::GetRepository(std::string_view name) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(name));
  return ToInfo(repo.record);
}

Result<RepositoryPage> RefStoreImpl::ListRepositories(const ListOptions& options) {
  RepositoryPage page;
  REFKV_RETURN_IF_ERROR(ScanPage<pb::Repository>(
      store_, std::string(kReposPartition), "", options,
      [](const pb::Repository& r) { return r.state() == pb::Repository::ACTIVE; },
      &page.repositories, &page.next_after));
  return page;
}

Status RefStoreImpl::DeleteRepository(std::string_view name) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidateRepoName(name));
  for (int attempt = 0; attempt < options_.max_commit_attempts; ++attempt) {
    auto raw = store_.Get(kReposPartition, name);
    if (raw.status().IsNotFound()) {
      return Status::NotFound("repository '" + std::string(name) + "' does not exist");
    }
    if (!raw.ok()) return Annotate(raw.status(), "repository", name);
    pb::Repository record;
    REFKV_RETURN_IF_ERROR(Decode(*raw, &record, "repository '" + std::string(name) + "'"));
    if (record.state() == pb::Repository::DELETING) return FinishDelete(record, *raw);
    record.set_state(pb::Repository::DELETING);
    std::string deleting = Encode(record);
    Status s = store_.SetIf(kReposPartition, name, deleting, kv::Predicate::Equals(*raw));
    if (s.IsPredicateFailed()) continue;  // changed under us: look again
    REFKV_RETURN_IF_ERROR(Annotate(s, "marking repository deleting", name));
    return FinishDelete(record, deleting);
  }
  return Status::Conflict("repository '" + std::string(name) + "' kept changing during delete");
}

Status RefStoreImpl::FinishDelete(const pb::Repository& record, const std::string& raw) {
  const std::string& name = record.name();
  REFKV_RETURN_IF_ERROR(Annotate(store_.DropPartition(RefsPartition(name, record.instance_id())),
                                 "dropping refs of repository", name));
  REFKV_RETURN_IF_ERROR(Annotate(store_.DropPartition(StagingPartition(name, record.instance_id())),
                                 "dropping staging of repository", name));
  Status s = store_.DeleteIf(kReposPartition, name, kv::Predicate::Equals(raw));
  if (!s.IsPredicateFailed()) {  // else someone else finished it
    REFKV_RETURN_IF_ERROR(Annotate(s, "removing record of repository", name));
  }
  return SyncIf(options_.sync_commits, "deletion of repository", name);
}

// ---- Commits (records) -----------------------------------------------------------------

void RefStoreImpl::CacheCommit(const std::string& refs, const pb::Commit& commit) {
  if (options_.commit_cache_entries == 0) return;
  std::string key = refs + '\0' + commit.id();
  std::lock_guard lock(cache_mu_);
  if (cache_.emplace(key, commit).second) {
    cache_order_.push_back(std::move(key));
    while (cache_order_.size() > options_.commit_cache_entries) {
      cache_.erase(cache_order_.front());
      cache_order_.pop_front();
    }
  }
}

Result<pb::Commit> RefStoreImpl::LoadCommit(const Repo& repo, std::string_view id) {
  if (options_.commit_cache_entries > 0) {
    std::string key = repo.refs + '\0' + std::string(id);
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(key);
    if (it != cache_.end()) return it->second;
  }
  auto raw = store_.Get(repo.refs, CommitKey(id));
  if (raw.status().IsNotFound()) {
    return Status::NotFound("commit '" + kv::Printable(id) + "' does not exist in repository '" +
                            repo.record.name() + "'");
  }
  if (!raw.ok()) return Annotate(raw.status(), "commit", id);
  pb::Commit commit;
  REFKV_RETURN_IF_ERROR(Decode(*raw, &commit, repo.refs + "/" + CommitKey(id)));
  if (commit.id() != id || ComputeCommitId(commit) != id) {
    return Status::Corruption("commit record " + repo.refs + "/" + CommitKey(id) +
                              " does not hash to its id");
  }
  CacheCommit(repo.refs, commit);
  return commit;
}

Result<MetaRangeFormat> RefStoreImpl::CommitMetaRangeFormat() {
  bool migrating = false;
  REFKV_ASSIGN_OR_RETURN(const int64_t schema, CommitSchema(&migrating));
  return schema >= kSchemaTwoLevelMetaRange && !migrating ? MetaRangeFormat::kTwoLevel
                                                          : MetaRangeFormat::kFlat;
}

Result<int64_t> RefStoreImpl::CommitSchema(bool* migrating) {
  if (migrating != nullptr) *migrating = false;
  REFKV_ASSIGN_OR_RETURN(
      auto both, store_.MultiGet(kv::kMetaPartition, {std::string(kv::kMetaSchemaVersion),
                                                      std::string(kv::kMetaMigrationState)}));
  if (both.size() != 2)
    return Status::Internal("MultiGet of 2 keys returned " + std::to_string(both.size()));
  const Result<std::string>& raw = both[0];
  const Result<std::string>& state = both[1];
  if (raw.status().IsNotFound()) return schema_.load();
  if (!raw.ok()) return raw.status().WithContext("reading the store's schema version");
  int64_t schema = 0;
  auto [end, ec] = std::from_chars(raw->data(), raw->data() + raw->size(), schema);
  if (ec != std::errc() || end != raw->data() + raw->size()) {
    return Status::Corruption("metadata schema_version '" + kv::Printable(*raw) +
                              "' is not a number");
  }
  // "migrating <up|down> N->M ...": the keys of max(N, M) are harmless at either schema.
  if (!state.ok() && !state.status().IsNotFound()) return state.status();
  if (state.ok() && state->rfind("migrating ", 0) == 0) {
    if (migrating != nullptr) *migrating = true;
    std::string_view line(*state);
    line = line.substr(0, line.find('\n'));
    size_t arrow = line.find("->");
    size_t from_at = line.rfind(' ', arrow);
    if (arrow != std::string_view::npos && from_at != std::string_view::npos) {
      int64_t from = 0, to = 0;
      std::from_chars(line.data() + from_at + 1, line.data() + arrow, from);
      std::from_chars(line.data() + arrow + 2, line.data() + line.size(), to);
      schema = std::max({schema, from, to});
    }
  }
  if (schema > code_schema_) {
    return Status::VersionMismatch(
        "the store was migrated to schema " + std::to_string(schema) + " (or is migrating to " +
        "it), newer than this refkv's " + std::to_string(code_schema_) +
        ": this process writes no more commits; restart this node with a refkv that knows "
        "schema " +
        std::to_string(schema));
  }
  schema_.store(schema);
  return schema;
}

Status RefStoreImpl::InsertCommit(const Repo& repo, pb::Commit* commit,
                                  MetaRangeFormat* format_after) {
  if (format_after != nullptr) *format_after = MetaRangeFormat::kFlat;
  commit->clear_id();
  commit->set_id(ComputeCommitId(*commit));
  const std::string key = CommitKey(commit->id());
  // Refused before anything is written if a newer refkv moved the store on.
  REFKV_RETURN_IF_ERROR(CommitSchema().status());
  Status s = store_.SetIf(repo.refs, key, Encode(*commit), kv::Predicate::Absent());
  if (!s.ok()) {
    // Insert-only: an existing record with the same content is success (a retried commit,
    // or a write whose outcome was unknown). Equal ids mean equal content.
    auto existing = store_.Get(repo.refs, key);
    pb::Commit current;
    const bool same = existing.ok() && Decode(*existing, &current, key).ok() &&
                      ComputeCommitId(current) == commit->id();
    if (!same) {
      if (s.IsPredicateFailed()) {
        return Status::Corruption("commit record " + repo.refs + "/" + key +
                                  " exists with different content");
      }
      return Annotate(s, "writing commit", commit->id());
    }
  }
  // The index keys after the record, every time (refstore/schema.h): a crash in between
  // leaves an unpublished record without them, never index keys without a record, and a
  // retry restores any the cleaner removed. The schema is read after the record: a
  // migration that started before it was written may have scanned past it already, and
  // then CommitSchema names the step's target.
  bool migrating = false;
  REFKV_ASSIGN_OR_RETURN(const int64_t schema, CommitSchema(&migrating));
  if (schema >= kSchemaAncestryIndex) {
    kv::WriteBatch index;
    migrations::AddIndexKeys(*commit, schema, &index);
    REFKV_RETURN_IF_ERROR(
        Annotate(store_.Write(repo.refs, index), "indexing commit", commit->id()));
  }
  // Two-level only if this call inserted the record and no step runs (see format_after).
  if (format_after != nullptr && s.ok() && schema >= kSchemaTwoLevelMetaRange && !migrating) {
    *format_after = MetaRangeFormat::kTwoLevel;
  }
  CacheCommit(repo.refs, *commit);
  return Status::OK();
}

// ---- Refs ------------------------------------------------------------------------------

Result<RefStoreImpl::BranchState> RefStoreImpl::LoadBranch(const Repo& repo,
                                                           std::string_view name) {
  REFKV_RETURN_IF_ERROR(ValidateRefName("branch", name));
  auto raw = store_.Get(repo.refs, BranchKey(name));
  if (raw.status().IsNotFound()) {
    return Status::NotFound("branch '" + std::string(name) + "' does not exist in repository '" +
                            repo.record.name() + "'");
  }
  if (!raw.ok()) return Annotate(raw.status(), "branch", name);
  BranchState state;
  state.raw = std::move(raw).value();
  REFKV_RETURN_IF_ERROR(Decode(state.raw, &state.branch, repo.refs + "/" + BranchKey(name)));
  return state;
}

Result<RefStoreImpl::Resolved> RefStoreImpl::Resolve(const Repo& repo, std::string_view ref) {
  if (IsRefExpression(ref)) return ResolveExpression(repo, ref);
  REFKV_RETURN_IF_ERROR(ValidateRefName("ref", ref));
  // One batched lookup: branch, tag, commit id (in that order of precedence).
  REFKV_ASSIGN_OR_RETURN(auto found,
                         store_.MultiGet(repo.refs, {BranchKey(ref), TagKey(ref), CommitKey(ref)}));
  for (auto& r : found) {
    if (!r.ok() && !r.status().IsNotFound()) return Annotate(r.status(), "ref", ref);
  }
  Resolved out;
  if (found[0].ok()) {
    BranchState state;
    state.raw = std::move(found[0]).value();
    REFKV_RETURN_IF_ERROR(Decode(state.raw, &state.branch, repo.refs + "/" + BranchKey(ref)));
    REFKV_ASSIGN_OR_RETURN(out.commit, LoadCommit(repo, state.branch.commit_id()));
    out.branch = std::move(state);
    return out;
  }
  if (found[1].ok()) {
    pb::Tag tag;
    REFKV_RETURN_IF_ERROR(Decode(*found[1], &tag, repo.refs + "/" + TagKey(ref)));
    REFKV_ASSIGN_OR_RETURN(out.commit, LoadCommit(repo, tag.commit_id()));
    return out;
  }
  if (found[2].ok()) {
    REFKV_ASSIGN_OR_RETURN(out.commit, LoadCommit(repo, ref));
    return out;
  }
  if (IsCommitIdPrefix(ref)) return ResolvePrefix(repo, ref);
  return Status::NotFound("ref '" + std::string(ref) + "' is no branch, tag or commit of '" +
                          repo.record.name() + "'");
}

// ---- Branches --------------------------------------------------------------------------

Result<BranchInfo> RefStoreImpl::CreateBranch(std::string_view repo_name, std::string_view name,
                                              std::string_view from_ref) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidateRefName("branch", name));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  // The cleaner may be deleting the commit as unreachable (gc.cc: ConfirmRefTarget).
  REFKV_ASSIGN_OR_RETURN(std::string fence, ReadSweepFence());
  REFKV_ASSIGN_OR_RETURN(Resolved from, Resolve(repo, from_ref));
  pb::Branch branch;
  branch.set_name(std::string(name));
  branch.set_commit_id(from.commit.id());
  branch.set_staging_token(NewTimedId());
  const std::string raw = Encode(branch);
  Status s = store_.SetIf(repo.refs, BranchKey(name), raw, kv::Predicate::Absent());
  if (s.IsPredicateFailed()) {
    return Status::AlreadyExists("branch '" + std::string(name) + "' already exists in '" +
                                 std::string(repo_name) + "'");
  }
  REFKV_RETURN_IF_ERROR(Annotate(s, "creating branch", name));
  REFKV_RETURN_IF_ERROR(ConfirmRefTarget(repo, fence, branch.commit_id(), BranchKey(name), raw));
  REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, "branch", name));
  return ToInfo(branch);
}

Result<BranchInfo> RefStoreImpl::GetBranch(std::string_view repo_name, std::string_view name) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, name));
  return ToInfo(state.branch);
}

Result<BranchPage> RefStoreImpl::ListBranches(std::string_view repo_name,
                                              const ListOptions& options) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  BranchPage page;
  REFKV_RETURN_IF_ERROR(ScanPage<pb::Branch>(
      store_, repo.refs, kBranchPrefix, options, [](const pb::Branch&) { return true; },
      &page.branches, &page.next_after));
  return page;
}

Status RefStoreImpl::DeleteBranch(std::string_view repo_name, std::string_view name) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  if (name == repo.record.default_branch()) {
    return Status::InvalidArgument("cannot delete the default branch '" + std::string(name) +
                                   "' of '" + std::string(repo_name) + "'");
  }
  for (int attempt = 0; attempt < options_.max_commit_attempts; ++attempt) {
    REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, name));
    Status s = store_.DeleteIf(repo.refs, BranchKey(name), kv::Predicate::Equals(state.raw));
    if (s.IsPredicateFailed()) continue;
    REFKV_RETURN_IF_ERROR(Annotate(s, "deleting branch", name));
    REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, "deletion of branch", name));
    std::vector<std::string> tokens(state.branch.sealed_tokens().begin(),
                                    state.branch.sealed_tokens().end());
    tokens.push_back(state.branch.staging_token());
    ReleaseTokens(repo, tokens);
    return Status::OK();
  }
  return Status::Conflict("branch '" + std::string(name) + "' kept changing during delete");
}

Status RefStoreImpl::ResetBranch(std::string_view repo_name, std::string_view name) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  for (int attempt = 0; attempt < options_.max_commit_attempts; ++attempt) {
    REFKV_ASSIGN_OR_RETURN(BranchState state, LoadBranch(repo, name));
    pb::Branch next = state.branch;
    next.set_staging_token(NewTimedId());
    next.clear_sealed_tokens();
    Status s =
        store_.SetIf(repo.refs, BranchKey(name), Encode(next), kv::Predicate::Equals(state.raw));
    if (s.IsPredicateFailed()) continue;
    REFKV_RETURN_IF_ERROR(Annotate(s, "resetting branch", name));
    REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, "reset of branch", name));
    std::vector<std::string> tokens(state.branch.sealed_tokens().begin(),
                                    state.branch.sealed_tokens().end());
    tokens.push_back(state.branch.staging_token());
    ReleaseTokens(repo, tokens);
    return Status::OK();
  }
  return Status::Conflict("branch '" + std::string(name) + "' kept changing during reset");
}

void RefStoreImpl::ReleaseTokens(const Repo& repo, const std::vector<std::string>& tokens) {
  for (const auto& token : tokens) {
    (void)store_.DeleteRange(repo.staging, token, kv::PrefixUpperBound(token));
  }
}

// ---- Tags ------------------------------------------------------------------------------

Result<TagInfo> RefStoreImpl::CreateTag(std::string_view repo_name, std::string_view name,
                                        std::string_view ref) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(ValidateRefName("tag", name));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  // The cleaner may be deleting the commit as unreachable (gc.cc: ConfirmRefTarget).
  REFKV_ASSIGN_OR_RETURN(std::string fence, ReadSweepFence());
  REFKV_ASSIGN_OR_RETURN(Resolved target, Resolve(repo, ref));
  pb::Tag tag;
  tag.set_name(std::string(name));
  tag.set_commit_id(target.commit.id());
  tag.set_creation_time_ms(NowMs());
  const std::string raw = Encode(tag);
  Status s = store_.SetIf(repo.refs, TagKey(name), raw, kv::Predicate::Absent());
  if (s.IsPredicateFailed()) {
    return Status::AlreadyExists("tag '" + std::string(name) + "' already exists in '" +
                                 std::string(repo_name) + "'");
  }
  REFKV_RETURN_IF_ERROR(Annotate(s, "creating tag", name));
  REFKV_RETURN_IF_ERROR(ConfirmRefTarget(repo, fence, tag.commit_id(), TagKey(name), raw));
  REFKV_RETURN_IF_ERROR(SyncIf(options_.sync_commits, "tag", name));
  return ToInfo(tag);
}

Result<TagInfo> RefStoreImpl::GetTag(std::string_view repo_name, std::string_view name) {
  REFKV_RETURN_IF_ERROR(ValidateRefName("tag", name));
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  auto raw = store_.Get(repo.refs, TagKey(name));
  if (raw.status().IsNotFound()) {
    return Status::NotFound("tag '" + std::string(name) + "' does not exist in '" +
                            std::string(repo_name) + "'");
  }
  if (!raw.ok()) return Annotate(raw.status(), "tag", name);
  pb::Tag tag;
  REFKV_RETURN_IF_ERROR(Decode(*raw, &tag, repo.refs + "/" + TagKey(name)));
  return ToInfo(tag);
}

Result<TagPage> RefStoreImpl::ListTags(std::string_view repo_name, const ListOptions& options) {
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  TagPage page;
  REFKV_RETURN_IF_ERROR(ScanPage<pb::Tag>(
      store_, repo.refs, kTagPrefix, options, [](const pb::Tag&) { return true; }, &page.tags,
      &page.next_after));
  return page;
}

Status RefStoreImpl::DeleteTag(std::string_view repo_name, std::string_view name) {
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
  REFKV_RETURN_IF_ERROR(GetTag(repo_name, name).status());
  REFKV_ASSIGN_OR_RETURN(Repo repo, LoadRepo(repo_name));
  REFKV_RETURN_IF_ERROR(Annotate(store_.Delete(repo.refs, TagKey(name)), "deleting tag", name));
  return SyncIf(options_.sync_commits, "deletion of tag", name);
}

}  // namespace internal
}  // namespace refkv::refstore
