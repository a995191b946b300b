// The refkv command groups. Each group lives in its own file and adds its subcommands
// to the application, registering one handler per leaf command with
// CliContext::SetHandler (cli/context.h). RunCli (cli/app.h) calls every Add* below, in
// the order they appear in --help. A new group (repo, branch, commit, export, migrate,
// check ...) adds a file cli/<group>_commands.cc, one declaration here and one line in
// cli/app.cc.
//
// Thread-safety: called once, from the main thread, before parsing.
#ifndef REFKV_CLI_COMMANDS_H_
#define REFKV_CLI_COMMANDS_H_

#include "base/status.h"
#include "cli/config.h"
#include "cli/context.h"
#include "engine/store.h"
#include "refstore/open_for_store.h"

namespace CLI {
class App;
}

namespace refkv::cli {

// store info, store uri (cli/store_commands.cc).
void AddStoreCommands(CLI::App& app, CliContext& ctx);
// kv get/set/setif/del/scan/partitions (cli/kv_commands.cc).
void AddKvCommands(CLI::App& app, CliContext& ctx);
// repo, branch, entry, commit, log, show, tag, diff, gc (cli/refstore_commands.cc).
void AddRefStoreCommands(CLI::App& app, CliContext& ctx);
// resolve, merge-base, is-ancestor (cli/history_commands.cc).
void AddHistoryCommands(CLI::App& app, CliContext& ctx);
// export, import, dump verify/inspect, kv migrate (cli/format_commands.cc).
void AddFormatCommands(CLI::App& app, CliContext& ctx);
// migrate version/status/plan/up/down/cleanup/unlock/restore (cli/migrate_commands.cc).
void AddMigrateCommands(CLI::App& app, CliContext& ctx);
// quickstart (cli/quickstart.cc).
void AddQuickstartCommand(CLI::App& app, CliContext& ctx);
// merge, revert, cherry-pick, `branch reset --to`, `entry reset` (cli/merge_commands.cc);
// after AddRefStoreCommands (it extends the branch and entry groups).
void AddMergeCommands(CLI::App& app, CliContext& ctx);

// The ref store part of quickstart (cli/quickstart_refstore.cc): creates repository
// quickstart-<run_id>, stages `entries`, commits, branches, diffs, logs and deletes it,
// printing a timed line per step. `scratch`: the store is quickstart's own scratch store,
// so the ranges are collected at once and the ref store's partitions dropped. Errors: the
// ref store's.
Status RefStoreTour(std::ostream& out, kv::Store& store, std::string_view run_id, size_t entries,
                    bool scratch);

// Writes what `store info` shows about `store` (opened from `source`) to ctx.out(), as
// text or, under --json, as one JSON object. Errors: those of reading the metadata.
// The ref store on the CLI's store as every ref store command opens it
// (cli/refstore_commands.cc).
Result<refstore::OpenedRefStore> OpenRefStoreForCommand(CliContext& ctx, Access access);

Status WriteStoreInfo(CliContext& ctx, const StoreSource& source, kv::Store& store);

}  // namespace refkv::cli

#endif  // REFKV_CLI_COMMANDS_H_
