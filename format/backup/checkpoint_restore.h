// Restoring a RocksDB checkpoint (internal; see format/backup.h for the contract).
#ifndef REFKV_FORMAT_BACKUP_CHECKPOINT_RESTORE_H_
#define REFKV_FORMAT_BACKUP_CHECKPOINT_RESTORE_H_

#include <string>

#include "engine/uri.h"
#include "format/backup.h"

namespace refkv::format::backup_internal {

// `uri`: a rocks:// URI (its location is the store's directory); `backup` a directory.
Result<RestoreSummary> RestoreCheckpoint(const kv::Uri& uri, const std::string& backup,
                                         const RestoreOptions& options);

}  // namespace refkv::format::backup_internal

#endif  // REFKV_FORMAT_BACKUP_CHECKPOINT_RESTORE_H_
