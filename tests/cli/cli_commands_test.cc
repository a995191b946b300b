// End-to-end tests of the refkv command groups beyond kv/store: the ref store (repo,
// branch, entry, commit, log, show, tag, diff, gc), the file formats (export, import,
// dump verify/inspect, kv migrate) and the schema migration commands. Each test runs the
// built binary in a fresh directory on a RocksDB store.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cli/exit_code.h"
#include "engine/open.h"
#include "engine/store.h"
#include "refstore/refstore.h"
#include "tests/cli/refkv_runner.h"
#include "tests/cli/store_cli_test.h"
#include "tests/support/temp_dir.h"

namespace refkv::cli {
namespace {

using testing::Describe;
using testing::ReadFile;
using testing::RunRefkv;
using testing::RunResult;
using testing::WriteFile;

// Braces and brackets outside strings balance, and the text is one value: a cheap
// structural check of --json output (no JSON library in the build).
bool LooksLikeJson(const std::string& text) {
  int depth = 0;
  bool in_string = false, escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
      else if (static_cast<unsigned char>(c) < 0x20)
        return false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']') {
      if (--depth < 0) return false;
    }
  }
  return depth == 0 && !in_string && !text.empty() && (text[0] == '{' || text[0] == '[');
}

class CliCommandsTest : public testing::StoreCliTest {
 protected:
  CliCommandsTest() : StoreCliTest("cli-cmd") {}
};

TEST(ExitCodes, ConflictIsFiveAndDocumented) {
  EXPECT_EQ(ExitCodeFor(Status::Conflict("x"), Phase::kCommand), 5);
  EXPECT_EQ(ExitCodeFor(Status::Conflict("x"), Phase::kSetup), 1);
  EXPECT_NE(std::string(kExitCodeHelp).find("5 conflict"), std::string::npos);
  EXPECT_EQ(ExitCodeFor(Status::VersionMismatch("x"), Phase::kCommand), 6);
  EXPECT_EQ(ExitCodeFor(Status::Busy("x"), Phase::kCommand), 7);
  EXPECT_EQ(ExitCodeFor(Status::Busy("x"), Phase::kSetup), 1);
}

