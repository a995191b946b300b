// A small tmpfs mounted on a fresh temporary directory, for tests of a full file system
// (ENOSPC). Mounting needs root (CAP_SYS_ADMIN); without it, or when mount(2) fails (a
// container that withholds the capability), mounted() is false and skip_reason() says
// why, for the test to skip with:
//
//   TmpfsMount fs(16 << 20);
//   if (!fs.mounted()) GTEST_SKIP() << fs.skip_reason();
//   ... rocks:// + fs.Sub("store") ...
//   ASSERT_TRUE(fs.FillLeaving(64 << 10));  // ~64 KiB stay free
//
// The destructor unmounts (MNT_DETACH: a descriptor a failed test left open does not keep
// the mount) and removes the directory; it runs however the test ends, failed
// assertions included. CI runs as root, so there these tests run.
#ifndef REFKV_TESTS_SUPPORT_TMPFS_MOUNT_H_
#define REFKV_TESTS_SUPPORT_TMPFS_MOUNT_H_

#include <cstdint>
#include <memory>
#include <string>

#include "tests/support/temp_dir.h"

namespace refkv::testing {

class TmpfsMount {
 public:
  // Mounts a tmpfs of `size_bytes` (rounded up to 4 KiB pages) on a fresh TempDir.
  explicit TmpfsMount(uint64_t size_bytes, const std::string& tag = "tmpfs");
  ~TmpfsMount();
  TmpfsMount(const TmpfsMount&) = delete;
  TmpfsMount& operator=(const TmpfsMount&) = delete;

  bool mounted() const { return mounted_; }
  // Why the tmpfs is not mounted ("not root (euid 1000)", "mount(2) ...: errno text").
  const std::string& skip_reason() const { return skip_reason_; }

  const std::string& path() const { return dir_->path(); }
  std::string Sub(const std::string& name) const { return dir_->Sub(name); }

  // Bytes free for new data (statvfs f_bavail * f_frsize); 0 if statvfs fails.
  uint64_t FreeBytes() const;
  // Allocates one file (fallocate) so that `leave` bytes (to a page) stay free, replacing
  // an earlier fill. False, with the reason in *error, if that cannot be done.
  bool FillLeaving(uint64_t leave, std::string* error = nullptr);
  // Removes the fill: the space it held is free again.
  void Unfill();

 private:
  std::unique_ptr<TempDir> dir_;
  bool mounted_ = false;
  std::string skip_reason_;
};

}  // namespace refkv::testing

#endif  // REFKV_TESTS_SUPPORT_TMPFS_MOUNT_H_
