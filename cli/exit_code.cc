#include "cli/exit_code.h"

namespace refkv::cli {

int ExitCodeFor(const Status& status, Phase phase) {
  if (status.ok()) return kExitOk;
  // A refusal that says why (migrate's pre-flight, restore) has an exit code of its own.
  if (phase == Phase::kCommand) {
    switch (status.reason()) {
      case StatusReason::kFreeSpace:
        return kExitNoSpace;
      case StatusReason::kBackupFailed:
        return kExitBackupFailed;
      case StatusReason::kBadBackup:
        return kExitBadBackup;
      case StatusReason::kNodesRunning:
        return kExitNodesRunning;
      case StatusReason::kStoreInUse:
        return kExitBusy;
      case StatusReason::kNone:
        break;
    }
  }
  // A full disk is the same fault whether the open or the verb met it.
  if (status.IsNoSpace()) return kExitDiskFull;
  if (phase == Phase::kSetup) return kExitError;
  switch (status.code()) {
    case StatusCode::kNotFound:
      return kExitNotFound;
    case StatusCode::kPredicateFailed:
      return kExitPredicateFailed;
    case StatusCode::kConflict:
      return kExitConflict;
    case StatusCode::kVersionMismatch:
      return kExitVersionMismatch;
    case StatusCode::kBusy:
      return kExitBusy;
    case StatusCode::kInvalidArgument:
      return kExitUsage;
    default:
      return kExitError;
  }
}

}  // namespace refkv::cli
