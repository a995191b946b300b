#include "cli/config.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <map>

#include "base/hex.h"

namespace refkv::cli {
namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// "true"/"false" and their YAML 1.1 spellings.
std::optional<bool> ParseBool(std::string_view text) {
  std::string v = Lower(text);
  if (v == "true" || v == "yes" || v == "on" || v == "1") return true;
  if (v == "false" || v == "no" || v == "off" || v == "0") return false;
  return std::nullopt;
}

std::optional<int64_t> ParseInt(std::string_view text) {
  int64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

// Field checks shared by the file and the environment. `where` names the origin.
Status CheckType(const std::string& v, const std::string& where) {
  if (v == "mem" || v == "rocks" || v == "postgres" || v == "dynamodb") return Status::OK();
  return Status::InvalidArgument(where + ": unknown database type '" + v +
                                 "' (expected mem, rocks, postgres or dynamodb)");
}
Status CheckPartitions(const std::string& v, const std::string& where) {
  if (v == "cf" || v == "shared") return Status::OK();
  return Status::InvalidArgument(where + ": database.rocks.partitions must be cf or shared, got '" +
                                 v + "'");
}

// One settable field: its dotted name, its environment variable, how to set it from text.
struct Field {
  std::string_view section;  // "" (database itself), "rocks", "postgres"
  std::string_view name;
  std::string_view env;
  Status (*set)(DatabaseConfig& db, const std::string& text, const std::string& origin);
};

Status SetType(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  REFKV_RETURN_IF_ERROR(CheckType(text, origin));
  db.type = {text, origin};
  return Status::OK();
}
Status SetRocksPath(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  if (text.empty()) return Status::InvalidArgument(origin + ": database.rocks.path is empty");
  db.rocks.path = {text, origin};
  return Status::OK();
}
Status SetRocksPartitions(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  REFKV_RETURN_IF_ERROR(CheckPartitions(text, origin));
  db.rocks.partitions = {text, origin};
  return Status::OK();
}
Status SetRocksSync(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  auto b = ParseBool(text);
  if (!b) {
    return Status::InvalidArgument(origin + ": database.rocks.sync must be true or false, got '" +
                                   text + "'");
  }
  db.rocks.sync = {*b, origin};
  return Status::OK();
}
Status SetAutoMigrate(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  auto b = ParseBool(text);
  if (!b) {
    return Status::InvalidArgument(origin + ": database.auto_migrate must be true or false, got '" +
                                   text + "'");
  }
  db.auto_migrate = {*b, origin};
  return Status::OK();
}
Status SetSyncCommits(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  auto b = ParseBool(text);
  if (!b) {
    return Status::InvalidArgument(origin + ": database.sync_commits must be true or false, got '" +
                                   text + "'");
  }
  db.sync_commits = {*b, origin};
  return Status::OK();
}
Status SetPgConnection(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  // Empty would connect wherever libpq's defaults point.
  if (text.empty()) {
    return Status::InvalidArgument(origin + ": database.postgres.connection_string is empty");
  }
  db.postgres.connection_string = {text, origin};
  return Status::OK();
}
Status SetPgMaxOpen(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  auto n = ParseInt(text);
  if (!n || *n <= 0) {
    return Status::InvalidArgument(
        origin + ": database.postgres.max_open_connections must be a positive integer, got '" +
        text + "'");
  }
  db.postgres.max_open_connections = {*n, origin};
  return Status::OK();
}
Status SetPgTable(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  if (text.empty()) return Status::InvalidArgument(origin + ": database.postgres.table is empty");
  db.postgres.table = {text, origin};
  return Status::OK();
}

// database.dynamodb: non-empty strings and positive integers, passed to the URI as given.
#define REFKV_DYNAMO_STRING(member)                                                        \
  Status SetDynamo_##member(DatabaseConfig& db, const std::string& text,                   \
                            const std::string& origin) {                                   \
    if (text.empty()) {                                                                    \
      return Status::InvalidArgument(origin + ": database.dynamodb." #member " is empty"); \
    }                                                                                      \
    db.dynamodb.member = {text, origin};                                                   \
    return Status::OK();                                                                   \
  }
#define REFKV_DYNAMO_INT(member)                                                                \
  Status SetDynamo_##member(DatabaseConfig& db, const std::string& text,                        \
                            const std::string& origin) {                                        \
    auto n = ParseInt(text);                                                                    \
    if (!n || *n <= 0) {                                                                        \
      return Status::InvalidArgument(                                                           \
          origin + ": database.dynamodb." #member " must be a positive integer, got '" + text + \
          "'");                                                                                 \
    }                                                                                           \
    db.dynamodb.member = {*n, origin};                                                          \
    return Status::OK();                                                                        \
  }
REFKV_DYNAMO_STRING(table)
REFKV_DYNAMO_STRING(endpoint)
REFKV_DYNAMO_STRING(region)
REFKV_DYNAMO_INT(read_capacity)
REFKV_DYNAMO_INT(write_capacity)
REFKV_DYNAMO_INT(scan_page_size)
REFKV_DYNAMO_INT(max_connections)
REFKV_DYNAMO_INT(request_timeout_ms)
#undef REFKV_DYNAMO_STRING
#undef REFKV_DYNAMO_INT
Status SetDynamo_billing(DatabaseConfig& db, const std::string& text, const std::string& origin) {
  if (text != "pay_per_request" && text != "provisioned") {
    return Status::InvalidArgument(origin +
                                   ": database.dynamodb.billing must be pay_per_request or "
                                   "provisioned, got '" +
                                   text + "'");
  }
  db.dynamodb.billing = {text, origin};
  return Status::OK();
}

constexpr Field kFields[] = {
    {"", "type", "REFKV_DATABASE_TYPE", SetType},
    {"", "auto_migrate", "REFKV_DATABASE_AUTO_MIGRATE", SetAutoMigrate},
    {"", "sync_commits", "REFKV_DATABASE_SYNC_COMMITS", SetSyncCommits},
    {"rocks", "path", "REFKV_DATABASE_ROCKS_PATH", SetRocksPath},
    {"rocks", "partitions", "REFKV_DATABASE_ROCKS_PARTITIONS", SetRocksPartitions},
    {"rocks", "sync", "REFKV_DATABASE_ROCKS_SYNC", SetRocksSync},
    {"postgres", "connection_string", "REFKV_DATABASE_POSTGRES_CONNECTION_STRING", SetPgConnection},
    {"postgres", "max_open_connections", "REFKV_DATABASE_POSTGRES_MAX_OPEN_CONNECTIONS",
     SetPgMaxOpen},
    {"postgres", "table", "REFKV_DATABASE_POSTGRES_TABLE", SetPgTable},
    {"dynamodb", "table", "REFKV_DATABASE_DYNAMODB_TABLE", SetDynamo_table},
    {"dynamodb", "endpoint", "REFKV_DATABASE_DYNAMODB_ENDPOINT", SetDynamo_endpoint},
    {"dynamodb", "region", "REFKV_DATABASE_DYNAMODB_REGION", SetDynamo_region},
    {"dynamodb", "billing", "REFKV_DATABASE_DYNAMODB_BILLING", SetDynamo_billing},
    {"dynamodb", "read_capacity", "REFKV_DATABASE_DYNAMODB_READ_CAPACITY", SetDynamo_read_capacity},
    {"dynamodb", "write_capacity", "REFKV_DATABASE_DYNAMODB_WRITE_CAPACITY",
     SetDynamo_write_capacity},
    {"dynamodb", "scan_page_size", "REFKV_DATABASE_DYNAMODB_SCAN_PAGE_SIZE",
     SetDynamo_scan_page_size},
    {"dynamodb", "max_connections", "REFKV_DATABASE_DYNAMODB_MAX_CONNECTIONS",
     SetDynamo_max_connections},
    {"dynamodb", "request_timeout_ms", "REFKV_DATABASE_DYNAMODB_REQUEST_TIMEOUT_MS",
     SetDynamo_request_timeout_ms},
};

const Field* FindField(std::string_view section, std::string_view name) {
  for (const Field& f : kFields) {
    if (f.section == section && f.name == name) return &f;
  }
  return nullptr;
}

std::string At(std::string_view file, const YAML::Node& node) {
  return std::string(file) + ":" + std::to_string(node.Mark().line + 1);
}

// Remembers the keys of one mapping: yaml-cpp keeps a repeated key as a second entry (and
// a lookup finds one of them), so a repeat would silently decide which value counts.
class KeySet {
 public:
  KeySet(std::string_view file, std::string prefix) : file_(file), prefix_(std::move(prefix)) {}
  // InvalidArgument naming the file, the repeat's line and the first one's.
  Status Add(const YAML::Node& key_node) {
    auto [it, inserted] = lines_.emplace(key_node.Scalar(), key_node.Mark().line + 1);
    if (inserted) return Status::OK();
    return Status::InvalidArgument(At(file_, key_node) + ": duplicate key '" + prefix_ +
                                   key_node.Scalar() + "' (first at line " +
                                   std::to_string(it->second) + ")");
  }

