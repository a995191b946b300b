// The cleaner.
//
// What is garbage, and why removing it is safe while others write:
// - A DELETING repository record: its deletion was interrupted; finishing it is what the
//   deleter would have done (idempotent).
// - A partition repo/<name>/<instance>/... whose (name, instance) has no record: a
//   deleted or half-created repository. Removed only if the instance id's timestamp is
//   older than gc_grace; a creation that takes longer than gc_grace/2 abandons itself
//   before writing its record, so a live creation is never robbed.
// - A staging token no branch references, older than gc_grace (by its name). Tokens are
//   minted fresh whenever one starts being referenced, so a token referenced after our
//   branch scan is younger than the scan (within the grace).
// - A metarange or range no commit record of any active repository reaches. Content
//   addressing means a commit may reuse an unreachable range (a retried commit, a
//   re-created repository), so age says nothing. Instead a fence: the sweep marks
//   refkv.gc/range_sweep "<n> sweep <expiry>" before it scans commits, deletes only while
//   its lease holds, and then writes "<n+1> idle". A commit reads the fence before Apply
//   and after inserting its commit record and publishes only if both reads are equal and
//   idle. So either the record existed before the sweep scanned commits (its ranges are
//   reachable), or the commit Applies again after the sweep (re-storing what was swept).
// - A commit record no branch or tag reaches (through parents), older than gc_grace by
//   its creation time: the record of a commit attempt that lost its final compare-and-set
//   (or of a deleted branch's history). Deleted inside the fenced sweep, before ranges are
//   marked, so its ranges go in the same sweep; its index keys ("a/<id>", "k/<parent>/<id>")
//   go after it. Why a live record is never deleted:
//     * Branches and tags are scanned before commit records, and every record younger than
//       gc_grace counts as a root too (with everything it reaches).
//     * A commit stamps its record when the attempt builds it and publishes it only while
//       it is younger than gc_grace / 2 (commit.cc). A record published after our ref scan
//       is therefore younger than the cutoff, and so is every record published between the
//       scan and it; their bases are ancestors of a head the scan saw (a branch moves only
//       by compare-and-set from its head to a child of it).
//     * Creating a branch or tag reads the fence before resolving its commit and again
//       after writing the ref; if a sweep overlapped, it waits for the sweep to end and
//       then checks that the record still exists, else removes its ref and fails NotFound
//       (ConfirmRefTarget).
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "refstore/internal/ref_store_impl.h"
#include "refstore/migrations/commit_index.h"

