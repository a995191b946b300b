// Test helpers for the DynamoDB driver: the shared endpoint (a throwaway dynalite, or
// $REFKV_TEST_DYNAMODB) and stores on fresh tables, so tests never see each other's data.
#ifndef REFKV_TESTS_ENGINE_DYNAMODB_DYNAMO_TEST_ENV_H_
#define REFKV_TESTS_ENGINE_DYNAMODB_DYNAMO_TEST_ENV_H_

#include <gtest/gtest.h>

#include <string>

#include "engine/open.h"
#include "tests/support/dynalite_server.h"
#include "tests/support/require.h"

namespace refkv::kv::testing {

// Stops the shared throwaway server when the test binary ends.
class DynaliteEnvironment : public ::testing::Environment {
 public:
  void TearDown() override { refkv::testing::StopSharedDynalite(); }
};

// A URI for a fresh table on the shared endpoint. dynalite has no transactions, so the
// tests write batches with write_mode=batch unless `extra` says otherwise.
inline Result<std::string> FreshDynamoUri(std::string_view extra = "write_mode=batch") {
  REFKV_ASSIGN_OR_RETURN(std::string endpoint, refkv::testing::SharedDynamoEndpoint());
  return refkv::testing::DynamoTableUri(endpoint, extra);
}

}  // namespace refkv::kv::testing

// Skips (or fails, under REFKV_REQUIRE_ALL) when no endpoint can be had; else sets `var`.
#define REFKV_DYNAMO_URI_OR_SKIP(var, extra)                              \
  std::string var;                                                        \
  do {                                                                    \
    auto uri_ = ::refkv::kv::testing::FreshDynamoUri(extra);              \
    if (!uri_.ok()) REFKV_SKIP_UNLESS_REQUIRED(uri_.status().ToString()); \
    var = *uri_;                                                          \
  } while (0)

#endif  // REFKV_TESTS_ENGINE_DYNAMODB_DYNAMO_TEST_ENV_H_
