#include "cli/context.h"

#include "cli/bytes_format.h"
#include "cli/json.h"
#include "migrate/migrate.h"
#include "refstore/schema.h"

namespace refkv::cli {

CliContext::CliContext(std::ostream& out, bool out_is_terminal, EnvLookup env)
    : out_(out), out_is_terminal_(out_is_terminal), env_(std::move(env)) {}

CliContext::~CliContext() { (void)CloseStore(); }

void CliContext::SetHandler(const CLI::App* command, Handler handler) {
  handlers_[command] = std::move(handler);
}

const CliContext::Handler* CliContext::HandlerFor(const CLI::App* command) const {
  auto it = handlers_.find(command);
  return it == handlers_.end() ? nullptr : &it->second;
}

Result<StoreSource> CliContext::Source() {
  if (!source_) {
    ResolveInputs inputs;
    inputs.store_flag = options_.store;
    inputs.config_flag = options_.config;
    inputs.store_flag_given = options_.store_given;
    inputs.config_flag_given = options_.config_given;
    auto resolved = ResolveStore(inputs, env_);
    if (!resolved.ok()) {
      setup_failed_ = true;
      return resolved.status();
    }
    source_ = std::move(resolved).value();
  }
  return *source_;
}

Result<kv::Store*> CliContext::Store(Access access) {
  if (store_ &&
      (access == store_access_ || access == Access::kRead || store_access_ == Access::kWrite)) {
    return store_.get();
  }
  REFKV_ASSIGN_OR_RETURN(StoreSource source, Source());
  return OpenStore(source, access);
}

Result<kv::Store*> CliContext::OpenStore(const StoreSource& source, Access access) {
  REFKV_RETURN_IF_ERROR(CloseStore());
  kv::OpenOptions options;
  // New stores start at the ref store's newest schema; older ones need `migrate up`.
  options.code_schema_version = refstore::kCodeSchema;
  if (access == Access::kRead || access == Access::kInspect) {
    options.create_if_missing = false;
    options.read_only = true;
  }
  if (access == Access::kInspect) options.allow_older_schema = options.allow_migrating = true;
  if (access == Access::kInspect || access == Access::kLoad) options.allow_pending_load = true;
  if (access == Access::kLoad) options.allow_older_schema = true;
  // database.auto_migrate: a store opened for writing is brought to the newest schema.
  auto opened = source.auto_migrate && access == Access::kWrite
                    ? kv::migrate::OpenAndMigrate(source.uri, refstore::SchemaSteps())
                    : kv::Open(source.uri, options);
  if (!opened.ok()) {
    setup_failed_ = true;
    return opened.status().WithContext("cannot open store '" + source.uri + "' (" +
                                       DescribeOrigin(source) + ")");
  }
  store_ = std::move(opened).value();
  store_access_ = access;
  return store_.get();
}

Status CliContext::CloseStore() {
  if (!store_) return Status::OK();
  Status s = store_->Close();
  store_.reset();
  return s;
}

Result<std::string> CliContext::ArgBytes(std::string_view what, const std::string& arg) const {
  if (options_.hex) return HexDecode(arg, what);
  return arg;
}

std::string CliContext::TextBytes(std::string_view bytes) const {
  return options_.hex ? HexEncode(bytes) : EscapeText(bytes);
}

std::string CliContext::JsonBytes(std::string_view name, std::string_view bytes) const {
  return JsonBytesMember(name, bytes, options_.hex);
}

}  // namespace refkv::cli
