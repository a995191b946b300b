// Imports, copies and restores that are all or nothing (issue 14, items 2, 5, 6), end to
// end with the built binary on ref store data:
//   - kill -9 in the middle of `import` (dump; SST, by RocksDB ingestion) and of `kv
//     migrate` into PostgreSQL: the store then refuses ordinary opens naming the load,
//     `check` reports it, the rerun finishes it, and the store equals the source;
//   - `migrate restore --replace` of a dump the store cannot take changes nothing;
//   - older-schema dumps: refused into a store with data, imported at their schema into
//     a fresh one; a schema-0 dump is not a backup.
// The killed process is a child test of this binary (DISABLED_Child) that runs the load
// through the library on a store wrapper which SIGKILLs the process right after its
// N-th data write: deterministic kill points. REFKV_IMPORT_KILL_POINTS=N spreads N points
// over each load (default 3: the first write, the middle one, the last one).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "cli/exit_code.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "format/copy.h"
#include "format/dump.h"
#include "format/sst.h"
#include "migrate/backup.h"
#include "migrate/migrate.h"
#include "refstore/schema.h"
#include "tests/cli/refkv_runner.h"
#include "tests/support/fault_store.h"
#include "tests/support/pg_server.h"
#include "tests/support/spawn_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::cli {
namespace {

namespace fs = std::filesystem;

using testing::Describe;
using testing::RunRefkv;
using testing::RunResult;

using Content = std::map<std::string, std::map<std::string, std::string>>;

// A FaultStore over `base` that kills the process right after the N-th data write (Write,
// InsertNew, IngestSstFiles, DropPartition outside the metadata partition), counting them.
class KillAfterWrites {
 public:
  KillAfterWrites(kv::Store& base, uint64_t kill_after) : store_(base), kill_after_(kill_after) {
    store_.SetHook([this](const testing::Call& c) {
      const bool data_write = c.verb == "write" || c.verb == "insertnew" ||
                              c.verb == "ingestsstfiles" || c.verb == "droppartition";
      if (!data_write || c.partition == kv::kMetaPartition) return testing::Fault::kNone;
      return ++writes_ == kill_after_ ? testing::Fault::kKillAfter : testing::Fault::kNone;
    });
  }
  kv::Store& store() { return store_; }
  uint64_t writes() const { return writes_; }

 private:
  testing::FaultStore store_;
  const uint64_t kill_after_;
  std::atomic<uint64_t> writes_{0};
};

format::ExportOptions DumpTo(const std::string& path) {
  format::ExportOptions o;
  o.path = path;
  return o;
}

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? "" : v;
}

// The child: loads REFKV_IMPORT_SOURCE into REFKV_IMPORT_TARGET as REFKV_IMPORT_OP says
// (dump, sst, copy, restore: a dump with --replace), killing itself after REFKV_IMPORT_KILL_AFTER
// data writes (0: never). Writes the number of data writes to REFKV_IMPORT_COUNT when it finishes.
TEST(CliImportCrash, DISABLED_Child) {
  const std::string op = Env("REFKV_IMPORT_OP"), source = Env("REFKV_IMPORT_SOURCE"),
                    target = Env("REFKV_IMPORT_TARGET");
  kv::OpenOptions open;  // what `import` and `kv migrate` open the target with
  open.code_schema_version = refstore::kCodeSchema;
  open.allow_pending_load = true;
  auto store = kv::Open(target, open);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  KillAfterWrites killer(**store,
                         std::strtoull(Env("REFKV_IMPORT_KILL_AFTER").c_str(), nullptr, 10));
  kv::Store& killing = killer.store();
  Status s;
  if (op == "dump") {
    format::ImportOptions o;
    o.write_batch = 2;
    s = format::ImportDump(source, killing, o).status();
  } else if (op == "sst") {
    format::SstImportOptions o;
    s = format::ImportSst(source, killing, o).status();
  } else if (op == "restore") {
    kv::migrate::RestoreOptions o;
    o.open = kv::migrate::ToolingOpenOptions(refstore::SchemaSteps());
    o.replace = true;
    o.lease.lease_ttl_ms = 1000;  // a killed run's lease: the rerun takes it over soon
    s = kv::migrate::RestoreDump(killing, source, o).status();
  } else {
    kv::OpenOptions read;
    read.create_if_missing = false;
    read.read_only = true;
    read.code_schema_version = refstore::kCodeSchema;
    auto from = kv::Open(source, read);
    ASSERT_TRUE(from.ok()) << from.status().ToString();
    format::CopyOptions o;
    o.write_batch = 3;
    o.threads = 1;
    o.source_name = source;
    o.target_name = target;
    s = format::CopyStore(**from, killing, o).status();
  }
  ASSERT_TRUE(s.ok()) << s.ToString();
  std::ofstream(Env("REFKV_IMPORT_COUNT")) << killer.writes();
}

