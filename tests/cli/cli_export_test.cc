// End-to-end tests of where `refkv export` may write and what `migrate restore` accepts
// (issue 14, items 1 and 3): an SST export never lands in a store's directory (another
// store's or its own) and never writes through a link; a dump export never touches a
// file it did not create; a checkpoint holding a link is a bad backup (exit 10).
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <map>
#include <regex>
#include <string>
#include <vector>

#include "cli/exit_code.h"
#include "tests/cli/refkv_runner.h"
#include "tests/cli/store_cli_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::cli {
namespace {

namespace fs = std::filesystem;
using testing::Describe;
using testing::ReadFile;
using testing::RunRefkv;
using testing::RunResult;
using testing::WriteFile;

// Name -> bytes of every entry of `dir` (links as "-> TARGET"), RocksDB's info logs
// aside (a read-only open writes a new one).
std::map<std::string, std::string> Snapshot(const std::string& dir) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    const std::string name = e.path().filename().string();
    if (name.rfind("LOG", 0) == 0) continue;
    if (e.is_symlink()) {
      out[name] = "-> " + fs::read_symlink(e.path()).string();
    } else if (e.is_regular_file()) {
      out[name] = ReadFile(e.path().string());
    } else {
      out[name] = "<other>";
    }
  }
  return out;
}

class CliExportTest : public testing::StoreCliTest {
 protected:
  CliExportTest() : StoreCliTest("cli-export") {}
  // A ref store with a commit on two branches: several non-empty partitions, so an
  // export writes several SST files (000000.sst, 000001.sst ... before issue 14).
  void Build(const std::string& store) {
    Ok({"repo", "create", "r1"}, store);
    Ok({"entry", "put", "r1", "main", "a", store + "-1"}, store);
    Ok({"commit", "r1", "main", "-m", "one"}, store);
    Ok({"branch", "create", "r1", "dev", "--from", "main"}, store);
    Ok({"entry", "put", "r1", "dev", "b", store + "-2"}, store);
    Ok({"commit", "r1", "dev", "-m", "two"}, store);
  }
  // Both stores open, read their data and pass `check`.
  void ExpectIntact(const std::string& store) {
    SCOPED_TRACE(store);
    Ok({"check"}, store);
    EXPECT_EQ(Ok({"entry", "get", "r1", "main", "a"}, store).out, store + "-1");
    EXPECT_EQ(Ok({"entry", "get", "r1", "dev", "b"}, store).out, store + "-2");
  }
};

TEST_F(CliExportTest, SstExportIntoAnotherStoresDirectoryIsRefused) {
  Build("a");
  Build("b");
  const auto before = Snapshot(dir_.Sub("b"));
  for (bool overwrite : {false, true}) {
    SCOPED_TRACE(overwrite ? "--overwrite" : "");
    std::vector<std::string> args{"export", "--format", "sst", "-o", dir_.Sub("b")};
    if (overwrite) args.push_back("--overwrite");
    RunResult r = R(args, "a");
    EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
    EXPECT_NE(r.err.find(dir_.Sub("b")), std::string::npos) << Describe(r);
    EXPECT_NE(r.err.find(overwrite ? "not part of an SST export" : "not empty"), std::string::npos)
        << Describe(r);
    EXPECT_NE(r.err.find("nothing was written"), std::string::npos) << Describe(r);
    EXPECT_EQ(Snapshot(dir_.Sub("b")), before);
  }
  ExpectIntact("a");
  ExpectIntact("b");
}

TEST_F(CliExportTest, SstExportIntoTheStoresOwnDirectoryIsRefused) {
  Build("a");
  const auto before = Snapshot(dir_.Sub("a"));
  for (bool overwrite : {false, true}) {
    SCOPED_TRACE(overwrite ? "--overwrite" : "");
    std::vector<std::string> args{"export", "--format", "sst", "-o", dir_.Sub("a")};
    if (overwrite) args.push_back("--overwrite");
    RunResult r = R(args, "a");
    EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
    EXPECT_EQ(Snapshot(dir_.Sub("a")), before);
  }
  ExpectIntact("a");
}