namespace refkv::refstore::internal {
namespace {

struct Fence {
  int64_t counter = 0;
  bool sweeping = false;
  int64_t expiry_ms = 0;
};

Fence ParseFence(std::string_view raw) {
  Fence f;
  std::istringstream in{std::string(raw)};
  std::string state;
  in >> f.counter >> state >> f.expiry_ms;
  f.sweeping = state == "sweep";
  return f;
}

std::string FormatFence(const Fence& f) {
  return std::to_string(f.counter) + (f.sweeping ? " sweep " : " idle ") +
         std::to_string(f.expiry_ms);
}

}  // namespace

Result<std::string> RefStoreImpl::ReadSweepFence() {
  auto raw = store_.Get(kGcPartition, kRangeSweepKey);
  if (raw.status().IsNotFound()) return std::string();
  if (!raw.ok()) return Annotate(raw.status(), "range-sweep fence", kRangeSweepKey);
  return raw;
}

bool RefStoreImpl::SweepRunning(std::string_view fence) const {
  Fence f = ParseFence(fence);
  return f.sweeping && f.expiry_ms > NowMs();
}

Status RefStoreImpl::SweepCommits(const pb::Repository& record, int64_t cutoff, int64_t deadline,
                                  std::set<std::string>* metaranges, GcStats* stats) {
  const std::string refs = RefsPartition(record.name(), record.instance_id());
  // Roots first (see the top of this file): branch heads, tags, the initial commit.
  std::vector<std::string> pending;
  pending.push_back(record.initial_commit_id());
  for (std::string_view prefix : {kBranchPrefix, kTagPrefix}) {
    REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(refs, kv::ScanOptions::Prefix(prefix)));
    for (; it->Valid(); it->Next()) {
      const std::string where = refs + "/" + kv::Printable(it->key());
      if (prefix == kBranchPrefix) {
        pb::Branch branch;
        REFKV_RETURN_IF_ERROR(Decode(it->value(), &branch, where));
        pending.push_back(branch.commit_id());
      } else {
        pb::Tag tag;
        REFKV_RETURN_IF_ERROR(Decode(it->value(), &tag, where));
        pending.push_back(tag.commit_id());
      }
    }
    REFKV_RETURN_IF_ERROR(it->status());
  }
  // Then every commit record; the young ones are roots too.
  struct Node {
    std::vector<std::string> parents;
    std::string metarange;
    bool reached = false;
  };
  std::unordered_map<std::string, Node> commits;
  {
    REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(refs, kv::ScanOptions::Prefix(kCommitPrefix)));
    for (; it->Valid(); it->Next()) {
      pb::Commit commit;
      REFKV_RETURN_IF_ERROR(Decode(it->value(), &commit, refs + "/" + kv::Printable(it->key())));
      std::string id(it->key().substr(kCommitPrefix.size()));
      if (commit.creation_time_ms() > cutoff) pending.push_back(id);
      Node& node = commits[id];
      node.parents.assign(commit.parents().begin(), commit.parents().end());
      node.metarange = commit.metarange_id();
    }
    REFKV_RETURN_IF_ERROR(it->status());
  }
  // Mark. An id without a record (written after our scan) ends its walk: what it reaches
  // is reached from a root too (see above).
  while (!pending.empty()) {
    std::string id = std::move(pending.back());
    pending.pop_back();
    auto found = commits.find(id);
    if (found == commits.end() || found->second.reached) continue;
    found->second.reached = true;
    for (const auto& p : found->second.parents) pending.push_back(p);
  }
  // Sweep the rest; keep the metaranges of what stays.
  for (const auto& [id, node] : commits) {
    if (node.reached) {
      metaranges->insert(node.metarange);
      continue;
    }
    if (NowMs() > deadline) return Status::Timeout("commit sweep ran out of its lease");
    REFKV_RETURN_IF_ERROR(
        Annotate(store_.Delete(refs, CommitKey(id)), "deleting unreachable commit", id));
    {
      std::lock_guard lock(cache_mu_);
      cache_.erase(refs + '\0' + id);
    }
    // Index keys after the record (a record is never visible without them).
    REFKV_RETURN_IF_ERROR(Annotate(store_.Delete(refs, migrations::AncestryKey(id)),
                                   "deleting ancestry of commit", id));
    for (const auto& p : node.parents) {
      REFKV_RETURN_IF_ERROR(Annotate(store_.Delete(refs, migrations::ChildKey(p, id)),
                                     "deleting child index of commit", id));
    }
    ++stats->commits_deleted;
  }
  return Status::OK();
}

Status RefStoreImpl::ConfirmRefTarget(const Repo& repo, std::string_view fence_before,
                                      std::string_view commit_id, std::string_view ref_key,
                                      const std::string& ref_raw) {
  REFKV_ASSIGN_OR_RETURN(std::string fence, ReadSweepFence());
  if (fence == fence_before && !SweepRunning(fence)) return Status::OK();
  // A sweep overlapped: wait for it to end, then the record must still exist.
  const int64_t give_up = NowMs() + options_.gc_lease.count();
  thread_local std::mt19937_64 rng{std::random_device{}()};
  while (SweepRunning(fence)) {
    if (NowMs() > give_up) {
      return Status::Busy("a range sweep held the creation of '" + kv::Printable(ref_key) +
                          "' off for longer than gc_lease");
    }
    std::this_thread::sleep_for(std::chrono::microseconds(500 + rng() % 4500));
    REFKV_ASSIGN_OR_RETURN(fence, ReadSweepFence());
  }
  auto exists = store_.Get(repo.refs, CommitKey(commit_id));
  if (exists.ok()) return Status::OK();
  if (!exists.status().IsNotFound()) return Annotate(exists.status(), "commit", commit_id);
  (void)store_.DeleteIf(repo.refs, ref_key, kv::Predicate::Equals(ref_raw));
  return Status::NotFound("commit '" + kv::Printable(commit_id) + "' of '" + repo.record.name() +
                          "' was removed by the cleaner (unreachable) while '" +
                          kv::Printable(ref_key) + "' was created at it");
}

