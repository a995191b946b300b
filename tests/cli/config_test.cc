// cli/config: store resolution order, environment overrides, malformed files.
#include "cli/config.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>

#include "engine/uri.h"
#include "tests/support/temp_dir.h"

namespace refkv::cli {
namespace {

using Env = std::map<std::string, std::string>;

// `yaml`, read as the file conf.yaml, is refused: InvalidArgument whose message holds
// `expect`.
void ExpectRefused(const std::string& yaml, const std::string& expect) {
  auto s = ParseConfig(yaml, "conf.yaml");
  ASSERT_FALSE(s.ok()) << yaml;
  EXPECT_TRUE(s.status().IsInvalidArgument());
  EXPECT_NE(s.status().message().find(expect), std::string::npos)
      << yaml << " -> " << s.status().message();
}

EnvLookup Lookup(const Env& env) {
  return [env](std::string_view name) -> std::optional<std::string> {
    auto it = env.find(std::string(name));
    if (it == env.end()) return std::nullopt;
    return it->second;
  };
}

void WriteFile(const std::string& path, const std::string& text) {
  std::ofstream(path, std::ios::binary) << text;
}

class ResolveStoreTest : public ::testing::Test {
 protected:
  Result<StoreSource> Resolve(const Env& env, std::string store_flag = "",
                              std::string config_flag = "") {
    ResolveInputs inputs;
    inputs.store_flag = std::move(store_flag);
    inputs.config_flag = std::move(config_flag);
    inputs.working_dir = dir_.path();
    return ResolveStore(inputs, Lookup(env));
  }
  void WriteConfig(const std::string& text) { WriteFile(dir_.Sub("refkv.yaml"), text); }

  testing::TempDir dir_{"cli-config"};
};

TEST_F(ResolveStoreTest, DefaultIsTheEmbeddedRocksStore) {
  auto s = Resolve({});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->uri, "rocks://./refkv-data");
  EXPECT_EQ(s->origin, StoreOrigin::kDefault);
}

TEST_F(ResolveStoreTest, PrecedenceFlagThenEnvThenFileThenDefault) {
  WriteConfig("database:\n  type: rocks\n  rocks:\n    path: /from/file\n");
  Env env = {{"REFKV_STORE", "mem://from-env"}};

  auto flag = Resolve(env, "mem://from-flag");
  ASSERT_TRUE(flag.ok());
  EXPECT_EQ(flag->uri, "mem://from-flag");
  EXPECT_EQ(flag->origin, StoreOrigin::kFlag);

  auto from_env = Resolve(env);
  ASSERT_TRUE(from_env.ok());
  EXPECT_EQ(from_env->uri, "mem://from-env");
  EXPECT_EQ(from_env->origin, StoreOrigin::kEnv);

  auto file = Resolve({});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->uri, "rocks:///from/file");
  EXPECT_EQ(file->origin, StoreOrigin::kConfig);
  EXPECT_EQ(file->description, "refkv.yaml");

  // An empty REFKV_STORE counts as unset.
  auto empty_env = Resolve({{"REFKV_STORE", ""}});
  ASSERT_TRUE(empty_env.ok());
  EXPECT_EQ(empty_env->uri, "rocks:///from/file");
}

TEST_F(ResolveStoreTest, ExplicitConfigFileMustExist) {
  auto missing = Resolve({}, "", "nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("nope.yaml"), std::string::npos);
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
  // Even when --store decides the store: the mistake is reported.
  EXPECT_FALSE(Resolve({}, "mem://", "nope.yaml").ok());
  // A missing default refkv.yaml is not an error.
  EXPECT_TRUE(Resolve({}).ok());
}

TEST_F(ResolveStoreTest, ExplicitConfigFileIsUsedInsteadOfTheDefaultOne) {
  WriteConfig("database:\n  type: mem\n");
  WriteFile(dir_.Sub("other.yaml"), "database:\n  rocks:\n    path: other-data\n");
  auto s = Resolve({}, "", "other.yaml");
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->uri, "rocks://other-data");
  EXPECT_NE(s->description.find("other.yaml"), std::string::npos);
}

