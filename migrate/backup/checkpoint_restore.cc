// RestoreCheckpoint: brings a RocksDB checkpoint back as the store at PATH, beside and
// then by rename (migrate/backup.h).
//
//   0. the backup must hold regular files only (no links, directories, FIFOs ...);
//   1. clean up what an interrupted restore left (PATH.restore-new; PATH.restore-old
//      moved back if PATH is missing);
//   2. the backup must open read-only as a refkv store this code can read, of the same
//      store id as the target (unless force);
//   3. take the target's RocksDB LOCK (fcntl, as RocksDB does): Busy naming the pid in
//      PATH/refkv.pid if another process has the store open;
//   4. build PATH.restore-new (SST files hard-linked, the rest copied, synced), open it
//      read-only and read every record of every partition;
//   5. switch: renameat2(RENAME_EXCHANGE) (else PATH -> PATH.restore-old, then
//      PATH.restore-new -> PATH), sync the parent directory;
//   6. drop (or keep, renamed) the replaced store.
#include "migrate/backup/checkpoint_restore.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <vector>

#include "base/hex.h"
#include "engine/metadata.h"
#include "engine/open.h"
#include "io/fs.h"

namespace refkv::kv::migrate::backup_internal {
namespace {

namespace fs = std::filesystem;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Errno(int e) { return std::strerror(e); }

// "rocks://" + path, with the characters a URI gives a meaning escaped.
std::string RocksUri(const std::string& path) {
  std::string out = "rocks://";
  for (char c : path) {
    if (c == '%' || c == '?' || c == '#') {
      out += '%';
      AppendHexByte(&out, static_cast<unsigned char>(c), HexCase::kUpper);
    } else {
      out += c;
    }
  }
  return out;
}

// fsync of a copied file (directories: io::SyncDir).
Status SyncFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) return Status::IOError("open '" + path + "' to sync it: " + Errno(errno));
  int r = ::fsync(fd);
  int e = errno;
  ::close(fd);
  if (r != 0) return Status::IOError("fsync '" + path + "': " + Errno(e));
  return Status::OK();
}

std::string ParentOf(const std::string& path) {
  fs::path p(path);
  return p.has_parent_path() ? p.parent_path().string() : ".";
}

// Opens a rocks store read-only for the restore: the metadata, and with `read_all`
// every record of every partition. Returns the metadata and the records read.
Result<std::pair<kv::StoreMetadata, uint64_t>> Inspect(const std::string& dir,
                                                       const kv::OpenOptions& base, bool read_all) {
  kv::OpenOptions o = base;
  o.read_only = true;
  o.create_if_missing = false;
  REFKV_ASSIGN_OR_RETURN(std::unique_ptr<kv::Store> store, kv::Open(RocksUri(dir), o));
  auto run = [&]() -> Result<std::pair<kv::StoreMetadata, uint64_t>> {
    REFKV_ASSIGN_OR_RETURN(kv::StoreMetadata md, kv::ReadMetadata(*store));
    uint64_t records = 0;
    if (read_all) {
      REFKV_ASSIGN_OR_RETURN(std::vector<std::string> parts, store->ListPartitions());
      for (const auto& p : parts) {
        REFKV_ASSIGN_OR_RETURN(auto it, store->Scan(p, kv::ScanOptions{}));
        for (; it->Valid(); it->Next()) ++records;
        REFKV_RETURN_IF_ERROR(it->status().WithContext("reading partition '" + p + "'"));
      }
    }
    return std::make_pair(md, records);
  };
  auto result = run();
  Status closed = store->Close();
  REFKV_RETURN_IF_ERROR(result.status());
  REFKV_RETURN_IF_ERROR(closed);
  return result;
}

// A checkpoint holds regular files only. A symbolic link (whose target the restore
// would copy into the store, or link there as a link) or anything else (a directory, a
// FIFO, a socket) is refused before anything is read through it. Names the first entry.
Status CheckBackupEntries(const std::string& backup) {
  std::error_code ec;
  std::vector<fs::directory_entry> entries;
  for (const auto& entry : fs::directory_iterator(backup, ec)) entries.push_back(entry);
  if (ec) return Status::IOError("cannot list backup '" + backup + "': " + ec.message());
  std::sort(entries.begin(), entries.end());
  for (const auto& entry : entries) {
    const auto type = entry.symlink_status(ec).type();
    if (ec) return Status::IOError("cannot stat '" + entry.path().string() + "': " + ec.message());
    if (type == fs::file_type::symlink) {
      return Status::Corruption("backup '" + backup + "' holds '" +
                                entry.path().filename().string() +
                                "', a symbolic link: a checkpoint holds only regular files and "
                                "nothing is restored through a link; nothing was changed");
    }
    if (type != fs::file_type::regular) {
      return Status::Corruption("backup '" + backup + "' holds '" +
                                entry.path().filename().string() +
                                "', which is not a regular file: a checkpoint holds only "
                                "regular files; nothing was changed");
    }
  }
  return Status::OK();
}

