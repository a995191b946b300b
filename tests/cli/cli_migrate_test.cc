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
      kExitOk,       kExitError,           kExitUsage, kExitNotFound, kExitPredicateFailed,
      kExitConflict, kExitVersionMismatch, kExitBusy,  kExitNoSpace,  kExitBackupFailed,
      kExitBadBackup};
  for (size_t i = 0; i < codes.size(); ++i) EXPECT_EQ(codes[i], static_cast<int>(i));
  for (const char* doc : {"8 not enough free space", "9 backup failed", "10 bad backup"}) {
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
  EXPECT_NE(Read(), before);  // schema 3, with the index

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

}  // namespace
}  // namespace refkv::cli
