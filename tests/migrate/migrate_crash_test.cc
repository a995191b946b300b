// Kill -9 during migrations, the same code on rocks and PostgreSQL: a child process (this
// binary, re-run with a filter) migrates; the parent SIGKILLs it at a random moment, then
// the next run must finish by itself and the content must equal the unmigrated store's.
// rocks: a fresh directory per kill point; PostgreSQL: a fresh schema of the shared
// throwaway server (tests/support/pg_server.h) per kill point. A killed PostgreSQL client
// leaves its lease behind until its ttl (1 s here): the next run takes it over by itself.
// The PostgreSQL cases skip when no server can be started.
//
// REFKV_MIGRATE_KILL_POINTS=N kill points per direction and driver (default 20 on rocks,
// 8 on PostgreSQL, where each point waits out a lease; scripts/test --full sets 100);
// REFKV_MIGRATE_SEED=S repeats a run (the seed is printed).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <random>
#include <string>
#include <thread>

#include "base/random.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "migrate/migrate.h"
#include "tests/engine/postgres/pg_test_env.h"
#include "tests/migrate/synthetic.h"
#include "tests/support/pg_server.h"
#include "tests/support/require.h"
#include "tests/support/spawn_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv::migrate::testing {
namespace {

constexpr int kRows = 400;

const auto* const kServerEnv =
    ::testing::AddGlobalTestEnvironment(new kv::testing::PgServerEnvironment);

// A store of one kill point: the URI the child and the parent open, and the marker file
// the child creates when its migration starts.
struct Target {
  std::string uri;
  std::string marker;
};

// A fresh store location of `driver` named `name` (a directory under `dir`, or a fresh
// schema of the shared PostgreSQL server); the marker goes into `dir` either way.
Result<Target> FreshTarget(const std::string& driver, refkv::testing::TempDir& dir,
                           const std::string& name) {
  Target t;
  t.marker = dir.Sub(name + ".started");
  if (driver == "rocks") {
    t.uri = "rocks://" + dir.Sub(name);
    return t;
  }
  REFKV_ASSIGN_OR_RETURN(std::string base, refkv::testing::SharedPostgresUri());
  t.uri = refkv::testing::WithParam(base, "schema", kv::testing::FreshTableName("mk"));
  return t;
}

OpenOptions Tooling() {
  OpenOptions o;
  o.code_schema_version = 3;
  o.allow_older_schema = true;
  o.allow_migrating = true;
  return o;
}

SyntheticOptions ChildSteps() {
  SyntheticOptions s;
  s.batch = 10;
  s.sleep_us_per_batch = 1000;
  return s;
}

RunOptions Options(bool down) {
  RunOptions o;
  o.no_backup = true;
  o.lease_ttl_ms = 1000;
  o.lock_timeout_ms = 10000;
  if (down) o.to = 1;
  return o;
}

// The child: run by the parent with the environment below; not part of the suite.
TEST(MigrateCrash, DISABLED_Child) {
  const char* uri = std::getenv("REFKV_MIGRATE_CHILD_URI");
  const char* marker = std::getenv("REFKV_MIGRATE_CHILD_MARKER");
  const char* op = std::getenv("REFKV_MIGRATE_CHILD_OP");
  ASSERT_TRUE(uri != nullptr && marker != nullptr && op != nullptr);
  OpenOptions open = Tooling();
  open.create_if_missing = false;
  auto store = kv::Open(uri, open);
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    _exit(store.status().IsBusy() ? 5 : 3);
  }
  bool down = std::string(op) == "down";
  // Tell the parent the migration starts now (its kill clock starts here).
  std::FILE* started = std::fopen(marker, "w");
  if (started != nullptr) std::fclose(started);
  auto r = down ? Down(**store, MakeRegistry(ChildSteps()), Options(true))
                : Up(**store, MakeRegistry(ChildSteps()), Options(false));
  if (!r.ok()) std::cerr << r.status().ToString() << "\n";
  _exit(r.ok() ? 0 : 4);  // no clean close: a finished child may also just vanish
}

