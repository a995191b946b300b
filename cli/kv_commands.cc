// refkv kv get/set/setif/del/scan/partitions: the kv::Store verbs on the command line.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <memory>
#include <string>

#include "cli/bytes_format.h"
#include "cli/commands.h"
#include "cli/context.h"
#include "cli/json.h"
#include "cli/number_option.h"

namespace refkv::cli {
namespace {

// Storage for one command's arguments; owned by its handler (kept alive by the context).
struct KvArgs {
  std::string partition, key, value;
  // setif
  bool absent = false, exists = false;
  std::string expect;
  CLI::Option* expect_option = nullptr;
  // scan
  std::string from, prefix;
  CLI::Option* from_option = nullptr;
  CLI::Option* prefix_option = nullptr;
  size_t limit = 0;
};

// Decodes the partition and key arguments (--hex) and checks them as the store would,
// before the store is opened: bad input never creates a store.
Status PartitionAndKey(CliContext& ctx, std::string_view verb, const KvArgs& args,
                       std::string& partition, std::string& key, bool with_key = true) {
  REFKV_ASSIGN_OR_RETURN(partition, ctx.ArgBytes("PARTITION", args.partition));
  if (!with_key) return kv::CheckPartition(verb, partition);
  REFKV_ASSIGN_OR_RETURN(key, ctx.ArgBytes("KEY", args.key));
  return kv::CheckPartitionAndKey(verb, partition, key);
}

// The metadata partition holds the store's versions and the migration lease; a stray
// `kv set` there could make the store unopenable, so the write verbs refuse it.
Status RefuseMetaPartition(std::string_view verb, std::string_view partition) {
  if (partition != kv::kMetaPartition) return Status::OK();
  return Status::InvalidArgument(std::string(verb) + ": partition '" +
                                 std::string(kv::kMetaPartition) +
                                 "' is the store's own metadata (versions, migration lease); "
                                 "it changes only through `refkv migrate`");
}

CLI::App* AddKeyCommand(CLI::App& kv, const std::string& name, const std::string& help,
                        KvArgs& args, bool with_value) {
  CLI::App* sub = kv.add_subcommand(name, help);
  sub->add_option("PARTITION", args.partition, "partition name")->required();
  sub->add_option("KEY", args.key, "key")->required();
  if (with_value) sub->add_option("VALUE", args.value, "value (may be empty)")->required();
  return sub;
}

Status Get(CliContext& ctx, const KvArgs& args) {
  std::string partition, key;
  REFKV_RETURN_IF_ERROR(PartitionAndKey(ctx, "kv get", args, partition, key));
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kRead));
  REFKV_ASSIGN_OR_RETURN(std::string value, store->Get(partition, key));
  std::ostream& out = ctx.out();
  if (ctx.options().json) {
    out << JsonWriter(ctx.options().hex)
               .StartObject()
               .Bytes("key", key)
               .Bytes("value", value)
               .EndObject()
               .Take()
        << "\n";
  } else if (ctx.options().hex) {
    out << HexEncode(value) << "\n";
  } else {
    // The value's bytes exactly, so `refkv kv get p k > file` round-trips; a newline
    // only for a person reading a terminal.
    out.write(value.data(), static_cast<std::streamsize>(value.size()));
    if (ctx.out_is_terminal()) out << "\n";
  }
  return Status::OK();
}

Status Set(CliContext& ctx, const KvArgs& args) {
  std::string partition, key;
  REFKV_RETURN_IF_ERROR(PartitionAndKey(ctx, "kv set", args, partition, key));
  REFKV_RETURN_IF_ERROR(RefuseMetaPartition("kv set", partition));
  REFKV_ASSIGN_OR_RETURN(std::string value, ctx.ArgBytes("VALUE", args.value));
  // The limits too, before the store is opened: a refused write creates no store.
  REFKV_RETURN_IF_ERROR(kv::CheckWrite("kv set", partition, key, value));
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kWrite));
  return store->Set(partition, key, value);
}

Status SetIf(CliContext& ctx, const KvArgs& args) {
  std::string partition, key;
  REFKV_RETURN_IF_ERROR(PartitionAndKey(ctx, "kv setif", args, partition, key));
  REFKV_RETURN_IF_ERROR(RefuseMetaPartition("kv setif", partition));
  REFKV_ASSIGN_OR_RETURN(std::string value, ctx.ArgBytes("VALUE", args.value));
  // The limits too, before the store is opened: a refused write creates no store.
  REFKV_RETURN_IF_ERROR(kv::CheckWrite("kv setif", partition, key, value));
  kv::Predicate predicate = kv::Predicate::Absent();
  if (args.exists) {
    predicate = kv::Predicate::Exists();
  } else if (args.expect_option->count() > 0) {
    REFKV_ASSIGN_OR_RETURN(std::string expected, ctx.ArgBytes("--expect", args.expect));
    predicate = kv::Predicate::Equals(expected);
  }
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kWrite));
  return store->SetIf(partition, key, value, predicate);
}

Status Del(CliContext& ctx, const KvArgs& args) {
  std::string partition, key;
  REFKV_RETURN_IF_ERROR(PartitionAndKey(ctx, "kv del", args, partition, key));
  REFKV_RETURN_IF_ERROR(RefuseMetaPartition("kv del", partition));
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kWrite));
  return store->Delete(partition, key);
}

