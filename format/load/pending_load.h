// The pending-load protocol every loader follows (ImportDump, ImportSst, CopyStore,
// RestoreDump), so that a load is all or nothing as the store's users see it:
//
//   1. before its first write, BeginLoad records a kv::PendingLoad in the metadata
//      partition (engine/metadata.h) and syncs it: from then on ordinary opens refuse the
//      store, naming the load and the command that finishes it;
//   2. the load writes;
//   3. FinishLoad syncs every write, deletes the record and syncs again.
// A load killed or failing anywhere in 2 or 3 leaves the record behind: `refkv check`
// reports it, and a rerun of the same load (CheckPendingLoad finds its identity) finishes
// it, without the conflict checks the interrupted run's own writes would trip.
//
// Thread-safety: as the store; one load per store at a time (the record enforces it).
#ifndef REFKV_FORMAT_LOAD_PENDING_LOAD_H_
#define REFKV_FORMAT_LOAD_PENDING_LOAD_H_

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "engine/metadata.h"
#include "engine/store.h"

namespace refkv::format::internal {

// The store's pending load if it is `load` (same identity: this is a rerun that finishes
// it), std::nullopt if none is pending. AlreadyExists naming the pending load and its
// command if another one is, before anything is written.
Result<std::optional<kv::PendingLoad>> CheckPendingLoad(kv::Store& store,
                                                        const kv::PendingLoad& load);

// Records `load` (started_at and writer filled in here) and syncs it; call before the
// load's first write. `supersede`: overwrite a pending record (a restore that drops the
// data of the load it replaces); otherwise a record written meanwhile is AlreadyExists.
Status BeginLoad(kv::Store& store, kv::PendingLoad load, bool supersede = false);

// Whether an import may be rolled back (ImportOptions::abort): `pending` (what
// CheckPendingLoad found for `load`) exists and ran with on-conflict fail. NotFound /
// InvalidArgument (naming the command that finishes it) otherwise.
Status CheckAbort(const std::optional<kv::PendingLoad>& pending, const kv::PendingLoad& load);

// After the load's last write: Store::Sync, delete the record, Sync again.
Status FinishLoad(kv::Store& store);

// The first partition (in ListPartitions order, the metadata partition left out) that
// holds a record; "" if none does.
Result<std::string> FirstNonEmptyPartition(kv::Store& store);

// A command line for messages: the arguments joined by spaces, each quoted for a POSIX
// shell where it needs it ('a b' -> "'a b'").
std::string CommandLine(const std::vector<std::string_view>& args);

// `error` of a load that stopped after BeginLoad, its message extended with what to do:
// "...; the store keeps a record of the unfinished import of X: run `...` again to
// finish it". Same code.
Status Unfinished(const Status& error, const kv::PendingLoad& load);

// The schema an import of data written at `source_schema` (a dump's or SST export's
// header; 0: the source had no metadata) sets the target to: 0 to leave it (equal
// schemas, a source or target without metadata). A source older than the target is
// taken only by a target that holds no data and only with `allow_older` (it then takes
// the source's schema, and `refkv migrate up` brings it forward). VersionMismatch, naming
// both versions and what to do, for a newer source and for an older one otherwise.
// `who` prefixes the messages ("import", "sst import").
Result<int64_t> ImportSchema(kv::Store& store, int64_t source_schema, bool allow_older,
                             std::string_view who);

// Sets the store's schema version to `schema` (a CaS from the current one) if it differs.
Status SetImportSchema(kv::Store& store, int64_t schema);

}  // namespace refkv::format::internal

#endif  // REFKV_FORMAT_LOAD_PENDING_LOAD_H_
