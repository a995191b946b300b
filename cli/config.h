// The refkv CLI's configuration: which store a command works on.
//
// Resolution order (the first that is set wins):
//   1. --store URI
//   2. the REFKV_STORE environment variable
//   3. the `database:` section of the config file (refkv.yaml in the working directory,
//      or --config FILE, which must then exist), each field overridable by an environment
//      variable; the variables alone (no file) are a configuration too
//   4. the embedded RocksDB store rocks://./refkv-data
//
// The config file:
//
//   database:
//     type: rocks                 # mem | rocks | postgres          REFKV_DATABASE_TYPE
//     sync_commits: true          # fsync once per ref-store write   REFKV_DATABASE_SYNC_COMMITS
//     rocks:
//       path: ./refkv-data        # relative to the working directory  REFKV_DATABASE_ROCKS_PATH
//       partitions: cf            # cf | shared (new stores only)   REFKV_DATABASE_ROCKS_PARTITIONS
//       sync: false               # fsync every write              REFKV_DATABASE_ROCKS_SYNC
//     postgres:
//       connection_string: postgres://user@host/db   #  REFKV_DATABASE_POSTGRES_CONNECTION_STRING
//                                 # or a libpq keyword/value string "host=/run/pg dbname=x"
//       max_open_connections: 8   #                 REFKV_DATABASE_POSTGRES_MAX_OPEN_CONNECTIONS
//       table: refkv_kv           #                               REFKV_DATABASE_POSTGRES_TABLE
//     dynamodb:
//       table: refkv              # required                    REFKV_DATABASE_DYNAMODB_TABLE
//       endpoint: http://127.0.0.1:8000  # default: AWS's, by region  ..._DYNAMODB_ENDPOINT
//       region: eu-west-1         #                              REFKV_DATABASE_DYNAMODB_REGION
//       billing: pay_per_request  # or provisioned (new tables)   REFKV_DATABASE_DYNAMODB_BILLING
//       read_capacity: 5          # provisioned only       REFKV_DATABASE_DYNAMODB_READ_CAPACITY
//       write_capacity: 5         # provisioned only      REFKV_DATABASE_DYNAMODB_WRITE_CAPACITY
//       scan_page_size: 1000      #                       REFKV_DATABASE_DYNAMODB_SCAN_PAGE_SIZE
//       max_connections: 16       #                      REFKV_DATABASE_DYNAMODB_MAX_CONNECTIONS
//       request_timeout_ms: 10000 #                   REFKV_DATABASE_DYNAMODB_REQUEST_TIMEOUT_MS
//     (credentials: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN)
//
// `type` defaults to rocks. Sections of the drivers not selected by `type` are checked
// but ignored. Unknown keys are errors (a typo must not silently select another store).
// Each database field becomes part of the store URI (engine/uri.h):
//   rocks://PATH?partitions=..&sync=..   postgres://...?max_open_connections=..&table=..
//   (a keyword/value connection string becomes postgres://?conninfo=<percent-encoded>)
//   dynamodb://TABLE?endpoint=..&region=..&billing=..&...
//
// Thread-safety: plain functions and value types.
#ifndef REFKV_CLI_CONFIG_H_
#define REFKV_CLI_CONFIG_H_

#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "base/result.h"

