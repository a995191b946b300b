// migrate/backup.h: the backups `refkv migrate up` takes before its first step, and
// `refkv migrate restore BACKUP`, which brings one back.
//
// Two kinds of backup (migrate/migrate.h, RunOptions::backup):
//   - a RocksDB checkpoint (a directory; rocks:// stores): Store::Checkpoint, hard links;
//   - a dump (one file, format/dump.h, the format of `refkv export --format dump`) for
//     every other driver: DumpBackup below. A dump holds every partition but the
//     metadata partition; its header carries the schema version.
//
// Restoring a checkpoint (RestoreBackup with a directory) never leaves a half-restored
// store: it refuses a backup holding anything but regular files (a symbolic link, whose
// target it would copy into the store, a directory, a FIFO ...: kBadBackup naming the
// entry, before anything is read or changed), verifies the backup, builds the restored store
// *beside* the target
// ("PATH.restore-new": SST files hard-linked, the rest copied), reads every record of
// it, then switches with one atomic rename (renameat2 RENAME_EXCHANGE where the file
// system has it, else two renames), and only then removes the replaced store (or keeps
// it as "PATH.replaced-<ms>"). While it works it holds the target's RocksDB LOCK, so no
// refkv process can open the store meanwhile; a store already open elsewhere is refused.
// A crash at any point leaves either the old store or the restored one at PATH; the
// next restore removes leftovers (and, after a crash between the two renames of the
// fallback, moves "PATH.restore-old" back first).
//
// Restoring a dump (a file) first runs every check that can refuse, before anything is
// written: the whole file verified (corrupt: kBadBackup), its schema (0, a store without
// metadata, is not a backup: kBadBackup; newer than options.open.code_schema_version:
// VersionMismatch), then under the migration lease the store (it must hold no data
// unless `replace`). Then, under the pending-load record (engine/metadata.h; the same
// protocol as ImportDump), every partition but the metadata is dropped, the dump
// imported, the schema version set to the dump's (migrate::ResetAfterRestore) and the
// record deleted. A restore killed or failing part way leaves the record: ordinary opens
// refuse the store, and running the same restore again (with or without `replace`)
// finishes it. With `replace`, a pending load of something else is superseded (its data
// is dropped with the rest); without, it is refused naming it.
//
// Thread-safety: the functions are reentrant; one restore per store at a time (the LOCK
// or the lease enforces it).
#ifndef REFKV_MIGRATE_BACKUP_H_
#define REFKV_MIGRATE_BACKUP_H_

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/open.h"
#include "engine/store.h"
#include "format/dump.h"
#include "migrate/migrate.h"

namespace refkv::kv::migrate {

// Writes a dump of every partition of `store` (but the metadata) to
// "<dir>/refkv-backup-s<schema>-<unix ms>.dump" ("." if `dir` is empty) and returns the
// path. OK: the file and its name are durable (ExportDump: file fdatasynced, renamed
// without replacing anything, directory fsynced), so a migration that records the path
// never records a backup a power loss can take. IOError / NotFound naming the file if it
// cannot be written (nothing else is written). Cost: one ExportDump.
Result<std::string> DumpBackup(kv::Store& store, int64_t schema, const std::string& dir);

struct RestoreOptions {
  // How the backup and the target are opened: the migration tooling's options
  // (migrate::ToolingOpenOptions), so a backup at an older schema opens.
  kv::OpenOptions open;
  // Checkpoint: restore even if the backup is of another store (its store id differs)
  // or the target cannot be opened to tell.
  bool force = false;
  // Checkpoint: keep the replaced store as "PATH.replaced-<unix ms>" (its path is returned).
  bool keep_replaced = false;
  // Dump: the target may hold data; every partition but the metadata is dropped first.
  bool replace = false;
  // Dump: the lease taken while the store's data is replaced.
  kv::migrate::RunOptions lease;
  format::ProgressCallback progress;
};

struct RestoreSummary {
  std::string kind;                // "checkpoint" or "dump"
  int64_t schema = 0;              // the restored store's schema
  uint64_t records = 0;            // records verified (checkpoint) or imported (dump)
  std::string replaced;            // checkpoint with keep_replaced: where the old store is
  std::vector<std::string> notes;  // leftovers of an interrupted restore cleaned up
};

// Brings the backup at `backup` back into the store at `store_uri`: a directory is a
// checkpoint (the store must be rocks://, missing or not open anywhere), a file a dump.
// Errors: NotFound / Corruption / InvalidArgument (bad backup or a schema-0 dump,
// Status::reason() StatusReason::kBadBackup; a checkpoint holding a link or another non-regular
// entry is Corruption naming it); Busy (the store is open in another process or its migration lease
// is held, StatusReason::kStoreInUse); InvalidArgument (a checkpoint for a non-rocks store, the
// backup is the store itself, the backup is of another store without `force`); AlreadyExists (a
// dump into a store with data or another pending load, without `replace`); VersionMismatch (a
// backup newer than this code); IOError (the file system). Every refusal comes before any change.
// The store is opened with options.open plus allow_pending_load.
Result<RestoreSummary> RestoreBackup(std::string_view store_uri, const std::string& backup,
                                     const RestoreOptions& options);

// The dump part of RestoreBackup on an open store (any driver, mem included).
Result<RestoreSummary> RestoreDump(kv::Store& store, const std::string& dump_path,
                                   const RestoreOptions& options);

}  // namespace refkv::kv::migrate

#endif  // REFKV_MIGRATE_BACKUP_H_
