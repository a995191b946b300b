// The shared conformance suite against a real PostgreSQL server: each test gets a fresh
// table in the shared throwaway server (or $REFKV_TEST_POSTGRES).
#include "tests/engine/conformance.h"
#include "tests/engine/postgres/pg_test_env.h"

namespace refkv::kv::testing {
namespace {

const auto* const kServerEnv = ::testing::AddGlobalTestEnvironment(new PgServerEnvironment);

struct PostgresEnv : ConformanceEnv {
  Result<std::unique_ptr<Store>> Open() override {
    REFKV_ASSIGN_OR_RETURN(std::string uri, FreshTableUri());
    return kv::Open(uri);
  }
};

INSTANTIATE_TEST_SUITE_P(Postgres, StoreConformance,
                         ::testing::Values(EnvCase<PostgresEnv>("Default")), ConformanceCaseName);

}  // namespace
}  // namespace refkv::kv::testing