class CliImportTest : public ::testing::Test {
 protected:
  RunResult R(const std::string& uri, std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", uri});
    return RunRefkv(dir_.path(), std::move(args));
  }
  RunResult Ok(const std::string& uri, std::vector<std::string> args) {
    RunResult r = R(uri, std::move(args));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r;
  }
  std::string Rocks(const std::string& name) { return "rocks://" + dir_.Sub(name); }

  // Every record of every partition but the metadata, read without any check.
  Content Read(const std::string& uri) {
    Content c;
    kv::OpenOptions o;
    o.create_if_missing = false;
    o.skip_metadata = true;
    auto store = kv::Open(uri, o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return c;
    auto parts = (*store)->ListPartitions();
    EXPECT_TRUE(parts.ok());
    for (const auto& p : parts.ok() ? *parts : std::vector<std::string>{}) {
      if (p == kv::kMetaPartition) continue;
      auto it = (*store)->Scan(p, {});
      EXPECT_TRUE(it.ok());
      if (!it.ok()) continue;
      for (; (*it)->Valid(); (*it)->Next()) c[p][std::string((*it)->key())] = (*it)->value();
    }
    (void)(*store)->Close();
    return c;
  }

  // A ref store with two repositories, branches, tags, commits and staged entries.
  void BuildRefStore(const std::string& uri) {
    Ok(uri, {"repo", "create", "r1"});
    Ok(uri, {"entry", "put", "r1", "main", "a", "1"});
    Ok(uri, {"commit", "r1", "main", "-m", "one"});
    Ok(uri, {"entry", "put", "r1", "main", "b", "2"});
    Ok(uri, {"commit", "r1", "main", "-m", "two"});
    Ok(uri, {"branch", "create", "r1", "dev", "--from", "main"});
    Ok(uri, {"entry", "put", "r1", "dev", "c", "3"});
    Ok(uri, {"commit", "r1", "dev", "-m", "three"});
    Ok(uri, {"tag", "create", "r1", "v1", "main"});
    Ok(uri, {"entry", "put", "r1", "main", "staged", "x"});
    Ok(uri, {"repo", "create", "r2"});
    Ok(uri, {"entry", "put", "r2", "main", "z", "26"});
    Ok(uri, {"commit", "r2", "main", "-m", "r2 one"});
    Ok(uri, {"check"});
  }

  // Runs the child on `target`; returns its wait status. `count` receives the child's
  // number of data writes when it finished.
  int RunChild(const std::string& op, const std::string& source, const std::string& target,
               uint64_t kill_after, uint64_t* count = nullptr) {
    const std::string count_file = dir_.Sub("count-" + std::to_string(counter_++));
    pid_t pid = refkv::testing::SpawnTest(
        "CliImportCrash.DISABLED_Child",
        {"REFKV_IMPORT_OP=" + op, "REFKV_IMPORT_SOURCE=" + source, "REFKV_IMPORT_TARGET=" + target,
         "REFKV_IMPORT_KILL_AFTER=" + std::to_string(kill_after),
         "REFKV_IMPORT_COUNT=" + count_file},
        {.quiet_stdout = true});
    EXPECT_GT(pid, 0);
    int status = refkv::testing::WaitForChild(pid);
    if (count != nullptr)
      *count = std::strtoull(testing::ReadFile(count_file).c_str(), nullptr, 10);
    return status;
  }

  // The kill points of a load of `writes` data writes: the first, the middle and the
  // last by default; REFKV_IMPORT_KILL_POINTS spreads more.
  static std::vector<uint64_t> KillPoints(uint64_t writes) {
    const std::string env = Env("REFKV_IMPORT_KILL_POINTS");
    const int n = std::max(1, env.empty() ? 3 : std::atoi(env.c_str()));
    std::vector<uint64_t> points;
    for (int i = 0; i < n; ++i) {
      uint64_t p = n == 1 ? writes : 1 + (writes - 1) * i / (n - 1);
      if (points.empty() || points.back() != p) points.push_back(p);
    }
    std::cout << "kill points:";
    for (uint64_t p : points) std::cout << " " << p;
    std::cout << " (of " << writes << " writes)" << std::endl;
    return points;
  }

  // After a kill: ordinary opens refuse naming the load and `resume`, check reports it;
  // `finish` (the rerun) succeeds; then check passes and the content is `want`.
  void ExpectRefusedThenFinished(const std::string& target, const std::string& what,
                                 const std::vector<std::string>& finish, const Content& want) {
    for (std::vector<std::string> ordinary :
         {std::vector<std::string>{"kv", "scan", "refstore.ranges"},
          std::vector<std::string>{"repo", "list"},
          std::vector<std::string>{"kv", "set", "p", "k", "v"}}) {
      RunResult refused = R(target, ordinary);
      EXPECT_EQ(refused.exit_code, kExitError) << Describe(refused);
      EXPECT_NE(refused.err.find("store has an unfinished " + what), std::string::npos)
          << Describe(refused);
      EXPECT_NE(refused.err.find("again to finish it"), std::string::npos) << Describe(refused);
    }
    RunResult checked = R(target, {"check"});
    EXPECT_EQ(checked.exit_code, 1) << Describe(checked);
    EXPECT_NE(checked.out.find("store pending load"), std::string::npos) << Describe(checked);
    EXPECT_NE(Ok(target, {"store", "info"}).out.find("pending load"), std::string::npos);
    Ok(target, finish);
    Ok(target, {"check"});
    EXPECT_EQ(Read(target), want);
  }

  testing::TempDir dir_{"cli-import"};
  int counter_ = 0;
};

TEST_F(CliImportTest, KilledDumpImportIsRefusedUntilTheRerunFinishesIt) {
  const std::string src = Rocks("src"), dump = dir_.Sub("src.dump");
  BuildRefStore(src);
  Ok(src, {"export", "-o", dump});
  const Content want = Read(src);
  uint64_t writes = 0;
  ASSERT_EQ(RunChild("dump", dump, Rocks("count"), 0, &writes), 0);
  ASSERT_GT(writes, 3u);
  EXPECT_EQ(Read(Rocks("count")), want);
  bool tried_other = false;
  for (uint64_t point : KillPoints(writes)) {
    SCOPED_TRACE("killed after write " + std::to_string(point) + " of " + std::to_string(writes));
    const std::string target = Rocks("t" + std::to_string(point));
    int status = RunChild("dump", dump, target, point);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    if (!tried_other) {
      // Another import is refused, naming the pending one; nothing written.
      const std::string other = dir_.Sub("other.dump");
      Ok(Rocks("count"), {"export", "-o", other, "--partition", "refstore.ranges"});
      Content before = Read(target);
      RunResult refused = R(target, {"import", other, "--on-conflict", "overwrite"});
      EXPECT_EQ(refused.exit_code, kExitError) << Describe(refused);
      EXPECT_NE(refused.err.find("unfinished import of " + dump), std::string::npos)
          << Describe(refused);
      EXPECT_EQ(Read(target), before);
      tried_other = true;
    }
    ExpectRefusedThenFinished(target, "import of " + dump, {"import", dump}, want);
  }
}

TEST_F(CliImportTest, KilledSstImportIsRefusedUntilTheRerunFinishesIt) {
  const std::string src = Rocks("src"), sst = dir_.Sub("src.sst");
  BuildRefStore(src);
  Ok(src, {"export", "--format", "sst", "-o", sst});
  const Content want = Read(src);
  uint64_t writes = 0;
  ASSERT_EQ(RunChild("sst", sst, Rocks("count"), 0, &writes), 0);
  ASSERT_GT(writes, 2u);  // one ingestion per partition
  for (uint64_t point : KillPoints(writes)) {
    SCOPED_TRACE("killed after ingestion " + std::to_string(point) + " of " +
                 std::to_string(writes));
    const std::string target = Rocks("t" + std::to_string(point));
    int status = RunChild("sst", sst, target, point);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    ExpectRefusedThenFinished(target, "import of SST directory " + sst, {"import", sst}, want);
  }
}

// `import --abort` rolls an interrupted on-conflict=fail import back (dump and SST):
// the store is as before it, and `check` passes.
TEST_F(CliImportTest, AbortRollsBackAnInterruptedImport) {
  const std::string src = Rocks("src"), dump = dir_.Sub("src.dump"), sst = dir_.Sub("src.sst");
  BuildRefStore(src);
  Ok(src, {"export", "-o", dump});
  Ok(src, {"export", "--format", "sst", "-o", sst});
  for (const std::string& path : {dump, sst}) {
    SCOPED_TRACE(path);
    const std::string target = Rocks(path == dump ? "dump-target" : "sst-target");
    Ok(target, {"repo", "create", "other"});
    Ok(target, {"entry", "put", "other", "main", "o", "1"});
    Ok(target, {"commit", "other", "main", "-m", "other"});
    const Content before = Read(target);
    RunResult nothing = R(target, {"import", path, "--abort"});
    EXPECT_EQ(nothing.exit_code, kExitNotFound) << Describe(nothing);
    int status = RunChild(path == dump ? "dump" : "sst", path, target, 2);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    EXPECT_NE(Read(target), before);
    RunResult aborted = Ok(target, {"import", path, "--abort"});
    EXPECT_NE(aborted.out.find("rolled back"), std::string::npos) << Describe(aborted);
    EXPECT_EQ(Read(target), before);
    Ok(target, {"check"});
    EXPECT_NE(Ok(target, {"repo", "list"}).out.find("other"), std::string::npos);
  }
}

// A dump restore into a store holding another unfinished import: refused naming it;
// with --replace it supersedes it (that data is dropped with the rest).
TEST_F(CliImportTest, RestoreReplaceSupersedesAnUnfinishedImport) {
  const std::string src = Rocks("src"), dump = dir_.Sub("src.dump");
  BuildRefStore(src);
  Ok(src, {"export", "-o", dump});
  const std::string other = Rocks("other"), backup = dir_.Sub("other.dump");
  Ok(other, {"repo", "create", "other"});
  Ok(other, {"export", "-o", backup});
  const std::string target = Rocks("target");
  int status = RunChild("dump", dump, target, 2);
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
  RunResult refused = R(target, {"migrate", "restore", backup});
  EXPECT_EQ(refused.exit_code, kExitError) << Describe(refused);
  EXPECT_NE(refused.err.find("unfinished import of " + dump), std::string::npos)
      << Describe(refused);
  EXPECT_NE(refused.err.find("--replace"), std::string::npos) << Describe(refused);
  Ok(target, {"migrate", "restore", backup, "--replace"});
  Ok(target, {"check"});
  EXPECT_EQ(Read(target), Read(other));
}

// A dump restore with --replace killed while it drops the store's data or imports the
// dump (item 2: the store used to be left half-dropped) is finished by running it again.
TEST_F(CliImportTest, KilledDumpRestoreIsRefusedUntilTheRerunFinishesIt) {
  const std::string src = Rocks("src"), dump = dir_.Sub("src.dump");
  BuildRefStore(src);
  Ok(src, {"export", "-o", dump});
  const Content want = Read(src);
  // The store to restore into holds other ref store data.
  auto other_store = [&](const std::string& target) {
    Ok(target, {"repo", "create", "other"});
    Ok(target, {"entry", "put", "other", "main", "o", "1"});
    Ok(target, {"commit", "other", "main", "-m", "other"});
  };
  uint64_t writes = 0;
  other_store(Rocks("count"));
  ASSERT_EQ(RunChild("restore", dump, Rocks("count"), 0, &writes), 0);
  ASSERT_GT(writes, 3u);  // drops, then import batches
  EXPECT_EQ(Read(Rocks("count")), want);
  for (uint64_t point : KillPoints(writes)) {
    SCOPED_TRACE("killed after write " + std::to_string(point) + " of " + std::to_string(writes));
    const std::string target = Rocks("t" + std::to_string(point));
    other_store(target);
    int status = RunChild("restore", dump, target, point);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    // No --replace needed: the rerun finishes its own restore.
    ExpectRefusedThenFinished(target, "restore of " + dump, {"migrate", "restore", dump}, want);
  }
}

TEST_F(CliImportTest, KilledCopyIntoPostgresIsRefusedUntilTheRerunFinishesIt) {
  auto server = testing::PgServer::Create();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const std::string src = Rocks("src");
  BuildRefStore(src);
  const Content want = Read(src);
  uint64_t writes = 0;
  const std::string counted = testing::WithParam((*server)->Uri(), "table", "counted");
  ASSERT_EQ(RunChild("copy", src, counted, 0, &writes), 0);
  ASSERT_GT(writes, 3u);
  EXPECT_EQ(Read(counted), want);
  for (uint64_t point : KillPoints(writes)) {
    SCOPED_TRACE("killed after write " + std::to_string(point) + " of " + std::to_string(writes));
    const std::string target =
        testing::WithParam((*server)->Uri(), "table", "t" + std::to_string(point));
    int status = RunChild("copy", src, target, point);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << status;
    // The rerun needs no --allow-non-empty: it finishes its own copy.
    ExpectRefusedThenFinished(target, "copy from " + src,
                              {"kv", "migrate", "--from", src, "--to", target}, want);
  }
}

// An import that ran to the end leaves no record, and the store is as usable as before.
TEST_F(CliImportTest, FinishedImportLeavesNoPendingLoad) {
  const std::string src = Rocks("src"), dump = dir_.Sub("src.dump");
  BuildRefStore(src);
  Ok(src, {"export", "-o", dump});
  const std::string target = Rocks("target");
  Ok(target, {"import", dump});
  EXPECT_EQ(Ok(target, {"store", "info"}).out.find("pending load"), std::string::npos);
  Ok(target, {"repo", "list"});
  Ok(target, {"check"});
  // A second run finds every key: refused as before (on-conflict=fail), nothing pending.
  RunResult again = R(target, {"import", dump});
  EXPECT_EQ(again.exit_code, kExitError) << Describe(again);
  EXPECT_NE(again.err.find("already exists"), std::string::npos) << Describe(again);
  Ok(target, {"check"});
}

// Item 2: a dump the store cannot take is refused before anything is dropped.
TEST_F(CliImportTest, RestoreReplaceOfANewerSchemaDumpChangesNothing) {
  const std::string store = Rocks("store");
  BuildRefStore(store);
  const Content before = Read(store);
  // A dump of a store at a schema newer than this code's.
  const std::string newer = Rocks("newer");
  Ok(newer, {"kv", "set", "p", "k", "v"});
  {
    kv::OpenOptions o;
    o.code_schema_version = refstore::kCodeSchema;
    auto s = kv::Open(newer, o);
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    ASSERT_TRUE(kv::SetSchemaVersion(**s, refstore::kCodeSchema, refstore::kCodeSchema + 1).ok());
    ASSERT_TRUE(format::ExportDump(**s, DumpTo(dir_.Sub("newer.dump"))).ok());
    ASSERT_TRUE((*s)->Close().ok());
  }
  RunResult r = R(store, {"migrate", "restore", dir_.Sub("newer.dump"), "--replace"});
  EXPECT_EQ(r.exit_code, kExitVersionMismatch) << Describe(r);
  EXPECT_NE(r.err.find("nothing was changed"), std::string::npos) << Describe(r);
  EXPECT_EQ(Read(store), before);
  Ok(store, {"check"});
  Ok(store, {"repo", "list"});
}

// Item 6: a dump without metadata (schema 0) is not a backup: exit 10, nothing changed.
TEST_F(CliImportTest, RestoreOfASchemaZeroDumpIsABadBackup) {
  const std::string store = Rocks("store");
  BuildRefStore(store);
  const Content before = Read(store);
  {
    kv::OpenOptions o;
    o.skip_metadata = true;
    auto bare = kv::Open(Rocks("bare"), o);
    ASSERT_TRUE(bare.ok()) << bare.status().ToString();
    ASSERT_TRUE((*bare)->Set("p", "k", "v").ok());
    ASSERT_TRUE(format::ExportDump(**bare, DumpTo(dir_.Sub("bare.dump"))).ok());
    ASSERT_TRUE((*bare)->Close().ok());
  }
  for (std::vector<std::string> args :
       {std::vector<std::string>{"migrate", "restore", dir_.Sub("bare.dump"), "--replace"},
        std::vector<std::string>{"migrate", "restore", dir_.Sub("bare.dump")}}) {
    RunResult r = R(store, args);
    EXPECT_EQ(r.exit_code, kExitBadBackup) << Describe(r);
    EXPECT_NE(r.err.find("schema version 0"), std::string::npos) << Describe(r);
  }
  EXPECT_EQ(Read(store), before);
  Ok(store, {"check"});
  // Into a fresh store too: refused before the store is created.
  RunResult fresh = R(Rocks("fresh"), {"migrate", "restore", dir_.Sub("bare.dump")});
  EXPECT_EQ(fresh.exit_code, kExitBadBackup) << Describe(fresh);
  EXPECT_FALSE(fs::exists(dir_.Sub("fresh")));
}

// Item 6: an older-schema dump is refused by a store holding data (nothing written) and
// imported at its own schema into a fresh one, which `check` accepts and `migrate up`
// brings forward.
TEST_F(CliImportTest, OlderSchemaDumpGoesOnlyIntoAFreshStoreAtItsSchema) {
  // A ref store taken down to schema 1, dumped (the tooling opens it; `export` refuses
  // a store older than this code).
  const std::string old = Rocks("old"), fixture = dir_.Sub("schema1.dump");
  BuildRefStore(old);
  Ok(old, {"migrate", "down", "--to", "1", "--no-backup"});
  Ok(old, {"migrate", "cleanup"});
  {
    auto s = kv::Open(old, kv::migrate::ToolingOpenOptions(refstore::SchemaSteps()));
    ASSERT_TRUE(s.ok()) << s.status().ToString();
    auto dumped = format::ExportDump(**s, DumpTo(fixture));
    ASSERT_TRUE(dumped.ok()) << dumped.status().ToString();
    EXPECT_EQ(dumped->info.header.schema_version, 1);
    ASSERT_TRUE((*s)->Close().ok());
  }
  const std::string current = Rocks("current");
  BuildRefStore(current);
  const Content before = Read(current);
  RunResult mixed = R(current, {"import", fixture, "--allow-older-schema"});
  EXPECT_EQ(mixed.exit_code, kExitVersionMismatch) << Describe(mixed);
  EXPECT_NE(mixed.err.find("schema version 1 is older than the target store's " +
                           std::to_string(refstore::kCodeSchema)),
            std::string::npos)
      << Describe(mixed);
  EXPECT_NE(mixed.err.find("fresh store"), std::string::npos) << Describe(mixed);
  EXPECT_EQ(Read(current), before);
  Ok(current, {"check"});

  const std::string fresh = Rocks("fresh");
  RunResult without = R(fresh, {"import", fixture});
  EXPECT_EQ(without.exit_code, kExitVersionMismatch) << Describe(without);
  EXPECT_NE(without.err.find("--allow-older-schema"), std::string::npos) << Describe(without);
  RunResult imported = Ok(fresh, {"import", fixture, "--allow-older-schema"});
  EXPECT_NE(imported.err.find("now at schema 1"), std::string::npos) << Describe(imported);
  EXPECT_NE(imported.err.find("refkv migrate up"), std::string::npos) << Describe(imported);
  EXPECT_NE(Ok(fresh, {"migrate", "version"}).out.find("store schema 1"), std::string::npos);
  Ok(fresh, {"check"});
  Ok(fresh, {"migrate", "up", "--no-backup"});
  Ok(fresh, {"check"});
  EXPECT_NE(Ok(fresh, {"repo", "list"}).out.find("r2"), std::string::npos);
  EXPECT_EQ(Ok(fresh, {"entry", "get", "r1", "dev", "c"}).out, "3");
}

}  // namespace
}  // namespace refkv::cli
