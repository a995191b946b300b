#include "engine/migrate/preflight.h"

#include <sys/statvfs.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "engine/migrate/records.h"

namespace refkv::kv::migrate {

std::string StorePath(Store& store) {
  for (const auto& p : store.Properties()) {
    if (p.name == "path") return p.value;
  }
  return {};
}

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
  const int64_t need = plan.total.bytes + std::max<int64_t>(0, options.reserve_bytes);
  if (free_bytes < need) {
    if (options.refusal != nullptr) *options.refusal = Refusal::kFreeSpace;
    std::string reserve = options.reserve_bytes > 0
                              ? " (" + std::to_string(plan.total.bytes) + " + a reserve of " +
                                    std::to_string(options.reserve_bytes) + ")"
                              : "";
    return Status::IOError("not enough free space for the migration: " +
                           std::to_string(free_bytes) + " bytes free on the file system of '" +
                           where + "', the plan needs " + std::to_string(need) + reserve +
                           "; free some space and run it again (nothing was changed)");
  }
  return Status::OK();
}

Result<std::string> TakeBackup(Store& store, const Plan& plan, const RunOptions& options) {
  auto refused = [&] {
    if (options.refusal != nullptr) *options.refusal = Refusal::kBackup;
  };
  if (options.backup) {
    auto location = options.backup(store, plan);
    if (!location.ok()) {
      refused();
      return location.status().WithContext(
          "backup before migrating failed (nothing was changed; fix it, or pass --no-backup / "
          "no_backup)");
    }
    return location;
  }
  std::string name = "backup-s" + std::to_string(plan.store_schema) + "-" + std::to_string(NowMs());
  std::string dir;
  if (!options.backup_dir.empty()) {
    dir = options.backup_dir + "/" + name;
  } else {
    std::string path = StorePath(store);
    if (path.empty()) {
      refused();
      return Status::Unsupported("the '" + std::string(store.driver()) +
                                 "' driver cannot back itself up: give a backup hook (a dump) "
                                 "or pass --no-backup (no_backup)");
    }
    while (path.size() > 1 && path.back() == '/') path.pop_back();
    dir = path + "." + name;
  }
  Status s = store.Checkpoint(dir);
  if (!s.ok()) {
    refused();
    return s.WithContext("backup (checkpoint to '" + dir +
                         "') before migrating failed; nothing was changed; choose a writable "
                         "backup directory (--backup-dir DIR), or pass --no-backup (no_backup)");
  }
  return dir;
}

}  // namespace refkv::kv::migrate
