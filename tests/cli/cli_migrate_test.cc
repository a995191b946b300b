// End-to-end tests of `refkv migrate restore` and of the migrate pre-flight refusals'
// exit codes (8 not enough free space, 9 backup failed, 10 bad backup), on a RocksDB
// store holding ref store data: the built binary, run in a fresh directory.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "cli/exit_code.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "migrate/migrate.h"
#include "migrate/nodes.h"
#include "refstore/schema.h"
#include "tests/cli/refkv_runner.h"
#include "tests/support/pg_server.h"
#include "tests/support/temp_dir.h"

namespace refkv::cli {
namespace {

namespace fs = std::filesystem;

using testing::Describe;
using testing::RunRefkv;
using testing::RunResult;

using Content = std::map<std::string, std::map<std::string, std::string>>;

class CliMigrateTest : public ::testing::Test {
 protected:
  RunResult R(std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", uri_.empty() ? "rocks://" + Store() : uri_});
    return RunRefkv(dir_.path(), std::move(args));
  }
  RunResult Ok(std::vector<std::string> args) {
    RunResult r = R(std::move(args));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r;
  }
  std::string Store() const { return dir_.Sub("store"); }

  // Every record of every partition (the metadata's schema_version only), read-only.
  Content Read(std::string uri = "") {
    if (uri.empty()) uri = uri_.empty() ? "rocks://" + Store() : uri_;
    Content c;
    kv::OpenOptions o;
    o.read_only = uri.rfind("rocks://", 0) == 0;
    o.create_if_missing = false;
    o.code_schema_version = 1000;
    o.allow_older_schema = o.allow_migrating = true;
    auto store = kv::Open(uri, o);
    EXPECT_TRUE(store.ok()) << store.status().ToString();
    if (!store.ok()) return c;
    auto md = kv::ReadMetadata(**store);
    EXPECT_TRUE(md.ok());
    if (md.ok()) c["schema"][""] = std::to_string(md->schema_version);
    auto parts = (*store)->ListPartitions();
    EXPECT_TRUE(parts.ok());
    for (const auto& p : parts.ok() ? *parts : std::vector<std::string>{}) {
      if (p == kv::kMetaPartition) continue;
      auto it = (*store)->Scan(p, {});
      EXPECT_TRUE(it.ok());
      if (!it.ok()) continue;
      for (; (*it)->Valid(); (*it)->Next()) c[p][std::string((*it)->key())] = (*it)->value();
      EXPECT_TRUE((*it)->status().ok());
    }
    (void)(*store)->Close();
    return c;
  }

  // Ref store content at schema 1 (the oldest this code upgrades from).
  void BuildAtSchema1() {
    Ok({"repo", "create", "r1"});
    Ok({"entry", "put", "r1", "main", "a", "1"});
    Ok({"commit", "r1", "main", "-m", "one"});
    Ok({"entry", "put", "r1", "main", "b", "2"});
    Ok({"commit", "r1", "main", "-m", "two"});
    Ok({"branch", "create", "r1", "dev", "--from", "main"});
    Ok({"entry", "put", "r1", "dev", "c", "3"});
    Ok({"commit", "r1", "dev", "-m", "three"});
    Ok({"tag", "create", "r1", "v1", "main"});
    Ok({"entry", "put", "r1", "main", "staged", "x"});
    Ok({"migrate", "down", "--to", "1", "--no-backup"});
    Ok({"migrate", "cleanup"});
    EXPECT_EQ(Read()["schema"][""], "1");
  }