TEST_F(CliCommandsTest, RefStoreHappyPathAndJson) {
  EXPECT_EQ(Ok({"repo", "create", "r1"}).out, "created repository r1 (default branch main)\n");
  RunResult list = Ok({"repo", "list", "--json"});
  EXPECT_TRUE(LooksLikeJson(list.out)) << list.out;
  EXPECT_NE(list.out.find("\"name\":\"r1\""), std::string::npos) << list.out;
  Ok({"entry", "put", "r1", "main", "a", "1"});
  WriteFile(dir_.Sub("v"), "from file");
  Ok({"entry", "put", "r1", "main", "b", "--file", dir_.Sub("v")});
  EXPECT_EQ(Ok({"diff", "r1", "main", "--uncommitted"}).out, "+ a\t1\n+ b\tfrom file\n");
  RunResult commit = Ok({"commit", "r1", "main", "-m", "first", "--meta", "k=v", "--json"});
  EXPECT_TRUE(LooksLikeJson(commit.out)) << commit.out;
  EXPECT_NE(commit.out.find("\"outcome\":\"committed\""), std::string::npos) << commit.out;
  EXPECT_NE(commit.out.find("\"metadata\":{\"k\":\"v\"}"), std::string::npos) << commit.out;
  // Nothing staged: a clear message, exit 0.
  RunResult again = Ok({"commit", "r1", "main", "-m", "again"});
  EXPECT_EQ(again.out.rfind("no changes", 0), 0u) << again.out;
  // Staged writes of values the head holds (as when a concurrent commit took them first
  // and another found nothing left: tests/refstore/refstore_commit_test.cc) change
  // nothing: the same message, not a conflict.
  Ok({"entry", "put", "r1", "main", "a", "1"});
  RunResult noop = Ok({"commit", "r1", "main", "-m", "noop"});
  EXPECT_EQ(noop.out.rfind("no changes: nothing staged on r1/main differs from its head; "
                           "head stays ",
                           0),
            0u)
      << noop.out;

  Ok({"branch", "create", "r1", "dev", "--from", "main"});
  Ok({"entry", "put", "r1", "dev", "c", "3"});
  Ok({"entry", "rm", "r1", "dev", "a"});
  Ok({"commit", "r1", "dev", "-m", "dev work"});
  EXPECT_EQ(Ok({"diff", "r1", "main", "dev"}).out, "- a\n+ c\t3\n");
  RunResult diff_json = Ok({"diff", "r1", "main", "dev", "--json"});
  EXPECT_TRUE(LooksLikeJson(diff_json.out)) << diff_json.out;
  EXPECT_NE(diff_json.out.find("\"kind\":\"removed\""), std::string::npos);
  EXPECT_EQ(Ok({"entry", "get", "r1", "main", "b"}).out, "from file");
  EXPECT_EQ(Ok({"entry", "ls", "r1", "dev"}).out, "b\tfrom file\nc\t3\n");
  EXPECT_EQ(Ok({"entry", "ls", "r1", "dev", "--limit", "1"}).out, "b\tfrom file\n");
  RunResult ls = Ok({"entry", "ls", "r1", "dev", "--json", "--prefix", "c"});
  EXPECT_TRUE(LooksLikeJson(ls.out)) << ls.out;
  EXPECT_NE(ls.out.find("{\"path\":\"c\",\"value\":\"3\"}"), std::string::npos) << ls.out;
  // --names-only: paths alone (text: one per line; JSON: {"path":..}).
  EXPECT_EQ(Ok({"entry", "ls", "r1", "dev", "--names-only"}).out, "b\nc\n");
  RunResult names = Ok({"entry", "ls", "r1", "dev", "--names-only", "--json", "--limit", "1"});
  EXPECT_TRUE(LooksLikeJson(names.out)) << names.out;
  EXPECT_NE(names.out.find("{\"path\":\"b\"}"), std::string::npos) << names.out;
  EXPECT_EQ(names.out.find("value"), std::string::npos) << names.out;
  EXPECT_NE(names.out.find("\"next_after\":\"b\""), std::string::npos) << names.out;

  RunResult log = Ok({"log", "r1", "dev", "--json"});
  EXPECT_TRUE(LooksLikeJson(log.out)) << log.out;
  EXPECT_NE(log.out.find("\"message\":\"dev work\""), std::string::npos);
  EXPECT_NE(log.out.find("\"message\":\"first\""), std::string::npos);
  EXPECT_EQ(Ok({"log", "r1", "dev", "--limit", "1", "--json"}).out.find("\"first\""),
            std::string::npos);

  Ok({"tag", "create", "r1", "v1", "dev"});
  RunResult tags = Ok({"tag", "list", "r1", "--json"});
  EXPECT_NE(tags.out.find("\"name\":\"v1\""), std::string::npos) << tags.out;
  RunResult show = Ok({"show", "r1", "v1"});
  EXPECT_NE(show.out.find("dev work"), std::string::npos) << show.out;
  EXPECT_EQ(Ok({"entry", "get", "r1", "v1", "c"}).out, "3");
  Ok({"tag", "delete", "r1", "v1"});
  Ok({"branch", "reset", "r1", "dev"});
  Ok({"branch", "delete", "r1", "dev"});
  EXPECT_EQ(Ok({"branch", "list", "r1"}).out.find("dev"), std::string::npos);
  Ok({"gc", "--grace", "0"});
  Ok({"repo", "delete", "r1"});
  EXPECT_EQ(Ok({"repo", "list"}).out, "");
}

TEST_F(CliCommandsTest, RefStoreExitCodes) {
  Ok({"repo", "create", "r1"});
  EXPECT_EQ(R({"entry", "get", "r1", "main", "nope"}).exit_code, kExitNotFound);
  EXPECT_EQ(R({"entry", "get", "r1", "nobranch", "a"}).exit_code, kExitNotFound);
  EXPECT_EQ(R({"log", "nosuchrepo", "main"}).exit_code, kExitNotFound);
  EXPECT_EQ(R({"show", "r1", "v9"}).exit_code, kExitNotFound);
  EXPECT_EQ(R({"commit", "r1", "main"}).exit_code, kExitUsage);  // no -m
  EXPECT_EQ(R({"commit", "r1", "main", "-m", "x", "--meta", "novalue"}).exit_code, kExitUsage);
  EXPECT_EQ(R({"repo", "create", "bad name!"}).exit_code, kExitUsage);
  EXPECT_EQ(R({"branch", "create", "r1", "b"}).exit_code, kExitUsage);  // no --from
  Ok({"entry", "put", "r1", "main", "a", "1"});
  RunResult pred = R({"commit", "r1", "main", "-m", "x", "--expect-parent", "0123"});
  EXPECT_EQ(pred.exit_code, kExitPredicateFailed) << Describe(pred);
  // The staged write survived the refused commit.
  EXPECT_EQ(Ok({"diff", "r1", "main", "--uncommitted"}).out, "+ a\t1\n");
}

