// Test helpers for the PostgreSQL driver: the shared server's lifetime in a test binary,
// and stores on fresh tables so that tests never see each other's data.
#ifndef REFKV_TESTS_ENGINE_POSTGRES_PG_TEST_ENV_H_
#define REFKV_TESTS_ENGINE_POSTGRES_PG_TEST_ENV_H_

#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <string>

#include "engine/open.h"
#include "tests/support/pg_server.h"

namespace refkv::kv::testing {

// Stops the shared throwaway server when the test binary ends.
class PgServerEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { refkv::testing::StopSharedPostgres(); }
};

// A table name no other test, process or run uses.
inline std::string FreshTableName(std::string_view tag = "t") {
  static std::atomic<int> counter{0};
  auto now = std::chrono::system_clock::now().time_since_epoch().count();
  return std::string(tag) + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++) + "_" +
         std::to_string(now % 1000000007);
}

// The shared server's URI with a fresh table (and any extra "name=value" parameters).
inline Result<std::string> FreshTableUri(std::string_view extra = {}) {
  REFKV_ASSIGN_OR_RETURN(std::string base, refkv::testing::SharedPostgresUri());
  std::string uri = refkv::testing::WithParam(base, "table", FreshTableName());
  if (!extra.empty()) uri += "&" + std::string(extra);
  return uri;
}

}  // namespace refkv::kv::testing

#endif  // REFKV_TESTS_ENGINE_POSTGRES_PG_TEST_ENV_H_
