// End-to-end tests of the refkv binary: each test runs build/bin/refkv in a fresh
// working directory with a clean environment and checks stdout, the one stderr line,
// the exit code, and that bad input wrote nothing.
//
// Tests that need the RocksDB driver skip themselves while it is not built.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "engine/metadata.h"
#include "engine/open.h"
#include "refstore/schema.h"
#include "tests/cli/refkv_runner.h"
#include "tests/support/pg_server.h"
#include "tests/support/temp_dir.h"

namespace refkv::cli {
namespace {

namespace fs = std::filesystem;
using testing::Describe;
using testing::Env;
using testing::ReadFile;
using testing::RunRefkv;
using testing::RunRefkvOnTerminal;
using testing::RunResult;
using testing::WriteFile;

// The failure shape every error shares: nothing on stdout, one line on stderr that
// starts with "refkv: " and contains `what`.
void ExpectError(const RunResult& r, int exit_code, const std::string& what) {
  EXPECT_EQ(r.exit_code, exit_code) << Describe(r);
  EXPECT_EQ(r.out, "") << Describe(r);
  EXPECT_EQ(r.err.rfind("refkv: ", 0), 0u) << Describe(r);
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << Describe(r);
  EXPECT_NE(r.err.find(what), std::string::npos) << "expected '" << what << "' in\n" << Describe(r);
}

void ExpectOk(const RunResult& r, const std::string& out) {
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.out, out) << Describe(r);
  EXPECT_EQ(r.err, "") << Describe(r);
}

// Every file and directory under `root` with its contents: to show nothing was written.
std::string Snapshot(const std::string& root) {
  std::vector<std::string> entries;
  for (const auto& e : fs::recursive_directory_iterator(root)) {
    std::string rel = fs::relative(e.path(), root).string();
    if (e.is_directory()) {
      entries.push_back(rel + "/");
    } else if (!e.is_regular_file()) {
      entries.push_back(rel + " (not a regular file)");  // a FIFO: reading it would block
    } else {
      entries.push_back(rel + " = " + ReadFile(e.path().string()));
    }
  }
  std::sort(entries.begin(), entries.end());
  std::string out;
  for (const auto& e : entries) out += e + "\n";
  return out;
}

class CliTest : public ::testing::Test {
 protected:
  RunResult R(std::vector<std::string> args, const Env& env = {}) {
    return RunRefkv(dir_.path(), std::move(args), env);
  }
  // A rocks store URI inside the test's directory.
  std::string Rocks(const std::string& name = "store") { return "rocks://" + dir_.Sub(name); }