// Hard-links the immutable files (SST, blob) and copies the rest; skips the LOCK, the
// pid file and RocksDB's info logs. Syncs what it copied and the directory. Entries
// are checked again (CheckBackupEntries ran before): a link that appeared meanwhile is
// refused, never followed.
Status CopyStoreDir(const std::string& from, const std::string& to) {
  std::error_code ec;
  if (!fs::create_directory(to, ec) || ec) {
    return Status::IOError("cannot create '" + to + "': " + ec.message());
  }
  for (const auto& entry : fs::directory_iterator(from, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == "LOCK" || name == "refkv.pid" || name.rfind("LOG", 0) == 0) continue;
    const std::string src = entry.path().string(), dst = to + "/" + name;
    if (entry.symlink_status(ec).type() != fs::file_type::regular) {
      return Status::Corruption("unexpected entry '" + src + "' in the checkpoint");
    }
    const bool immutable = name.ends_with(".sst") || name.ends_with(".blob");
    if (immutable && ::link(src.c_str(), dst.c_str()) == 0) continue;
    fs::copy_file(src, dst, fs::copy_options::none, ec);
    if (ec) return Status::IOError("copy '" + src + "' to '" + dst + "': " + ec.message());
    REFKV_RETURN_IF_ERROR(SyncFile(dst));
  }
  if (ec) return Status::IOError("cannot list '" + from + "': " + ec.message());
  return io::SyncDir(to);
}

// The target's RocksDB LOCK, held with an fcntl write lock (the lock RocksDB takes).
class TargetLock {
 public:
  ~TargetLock() {
    if (fd_ >= 0) ::close(fd_);
  }
  // Busy naming the holder's pid if another process holds it.
  Status Acquire(const std::string& dir) {
    const std::string path = dir + "/LOCK";
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return Status::IOError("cannot open '" + path + "': " + Errno(errno));
    struct flock f;
    std::memset(&f, 0, sizeof f);
    f.l_type = F_WRLCK;
    f.l_whence = SEEK_SET;
    if (::fcntl(fd_, F_SETLK, &f) != 0) {
      int e = errno;
      if (e == EACCES || e == EAGAIN) {
        std::string pid = "unknown";
        std::ifstream in(dir + "/refkv.pid");
        in >> pid;
        return Status::Busy("store '" + dir + "' is in use by another process (pid " + pid +
                            "); stop every process using it, then run the restore again "
                            "(nothing was changed)");
      }
      return Status::IOError("cannot lock '" + path + "': " + Errno(e));
    }
    return Status::OK();
  }

 private:
  int fd_ = -1;
};

}  // namespace