namespace refkv::cli {

// The store used when nothing is configured.
inline constexpr std::string_view kDefaultStoreUri = "rocks://./refkv-data";
// The config file looked for in the working directory when --config is not given.
inline constexpr std::string_view kDefaultConfigFile = "refkv.yaml";

// A value and where it came from ("refkv.yaml:3", "REFKV_DATABASE_TYPE"), for messages.
template <typename T>
struct Setting {
  std::optional<T> value;
  std::string origin;
  bool has_value() const { return value.has_value(); }
};

struct DatabaseConfig {
  Setting<std::string> type;  // "mem", "rocks", "postgres" or "dynamodb"
  // database.auto_migrate: bring the store to this code's newest schema when a command
  // opens it for writing (migrate/migrate.h OpenAndMigrate). Not part of the URI.
  Setting<bool> auto_migrate;
  // database.sync_commits (default true): every acknowledged ref-store write (commit,
  // entry put/rm, branch, tag and repository changes) is made durable with one
  // kv::Store::Sync() before the command reports success (refstore::Options::sync_commits
  // and sync_staged_writes). false: RocksDB's sync=false durability (a power loss may lose
  // the last acknowledged writes, never consistency). Not part of the URI.
  Setting<bool> sync_commits;
  struct Rocks {
    Setting<std::string> path;
    Setting<std::string> partitions;  // "cf" or "shared"
    Setting<bool> sync;
  } rocks;
  struct Postgres {
    Setting<std::string> connection_string;
    Setting<int64_t> max_open_connections;
    Setting<std::string> table;
  } postgres;
  struct Dynamo {
    Setting<std::string> table, endpoint, region, billing;
    Setting<int64_t> read_capacity, write_capacity, scan_page_size, max_connections,
        request_timeout_ms;
    bool AnySet() const;
    bool AnyFromEnv() const;  // set by a REFKV_DATABASE_DYNAMODB_* variable
  } dynamodb;

  // True if any field is set (by the file or the environment).
  bool AnySet() const;
};

struct Config {
  std::string file;  // the file it was read from; empty if none
  DatabaseConfig database;
};

// Reads an environment variable; nullopt when unset. Tests pass their own.
using EnvLookup = std::function<std::optional<std::string>(std::string_view name)>;
// The process environment (getenv).
EnvLookup ProcessEnv();

// Parses config text; `file_name` is used in messages. InvalidArgument, naming the file
// and line, for malformed YAML, an unknown key, or a value of the wrong type or range.
Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name);

// Reads and parses `path`. NotFound if it does not exist; IOError if unreadable; else as
// ParseConfig.
Result<Config> LoadConfigFile(const std::string& path);

// Overrides config fields with the REFKV_DATABASE_* variables that are set.
// InvalidArgument naming the variable for a value of the wrong type or range.
Status ApplyEnvOverrides(const EnvLookup& env, Config& config);

// The store URI a database config names. InvalidArgument (naming the field's origin) if a
// required field is missing (postgres without connection_string).
Result<std::string> DatabaseUri(const DatabaseConfig& database);

// Where the store URI came from.
enum class StoreOrigin { kFlag, kEnv, kConfig, kDefault };

struct StoreSource {
  std::string uri;
  StoreOrigin origin = StoreOrigin::kDefault;
  // Human-readable origin: "--store", "REFKV_STORE", "refkv.yaml", "REFKV_DATABASE_*",
  // "default".
  std::string description;
  // database.auto_migrate of the config that was read (false if none was read).
  bool auto_migrate = false;
  // database.sync_commits of the config (or REFKV_DATABASE_SYNC_COMMITS, which applies
  // with --store and REFKV_STORE too); true if unset.
  bool sync_commits = true;
};

// "default" (or the description of another implicit choice) or "from <description>".
std::string DescribeOrigin(const StoreSource& source);

struct ResolveInputs {
  std::string store_flag;   // --store; empty if not given
  std::string config_flag;  // --config; empty if not given
  // Whether --store / --config were given. Given but empty ("--store ''", typically an
  // unset shell variable) is InvalidArgument: it must not silently mean the default
  // store or no config file. (An empty environment variable still counts as unset.)
  bool store_flag_given = false;
  bool config_flag_given = false;
  std::string working_dir = ".";
};

// Applies the resolution order above. An explicit --config is always read (and must
// exist), even when --store or REFKV_STORE decides the store; the default refkv.yaml is
// read only when needed. Errors: those of LoadConfigFile (NotFound only for an explicit
// --config), ApplyEnvOverrides and DatabaseUri.
Result<StoreSource> ResolveStore(const ResolveInputs& inputs, const EnvLookup& env);

}  // namespace refkv::cli

#endif  // REFKV_CLI_CONFIG_H_