TEST_F(CliExportTest, SstExportNeverWritesThroughALink) {
  Build("a");
  WriteFile(dir_.Sub("victim1"), "precious 1");
  WriteFile(dir_.Sub("victim2"), "precious 2");
  // Links planted where the old exporter wrote: a data file and the manifest's temporary.
  const std::string out = dir_.Sub("out");
  fs::create_directory(out);
  fs::create_symlink(dir_.Sub("victim1"), out + "/000001.sst");
  fs::create_symlink(dir_.Sub("victim2"), out + "/MANIFEST.refkv.tmp");
  const auto planted = Snapshot(out);
  for (bool overwrite : {false, true}) {
    SCOPED_TRACE(overwrite ? "--overwrite" : "");
    std::vector<std::string> args{"export", "--format", "sst", "-o", out};
    if (overwrite) args.push_back("--overwrite");
    RunResult r = R(args, "a");
    EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
    if (overwrite) {
      EXPECT_NE(r.err.find("'000001.sst'"), std::string::npos) << Describe(r);
    }
    EXPECT_EQ(Snapshot(out), planted);
  }
  // A link in place of a file of a real export: --overwrite refuses it too.
  const std::string good = dir_.Sub("good");
  Ok({"export", "--format", "sst", "-o", good}, "a");
  std::string data_file;
  for (const auto& e : fs::directory_iterator(good)) {
    if (e.path().extension() == ".sst") data_file = e.path().string();
  }
  ASSERT_FALSE(data_file.empty());
  fs::remove(data_file);
  fs::create_symlink(dir_.Sub("victim1"), data_file);
  RunResult r = R({"export", "--format", "sst", "-o", good, "--overwrite"}, "a");
  EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
  EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << Describe(r);
  // The directory itself a link (to an empty directory): refused, nothing written there.
  fs::create_directory(dir_.Sub("empty"));
  fs::create_directory_symlink(dir_.Sub("empty"), dir_.Sub("link"));
  r = R({"export", "--format", "sst", "-o", dir_.Sub("link")}, "a");
  EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
  EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << Describe(r);
  EXPECT_TRUE(fs::is_empty(dir_.Sub("empty")));
  EXPECT_EQ(ReadFile(dir_.Sub("victim1")), "precious 1");
  EXPECT_EQ(ReadFile(dir_.Sub("victim2")), "precious 2");
}

TEST_F(CliExportTest, SstExportNamesFilesAsRocksDbNeverDoesAndOverwriteReplacesOnlyAnExport) {
  Build("a");
  const std::string out = dir_.Sub("out");
  Ok({"export", "--format", "sst", "-o", out}, "a");
  const std::regex rocks_table("[0-9]+\\.sst");
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(out)) {
    const std::string name = e.path().filename().string();
    EXPECT_FALSE(std::regex_match(name, rocks_table)) << name;
    if (name != "MANIFEST.refkv") {
      EXPECT_TRUE(std::regex_match(name, std::regex("refkv-[0-9]{6}\\.sst"))) << name;
      ++files;
    }
  }
  ASSERT_GE(files, 2u);
  // Without --overwrite: refused, the export stays as it was.
  const auto first = Snapshot(out);
  RunResult again = R({"export", "--format", "sst", "-o", out}, "a");
  EXPECT_EQ(again.exit_code, kExitError) << Describe(again);
  EXPECT_NE(again.err.find("--overwrite"), std::string::npos) << Describe(again);
  EXPECT_EQ(Snapshot(out), first);
  // --overwrite with one partition: the directory then holds that export alone.
  Ok({"export", "--format", "sst", "-o", out, "--overwrite", "--partition", "refkv.repos"}, "a");
  EXPECT_EQ(Snapshot(out).size(), 2u);  // the manifest and one data file
  Ok({"export", "--format", "sst", "-o", out, "--overwrite"}, "a");
  Ok({"import", out}, "copy");
  EXPECT_EQ(Ok({"entry", "get", "r1", "dev", "b"}, "copy").out, "a-2");
  // A file that is not the export's: --overwrite refuses, naming it; nothing changes.
  WriteFile(out + "/notes.txt", "mine");
  const auto with_notes = Snapshot(out);
  RunResult foreign = R({"export", "--format", "sst", "-o", out, "--overwrite"}, "a");
  EXPECT_EQ(foreign.exit_code, kExitError) << Describe(foreign);
  EXPECT_NE(foreign.err.find("'notes.txt'"), std::string::npos) << Describe(foreign);
  EXPECT_EQ(Snapshot(out), with_notes);
}