  testing::TempDir dir_{"cli-mig"};
  std::string uri_;  // "": the rocks store Store()
};

TEST(MigrateExitCodes, AreDistinctAndDocumented) {
  std::vector<int> codes{
      kExitOk,        kExitError,           kExitUsage, kExitNotFound, kExitPredicateFailed,
      kExitConflict,  kExitVersionMismatch, kExitBusy,  kExitNoSpace,  kExitBackupFailed,
      kExitBadBackup, kExitNodesRunning};
  for (size_t i = 0; i < codes.size(); ++i) EXPECT_EQ(codes[i], static_cast<int>(i));
  for (const char* doc :
       {"8 not enough free space", "9 backup failed", "10 bad backup", "11 nodes running"}) {
    EXPECT_NE(std::string(kExitCodeHelp).find(doc), std::string::npos) << doc;
  }
}

TEST_F(CliMigrateTest, UpThenRestoreBringsBackThePreUpgradeStore) {
  BuildAtSchema1();
  Content before = Read();
  fs::create_directories(dir_.Sub("backups"));
  RunResult up = Ok({"migrate", "up", "--backup-dir", dir_.Sub("backups")});
  size_t at = up.out.find("backup ");
  ASSERT_NE(at, std::string::npos) << up.out;
  std::string backup = up.out.substr(at + 7, up.out.find('\n', at) - at - 7);
  ASSERT_TRUE(fs::is_directory(backup)) << backup;
  EXPECT_NE(Ok({"migrate", "status"}).out.find("backup " + backup), std::string::npos);
  EXPECT_NE(Read(), before);  // the newest schema, with the index

  RunResult restored = Ok({"migrate", "restore", backup});
  EXPECT_NE(restored.out.find("schema 1"), std::string::npos) << restored.out;
  EXPECT_EQ(Read(), before);  // every record of every partition, and the schema
  EXPECT_NE(Ok({"migrate", "version"}).out.find("state ready"), std::string::npos);
  Ok({"check"});
  // And the restored store upgrades again.
  Ok({"migrate", "up", "--no-backup"});
  Ok({"check"});
  EXPECT_NE(Ok({"log", "r1", "main"}).out.find("two"), std::string::npos);
}

TEST_F(CliMigrateTest, BadBackupIsExitTenWithNothingChanged) {
  BuildAtSchema1();
  Ok({"migrate", "up", "--no-backup"});
  Content before = Read();
  RunResult missing = R({"migrate", "restore", dir_.Sub("no-such-backup")});
  EXPECT_EQ(missing.exit_code, kExitBadBackup) << Describe(missing);
  EXPECT_NE(missing.err.find("no backup at"), std::string::npos) << Describe(missing);
  EXPECT_NE(missing.err.find("nothing was changed"), std::string::npos) << Describe(missing);
  fs::create_directories(dir_.Sub("not-a-checkpoint"));
  RunResult empty = R({"migrate", "restore", dir_.Sub("not-a-checkpoint")});
  EXPECT_EQ(empty.exit_code, kExitBadBackup) << Describe(empty);
  std::ofstream(dir_.Sub("junk.dump")) << "junk";
  RunResult junk = R({"migrate", "restore", dir_.Sub("junk.dump")});
  EXPECT_EQ(junk.exit_code, kExitBadBackup) << Describe(junk);
  EXPECT_EQ(Read(), before);
  EXPECT_FALSE(fs::exists(Store() + ".restore-new"));
  Ok({"check"});
}

TEST_F(CliMigrateTest, NotEnoughFreeSpaceIsExitEightWithNothingChanged) {
  BuildAtSchema1();
  Content before = Read();
  fs::create_directories(dir_.Sub("backups"));
  RunResult r =
      R({"migrate", "up", "--backup-dir", dir_.Sub("backups"), "--reserve", "4000000000000000000"});
  EXPECT_EQ(r.exit_code, kExitNoSpace) << Describe(r);
  EXPECT_NE(r.err.find("not enough free space"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("free some space"), std::string::npos) << Describe(r);
  EXPECT_EQ(Read(), before);
  EXPECT_TRUE(fs::is_empty(dir_.Sub("backups")));  // no backup either
  EXPECT_NE(Ok({"migrate", "version"}).out.find("state ready"), std::string::npos);
}

TEST_F(CliMigrateTest, UnwritableBackupTargetIsExitNineWithNothingChanged) {
  BuildAtSchema1();
  Content before = Read();
  std::ofstream(dir_.Sub("a-file")) << "x";  // not a directory: nothing can go under it
  RunResult r = R({"migrate", "up", "--backup-dir", dir_.Sub("a-file")});
  EXPECT_EQ(r.exit_code, kExitBackupFailed) << Describe(r);
  EXPECT_NE(r.err.find("--backup-dir"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("--no-backup"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("nothing was changed"), std::string::npos) << Describe(r);
  EXPECT_EQ(Read(), before);
  EXPECT_NE(Ok({"migrate", "version"}).out.find("state ready"), std::string::npos);
}

// PostgreSQL: the backup is a dump in --backup-dir; restore imports it (into the
// migrated store with --replace, or into a fresh table) and sets the dump's schema.
TEST_F(CliMigrateTest, PostgresBackupIsADumpAndRestoreImportsIt) {
  auto server = testing::PgServer::Create();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  uri_ = testing::WithParam((*server)->Uri(), "table", "migrated");
  BuildAtSchema1();
  Content before = Read();
  fs::create_directories(dir_.Sub("backups"));
  RunResult up = Ok({"migrate", "up", "--backup-dir", dir_.Sub("backups")});
  size_t at = up.out.find("backup ");
  ASSERT_NE(at, std::string::npos) << up.out;
  std::string dump = up.out.substr(at + 7, up.out.find('\n', at) - at - 7);
  EXPECT_EQ(dump.rfind(dir_.Sub("backups") + "/refkv-backup-s1-", 0), 0u) << dump;
  ASSERT_TRUE(fs::is_regular_file(dump)) << dump;
  EXPECT_NE(Ok({"migrate", "status"}).out.find("backup " + dump), std::string::npos);
  EXPECT_NE(Read(), before);

  RunResult holds_data = R({"migrate", "restore", dump});
  EXPECT_EQ(holds_data.exit_code, kExitError) << Describe(holds_data);
  EXPECT_NE(holds_data.err.find("--replace"), std::string::npos) << Describe(holds_data);
  RunResult restored = Ok({"migrate", "restore", dump, "--replace"});
  EXPECT_NE(restored.out.find("(dump, "), std::string::npos) << restored.out;
  EXPECT_EQ(Read(), before);
  Ok({"check"});
  Ok({"migrate", "up", "--no-backup"});
  Ok({"check"});

  uri_ = testing::WithParam((*server)->Uri(), "table", "fresh");
  Ok({"migrate", "restore", dump});
  EXPECT_EQ(Read(), before);
  Ok({"check"});
  RunResult corrupt = R({"migrate", "restore", dir_.Sub("missing.dump")});
  EXPECT_EQ(corrupt.exit_code, kExitBadBackup) << Describe(corrupt);
}

// PostgreSQL: a live node of an older code schema (a process with the store open, here
// this test with a heartbeat reporting schema 1) makes `migrate up` exit 11 naming it,
// with nothing changed; `migrate status` lists it; --ignore-nodes migrates and fences it;
// once it stopped, nothing blocks.
TEST_F(CliMigrateTest, LiveOlderPostgresNodeIsExitElevenUntilStoppedOrOverridden) {
  auto server = testing::PgServer::Create();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  uri_ = testing::WithParam((*server)->Uri(), "table", "nodes");
  BuildAtSchema1();
  // Every CLI command above was a node for its lifetime only.
  EXPECT_EQ(Ok({"migrate", "status"}).out.find("node "), std::string::npos);

  auto store = kv::Open(uri_, kv::migrate::ToolingOpenOptions(refstore::SchemaSteps()));
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  kv::migrate::NodeOptions old_options;
  old_options.code_schema = 1;
  old_options.interval_ms = 500;
  old_options.role = "old release";
  auto node = kv::migrate::NodeHeartbeat::Start(**store, old_options);
  ASSERT_TRUE(node.ok()) << node.status().ToString();
  const std::string id = (*node)->node_id();

  Content before = Read();
  RunResult refused = R({"migrate", "up", "--no-backup"});
  EXPECT_EQ(refused.exit_code, kExitNodesRunning) << Describe(refused);
  for (const std::string& part :
       {id, "pid " + std::to_string(getpid()), std::string("code schema 1"),
        std::string("older than the target schema " + std::to_string(refstore::kCodeSchema)),
        std::string("--ignore-nodes"), std::string("Nothing was changed")}) {
    EXPECT_NE(refused.err.find(part), std::string::npos) << part << "\n" << Describe(refused);
  }
  EXPECT_EQ(Read(), before);
  EXPECT_NE(Ok({"migrate", "version"}).out.find("state ready"), std::string::npos);
  RunResult status = Ok({"migrate", "status"});
  EXPECT_NE(status.out.find("node " + id), std::string::npos) << status.out;
  EXPECT_NE(status.out.find("old release"), std::string::npos) << status.out;
  RunResult json = Ok({"--json", "migrate", "status"});
  EXPECT_NE(json.out.find("\"nodes\":[{\"id\":\"" + id + "\""), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"code_schema\":1,"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"age_ms\":"), std::string::npos) << json.out;

  // The override migrates (to 2 here) and the old node is fenced before the step runs.
  Ok({"migrate", "up", "--to", "2", "--no-backup", "--ignore-nodes"});
  EXPECT_TRUE((*node)->fenced());
  auto write = (*node)->BeginWrite();
  ASSERT_FALSE(write.ok());
  EXPECT_NE(write.status().ToString().find("restart this node with a refkv that knows schema 2"),
            std::string::npos)
      << write.status().ToString();
  EXPECT_NE(Ok({"migrate", "status"}).out.find("fenced: "), std::string::npos);
  // A fenced node writes nothing: it blocks nothing.
  Ok({"migrate", "up", "--no-backup"});
  node->reset();
  EXPECT_EQ(Ok({"migrate", "status"}).out.find("node "), std::string::npos);
  Ok({"check"});
  (void)(*store)->Close();
}

}  // namespace
}  // namespace refkv::cli
