// The refkv CLI's exit codes, and the one mapping from a Status to an exit code.
//
//   0  ok
//   1  error: the store could not be resolved or opened, I/O, corruption, busy, ...
//   2  usage: the command line is wrong (unknown command or option, a missing or
//      malformed argument such as bad hex or an empty key)
//   3  not found: the key the command asked for does not exist
//   4  predicate failed: `kv setif` found the key in another state, or `commit
//      --expect-parent` found another head; nothing written
//   5  conflict: `commit` lost the race for the branch through every retry; the staged
//      writes stay staged (run it again)
//
//   6  version mismatch: a command on an open store (migrate ...) found a schema this
//      code cannot work with (newer than this code, older than it upgrades from, a step
//      that differs from the history); nothing written
//   7  busy: a migration lease is held by another run (migrate up/down/cleanup/unlock
//      without --force), or `migrate restore` found the store open in another process;
//      nothing written, retry later
//   8  not enough free space: `migrate up/down`'s pre-flight found fewer free bytes on
//      the store's file system than the plan needs (plus --reserve); nothing written
//   9  backup failed: `migrate up/down` could not take its backup (target directory not
//      writable or missing, disk full, a driver without backup); nothing written
//  10  bad backup: `migrate restore` found the backup missing, not a backup, or corrupt;
//      nothing changed
//  11  nodes running: `migrate up/down`'s pre-flight found a live node (a process with
//      the store open on PostgreSQL, migrate/nodes.h) of an older code schema than the
//      target (down: newer); nothing written. Stop or upgrade it, or --ignore-nodes
//  12  disk full: a write failed because the store's file system (or an output file's)
//      is full (Status NoSpace), in any command and also while opening the store; the
//      writes acknowledged before it are kept; free space and run it again
//  13  merge conflicts: `merge`, `revert` or `cherry-pick` found conflicting paths (listed
//      on stdout as `! PATH`, or in --json with their values); nothing written. Not a
//      Status mapping: the command sets it (CliContext::set_failure_exit_code)
// A store that cannot be opened at all (newer format, in use by another process) is 1.
// A commit with nothing staged is not an error: it prints "no changes" and exits 0.
// 3 and 4 only ever describe the command's own key: a missing store, config file or
// driver is an error (1), so a script can treat 3 as "absent" safely.
//
// Thread-safety: pure functions.
#ifndef REFKV_CLI_EXIT_CODE_H_
#define REFKV_CLI_EXIT_CODE_H_

#include <string_view>

#include "base/status.h"

namespace refkv::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitNotFound = 3;
inline constexpr int kExitPredicateFailed = 4;
inline constexpr int kExitConflict = 5;
inline constexpr int kExitVersionMismatch = 6;
inline constexpr int kExitBusy = 7;
inline constexpr int kExitNoSpace = 8;
inline constexpr int kExitBackupFailed = 9;
inline constexpr int kExitBadBackup = 10;
inline constexpr int kExitNodesRunning = 11;
inline constexpr int kExitDiskFull = 12;
inline constexpr int kExitMergeConflicts = 13;

// The lines --help ends with.
inline constexpr std::string_view kExitCodeHelp =
    "Exit codes: 0 ok, 1 error, 2 usage, 3 not found (the key, repository, branch,\n"
    "            ref or entry asked for), 4 predicate failed (kv setif, commit\n"
    "            --expect-parent; nothing written), 5 conflict (commit lost every retry;\n"
    "            staged writes kept), 6 version mismatch (migrate: schema unusable),\n"
    "            7 busy (migration lease held, or store in use for migrate restore),\n"
    "            8 not enough free space (migrate pre-flight), 9 backup failed (migrate\n"
    "            pre-flight), 10 bad backup (migrate restore), 11 nodes running (migrate\n"
    "            pre-flight: a live node of another schema); nothing written for 6-11.\n"
    "            12 disk full (a write found no space left on the file system; the\n"
    "            writes acknowledged before it are kept).\n"
    "            13 merge conflicts (merge, revert, cherry-pick; nothing written).\n"
    "            A commit with nothing staged prints 'no changes', 0.";

// Which step failed: kSetup (resolving the config, opening the store) or kCommand (the
// command's own verb on the open store).
enum class Phase { kSetup, kCommand };

// The one Status -> exit code mapping. kCommand: a Status carrying a StatusReason (the
// migrate pre-flight's and restore's refusals) maps by it: kFreeSpace 8, kBackupFailed 9,
// kBadBackup 10, kNodesRunning 11, kStoreInUse 7. NoSpace is 12 in either
// phase. Other kSetup errors are 1. kCommand: NotFound 3, PredicateFailed 4, Conflict 5,
// VersionMismatch 6, Busy 7, InvalidArgument 2, any other error 1; OK 0.
int ExitCodeFor(const Status& status, Phase phase);

}  // namespace refkv::cli

#endif  // REFKV_CLI_EXIT_CODE_H_