 private:
  std::string_view file_;
  std::string prefix_;
  std::map<std::string, int> lines_;
};

// A field written with no value ("path:", "path: ~", "path: ''") is refused rather than
// taken as the default: it is a value someone meant to fill in (an unexpanded template).
// `key_node` locates it: a null value has no mark of its own.
Status CheckHasValue(std::string_view file, const YAML::Node& key_node, const YAML::Node& value,
                     const std::string& name) {
  if (value.IsNull() || (value.IsScalar() && value.Scalar().empty())) {
    return Status::InvalidArgument(At(file, key_node) + ": 'database." + name +
                                   "' has no value (remove the line to use the default)");
  }
  return Status::OK();
}

// Walks a parsed document. Only reads scalars and iterates maps, which do not throw, but
// runs inside ParseConfig's try block anyway.
Status WalkDatabase(const YAML::Node& db_node, std::string_view file, DatabaseConfig& db) {
  if (db_node.IsNull()) return Status::OK();
  if (!db_node.IsMap()) {
    return Status::InvalidArgument(At(file, db_node) + ": 'database' must be a mapping");
  }
  KeySet keys(file, "database.");
  for (const auto& entry : db_node) {
    const YAML::Node key_node = entry.first;
    const YAML::Node value = entry.second;
    const std::string key = key_node.Scalar();
    REFKV_RETURN_IF_ERROR(keys.Add(key_node));
    if (key == "rocks" || key == "postgres" || key == "dynamodb") {
      if (value.IsNull()) continue;
      if (!value.IsMap()) {
        return Status::InvalidArgument(At(file, value) + ": 'database." + key +
                                       "' must be a mapping");
      }
      KeySet names(file, "database." + key + ".");
      for (const auto& field_entry : value) {
        const YAML::Node name_node = field_entry.first;
        const YAML::Node field_value = field_entry.second;
        const std::string name = name_node.Scalar();
        REFKV_RETURN_IF_ERROR(names.Add(name_node));
        const Field* field = FindField(key, name);
        if (field == nullptr) {
          return Status::InvalidArgument(At(file, name_node) + ": unknown key 'database." + key +
                                         "." + name + "'");
        }
        REFKV_RETURN_IF_ERROR(CheckHasValue(file, name_node, field_value, key + "." + name));
        if (!field_value.IsScalar()) {
          return Status::InvalidArgument(At(file, field_value) + ": 'database." + key + "." + name +
                                         "' must be a single value");
        }
        REFKV_RETURN_IF_ERROR(field->set(db, field_value.Scalar(), At(file, field_value)));
      }
      continue;
    }
    const Field* field = FindField("", key);
    if (field == nullptr) {
      return Status::InvalidArgument(
          At(file, key_node) + ": unknown key 'database." + key +
          "' (expected type, auto_migrate, sync_commits, rocks, postgres, dynamodb)");
    }
    REFKV_RETURN_IF_ERROR(CheckHasValue(file, key_node, value, key));
    if (!value.IsScalar()) {
      return Status::InvalidArgument(At(file, value) + ": 'database." + key +
                                     "' must be a single value");
    }
    REFKV_RETURN_IF_ERROR(field->set(db, value.Scalar(), At(file, value)));
  }
  return Status::OK();
}

// Percent-encodes the characters engine/uri.h gives a meaning to.
std::string UriEscape(std::string_view s, bool in_query) {
  std::string out;
  for (char c : s) {
    if (c == '%' || c == '?' || (in_query && (c == '&' || c == '='))) {
      out.push_back('%');
      AppendHexByte(&out, static_cast<unsigned char>(c), HexCase::kUpper);
    } else {
      out.push_back(c);
    }
  }
  return out;
}

// Percent-encodes everything but unreserved URI characters.
std::string PercentEncodeAll(std::string_view s) {
  std::string out;
  for (char c : s) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
        c == '~' || c == '/') {
      out.push_back(c);
    } else {
      out.push_back('%');
      AppendHexByte(&out, static_cast<unsigned char>(c), HexCase::kUpper);
    }
  }
  return out;
}

