// DumpBackup, RestoreDump, and RestoreBackup's dispatch (migrate/backup.h).
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "base/hex.h"
#include "engine/metadata.h"
#include "engine/uri.h"
#include "format/dump/import.h"
#include "format/load/pending_load.h"
#include "migrate/backup.h"
#include "migrate/backup/checkpoint_restore.h"

namespace refkv::kv::migrate {
namespace {

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Whether the store can take the dump's schema: refusals before anything is written.
Status CheckRestoreSchema(const std::string& dump_path, const format::DumpHeader& header,
                          const RestoreOptions& options) {
  if (header.schema_version == 0) {
    // migrate up never writes one: the store it backs up has metadata. Its data would be
    // of no known schema, and the store one that nothing opens or migrates.
    return (Status::InvalidArgument(
                "backup '" + dump_path +
                "' is a dump of a store without refkv metadata (schema version 0), not a "
                "backup taken by 'migrate up'; load it with 'refkv import'; nothing was "
                "changed"))
        .WithReason(StatusReason::kBadBackup);
  }
  if (header.schema_version > options.open.code_schema_version) {
    return Status::VersionMismatch(
        "backup '" + dump_path + "' is at schema version " + std::to_string(header.schema_version) +
        ", newer than this refkv's " + std::to_string(options.open.code_schema_version) + " (" +
        std::string(kv::CodeVersion()) + "); restore it with refkv " + header.refkv_version +
        " or newer; nothing was changed");
  }
  return Status::OK();
}

}  // namespace

Result<std::string> DumpBackup(kv::Store& store, int64_t schema, const std::string& dir) {
  std::string base = dir.empty() ? "." : dir;
  while (base.size() > 1 && base.back() == '/') base.pop_back();
  format::ExportOptions options;
  options.path =
      base + "/refkv-backup-s" + std::to_string(schema) + "-" + std::to_string(NowMs()) + ".dump";
  auto summary = format::ExportDump(store, options);
  if (!summary.ok()) {
    return summary.status().WithContext("dump backup to '" + options.path + "'");
  }
  return options.path;
}

Result<RestoreSummary> RestoreDump(kv::Store& store, const std::string& dump_path,
                                   const RestoreOptions& options) {
  // 1. Everything that can refuse, before anything is written: the whole file, then its
  //    schema (the store takes it).
  auto info = format::VerifyDump(dump_path, options.progress);
  if (!info.ok()) {
    return (info.status().WithContext("backup '" + dump_path +
                                      "' is not a usable refkv dump; nothing was changed"))
        .WithReason(StatusReason::kBadBackup);
  }
  REFKV_RETURN_IF_ERROR(CheckRestoreSchema(dump_path, info->header, options));
  const int64_t schema = info->header.schema_version;
  RestoreSummary summary;
  summary.kind = "dump";
  summary.schema = schema;
  kv::PendingLoad load;
  load.what = "restore of " + dump_path;
  load.identity =
      "dump-restore " + HexUint64(info->file_checksum) + " " + std::to_string(info->file_bytes);
  load.resume = format::internal::CommandLine({"refkv", "migrate", "restore", dump_path});
  // 2. Under the lease (no migration runs while the data is replaced) and the
  //    pending-load record (format/load/pending_load.h): drop, import, set the schema.
  //    A restore killed or failing part way is finished by running it again.
  Status s = kv::migrate::RunUnderLease(store, options.lease, [&]() -> Status {
    REFKV_ASSIGN_OR_RETURN(std::optional<kv::PendingLoad> pending, kv::ReadPendingLoad(store));
    const bool resume = pending && pending->identity == load.identity;
    if (!resume && !options.replace) {
      if (pending) {
        return Status::AlreadyExists(kv::DescribePendingLoad(*pending) +
                                     "; or pass --replace to drop its data with the store's "
                                     "(nothing was changed)");
      }
      REFKV_ASSIGN_OR_RETURN(std::string full, format::internal::FirstNonEmptyPartition(store));
      if (!full.empty()) {
        return Status::AlreadyExists(
            "the store holds data (partition '" + kv::Printable(full) +
            "'); restore a dump into a fresh store, or pass --replace to drop its data first "
            "(nothing was changed)");
      }
    }
    // --replace drops the data of a pending load of something else too: the restore
    // supersedes it.
    if (!resume)
      REFKV_RETURN_IF_ERROR(format::internal::BeginLoad(store, load, pending.has_value()));
    auto restored = [&]() -> Status {
      REFKV_ASSIGN_OR_RETURN(std::vector<std::string> all, store.ListPartitions());
      for (const auto& p : all) {
        if (p != kv::kMetaPartition) REFKV_RETURN_IF_ERROR(store.DropPartition(p));
      }
      format::ImportOptions import;
      import.on_conflict = format::OnConflict::kOverwrite;
      import.progress = options.progress;
      auto imported = format::internal::ImportDumpRecords(
          dump_path, store, import, /*check_conflicts=*/false,
          [&](const format::DumpInfo& verified) {
            return verified.file_checksum == info->file_checksum
                       ? Status::OK()
                       : Status::Corruption("backup '" + dump_path + "' changed while it was read");
          });
      REFKV_RETURN_IF_ERROR(imported.status());
      summary.records = imported->written;
      REFKV_RETURN_IF_ERROR(kv::migrate::ResetAfterRestore(store, schema));
      return format::internal::FinishLoad(store);
    }();
    return format::internal::Unfinished(restored, load);
  });
  if (s.IsBusy()) return s.WithReason(StatusReason::kStoreInUse);
  REFKV_RETURN_IF_ERROR(s);
  return summary;
}

Result<RestoreSummary> RestoreBackup(std::string_view store_uri, const std::string& backup,
                                     const RestoreOptions& options) {
  std::error_code ec;
  auto type = std::filesystem::status(backup, ec).type();
  if (type == std::filesystem::file_type::not_found) {
    return (Status::NotFound("no backup at '" + backup +
                             "' (give the path 'migrate up' printed, or that 'migrate "
                             "status' shows in the history); nothing was changed"))
        .WithReason(StatusReason::kBadBackup);
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
    return (Status::InvalidArgument("backup '" + backup +
                                    "' is neither a checkpoint directory nor a dump file; "
                                    "nothing was changed"))
        .WithReason(StatusReason::kBadBackup);
  }
  // Check the file before the store is opened (and perhaps created).
  auto inspected = format::InspectDump(backup);
  if (!inspected.ok()) {
    return (inspected.status().WithContext("backup '" + backup +
                                           "' is not a usable refkv dump; nothing was "
                                           "changed"))
        .WithReason(StatusReason::kBadBackup);
  }
  REFKV_RETURN_IF_ERROR(CheckRestoreSchema(backup, inspected->header, options));
  // A store holding an unfinished load opens: this restore finishes it (the same dump)
  // or, with --replace, drops it with the store's data.
  kv::OpenOptions open = options.open;
  open.allow_pending_load = true;
  auto opened = kv::Open(store_uri, open);
  if (!opened.ok()) {
    Status s = opened.status().WithContext("cannot open store '" + std::string(store_uri) + "'");
    if (s.IsBusy()) return s.WithReason(StatusReason::kStoreInUse);
    return s;
  }
  std::unique_ptr<kv::Store> store = std::move(opened).value();
  auto restored = RestoreDump(*store, backup, options);
  Status closed = store->Close();
  REFKV_RETURN_IF_ERROR(restored.status());
  REFKV_RETURN_IF_ERROR(closed);
  return restored;
}

}  // namespace refkv::kv::migrate
