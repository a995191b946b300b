// The pending-load protocol (format/load/pending_load.h).
#include "format/load/pending_load.h"

#include <algorithm>
#include <chrono>

#include "engine/open.h"

namespace refkv::format::internal {

Result<std::optional<kv::PendingLoad>> CheckPendingLoad(kv::Store& store,
                                                        const kv::PendingLoad& load) {
  REFKV_ASSIGN_OR_RETURN(std::optional<kv::PendingLoad> pending, kv::ReadPendingLoad(store));
  if (pending && pending->identity != load.identity) {
    return Status::AlreadyExists(kv::DescribePendingLoad(*pending) + ", before this " + load.what +
                                 "; nothing was written");
  }
  return pending;
}

Status BeginLoad(kv::Store& store, kv::PendingLoad load, bool supersede) {
  load.started_at = std::chrono::duration_cast<std::chrono::seconds>(
                        std::chrono::system_clock::now().time_since_epoch())
                        .count();
  load.writer = std::string(kv::CodeVersion());
  const std::string value = kv::EncodePendingLoad(load);
  Status s = supersede ? store.Set(kv::kMetaPartition, kv::kMetaPendingLoad, value)
                       : store.SetIf(kv::kMetaPartition, kv::kMetaPendingLoad, value,
                                     kv::Predicate::Absent());
  if (s.IsPredicateFailed()) {
    // Another load started between our check and now.
    REFKV_ASSIGN_OR_RETURN(std::optional<kv::PendingLoad> other, kv::ReadPendingLoad(store));
    return Status::AlreadyExists(
        (other ? kv::DescribePendingLoad(*other) : std::string("another load started")) +
        "; nothing was written");
  }
  REFKV_RETURN_IF_ERROR(s.WithContext("recording the " + load.what + " as pending"));
  return store.Sync();
}

Status CheckAbort(const std::optional<kv::PendingLoad>& pending, const kv::PendingLoad& load) {
  if (!pending) {
    return Status::NotFound("the store holds no unfinished " + load.what +
                            " to abort; nothing was changed");
  }
  if (pending->mode != "fail") {
    return Status::InvalidArgument(
        "the unfinished " + load.what + " ran with --on-conflict " + pending->mode +
        ": the values it replaced are gone, so it cannot be rolled back; run `" + pending->resume +
        "` again to finish it (nothing was changed)");
  }
  return Status::OK();
}

Status FinishLoad(kv::Store& store) {
  REFKV_RETURN_IF_ERROR(store.Sync());
  REFKV_RETURN_IF_ERROR(store.Delete(kv::kMetaPartition, kv::kMetaPendingLoad));
  return store.Sync();
}

Result<std::string> FirstNonEmptyPartition(kv::Store& store) {
  REFKV_ASSIGN_OR_RETURN(std::vector<std::string> all, store.ListPartitions());
  for (const auto& p : all) {
    if (p == kv::kMetaPartition) continue;
    kv::ScanOptions one;
    one.batch_size = 1;
    REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(p, one));
    if (it->Valid()) return p;
    REFKV_RETURN_IF_ERROR(it->status());
  }
  return std::string();
}

std::string CommandLine(const std::vector<std::string_view>& args) {
  std::string out;
  for (std::string_view a : args) {
    if (!out.empty()) out += ' ';
    bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
             std::string_view("/._-+=:@%,").find(c) != std::string_view::npos;
    });
    if (plain) {
      out += a;
      continue;
    }
    out += '\'';
    for (char c : a) {
      if (c == '\'') {
        out += "'\\''";
      } else {
        out += c;
      }
    }
    out += '\'';
  }
  return out;
}

Status Unfinished(const Status& error, const kv::PendingLoad& load) {
  if (error.ok()) return error;
  return Status(error.code(), error.message() + "; the store keeps a record of the unfinished " +
                                  load.what + ": run `" + load.resume + "` again to finish it");
}

Result<int64_t> ImportSchema(kv::Store& store, int64_t source_schema, bool allow_older,
                             std::string_view who) {
  if (source_schema == 0) return int64_t{0};  // the source had no metadata: nothing to compare
  auto md = kv::ReadMetadata(store);
  if (!md.ok()) {
    if (md.status().IsNotFound()) return int64_t{0};  // a bare target: nothing to compare
    return md.status().WithContext(std::string(who) + ": reading the target's metadata");
  }
  const std::string source = std::to_string(source_schema);
  const std::string target = std::to_string(md->schema_version);
  if (source_schema == md->schema_version) return int64_t{0};
  if (source_schema > md->schema_version) {
    return Status::VersionMismatch(std::string(who) + ": the file's schema version " + source +
                                   " is newer than the target store's " + target +
                                   "; upgrade the target (refkv migrate up) first");
  }
  REFKV_ASSIGN_OR_RETURN(std::string data, FirstNonEmptyPartition(store));
  if (!data.empty()) {
    return Status::VersionMismatch(
        std::string(who) + ": the file's schema version " + source +
        " is older than the target store's " + target + ", which holds data (partition '" +
        kv::Printable(data) +
        "'): data of two schemas cannot be mixed; import into a fresh store with "
        "--allow-older-schema (it takes schema " +
        source + "), then run `refkv migrate up`; nothing was written");
  }
  if (!allow_older) {
    return Status::VersionMismatch(
        std::string(who) + ": the file's schema version " + source +
        " is older than the target store's " + target +
        "; to import it into this empty store at schema " + source +
        ", allow an older schema (--allow-older-schema), then run `refkv migrate up`; "
        "nothing was written");
  }
  return source_schema;
}

Status SetImportSchema(kv::Store& store, int64_t schema) {
  REFKV_ASSIGN_OR_RETURN(kv::StoreMetadata md, kv::ReadMetadata(store));
  if (md.schema_version == schema) return Status::OK();
  return kv::SetSchemaVersion(store, md.schema_version, schema);
}

}  // namespace refkv::format::internal
