// The ref store's schema steps (refstore/schema.h) on fixtures written at schema 1 and 2,
// on mem, rocks and PostgreSQL:
// up, down, cleanup and up again keep every ref, entry, log, tag and ancestry answer
// equal; the index keys are complete after up and gone after cleanup; new commits
// maintain them; a child (rocks, or PostgreSQL on a fresh schema of the shared server)
// SIGKILLed at random points inside `migrate up` (or inside `migrate cleanup` after a
// down, which deletes the index keys) leaves a store that the next run finishes, with the
// unmigrated content. A killed PostgreSQL child leaves its lease (1 s ttl) behind; the next
// run takes it over. The PostgreSQL kill cases skip when no server can be started.
//
// REFKV_MIGRATE_KILL_POINTS=N kill points per op and driver (default 10 on rocks, 3 on
// PostgreSQL, where each point waits out a lease); REFKV_MIGRATE_SEED=S repeats one.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <thread>

#include "base/random.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "format/dump.h"
#include "migrate/migrate.h"
#include "refstore/check.h"
#include "refstore/committed/range_store.h"
#include "refstore/internal/keys.h"
#include "refstore/migrations/commit_index.h"
#include "refstore/schema.h"
#include "tests/engine/postgres/pg_test_env.h"
#include "tests/refstore/harness.h"
#include "tests/refstore/migrations/fixture.h"
#include "tests/support/pg_server.h"
#include "tests/support/require.h"
#include "tests/support/spawn_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::testing {
namespace {

namespace mg = kv::migrate;
namespace rs = refstore;

// The ref store's steps, converting the fixture's range partition (3<->4).
mg::StepRegistry Steps() { return rs::SchemaSteps(kRangesPartition); }

std::string Fixture(int schema) {
  return std::string(REFKV_FIXTURE_DIR) + "/refstore_schema" + std::to_string(schema) + ".dump";
}

const auto* const kServerEnv =
    ::testing::AddGlobalTestEnvironment(new kv::testing::PgServerEnvironment);

// postgres: a fresh table of the shared throwaway server (tests/support/pg_server.h).
std::string Uri(const std::string& driver, TempDir& dir, const std::string& name) {
  if (driver == "postgres") {
    auto uri = kv::testing::FreshTableUri();
    EXPECT_TRUE(uri.ok()) << uri.status().ToString();
    return uri.ok() ? *uri : "postgres://unavailable";
  }
  return driver == "mem" ? "mem://" + name : driver + "://" + dir.Sub(name);
}

// A new store at `schema` holding the fixture written at that schema.
Result<std::unique_ptr<kv::Store>> ImportFixture(const std::string& uri, int schema) {
  kv::OpenOptions open;
  open.code_schema_version = schema;
  REFKV_ASSIGN_OR_RETURN(auto store, kv::Open(uri, open));
  REFKV_RETURN_IF_ERROR(format::ImportDump(Fixture(schema), *store).status());
  return store;
}

mg::RunOptions RunOpts() {
  mg::RunOptions o;
  o.no_backup = true;
  o.lease_ttl_ms = 5000;
  return o;
}

std::string SnapshotOf(kv::Store& store) {
  auto env = OpenRefEnv(store);
  EXPECT_TRUE(env.ok()) << env.status().ToString();
  if (!env.ok()) return "";
  ExpectConsistent(*env->refs);
  auto snap = Snapshot(store, *env->refs);
  EXPECT_TRUE(snap.ok()) << snap.status().ToString();
  return snap.ok() ? *snap : "";
}

int64_t SchemaOf(kv::Store& store) {
  auto md = kv::ReadMetadata(store);
  EXPECT_TRUE(md.ok()) << md.status().ToString();
  return md.ok() ? md->schema_version : -1;
}

void ExpectIndex(kv::Store& store, bool ancestry, bool children) {
  auto violations = rs::migrations::CheckIndex(store, SchemaOf(store));
  ASSERT_TRUE(violations.ok()) << violations.status().ToString();
  for (const auto& v : *violations)
    ADD_FAILURE() << v.partition << " " << v.key << ": " << v.problem;
  auto n = CountIndex(store);
  ASSERT_TRUE(n.ok()) << n.status().ToString();
  EXPECT_GT(n->commits, 10u);
  EXPECT_EQ(n->ancestry, ancestry ? n->commits : 0u);
  EXPECT_EQ(n->children, children ? n->parent_links : 0u);
}

class SchemaSteps : public ::testing::TestWithParam<std::string> {};

TEST_P(SchemaSteps, UpDownCleanupUpFromSchema1) {
  TempDir dir("schema-steps");
  auto store = ImportFixture(Uri(GetParam(), dir, "db"), 1);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  kv::Store& s = **store;
  const mg::StepRegistry steps = Steps();
  ASSERT_EQ(steps.newest(), rs::kCodeSchema);
  ExpectIndex(s, false, false);  // the fixture was written before the indexes existed
  const std::string before = SnapshotOf(s);
  // The snapshot covers what it claims (so equal snapshots mean something).
  for (const char* part : {"branch feature", "branch hotfix", "tag v2", "tag dev-1", " <= ",
                           " !<= ", "staged/6=v5-6", "staged 1 data/1/3", "log feature-done"}) {
    EXPECT_NE(before.find(part), std::string::npos) << part << " missing from\n" << before;
  }

  auto up = mg::Up(s, steps, RunOpts());
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_EQ(up->applied.size(), 3u);
  EXPECT_EQ(SchemaOf(s), rs::kCodeSchema);
  ExpectIndex(s, true, true);
  EXPECT_EQ(SnapshotOf(s), before);

  // Up at the newest schema writes nothing.
  auto again = mg::Up(s, steps, RunOpts());
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_TRUE(again->applied.empty());

  mg::RunOptions down = RunOpts();
  down.to = 1;
  auto d = mg::Down(s, steps, down);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(SchemaOf(s), 1);
  ExpectIndex(s, true, true);  // kept until cleanup
  EXPECT_EQ(SnapshotOf(s), before);

  auto c = mg::Cleanup(s, steps, RunOpts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  ExpectIndex(s, false, false);
  EXPECT_EQ(SnapshotOf(s), before);

  auto up2 = mg::Up(s, steps, RunOpts());
  ASSERT_TRUE(up2.ok()) << up2.status().ToString();
  ExpectIndex(s, true, true);
  EXPECT_EQ(SnapshotOf(s), before);
}

TEST_P(SchemaSteps, UpFromSchema2) {
  TempDir dir("schema-steps2");
  auto store = ImportFixture(Uri(GetParam(), dir, "db"), 2);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  kv::Store& s = **store;
  ExpectIndex(s, true, false);  // schema-2 code wrote ancestry records with each commit
  const std::string before = SnapshotOf(s);
  auto up = mg::Up(s, Steps(), RunOpts());
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_EQ(up->applied.size(), 2u);
  EXPECT_EQ(up->applied[0].step_id, "refs-child-index");
  EXPECT_EQ(up->applied[1].step_id, "refs-two-level-metarange");
  ExpectIndex(s, true, true);
  EXPECT_EQ(SnapshotOf(s), before);
}

TEST_P(SchemaSteps, NewCommitsMaintainTheIndexOfTheirSchema) {
  TempDir dir("schema-steps3");
  auto store = ImportFixture(Uri(GetParam(), dir, "db"), 1);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  kv::Store& s = **store;
  {
    auto env = OpenRefEnv(s);
    ASSERT_TRUE(env.ok());
    ASSERT_TRUE(env->refs->PutEntry("alpha", "main", "x", "1").ok());
    rs::CommitRequest req;
    req.message = "at schema 1";
    ASSERT_TRUE(env->refs->Commit("alpha", "main", req).ok());
  }
  ExpectIndex(s, false, false);
  ASSERT_TRUE(mg::Up(s, Steps(), RunOpts()).ok());
  auto env = OpenRefEnv(s);
  ASSERT_TRUE(env.ok());
  auto head = env->refs->GetBranch("alpha", "main");
  ASSERT_TRUE(head.ok());
  ASSERT_TRUE(env->refs->PutEntry("alpha", "main", "y", "2").ok());
  rs::CommitRequest req;
  req.message = "at schema 3";
  auto made = env->refs->Commit("alpha", "main", req);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  ExpectIndex(s, true, true);
  auto repo = env->refs->GetRepository("alpha");
  ASSERT_TRUE(repo.ok());
  const std::string part = rs::internal::RefsPartition("alpha", repo->instance_id);
  auto kids = rs::migrations::Children(s, part, head->commit_id);
  ASSERT_TRUE(kids.ok()) << kids.status().ToString();
  ASSERT_EQ(kids->size(), 1u);
  EXPECT_EQ((*kids)[0], made->commit.id);
  auto anc = rs::migrations::IsAncestor(s, part, head->commit_id, made->commit.id);
  ASSERT_TRUE(anc.ok());
  EXPECT_TRUE(*anc);
  auto not_anc = rs::migrations::IsAncestor(s, part, made->commit.id, head->commit_id);
  ASSERT_TRUE(not_anc.ok());
  EXPECT_FALSE(*not_anc);
}

TEST_P(SchemaSteps, NewStoreStartsAtTheNewestSchema) {
  TempDir dir("schema-steps4");
  const mg::StepRegistry steps = Steps();
  kv::OpenOptions open = mg::ToolingOpenOptions(steps);
  auto store = kv::Open(Uri(GetParam(), dir, "db"), open);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ(SchemaOf(**store), rs::kCodeSchema);
  auto env = OpenRefEnv(**store);
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE(BuildFixtureContent(*env->refs).ok());
  ExpectIndex(**store, true, true);
  auto up = mg::Up(**store, steps, RunOpts());
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  EXPECT_TRUE(up->applied.empty());
}

TEST_P(SchemaSteps, CheckFindsAMissingIndexKey) {
  TempDir dir("schema-steps5");
  auto store = ImportFixture(Uri(GetParam(), dir, "db"), 1);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(mg::Up(**store, Steps(), RunOpts()).ok());
  auto clean = rs::migrations::CheckIndex(**store, 3);
  ASSERT_TRUE(clean.ok());
  EXPECT_TRUE(clean->empty());
  auto repo_env = OpenRefEnv(**store);
  ASSERT_TRUE(repo_env.ok());
  auto repo = repo_env->refs->GetRepository("beta");
  ASSERT_TRUE(repo.ok());
  auto dev = repo_env->refs->GetCommit("beta", "dev");
  ASSERT_TRUE(dev.ok());
  const std::string part = rs::internal::RefsPartition("beta", repo->instance_id);
  ASSERT_TRUE((*store)->Delete(part, rs::migrations::AncestryKey(dev->id)).ok());
  ASSERT_TRUE((*store)->Delete(part, rs::migrations::ChildKey(dev->parents.at(0), dev->id)).ok());
  auto found = rs::migrations::CheckIndex(**store, 3);
  ASSERT_TRUE(found.ok());
  ASSERT_EQ(found->size(), 2u);
  EXPECT_EQ((*found)[0].key, rs::migrations::AncestryKey(dev->id));
  // Ancestry still answers from the commit record.
  auto anc = rs::migrations::IsAncestor(**store, part, dev->parents.at(0), dev->id);
  ASSERT_TRUE(anc.ok());
  EXPECT_TRUE(*anc);
}

// A RefStore opened at schema 1, before another client migrated the store: its next
// commits carry the index of the new schema (CheckIndex finds nothing missing), and
// once a newer refkv moved the store past this code's schema it commits no more.
TEST_P(SchemaSteps, RefStoreOpenedBeforeTheMigrationFollowsIt) {
  TempDir dir("schema-steps6");
  auto store = ImportFixture(Uri(GetParam(), dir, "db"), 1);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  kv::Store& s = **store;
  auto env = OpenRefEnv(s);  // opened at schema 1
  ASSERT_TRUE(env.ok());
  ASSERT_TRUE(mg::Up(s, Steps(), RunOpts()).ok());
  ASSERT_EQ(SchemaOf(s), rs::kCodeSchema);
  ASSERT_TRUE(env->refs->PutEntry("alpha", "main", "after", "1").ok());
  rs::CommitRequest req;
  req.message = "by a ref store opened at schema 1";
  auto made = env->refs->Commit("alpha", "main", req);
  ASSERT_TRUE(made.ok()) << made.status().ToString();
  auto missing = rs::migrations::CheckIndex(s, 3);
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_TRUE(missing->empty()) << (missing->empty() ? "" : (*missing)[0].key);

  // A newer refkv's schema: refused with what to do, the branch unmoved.
  ASSERT_TRUE(kv::SetSchemaVersion(s, rs::kCodeSchema, rs::kCodeSchema + 1).ok());
  ASSERT_TRUE(env->refs->PutEntry("alpha", "main", "later", "2").ok());
  auto refused = env->refs->Commit("alpha", "main", req);
  ASSERT_FALSE(refused.ok());
  EXPECT_TRUE(refused.status().IsVersionMismatch()) << refused.status().ToString();
  EXPECT_NE(refused.status().message().find("restart"), std::string::npos);
  auto head = env->refs->GetBranch("alpha", "main");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->commit_id, made->commit.id);
}

// The v2 roots and parts in the fixture's range store, and whether every root has its
// flat (v1) form beside it.
struct TwoLevelCounts {
  size_t roots = 0, parts = 0, roots_without_flat = 0;
};
TwoLevelCounts CountTwoLevel(kv::Store& store) {
  TwoLevelCounts n;
  auto ranges = rs::OpenKvRangeStore(store, std::string(kRangesPartition));
  EXPECT_TRUE(ranges.ok());
  if (!ranges.ok()) return n;
  auto roots = (*ranges)->ListMetaObjectIds(rs::RangeStore::MetaObject::kRoot);
  auto parts = (*ranges)->ListMetaObjectIds(rs::RangeStore::MetaObject::kPart);
  EXPECT_TRUE(roots.ok() && parts.ok());
  if (!roots.ok() || !parts.ok()) return n;
  n.roots = roots->size();
  n.parts = parts->size();
  for (const auto& id : *roots) {
    if (!(*ranges)->GetMetaRange(id).ok()) ++n.roots_without_flat;
  }
  return n;
}

void ExpectCheckPasses(kv::Store& store) {
  auto env = OpenRefEnv(store);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  auto report = rs::Check(store, *env->refs, *env->ranges);
  ASSERT_TRUE(report.ok()) << report.status().ToString();
  for (const auto& v : report->violations) ADD_FAILURE() << v.location << ": " << v.problem;
  EXPECT_GT(report->metaranges, 3u);
}

// Commits on several branches of the fixture content (at schema 4: two-level trees).
void CommitMore(kv::Store& store, int rounds) {
  auto env = OpenRefEnv(store);
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  for (int r = 0; r < rounds; ++r) {
    for (const auto& [repo, branch] : std::vector<std::pair<std::string, std::string>>{
             {"alpha", "main"}, {"alpha", "feature"}, {"beta", "dev"}}) {
      ASSERT_TRUE(
          env->refs->PutEntry(repo, branch, "v4/" + std::to_string(r), "round " + std::to_string(r))
              .ok());
      rs::CommitRequest req;
      req.message = "at schema 4, round " + std::to_string(r);
      auto made = env->refs->Commit(repo, branch, req);
      ASSERT_TRUE(made.ok()) << made.status().ToString();
    }
  }
}

// Schema 3 -> 4 -> 3 on the fixture written at schema 3 (flat metaranges): up rewrites
// nothing; commits at 4 write two-level trees; down writes their flat forms beside
// them; cleanup drops roots and parts; every step keeps the content and passes check.
TEST_P(SchemaSteps, TwoLevelMetaRangesUpDownCleanupFromSchema3) {
  TempDir dir("schema-steps7");
  auto store = ImportFixture(Uri(GetParam(), dir, "db"), 3);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  kv::Store& s = **store;
  const mg::StepRegistry steps = Steps();
  EXPECT_EQ(CountTwoLevel(s).roots, 0u);  // written by schema-3 code: flat only
  const std::string fixture = SnapshotOf(s);
  ExpectCheckPasses(s);

  auto up = mg::Up(s, steps, RunOpts());
  ASSERT_TRUE(up.ok()) << up.status().ToString();
  ASSERT_EQ(up->applied.size(), 1u);
  EXPECT_EQ(up->applied[0].step_id, "refs-two-level-metarange");
  EXPECT_EQ(SchemaOf(s), 4);
  EXPECT_EQ(CountTwoLevel(s).roots, 0u);  // nothing rewritten
  EXPECT_EQ(SnapshotOf(s), fixture);
  ExpectCheckPasses(s);

  CommitMore(s, 3);
  TwoLevelCounts at4 = CountTwoLevel(s);
  EXPECT_EQ(at4.roots, 9u);  // one per new commit
  EXPECT_EQ(at4.roots_without_flat, at4.roots);
  EXPECT_GE(at4.parts, 3u);
  const std::string before = SnapshotOf(s);
  EXPECT_NE(before, fixture);
  ExpectCheckPasses(s);

  mg::RunOptions down = RunOpts();
  down.to = 3;
  auto d = mg::Down(s, steps, down);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  ASSERT_EQ(d->applied.size(), 1u);
  EXPECT_EQ(d->applied[0].rows, 9);
  EXPECT_EQ(SchemaOf(s), 3);
  TwoLevelCounts after_down = CountTwoLevel(s);
  EXPECT_EQ(after_down.roots, at4.roots);  // kept until cleanup
  EXPECT_EQ(after_down.roots_without_flat, 0u);
  EXPECT_EQ(SnapshotOf(s), before);
  ExpectCheckPasses(s);

  auto c = mg::Cleanup(s, steps, RunOpts());
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  TwoLevelCounts cleaned = CountTwoLevel(s);
  EXPECT_EQ(cleaned.roots, 0u);
  EXPECT_EQ(cleaned.parts, 0u);
  EXPECT_EQ(SnapshotOf(s), before);
  ExpectCheckPasses(s);

  // Schema-3 commits write flat trees; up again changes nothing.
  CommitMore(s, 1);
  EXPECT_EQ(CountTwoLevel(s).roots, 0u);
  const std::string at3 = SnapshotOf(s);
  ASSERT_TRUE(mg::Up(s, steps, RunOpts()).ok());
  EXPECT_EQ(SchemaOf(s), 4);
  EXPECT_EQ(SnapshotOf(s), at3);
  ExpectCheckPasses(s);
}

INSTANTIATE_TEST_SUITE_P(Drivers, SchemaSteps, ::testing::Values("mem", "rocks", "postgres"));

// ---- kill -9 ------------------------------------------------------------------------

// A store of one kill point: the URI the child and the parent open, and the marker file
// the child creates when its run starts (in the test's TempDir for every driver).
struct Target {
  std::string uri;
  std::string marker;
};

Result<Target> FreshTarget(const std::string& driver, TempDir& dir, const std::string& name) {
  Target t;
  t.marker = dir.Sub(name + ".started");
  if (driver == "rocks") {
    t.uri = "rocks://" + dir.Sub(name);
    return t;
  }
  REFKV_ASSIGN_OR_RETURN(t.uri, DriverUri(driver, dir));  // a fresh schema
  return t;
}

TEST(SchemaStepsCrash, DISABLED_Child) {
  const char* uri = std::getenv("REFKV_SCHEMA_CHILD_URI");
  const char* marker = std::getenv("REFKV_SCHEMA_CHILD_MARKER");
  ASSERT_TRUE(uri != nullptr && marker != nullptr);
  kv::OpenOptions open = mg::ToolingOpenOptions(Steps());
  open.create_if_missing = false;
  auto store = kv::Open(uri, open);
  if (!store.ok()) _exit(3);
  std::FILE* started = std::fopen(marker, "w");
  if (started != nullptr) std::fclose(started);
  mg::RunOptions o = RunOpts();
  o.lease_ttl_ms = 1000;
  // Widen the windows between checkpoints so kills land inside steps.
  o.progress = [](const mg::Progress&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  };
  const std::string op =
      std::getenv("REFKV_SCHEMA_CHILD_OP") ? std::getenv("REFKV_SCHEMA_CHILD_OP") : "up";
  mg::RunOptions down = o;
  down.to = 3;
  auto r = op == "cleanup" || op == "cleanup4" ? mg::Cleanup(**store, Steps(), o)
           : op == "down4"                     ? mg::Down(**store, Steps(), down)
                                               : mg::Up(**store, Steps(), o);
  _exit(r.ok() ? 0 : 4);
}

// What the child runs: "up" on a schema-1 store, "cleanup" on a store taken up to the
// newest schema and back down to 1 (the cleanup drops both indexes), "down4" (4 -> 3,
// writing the flat form of every two-level tree) on a store taken up to 4 with commits
// made there, "cleanup4" (dropping the roots and parts) on that store after down4.
pid_t SpawnChild(const Target& t, const std::string& op) {
  return refkv::testing::SpawnTest(
      "SchemaStepsCrash.DISABLED_Child",
      {"REFKV_SCHEMA_CHILD_URI=" + t.uri, "REFKV_SCHEMA_CHILD_MARKER=" + t.marker,
       "REFKV_SCHEMA_CHILD_OP=" + op, "REFKV_REFSTORE_MIGRATE_BATCH=2"});
}

int WaitChild(pid_t pid) { return refkv::testing::WaitForChild(pid); }

bool WaitStarted(const Target& t, pid_t pid) {
  for (int i = 0; i < 60000; ++i) {
    if (access(t.marker.c_str(), F_OK) == 0) return true;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

// Makes the store the child works on; `*expected` receives its content for the
// two-level ops (made with new commits, so unlike the fixture's).
void MakeStore(const std::string& uri, const std::string& op, std::string* expected) {
  auto store = ImportFixture(uri, 1);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  if (op == "cleanup") {
    ASSERT_TRUE(mg::Up(**store, Steps(), RunOpts()).ok());
    mg::RunOptions down = RunOpts();
    down.to = 1;
    ASSERT_TRUE(mg::Down(**store, Steps(), down).ok());
  }
  if (op == "down4" || op == "cleanup4") {
    ASSERT_TRUE(mg::Up(**store, Steps(), RunOpts()).ok());
    CommitMore(**store, 8);
    ASSERT_EQ(CountTwoLevel(**store).roots, 24u);
    if (op == "cleanup4") {
      mg::RunOptions down = RunOpts();
      down.to = 3;
      ASSERT_TRUE(mg::Down(**store, Steps(), down).ok());
    }
    *expected = SnapshotOf(**store);
  }
  ASSERT_TRUE((*store)->Close().ok());
}

// Opens `uri` after a kill, finishes with the same operation, checks the schema, index
// and content.
void FinishAndVerify(const std::string& uri, const std::string& op, const std::string& expected,
                     int* mid) {
  kv::OpenOptions open = mg::ToolingOpenOptions(Steps());
  open.create_if_missing = false;
  auto store = kv::Open(uri, open);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto v = mg::Version(**store, Steps());
  ASSERT_TRUE(v.ok());
  if (v->state.migrating) ++*mid;
  mg::RunOptions o = RunOpts();
  o.lease_ttl_ms = 1000;
  o.lock_timeout_ms = 10000;
  if (op == "down4") {
    mg::RunOptions down = o;
    down.to = 3;
    auto d = mg::Down(**store, Steps(), down);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    EXPECT_EQ(SchemaOf(**store), 3);
    TwoLevelCounts n = CountTwoLevel(**store);
    EXPECT_EQ(n.roots, 24u);
    EXPECT_EQ(n.roots_without_flat, 0u);
  } else if (op == "cleanup4") {
    auto c = mg::Cleanup(**store, Steps(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(SchemaOf(**store), 3);
    TwoLevelCounts n = CountTwoLevel(**store);
    EXPECT_EQ(n.roots, 0u);
    EXPECT_EQ(n.parts, 0u);
  } else if (op == "cleanup") {
    auto c = mg::Cleanup(**store, Steps(), o);
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    EXPECT_EQ(SchemaOf(**store), 1);
    ExpectIndex(**store, false, false);
  } else {
    auto up = mg::Up(**store, Steps(), o);
    ASSERT_TRUE(up.ok()) << up.status().ToString();
    EXPECT_EQ(SchemaOf(**store), rs::kCodeSchema);
    ExpectIndex(**store, true, true);
  }
  EXPECT_EQ(SnapshotOf(**store), expected);
  ASSERT_TRUE((*store)->Close().ok());
}

void KillAtRandomPoints(const std::string& driver, const std::string& op) {
  TempDir dir("schema-crash");
  if (driver == "postgres") {
    auto base = SharedPostgresUri();
    if (!base.ok()) {
      REFKV_SKIP_UNLESS_REQUIRED("PostgreSQL unavailable: " + base.status().ToString());
    }
  }
  const char* points_env = std::getenv("REFKV_MIGRATE_KILL_POINTS");
  const int points = points_env != nullptr ? std::max(1, std::atoi(points_env))
                     : driver == "rocks"   ? 10
                                           : 3;
  const uint64_t seed = SeedFromEnv("REFKV_MIGRATE_SEED", std::nullopt, driver);
  std::cout << driver << ": REFKV_MIGRATE_SEED=" << seed << ", " << points << " kill points\n";
  std::mt19937_64 rng(seed);

  std::string expected;
  {
    auto mem = ImportFixture("mem://expected", 1);
    ASSERT_TRUE(mem.ok()) << mem.status().ToString();
    expected = SnapshotOf(**mem);
  }
  // Calibrate: an uninterrupted child run.
  auto calibrate = FreshTarget(driver, dir, "calibrate");
  ASSERT_TRUE(calibrate.ok()) << calibrate.status().ToString();
  MakeStore(calibrate->uri, op, &expected);
  if (::testing::Test::HasFatalFailure()) return;
  pid_t pid = SpawnChild(*calibrate, op);
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitStarted(*calibrate, pid));
  auto t0 = std::chrono::steady_clock::now();
  int status = WaitChild(pid);
  const int64_t full_us =
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  int mid = 0;
  FinishAndVerify(calibrate->uri, op, expected, &mid);
  if (::testing::Test::HasFatalFailure()) return;
  std::cout << "uninterrupted " << op << " in the child: " << full_us / 1000 << " ms\n";

  mid = 0;
  for (int i = 0; i < points; ++i) {
    auto target = FreshTarget(driver, dir, "p" + std::to_string(i));
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    MakeStore(target->uri, op, &expected);
    if (::testing::Test::HasFatalFailure()) return;
    const int64_t kill_at = std::uniform_int_distribution<int64_t>(0, full_us)(rng);
    SCOPED_TRACE("kill point " + std::to_string(i) + " at " + std::to_string(kill_at) + " us");
    pid = SpawnChild(*target, op);
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(WaitStarted(*target, pid));
    std::this_thread::sleep_for(std::chrono::microseconds(kill_at));
    kill(pid, SIGKILL);
    WaitChild(pid);
    FinishAndVerify(target->uri, op, expected, &mid);
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::cout << mid << " of " << points << " kills of " << op << " left a step running\n";
  // Cleanup is two DeleteRanges on the fixture: kills rarely land inside it.
  if (points >= 10 && op == "up") {
    EXPECT_GT(mid, 0) << "no kill landed inside a step";
  }
}

class SchemaStepsKill : public ::testing::TestWithParam<std::string> {};

TEST_P(SchemaStepsKill, KillUpAtRandomPoints) { KillAtRandomPoints(GetParam(), "up"); }
TEST_P(SchemaStepsKill, KillCleanupAfterDownAtRandomPoints) {
  KillAtRandomPoints(GetParam(), "cleanup");
}
TEST_P(SchemaStepsKill, KillTwoLevelDownAtRandomPoints) { KillAtRandomPoints(GetParam(), "down4"); }
TEST_P(SchemaStepsKill, KillTwoLevelCleanupAtRandomPoints) {
  KillAtRandomPoints(GetParam(), "cleanup4");
}

INSTANTIATE_TEST_SUITE_P(Drivers, SchemaStepsKill, ::testing::Values("rocks", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::testing
