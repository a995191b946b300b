// The driver conformance suite on the DynamoDB driver, against dynalite (or
// $REFKV_TEST_DYNAMODB).
#include "engine/dynamodb/dynamodb_store.h"
#include "tests/engine/conformance.h"
#include "tests/engine/dynamodb/dynamo_test_env.h"

namespace refkv::kv::testing {
namespace {

::testing::Environment* const kDynalite =
    ::testing::AddGlobalTestEnvironment(new DynaliteEnvironment);

struct DynamoEnv : ConformanceEnv {
  Result<std::unique_ptr<Store>> Open() override {
    REFKV_ASSIGN_OR_RETURN(std::string text, FreshDynamoUri());
    REFKV_ASSIGN_OR_RETURN(Uri uri, Uri::Parse(text));
    return OpenDynamoStore(uri, {});
  }
  std::string Unsupported(std::string_view test) const override {
    // No server here: skip, unless everything is required (then Open fails the test).
    if (auto endpoint = refkv::testing::SharedDynamoEndpoint();
        !endpoint.ok() && !refkv::testing::AllRequired()) {
      return endpoint.status().ToString();
    }
    if (test == "WritesAtTheLimitsAreAccepted") {
      return "DynamoDB keeps items of at most 400 KB and sort keys of at most 1024 bytes: a "
             "63 MiB value or a 2048-byte key is InvalidArgument (dynamodb_driver_test checks "
             "DynamoDB's limits)";
    }
    if (test == "BinaryKeysAndValues") {
      return "its 4 MiB value exceeds DynamoDB's 400 KB item (dynamodb_driver_test's "
             "BinaryKeysAndValuesWithinTheItemLimit runs the same keys with a 300 KB value)";
    }
    return {};
  }
};

INSTANTIATE_TEST_SUITE_P(Dynamo, StoreConformance,
                         ::testing::Values(EnvCase<DynamoEnv>("Dynalite")), ConformanceCaseName);

}  // namespace
}  // namespace refkv::kv::testing
