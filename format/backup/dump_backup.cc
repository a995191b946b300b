// DumpBackup, RestoreDump, and RestoreBackup's dispatch (format/backup.h).
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "engine/metadata.h"
#include "engine/uri.h"
#include "format/backup.h"
#include "format/backup/checkpoint_restore.h"

namespace refkv::format {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Status Refuse(const RestoreOptions& options, RestoreRefusal why, Status s) {
  if (options.refusal != nullptr) *options.refusal = why;
  return s;
}

// Partitions (but the metadata) that hold at least one record.
Result<std::vector<std::string>> NonEmptyPartitions(kv::Store& store) {
  REFKV_ASSIGN_OR_RETURN(std::vector<std::string> all, store.ListPartitions());
  std::vector<std::string> out;
  for (const auto& p : all) {
    if (p == kv::kMetaPartition) continue;
    kv::ScanOptions one;
    one.batch_size = 1;
    REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(p, one));
    if (it->Valid()) {
      out.push_back(p);
    } else {
      REFKV_RETURN_IF_ERROR(it->status());
    }
  }
  return out;
}

}  // namespace

Result<std::string> DumpBackup(kv::Store& store, int64_t schema, const std::string& dir) {
  std::string base = dir.empty() ? "." : dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  ExportOptions options;
  options.path =
      base + "/refkv-backup-s" + std::to_string(schema) + "-" + std::to_string(NowMs()) + ".dump";
  auto summary = ExportDump(store, options);
  if (!summary.ok()) {
    return summary.status().WithContext("dump backup to '" + options.path + "'");
  }
  return options.path;
}

Result<RestoreSummary> RestoreDump(kv::Store& store, const std::string& dump_path,
                                   const RestoreOptions& options) {
  if (options.refusal != nullptr) *options.refusal = RestoreRefusal::kNone;
  // 1. The whole file, before anything is written.
  auto info = VerifyDump(dump_path, options.progress);
  if (!info.ok()) {
    return Refuse(options, RestoreRefusal::kBadBackup,
                  info.status().WithContext("backup '" + dump_path +
                                            "' is not a usable refkv dump; nothing was changed"));
  }
  RestoreSummary summary;
  summary.kind = "dump";
  summary.schema = info->header.schema_version;
  // 2. Under the lease: no migration runs while the data is replaced.
  Status s = kv::migrate::RunUnderLease(store, options.lease, [&]() -> Status {
    REFKV_ASSIGN_OR_RETURN(std::vector<std::string> full, NonEmptyPartitions(store));
    if (!full.empty() && !options.replace) {
      std::string names;
      for (size_t i = 0; i < full.size() && i < 5; ++i) names += (i ? ", " : "") + full[i];
      return Status::AlreadyExists(
          "the store holds data (partitions " + names + (full.size() > 5 ? ", ..." : "") +
          "); restore a dump into a fresh store, or pass --replace to drop its data first "
          "(nothing was changed)");
    }
    if (options.replace) {
      REFKV_ASSIGN_OR_RETURN(std::vector<std::string> all, store.ListPartitions());
      for (const auto& p : all) {
        if (p != kv::kMetaPartition) REFKV_RETURN_IF_ERROR(store.DropPartition(p));
      }
    }
    ImportOptions import;
    import.on_conflict = OnConflict::kOverwrite;
    import.allow_older_schema = true;
    import.progress = options.progress;
    auto imported = ImportDump(dump_path, store, import);
    if (!imported.ok()) {
      return imported.status().WithContext(
          "restore of '" + dump_path +
          "' failed part way: the store is partly restored; run the restore again with "
          "--replace");
    }
    summary.records = imported->written;
    return kv::migrate::ResetAfterRestore(store, summary.schema);
  });
  if (s.IsBusy()) return Refuse(options, RestoreRefusal::kStoreInUse, s);
  REFKV_RETURN_IF_ERROR(s);
  return summary;
}

Result<RestoreSummary> RestoreBackup(std::string_view store_uri, const std::string& backup,
                                     const RestoreOptions& options) {
  if (options.refusal != nullptr) *options.refusal = RestoreRefusal::kNone;
  std::error_code ec;
  auto type = std::filesystem::status(backup, ec).type();
  if (type == std::filesystem::file_type::not_found) {
    return Refuse(options, RestoreRefusal::kBadBackup,
                  Status::NotFound("no backup at '" + backup +
                                   "' (give the path 'migrate up' printed, or that 'migrate "
                                   "status' shows in the history); nothing was changed"));
  }
  REFKV_ASSIGN_OR_RETURN(kv::Uri uri, kv::Uri::Parse(store_uri));
  if (type == std::filesystem::file_type::directory) {
    if (uri.scheme != "rocks") {
      return Status::InvalidArgument("backup '" + backup +
                                     "' is a directory (a RocksDB checkpoint); it restores only "
                                     "into a rocks:// store, not '" +
                                     std::string(store_uri) + "'");
    }
    return backup_internal::RestoreCheckpoint(uri, backup, options);
  }
  if (type != std::filesystem::file_type::regular) {
    return Refuse(options, RestoreRefusal::kBadBackup,
                  Status::InvalidArgument("backup '" + backup +
                                          "' is neither a checkpoint directory nor a dump file; "
                                          "nothing was changed"));
  }
  // Check the file before the store is opened (and perhaps created).
  auto inspected = InspectDump(backup);
  if (!inspected.ok()) {
    return Refuse(options, RestoreRefusal::kBadBackup,
                  inspected.status().WithContext("backup '" + backup +
                                                 "' is not a usable refkv dump; nothing was "
                                                 "changed"));
  }
  auto opened = kv::Open(store_uri, options.open);
  if (!opened.ok()) {
    Status s = opened.status().WithContext("cannot open store '" + std::string(store_uri) + "'");
    if (s.IsBusy()) return Refuse(options, RestoreRefusal::kStoreInUse, s);
    return s;
  }
  std::unique_ptr<kv::Store> store = std::move(opened).value();
  auto restored = RestoreDump(*store, backup, options);
  Status closed = store->Close();
  REFKV_RETURN_IF_ERROR(restored.status());
  REFKV_RETURN_IF_ERROR(closed);
  return restored;
}

}  // namespace refkv::format