  testing::TempDir dir_{"cli-e2e"};
};

// ---- help, version, usage ------------------------------------------------------------

TEST_F(CliTest, HelpDocumentsExitCodesAndStoreResolution) {
  RunResult r = R({"--help"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  EXPECT_NE(r.out.find("Exit codes: 0 ok, 1 error, 2 usage, 3 not found"), std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("4 predicate failed"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("REFKV_STORE"), std::string::npos) << r.out;
  for (const char* command : {"store", "kv", "quickstart"}) {
    EXPECT_NE(r.out.find(command), std::string::npos) << command;
  }
  RunResult kv_help = R({"kv", "--help"});
  EXPECT_EQ(kv_help.exit_code, 0);
  for (const char* command : {"get", "set", "setif", "del", "scan"}) {
    EXPECT_NE(kv_help.out.find(command), std::string::npos) << command;
  }
}

TEST_F(CliTest, Version) {
  ExpectOk(R({"--version"}), "refkv " + std::string(kv::CodeVersion()) + "\n");
}

TEST_F(CliTest, UsageErrorsExitTwoAndWriteNothing) {
  const std::vector<std::vector<std::string>> cases = {
      {},
      {"bogus"},
      {"kv"},
      {"kv", "bogus"},
      {"kv", "get", "p"},
      {"kv", "set", "p", "k"},
      {"kv", "setif", "p", "k", "v"},                          // no predicate
      {"kv", "setif", "p", "k", "v", "--absent", "--exists"},  // two predicates
      {"kv", "scan", "p", "--limit", "many"},
      {"kv", "get", "p", "k", "--bogus"},
      {"--store"},
      {"--hex", "kv", "set", "zz", "00", "00"},   // not hex
      {"--hex", "kv", "set", "616", "00", "00"},  // odd length
      {"kv", "set", "p", "", "v"},                // empty key
      {"kv", "get", "", "k"},                     // empty partition
  };
  for (const auto& args : cases) {
    std::string joined;
    for (const auto& a : args) joined += "'" + a + "' ";
    SCOPED_TRACE(joined);
    ExpectError(R(args), 2, "");
    EXPECT_EQ(Snapshot(dir_.path()), "") << "a usage error created files";
  }
  ExpectError(R({"bogus"}), 2, "unknown command 'bogus'");
  ExpectError(R({"kv", "get", "p"}), 2, "kv get: KEY is required (see 'refkv kv get --help')");
  ExpectError(R({"--hex", "kv", "get", "zz", "00"}), 2, "PARTITION");
}

TEST_F(CliTest, OutputThatCannotBeWrittenIsAnError) {
  RunResult r = RunRefkv(dir_.path(), {"--store", "mem://", "store", "uri"}, {}, "/dev/full");
  ExpectError(r, 1, "cannot write the output");
}

// ---- store resolution ----------------------------------------------------------------

TEST_F(CliTest, StoreUriFollowsFlagThenEnvThenConfigThenDefault) {
  ExpectOk(R({"store", "uri"}), "rocks://./refkv-data (default)\n");
  WriteFile(dir_.Sub("refkv.yaml"), "database:\n  type: rocks\n  rocks:\n    path: ./fromfile\n");
  ExpectOk(R({"store", "uri"}), "rocks://./fromfile (from refkv.yaml)\n");
  ExpectOk(R({"store", "uri"}, {{"REFKV_DATABASE_ROCKS_PATH", "/env/path"}}),
           "rocks:///env/path (from refkv.yaml + REFKV_DATABASE_*)\n");
  ExpectOk(R({"store", "uri"}, {{"REFKV_DATABASE_TYPE", "mem"}}),
           "mem:// (from refkv.yaml + REFKV_DATABASE_*)\n");
  ExpectOk(R({"store", "uri"}, {{"REFKV_STORE", "mem://env"}}), "mem://env (from REFKV_STORE)\n");
  ExpectOk(R({"--store", "mem://flag", "store", "uri"}, {{"REFKV_STORE", "mem://env"}}),
           "mem://flag (from --store)\n");
  WriteFile(dir_.Sub("other.yaml"), "database:\n  type: mem\n");
  ExpectOk(R({"--config", "other.yaml", "store", "uri"}), "mem:// (from other.yaml)\n");
  ExpectOk(R({"store", "uri", "--json"}),
           "{\"uri\":\"rocks://./fromfile\",\"source\":\"from refkv.yaml\"}\n");
}

TEST_F(CliTest, ConfigErrors) {
  ExpectError(R({"--config", "missing.yaml", "kv", "set", "p", "k", "v"}), 1,
              "config file 'missing.yaml' (from --config) does not exist");
  WriteFile(dir_.Sub("refkv.yaml"), "database:\n  type: rocks\n  rocks: {path: [x\n");
  ExpectError(R({"kv", "set", "p", "k", "v"}), 1, "refkv.yaml:");
  ExpectError(R({"kv", "set", "p", "k", "v"}), 1, "malformed YAML");
  WriteFile(dir_.Sub("refkv.yaml"), "database:\n  type: oracle\n");
  ExpectError(R({"store", "uri"}), 1, "refkv.yaml:2: unknown database type 'oracle'");
  WriteFile(dir_.Sub("refkv.yaml"), "database:\n  type: mem\n");
  ExpectError(R({"store", "uri"}, {{"REFKV_DATABASE_TYPE", "db2"}}), 1, "REFKV_DATABASE_TYPE");
  EXPECT_FALSE(fs::exists(dir_.Sub("refkv-data")));
}

TEST_F(CliTest, MalformedUriAndUnknownDriverAreErrorsNotNotFound) {
  const std::string before = Snapshot(dir_.path());
  ExpectError(R({"--store", "rocks:/x", "kv", "set", "p", "k", "v"}), 1, "malformed store URI");
  ExpectError(R({"--store", "just-a-path", "kv", "get", "p", "k"}), 1, "malformed store URI");
  ExpectError(R({"--store", "nosuch://x", "kv", "get", "p", "k"}), 1,
              "unknown store driver 'nosuch'");
  ExpectError(R({"kv", "get", "p", "k"}, {{"REFKV_STORE", "nosuch://y"}}), 1, "(from REFKV_STORE)");
  EXPECT_EQ(Snapshot(dir_.path()), before);
}

// rocks:///tmp/x%00y opened /tmp/x, rocks:///a/%2e%2e/b created /a, --store '' meant the
// default store: each is a malformed store URI (exit 1) and creates nothing.
TEST_F(CliTest, UriWithNulEncodedDotsOrEmptyStoreIsRefusedAndCreatesNothing) {
  const std::string before = Snapshot(dir_.path());
  ExpectError(R({"--store", Rocks("x%00y"), "kv", "set", "p", "k", "v"}), 1,
              "percent-encoded NUL (%00) at offset");
  ExpectError(R({"--store", Rocks("a/%2e%2e/b"), "kv", "set", "p", "k", "v"}), 1,
              "percent-encoded dot segment '%2e%2e'");
  ExpectError(R({"--store", Rocks("a/../b"), "kv", "set", "p", "k", "v"}), 1,
              "'..' after a directory name");
  ExpectError(R({"--store", Rocks("a%2Fb"), "kv", "set", "p", "k", "v"}), 1,
              "percent-encoded '/' (%2F)");
  ExpectError(R({"--store", "postgres://?conninfo=host%3Dx%00", "kv", "get", "p", "k"}), 1,
              "percent-encoded NUL");
  ExpectError(R({"--store", "", "kv", "set", "p", "k", "v"}), 1, "--store is empty");
  ExpectError(R({"kv", "set", "p", "k", "v", "--store="}), 2, "--store: 1 required URI missing");
  ExpectError(R({"--config", "", "kv", "set", "p", "k", "v"}), 1, "--config is empty");
  WriteFile(dir_.Sub("refkv.yaml"), "database:\n  rocks:\n    path: ''\n");
  ExpectError(R({"kv", "set", "p", "k", "v"}), 1,
              "refkv.yaml:3: 'database.rocks.path' has no value");
  fs::remove(dir_.Sub("refkv.yaml"));
  EXPECT_EQ(Snapshot(dir_.path()), before);
  // An empty variable still counts as unset.
  ExpectOk(R({"store", "uri"}, {{"REFKV_STORE", ""}}), "rocks://./refkv-data (default)\n");
}

// --limit -1 became 18446744073709551615 and --limit 99999999999999999999999 saturated,
// silently: every numeric option takes decimal digits within a stated range, else exit 2
// naming the option, the range and the text.
TEST_F(CliTest, NumericOptionsAreRangeCheckedAndNamed) {
  struct Case {
    std::vector<std::string> args;
    const char* what;
  } cases[] = {
      {{"kv", "scan", "p", "--limit", "-1"},
       "kv scan: --limit: must be an integer from 0 to 9223372036854775807, got '-1'"},
      {{"kv", "scan", "p", "--limit", "99999999999999999999999"},
       "--limit: must be an integer from 0 to 9223372036854775807, got '99999999999999999999999'"},
      {{"kv", "scan", "p", "--limit", "0x10"}, "--limit: must be an integer"},
      {{"kv", "scan", "p", "--limit", "ten"}, "--limit: must be an integer"},
      {{"repo", "list", "--limit", "-1"}, "repo list: --limit: must be"},
      {{"entry", "ls", "r", "main", "--limit", "1.5"}, "entry ls: --limit: must be"},
      {{"log", "r", "main", "--limit", "-2"}, "log: --limit: must be"},
      {{"diff", "r", "a", "b", "--limit", "18446744073709551616"}, "diff: --limit: must be"},
      {{"gc", "--grace", "-1"}, "gc: --grace: must be a number from 0 to 315360000, got '-1'"},
      {{"gc", "--grace", "nan"}, "--grace: must be a number"},
      {{"gc", "--grace", "1e999"}, "--grace: must be a number"},
      {{"export", "-o", "x", "--threads", "-1"}, "export: --threads: must be an integer from 0 to"},
      {{"import", "x", "--threads", "4294967297"}, "import: --threads: must be"},
      {{"dump", "verify", "x", "--threads", "99"}, "dump verify: --threads: must be"},
      {{"migrate", "up", "--reserve", "-5"}, "migrate up: --reserve: must be an integer from 0"},
      {{"migrate", "up", "--lease-ttl", "0"}, "--lease-ttl: must be a number from 1 to 86400"},
      {{"migrate", "restore", "b", "--lock-timeout", "-1"}, "--lock-timeout: must be"},
      {{"migrate", "down", "--to", "-1"}, "migrate down: --to: must be an integer from 0"},
      {{"migrate", "plan", "--to", "99999999999"}, "migrate plan: --to: must be"},
      {{"quickstart", "--keys", "-1"}, "quickstart: --keys: must be"},
      {{"quickstart", "--value-size", "1e3"}, "quickstart: --value-size: must be"},
  };
  const std::string before = Snapshot(dir_.path());
  for (const auto& c : cases) {
    std::vector<std::string> args = c.args;
    args.insert(args.begin(), {"--store", Rocks()});
    SCOPED_TRACE(args[3] + " " + args.back());
    ExpectError(R(args), 2, c.what);
  }
  EXPECT_EQ(Snapshot(dir_.path()), before);
  ExpectOk(R({"--store", Rocks(), "kv", "set", "p", "k", "v"}), "");
  ExpectOk(R({"--store", Rocks(), "kv", "scan", "p", "--limit", "1"}), "k\tv\n");
}

// `import` from a FIFO with no writer blocked for ever holding the store: a path that is
// not a regular file (or, for import, a directory) is refused before anything is opened.
// The children run under an alarm, so the old hang fails the test instead of hanging it.
TEST_F(CliTest, InputsThatAreNotRegularFilesAreRefusedBeforeTheStoreIsOpened) {
  const std::string fifo = dir_.Sub("in.fifo");
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const std::string before = Snapshot(dir_.path());
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", Rocks()});
    return testing::RunRefkvWithin(20, dir_.path(), std::move(args));
  };
  ExpectError(run({"import", fifo}), 2,
              "'" + fifo + "' is a FIFO, not a dump file or an SST directory");
  ExpectError(run({"import", "/dev/null"}), 2, "'/dev/null' is a character device");
  ExpectError(run({"dump", "verify", fifo}), 2, "is a FIFO, not a dump file");
  ExpectError(run({"dump", "inspect", fifo}), 2, "is a FIFO, not a dump file");
  ExpectError(run({"dump", "verify", dir_.path()}), 2, "is a directory, not a dump file");
  // migrate restore refuses it as a bad backup (exit 10), also without reading it.
  RunResult restore = run({"migrate", "restore", fifo});
  EXPECT_EQ(restore.exit_code, 10) << Describe(restore);
  EXPECT_EQ(Snapshot(dir_.path()), before);  // no store created
}

// A failed import into a missing store path left an empty store behind.
TEST_F(CliTest, FailedImportCreatesNoStore) {
  WriteFile(dir_.Sub("bad.dump"), std::string(300, 'x'));
  ExpectOk(R({"--store", Rocks("src"), "kv", "set", "p", "k", "v"}), "");
  ASSERT_EQ(R({"--store", Rocks("src"), "export", "-o", dir_.Sub("good.dump")}).exit_code, 0);

  RunResult r = R({"--store", Rocks("new/deeper"), "import", dir_.Sub("bad.dump")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_FALSE(fs::exists(dir_.Sub("new"))) << Describe(r);
  // An empty directory given as the store stays, empty.
  fs::create_directory(dir_.Sub("empty"));
  r = R({"--store", Rocks("empty"), "import", dir_.Sub("bad.dump")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  EXPECT_TRUE(fs::is_directory(dir_.Sub("empty")));
  EXPECT_TRUE(fs::is_empty(dir_.Sub("empty")));
  // A store that existed stays, with its data.
  r = R({"--store", Rocks("src"), "import", dir_.Sub("bad.dump")});
  EXPECT_EQ(r.exit_code, 1) << Describe(r);
  ExpectOk(R({"--store", Rocks("src"), "kv", "get", "p", "k"}), "v");
  // A good import into a missing path creates the store.
  r = R({"--store", Rocks("new/deeper"), "import", dir_.Sub("good.dump")});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  ExpectOk(R({"--store", Rocks("new/deeper"), "kv", "get", "p", "k"}), "v");
}

// ---- kv on the memory driver (a fresh store per process) -----------------------------

TEST_F(CliTest, SetIfOnMemExitCodes) {
  ExpectOk(R({"--store", "mem://", "kv", "set", "p", "k", "v"}), "");
  ExpectOk(R({"--store", "mem://", "kv", "setif", "p", "k", "v", "--absent"}), "");
  ExpectError(R({"--store", "mem://", "kv", "setif", "p", "k", "v", "--exists"}), 4,
              "predicate exists does not hold for key 'k' in partition 'p'");
  ExpectError(R({"--store", "mem://", "kv", "setif", "p", "k", "v", "--expect", "old"}), 4,
              "equals(old)");
  ExpectOk(R({"--store", "mem://", "kv", "del", "p", "k"}), "");
}

TEST_F(CliTest, QuickstartOnMem) {
  RunResult r = R({"--store", "mem://", "quickstart", "--keys", "3000"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_EQ(r.err, "");
  for (const char* step : {"mem:// (the configured store, from --store)", "set", "get", "write",
                           "scan prefix", "setif absent", "setif equals", "setif stale",
                           "300 refused", "delete range", "drop partition", "ops/s", "store id"}) {
    EXPECT_NE(r.out.find(step), std::string::npos) << step << "\n" << r.out;
  }
}

// ---- the RocksDB driver --------------------------------------------------------------

TEST_F(CliTest, KvRoundTripOnRocks) {
  const std::string s = Rocks();
  ExpectOk(R({"--store", s, "kv", "set", "p", "k", "hello world"}), "");
  ExpectOk(R({"--store", s, "kv", "get", "p", "k"}), "hello world");  // no newline off a tty
  ExpectOk(R({"--store", s, "kv", "get", "p", "k", "--json"}),
           "{\"key\":\"k\",\"value\":\"hello world\"}\n");
  ExpectOk(R({"--store", s, "--hex", "kv", "get", "70", "6b"}), "68656c6c6f20776f726c64\n");
  ExpectOk(R({"--store", s, "kv", "set", "p", "empty", ""}), "");
  ExpectOk(R({"--store", s, "kv", "get", "p", "empty"}), "");
  ExpectOk(R({"--store", s, "kv", "del", "p", "k"}), "");
  ExpectOk(R({"--store", s, "kv", "del", "p", "k"}), "");  // idempotent
  ExpectError(R({"--store", s, "kv", "get", "p", "k"}), 3, "key 'k' not found in partition 'p'");
}

TEST_F(CliTest, GetEndsWithANewlineOnlyOnATerminal) {
  const std::string s = Rocks();
  ExpectOk(R({"--store", s, "kv", "set", "p", "k", "v"}), "");
  RunResult tty = RunRefkvOnTerminal(dir_.path(), {"--store", s, "kv", "get", "p", "k"});
  EXPECT_EQ(tty.exit_code, 0);
  EXPECT_EQ(tty.out, "v\r\n");  // the terminal turns \n into \r\n
  ExpectOk(R({"--store", s, "kv", "get", "p", "k"}), "v");
}

// Export, verify and import draw a live bar on stderr when it is a terminal (records,
// bytes, rate, percentage and ETA: verify and import know the file's size, export uses
// the store's key estimate) and end with the one-line summary; off a terminal only the
// summary line is printed.
TEST_F(CliTest, ProgressBarOnATerminalOneSummaryLineOtherwise) {
  const std::string s = Rocks();
  ExpectOk(R({"--store", s, "kv", "set", "p", "k", "v"}), "");  // created by the CLI
  {
    kv::OpenOptions at_code_schema;
    at_code_schema.code_schema_version = refstore::kCodeSchema;
    auto store = kv::Open(s, at_code_schema);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    // ~3 MiB of incompressible values: three 1 MiB blocks, so progress is reported
    // part-way through.
    std::mt19937_64 rng(5);
    kv::WriteBatch batch;
    std::string value(1024, '\0');
    for (int i = 0; i < 3000; ++i) {
      for (char& c : value) c = static_cast<char>(rng());
      batch.Put("k" + std::to_string(100000 + i), value);
    }
    ASSERT_TRUE((*store)->Write("p", batch).ok());
    ASSERT_TRUE((*store)->Close().ok());
  }
  // `phases`: the bar's possible labels; import draws "check" while it verifies the file
  // and "import" while it writes, and a fast run may redraw only in one of them.
  auto expect_bar = [](const RunResult& r, const std::vector<std::string>& phases, bool eta) {
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    // A drawn bar: "\r<phase>: N records, X MiB, R rec/s[, P%, ETA Ts]" then erased.
    size_t at = std::string::npos;
    for (const auto& phase : phases) at = std::min(at, r.out.find("\r" + phase + ": "));
    ASSERT_NE(at, std::string::npos) << phases.front() << "\n" << Describe(r);
    std::string bar = r.out.substr(at, r.out.find('\r', at + 1) - at);
    EXPECT_NE(bar.find(" records, "), std::string::npos) << bar;
    EXPECT_NE(bar.find("iB"), std::string::npos) << bar;
    EXPECT_NE(bar.find(" rec/s"), std::string::npos) << bar;
    if (eta) {
      EXPECT_NE(bar.find("%, ETA "), std::string::npos) << bar;
    }
    EXPECT_NE(r.out.find("\x1b[K"), std::string::npos) << Describe(r);
  };
  RunResult exported = RunRefkvOnTerminal(dir_.path(), {"--store", s, "export", "-o", "a.dump"});
  // Export knows no total: the store's key estimate stands in ("/~N"), so it has an ETA.
  expect_bar(exported, {"export"}, true);
  EXPECT_NE(exported.out.find("/~"), std::string::npos) << Describe(exported);
  EXPECT_NE(exported.out.find("exported a.dump: 3001 records"), std::string::npos)
      << Describe(exported);
  RunResult verified = RunRefkvOnTerminal(dir_.path(), {"dump", "verify", "a.dump"});
  expect_bar(verified, {"verify"}, true);
  const std::string t = Rocks("target");
  ExpectOk(R({"--store", t, "kv", "set", "other", "k", "v"}), "");
  RunResult imported = RunRefkvOnTerminal(dir_.path(), {"--store", t, "import", "a.dump"});
  expect_bar(imported, {"check", "import"}, true);
  EXPECT_NE(imported.out.find("imported a.dump: 3001 records"), std::string::npos)
      << Describe(imported);

  // Not a terminal: exactly one summary line on stderr, no carriage returns or escapes.
  RunResult quiet = R({"--store", s, "export", "-o", "b.dump"});
  EXPECT_EQ(quiet.exit_code, 0) << Describe(quiet);
  EXPECT_EQ(quiet.out, "");
  EXPECT_EQ(quiet.err.rfind("exported b.dump: 3001 records, ", 0), 0u) << Describe(quiet);
  EXPECT_EQ(std::count(quiet.err.begin(), quiet.err.end(), '\n'), 1) << Describe(quiet);
  EXPECT_EQ(quiet.err.find('\r'), std::string::npos) << Describe(quiet);
  EXPECT_EQ(quiet.err.find('\x1b'), std::string::npos) << Describe(quiet);
  RunResult quiet_import = R({"--store", Rocks("target2"), "import", "b.dump"});
  EXPECT_EQ(quiet_import.exit_code, 0) << Describe(quiet_import);
  EXPECT_EQ(quiet_import.err.rfind("imported b.dump: 3001 records, ", 0), 0u)
      << Describe(quiet_import);
  EXPECT_EQ(std::count(quiet_import.err.begin(), quiet_import.err.end(), '\n'), 1)
      << Describe(quiet_import);
  EXPECT_EQ(quiet_import.err.find('\r'), std::string::npos) << Describe(quiet_import);
}

TEST_F(CliTest, BinaryBytesWithHexAndJson) {
  const std::string s = Rocks();
  // partition "bin", key 00 ff 0a, value ff 00 41
  ExpectOk(R({"--store", s, "--hex", "kv", "set", "62696e", "00ff0a", "ff0041"}), "");
  ExpectOk(R({"--store", s, "--hex", "kv", "get", "62696e", "00ff0a"}), "ff0041\n");
  ExpectOk(R({"--store", s, "kv", "scan", "bin"}), "\\x00\\xff\\n\t\\xff\\x00A\n");
  ExpectOk(R({"--store", s, "kv", "scan", "bin", "--json"}),
           "[\n{\"key_hex\":\"00ff0a\",\"value_hex\":\"ff0041\"}\n]\n");
  ExpectOk(R({"--store", s, "--hex", "kv", "scan", "62696e", "--json"}),
           "[\n{\"key_hex\":\"00ff0a\",\"value_hex\":\"ff0041\"}\n]\n");
  // kv get writes the raw bytes, NUL included.
  ExpectOk(R({"--store", s, "--hex", "kv", "set", "62696e", "6b6b", "ff0041"}), "");
  ExpectOk(R({"--store", s, "kv", "get", "bin", "kk"}), std::string("\xff\x00"
                                                                    "A",
                                                                    3));
  // Valid UTF-8 stays a JSON string; control characters become \u00XX.
  ExpectOk(R({"--store", s, "kv", "set", "utf", "k\x01\xc3\xa9", "\xff"}), "");
  ExpectOk(R({"--store", s, "kv", "scan", "utf", "--json"}),
           "[\n{\"key\":\"k\\u0001\xc3\xa9\",\"value_hex\":\"ff\"}\n]\n");
  ExpectOk(R({"--store", s, "kv", "get", "utf", "k\x01\xc3\xa9", "--json"}),
           "{\"key\":\"k\\u0001\xc3\xa9\",\"value_hex\":\"ff\"}\n");
}

TEST_F(CliTest, ScanOptionsOnRocks) {
  const std::string s = Rocks();
  for (const char* k : {"a1", "a2", "a3", "b1", "b2"}) {
    ExpectOk(R({"--store", s, "kv", "set", "p", k, std::string("v") + k}), "");
  }
  ExpectOk(R({"--store", s, "kv", "set", "pa", "a0", "other partition"}), "");
  ExpectOk(R({"--store", s, "kv", "scan", "p"}), "a1\tva1\na2\tva2\na3\tva3\nb1\tvb1\nb2\tvb2\n");
  ExpectOk(R({"--store", s, "kv", "scan", "p", "--from", "a2", "--limit", "2"}),
           "a2\tva2\na3\tva3\n");
  ExpectOk(R({"--store", s, "kv", "scan", "p", "--prefix", "b"}), "b1\tvb1\nb2\tvb2\n");
  ExpectOk(R({"--store", s, "kv", "scan", "p", "--prefix", "a", "--from", "a3"}), "a3\tva3\n");
  ExpectOk(R({"--store", s, "kv", "scan", "p", "--prefix", "a", "--from", "0"}),
           "a1\tva1\na2\tva2\na3\tva3\n");
  ExpectOk(R({"--store", s, "kv", "scan", "p", "--prefix", "b", "--json"}),
           "[\n{\"key\":\"b1\",\"value\":\"vb1\"},\n{\"key\":\"b2\",\"value\":\"vb2\"}\n]\n");
  ExpectOk(R({"--store", s, "kv", "scan", "nothing-here"}), "");
  ExpectOk(R({"--store", s, "kv", "scan", "nothing-here", "--json"}), "[]\n");
  ExpectOk(R({"--store", s, "--hex", "kv", "scan", "70", "--prefix", "62", "--limit", "1"}),
           "6231\t766231\n");
}

TEST_F(CliTest, SetIfOnRocks) {
  const std::string s = Rocks();
  ExpectOk(R({"--store", s, "kv", "setif", "p", "k", "v1", "--absent"}), "");
  ExpectError(R({"--store", s, "kv", "setif", "p", "k", "v9", "--absent"}), 4, "absent");
  ExpectOk(R({"--store", s, "kv", "setif", "p", "k", "v2", "--expect", "v1"}), "");
  ExpectError(R({"--store", s, "kv", "setif", "p", "k", "v3", "--expect", "v1"}), 4, "v1");
  ExpectOk(R({"--store", s, "kv", "setif", "p", "k", "v4", "--exists"}), "");
  ExpectError(R({"--store", s, "kv", "setif", "p", "nokey", "v", "--exists"}), 4, "nokey");
  ExpectOk(R({"--store", s, "kv", "get", "p", "k"}), "v4");
  ExpectOk(R({"--store", s, "--hex", "kv", "setif", "70", "6b", "7635", "--expect", "7634"}), "");
  ExpectOk(R({"--store", s, "kv", "get", "p", "k"}), "v5");
}

TEST_F(CliTest, StoreInfoOnRocks) {
  const std::string s = Rocks();
  ExpectOk(R({"--store", s, "kv", "set", "p", "k", "v"}), "");
  RunResult text = R({"--store", s, "store", "info"});
  EXPECT_EQ(text.exit_code, 0) << Describe(text);
  for (const std::string& want :
       {std::string("driver          rocks\n"), "uri             " + s + " (from --store)\n",
        std::string("store id        "), std::string("format version  1 (this refkv: 1)\n"),
        "schema version  " + std::to_string(refstore::kCodeSchema) +
            " (this refkv: " + std::to_string(refstore::kCodeSchema) + ")\n",
        "writer version  " + std::string(kv::CodeVersion())}) {
    EXPECT_NE(text.out.find(want), std::string::npos) << want << "\n" << text.out;
  }
  RunResult json = R({"--store", s, "store", "info", "--json"});
  EXPECT_EQ(json.exit_code, 0) << Describe(json);
  EXPECT_EQ(json.out.rfind("{\"driver\":\"rocks\",\"uri\":\"" + s + "\"", 0), 0u) << json.out;
  EXPECT_NE(json.out.find("\"format_version\":1,"), std::string::npos) << json.out;
  EXPECT_NE(json.out.find("\"properties\":{"), std::string::npos) << json.out;
}

TEST_F(CliTest, DefaultStoreIsRocksDataInTheWorkingDirectory) {
  // A read on a store that does not exist is an error (1, not 3) and creates nothing.
  ExpectError(R({"kv", "get", "p", "k"}), 1, "'rocks://./refkv-data' (default)");
  EXPECT_EQ(Snapshot(dir_.path()), "");
  ExpectOk(R({"kv", "set", "p", "k", "v"}), "");
  EXPECT_TRUE(fs::is_directory(dir_.Sub("refkv-data")));
  ExpectOk(R({"kv", "get", "p", "k"}), "v");
  RunResult info = R({"store", "info"});
  EXPECT_NE(info.out.find("rocks://./refkv-data (default)"), std::string::npos) << info.out;
}

TEST_F(CliTest, ConfigFileAndEnvironmentReachTheDriver) {
  WriteFile(dir_.Sub("refkv.yaml"),
            "database:\n  type: rocks\n  rocks:\n    path: ./shared-store\n"
            "    partitions: shared\n");
  ExpectOk(R({"kv", "set", "p", "k", "v"}), "");
  EXPECT_TRUE(fs::is_directory(dir_.Sub("shared-store")));
  RunResult info = R({"store", "info"}, {{"REFKV_DATABASE_ROCKS_SYNC", "true"}});
  EXPECT_EQ(info.exit_code, 0) << Describe(info);
  EXPECT_NE(info.out.find("rocks://./shared-store?partitions=shared&sync=true (from refkv.yaml + "
                          "REFKV_DATABASE_*)"),
            std::string::npos)
      << info.out;
  EXPECT_NE(info.out.find("mapping         shared\n"), std::string::npos) << info.out;
  EXPECT_NE(info.out.find("sync            true\n"), std::string::npos) << info.out;
  ExpectOk(R({"kv", "get", "p", "k"}), "v");
  // REFKV_STORE wins over the file.
  ExpectError(R({"kv", "get", "p", "k"}, {{"REFKV_STORE", Rocks("elsewhere")}}), 1,
              "(from REFKV_STORE)");
}

TEST_F(CliTest, StorePathThatIsARegularFileIsLeftAlone) {
  const std::string file = dir_.Sub("plain.txt");
  WriteFile(file, "not a store\n");
  for (const auto& command : std::vector<std::vector<std::string>>{
           {"kv", "set", "p", "k", "v"}, {"kv", "get", "p", "k"}, {"store", "info"}}) {
    std::vector<std::string> args = {"--store", "rocks://" + file};
    args.insert(args.end(), command.begin(), command.end());
    ExpectError(R(args), 1, file);
  }
  EXPECT_EQ(ReadFile(file), "not a store\n");
  EXPECT_EQ(Snapshot(dir_.path()), "plain.txt = not a store\n\n");
}

TEST_F(CliTest, DirectoryThatIsNotAStoreIsLeftAlone) {
  const std::string foreign = dir_.Sub("photos");
  fs::create_directories(foreign + "/2024");
  WriteFile(foreign + "/a.jpg", "jpeg bytes");
  WriteFile(foreign + "/2024/b.txt", "notes");
  const std::string before = Snapshot(dir_.path());
  for (const auto& command : std::vector<std::vector<std::string>>{
           {"kv", "set", "p", "k", "v"}, {"kv", "get", "p", "k"}, {"store", "info"}}) {
    std::vector<std::string> args = {"--store", "rocks://" + foreign};
    args.insert(args.end(), command.begin(), command.end());
    ExpectError(R(args), 1, foreign);
  }
  EXPECT_EQ(Snapshot(dir_.path()), before);
}

TEST_F(CliTest, StoreInUseByAnotherProcessIsBusyNamingThePid) {
  const std::string s = Rocks();
  auto held = kv::Open(s);  // this test process holds the store
  ASSERT_TRUE(held.ok()) << held.status().ToString();
  ASSERT_TRUE((*held)->Set("p", "k", "v").ok());
  RunResult r = R({"--store", s, "kv", "set", "p", "k", "other"});
  ExpectError(r, 1, std::to_string(getpid()));
  auto value = (*held)->Get("p", "k");
  ASSERT_TRUE(value.ok());
  EXPECT_EQ(*value, "v");
  EXPECT_TRUE((*held)->Close().ok());
}

TEST_F(CliTest, StoreOfANewerVersionIsRefusedAndLeftAlone) {
  const std::string s = Rocks();
  {
    auto store = kv::Open(s);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    ASSERT_TRUE((*store)->Set(kv::kMetaPartition, kv::kMetaFormatVersion, "99").ok());
    ASSERT_TRUE((*store)->Set(kv::kMetaPartition, kv::kMetaWriterVersion, "9.9.9").ok());
    ASSERT_TRUE((*store)->Close().ok());
  }
  ExpectError(R({"--store", s, "kv", "set", "p", "k", "v"}), 1, "99");
  ExpectError(R({"--store", s, "kv", "get", "p", "k"}), 1, "9.9.9");
  ExpectError(R({"--store", s, "store", "info"}), 1, "format version 99");
  kv::OpenOptions raw;
  raw.skip_metadata = true;
  auto store = kv::Open(s, raw);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  EXPECT_EQ((*store)->Get(kv::kMetaPartition, kv::kMetaFormatVersion).value_or(""), "99");
  EXPECT_EQ((*store)->Get(kv::kMetaPartition, kv::kMetaWriterVersion).value_or(""), "9.9.9");
  EXPECT_TRUE((*store)->Get("p", "k").status().IsNotFound());
}

TEST_F(CliTest, WriteVerbsRefuseTheMetadataPartition) {
  const std::string s = Rocks();
  ExpectOk(R({"--store", s, "kv", "set", "p", "k", "v"}), "");
  const std::string meta(kv::kMetaPartition);
  const std::string key(kv::kMetaFormatVersion);
  for (const auto& command :
       std::vector<std::vector<std::string>>{{"kv", "set", meta, key, "99"},
                                             {"kv", "setif", meta, key, "99", "--exists"},
                                             {"kv", "del", meta, key}}) {
    std::vector<std::string> args = {"--store", s};
    args.insert(args.end(), command.begin(), command.end());
    ExpectError(R(args), 2, "refkv migrate");
  }
  // Reads stay allowed, and the store still opens: nothing was written.
  RunResult got = R({"--store", s, "kv", "get", meta, key});
  EXPECT_EQ(got.exit_code, 0) << Describe(got);
  EXPECT_NE(got.out, "99");
  ExpectOk(R({"--store", s, "kv", "get", "p", "k"}), "v");
}

TEST_F(CliTest, QuickstartUsesAScratchStoreByDefault) {
  RunResult r = R({"quickstart", "--keys", "5000"});
  EXPECT_EQ(r.exit_code, 0) << Describe(r);
  EXPECT_NE(r.out.find("rocks://./refkv-quickstart"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("driver          rocks"), std::string::npos) << r.out;
  EXPECT_TRUE(fs::is_directory(dir_.Sub("refkv-quickstart")));
  EXPECT_FALSE(fs::exists(dir_.Sub("refkv-data")));
  // It cleans up after itself: only the metadata partition is left.
  RunResult partitions = R({"--store", "rocks://./refkv-quickstart", "kv", "partitions"});
  ExpectOk(partitions, std::string(kv::kMetaPartition) + "\n");
}

// ---- PostgreSQL -------------------------------------------------------------------

// `store info` and every kv command against a throwaway PostgreSQL server.
TEST(CliPostgres, StoreInfoAndEveryKvCommand) {
  auto server = testing::PgServer::Create();
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  testing::TempDir dir("cli-pg");
  const std::string uri = (*server)->Uri();
  auto run = [&](std::vector<std::string> args) {
    args.insert(args.begin(), {"--store", uri});
    return RunRefkv(dir.path(), std::move(args));
  };
  RunResult set = run({"kv", "set", "p", "k", "v1"});
  ASSERT_EQ(set.exit_code, 0) << Describe(set);
  ExpectOk(run({"kv", "get", "p", "k"}), "v1");
  EXPECT_EQ(run({"kv", "setif", "p", "k", "v2", "--expect", "v1"}).exit_code, 0);
  ExpectError(run({"kv", "setif", "p", "k", "v3", "--expect", "v1"}), 4, "");
  ExpectError(run({"kv", "setif", "p", "k", "v3", "--absent"}), 4, "");
  EXPECT_EQ(run({"kv", "setif", "p", "k2", "w", "--absent"}).exit_code, 0);
  EXPECT_EQ(run({"kv", "setif", "p", "k2", "w2", "--exists"}).exit_code, 0);
  ExpectOk(run({"kv", "scan", "p"}), "k\tv2\nk2\tw2\n");
  ExpectOk(run({"kv", "scan", "p", "--from", "k2"}), "k2\tw2\n");
  EXPECT_EQ(run({"kv", "del", "p", "k"}).exit_code, 0);
  ExpectError(run({"kv", "get", "p", "k"}), 3, "");
  RunResult info = run({"store", "info"});
  EXPECT_EQ(info.exit_code, 0) << Describe(info);
  EXPECT_NE(info.out.find("driver          postgres\n"), std::string::npos) << info.out;
  RunResult json = run({"store", "info", "--json"});
  EXPECT_EQ(json.exit_code, 0) << Describe(json);
  EXPECT_EQ(json.out.rfind("{\"driver\":\"postgres\"", 0), 0u) << json.out;
}

}  // namespace
}  // namespace refkv::cli