TEST_F(ResolveStoreTest, EveryFieldHasAnEnvironmentOverride) {
  WriteConfig(
      "database:\n"
      "  type: rocks\n"
      "  rocks: {path: ./a, partitions: cf, sync: false}\n"
      "  postgres: {connection_string: 'postgres://u@h/db', max_open_connections: 4, table: t}\n");
  auto base = Resolve({});
  ASSERT_TRUE(base.ok()) << base.status().ToString();
  EXPECT_EQ(base->uri, "rocks://./a?partitions=cf&sync=false");

  auto rocks = Resolve({{"REFKV_DATABASE_ROCKS_PATH", "/b"},
                        {"REFKV_DATABASE_ROCKS_PARTITIONS", "shared"},
                        {"REFKV_DATABASE_ROCKS_SYNC", "true"}});
  ASSERT_TRUE(rocks.ok()) << rocks.status().ToString();
  EXPECT_EQ(rocks->uri, "rocks:///b?partitions=shared&sync=true");
  EXPECT_EQ(rocks->description, "refkv.yaml + REFKV_DATABASE_*");

  auto pg = Resolve({{"REFKV_DATABASE_TYPE", "postgres"}});
  ASSERT_TRUE(pg.ok()) << pg.status().ToString();
  EXPECT_EQ(pg->uri, "postgres://u@h/db?max_open_connections=4&table=t");

  auto pg2 = Resolve({{"REFKV_DATABASE_TYPE", "postgres"},
                      {"REFKV_DATABASE_POSTGRES_CONNECTION_STRING", "postgresql://x/y?sslmode=off"},
                      {"REFKV_DATABASE_POSTGRES_MAX_OPEN_CONNECTIONS", "16"},
                      {"REFKV_DATABASE_POSTGRES_TABLE", "kv2"}});
  ASSERT_TRUE(pg2.ok()) << pg2.status().ToString();
  EXPECT_EQ(pg2->uri, "postgresql://x/y?sslmode=off&max_open_connections=16&table=kv2");

  auto mem = Resolve({{"REFKV_DATABASE_TYPE", "mem"}});
  ASSERT_TRUE(mem.ok());
  EXPECT_EQ(mem->uri, "mem://");
}

TEST_F(ResolveStoreTest, EnvironmentAloneIsAConfiguration) {
  auto s = Resolve({{"REFKV_DATABASE_ROCKS_PATH", "data dir?%"}});
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  EXPECT_EQ(s->uri, "rocks://data dir%3F%25");  // decoded back by engine/uri.h
  EXPECT_EQ(s->origin, StoreOrigin::kConfig);
  EXPECT_EQ(s->description, "REFKV_DATABASE_*");
}

TEST_F(ResolveStoreTest, BadEnvironmentValuesNameTheVariable) {
  for (const auto& [name, value] : Env{{"REFKV_DATABASE_TYPE", "oracle"},
                                       {"REFKV_DATABASE_ROCKS_SYNC", "maybe"},
                                       {"REFKV_DATABASE_ROCKS_PARTITIONS", "many"},
                                       {"REFKV_DATABASE_POSTGRES_MAX_OPEN_CONNECTIONS", "-1"}}) {
    auto s = Resolve({{name, value}});
    ASSERT_FALSE(s.ok()) << name;
    EXPECT_TRUE(s.status().IsInvalidArgument()) << name;
    EXPECT_NE(s.status().message().find(name), std::string::npos) << s.status().message();
    EXPECT_NE(s.status().message().find(value), std::string::npos) << s.status().message();
  }
}

TEST_F(ResolveStoreTest, PostgresConnectionStrings) {
  WriteConfig("database:\n  type: postgres\n");
  auto missing = Resolve({});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("connection_string"), std::string::npos);
  // A libpq keyword/value string is passed as the driver's conninfo parameter.
  auto keyword_form =
      Resolve({{"REFKV_DATABASE_POSTGRES_CONNECTION_STRING", "host=/run/pg dbname=x&y"},
               {"REFKV_DATABASE_POSTGRES_TABLE", "t"}});
  ASSERT_TRUE(keyword_form.ok()) << keyword_form.status().ToString();
  EXPECT_EQ(keyword_form->uri, "postgres://?conninfo=host%3D/run/pg%20dbname%3Dx%26y&table=t");
  auto parsed = kv::Uri::Parse(keyword_form->uri);
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->Param("conninfo"), "host=/run/pg dbname=x&y");
  EXPECT_EQ(parsed->Param("table"), "t");
}

TEST_F(ResolveStoreTest, MalformedDefaultFileIsAnErrorWhenItIsNeeded) {
  WriteConfig("database:\n  type: [rocks\n");
  auto s = Resolve({});
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("refkv.yaml:"), std::string::npos) << s.status().message();
  // --store decides without reading the default file.
  EXPECT_TRUE(Resolve({}, "mem://").ok());
}

