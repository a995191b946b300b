// `kv migrate` rocks -> dynamodb -> rocks (format::CopyStore, as the command runs it),
// both copies verified partition by partition, and the end result equal to the start.
#include <random>

#include "engine/open.h"
#include "format/copy.h"
#include "tests/engine/dynamodb/dynamo_test_env.h"
#include "tests/format/store_util.h"
#include "tests/support/temp_dir.h"

namespace refkv::kv::testing {
namespace {

::testing::Environment* const kDynalite =
    ::testing::AddGlobalTestEnvironment(new DynaliteEnvironment);

TEST(DynamoMigrate, RocksToDynamoAndBackVerified) {
  // Batches of up to 10,000 records need write_mode=batch (a transaction takes 100 items).
  REFKV_DYNAMO_URI_OR_SKIP(dynamo_uri, "write_mode=batch");
  refkv::testing::TempDir dir;
  std::mt19937_64 rng(21);
  auto source = kv::Open("rocks://" + dir.path() + "/source");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  auto written = refkv::testing::FillRandom(**source, rng, 3, 30);
  ASSERT_TRUE((*source)->Set("big", "value", std::string(300 << 10, 'x')).ok());
  written["big"]["value"] = std::string(300 << 10, 'x');

  auto dynamo = kv::Open(dynamo_uri);
  ASSERT_TRUE(dynamo.ok()) << dynamo.status().ToString();
  format::CopyOptions options;
  options.write_batch = 50;  // several BatchWriteItem rounds per partition
  auto there = format::CopyStore(**source, **dynamo, options);
  ASSERT_TRUE(there.ok()) << there.status().ToString();
  EXPECT_EQ(there->checks.size(), written.size());
  for (const auto& c : there->checks) EXPECT_TRUE(c.match()) << c.name;
  EXPECT_EQ(refkv::testing::ReadAll(**dynamo), written);

  auto back = kv::Open("rocks://" + dir.path() + "/back");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  auto home = format::CopyStore(**dynamo, **back, options);
  ASSERT_TRUE(home.ok()) << home.status().ToString();
  for (const auto& c : home->checks) EXPECT_TRUE(c.match()) << c.name;
  EXPECT_EQ(refkv::testing::ReadAll(**back), written);
}

}  // namespace
}  // namespace refkv::kv::testing
