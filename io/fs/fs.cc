// io::Rename / SyncDir (io/fs.h).
#include "io/fs.h"

#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace refkv::io {
namespace {

Status RenameError(const std::string& from, const std::string& to, const char* call, int err) {
  std::string msg =
      "io: " + std::string(call) + " '" + from + "' to '" + to + "': " + std::strerror(err);
  if (err == EEXIST) return Status::AlreadyExists(msg + " (nothing was replaced)");
  if (err == ENOENT) return Status::NotFound(msg);
  return Status::IOError(msg, err == ENOSPC);
}

}  // namespace

Status Rename(const std::string& from, const std::string& to, RenameMode mode) {
  if (mode == RenameMode::kReplace) {
    if (::rename(from.c_str(), to.c_str()) != 0) return RenameError(from, to, "rename", errno);
    return Status::OK();
  }
  if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0) {
    return Status::OK();
  }
  int err = errno;
  if (err != EINVAL && err != ENOSYS) return RenameError(from, to, "rename", err);
  // No RENAME_NOREPLACE on this file system: link() refuses an existing name the same way.
  if (::link(from.c_str(), to.c_str()) != 0) return RenameError(from, to, "link", errno);
  if (::unlink(from.c_str()) != 0) {
    err = errno;
    return Status::IOError("io: linked '" + from + "' to '" + to + "' but cannot unlink '" + from +
                           "': " + std::strerror(err));
  }
  return Status::OK();
}

Status SyncDir(const std::string& dir) {
  int fd;
  do {
    fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  } while (fd < 0 && errno == EINTR);
  if (fd < 0) {
    return Status::IOError("io: open directory '" + dir + "' to sync it: " + std::strerror(errno));
  }
  int r = ::fsync(fd);
  int err = errno;
  ::close(fd);
  if (r != 0) return Status::IOError("io: fsync directory '" + dir + "': " + std::strerror(err));
  return Status::OK();
}

Status SyncParentDir(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return SyncDir(".");
  return SyncDir(slash == 0 ? "/" : path.substr(0, slash));
}

}  // namespace refkv::io