// repo/branch/tag list page by name with --limit and --after; --json names the next page.
TEST_F(CliCommandsTest, ListingsPage) {
  for (const std::string r : {"ra", "rb", "rc"}) Ok({"repo", "create", r});
  for (const std::string b : {"b1", "b2"}) Ok({"branch", "create", "ra", b, "--from", "main"});
  for (const std::string t : {"t1", "t2", "t3"}) Ok({"tag", "create", "ra", t, "main"});
  EXPECT_EQ(Ok({"repo", "list", "--limit", "2"}).out, "ra\tmain\nrb\tmain\n");
  EXPECT_EQ(Ok({"repo", "list", "--after", "rb"}).out, "rc\tmain\n");
  RunResult first = Ok({"repo", "list", "--limit", "2", "--json"});
  EXPECT_TRUE(LooksLikeJson(first.out)) << first.out;
  EXPECT_NE(first.out.find("\"next_after\":\"rb\""), std::string::npos) << first.out;
  RunResult last = Ok({"repo", "list", "--limit", "2", "--after", "rb", "--json"});
  EXPECT_NE(last.out.find("\"name\":\"rc\""), std::string::npos) << last.out;
  EXPECT_NE(last.out.find("\"next_after\":\"\""), std::string::npos) << last.out;
  // branches: b1 b2 main
  RunResult b = Ok({"branch", "list", "ra", "--limit", "1", "--after", "b1", "--json"});
  EXPECT_NE(b.out.find("{\"branches\":[{\"name\":\"b2\""), std::string::npos) << b.out;
  EXPECT_NE(b.out.find("\"next_after\":\"b2\""), std::string::npos) << b.out;
  EXPECT_EQ(Ok({"branch", "list", "ra", "--after", "b2"}).out.rfind("main\t", 0), 0u);
  RunResult t = Ok({"tag", "list", "ra", "--limit", "2", "--json"});
  EXPECT_NE(t.out.find("\"next_after\":\"t2\""), std::string::npos) << t.out;
  EXPECT_EQ(t.out.find("\"t3\""), std::string::npos) << t.out;
  EXPECT_EQ(Ok({"tag", "list", "ra", "--after", "t2"}).out.rfind("t3\t", 0), 0u);
}

TEST_F(CliCommandsTest, EntryLoadValidatesEveryLineFirst) {
  Ok({"repo", "create", "r1"});
  WriteFile(dir_.Sub("bad.jsonl"),
            "{\"path\":\"x\",\"value\":\"1\"}\n\n{\"path\":\"y\",\"value\":\"2\",}\n");
  RunResult bad = R({"entry", "load", "r1", "main", dir_.Sub("bad.jsonl")});
  EXPECT_EQ(bad.exit_code, kExitUsage) << Describe(bad);
  EXPECT_NE(bad.err.find("bad.jsonl:3:"), std::string::npos) << Describe(bad);
  EXPECT_EQ(Ok({"diff", "r1", "main", "--uncommitted"}).out, "");  // nothing staged

  WriteFile(dir_.Sub("good.jsonl"),
            "{\"path\":\"x\",\"value\":\"a\\u00e9\"}\n{\"path\":\"y\",\"value_b64\":\"AAE=\"}\n");
  Ok({"entry", "load", "r1", "main", dir_.Sub("good.jsonl")});
  Ok({"commit", "r1", "main", "-m", "load"});
  EXPECT_EQ(Ok({"entry", "get", "r1", "main", "x"}).out, "a\xc3\xa9");
  EXPECT_EQ(Ok({"entry", "get", "r1", "main", "y"}).out, std::string("\x00\x01", 2));
}

