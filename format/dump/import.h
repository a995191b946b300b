// ImportDump's two passes without the pending-load protocol, for the loaders that run
// the protocol themselves (ImportDump, RestoreDump).
#ifndef REFKV_FORMAT_DUMP_IMPORT_H_
#define REFKV_FORMAT_DUMP_IMPORT_H_

#include <functional>
#include <string>

#include "base/result.h"
#include "engine/store.h"
#include "format/dump.h"

namespace refkv::format::internal {

// Pass 1 verifies the whole file (with `check_conflicts`, also looks every key up:
// AlreadyExists if one exists); then `before_write` sees what pass 1 verified and may
// refuse; pass 2 writes every record (options.on_conflict kSkip: only absent keys;
// otherwise overwriting); with `remove`, deletes every key of the dump instead
// (ImportSummary::removed). options.allow_older_schema and abort are not looked at: the
// schema and the pending-load record are the caller's business.
Result<ImportSummary> ImportDumpRecords(const std::string& path, kv::Store& store,
                                        const ImportOptions& options, bool check_conflicts,
                                        const std::function<Status(const DumpInfo&)>& before_write,
                                        bool remove = false);

}  // namespace refkv::format::internal

#endif  // REFKV_FORMAT_DUMP_IMPORT_H_
