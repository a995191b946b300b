#include "tests/refstore/harness.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <set>

#include "engine/metadata.h"
#include "engine/open.h"
#include "refstore/committed/committed.h"
#include "refstore/internal/keys.h"
#include "refstore/refstore.pb.h"
#include "refstore/schema.h"
#include "tests/support/pg_server.h"

namespace refkv::testing {

namespace rs = refkv::refstore;

namespace {

// Stops the shared throwaway PostgreSQL server (if a test started one) when the binary ends.
class PgServerEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { StopSharedPostgres(); }
};
const auto* const kPgServerEnv = ::testing::AddGlobalTestEnvironment(new PgServerEnvironment);

}  // namespace

std::vector<std::string> Drivers() { return {"mem", "rocks", "postgres"}; }

std::string FreshPgSchemaName() {
  static std::atomic<int> counter{0};
  const auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return "rs_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(now % 1000000007);
}

Result<std::string> FreshPostgresUri() {
  REFKV_ASSIGN_OR_RETURN(std::string base, SharedPostgresUri());
  return WithParam(base, "schema", FreshPgSchemaName());
}

Result<std::string> DriverUri(const std::string& driver, const TempDir& dir) {
  if (driver == "mem") return std::string("mem://");
  if (driver == "postgres") return FreshPostgresUri();
  return driver + "://" + dir.Sub("db");
}

rs::Options TestOptions() {
  rs::Options options;
  options.gc_grace = std::chrono::milliseconds(0);
  options.backoff_base = std::chrono::milliseconds(1);
  options.backoff_max = std::chrono::milliseconds(8);
  // Every tree two-level (at schema >= 4), small ones included: the tests' trees are small.
  options.metarange_flat_max_ranges = 0;
  return options;
}

Status TestEnv::Reopen(const rs::Options& options) {
  refs.reset();
  REFKV_ASSIGN_OR_RETURN(refs, rs::RefStore::Open(*store, *ranges, options));
  return Status::OK();
}

Status OpenEnv(const std::string& driver, const rs::Options& options, TestEnv* env,
               int64_t schema) {
  env->driver = driver;
  env->dir = std::make_unique<TempDir>("refstore");
  REFKV_ASSIGN_OR_RETURN(env->uri, DriverUri(driver, *env->dir));
  kv::OpenOptions open;
  open.code_schema_version = schema;
  REFKV_ASSIGN_OR_RETURN(env->base, kv::Open(env->uri, open));
  env->store = std::make_unique<FaultStore>(*env->base);
  REFKV_ASSIGN_OR_RETURN(env->ranges, rs::OpenKvRangeStore(*env->store, "refkv.ranges"));
  return env->Reopen(options);
}

std::map<std::string, std::string> AllEntries(rs::RefStore& refs, const std::string& repo,
                                              const std::string& ref, size_t page) {
  std::map<std::string, std::string> out;
  rs::ListEntriesOptions options;
  options.limit = page;
  for (int guard = 0; guard < 1000000; ++guard) {
    auto got = refs.ListEntries(repo, ref, options);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) break;
    for (auto& e : got->entries) {
      EXPECT_TRUE(out.emplace(e.path, e.value).second) << "duplicate " << e.path;
    }
    if (got->next_after.empty()) break;
    options.after = got->next_after;
  }
  return out;
}

