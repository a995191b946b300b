// Memory stays bounded: the synthetic step "format-b" (1->2, a rewrite of every row)
// over 1M rows on rocks peaks within 1.5x the resident memory of the same step over
// 100k rows. Each measured run is a child process (this binary, re-run with a filter)
// that opens the store and migrates; the parent reads the child's peak RSS (VmHWM,
// ru_maxrss of wait4). The store is populated by another child first, so the
// measured process does nothing but open and migrate.
//
// Both runs use small RocksDB cache caps (kEngineCaps): see there.
//
// ctest label "memory": scripts/test runs it in a Release build (under ASan the
// quarantine and shadow memory make RSS say little, and 1M rows take minutes).
// REFKV_MIGRATE_RSS_ROWS=N (default 1000000) sets the large run.
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include "engine/metadata.h"
#include "engine/open.h"
#include "migrate/migrate.h"
#include "tests/migrate/synthetic.h"
#include "tests/support/spawn_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv::migrate::testing {
namespace {

// RocksDB's own caches are bounded by their caps (block cache, two memtables per
// partition), not by the step; with the defaults (64 MiB each) the 1M-row run fills
// them while the 100k-row run does not, and the ratio would measure RocksDB's caps, not
// the migration. Small caps, the same in both runs, leave the runner and the step.
constexpr std::string_view kEngineCaps = "?block_cache_mb=4&write_buffer_mb=4";

OpenOptions Tooling() {
  OpenOptions o;
  o.code_schema_version = 3;
  o.allow_older_schema = true;
  o.allow_migrating = true;
  return o;
}

// Rows in the synthetic schema-1 form (as Populate writes them), in batches.
Status PopulateBatched(Store& store, int rows) {
  WriteBatch batch;
  for (int i = 0; i < rows; ++i) {
    char key[16];
    std::snprintf(key, sizeof(key), "k%07d", i);
    batch.Put(key, "A:payload-" + std::to_string(i * 7919 % 1000) + "-" +
                       std::string(static_cast<size_t>(i % 13), static_cast<char>('a' + i % 26)));
    if (batch.size() == 10000 || i + 1 == rows) {
      REFKV_RETURN_IF_ERROR(store.Write("data", batch));
      batch = WriteBatch();
    }
  }
  return Status::OK();
}

// The child: $REFKV_RSS_MODE "populate" (a new store at schema 1 with $REFKV_RSS_ROWS
// rows) or "up" (open it and run the 1->2 step); exit 0 on success.
TEST(MigrateMemory, DISABLED_Child) {
  const char* db = std::getenv("REFKV_RSS_DB");
  const char* mode = std::getenv("REFKV_RSS_MODE");
  const char* rows = std::getenv("REFKV_RSS_ROWS");
  ASSERT_TRUE(db != nullptr && mode != nullptr && rows != nullptr);
  OpenOptions o = Tooling();
  const bool populate = std::string(mode) == "populate";
  if (populate) o.code_schema_version = 1;
  auto store = kv::Open(std::string("rocks://") + db + std::string(kEngineCaps), o);
  if (!store.ok()) {
    std::cerr << store.status().ToString() << "\n";
    _exit(3);
  }
  Status s;
  if (populate) {
    s = PopulateBatched(**store, std::atoi(rows));
  } else {
    RunOptions run;
    run.no_backup = true;
    run.to = 2;
    SyntheticOptions steps;
    steps.batch = 1000;
    auto r = Up(**store, MakeRegistry(steps), run);
    s = r.status();
    if (r.ok() && (r->applied.size() != 1 || r->applied[0].rows != std::atoll(rows))) {
      s = Status::Internal("the step touched " +
                           std::to_string(r->applied.empty() ? 0 : r->applied[0].rows) +
                           " rows, expected " + rows);
    }
  }
  if (s.ok()) s = (*store)->Close();
  if (!s.ok()) std::cerr << s.ToString() << "\n";
  _exit(s.ok() ? 0 : 4);
}

// Runs the child in `mode`; returns its peak RSS in KiB, or -1 if it failed.
long RunChild(const std::string& db, const std::string& mode, int rows) {
  pid_t pid = refkv::testing::SpawnTest(
      "MigrateMemory.DISABLED_Child",
      {"REFKV_RSS_DB=" + db, "REFKV_RSS_MODE=" + mode, "REFKV_RSS_ROWS=" + std::to_string(rows)});
  if (pid < 0) return -1;
  int status = 0;
  struct rusage usage {};
  while (wait4(pid, &status, 0, &usage) < 0 && errno == EINTR) {
  }
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) return -1;
  return usage.ru_maxrss;  // KiB on Linux: the child's VmHWM
}

int LargeRows() {
  const char* env = std::getenv("REFKV_MIGRATE_RSS_ROWS");
  return env != nullptr ? std::max(200000, std::atoi(env)) : 1000000;
}

TEST(MigrateMemory, StepOverTenTimesTheRowsPeaksWithinOneAndAHalfTimesTheRss) {
  refkv::testing::TempDir dir("migrate-rss");
  const int small = LargeRows() / 10, large = LargeRows();
  ASSERT_GT(RunChild(dir.Sub("small"), "populate", small), 0);
  ASSERT_GT(RunChild(dir.Sub("large"), "populate", large), 0);
  long small_kib = RunChild(dir.Sub("small"), "up", small);
  long large_kib = RunChild(dir.Sub("large"), "up", large);
  ASSERT_GT(small_kib, 0);
  ASSERT_GT(large_kib, 0);
  std::cout << "peak RSS of the 1->2 step: " << small << " rows " << small_kib << " KiB, " << large
            << " rows " << large_kib << " KiB (ratio "
            << static_cast<double>(large_kib) / static_cast<double>(small_kib) << ")\n";
  RecordProperty("small_kib", std::to_string(small_kib));
  RecordProperty("large_kib", std::to_string(large_kib));
  EXPECT_LE(static_cast<double>(large_kib), 1.5 * static_cast<double>(small_kib));
}

}  // namespace
}  // namespace refkv::kv::migrate::testing
