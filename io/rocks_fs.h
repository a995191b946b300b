// io::NewUringFileSystem: a RocksDB FileSystem whose random-access files serve
// MultiRead through io_uring, so the block reads of one RocksDB MultiGet batch (the
// data blocks one SST file needs for the batch's keys) go to the kernel in one
// io_uring_enter and are served by the device in parallel, instead of one pread after
// another. Everything else (Read, writes, directories, locks) is the wrapped file
// system's.
//
// Each random-access file opens a second descriptor of its own (O_DIRECT when RocksDB
// asked for direct reads, so alignment rules are RocksDB's: it aligns offsets, lengths
// and buffers of direct-I/O MultiRead requests itself). Each thread that calls
// MultiRead gets one ring of kRingDepth entries (SINGLE_ISSUER | DEFER_TASKRUN where the
// kernel has them), created on first use and kept for the thread's life; a batch
// larger than the ring is submitted in ring-sized waves, and the thread sleeps once per
// batch, until every read of it has completed. One MultiGet still waits for the slowest
// of its reads: to keep the device's queue full, call MultiGet from a few threads
// (bench/results/io_uring.md).
//
// Fallback: when io_uring is unavailable (the probe of io::UringAvailable fails:
// ENOSYS, EPERM under seccomp, ENOMEM), forced off (REFKV_IO_URING=0 or
// options.use_io_uring = false), a thread's ring cannot be created, or the second
// descriptor cannot be opened, MultiRead is the wrapped file's own (RocksDB's posix
// MultiRead: one pread per request). The choice is logged once at debug level.
//
// Errors: a failing request gets IOError naming the file, offset and length in its
// FSReadRequest::status; MultiRead itself returns OK unless the submission failed.
//
// Thread-safety: as RocksDB requires of a FileSystem: files are used from many
// threads at once; rings are per thread, descriptors are read-only and shared.
#ifndef REFKV_IO_ROCKS_FS_H_
#define REFKV_IO_ROCKS_FS_H_

#include <rocksdb/file_system.h>

#include <cstdint>
#include <memory>

namespace refkv::io {

inline constexpr unsigned kRingDepth = 64;

struct RocksFsOptions {
  // false: every MultiRead goes to the wrapped file (the forced fallback, for tests
  // and measurements). true: io_uring where the probe succeeds and REFKV_IO_URING is
  // not "0".
  bool use_io_uring = true;
};

// True if NewUringFileSystem with default options would use io_uring (run-time probe
// and REFKV_IO_URING).
bool RocksUringUsable();

// Wraps `base` (normally rocksdb::FileSystem::Default()). Never fails: without
// io_uring the result behaves exactly as `base`.
std::shared_ptr<rocksdb::FileSystem> NewUringFileSystem(std::shared_ptr<rocksdb::FileSystem> base,
                                                        const RocksFsOptions& options = {});

// Counters (process-wide, relaxed) for tests and benchmarks: MultiRead calls served by
// io_uring, requests in them, and MultiRead calls that fell back.
struct RocksFsStats {
  uint64_t uring_batches = 0;
  uint64_t uring_requests = 0;
  uint64_t fallback_batches = 0;
};
RocksFsStats GetRocksFsStats();

// The file system under every RocksDB file refkv opens (a rocks store, the committed-range
// directory beside it): rocksdb::FileSystem::Default() unless a test installed another
// with SetRocksBaseFileSystem. A seam for fault injection (simulated power loss, I/O
// errors: tests/support/fault_fs.h); production code never installs one.
std::shared_ptr<rocksdb::FileSystem> RocksBaseFileSystem();
// An Env over RocksBaseFileSystem(): Env::Default() when none is installed, else one kept
// alive for the rest of the process (callers hold it as a raw pointer, as Env::Default()).
rocksdb::Env* RocksBaseEnv();
// Installs `fs` for what is opened from now on; nullptr restores the default. What is
// already open keeps the file system it opened with. Thread-safe.
void SetRocksBaseFileSystem(std::shared_ptr<rocksdb::FileSystem> fs);

}  // namespace refkv::io

#endif  // REFKV_IO_ROCKS_FS_H_
