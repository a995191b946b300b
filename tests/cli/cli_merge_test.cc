// End-to-end tests of merge, revert, cherry-pick, `branch reset --to` and `entry reset`:
// outcomes, `! PATH` conflict lines and their exit code, --json pages, refusals.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "cli/exit_code.h"
#include "tests/cli/refkv_runner.h"
#include "tests/cli/store_cli_test.h"

namespace refkv::cli {
namespace {

using testing::Describe;
using testing::RunResult;

class CliMergeTest : public testing::StoreCliTest {
 protected:
  CliMergeTest() : StoreCliTest("cli-merge") {}
  std::string Head(const std::string& branch) {
    std::string out = Ok({"show", "r", branch}).out;
    return out.substr(7, out.find('\n') - 7);  // "commit ID"
  }
};

TEST_F(CliMergeTest, MergeConflictsRevertAndResets) {
  Ok({"repo", "create", "r"});
  Ok({"entry", "put", "r", "main", "a", "0"});
  Ok({"entry", "put", "r", "main", "b", "0"});
  Ok({"commit", "r", "main", "-m", "base"});
  const std::string base = Head("main");
  Ok({"branch", "create", "r", "f", "--from", "main"});
  Ok({"entry", "put", "r", "f", "a", "src"});
  Ok({"entry", "put", "r", "f", "b", "src"});
  Ok({"commit", "r", "f", "-m", "f"});
  Ok({"entry", "put", "r", "main", "a", "dst"});
  Ok({"entry", "rm", "r", "main", "b"});
  Ok({"commit", "r", "main", "-m", "m"});
  const std::string head = Head("main");

  RunResult conflicts = R({"merge", "r", "f", "main"});
  EXPECT_EQ(conflicts.exit_code, kExitMergeConflicts) << Describe(conflicts);
  EXPECT_EQ(conflicts.out, "! a\n! b\n");
  EXPECT_NE(conflicts.err.find("nothing written"), std::string::npos);
  EXPECT_EQ(Head("main"), head);
  RunResult page = R({"merge", "r", "f", "main", "--limit", "1", "--json"});
  EXPECT_EQ(page.exit_code, kExitMergeConflicts) << Describe(page);
  EXPECT_NE(page.out.find("\"path\":\"a\",\"base\":\"0\",\"source\":\"src\",\"dest\":\"dst\""),
            std::string::npos)
      << page.out;
  EXPECT_NE(page.out.find("\"next_after\":\"a\""), std::string::npos) << page.out;
  RunResult rest = R({"merge", "r", "f", "main", "--after", "a", "--json"});
  EXPECT_NE(rest.out.find("\"path\":\"b\",\"base\":\"0\",\"source\":\"src\",\"dest\":null"),
            std::string::npos)
      << rest.out;
  EXPECT_EQ(R({"merge", "r", "f", "main", "--strategy", "nope"}).exit_code, kExitUsage);
  EXPECT_EQ(R({"merge", "r", "f", "main", "--ff", "only"}).exit_code, kExitPredicateFailed);
  EXPECT_EQ(R({"merge", "r", "nope", "main"}).exit_code, kExitNotFound);

  // Staged writes refuse the merge (naming the branch) unless kept.
  Ok({"entry", "put", "r", "main", "s", "1"});
  RunResult staged = R({"merge", "r", "f", "main", "--strategy", "source-wins"});
  EXPECT_EQ(staged.exit_code, kExitPredicateFailed) << Describe(staged);
  EXPECT_NE(staged.err.find("'main'"), std::string::npos);
  RunResult merged =
      Ok({"merge", "r", "f", "main", "--strategy", "source-wins", "--keep-staged", "-m", "mm"});
  EXPECT_EQ(merged.out.rfind("merged ", 0), 0u) << merged.out;
  EXPECT_EQ(Ok({"entry", "get", "r", "main", "a"}).out, "src");
  EXPECT_EQ(Ok({"entry", "get", "r", "main", "s"}).out, "1");
  const std::string merge_commit = Head("main");

  // entry reset drops the staged write; revert needs --parent for the merge commit.
  Ok({"entry", "reset", "r", "main", "s"});
  EXPECT_EQ(R({"entry", "get", "r", "main", "s"}).exit_code, kExitNotFound);
  EXPECT_EQ(R({"entry", "reset", "r", "main"}).exit_code, kExitUsage);
  RunResult no_parent = R({"revert", "r", "main", merge_commit});
  EXPECT_EQ(no_parent.exit_code, kExitUsage) << Describe(no_parent);
  EXPECT_NE(no_parent.err.find("parent number"), std::string::npos);
  EXPECT_EQ(Ok({"revert", "r", "main", merge_commit, "--parent", "1"}).out.rfind("merged ", 0), 0u);
  EXPECT_EQ(Ok({"entry", "get", "r", "main", "a"}).out, "dst");
  // Picking f's change again conflicts with main's own (a changed, b deleted) unless told.
  EXPECT_EQ(R({"cherry-pick", "r", "main", "f"}).exit_code, kExitMergeConflicts);
  EXPECT_EQ(
      Ok({"cherry-pick", "r", "main", "f", "--strategy", "source-wins"}).out.rfind("merged ", 0),
      0u);
  EXPECT_EQ(Ok({"entry", "get", "r", "main", "b"}).out, "src");

  // branch reset --to: expected head, then a move; without --to it discards staged writes.
  EXPECT_EQ(R({"branch", "reset", "r", "main", "--to", base, "--expect-head", "0123"}).exit_code,
            kExitPredicateFailed);
  Ok({"entry", "put", "r", "main", "t", "1"});
  EXPECT_EQ(R({"branch", "reset", "r", "main", "--to", base}).exit_code, kExitPredicateFailed);
  Ok({"branch", "reset", "r", "main", "--to", base, "--discard-staged"});
  EXPECT_EQ(Head("main"), base);
  EXPECT_EQ(R({"entry", "get", "r", "main", "t"}).exit_code, kExitNotFound);
  Ok({"entry", "put", "r", "main", "t", "1"});
  Ok({"branch", "reset", "r", "main"});
  EXPECT_EQ(R({"entry", "get", "r", "main", "t"}).exit_code, kExitNotFound);
}

}  // namespace
}  // namespace refkv::cli