void ExpectConsistent(rs::RefStore& refs) {
  auto repos = refs.ListRepositories();
  ASSERT_TRUE(repos.ok()) << repos.status().ToString();
  for (const auto& repo : *repos) {
    auto branches = refs.ListBranches(repo.name);
    ASSERT_TRUE(branches.ok()) << branches.status().ToString();
    bool has_default = false;
    std::vector<std::string> refs_to_read;
    for (const auto& b : *branches) {
      has_default = has_default || b.name == repo.default_branch;
      refs_to_read.push_back(b.name);
    }
    EXPECT_TRUE(has_default) << repo.name << " has no default branch " << repo.default_branch;
    auto tags = refs.ListTags(repo.name);
    ASSERT_TRUE(tags.ok()) << tags.status().ToString();
    for (const auto& t : *tags) refs_to_read.push_back(t.name);
    for (const auto& ref : refs_to_read) {
      auto log = refs.Log(repo.name, ref, {});
      ASSERT_TRUE(log.ok()) << repo.name << "@" << ref << ": " << log.status().ToString();
      EXPECT_FALSE(log->commits.empty());
      rs::LogOptions more;
      more.page_token = log->next_page_token;
      while (!more.page_token.empty()) {
        auto next = refs.Log(repo.name, ref, more);
        ASSERT_TRUE(next.ok()) << next.status().ToString();
        more.page_token = next->next_page_token;
      }
      rs::ListEntriesOptions all;
      all.limit = 0;
      auto entries = refs.ListEntries(repo.name, ref, all);
      EXPECT_TRUE(entries.ok()) << repo.name << "@" << ref << ": " << entries.status().ToString();
    }
  }
}