std::optional<std::string> NonEmpty(const EnvLookup& env, std::string_view name) {
  auto v = env(name);
  if (v && v->empty()) return std::nullopt;  // an empty variable counts as unset
  return v;
}

bool AnyFromEnv(const DatabaseConfig& db) {
  auto env = [](const auto& s) { return s.has_value() && s.origin.rfind("REFKV_", 0) == 0; };
  return env(db.type) || env(db.rocks.path) || env(db.rocks.partitions) || env(db.rocks.sync) ||
         env(db.postgres.connection_string) || env(db.postgres.max_open_connections) ||
         env(db.postgres.table) || db.dynamodb.AnyFromEnv();
}

std::string JoinPath(const std::string& dir, const std::string& path) {
  if (path.empty() || path[0] == '/' || dir.empty() || dir == ".") return path;
  return dir + "/" + path;
}

}  // namespace

bool DatabaseConfig::AnySet() const {
  return type.has_value() || rocks.path.has_value() || rocks.partitions.has_value() ||
         rocks.sync.has_value() || postgres.connection_string.has_value() ||
         postgres.max_open_connections.has_value() || postgres.table.has_value() ||
         dynamodb.AnySet();
}

bool DatabaseConfig::Dynamo::AnySet() const {
  return table.has_value() || endpoint.has_value() || region.has_value() || billing.has_value() ||
         read_capacity.has_value() || write_capacity.has_value() || scan_page_size.has_value() ||
         max_connections.has_value() || request_timeout_ms.has_value();
}

