// The database.dynamodb config section and its REFKV_DATABASE_DYNAMODB_* overrides.
#include <gtest/gtest.h>

#include <map>

#include "cli/config.h"

namespace refkv::cli {
namespace {

TEST(DynamoConfig, SectionBecomesTheUri) {
  auto c = ParseConfig(
      "database:\n  type: dynamodb\n  dynamodb:\n    table: meta\n"
      "    endpoint: http://127.0.0.1:8000\n    region: eu-west-1\n    billing: provisioned\n"
      "    read_capacity: 7\n    write_capacity: 9\n    scan_page_size: 100\n"
      "    max_connections: 4\n    request_timeout_ms: 2500\n",
      "conf.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  auto uri = DatabaseUri(c->database);
  ASSERT_TRUE(uri.ok()) << uri.status().ToString();
  EXPECT_EQ(*uri,
            "dynamodb://meta?endpoint=http%3A//127.0.0.1%3A8000&region=eu-west-1&billing="
            "provisioned&read_capacity=7&write_capacity=9&scan_page_size=100&max_connections=4&"
            "request_timeout_ms=2500");
}

TEST(DynamoConfig, EnvironmentOverridesAndErrors) {
  auto c = ParseConfig("database:\n  type: dynamodb\n  dynamodb:\n    table: meta\n", "conf.yaml");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  std::map<std::string, std::string> env{{"REFKV_DATABASE_DYNAMODB_TABLE", "other"},
                                         {"REFKV_DATABASE_DYNAMODB_REGION", "us-west-2"}};
  auto lookup = [&](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
  ASSERT_TRUE(ApplyEnvOverrides(lookup, *c).ok());
  EXPECT_EQ(*DatabaseUri(c->database), "dynamodb://other?region=us-west-2");
  EXPECT_TRUE(ParseConfig("database:\n  type: dynamodb\n", "c.yaml").ok());
  auto no_table = ParseConfig("database:\n  type: dynamodb\n", "c.yaml");
  EXPECT_TRUE(DatabaseUri(no_table->database).status().IsInvalidArgument());
  EXPECT_TRUE(ParseConfig("database:\n  dynamodb:\n    billing: free\n", "c.yaml")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(ParseConfig("database:\n  dynamodb:\n    max_connections: 0\n", "c.yaml")
                  .status()
                  .IsInvalidArgument());
  EXPECT_TRUE(
      ParseConfig("database:\n  dynamodb:\n    tabel: x\n", "c.yaml").status().IsInvalidArgument());
}

}  // namespace
}  // namespace refkv::cli