TEST_F(CliCommandsTest, DumpRoundTripAndCorruptImportWritesNothing) {
  Ok({"repo", "create", "r1"});
  Ok({"entry", "put", "r1", "main", "a", "1"});
  Ok({"commit", "r1", "main", "-m", "one"});
  Ok({"export", "-o", dir_.Sub("x.dump")});
  EXPECT_NE(Ok({"dump", "verify", dir_.Sub("x.dump")}).out.find("ok: "), std::string::npos);
  RunResult inspect = Ok({"dump", "inspect", dir_.Sub("x.dump"), "--json"});
  EXPECT_TRUE(LooksLikeJson(inspect.out)) << inspect.out;
  EXPECT_NE(inspect.out.find("\"source_driver\":\"rocks\""), std::string::npos);

  // The committed data travels with the dump: the imported store reads the commit.
  Ok({"import", dir_.Sub("x.dump")}, "copy");
  EXPECT_EQ(Ok({"entry", "get", "r1", "main", "a"}, "copy").out, "1");
  // A second import of the same keys fails under the default --on-conflict fail.
  EXPECT_EQ(R({"import", dir_.Sub("x.dump")}, "copy").exit_code, kExitError);
  Ok({"import", dir_.Sub("x.dump"), "--on-conflict", "skip"}, "copy");

  std::string bytes = ReadFile(dir_.Sub("x.dump"));
  ASSERT_GT(bytes.size(), 200u);
  for (size_t i = 150; i < 160; ++i) bytes[i] ^= 0x5a;
  WriteFile(dir_.Sub("bad.dump"), bytes);
  RunResult verify = R({"dump", "verify", dir_.Sub("bad.dump")});
  EXPECT_EQ(verify.exit_code, kExitError) << Describe(verify);
  EXPECT_NE(verify.err.find("bad.dump"), std::string::npos) << Describe(verify);
  EXPECT_NE(verify.err.find("offset"), std::string::npos) << Describe(verify);
  RunResult import = R({"import", dir_.Sub("bad.dump")}, "empty");
  EXPECT_EQ(import.exit_code, kExitError) << Describe(import);
  // The failed import created no store (not even an empty one).
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("empty")));
  EXPECT_EQ(R({"import", dir_.Sub("missing.dump")}).exit_code, kExitNotFound);
  EXPECT_EQ(R({"import", dir_.Sub("x.dump"), "--on-conflict", "maybe"}).exit_code, kExitUsage);
}

TEST_F(CliCommandsTest, SstExportImportAndKvMigrate) {
  Ok({"repo", "create", "r1"});
  Ok({"entry", "put", "r1", "main", "a", "1"});
  Ok({"commit", "r1", "main", "-m", "one"});
  Ok({"export", "--format", "sst", "-o", dir_.Sub("sst")});
  Ok({"import", dir_.Sub("sst")}, "fromsst");
  EXPECT_EQ(R({"export", "--format", "tar", "-o", dir_.Sub("t")}).exit_code, kExitUsage);
  // A corrupt SST file: exit 1 naming the file, and nothing is written.
  std::string sst_file;
  for (const auto& e : std::filesystem::directory_iterator(dir_.Sub("sst"))) {
    if (e.path().extension() == ".sst") sst_file = e.path().string();
  }
  ASSERT_FALSE(sst_file.empty());
  std::string bytes = ReadFile(sst_file);
  for (size_t i = 0; i < 16 && i < bytes.size(); ++i) bytes[bytes.size() / 2 + i] ^= 0x33;
  WriteFile(sst_file, bytes);
  RunResult bad = R({"import", dir_.Sub("sst")}, "badsst");
  EXPECT_EQ(bad.exit_code, kExitError) << Describe(bad);
  EXPECT_NE(bad.err.find(".sst"), std::string::npos) << Describe(bad);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("badsst")));  // no store created
  EXPECT_EQ(Ok({"entry", "get", "r1", "main", "a"}, "fromsst").out, "1");

  RunResult copy = RunRefkv(dir_.path(), {"kv", "migrate", "--from", "rocks://" + dir_.Sub("store"),
                                          "--to", "rocks://" + dir_.Sub("migrated")});
  EXPECT_EQ(copy.exit_code, 0) << Describe(copy);
  EXPECT_EQ(copy.out.rfind("partition\tsource_records\ttarget_records", 0), 0u) << copy.out;
  EXPECT_EQ(copy.out.find("MISMATCH"), std::string::npos) << copy.out;
  EXPECT_EQ(Ok({"entry", "get", "r1", "main", "a"}, "migrated").out, "1");
  RunResult again =
      RunRefkv(dir_.path(), {"kv", "migrate", "--from", "rocks://" + dir_.Sub("store"), "--to",
                             "rocks://" + dir_.Sub("migrated")});
  EXPECT_NE(again.exit_code, 0) << Describe(again);  // target not empty
}