pid_t SpawnChild(const Target& t, const std::string& op) {
  return refkv::testing::SpawnTest(
      "MigrateCrash.DISABLED_Child",
      {"REFKV_MIGRATE_CHILD_URI=" + t.uri, "REFKV_MIGRATE_CHILD_MARKER=" + t.marker,
       "REFKV_MIGRATE_CHILD_OP=" + op});
}

// Waits until the child announced the start of its migration (or exited).
bool WaitStarted(const Target& t, pid_t pid) {
  for (int i = 0; i < 30000; ++i) {
    if (access(t.marker.c_str(), F_OK) == 0) return true;
    int status = 0;
    if (waitpid(pid, &status, WNOHANG) == pid) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return false;
}

int WaitChild(pid_t pid) { return refkv::testing::WaitForChild(pid); }

// Each PostgreSQL point waits out the killed child's lease (1 s): fewer by default.
int KillPoints(const std::string& driver) {
  const char* env = std::getenv("REFKV_MIGRATE_KILL_POINTS");
  if (env != nullptr) return std::max(1, std::atoi(env));
  return driver == "rocks" ? 20 : 8;
}

uint64_t Seed() { return SeedFromEnv("REFKV_MIGRATE_SEED", std::nullopt, "migrate crash test"); }

// Creates the store at `uri` at schema 1 (or 3 if `migrated`) with the rows.
void MakeStore(const std::string& uri, bool migrated) {
  OpenOptions o;
  auto store = kv::Open(uri, o);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  ASSERT_TRUE(Populate(**store, kRows).ok());
  if (migrated) {
    auto r = Up(**store, MakeRegistry(), Options(false));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  ASSERT_TRUE((*store)->Close().ok());
}

// After a kill: the store opens for the tooling, the next run finishes, content is right.
void FinishAndVerify(const std::string& uri, bool down, int* mid_migration) {
  // Plain code of the target schema: refused unless the child got all the way.
  OpenOptions plain;
  plain.code_schema_version = down ? 1 : 3;
  {
    auto opened = kv::Open(uri, plain);
    if (!opened.ok()) {
      // Mid-migration or older: says which command to run; newer: names the versions.
      EXPECT_TRUE(opened.status().IsVersionMismatch()) << opened.status().ToString();
      const std::string& m = opened.status().message();
      EXPECT_TRUE(m.find("refkv migrate") != std::string::npos ||
                  m.find("is newer than") != std::string::npos)
          << m;
    } else {
      ASSERT_TRUE((*opened)->Close().ok());
    }
  }
  auto store = kv::Open(uri, Tooling());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto before = Version(**store, MakeRegistry());
  ASSERT_TRUE(before.ok()) << before.status().ToString();
  if (before->state_name == "migrating") ++*mid_migration;
  auto r = down ? Down(**store, MakeRegistry(), Options(true))
                : Up(**store, MakeRegistry(), Options(false));
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  auto md = ReadMetadata(**store);
  ASSERT_TRUE(md.ok());
  EXPECT_EQ(md->schema_version, down ? 1 : 3);
  auto content = LogicalContent(**store);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, Expected(kRows));
  auto status = GetStatus(**store, MakeRegistry());
  ASSERT_TRUE(status.ok());
  EXPECT_EQ(status->version.state_name, "ready");
  // Each step recorded exactly once in this direction.
  int format_b = 0, index = 0;
  for (const auto& e : status->history) {
    if (e.direction != (down ? Direction::kDown : Direction::kUp)) continue;
    format_b += e.step_id == "format-b";
    index += e.step_id == "index";
  }
  EXPECT_EQ(format_b, 1);
  EXPECT_EQ(index, 1);
  ASSERT_TRUE((*store)->Close().ok());
}

void KillLoop(const std::string& driver, bool down) {
  refkv::testing::TempDir dir("migrate-crash");
  if (driver == "postgres") {
    auto base = refkv::testing::SharedPostgresUri();
    if (!base.ok()) {
      REFKV_SKIP_UNLESS_REQUIRED("PostgreSQL unavailable: " + base.status().ToString());
    }
  }
  const uint64_t seed = Seed();
  const int points = KillPoints(driver);
  std::cout << driver << ": seed " << seed << " (REFKV_MIGRATE_SEED), " << points
            << " kill points\n";
  std::mt19937_64 rng(seed);

  // Calibrate: how long an uninterrupted child takes.
  auto calibrate = FreshTarget(driver, dir, "calibrate");
  ASSERT_TRUE(calibrate.ok()) << calibrate.status().ToString();
  MakeStore(calibrate->uri, down);
  if (::testing::Test::HasFatalFailure()) return;
  pid_t pid = SpawnChild(*calibrate, down ? "down" : "up");
  ASSERT_GT(pid, 0);
  ASSERT_TRUE(WaitStarted(*calibrate, pid));
  auto start = std::chrono::steady_clock::now();
  int status = WaitChild(pid);
  auto full = std::chrono::steady_clock::now() - start;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "child status " << status;
  int ignored = 0;
  FinishAndVerify(calibrate->uri, down, &ignored);
  if (::testing::Test::HasFatalFailure()) return;
  const auto full_us = std::chrono::duration_cast<std::chrono::microseconds>(full).count();
  std::cout << "uninterrupted migration in the child: " << full_us / 1000 << " ms\n";

  int mid_migration = 0;
  for (int i = 0; i < points; ++i) {
    auto target = FreshTarget(driver, dir, "p" + std::to_string(i));
    ASSERT_TRUE(target.ok()) << target.status().ToString();
    MakeStore(target->uri, down);
    if (::testing::Test::HasFatalFailure()) return;
    std::uniform_int_distribution<int64_t> when(0, full_us);
    const int64_t kill_at = when(rng);
    SCOPED_TRACE("kill point " + std::to_string(i) + " at " + std::to_string(kill_at) + " us");
    pid = SpawnChild(*target, down ? "down" : "up");
    ASSERT_GT(pid, 0);
    ASSERT_TRUE(WaitStarted(*target, pid)) << "child exited before migrating";
    std::this_thread::sleep_for(std::chrono::microseconds(kill_at));
    kill(pid, SIGKILL);
    WaitChild(pid);
    FinishAndVerify(target->uri, down, &mid_migration);
    if (::testing::Test::HasFatalFailure()) return;
  }
  std::cout << mid_migration << " of " << points << " kills left a step running\n";
  if (points >= 8) {
    EXPECT_GT(mid_migration, 0) << "no kill landed inside a step";
  }
}

// Several processes start "migrate up" at once on one rocks store: the store's process
// lock lets one in (the others fail with Busy naming it, or find nothing to do later).
// (The same on PostgreSQL, with leases: migrate_pg_process_test.)
void ConcurrentProcesses(int n) {
  refkv::testing::TempDir dir("migrate-procs");
  auto target = FreshTarget("rocks", dir, "db");
  ASSERT_TRUE(target.ok());
  MakeStore(target->uri, false);
  std::vector<pid_t> pids;
  for (int i = 0; i < n; ++i) pids.push_back(SpawnChild(*target, "up"));
  int migrated = 0, busy = 0;
  for (pid_t pid : pids) {
    ASSERT_GT(pid, 0);
    int status = WaitChild(pid);
    ASSERT_TRUE(WIFEXITED(status)) << status;
    int code = WEXITSTATUS(status);
    EXPECT_TRUE(code == 0 || code == 5) << "exit code " << code;
    migrated += code == 0;
    busy += code == 5;
  }
  EXPECT_GE(migrated, 1);
  std::cout << n << " processes: " << migrated << " ran, " << busy << " kept out (Busy)\n";
  int ignored = 0;
  FinishAndVerify(target->uri, false, &ignored);  // each step recorded once, content right
}

TEST(MigrateCrash, TwoProcessesAtOnce) { ConcurrentProcesses(2); }
TEST(MigrateCrash, FourProcessesAtOnce) { ConcurrentProcesses(4); }

class MigrateKill : public ::testing::TestWithParam<std::string> {};

TEST_P(MigrateKill, KillDuringUpThenRerunFinishes) { KillLoop(GetParam(), false); }
TEST_P(MigrateKill, KillDuringDownThenRerunFinishes) { KillLoop(GetParam(), true); }

INSTANTIATE_TEST_SUITE_P(Drivers, MigrateKill, ::testing::Values("rocks", "postgres"),
                         [](const auto& info) { return info.param; });

}  // namespace
}  // namespace refkv::kv::migrate::testing
