#include "migrate/preflight.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <thread>

#include "migrate/backup.h"
#include "migrate/records.h"

namespace refkv::kv::migrate {

std::string StorePath(Store& store) {
  for (const auto& p : store.Properties()) {
    if (p.name == "path") return p.value;
  }
  return {};
}

namespace {

// A byte count the driver reports in Properties ("memtable_bytes"), 0 if it has none.
int64_t PropertyBytes(Store& store, std::string_view name) {
  for (const auto& p : store.Properties()) {
    if (p.name == name) return std::atoll(p.value.c_str());
  }
  return 0;
}

}  // namespace

Status CheckFreeSpace(Store& store, const Plan& plan, const RunOptions& options) {
  int64_t free_bytes = 0;
  std::string where;
  if (options.free_space) {
    REFKV_ASSIGN_OR_RETURN(free_bytes, options.free_space(store));
    where = "the store";
  } else {
    where = StorePath(store);
    if (where.empty()) return Status::OK();  // no file system of ours to check
    struct statvfs vfs;
    if (statvfs(where.c_str(), &vfs) != 0) {
      return Status::IOError("free-space check: statvfs('" + where + "'): " + std::strerror(errno));
    }
    free_bytes = static_cast<int64_t>(vfs.f_bavail) * static_cast<int64_t>(vfs.f_frsize);
  }
  // The checkpoint taken before the first step hard-links the table files (no space) but
  // first flushes the memtables into new ones (about their size). A backup hook (a dump)
  // or a --backup-dir elsewhere writes to another place: not counted here.
  int64_t backup_bytes = 0;
  const bool checkpoint =
      !options.no_backup && !options.backup && !plan.steps.empty() && !plan.steps.front().resumes;
  if (checkpoint) backup_bytes = PropertyBytes(store, "memtable_bytes");
  const int64_t need =
      plan.total.bytes + backup_bytes + std::max<int64_t>(0, options.reserve_bytes);
  if (free_bytes < need) {
    std::string reserve = " (the steps' writes " + std::to_string(plan.total.bytes);
    if (backup_bytes > 0) reserve += " + the backup " + std::to_string(backup_bytes);
    if (options.reserve_bytes > 0) {
      reserve += " + a reserve of " + std::to_string(options.reserve_bytes);
    }
    reserve += ")";
    return Status::IOError("not enough free space for the migration: " +
                           std::to_string(free_bytes) + " bytes free on the file system of '" +
                           where + "', the plan needs " + std::to_string(need) + reserve +
                           "; free some space and run it again (nothing was changed)")
        .WithReason(StatusReason::kFreeSpace);
  }
  return Status::OK();
}

Status CheckNodes(Store& store, Direction direction, int64_t target, const RunOptions& options) {
  if (options.ignore_nodes || direction == Direction::kCleanup) return Status::OK();
  Clock* clock = options.clock != nullptr ? options.clock : Clock::System();
  REFKV_ASSIGN_OR_RETURN(std::vector<NodeInfo> live, ListLiveNodes(store, clock));
  const int64_t now = clock->NowMs();
  const bool up = direction == Direction::kUp;
  std::string blocking;
  int count = 0;
  for (const NodeInfo& n : live) {
    if (!n.fenced.empty()) continue;  // it writes nothing any more
    if (up ? n.code_schema >= target : n.code_schema <= target) continue;
    blocking += (count++ ? "; " : "") + n.ToString(now);
  }
  if (count == 0) return Status::OK();
  std::string what = up ? "older than the target schema " + std::to_string(target) +
                              ": they would keep writing the old form while the store changes"
                        : "newer than the target schema " + std::to_string(target) +
                              ": they would keep writing the newer form after the store went back";
  return Status(StatusCode::kBusy,
                std::to_string(count) + (count == 1 ? " live node writes" : " live nodes write") +
                    " this store with a code schema " + what + ": " + blocking +
                    ". Stop those nodes (or upgrade them" + (up ? "" : ": run the older release") +
                    "), or wait for their ttl if they died, then run it again; "
                    "--ignore-nodes (ignore_nodes) migrates anyway and fences them. Nothing was "
                    "changed",
                /*retryable=*/false)
      .WithReason(StatusReason::kNodesRunning);
}

Status WaitForOlderNodes(Store& store, int64_t schema, const std::function<Status()>& fence,
                         Clock* clock) {
  if (clock == nullptr) clock = Clock::System();
  const int64_t started = clock->MonotonicMs();
  int64_t longest_ttl = 0;  // of the nodes waited for
  while (true) {
    int64_t wait_ms = 0;  // 0: nothing to wait for; else the poll period
    std::string pending;  // the nodes still waited for, for the error below
    auto wait_for = [&](int64_t interval_ms) {
      int64_t period = std::clamp<int64_t>(interval_ms / 4, 5, 50);
      wait_ms = wait_ms == 0 ? period : std::min(wait_ms, period);
    };
    {
      REFKV_ASSIGN_OR_RETURN(auto it, store.Scan(kMetaPartition, ScanOptions::Prefix(kNodePrefix)));
      std::vector<std::pair<std::string, std::string>> expired;
      const int64_t now = clock->NowMs();
      for (; it->Valid(); it->Next()) {
        REFKV_ASSIGN_OR_RETURN(NodeInfo n, DecodeNode(it->key(), it->value()));
        if (!n.fenced.empty() || n.code_schema >= schema) continue;
        // A margin of one interval for clock skew and a beat in flight.
        const int64_t dead_at = n.beat_ms + n.ttl_ms + n.interval_ms;
        if (now >= dead_at) {
          expired.emplace_back(std::string(it->key()), std::string(it->value()));
        } else {
          wait_for(n.interval_ms);  // its next beat records the fence
          longest_ttl = std::max(longest_ttl, n.ttl_ms + n.interval_ms);
          pending += (pending.empty() ? "" : "; ") + n.ToString(now);
        }
      }
      REFKV_RETURN_IF_ERROR(it->status());
      for (const auto& [key, raw] : expired) {
        // A record that beat meanwhile stays (PredicateFailed): judged again next poll.
        Status s = store.DeleteIf(kMetaPartition, key, Predicate::Equals(raw));
        if (s.IsPredicateFailed()) {
          wait_for(0);
        } else {
          REFKV_RETURN_IF_ERROR(s);
        }
      }
    }
    if (wait_ms == 0) return Status::OK();
    // A node beats and fences within its interval or goes silent for its ttl: one that
    // keeps beating unfenced for several ttls is not following the protocol.
    const int64_t waited = clock->MonotonicMs() - started;
    if (waited > 4 * longest_ttl + 1000) {
      return Status(StatusCode::kBusy,
                    "older nodes kept writing this store without fencing themselves for " +
                        std::to_string(waited) + " ms after the migration step started: " +
                        pending + "; stop them and run the migration again (it resumes)",
                    /*retryable=*/false);
    }
    REFKV_RETURN_IF_ERROR(fence());
    clock->SleepFor(wait_ms);
  }
}

Result<std::string> TakeBackup(Store& store, const Plan& plan, const RunOptions& options) {
  std::function<Result<std::string>(Store&, const Plan&)> backup = options.backup;
  if (!backup && StorePath(store).empty()) {
    // A driver without files of its own (PostgreSQL, mem) cannot checkpoint: a dump.
    backup = [dir = options.backup_dir](Store& s, const Plan& p) {
      return DumpBackup(s, p.store_schema, dir);
    };
  }
  if (backup) {
    auto location = backup(store, plan);
    if (!location.ok()) {
      return location.status()
          .WithContext(
              "backup before migrating failed (nothing was changed; fix it, or pass --no-backup "
              "/ no_backup)")
          .WithReason(StatusReason::kBackupFailed);
    }
    return location;
  }
  std::string name = "backup-s" + std::to_string(plan.store_schema) + "-" + std::to_string(NowMs());
  std::string dir;
  if (!options.backup_dir.empty()) {
    dir = options.backup_dir + "/" + name;
  } else {
    std::string path = StorePath(store);  // not empty: no path took a dump above
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    dir = path + "." + name;
  }
  Status s = store.Checkpoint(dir);
  if (!s.ok()) {
    return s
        .WithContext("backup (checkpoint to '" + dir +
                     "') before migrating failed; nothing was changed; choose a writable "
                     "backup directory (--backup-dir DIR), or pass --no-backup (no_backup)")
        .WithReason(StatusReason::kBackupFailed);
  }
  return dir;
}

}  // namespace refkv::kv::migrate
