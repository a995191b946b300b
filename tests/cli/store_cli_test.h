// A CLI test fixture: a scratch directory, RocksDB stores inside it, and the refkv binary
// run against them (tests/cli/refkv_runner.h).
#ifndef REFKV_TESTS_CLI_STORE_CLI_TEST_H_
#define REFKV_TESTS_CLI_STORE_CLI_TEST_H_

#include <gtest/gtest.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/cli/refkv_runner.h"
#include "tests/support/temp_dir.h"

namespace refkv::testing {

class StoreCliTest : public ::testing::Test {
 protected:
  // `tag` names the scratch directory (refkv-<tag>-XXXXXX).
  explicit StoreCliTest(const std::string& tag) : dir_(tag) {}

  // refkv --store rocks://<dir>/<store> ARGS, run in <dir>.
  RunResult R(std::vector<std::string> args, const std::string& store = "store") {
    args.insert(args.begin(), {"--store", "rocks://" + dir_.Sub(store)});
    return RunRefkv(dir_.path(), std::move(args));
  }
  // As R, and the command must exit 0.
  RunResult Ok(std::vector<std::string> args, const std::string& store = "store") {
    RunResult r = R(std::move(args), store);
    EXPECT_EQ(r.exit_code, 0) << Describe(r);
    return r;
  }

  TempDir dir_;
};

}  // namespace refkv::testing

#endif  // REFKV_TESTS_CLI_STORE_CLI_TEST_H_