bool DatabaseConfig::Dynamo::AnyFromEnv() const {
  auto env = [](const auto& s) { return s.has_value() && s.origin.rfind("REFKV_", 0) == 0; };
  return env(table) || env(endpoint) || env(region) || env(billing) || env(read_capacity) ||
         env(write_capacity) || env(scan_page_size) || env(max_connections) ||
         env(request_timeout_ms);
}

EnvLookup ProcessEnv() {
  return [](std::string_view name) -> std::optional<std::string> {
    const char* v = std::getenv(std::string(name).c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

Result<Config> ParseConfig(std::string_view yaml_text, std::string_view file_name) {
  Config config;
  config.file = std::string(file_name);
  // The one place yaml-cpp is called: its exceptions end here.
  try {
    YAML::Node root = YAML::Load(std::string(yaml_text));
    if (root.IsNull()) return config;  // an empty file
    if (!root.IsMap()) {
      return Status::InvalidArgument(At(file_name, root) +
                                     ": expected a mapping with a 'database:' section");
    }
    KeySet sections(file_name, "");
    for (const auto& entry : root) {
      const YAML::Node key_node = entry.first;
      const YAML::Node value = entry.second;
      const std::string key = key_node.Scalar();
      REFKV_RETURN_IF_ERROR(sections.Add(key_node));
      if (key != "database") {
        return Status::InvalidArgument(At(file_name, key_node) + ": unknown section '" + key +
                                       "' (expected database)");
      }
      REFKV_RETURN_IF_ERROR(WalkDatabase(value, file_name, config.database));
    }
  } catch (const YAML::Exception& e) {
    std::string where = std::string(file_name);
    if (!e.mark.is_null()) {
      where += ":" + std::to_string(e.mark.line + 1) + ":" + std::to_string(e.mark.column + 1);
    }
    return Status::InvalidArgument(where + ": malformed YAML: " + e.msg);
  }
  return config;
}

Result<Config> LoadConfigFile(const std::string& path) {
  std::error_code ec;
  auto st = std::filesystem::status(path, ec);
  if (!std::filesystem::exists(st)) {
    return Status::NotFound("config file '" + path + "' does not exist");
  }
  if (std::filesystem::is_directory(st)) {
    return Status::InvalidArgument("config file '" + path + "' is a directory");
  }
  std::ifstream in(path, std::ios::binary);
  if (!in.is_open()) return Status::IOError("cannot open config file '" + path + "'");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (in.bad()) return Status::IOError("cannot read config file '" + path + "'");
  return ParseConfig(text, path);
}

Status ApplyEnvOverrides(const EnvLookup& env, Config& config) {
  for (const Field& f : kFields) {
    auto v = NonEmpty(env, f.env);
    if (v) REFKV_RETURN_IF_ERROR(f.set(config.database, *v, std::string(f.env)));
  }
  return Status::OK();
}

Result<std::string> DatabaseUri(const DatabaseConfig& db) {
  const std::string type = db.type.value.value_or("rocks");
  if (type == "mem") return std::string("mem://");
  if (type == "rocks") {
    std::string uri =
        "rocks://" + UriEscape(db.rocks.path.value.value_or("./refkv-data"), /*in_query=*/false);
    char sep = '?';
    if (db.rocks.partitions.has_value()) {
      uri.push_back(sep);
      uri.append("partitions=").append(*db.rocks.partitions.value);
      sep = '&';
    }
    if (db.rocks.sync.has_value()) {
      uri.push_back(sep);
      uri.append("sync=").append(*db.rocks.sync.value ? "true" : "false");
    }
    return uri;
  }
  if (type == "dynamodb") {
    const auto& d = db.dynamodb;
    if (!d.table.has_value()) {
      return Status::InvalidArgument("database type dynamodb (" + db.type.origin +
                                     ") needs database.dynamodb.table (or "
                                     "REFKV_DATABASE_DYNAMODB_TABLE)");
    }
    std::string uri = "dynamodb://" + PercentEncodeAll(*d.table.value);
    char sep = '?';
    auto add = [&](std::string_view name, const std::string& value) {
      uri += sep + std::string(name) + "=" + PercentEncodeAll(value);
      sep = '&';
    };
    if (d.endpoint.has_value()) add("endpoint", *d.endpoint.value);
    if (d.region.has_value()) add("region", *d.region.value);
    if (d.billing.has_value()) add("billing", *d.billing.value);
    for (auto [name, setting] : {std::pair{"read_capacity", &d.read_capacity},
                                 {"write_capacity", &d.write_capacity},
                                 {"scan_page_size", &d.scan_page_size},
                                 {"max_connections", &d.max_connections},
                                 {"request_timeout_ms", &d.request_timeout_ms}}) {
      if (setting->has_value()) add(name, std::to_string(*setting->value));
    }
    return uri;
  }
  // postgres
  const auto& pg = db.postgres;
  if (!pg.connection_string.has_value()) {
    return Status::InvalidArgument("database type postgres (" + db.type.origin +
                                   ") needs database.postgres.connection_string (or "
                                   "REFKV_DATABASE_POSTGRES_CONNECTION_STRING)");
  }
  const std::string& cs = *pg.connection_string.value;
  std::string uri;
  if (cs.rfind("postgres://", 0) == 0 || cs.rfind("postgresql://", 0) == 0) {
    uri = cs;
  } else {
    // A libpq keyword/value string ("host=/run/pg dbname=x"): the driver's conninfo=.
    uri = "postgres://?conninfo=" + PercentEncodeAll(cs);
  }
  char sep = uri.find('?') == std::string::npos ? '?' : '&';
  if (pg.max_open_connections.has_value()) {
    uri +=
        sep + std::string("max_open_connections=") + std::to_string(*pg.max_open_connections.value);
    sep = '&';
  }
  if (pg.table.has_value()) uri += sep + std::string("table=") + UriEscape(*pg.table.value, true);
  return uri;
}

std::string DescribeOrigin(const StoreSource& source) {
  return source.origin == StoreOrigin::kDefault ? source.description : "from " + source.description;
}

Result<StoreSource> ResolveStore(const ResolveInputs& inputs, const EnvLookup& env) {
  if (inputs.store_flag_given && inputs.store_flag.empty()) {
    return Status::InvalidArgument(
        "--store is empty: give a store URI (e.g. rocks://./refkv-data), or leave --store out "
        "to use REFKV_STORE, the config file or the default");
  }
  if (inputs.config_flag_given && inputs.config_flag.empty()) {
    return Status::InvalidArgument(
        "--config is empty: give a config file, or leave --config out to use ./refkv.yaml");
  }
  Config config;
  bool have_config = false;
  if (!inputs.config_flag.empty()) {
    auto loaded = LoadConfigFile(JoinPath(inputs.working_dir, inputs.config_flag));
    if (!loaded.ok()) {
      if (loaded.status().IsNotFound()) {
        return Status::InvalidArgument("config file '" + inputs.config_flag +
                                       "' (from --config) does not exist");
      }
      return loaded.status();
    }
    config = std::move(loaded).value();
    have_config = true;
  }
  if (!inputs.store_flag.empty() || NonEmpty(env, "REFKV_STORE")) {
    const bool auto_migrate = config.database.auto_migrate.value.value_or(false);
    // The store is given, the file's database fields are not used - but durability is a
    // choice of the run, so its variable counts here too.
    if (auto v = NonEmpty(env, "REFKV_DATABASE_SYNC_COMMITS")) {
      REFKV_RETURN_IF_ERROR(SetSyncCommits(config.database, *v, "REFKV_DATABASE_SYNC_COMMITS"));
    }
    StoreSource source =
        !inputs.store_flag.empty()
            ? StoreSource{inputs.store_flag, StoreOrigin::kFlag, "--store", auto_migrate}
            : StoreSource{*NonEmpty(env, "REFKV_STORE"), StoreOrigin::kEnv, "REFKV_STORE",
                          auto_migrate};
    source.sync_commits = config.database.sync_commits.value.value_or(true);
    return source;
  }
  if (!have_config) {
    auto loaded = LoadConfigFile(JoinPath(inputs.working_dir, std::string(kDefaultConfigFile)));
    if (loaded.ok()) {
      config = std::move(loaded).value();
      config.file = std::string(kDefaultConfigFile);
    } else if (!loaded.status().IsNotFound()) {
      return loaded.status();
    }
  }
  REFKV_RETURN_IF_ERROR(ApplyEnvOverrides(env, config));
  const bool auto_migrate = config.database.auto_migrate.value.value_or(false);
  const bool sync_commits = config.database.sync_commits.value.value_or(true);
  if (!config.database.AnySet()) {
    StoreSource source{std::string(kDefaultStoreUri), StoreOrigin::kDefault, "default",
                       auto_migrate};
    source.sync_commits = sync_commits;
    return source;
  }
  REFKV_ASSIGN_OR_RETURN(std::string uri, DatabaseUri(config.database));
  std::string description;
  if (!config.file.empty()) description = config.file;
  if (AnyFromEnv(config.database)) {
    description += (description.empty() ? "" : " + ") + std::string("REFKV_DATABASE_*");
  }
  StoreSource source{uri, StoreOrigin::kConfig, description, auto_migrate};
  source.sync_commits = sync_commits;
  return source;
}

}  // namespace refkv::cli