Result<RestoreSummary> RestoreCheckpoint(const kv::Uri& uri, const std::string& backup,
                                         const RestoreOptions& options) {
  std::error_code ec;
  std::string target = fs::absolute(uri.location, ec).lexically_normal().string();
  while (target.size() > 1 && target.back() == '/') target.pop_back();
  std::string source = fs::absolute(backup, ec).lexically_normal().string();
  while (source.size() > 1 && source.back() == '/') source.pop_back();
  if (source == target) {
    return Status::InvalidArgument("backup '" + backup + "' is the store itself");
  }
  const std::string fresh = target + ".restore-new", old = target + ".restore-old";
  RestoreSummary summary;
  summary.kind = "checkpoint";

  // 0. The backup's entries, before anything is touched or read through them.
  Status entries = CheckBackupEntries(source);
  if (!entries.ok()) return entries.WithReason(StatusReason::kBadBackup);

  // 1. Leftovers of an interrupted restore.
  if (!fs::exists(target, ec) && fs::exists(old, ec)) {
    if (::rename(old.c_str(), target.c_str()) != 0) {
      return Status::IOError("cannot move '" + old + "' back to '" + target + "': " + Errno(errno));
    }
    summary.notes.push_back("an interrupted restore had moved the store aside: moved '" + old +
                            "' back to '" + target + "'");
  }
  if (fs::exists(fresh, ec)) {
    fs::remove_all(fresh, ec);
    if (ec) return Status::IOError("cannot remove leftover '" + fresh + "': " + ec.message());
    summary.notes.push_back("removed '" + fresh + "' left by an interrupted restore");
  }
  if (fs::exists(old, ec)) {
    fs::remove_all(old, ec);
    if (ec) return Status::IOError("cannot remove leftover '" + old + "': " + ec.message());
    summary.notes.push_back("removed '" + old + "' (a store replaced by an earlier restore)");
  }

  // 2. The backup.
  auto backup_md = Inspect(source, options.open, false);
  if (!backup_md.ok()) {
    return (backup_md.status().WithContext("backup '" + backup +
                                           "' is not a usable refkv store checkpoint; "
                                           "nothing was changed"))
        .WithReason(StatusReason::kBadBackup);
  }
  summary.schema = backup_md->first.schema_version;
  const bool target_exists = fs::exists(target, ec);
  if (target_exists && !options.force) {
    auto target_md = Inspect(target, options.open, false);
    if (!target_md.ok()) {
      return target_md.status().WithContext(
          "cannot read the store '" + target +
          "' to check that the backup is of it; pass --force to replace it anyway (nothing "
          "was changed)");
    }
    if (target_md->first.store_id != backup_md->first.store_id) {
      return Status::InvalidArgument("backup '" + backup + "' is of store " +
                                     backup_md->first.store_id + ", but '" + target +
                                     "' is store " + target_md->first.store_id +
                                     "; pass --force to replace it anyway (nothing was changed)");
    }
  }

  // 3. Keep every refkv process out of the target until the switch.
  TargetLock lock;
  if (target_exists) {
    Status locked = lock.Acquire(target);
    if (locked.IsBusy()) return locked.WithReason(StatusReason::kStoreInUse);
    REFKV_RETURN_IF_ERROR(locked);
  }

  // 4. The restored store, beside the target, read in full.
  auto drop_fresh = [&] { fs::remove_all(fresh, ec); };
  Status copied = CopyStoreDir(source, fresh);
  if (!copied.ok()) {
    drop_fresh();
    return copied.WithContext("restoring '" + backup + "' beside '" + target +
                              "' (nothing was changed)");
  }
  auto verified = Inspect(fresh, options.open, true);
  if (!verified.ok()) {
    drop_fresh();
    return (verified.status().WithContext("backup '" + backup +
                                          "' does not read back in full; nothing was "
                                          "changed"))
        .WithReason(StatusReason::kBadBackup);
  }
  summary.records = verified->second;

  // 5. The switch.
  const std::string parent = ParentOf(target);
  if (!target_exists) {
    if (::rename(fresh.c_str(), target.c_str()) != 0) {
      int e = errno;
      drop_fresh();
      return Status::IOError("cannot rename '" + fresh + "' to '" + target + "': " + Errno(e));
    }
  } else if (::renameat2(AT_FDCWD, fresh.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
    // PATH is the restored store; the old one is at `fresh` now.
    REFKV_RETURN_IF_ERROR(io::SyncDir(parent));
    if (::rename(fresh.c_str(), old.c_str()) != 0) {
      return Status::IOError("restored, but cannot rename the replaced store '" + fresh + "' to '" +
                             old + "': " + Errno(errno));
    }
  } else {
    if (::rename(target.c_str(), old.c_str()) != 0) {
      int e = errno;
      drop_fresh();
      return Status::IOError("cannot move '" + target + "' aside: " + Errno(e) +
                             " (nothing was changed)");
    }
    if (::rename(fresh.c_str(), target.c_str()) != 0) {
      int e = errno;
      if (::rename(old.c_str(), target.c_str()) == 0) drop_fresh();
      return Status::IOError("cannot move the restored store into place: " + Errno(e) +
                             " (the store was left as it was)");
    }
  }
  REFKV_RETURN_IF_ERROR(io::SyncDir(parent));

  // 6. The replaced store.
  if (target_exists) {
    if (options.keep_replaced) {
      summary.replaced = target + ".replaced-" + std::to_string(NowMs());
      if (::rename(old.c_str(), summary.replaced.c_str()) != 0) summary.replaced = old;
    } else {
      fs::remove_all(old, ec);
      if (ec) summary.notes.push_back("could not remove '" + old + "': " + ec.message());
    }
  }
  return summary;
}

}  // namespace refkv::kv::migrate::backup_internal
