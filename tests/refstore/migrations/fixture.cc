#include "tests/refstore/migrations/fixture.h"

#include <map>
#include <set>
#include <sstream>

#include "refstore/internal/codec.h"
#include "refstore/internal/keys.h"
#include "refstore/migrations/commit_index.h"

namespace refkv::testing {
namespace rs = refstore;

namespace {

Status Commit(rs::RefStore& refs, const std::string& repo, const std::string& branch,
              const std::string& message) {
  rs::CommitRequest req;
  req.committer = "fixture";
  req.message = message;
  req.metadata = {{"n", message}};
  REFKV_ASSIGN_OR_RETURN(auto r, refs.Commit(repo, branch, req));
  if (r.outcome != rs::CommitResult::Outcome::kCommitted) {
    return Status::Internal("fixture commit '" + message + "' made no commit");
  }
  return Status::OK();
}

Status Puts(rs::RefStore& refs, const std::string& repo, const std::string& branch,
            const std::string& prefix, int n, int version) {
  for (int i = 0; i < n; ++i) {
    std::string value = "v";
    value += std::to_string(version);
    value += '-';
    value += std::to_string(i);
    REFKV_RETURN_IF_ERROR(refs.PutEntry(repo, branch, prefix + std::to_string(i), value));
  }
  return Status::OK();
}

}  // namespace

Status BuildFixtureContent(rs::RefStore& refs) {
  REFKV_RETURN_IF_ERROR(refs.CreateRepository("alpha", "main").status());
  for (int c = 0; c < 5; ++c) {
    REFKV_RETURN_IF_ERROR(Puts(refs, "alpha", "main", "data/" + std::to_string(c) + "/", 20, c));
    REFKV_RETURN_IF_ERROR(Puts(refs, "alpha", "main", "shared/", 5, c));
    if (c > 0)
      REFKV_RETURN_IF_ERROR(refs.DeleteEntry("alpha", "main", "data/0/" + std::to_string(c)));
    REFKV_RETURN_IF_ERROR(Commit(refs, "alpha", "main", "main " + std::to_string(c)));
    if (c == 1) {
      REFKV_RETURN_IF_ERROR(refs.CreateTag("alpha", "v1", "main").status());
      REFKV_RETURN_IF_ERROR(refs.CreateBranch("alpha", "feature", "main").status());
    }
    if (c == 2) REFKV_RETURN_IF_ERROR(refs.CreateBranch("alpha", "hotfix", "main").status());
  }
  REFKV_RETURN_IF_ERROR(refs.CreateTag("alpha", "v2", "main").status());
  for (int c = 0; c < 3; ++c) {
    REFKV_RETURN_IF_ERROR(Puts(refs, "alpha", "feature", "feature/", 10, c));
    REFKV_RETURN_IF_ERROR(Commit(refs, "alpha", "feature", "feature " + std::to_string(c)));
  }
  REFKV_RETURN_IF_ERROR(refs.CreateTag("alpha", "feature-done", "feature").status());
  REFKV_RETURN_IF_ERROR(Puts(refs, "alpha", "hotfix", "shared/", 2, 99));
  REFKV_RETURN_IF_ERROR(Commit(refs, "alpha", "hotfix", "hotfix"));
  // Staged, uncommitted.
  REFKV_RETURN_IF_ERROR(Puts(refs, "alpha", "main", "staged/", 7, 5));
  REFKV_RETURN_IF_ERROR(refs.DeleteEntry("alpha", "main", "data/1/3"));
  REFKV_RETURN_IF_ERROR(Puts(refs, "alpha", "feature", "data/0/", 3, 6));

  REFKV_RETURN_IF_ERROR(refs.CreateRepository("beta", "main").status());
  REFKV_RETURN_IF_ERROR(Puts(refs, "beta", "main", "k", 30, 0));
  REFKV_RETURN_IF_ERROR(Commit(refs, "beta", "main", "beta 0"));
  REFKV_RETURN_IF_ERROR(refs.CreateBranch("beta", "dev", "main").status());
  REFKV_RETURN_IF_ERROR(Puts(refs, "beta", "dev", "k", 10, 1));
  REFKV_RETURN_IF_ERROR(Commit(refs, "beta", "dev", "dev 1"));
  REFKV_RETURN_IF_ERROR(refs.CreateTag("beta", "dev-1", "dev").status());
  REFKV_RETURN_IF_ERROR(Puts(refs, "beta", "dev", "new/", 4, 2));
  return Status::OK();
}

Result<RefEnv> OpenRefEnv(kv::Store& store) {
  RefEnv env;
  REFKV_ASSIGN_OR_RETURN(env.ranges, rs::OpenKvRangeStore(store, std::string(kRangesPartition)));
  rs::Options options;
  options.gc_grace = std::chrono::milliseconds(0);
  // At schema >= 4 every tree is two-level, small ones included (the fixtures are small).
  options.metarange_flat_max_ranges = 0;
  REFKV_ASSIGN_OR_RETURN(env.refs, rs::RefStore::Open(store, *env.ranges, options));
  return env;
}

namespace {

Status AppendEntries(rs::RefStore& refs, const std::string& repo, const std::string& ref,
                     std::ostream& out) {
  rs::ListEntriesOptions opts;
  opts.limit = 0;
  REFKV_ASSIGN_OR_RETURN(auto page, refs.ListEntries(repo, ref, opts));
  for (const auto& e : page.entries) out << "    " << e.path << "=" << e.value << "\n";
  return Status::OK();
}

Result<std::vector<rs::CommitInfo>> FullLog(rs::RefStore& refs, const std::string& repo,
                                            const std::string& ref) {
  std::vector<rs::CommitInfo> all;
  rs::LogOptions opts;
  opts.limit = 3;  // exercise paging
  for (;;) {
    REFKV_ASSIGN_OR_RETURN(auto page, refs.Log(repo, ref, opts));
    for (auto& c : page.commits) all.push_back(std::move(c));
    if (page.next_page_token.empty()) break;
    opts.page_token = page.next_page_token;
  }
  return all;
}

}  // namespace

Result<std::string> Snapshot(kv::Store& store, rs::RefStore& refs) {
  std::ostringstream out;
  REFKV_ASSIGN_OR_RETURN(auto repos, refs.ListRepositories());
  for (const auto& repo : repos) {
    out << "repo " << repo.name << " default " << repo.default_branch << " created "
        << repo.creation_time_ms << "\n";
    std::map<std::string, rs::CommitInfo> commits;
    std::vector<std::string> names;
    REFKV_ASSIGN_OR_RETURN(auto branches, refs.ListBranches(repo.name));
    for (const auto& b : branches) {
      out << "  branch " << b.name << " -> " << b.commit_id << "\n";
      REFKV_RETURN_IF_ERROR(AppendEntries(refs, repo.name, b.name, out));
      REFKV_ASSIGN_OR_RETURN(auto diff, refs.DiffUncommitted(repo.name, b.name, 0));
      for (const auto& d : diff) {
        out << "    staged " << static_cast<int>(d.kind) << " " << d.path << "\n";
      }
      names.push_back(b.name);
    }
    REFKV_ASSIGN_OR_RETURN(auto tags, refs.ListTags(repo.name));
    for (const auto& t : tags) {
      out << "  tag " << t.name << " -> " << t.commit_id << " at " << t.creation_time_ms << "\n";
      names.push_back(t.name);
    }
    for (const auto& name : names) {
      REFKV_ASSIGN_OR_RETURN(auto log, FullLog(refs, repo.name, name));
      out << "  log " << name << ":";
      for (const auto& c : log) {
        out << " " << c.id;
        commits.emplace(c.id, c);
      }
      out << "\n";
    }
    for (const auto& [id, c] : commits) {
      out << "  commit " << id << " gen " << c.generation << " by " << c.committer << " '"
          << c.message << "' at " << c.creation_time_ms << " metarange " << c.metarange_id
          << " parents";
      for (const auto& p : c.parents) out << " " << p;
      for (const auto& [k, v] : c.metadata) out << " " << k << ":" << v;
      out << "\n";
      REFKV_RETURN_IF_ERROR(AppendEntries(refs, repo.name, id, out));
    }
    const std::string part = rs::internal::RefsPartition(repo.name, repo.instance_id);
    for (const auto& [a, ca] : commits) {
      for (const auto& [b, cb] : commits) {
        REFKV_ASSIGN_OR_RETURN(bool anc, rs::migrations::IsAncestor(store, part, a, b));
        REFKV_ASSIGN_OR_RETURN(auto base, rs::migrations::MergeBase(store, part, a, b));
        out << "  " << a.substr(0, 8) << (anc ? " <= " : " !<= ") << b.substr(0, 8) << " base "
            << (base ? base->substr(0, 8) : "-") << "\n";
      }
    }
  }
  return out.str();
}

Result<IndexCounts> CountIndex(kv::Store& store) {
  IndexCounts n;
  REFKV_ASSIGN_OR_RETURN(auto parts, store.ListPartitions());
  for (const auto& p : parts) {
    rs::internal::RepoPartition rp;
    if (!rs::internal::ParseRepoPartition(p, &rp) || rp.kind != "refs") continue;
    REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(p, {}));
    for (; it->Valid(); it->Next()) {
      std::string_view k = it->key();
      if (k.substr(0, 2) == "c/") {
        ++n.commits;
        rs::pb::Commit c;
        REFKV_RETURN_IF_ERROR(rs::internal::Decode(it->value(), &c, k));
        n.parent_links += static_cast<size_t>(c.parents_size());
      } else if (k.substr(0, 2) == "a/") {
        ++n.ancestry;
      } else if (k.substr(0, 2) == "k/") {
        ++n.children;
      }
    }
    REFKV_RETURN_IF_ERROR(it->status());
  }
  return n;
}

}  // namespace refkv::testing
