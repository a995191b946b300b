// refkv store info / store uri.
#include <CLI/CLI.hpp>
#include <ctime>
#include <optional>
#include <string>

#include "cli/bytes_format.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/json.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "refstore/schema.h"

namespace refkv::cli {
namespace {

std::string UtcTime(int64_t unix_seconds) {
  std::time_t t = static_cast<std::time_t>(unix_seconds);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

void Row(std::ostream& out, std::string_view name, const std::string& value) {
  out << name;
  for (size_t i = name.size(); i < 16; ++i) out << ' ';
  out << value << "\n";
}

Status Info(CliContext& ctx) {
  REFKV_ASSIGN_OR_RETURN(StoreSource source, ctx.Source());
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kInspect));
  return WriteStoreInfo(ctx, source, *store);
}

Status Uri(CliContext& ctx) {
  REFKV_ASSIGN_OR_RETURN(StoreSource source, ctx.Source());
  if (ctx.options().json) {
    ctx.out() << JsonWriter()
                     .StartObject()
                     .Bytes("uri", source.uri)
                     .Field("source", DescribeOrigin(source))
                     .EndObject()
                     .Take()
              << "\n";
  } else {
    ctx.out() << source.uri << " (" << DescribeOrigin(source) << ")\n";
  }
  return Status::OK();
}

}  // namespace

Status WriteStoreInfo(CliContext& ctx, const StoreSource& source, kv::Store& store) {
  REFKV_ASSIGN_OR_RETURN(kv::StoreMetadata md, kv::ReadMetadata(store));
  REFKV_ASSIGN_OR_RETURN(std::optional<kv::PendingLoad> load, kv::ReadPendingLoad(store));
  const std::string pending = load ? kv::DescribePendingLoad(*load) : "";
  std::vector<kv::StoreProperty> properties = store.Properties();
  std::ostream& out = ctx.out();
  if (ctx.options().json) {
    JsonWriter j;
    j.StartObject()
        .Field("driver", std::string_view(store.driver()))
        .Field("uri", source.uri)
        .Field("source", DescribeOrigin(source))
        .Field("store_id", md.store_id)
        .Field("format_version", static_cast<int64_t>(md.format_version))
        .Field("code_format_version", static_cast<int64_t>(kv::kFormatVersion))
        .Field("schema_version", static_cast<int64_t>(md.schema_version))
        .Field("code_schema_version", static_cast<int64_t>(refstore::kCodeSchema))
        .Field("writer_version", md.writer_version)
        .Field("code_version", std::string_view(kv::CodeVersion()))
        .Field("created_at", static_cast<int64_t>(md.created_at))
        .Field("pending_load", pending)
        .Key("properties")
        .StartObject();
    for (const kv::StoreProperty& p : properties) j.Field(p.name, p.value);
    out << j.EndObject().EndObject().Take() << "\n";
    return Status::OK();
  }
  Row(out, "driver", std::string(store.driver()));
  Row(out, "uri", source.uri + " (" + DescribeOrigin(source) + ")");
  Row(out, "store id", md.store_id);
  Row(out, "format version",
      std::to_string(md.format_version) + " (this refkv: " + std::to_string(kv::kFormatVersion) +
          ")");
  Row(out, "schema version",
      std::to_string(md.schema_version) + " (this refkv: " + std::to_string(refstore::kCodeSchema) +
          ")");
  Row(out, "writer version",
      md.writer_version + " (this refkv: " + std::string(kv::CodeVersion()) + ")");
  Row(out, "created at", UtcTime(md.created_at));
  if (load) Row(out, "pending load", pending);
  for (const kv::StoreProperty& p : properties) Row(out, p.name, EscapeText(p.value));
  return Status::OK();
}

void AddStoreCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* store = app.add_subcommand("store", "the store itself");
  store->require_subcommand(1);
  CLI::App* info = store->add_subcommand(
      "info",
      "driver, URI, store id, format/schema/writer versions and driver properties "
      "(opens read-only; the store must exist)");
  ctx.SetHandler(info, [](CliContext& c) { return Info(c); });
  CLI::App* uri = store->add_subcommand(
      "uri", "print the store URI and where it came from, without opening the store");
  ctx.SetHandler(uri, [](CliContext& c) { return Uri(c); });
}

}  // namespace refkv::cli