Status RefStoreImpl::SweepRanges(int64_t cutoff, GcStats* stats) {
  REFKV_ASSIGN_OR_RETURN(std::string raw, ReadSweepFence());
  Fence fence = ParseFence(raw);
  if (SweepRunning(raw)) return Status::Busy("another range sweep is running");
  Fence mine{fence.counter + 1, true, NowMs() + options_.gc_lease.count()};
  const std::string held = FormatFence(mine);
  Status s = store_.SetIf(kGcPartition, kRangeSweepKey, held,
                          raw.empty() ? kv::Predicate::Absent() : kv::Predicate::Equals(raw));
  if (s.IsPredicateFailed()) return Status::Busy("another range sweep started");
  REFKV_RETURN_IF_ERROR(Annotate(s, "range-sweep fence", kRangeSweepKey));

  auto sweep = [&]() -> Status {
    const int64_t deadline = mine.expiry_ms - options_.gc_lease.count() / 4;
    // Unreachable commit records go first; then mark every metarange a commit record of an
    // active repository names.
    std::vector<pb::Repository> active;
    {
      REFKV_ASSIGN_OR_RETURN(auto repos, store_.Scan(kReposPartition, kv::ScanOptions{}));
      for (; repos->Valid(); repos->Next()) {
        pb::Repository record;
        REFKV_RETURN_IF_ERROR(Decode(repos->value(), &record, "repository"));
        if (record.state() == pb::Repository::ACTIVE) active.push_back(std::move(record));
      }
      REFKV_RETURN_IF_ERROR(repos->status());
    }
    std::set<std::string> metaranges;
    for (const auto& record : active) {
      REFKV_RETURN_IF_ERROR(SweepCommits(record, cutoff, deadline, &metaranges, stats));
    }
    std::unordered_set<std::string> ranges;
    std::unordered_set<std::string> parts;  // of two-level metaranges
    const std::string empty = committed_->EmptyMetaRangeId();
    for (const auto& id : metaranges) {
      if (id == empty) continue;
      auto info = committed_->Describe(id);
      if (info.status().IsNotFound()) continue;  // an unpublished commit's, already swept
      if (!info.ok()) return Annotate(info.status(), "metarange", id);
      for (const auto& r : info->ranges) ranges.insert(r.id);
      auto part_ids = committed_->MetaRangePartIds(id);
      // Describe may have answered from the cache for a tree swept meanwhile.
      if (part_ids.status().IsNotFound()) continue;
      if (!part_ids.ok()) return Annotate(part_ids.status(), "metarange", id);
      parts.insert(part_ids->begin(), part_ids->end());
    }
    // Sweep, only while the lease holds (a commit that sees it expired goes ahead).
    REFKV_ASSIGN_OR_RETURN(auto meta_ids, committed_->ListMetaRangeIds());
    for (const auto& id : meta_ids) {
      if (metaranges.count(id)) continue;
      if (NowMs() > deadline) return Status::Timeout("range sweep ran out of its lease");
      REFKV_RETURN_IF_ERROR(Annotate(committed_->DeleteMetaRange(id), "deleting metarange", id));
      ++stats->metaranges_deleted;
    }
    REFKV_ASSIGN_OR_RETURN(auto part_ids, committed_->ListMetaRangePartIds());
    for (const auto& id : part_ids) {
      if (parts.count(id)) continue;
      if (NowMs() > deadline) return Status::Timeout("range sweep ran out of its lease");
      REFKV_RETURN_IF_ERROR(
          Annotate(committed_->DeleteMetaRangePart(id), "deleting metarange part", id));
      ++stats->metarange_parts_deleted;
    }
    REFKV_ASSIGN_OR_RETURN(auto range_ids, committed_->ListRangeIds());
    for (const auto& id : range_ids) {
      if (ranges.count(id)) continue;
      if (NowMs() > deadline) return Status::Timeout("range sweep ran out of its lease");
      REFKV_RETURN_IF_ERROR(Annotate(committed_->DeleteRange(id), "deleting range", id));
      ++stats->ranges_deleted;
    }
    return Status::OK();
  };
  Status result = sweep();
  Fence done{mine.counter + 1, false, 0};
  Status release =
      store_.SetIf(kGcPartition, kRangeSweepKey, FormatFence(done), kv::Predicate::Equals(held));
  REFKV_RETURN_IF_ERROR(result);
  return Annotate(release, "releasing range-sweep fence", kRangeSweepKey);
}

