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
//   go just before it (a commit writes them just after its record). Why a live record is
//   never deleted:
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
// - An index key whose commit record is absent: left by an older refkv that wrote the
//   index before the record and died in between, or by a commit that stalled past
//   gc_grace after this cleaner removed its record. Deleted inside the fenced sweep, each
//   record looked up again just before. A commit writes its record before its index
//   keys, so a live commit's keys are never seen without it; and any commit whose keys a
//   sweep could have removed re-reads the fence after writing them and tries again (its
//   InsertCommit rewrites them) before it may publish.
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "base/random.h"
#include "refstore/internal/commit_graph.h"
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
  // Roots first, then every commit record; the young ones are roots too (see the top).
  REFKV_ASSIGN_OR_RETURN(CommitGraph graph,
                         LoadCommitGraph(store_, refs, record.initial_commit_id(), cutoff));
  // Sweep the rest; keep the metaranges of what stays.
  for (const auto& [id, node] : graph) {
    if (node.reached) {
      metaranges->insert(node.metarange);
      continue;
    }
    if (NowMs() > deadline) return Status::Timeout("commit sweep ran out of its lease");
    // Index keys before the record: a crash in between leaves a record without index
    // keys, which the next sweep deletes; never index keys without a record.
    kv::WriteBatch index;
    index.Delete(migrations::AncestryKey(id));
    for (const auto& p : node.parents) index.Delete(migrations::ChildKey(p, id));
    REFKV_RETURN_IF_ERROR(
        Annotate(store_.Write(refs, index), "deleting the index keys of commit", id));
    REFKV_RETURN_IF_ERROR(
        Annotate(store_.Delete(refs, CommitKey(id)), "deleting unreachable commit", id));
    {
      std::lock_guard lock(cache_mu_);
      cache_.erase(refs + '\0' + id);
    }
    ++stats->commits_deleted;
  }
  return SweepOrphanIndex(refs, graph, deadline, stats);
}

Status RefStoreImpl::SweepOrphanIndex(const std::string& refs, const CommitGraph& graph,
                                      int64_t deadline, GcStats* stats) {
  // Index keys of commits the graph does not keep: "a/<id>" and "k/<parent>/<id>".
  std::vector<std::pair<std::string, std::string>> candidates;  // (key, commit id)
  for (std::string_view prefix : {migrations::kAncestryPrefix, migrations::kChildPrefix}) {
    REFKV_ASSIGN_OR_RETURN(auto it, store_.Scan(refs, kv::ScanOptions::Prefix(prefix)));
    for (; it->Valid(); it->Next()) {
      std::string_view key = it->key();
      std::string_view id = prefix == migrations::kAncestryPrefix ? key.substr(prefix.size())
                                                                  : key.substr(key.rfind('/') + 1);
      auto node = graph.find(std::string(id));
      if (node != graph.end() && node->second.reached) continue;
      candidates.emplace_back(std::string(key), std::string(id));
    }
    REFKV_RETURN_IF_ERROR(it->status());
  }
  if (candidates.empty()) return Status::OK();
  // A record written after the graph's scan keeps its keys: look each one up again.
  std::vector<std::string> record_keys;
  for (const auto& c : candidates) record_keys.push_back(CommitKey(c.second));
  REFKV_ASSIGN_OR_RETURN(auto records, store_.MultiGet(refs, record_keys));
  kv::WriteBatch orphans;
  for (size_t i = 0; i < candidates.size(); ++i) {
    if (records[i].ok()) continue;
    if (!records[i].status().IsNotFound()) {
      return Annotate(records[i].status(), "commit", candidates[i].second);
    }
    orphans.Delete(candidates[i].first);
  }
  if (orphans.empty()) return Status::OK();
  if (NowMs() > deadline) return Status::Timeout("index sweep ran out of its lease");
  REFKV_RETURN_IF_ERROR(Annotate(store_.Write(refs, orphans), "deleting orphan index keys", refs));
  stats->index_keys_deleted += orphans.ops().size();
  return Status::OK();
}

Status RefStoreImpl::ConfirmRefTarget(const Repo& repo, std::string_view fence_before,
                                      std::string_view commit_id, std::string_view ref_key,
                                      const std::string& ref_raw) {
  REFKV_ASSIGN_OR_RETURN(std::string fence, ReadSweepFence());
  if (fence == fence_before && !SweepRunning(fence)) return Status::OK();
  // A sweep overlapped: wait for it to end, then the record must still exist.
  const int64_t give_up = NowMs() + options_.gc_lease.count();
  std::mt19937_64& rng = ThreadRng();
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
  REFKV_ASSIGN_OR_RETURN(auto write_guard, BeginWrite());
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
