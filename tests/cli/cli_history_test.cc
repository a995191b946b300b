// refkv resolve / merge-base / is-ancestor and ref expressions on the command line:
// output, --json and the documented exit codes (cli/history_commands.cc).
#include <gtest/gtest.h>

#include <string>

#include "tests/cli/store_cli_test.h"

namespace refkv::testing {
namespace {

class CliHistoryTest : public StoreCliTest {
 protected:
  CliHistoryTest() : StoreCliTest("cli-history") {}

  std::string Id(const std::vector<std::string>& args) {
    std::string out = Ok(args).out;
    if (!out.empty() && out.back() == '\n') out.pop_back();
    return out;
  }
};

TEST_F(CliHistoryTest, ExpressionsMergeBaseIsAncestorAndExitCodes) {
  Ok({"repo", "create", "r"});
  Ok({"entry", "put", "r", "main", "a", "1"});
  Ok({"commit", "r", "main", "-m", "one"});
  const std::string one = Id({"resolve", "r", "main"});
  Ok({"branch", "create", "r", "dev", "--from", "main"});
  Ok({"entry", "put", "r", "main", "a", "2"});
  Ok({"commit", "r", "main", "-m", "two"});
  Ok({"entry", "put", "r", "dev", "b", "1"});
  Ok({"commit", "r", "dev", "-m", "dev"});
  EXPECT_EQ(one.size(), 32u);
  EXPECT_EQ(Id({"resolve", "r", "main~1"}), one);
  EXPECT_EQ(Id({"resolve", "r", one.substr(0, 8)}), one);
  EXPECT_EQ(Id({"merge-base", "r", "main", "dev"}), one);
  EXPECT_EQ(Ok({"merge-base", "r", "main", "dev", "--json"}).out,
            "{\"merge_base\":\"" + one + "\"}\n");
  // Expressions wherever a ref is taken.
  EXPECT_EQ(Ok({"entry", "get", "r", "main^", "a"}).out, "1");
  EXPECT_EQ(Ok({"diff", "r", "main~1", "main"}).out, "~ a\t2\n");

  EXPECT_EQ(Ok({"compare", "r", "main", "dev"}).out, "+ b\t1\n");
  EXPECT_EQ(Ok({"compare", "r", "dev", "main"}).out, "~ a\t2\n");
  EXPECT_EQ(R({"is-ancestor", "r", "main~1", "dev"}).exit_code, 0);
  RunResult no = R({"is-ancestor", "r", "dev", "main"});
  EXPECT_EQ(no.exit_code, 4) << Describe(no);
  EXPECT_EQ(no.out, "");
  EXPECT_EQ(R({"is-ancestor", "r", "nosuch", "main"}).exit_code, 3);
  RunResult bad = R({"resolve", "r", "main~x"});
  EXPECT_EQ(bad.exit_code, 2) << Describe(bad);
  EXPECT_NE(bad.err.find("'main~x' at position 5"), std::string::npos) << bad.err;
  EXPECT_EQ(R({"resolve", "r", "main~9"}).exit_code, 2);
  EXPECT_EQ(R({"log", "r", "main^0"}).exit_code, 2);
}

TEST_F(CliHistoryTest, LogFiltersAndPages) {
  Ok({"repo", "create", "r"});
  for (int i = 0; i < 4; ++i) {
    Ok({"entry", "put", "r", "main", i % 2 ? "a" : "b", std::to_string(i)});
    Ok({"commit", "r", "main", "-m", "c" + std::to_string(i)});
  }
  // c1 and c3 changed a.
  RunResult by_path = Ok({"log", "r", "main", "--path", "a", "--json"});
  EXPECT_NE(by_path.out.find("\"c3\""), std::string::npos) << by_path.out;
  EXPECT_NE(by_path.out.find("\"c1\""), std::string::npos) << by_path.out;
  EXPECT_EQ(by_path.out.find("\"c2\""), std::string::npos) << by_path.out;
  EXPECT_NE(by_path.out.find("\"next_after\":\"\"}"), std::string::npos) << by_path.out;
  // One commit per page: the token continues the walk.
  RunResult first = Ok({"log", "r", "main", "--path", "a", "--limit", "1", "--json"});
  const size_t at = first.out.find("\"next_after\":\"");
  ASSERT_NE(at, std::string::npos) << first.out;
  std::string token = first.out.substr(at + 14);
  token = token.substr(0, token.find('"'));
  ASSERT_FALSE(token.empty()) << first.out;
  RunResult second = Ok({"log", "r", "main", "--path", "a", "--after", token, "--json"});
  EXPECT_NE(second.out.find("\"c1\""), std::string::npos) << second.out;
  EXPECT_EQ(second.out.find("\"c3\""), std::string::npos) << second.out;
  RunResult stop = Ok({"log", "r", "main", "--stop-at", "main~2"});
  EXPECT_NE(stop.out.find("c3"), std::string::npos) << stop.out;
  EXPECT_EQ(stop.out.find("c1"), std::string::npos) << stop.out;
  EXPECT_EQ(R({"log", "r", "main", "--since", "-1"}).exit_code, 2);
}

}  // namespace
}  // namespace refkv::testing
