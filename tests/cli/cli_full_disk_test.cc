// End-to-end: the refkv binary on a RocksDB store whose file system is full (a small
// tmpfs the test mounts; root only, skipped with the reason otherwise). Every command that
// must write exits 12 with one line naming the lack of space and the store, never with
// a signal (RocksDB's asserts used to abort it: exit 134); commands that only read
// (migrate version/status, kv get, check) still work; once space is freed the store
// opens, `check` passes, every acknowledged write is there and the refused commands
// succeed when run again.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/exit_code.h"
#include "refstore/schema.h"
#include "tests/cli/refkv_runner.h"
#include "tests/support/temp_dir.h"
#include "tests/support/tmpfs_mount.h"

namespace refkv::cli {
namespace {

using testing::Describe;
using testing::RunRefkv;
using testing::RunResult;

constexpr size_t kBigValue = 1 << 20;

// The default mapping: tests/engine/rocks/rocks_full_disk_test.cc covers both.
class CliFullDiskTest : public ::testing::Test {
 protected:
  std::string Uri(const std::string& name) const { return "rocks://" + fs_.Sub(name); }
  RunResult R(const std::string& store, std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", Uri(store)});
    return RunRefkv(dir_.path(), std::move(args));
  }
  RunResult Ok(const std::string& store, std::vector<std::string> args) {
    RunResult r = R(store, std::move(args));
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r;
  }
  // Exit 12 and one line on stderr that says so and names the store.
  void ExpectDiskFull(const std::string& store, std::vector<std::string> args) {
    RunResult r = R(store, args);
    std::string cmd;
    for (const auto& a : args) cmd += a + " ";
    EXPECT_EQ(r.exit_code, kExitDiskFull) << cmd << Describe(r);
    EXPECT_EQ(r.err.rfind("refkv: ", 0), 0u) << cmd << Describe(r);
    EXPECT_EQ(r.err.find('\n'), r.err.size() - 1) << cmd << "one line: " << Describe(r);
    EXPECT_NE(r.err.find("no space left on device"), std::string::npos) << cmd << Describe(r);
    EXPECT_NE(r.err.find(fs_.Sub(store)), std::string::npos) << cmd << Describe(r);
  }
  void Fill(uint64_t leave) {
    std::string error;
    ASSERT_TRUE(fs_.FillLeaving(leave, &error)) << error;
  }

