// The RocksDB FileSystem a rocks store runs on: `base` (the default file system, or
// the io_uring one of io/rocks_fs.h) with two guards that keep a full file system an
// error instead of an abort (internal to engine/rocks/).
//
//  - The info log (the store's LOG file) never reports a failed write to RocksDB: its
//    appends, flushes and syncs return OK whatever the file system said, and the line
//    that did not fit is lost. Why: RocksDB's logger ignores the status of its appends,
//    and the next append on a WritableFileWriter that saw an error asserts
//    (WritableFileWriter::AssertFalseAndGetStatusForPrevError). Debian's librocksdb
//    keeps its asserts, so the first log line after ENOSPC killed the process with
//    SIGABRT, mid-write, whatever refkv did with the write's status.
//  - Preallocation (fallocate, KEEP_SIZE) is capped at kMaxPreallocation per step for
//    every file RocksDB writes. RocksDB preallocates a WAL in steps of 1.1 x
//    write_buffer_size (70 MiB with the default 64 MiB buffer) and a compaction output
//    in steps of 1.1 x its target size: on a file system that keeps a failed fallocate's
//    partial allocation (ext4) the first write of a fresh store took every free byte,
//    and a crashed process left the reservation behind. With the cap a store with a few
//    MiB free still takes small writes, and a crash leaves at most one step.
//
// Thread-safety: as RocksDB requires of a FileSystem.
#ifndef REFKV_ENGINE_ROCKS_STORE_FS_H_
#define REFKV_ENGINE_ROCKS_STORE_FS_H_

#include <rocksdb/file_system.h>

#include <cstddef>
#include <memory>

namespace refkv::kv::rocks {

inline constexpr size_t kMaxPreallocation = size_t{1} << 20;

std::shared_ptr<rocksdb::FileSystem> NewStoreFileSystem(std::shared_ptr<rocksdb::FileSystem> base);

}  // namespace refkv::kv::rocks

#endif  // REFKV_ENGINE_ROCKS_STORE_FS_H_