TEST_F(CliExportTest, DumpExportLeavesFilesItDidNotCreateAlone) {
  Build("a");
  WriteFile(dir_.Sub("x.dump.tmp"), "mine");
  Ok({"export", "-o", dir_.Sub("x.dump")}, "a");
  EXPECT_EQ(ReadFile(dir_.Sub("x.dump.tmp")), "mine");
  Ok({"dump", "verify", dir_.Sub("x.dump")}, "a");
  // No temporary is left behind.
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    names.push_back(e.path().filename().string());
  }
  for (const auto& name : names) EXPECT_EQ(name.find(".tmp-"), std::string::npos) << name;
  // A link at the path: refused without --overwrite; with it the link itself is
  // replaced, its target never written.
  WriteFile(dir_.Sub("victim"), "precious");
  fs::create_symlink(dir_.Sub("victim"), dir_.Sub("link.dump"));
  RunResult r = R({"export", "-o", dir_.Sub("link.dump")}, "a");
  EXPECT_EQ(r.exit_code, kExitError) << Describe(r);
  Ok({"export", "-o", dir_.Sub("link.dump"), "--overwrite"}, "a");
  EXPECT_FALSE(fs::is_symlink(dir_.Sub("link.dump")));
  Ok({"dump", "verify", dir_.Sub("link.dump")}, "a");
  EXPECT_EQ(ReadFile(dir_.Sub("victim")), "precious");
}

TEST_F(CliExportTest, RestoreRefusesACheckpointHoldingALinkOrAFifo) {
  Build("store");
  Ok({"migrate", "down", "--to", "1", "--no-backup"});
  Ok({"migrate", "cleanup"});
  fs::create_directories(dir_.Sub("backups"));
  RunResult up = Ok({"migrate", "up", "--backup-dir", dir_.Sub("backups")});
  size_t at = up.out.find("backup ");
  ASSERT_NE(at, std::string::npos) << up.out;
  const std::string backup = up.out.substr(at + 7, up.out.find('\n', at) - at - 7);
  ASSERT_TRUE(fs::is_directory(backup)) << backup;
  const auto before = Snapshot(dir_.Sub("store"));

  WriteFile(dir_.Sub("secret"), "not for the store");
  fs::create_symlink(dir_.Sub("secret"), backup + "/secret-link");
  RunResult link = R({"migrate", "restore", backup});
  EXPECT_EQ(link.exit_code, kExitBadBackup) << Describe(link);
  EXPECT_NE(link.err.find("'secret-link', a symbolic link"), std::string::npos) << Describe(link);
  EXPECT_NE(link.err.find("nothing was changed"), std::string::npos) << Describe(link);
  EXPECT_EQ(Snapshot(dir_.Sub("store")), before);
  EXPECT_FALSE(fs::exists(dir_.Sub("store.restore-new")));

  fs::remove(backup + "/secret-link");
  ASSERT_EQ(::mkfifo((backup + "/fifo").c_str(), 0600), 0);
  RunResult fifo = R({"migrate", "restore", backup});
  EXPECT_EQ(fifo.exit_code, kExitBadBackup) << Describe(fifo);
  EXPECT_NE(fifo.err.find("'fifo'"), std::string::npos) << Describe(fifo);
  EXPECT_EQ(Snapshot(dir_.Sub("store")), before);
  ExpectIntact("store");

  // Without them the backup restores.
  fs::remove(backup + "/fifo");
  Ok({"migrate", "restore", backup});
  Ok({"check"});
}

}  // namespace
}  // namespace refkv::cli
