// Migrations by several *processes* on one PostgreSQL table (the nodes of a cluster):
//   - two and four processes start `migrate up` at once: exactly one migrates; the
//     others wait for it and then find nothing to do, or give up naming the holder;
//     nothing is corrupted;
//   - `migrate status` from another process shows the running step's rows done / total.
// Each process is this binary re-run with a filter (a DISABLED child test).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "engine/metadata.h"
#include "engine/open.h"
#include "migrate/migrate.h"
#include "tests/engine/postgres/pg_test_env.h"
#include "tests/migrate/synthetic.h"
#include "tests/support/spawn_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv::migrate::testing {
namespace {

namespace fs = std::filesystem;

const auto* const kServerEnv =
    ::testing::AddGlobalTestEnvironment(new kv::testing::PgServerEnvironment);

OpenOptions Tooling() {
  OpenOptions o;
  o.code_schema_version = 3;
  o.allow_older_schema = true;
  o.allow_migrating = true;
  return o;
}

// The child: opens $REFKV_PG_CHILD_URI, waits for $REFKV_PG_CHILD_GO to exist, runs
// Up with $REFKV_PG_CHILD_LOCK_MS lock timeout and $REFKV_PG_CHILD_SLEEP_US per batch,
// and writes "ok <steps applied>" / "busy <message>" / "error <message>" to
// $REFKV_PG_CHILD_OUT.
TEST(MigratePgProcess, DISABLED_Child) {
  const char* uri = std::getenv("REFKV_PG_CHILD_URI");
  const char* go = std::getenv("REFKV_PG_CHILD_GO");
  const char* out = std::getenv("REFKV_PG_CHILD_OUT");
  const char* lock_ms = std::getenv("REFKV_PG_CHILD_LOCK_MS");
  const char* sleep_us = std::getenv("REFKV_PG_CHILD_SLEEP_US");
  ASSERT_TRUE(uri && go && out && lock_ms && sleep_us);
  std::ofstream result(out);
  auto store = kv::Open(uri, Tooling());
  if (!store.ok()) {
    result << "error " << store.status().ToString() << "\n";
    _exit(0);
  }
  for (int i = 0; i < 30000 && !fs::exists(go); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  RunOptions o;
  o.no_backup = true;
  o.lease_ttl_ms = 3000;
  o.lock_timeout_ms = std::atoll(lock_ms);
  SyntheticOptions steps;
  steps.batch = 10;
  steps.sleep_us_per_batch = std::atoi(sleep_us);
  auto r = Up(**store, MakeRegistry(steps), o);
  if (r.ok()) {
    result << "ok " << r->applied.size() << "\n";
  } else {
    result << (r.status().IsBusy() ? "busy " : "error ") << r.status().ToString() << "\n";
  }
  result.close();
  (void)(*store)->Close();
  _exit(0);
}

pid_t Spawn(const std::vector<std::string>& env) {
  return refkv::testing::SpawnTest("MigratePgProcess.DISABLED_Child", env);
}

bool WaitOk(pid_t pid) {
  int status = refkv::testing::WaitForChild(pid);
  return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

// A table at schema 1 holding `rows` synthetic rows.
std::string PopulatedTable(int rows) {
  auto uri = kv::testing::FreshTableUri();
  EXPECT_TRUE(uri.ok()) << uri.status().ToString();
  if (!uri.ok()) return "";
  OpenOptions create;
  create.code_schema_version = 1;
  auto store = kv::Open(*uri, create);
  EXPECT_TRUE(store.ok()) << store.status().ToString();
  if (!store.ok()) return "";
  EXPECT_TRUE(Populate(**store, rows).ok());
  EXPECT_TRUE((*store)->Close().ok());
  return *uri;
}

void ConcurrentProcesses(int processes) {
  constexpr int kRows = 300;
  refkv::testing::TempDir dir("migrate-pg-procs");
  const std::string uri = PopulatedTable(kRows);
  ASSERT_FALSE(uri.empty());
  const std::string go = dir.Sub("go");
  std::vector<pid_t> pids;
  for (int i = 0; i < processes; ++i) {
    // Half wait long enough for the holder to finish, half give up quickly.
    std::string lock_ms = i % 2 == 0 ? "30000" : "200";
    pids.push_back(Spawn({"REFKV_PG_CHILD_URI=" + uri, "REFKV_PG_CHILD_GO=" + go,
                          "REFKV_PG_CHILD_OUT=" + dir.Sub("out" + std::to_string(i)),
                          "REFKV_PG_CHILD_LOCK_MS=" + lock_ms, "REFKV_PG_CHILD_SLEEP_US=2000"}));
    ASSERT_GT(pids.back(), 0);
  }
  std::ofstream(go) << "go";
  int migrated = 0, idle = 0, busy = 0;
  for (int i = 0; i < processes; ++i) {
    ASSERT_TRUE(WaitOk(pids[i]));
    std::ifstream in(dir.Sub("out" + std::to_string(i)));
    std::string kind, rest;
    in >> kind;
    std::getline(in, rest);
    SCOPED_TRACE("process " + std::to_string(i) + ": " + kind + rest);
    if (kind == "ok" && rest == " 2") {
      ++migrated;
    } else if (kind == "ok" && rest == " 0") {
      ++idle;  // waited for the holder, then found the store at the newest schema
    } else if (kind == "busy") {
      ++busy;
      // Named: the holder's host and pid (one of the other processes).
      EXPECT_NE(rest.find("host "), std::string::npos);
      bool names_a_sibling = false;
      for (int j = 0; j < processes; ++j) {
        if (j != i && rest.find("pid " + std::to_string(pids[j])) != std::string::npos) {
          names_a_sibling = true;
        }
      }
      EXPECT_TRUE(names_a_sibling);
    } else {
      ADD_FAILURE() << "unexpected outcome";
    }
  }
  std::cout << processes << " processes: " << migrated << " migrated, " << idle
            << " waited and found nothing to do, " << busy << " gave up naming the holder\n";
  EXPECT_EQ(migrated, 1) << "exactly one process migrates";
  EXPECT_EQ(migrated + idle + busy, processes);

  auto store = kv::Open(uri, Tooling());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto content = LogicalContent(**store);
  ASSERT_TRUE(content.ok()) << content.status().ToString();
  EXPECT_EQ(*content, Expected(kRows));
  auto st = GetStatus(**store, MakeRegistry());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->version.store_schema, 3);
  EXPECT_EQ(st->version.state_name, "ready");
  EXPECT_EQ(st->history.size(), 2u);
  (void)(*store)->Close();
}

TEST(MigratePgProcess, TwoProcessesStartUpAtOnceAndExactlyOneMigrates) { ConcurrentProcesses(2); }
TEST(MigratePgProcess, FourProcessesStartUpAtOnceAndExactlyOneMigrates) { ConcurrentProcesses(4); }

TEST(MigratePgProcess, StatusFromAnotherProcessShowsRowsDoneOfTotal) {
  constexpr int kRows = 600;
  refkv::testing::TempDir dir("migrate-pg-status");
  const std::string uri = PopulatedTable(kRows);
  ASSERT_FALSE(uri.empty());
  const std::string go = dir.Sub("go");
  std::ofstream(go) << "go";
  // 60 batches per step, 20 ms each: the step runs for over a second.
  pid_t pid = Spawn({"REFKV_PG_CHILD_URI=" + uri, "REFKV_PG_CHILD_GO=" + go,
                     "REFKV_PG_CHILD_OUT=" + dir.Sub("out"), "REFKV_PG_CHILD_LOCK_MS=30000",
                     "REFKV_PG_CHILD_SLEEP_US=20000"});
  ASSERT_GT(pid, 0);
  auto store = kv::Open(uri, Tooling());
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  std::vector<int64_t> seen;  // rows_done of step format-b, as observed
  for (int i = 0; i < 3000; ++i) {
    auto st = GetStatus(**store, MakeRegistry());
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    const MigrationState& s = st->version.state;
    if (st->version.state_name == "migrating" && s.step_id == "format-b") {
      EXPECT_EQ(s.rows_total, kRows);
      EXPECT_LE(s.rows_done, s.rows_total);
      ASSERT_TRUE(st->lease.has_value());
      EXPECT_EQ(st->lease->pid, pid) << "the holder is the other process";
      EXPECT_NE(s.ToString().find(std::to_string(s.rows_done) + "/" + std::to_string(kRows)),
                std::string::npos)
          << s.ToString();
      if (seen.empty() || seen.back() != s.rows_done) seen.push_back(s.rows_done);
    }
    if (st->version.store_schema == 3 && st->version.state_name == "ready") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ASSERT_TRUE(WaitOk(pid));
  EXPECT_EQ(std::ifstream(dir.Sub("out")).get(), 'o');  // "ok ..."
  // Progress was visible part way, and it only grew.
  ASSERT_GE(seen.size(), 3u);
  EXPECT_TRUE(std::any_of(seen.begin(), seen.end(), [&](int64_t r) { return r > 0 && r < kRows; }));
  EXPECT_TRUE(std::is_sorted(seen.begin(), seen.end()));
  (void)(*store)->Close();
}

}  // namespace
}  // namespace refkv::kv::migrate::testing