Status Scan(CliContext& ctx, const KvArgs& args) {
  std::string partition, unused;
  REFKV_RETURN_IF_ERROR(PartitionAndKey(ctx, "kv scan", args, partition, unused, false));
  kv::ScanOptions options;
  if (args.prefix_option->count() > 0) {
    REFKV_ASSIGN_OR_RETURN(std::string prefix, ctx.ArgBytes("--prefix", args.prefix));
    options = kv::ScanOptions::Prefix(prefix);
  }
  if (args.from_option->count() > 0) {
    REFKV_ASSIGN_OR_RETURN(std::string from, ctx.ArgBytes("--from", args.from));
    options.start = std::max(options.start, from);
  }
  if (args.limit > 0) options.batch_size = std::min<size_t>(args.limit, 1024);
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kRead));
  REFKV_ASSIGN_OR_RETURN(std::unique_ptr<kv::Iterator> it, store->Scan(partition, options));
  // Entries are written as they are read: a scan of any size runs in constant memory.
  std::ostream& out = ctx.out();
  const bool json = ctx.options().json;
  size_t n = 0;
  if (json) out << "[";
  for (; it->Valid() && (args.limit == 0 || n < args.limit); it->Next(), ++n) {
    if (json) {
      out << (n == 0 ? "\n" : ",\n")
          << JsonWriter(ctx.options().hex)
                 .StartObject()
                 .Bytes("key", it->key())
                 .Bytes("value", it->value())
                 .EndObject()
                 .Take();
    } else {
      out << ctx.TextBytes(it->key()) << "\t" << ctx.TextBytes(it->value()) << "\n";
    }
  }
  REFKV_RETURN_IF_ERROR(it->status());
  if (json) out << (n == 0 ? "]\n" : "\n]\n");
  return Status::OK();
}

Status Partitions(CliContext& ctx) {
  REFKV_ASSIGN_OR_RETURN(kv::Store * store, ctx.Store(Access::kRead));
  REFKV_ASSIGN_OR_RETURN(std::vector<std::string> partitions, store->ListPartitions());
  std::ostream& out = ctx.out();
  if (ctx.options().json) {
    JsonWriter j(ctx.options().hex);
    j.StartArray();
    for (const std::string& p : partitions) j.StartObject().Bytes("partition", p).EndObject();
    out << j.EndArray().Take() << "\n";
  } else {
    for (const std::string& p : partitions) out << ctx.TextBytes(p) << "\n";
  }
  return Status::OK();
}

}  // namespace

void AddKvCommands(CLI::App& app, CliContext& ctx) {
  CLI::App* kv = app.add_subcommand("kv", "read and write keys (PARTITION KEY VALUE are bytes)");
  kv->require_subcommand(1);

  auto get_args = std::make_shared<KvArgs>();
  CLI::App* get = AddKeyCommand(
      *kv, "get",
      "print the value of KEY: its raw bytes, followed by a newline only when stdout is a "
      "terminal (--hex: hex and a newline; --json: {\"key\":..,\"value\":..}); exit 3 if "
      "missing",
      *get_args, false);
  ctx.SetHandler(get, [get_args](CliContext& c) { return Get(c, *get_args); });

  auto set_args = std::make_shared<KvArgs>();
  CLI::App* set = AddKeyCommand(*kv, "set", "write VALUE to KEY unconditionally", *set_args, true);
  ctx.SetHandler(set, [set_args](CliContext& c) { return Set(c, *set_args); });

  auto setif_args = std::make_shared<KvArgs>();
  CLI::App* setif = AddKeyCommand(
      *kv, "setif",
      "write VALUE to KEY only if the predicate holds, atomically; exit 4 (nothing written) "
      "if it does not",
      *setif_args, true);
  CLI::Option_group* predicate = setif->add_option_group("predicate", "exactly one of");
  predicate->add_flag("--absent", setif_args->absent, "KEY does not exist");
  predicate->add_flag("--exists", setif_args->exists, "KEY exists (with any value)");
  setif_args->expect_option =
      predicate->add_option("--expect", setif_args->expect, "KEY's value is exactly OLD")
          ->type_name("OLD");
  predicate->require_option(1);
  ctx.SetHandler(setif, [setif_args](CliContext& c) { return SetIf(c, *setif_args); });

  auto del_args = std::make_shared<KvArgs>();
  CLI::App* del =
      AddKeyCommand(*kv, "del", "delete KEY (ok if it does not exist)", *del_args, false);
  ctx.SetHandler(del, [del_args](CliContext& c) { return Del(c, *del_args); });

  auto scan_args = std::make_shared<KvArgs>();
  CLI::App* scan = kv->add_subcommand(
      "scan",
      "list the entries of PARTITION in key order, one 'KEY<TAB>VALUE' line each (--json: "
      "an array of {\"key\":..,\"value\":..})");
  scan->add_option("PARTITION", scan_args->partition, "partition name")->required();
  scan_args->from_option =
      scan->add_option("--from", scan_args->from, "start at the first key >= K")->type_name("K");
  scan_args->prefix_option =
      scan->add_option("--prefix", scan_args->prefix, "only keys that start with X")
          ->type_name("X");
  AddNumberOption(*scan, "--limit", scan_args->limit, "at most N entries (0: all)", size_t{0},
                  kMaxLimit)
      ->type_name("N");
  ctx.SetHandler(scan, [scan_args](CliContext& c) { return Scan(c, *scan_args); });

  CLI::App* partitions =
      kv->add_subcommand("partitions", "list the partitions of the store, sorted");
  ctx.SetHandler(partitions, [](CliContext& c) { return Partitions(c); });
}

}  // namespace refkv::cli