void ExpectNoLeftovers(kv::Store& base, rs::RangeStore& ranges) {
  namespace in = rs::internal;
  std::set<std::string> live;        // partitions
  std::set<std::string> metaranges;  // named by commit records
  auto md = kv::ReadMetadata(base);
  const int64_t schema = md.ok() ? md->schema_version : rs::kCodeSchema;
  auto repos = base.Scan(in::kReposPartition, {});
  ASSERT_TRUE(repos.ok());
  for (; (*repos)->Valid(); (*repos)->Next()) {
    rs::pb::Repository r;
    ASSERT_TRUE(r.ParseFromArray((*repos)->value().data(), (*repos)->value().size()));
    EXPECT_EQ(r.state(), rs::pb::Repository::ACTIVE) << r.name() << " left DELETING";
    std::string refs = in::RefsPartition(r.name(), r.instance_id());
    std::string staging = in::StagingPartition(r.name(), r.instance_id());
    live.insert(refs);
    live.insert(staging);
    std::set<std::string> tokens;
    std::vector<std::string> roots{r.initial_commit_id()};
    std::map<std::string, std::vector<std::string>> commits;  // id -> parents
    std::set<std::string> ancestry;                           // "a/<id>": ids
    std::set<std::pair<std::string, std::string>> children;   // "k/<parent>/<id>"
    auto it = base.Scan(refs, {});
    ASSERT_TRUE(it.ok());
    for (; (*it)->Valid(); (*it)->Next()) {
      std::string_view key = (*it)->key();
      if (key.substr(0, 2) == in::kBranchPrefix) {
        rs::pb::Branch b;
        ASSERT_TRUE(b.ParseFromArray((*it)->value().data(), (*it)->value().size()));
        tokens.insert(b.staging_token());
        tokens.insert(b.sealed_tokens().begin(), b.sealed_tokens().end());
        roots.push_back(b.commit_id());
      } else if (key.substr(0, 2) == in::kTagPrefix) {
        rs::pb::Tag t;
        ASSERT_TRUE(t.ParseFromArray((*it)->value().data(), (*it)->value().size()));
        roots.push_back(t.commit_id());
      } else if (key.substr(0, 2) == in::kCommitPrefix) {
        rs::pb::Commit c;
        ASSERT_TRUE(c.ParseFromArray((*it)->value().data(), (*it)->value().size()));
        metaranges.insert(c.metarange_id());
        commits[c.id()].assign(c.parents().begin(), c.parents().end());
      } else if (key.substr(0, 2) == "a/") {
        ancestry.emplace(key.substr(2));
      } else if (key.substr(0, 2) == "k/") {
        const size_t slash = key.rfind('/');
        children.emplace(key.substr(2, slash - 2), key.substr(slash + 1));
      }
    }
    // Index keys and records match one to one: no index key without its record (the
    // cleaner collects those), no record without its index keys (all are reachable now).
    for (const auto& id : ancestry) {
      EXPECT_TRUE(commits.count(id)) << "orphan index key a/" << id << " in " << refs;
    }
    for (const auto& [parent, id] : children) {
      EXPECT_TRUE(commits.count(id))
          << "orphan index key k/" << parent << "/" << id << " in " << refs;
    }
    for (const auto& [id, parents] : commits) {
      if (schema >= rs::kSchemaAncestryIndex) {
        EXPECT_TRUE(ancestry.count(id)) << "commit " << id << " has no a/ key in " << refs;
      }
      if (schema < rs::kSchemaChildIndex) continue;
      for (const auto& p : parents) {
        EXPECT_TRUE(children.count({p, id})) << "commit " << id << " has no k/ key in " << refs;
      }
    }
    // Every commit record is reachable from a branch, a tag or the initial commit.
    std::set<std::string> reached;
    while (!roots.empty()) {
      std::string id = roots.back();
      roots.pop_back();
      auto found = commits.find(id);
      EXPECT_NE(found, commits.end()) << "reachable commit " << id << " has no record in " << refs;
      if (found == commits.end() || !reached.insert(id).second) continue;
      for (const auto& p : found->second) roots.push_back(p);
    }
    for (const auto& [id, parents] : commits) {
      EXPECT_TRUE(reached.count(id)) << "unreachable commit record " << id << " in " << refs;
    }
    auto st = base.Scan(staging, {});
    ASSERT_TRUE(st.ok());
    for (; (*st)->Valid(); (*st)->Next()) {
      std::string token((*st)->key().substr(0, in::kTimedIdLength));
      EXPECT_TRUE(tokens.count(token))
          << "unreferenced staging token " << token << " in " << staging;
    }
  }
  auto partitions = base.ListPartitions();
  ASSERT_TRUE(partitions.ok());
  for (const auto& p : *partitions) {
    if (p.rfind(in::kRepoPartitionPrefix, 0) != 0) continue;
    // A dropped partition may still be listed by a driver; it must at least be empty.
    if (live.count(p)) continue;
    auto it = base.Scan(p, {});
    ASSERT_TRUE(it.ok());
    EXPECT_FALSE((*it)->Valid()) << "leftover partition " << p;
  }
  auto committed = rs::CommittedManager::Create(ranges, {});
  ASSERT_TRUE(committed.ok());
  std::set<std::string> reachable_ranges, reachable_parts;
  for (const auto& m : metaranges) {
    if (m == (*committed)->EmptyMetaRangeId()) continue;
    auto info = (*committed)->Describe(m);
    ASSERT_TRUE(info.ok()) << "metarange " << m << ": " << info.status().ToString();
    for (const auto& r : info->ranges) reachable_ranges.insert(r.id);
    auto parts = (*committed)->MetaRangePartIds(m);
    ASSERT_TRUE(parts.ok()) << "metarange " << m << ": " << parts.status().ToString();
    reachable_parts.insert(parts->begin(), parts->end());
  }
  auto part_ids = (*committed)->ListMetaRangePartIds();
  ASSERT_TRUE(part_ids.ok());
  for (const auto& id : *part_ids) {
    EXPECT_TRUE(reachable_parts.count(id)) << "leftover metarange part " << id;
  }
  auto meta_ids = (*committed)->ListMetaRangeIds();
  ASSERT_TRUE(meta_ids.ok());
  for (const auto& id : *meta_ids) EXPECT_TRUE(metaranges.count(id)) << "leftover metarange " << id;
  auto range_ids = (*committed)->ListRangeIds();
  ASSERT_TRUE(range_ids.ok());
  for (const auto& id : *range_ids) {
    EXPECT_TRUE(reachable_ranges.count(id)) << "leftover range " << id;
  }
}

}  // namespace refkv::testing
