#include "tests/support/tmpfs_mount.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace refkv::testing {
namespace {

constexpr const char* kFillName = ".fill";

}  // namespace

TmpfsMount::TmpfsMount(uint64_t size_bytes, const std::string& tag)
    : dir_(std::make_unique<TempDir>(tag)) {
  if (geteuid() != 0) {
    skip_reason_ = "mounting a tmpfs needs root (euid " + std::to_string(geteuid()) +
                   "); the full-disk tests run as root (CI does)";
    return;
  }
  const uint64_t kib = (size_bytes + 4095) / 4096 * 4;
  const std::string data = "size=" + std::to_string(kib) + "k,mode=0755";
  if (mount("tmpfs", path().c_str(), "tmpfs", MS_NOSUID | MS_NODEV, data.c_str()) != 0) {
    skip_reason_ = "mount(2) of a " + std::to_string(kib) + " KiB tmpfs on '" + path() +
                   "' failed: " + std::strerror(errno);
    return;
  }
  mounted_ = true;
}

TmpfsMount::~TmpfsMount() {
  // Before the TempDir member removes the directory: it must not descend into the mount.
  if (mounted_) umount2(path().c_str(), MNT_DETACH);
}

uint64_t TmpfsMount::FreeBytes() const {
  struct statvfs vfs;
  if (statvfs(path().c_str(), &vfs) != 0) return 0;
  return static_cast<uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

bool TmpfsMount::FillLeaving(uint64_t leave, std::string* error) {
  auto fail = [&](std::string why) {
    if (error != nullptr) *error = std::move(why);
    return false;
  };
  if (!mounted_) return fail("not mounted: " + skip_reason_);
  Unfill();
  const uint64_t free_bytes = FreeBytes();
  if (free_bytes <= leave) return true;
  const std::string fill = Sub(kFillName);
  int fd = open(fill.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return fail("open('" + fill + "'): " + std::strerror(errno));
  int r = posix_fallocate(fd, 0, static_cast<off_t>(free_bytes - leave));
  close(fd);
  if (r != 0) return fail("posix_fallocate('" + fill + "'): " + std::strerror(r));
  return true;
}

void TmpfsMount::Unfill() { unlink(Sub(kFillName).c_str()); }

}  // namespace refkv::testing
