// Restoring a RocksDB checkpoint (internal; see migrate/backup.h for the contract).
#ifndef REFKV_MIGRATE_BACKUP_CHECKPOINT_RESTORE_H_
#define REFKV_MIGRATE_BACKUP_CHECKPOINT_RESTORE_H_

#include <string>

#include "engine/uri.h"
#include "migrate/backup.h"

namespace refkv::kv::migrate::backup_internal {

// `uri`: a rocks:// URI (its location is the store's directory); `backup` a directory.
Result<RestoreSummary> RestoreCheckpoint(const kv::Uri& uri, const std::string& backup,
                                         const RestoreOptions& options);

}  // namespace refkv::kv::migrate::backup_internal

#endif  // REFKV_MIGRATE_BACKUP_CHECKPOINT_RESTORE_H_