TEST_F(ResolveStoreTest, SyncCommitsDefaultsToTrueAndCanBeTurnedOff) {
  auto def = Resolve({});
  ASSERT_TRUE(def.ok()) << def.status().ToString();
  EXPECT_TRUE(def->sync_commits);

  WriteConfig("database:\n  sync_commits: false\n  rocks:\n    path: ./s\n");
  auto file = Resolve({});
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_FALSE(file->sync_commits);
  // The variable wins over the file, and counts with --store and REFKV_STORE too.
  auto env = Resolve({{"REFKV_DATABASE_SYNC_COMMITS", "true"}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_TRUE(env->sync_commits);
  auto flag = Resolve({{"REFKV_DATABASE_SYNC_COMMITS", "false"}}, "mem://");
  ASSERT_TRUE(flag.ok()) << flag.status().ToString();
  EXPECT_FALSE(flag->sync_commits);
  auto store_env = Resolve({{"REFKV_DATABASE_SYNC_COMMITS", "off"}, {"REFKV_STORE", "mem://"}});
  ASSERT_TRUE(store_env.ok()) << store_env.status().ToString();
  EXPECT_FALSE(store_env->sync_commits);
  EXPECT_TRUE(Resolve({}, "mem://")->sync_commits);

  auto bad = Resolve({{"REFKV_DATABASE_SYNC_COMMITS", "maybe"}}, "mem://");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().ToString().find("REFKV_DATABASE_SYNC_COMMITS"), std::string::npos);
  WriteConfig("database:\n  sync_commits: sometimes\n");
  auto bad_file = Resolve({});
  ASSERT_FALSE(bad_file.ok());
  EXPECT_NE(bad_file.status().ToString().find("refkv.yaml:2"), std::string::npos)
      << bad_file.status().ToString();
}

TEST(ParseConfig, MalformedYamlNamesFileAndLine) {
  auto s = ParseConfig("database:\n  type: rocks\n  rocks: {path: [a, b\n", "conf.yaml");
  ASSERT_FALSE(s.ok());
  EXPECT_TRUE(s.status().IsInvalidArgument());
  const std::string& m = s.status().message();
  EXPECT_EQ(m.rfind("conf.yaml:", 0), 0u) << m;
  EXPECT_NE(m.find("malformed YAML"), std::string::npos) << m;
  EXPECT_EQ(m.find('\n'), std::string::npos) << m;
}

TEST(ParseConfig, UnknownKeysAndWrongTypesNameTheLine) {
  struct Case {
    const char* yaml;
    const char* expect;
  } cases[] = {
      {"databse:\n  type: rocks\n", "conf.yaml:1: unknown section 'databse'"},
      {"database:\n  typo: rocks\n", "conf.yaml:2: unknown key 'database.typo'"},
      {"database:\n  rocks:\n    pth: x\n", "conf.yaml:3: unknown key 'database.rocks.pth'"},
      {"database:\n  type: oracle\n", "conf.yaml:2: unknown database type 'oracle'"},
      {"database:\n  rocks:\n    sync: sometimes\n", "conf.yaml:3: database.rocks.sync"},
      {"database:\n  postgres:\n    max_open_connections: lots\n",
       "conf.yaml:3: database.postgres.max_open_connections"},
      {"database:\n  type: [a, b]\n", "conf.yaml:2: 'database.type' must be a single value"},
      {"database: 3\n", "conf.yaml:1: 'database' must be a mapping"},
      {"- a\n- b\n", "conf.yaml:1: expected a mapping"},
  };
  for (const Case& c : cases) {
    auto s = ParseConfig(c.yaml, "conf.yaml");
    ASSERT_FALSE(s.ok()) << c.yaml;
    EXPECT_NE(s.status().message().find(c.expect), std::string::npos)
        << c.yaml << " -> " << s.status().message();
  }
}

TEST(ParseConfig, EmptyAndPartialFiles) {
  auto empty = ParseConfig("", "e.yaml");
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->database.AnySet());
  auto empty_section = ParseConfig("database:\n", "e.yaml");
  ASSERT_TRUE(empty_section.ok());
  EXPECT_FALSE(empty_section->database.AnySet());

  auto partial = ParseConfig("database:\n  rocks:\n    sync: yes\n", "p.yaml");
  ASSERT_TRUE(partial.ok()) << partial.status().ToString();
  EXPECT_TRUE(partial->database.AnySet());
  auto uri = DatabaseUri(partial->database);
  ASSERT_TRUE(uri.ok());
  EXPECT_EQ(*uri, "rocks://./refkv-data?sync=true");
  EXPECT_EQ(partial->database.rocks.sync.origin, "p.yaml:3");
}

