// io/fs.h: the path-level file system steps that make a file's arrival durable and
// safe: a rename that never replaces what another process put there, and the directory
// fsync without which a rename (or a new file's name) may be lost on power loss.
//
// The pattern the formats follow (dump export, SST export, dump backup):
//   io::File::CreateTemp (O_EXCL | O_NOFOLLOW) -> write -> File::Sync -> Close ->
//   io::Rename(temp, path, overwrite ? kReplace : kNoReplace) -> io::SyncParentDir(path).
//
// Errors name the paths and the system call. Thread-safety: reentrant.
#ifndef REFKV_IO_FS_H_
#define REFKV_IO_FS_H_

#include <string>

#include "base/status.h"

namespace refkv::io {

enum class RenameMode {
  kReplace,    // rename(2): an existing file at `to` is replaced atomically
  kNoReplace,  // AlreadyExists if anything (a link too) is at `to`; nothing changes then
};

// Renames `from` to `to`. kNoReplace uses renameat2(RENAME_NOREPLACE); where the file
// system does not support it (EINVAL, ENOSYS), link(from, to) then unlink(from), which
// also fails with EEXIST instead of replacing. Neither follows a link at `to`: a link
// there is replaced (kReplace) or refused (kNoReplace), never written through.
// OK: `to` names the file; not yet durable (SyncParentDir). AlreadyExists (kNoReplace),
// NotFound (`from` missing), IOError otherwise.
Status Rename(const std::string& from, const std::string& to, RenameMode mode);

// fsync of the directory `dir` itself: the names created, renamed or removed in it
// become durable. IOError naming the directory. Cost: one fsync.
Status SyncDir(const std::string& dir);

// SyncDir of the directory holding `path` ("." for a bare name).
Status SyncParentDir(const std::string& path);

}  // namespace refkv::io

#endif  // REFKV_IO_FS_H_