Result<GcStats> RefStoreImpl::CollectGarbage() {
  GcStats stats;
  const int64_t cutoff = NowMs() - options_.gc_grace.count();

  // Repository records: finish interrupted deletions; remember the live instances.
  std::set<std::pair<std::string, std::string>> live;  // (name, instance)
  std::vector<pb::Repository> active;
  {
    REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(kReposPartition, kv::ScanOptions{}));
    std::vector<std::pair<pb::Repository, std::string>> deleting;
    for (; it->Valid(); it->Next()) {
      pb::Repository record;
      REFKV_RETURN_IF_ERROR(Decode(it->value(), &record, "repository " + kv::Printable(it->key())));
      if (record.state() == pb::Repository::ACTIVE) {
        live.emplace(record.name(), record.instance_id());
        active.push_back(record);
      } else {
        deleting.emplace_back(record, std::string(it->value()));
      }
    }
    REFKV_RETURN_IF_ERROR(it->status());
    it.reset();
    for (const auto& [record, raw] : deleting) {
      REFKV_RETURN_IF_ERROR(FinishDelete(record, raw));
      ++stats.repositories_finished;
    }
  }

  // Partitions of instances without a record.
  REFKV_ASSIGN_OR_RETURN(auto partitions, store_.ListPartitions());
  for (const auto& partition : partitions) {
    RepoPartition parsed;
    if (!ParseRepoPartition(partition, &parsed)) continue;
    if (live.count({parsed.name, parsed.instance})) continue;
    auto born = TimedIdMs(parsed.instance);
    if (born && *born > cutoff) continue;  // maybe a creation in progress
    REFKV_RETURN_IF_ERROR(
        Annotate(store_.DropPartition(partition), "dropping partition", partition));
    ++stats.partitions_dropped;
  }

  // Staging tokens no branch references.
  for (const auto& record : active) {
    Repo repo;
    repo.record = record;
    repo.refs = RefsPartition(record.name(), record.instance_id());
    repo.staging = StagingPartition(record.name(), record.instance_id());
    std::unordered_set<std::string> referenced;
    {
      REFKV_ASSIGN_OR_RETURN(auto it,
                             store_.Scan(repo.refs, kv::ScanOptions::Prefix(kBranchPrefix)));
      for (; it->Valid(); it->Next()) {
        pb::Branch branch;
        REFKV_RETURN_IF_ERROR(
            Decode(it->value(), &branch, repo.refs + "/" + std::string(it->key())));
        referenced.insert(branch.staging_token());
        referenced.insert(branch.sealed_tokens().begin(), branch.sealed_tokens().end());
      }
      REFKV_RETURN_IF_ERROR(it->status());
    }
    REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(repo.staging, kv::ScanOptions{}));
    while (it->Valid()) {
      std::string token(it->key().substr(0, kTimedIdLength));
      const std::string past = kv::PrefixUpperBound(token);
      auto born = TimedIdMs(token);
      if (!referenced.count(token) && (!born || *born <= cutoff)) {
        REFKV_RETURN_IF_ERROR(Annotate(store_.DeleteRange(repo.staging, token, past),
                                       "releasing staging token", token));
        ++stats.staging_tokens_released;
      }
      if (past.empty()) break;
      it->Seek(past);
    }
    REFKV_RETURN_IF_ERROR(it->status());
  }

  REFKV_RETURN_IF_ERROR(SweepRanges(cutoff, &stats));
  return stats;
}

}  // namespace refkv::refstore::internal