// yaml-cpp keeps a repeated key as a second entry: the last one silently won.
TEST(ParseConfig, DuplicateKeysNameTheFileLineAndKey) {
  struct Case {
    const char* yaml;
    const char* expect;
  } cases[] = {
      {"database:\n  type: rocks\n  type: mem\n",
       "conf.yaml:3: duplicate key 'database.type' (first at line 2)"},
      {"database:\n  rocks:\n    path: /a\n    sync: true\n    path: /b\n",
       "conf.yaml:5: duplicate key 'database.rocks.path' (first at line 3)"},
      {"database:\n  rocks:\n    path: /a\n  rocks:\n    sync: true\n",
       "conf.yaml:4: duplicate key 'database.rocks' (first at line 2)"},
      {"database:\n  type: mem\ndatabase:\n  type: rocks\n",
       "conf.yaml:3: duplicate key 'database' (first at line 1)"},
      {"database: {type: mem, type: rocks}\n", "conf.yaml:1: duplicate key 'database.type'"},
  };
  for (const Case& c : cases) ExpectRefused(c.yaml, c.expect);
  // The same field name in two sections is no repeat.
  auto ok = ParseConfig(
      "database:\n  rocks:\n    sync: true\n  postgres:\n    table: t\n    "
      "connection_string: postgres://h/db\n",
      "conf.yaml");
  EXPECT_TRUE(ok.ok()) << ok.status().ToString();
}

// A field with no value is refused, not taken as the default (an empty connection
// string connected wherever libpq's defaults point).
TEST(ParseConfig, FieldsWithoutAValueAreRefused) {
  struct Case {
    const char* yaml;
    const char* expect;
  } cases[] = {
      {"database:\n  type:\n", "conf.yaml:2: 'database.type' has no value"},
      {"database:\n  rocks:\n    path: ''\n", "conf.yaml:3: 'database.rocks.path' has no value"},
      {"database:\n  rocks:\n    path: ~\n", "conf.yaml:3: 'database.rocks.path' has no value"},
      {"database:\n  type: postgres\n  postgres:\n    connection_string: \"\"\n",
       "conf.yaml:4: 'database.postgres.connection_string' has no value"},
      {"database:\n  sync_commits:\n", "conf.yaml:2: 'database.sync_commits' has no value"},
  };
  for (const Case& c : cases) ExpectRefused(c.yaml, c.expect);
  // An empty section stays valid (its fields commented out).
  EXPECT_TRUE(ParseConfig("database:\n  type: rocks\n  rocks:\n  postgres:\n", "c.yaml").ok());
}

TEST_F(ResolveStoreTest, ExplicitEmptyFlagsAreErrorsEmptyVariablesAreUnset) {
  ResolveInputs inputs;
  inputs.working_dir = dir_.path();
  inputs.store_flag_given = true;  // --store ''
  auto store = ResolveStore(inputs, Lookup({}));
  ASSERT_TRUE(store.status().IsInvalidArgument()) << store.status().ToString();
  EXPECT_NE(store.status().message().find("--store is empty"), std::string::npos);
  inputs.store_flag_given = false;
  inputs.config_flag_given = true;  // --config ''
  auto config = ResolveStore(inputs, Lookup({}));
  ASSERT_TRUE(config.status().IsInvalidArgument()) << config.status().ToString();
  EXPECT_NE(config.status().message().find("--config is empty"), std::string::npos);
  // REFKV_STORE='' and REFKV_DATABASE_POSTGRES_CONNECTION_STRING='' count as unset.
  auto env = Resolve({{"REFKV_STORE", ""}, {"REFKV_DATABASE_POSTGRES_CONNECTION_STRING", ""}});
  ASSERT_TRUE(env.ok()) << env.status().ToString();
  EXPECT_EQ(env->origin, StoreOrigin::kDefault);
}

TEST(LoadConfigFile, MissingUnreadableAndDirectory) {
  testing::TempDir dir("cli-config-load");
  EXPECT_TRUE(LoadConfigFile(dir.Sub("missing.yaml")).status().IsNotFound());
  EXPECT_TRUE(LoadConfigFile(dir.path()).status().IsInvalidArgument());
  WriteFile(dir.Sub("ok.yaml"), "database:\n  type: mem\n");
  auto ok = LoadConfigFile(dir.Sub("ok.yaml"));
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(ok->database.type.value.value_or(""), "mem");
}

}  // namespace
}  // namespace refkv::cli