  testing::TmpfsMount fs_{24 << 20, "cli-full"};
  testing::TempDir dir_{"cli-full"};  // the working directory and the inputs
};

TEST_F(CliFullDiskTest, WritesExitTwelveReadsWorkAndNothingAcknowledgedIsLost) {
  if (!fs_.mounted()) GTEST_SKIP() << fs_.skip_reason();
  const std::string big = dir_.Sub("big.bin");
  testing::WriteFile(big, std::string(kBigValue, 'x'));
  // A dump to import, holding a big value (written outside the small file system).
  const std::string src = "rocks://" + dir_.Sub("src");
  for (std::vector<std::string> args :
       std::vector<std::vector<std::string>>{{"repo", "create", "imp"},
                                             {"entry", "put", "imp", "main", "big", "--file", big},
                                             {"commit", "imp", "main", "-m", "big"},
                                             {"export", "-o", dir_.Sub("src.dump")}}) {
    args.insert(args.begin(), {"--store", src});
    RunResult r = RunRefkv(dir_.path(), args);
    ASSERT_EQ(r.exit_code, 0) << Describe(r);
  }
  // The store, with acknowledged data of every kind, and a store at schema 1 to upgrade.
  Ok("store", {"kv", "set", "p", "k0", "v0"});
  Ok("store", {"repo", "create", "r1"});
  Ok("store", {"entry", "put", "r1", "main", "f1", "val1"});
  Ok("store", {"commit", "r1", "main", "-m", "c1"});
  Ok("store", {"entry", "put", "r1", "main", "staged", "--file", big});
  Ok("old", {"repo", "create", "o1"});
  Ok("old", {"entry", "put", "o1", "main", "g", "1"});
  Ok("old", {"commit", "o1", "main", "-m", "one"});
  Ok("old", {"migrate", "down", "--to", "1", "--no-backup"});
  Ok("old", {"migrate", "cleanup"});

  // No byte free: the opens that write fail.
  Fill(0);
  ExpectDiskFull("store", {"kv", "set", "p", "k1", "v1"});
  ExpectDiskFull("store", {"repo", "create", "r2"});
  ExpectDiskFull("store", {"entry", "put", "r1", "main", "a/b", "hello"});
  ExpectDiskFull("store", {"commit", "r1", "main", "-m", "full"});
  ExpectDiskFull("store", {"import", dir_.Sub("src.dump")});
  // Opening may free a little (old info logs); then the pre-flight refuses: exit 8.
  RunResult up = R("old", {"migrate", "up", "--no-backup"});
  EXPECT_TRUE(up.exit_code == kExitDiskFull || up.exit_code == kExitNoSpace) << Describe(up);
  EXPECT_EQ(up.err.find('\n'), up.err.size() - 1) << Describe(up);
  // Reading needs no space: read-only opens write nothing.
  EXPECT_NE(Ok("old", {"migrate", "version"}).out.find("store schema 1"), std::string::npos);
  EXPECT_NE(Ok("old", {"migrate", "status"}).out.find("state ready"), std::string::npos);
  EXPECT_EQ(Ok("store", {"kv", "get", "p", "k0"}).out, "v0");
  Ok("store", {"check"});

  // Room to open, not for the big writes: they fail in RocksDB's write path.
  Fill(256 << 10);
  ExpectDiskFull("store", {"entry", "put", "r1", "main", "big2", "--file", big});
  ExpectDiskFull("store", {"commit", "r1", "main", "-m", "full"});
  // Not `import` here: one that fails part way leaves the partitions it wrote (issue 14,
  // item 5: imports all or nothing); above, it failed at the open and wrote nothing.

  fs_.Unfill();
  Ok("store", {"check"});
  Ok("old", {"check"});
  EXPECT_EQ(Ok("store", {"kv", "get", "p", "k0"}).out, "v0");
  EXPECT_EQ(Ok("store", {"entry", "get", "r1", "main", "f1"}).out, "val1");
  EXPECT_EQ(Ok("store", {"entry", "get", "r1", "main", "staged"}).out.size(), kBigValue);
  EXPECT_NE(Ok("store", {"log", "r1", "main"}).out.find("c1"), std::string::npos);
  // The refused commands, again.
  Ok("store", {"kv", "set", "p", "k1", "v1"});
  Ok("store", {"repo", "create", "r2"});
  Ok("store", {"commit", "r1", "main", "-m", "after"});
  Ok("store", {"import", dir_.Sub("src.dump")});
  Ok("old", {"migrate", "up", "--no-backup"});
  EXPECT_NE(Ok("old", {"migrate", "version"})
                .out.find("store schema " + std::to_string(refstore::kCodeSchema)),
            std::string::npos);
  Ok("store", {"check"});
  Ok("old", {"check"});
}

// The migrate pre-flight counts what the run writes before the steps: the checkpoint
// flushes the memtables (here a staged 1 MiB entry) into table files. Its estimate was 0
// bytes, so the run went on to fail at the backup on a disk without that room.
TEST_F(CliFullDiskTest, MigratePreflightRefusesAPlanTheDiskCannotHoldBeforeWritingAnything) {
  if (!fs_.mounted()) GTEST_SKIP() << fs_.skip_reason();
  const std::string big = dir_.Sub("big.bin");
  testing::WriteFile(big, std::string(kBigValue, 'x'));
  Ok("old", {"repo", "create", "o1"});
  Ok("old", {"entry", "put", "o1", "main", "big", "--file", big});
  Ok("old", {"commit", "o1", "main", "-m", "one"});
  Ok("old", {"migrate", "down", "--to", "1", "--no-backup"});
  Ok("old", {"migrate", "cleanup"});
  const std::string plan = Ok("old", {"migrate", "plan"}).out;
  EXPECT_NE(plan.find("~2 rows"), std::string::npos) << plan;  // the initial commit and one

  Fill(512 << 10);
  RunResult r = R("old", {"migrate", "up"});
  EXPECT_EQ(r.exit_code, kExitNoSpace) << Describe(r);
  EXPECT_NE(r.err.find("not enough free space"), std::string::npos) << Describe(r);
  EXPECT_NE(r.err.find("the backup"), std::string::npos) << Describe(r);
  EXPECT_EQ(Ok("old", {"migrate", "status"}).out.find("backup "), std::string::npos);
  EXPECT_NE(Ok("old", {"migrate", "version"}).out.find("store schema 1"), std::string::npos);

  fs_.Unfill();
  Ok("old", {"migrate", "up"});
  Ok("old", {"check"});
}

}  // namespace
}  // namespace refkv::cli