// Issue 14 item 7: a value or a partition name a dump or an SST export could not carry
// is refused when it is written (exit 2, nothing written), and what the limits allow
// travels through both formats.
TEST_F(CliCommandsTest, WritesBeyondTheLimitsAreUsageErrors) {
  Ok({"repo", "create", "r1"});
  {
    std::ofstream big(dir_.Sub("70mb"), std::ios::binary);
    big << std::string(70'000'000, 'v');
  }
  RunResult put = R({"entry", "put", "r1", "main", "big", "--file", dir_.Sub("70mb")});
  EXPECT_EQ(put.exit_code, kExitUsage) << Describe(put);
  EXPECT_NE(put.err.find("70000000 bytes"), std::string::npos) << Describe(put);
  EXPECT_NE(put.err.find("refstore::kMaxEntryValueBytes"), std::string::npos) << Describe(put);
  const std::string staged = Ok({"diff", "r1", "main", "--uncommitted"}).out;
  EXPECT_TRUE(staged.empty()) << staged.size() << " bytes of staged changes";
  std::filesystem::remove(dir_.Sub("70mb"));

  const std::string long_p(70'000, 'p');
  RunResult set = R({"kv", "set", long_p, "k", "v"});
  EXPECT_EQ(set.exit_code, kExitUsage) << Describe(set);
  EXPECT_NE(set.err.find("kv::kMaxPartitionBytes"), std::string::npos) << Describe(set);
  EXPECT_EQ(set.err.find('\n'), set.err.size() - 1) << "one line: " << Describe(set);
  EXPECT_EQ(Ok({"kv", "partitions"}).out.find("ppp"), std::string::npos);
  // Refused before the store is opened: a missing store is not even created.
  RunResult setif = R({"kv", "setif", long_p, "k", "v", "--absent"}, "fresh");
  EXPECT_EQ(setif.exit_code, kExitUsage) << Describe(setif);
  EXPECT_FALSE(std::filesystem::exists(dir_.Sub("fresh")));
}

TEST_F(CliCommandsTest, NamesAndValuesAtTheLimitsTravelThroughDumpAndSst) {
  const std::string p(kv::kMaxPartitionBytes, 'p'), k(kv::kMaxKeyBytes, 'k');
  const std::string path(refstore::kMaxPathBytes, 'f');
  Ok({"kv", "set", p, k, "v"});
  Ok({"repo", "create", "r1"});
  {
    std::ofstream value(dir_.Sub("value"), std::ios::binary);
    value << std::string(refstore::kMaxEntryValueBytes, 'e');
  }
  Ok({"entry", "put", "r1", "main", path, "--file", dir_.Sub("value")});
  Ok({"commit", "r1", "main", "-m", "max"});
  Ok({"export", "-o", dir_.Sub("max.dump")});
  Ok({"export", "--format", "sst", "-o", dir_.Sub("max.sst")});
  for (const std::string target : {"fromdump", "fromsst"}) {
    SCOPED_TRACE(target);
    Ok({"import", dir_.Sub(target == "fromdump" ? "max.dump" : "max.sst")}, target);
    EXPECT_EQ(Ok({"kv", "get", p, k}, target).out, "v");
    RunResult got = Ok({"entry", "get", "r1", "main", path}, target);
    EXPECT_TRUE(got.out == std::string(refstore::kMaxEntryValueBytes, 'e'))
        << got.out.size() << " bytes";
  }
}

TEST_F(CliCommandsTest, MigrateVersionJson) {
  Ok({"repo", "create", "r1"});
  RunResult v = Ok({"migrate", "version", "--json"});
  EXPECT_TRUE(LooksLikeJson(v.out)) << v.out;
  for (const char* field : {"\"store_schema\":", "\"code_schema\":",
                            "\"oldest_upgradable_schema\":", "\"state\":\"ready\""}) {
    EXPECT_NE(v.out.find(field), std::string::npos) << field << " in " << v.out;
  }
  Ok({"migrate", "status"});
  Ok({"migrate", "plan"});
  Ok({"migrate", "up", "--no-backup"});
  RunResult too_far = R({"migrate", "up", "--to", "99"});
  EXPECT_EQ(too_far.exit_code, kExitVersionMismatch) << Describe(too_far);
  EXPECT_EQ(R({"migrate", "down"}).exit_code, kExitUsage);  // --to required
  Ok({"migrate", "unlock", "--force"});
  EXPECT_NE(Ok({"migrate", "version"}).out.find("state ready"), std::string::npos);
}

TEST_F(CliCommandsTest, CheckPassesOnAFreshStoreAndNamesACorruptRange) {
  Ok({"repo", "create", "r1"});
  Ok({"entry", "put", "r1", "main", "a", "1"});
  Ok({"commit", "r1", "main", "-m", "one"});
  Ok({"tag", "create", "r1", "v1", "main"});
  RunResult fresh = Ok({"check"});
  EXPECT_EQ(fresh.out.rfind("ok: 1 repositories, 1 branches, 1 tags, 2 commits, 1 metaranges", 0),
            0u)
      << fresh.out;
  RunResult json = Ok({"check", "--json"});
  EXPECT_TRUE(LooksLikeJson(json.out)) << json.out;
  EXPECT_NE(json.out.find("\"ok\":true"), std::string::npos) << json.out;

  // Overwrite the first chunk of the one stored range.
  RunResult chunks = Ok({"kv", "scan", "refstore.ranges", "--prefix", "rc/"});
  ASSERT_FALSE(chunks.out.empty());
  std::string key = chunks.out.substr(0, chunks.out.find('\t'));
  std::string range_id = key.substr(3, key.find('/', 3) - 3);
  Ok({"kv", "set", "refstore.ranges", key, "garbage"});
  RunResult bad = R({"check"});
  EXPECT_EQ(bad.exit_code, kExitError) << Describe(bad);
  EXPECT_NE(bad.out.find("repo r1 commit "), std::string::npos) << Describe(bad);
  EXPECT_NE(bad.out.find(range_id), std::string::npos) << Describe(bad);
  RunResult bad_json = R({"check", "--json"});
  EXPECT_NE(bad_json.out.find("\"ok\":false"), std::string::npos) << Describe(bad_json);
}

TEST_F(CliCommandsTest, AutoMigrateInTheConfigOpensAndMigrates) {
  WriteFile(dir_.Sub("refkv.yaml"), "database:\n  auto_migrate: true\n  rocks:\n    path: ./s\n");
  RunResult set = RunRefkv(dir_.path(), {"kv", "set", "p", "k", "v"});
  EXPECT_EQ(set.exit_code, 0) << Describe(set);
  RunResult v = RunRefkv(dir_.path(), {"migrate", "version", "--json"});
  EXPECT_EQ(v.exit_code, 0) << Describe(v);
  EXPECT_NE(v.out.find("\"state\":\"ready\""), std::string::npos) << v.out;
  // store_schema == code_schema after an auto-migrating open.
  auto field = [&](const std::string& name) {
    size_t at = v.out.find("\"" + name + "\":");
    return at == std::string::npos ? -1 : std::stoll(v.out.substr(at + name.size() + 3));
  };
  EXPECT_EQ(field("store_schema"), field("code_schema")) << v.out;
  WriteFile(dir_.Sub("refkv.yaml"), "database:\n  auto_migrate: maybe\n");
  RunResult bad = RunRefkv(dir_.path(), {"kv", "set", "p", "k", "v"});
  EXPECT_EQ(bad.exit_code, kExitError) << Describe(bad);
  EXPECT_NE(bad.err.find("refkv.yaml:2"), std::string::npos) << Describe(bad);
}

}  // namespace
}  // namespace refkv::cli
