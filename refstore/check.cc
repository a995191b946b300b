#include "refstore/check.h"

#include <set>

#include "engine/metadata.h"
#include "migrate/migrate.h"
#include "refstore/committed/committed.h"
#include "refstore/migrations/commit_index.h"
#include "refstore/schema.h"

namespace refkv::refstore {

Result<CheckReport> Check(kv::Store& store, RefStore& refs, RangeStore& ranges) {
  CheckReport report;
  auto add = [&report](std::string location, const Status& s) {
    report.violations.push_back({std::move(location), s.ToString()});
  };

  // The store's own records.
  auto metadata = kv::ReadMetadata(store);
  if (!metadata.ok()) add("store metadata", metadata.status());
  auto load = kv::ReadPendingLoad(store);
  if (!load.ok()) {
    add("store pending load", load.status());
  } else if (*load) {
    add("store pending load", Status::VersionMismatch(kv::DescribePendingLoad(**load)));
  }
  kv::migrate::StepRegistry steps = SchemaSteps();
  auto version = kv::migrate::Version(store, steps);
  if (!version.ok()) {
    add("store migration state", version.status());
  } else if (version->store_schema > version->code_schema) {
    add("store schema", Status::VersionMismatch("schema " + std::to_string(version->store_schema) +
                                                " is newer than this code's " +
                                                std::to_string(version->code_schema)));
  }

  if (version.ok() && version->store_schema <= version->code_schema) {
    auto index = migrations::CheckIndex(store, version->store_schema);
    if (!index.ok()) {
      add("commit index", index.status());
    } else {
      for (const auto& v : *index) {
        report.violations.push_back(
            {"index " + v.partition + " " + kv::Printable(v.key), v.problem});
      }
    }
  }

  REFKV_ASSIGN_OR_RETURN(auto manager,
                         CommittedManager::Create(ranges, CommittedManager::Options{}));
  REFKV_ASSIGN_OR_RETURN(std::vector<RepositoryInfo> repos, refs.ListRepositories());
  for (const RepositoryInfo& repo : repos) {
    ++report.repositories;
    const std::string where = "repo " + repo.name;
    std::vector<std::string> pending;  // commit ids to visit
    std::set<std::string> seen;
    if (auto b = refs.GetBranch(repo.name, repo.default_branch); !b.ok()) {
      add(where + " default branch " + repo.default_branch, b.status());
    }
    auto branches = refs.ListBranches(repo.name);
    if (!branches.ok()) {
      add(where + " branches", branches.status());
    } else {
      for (const BranchInfo& b : *branches) {
        ++report.branches;
        pending.push_back(b.commit_id);
        auto c = refs.GetCommit(repo.name, b.commit_id);
        if (!c.ok()) add(where + " branch " + b.name + " head " + b.commit_id, c.status());
      }
    }
    auto tags = refs.ListTags(repo.name);
    if (!tags.ok()) {
      add(where + " tags", tags.status());
    } else {
      for (const TagInfo& t : *tags) {
        ++report.tags;
        pending.push_back(t.commit_id);
        auto c = refs.GetCommit(repo.name, t.commit_id);
        if (!c.ok()) add(where + " tag " + t.name + " commit " + t.commit_id, c.status());
      }
    }
    // Every reachable commit once: parents, metarange and ranges.
    std::set<std::string> verified;
    while (!pending.empty()) {
      std::string id = std::move(pending.back());
      pending.pop_back();
      if (!seen.insert(id).second) continue;
      auto commit = refs.GetCommit(repo.name, id);
      if (!commit.ok()) continue;  // reported where it is referenced
      ++report.commits;
      for (const std::string& parent : commit->parents) {
        auto p = refs.GetCommit(repo.name, parent);
        if (!p.ok()) {
          add(where + " commit " + id + " parent " + parent, p.status());
        } else {
          pending.push_back(parent);
        }
      }
      const std::string& mr = commit->metarange_id;
      if (mr == manager->EmptyMetaRangeId() || !verified.insert(mr).second) continue;
      ++report.metaranges;
      Status v = manager->Verify(mr);
      if (!v.ok()) add(where + " commit " + id + " metarange " + mr, v);
    }
  }
  return report;
}

}  // namespace refkv::refstore
