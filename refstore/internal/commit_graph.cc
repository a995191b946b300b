#include "refstore/internal/commit_graph.h"

#include "refstore/internal/codec.h"
#include "refstore/internal/keys.h"
#include "refstore/refstore.pb.h"

namespace refkv::refstore::internal {

Result<CommitGraph> LoadCommitGraph(kv::Store& store, const std::string& refs,
                                    const std::string& initial_commit, int64_t young_after_ms) {
  // Roots first (see gc.cc for why that order makes the cleaner safe).
  std::vector<std::string> pending{initial_commit};
  for (std::string_view prefix : {kBranchPrefix, kTagPrefix}) {
    REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(refs, kv::ScanOptions::Prefix(prefix)));
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
  CommitGraph graph;
  {
    REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(refs, kv::ScanOptions::Prefix(kCommitPrefix)));
    for (; it->Valid(); it->Next()) {
      pb::Commit commit;
      REFKV_RETURN_IF_ERROR(Decode(it->value(), &commit, refs + "/" + kv::Printable(it->key())));
      std::string id(it->key().substr(kCommitPrefix.size()));
      if (commit.creation_time_ms() > young_after_ms) pending.push_back(id);
      CommitNode& node = graph[id];
      node.generation = commit.generation();
      node.parents.assign(commit.parents().begin(), commit.parents().end());
      node.metarange = commit.metarange_id();
    }
    REFKV_RETURN_IF_ERROR(it->status());
  }
  while (!pending.empty()) {
    std::string id = std::move(pending.back());
    pending.pop_back();
    auto found = graph.find(id);
    if (found == graph.end() || found->second.reached) continue;
    found->second.reached = true;
    for (const auto& p : found->second.parents) pending.push_back(p);
  }
  return graph;
}

}  // namespace refkv::refstore::internal
