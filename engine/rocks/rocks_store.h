// The RocksDB driver ("rocks://PATH"): the embedded default.
//
//   rocks://./data                       relative path; rocks:///var/lib/refkv absolute
//   rocks://PATH?partitions=shared       the mapping, chosen when the store is created
//   rocks://PATH?sync=true               fsync the WAL before acknowledging each write
//   rocks://PATH?block_cache_mb=256      the shared LRU block cache (default 64)
//   rocks://PATH?write_buffer_mb=8       each partition's memtable cap (default 64;
//                                        at most 2 per partition in memory)
//   rocks://PATH?io_uring=false          MultiGet's block reads one pread at a time
//                                        instead of one io_uring batch per SST file
//                                        (io/rocks_fs.h; default true where the run-time
//                                        probe succeeds and REFKV_IO_URING is not 0)
//   rocks://PATH?direct_reads=true       O_DIRECT reads of SST files (page cache
//                                        bypassed; the block cache is the only cache)
//
// Mappings (recorded in the store at creation; reopening with a different explicit
// `partitions=` is InvalidArgument naming both; omitted = the recorded one):
//   cf (default)  one column family per partition, named "p." + hex(partition), created
//                 on first write (or in one batch by PreparePartitions); DropPartition
//                 drops the family. Reads and writes touch only that family. Creating or
//                 dropping a family costs O(families), and opening a store is linear in
//                 them (DESIGN.md): for up to ~1,000 partitions.
//   shared        one column family "shared" holds every partition under the key
//                 varint(size(partition)) + partition + key, so partitions that are
//                 prefixes of each other ("m", "ma") never mix; a registry key per
//                 partition in the default family makes ListPartitions exact (partitions
//                 of size zero included); DropPartition and DeleteRange are range
//                 tombstones. Creating or dropping a partition is one small write: for
//                 stores with very many small partitions.
// The default column family holds only the driver's records (a marker, the mapping,
// the shared registry); the metadata partition is an ordinary partition.
//
// Durability, with the default options (sync=false):
//   - Process crash (SIGKILL, abort, OOM kill): every acknowledged write survives.
//     RocksDB appends each write to its WAL with write(2) before the call returns, and
//     the kernel keeps those pages when the process dies; reopening replays the WAL.
//     An atomic Write(batch) survives whole or not at all.
//   - Power loss or kernel crash: only writes made with sync=true, or acknowledged before
//     a Store::Sync() that returned OK, are guaranteed; later ones may be lost (a suffix
//     of the acknowledged writes, never a hole in the middle). With sync=true every
//     write fsyncs the WAL before it returns (about 4.4k single writes/s here; batch
//     with Write for throughput).
//   - Store::Sync() is one fsync of the WAL (an empty synced write), skipped when no
//     write was acknowledged since the last Sync, and a no-op with sync=true. The usual pattern
//     for durable operations of several writes: sync=false, the writes, one Sync (the
//     ref store's Options::sync_commits).
//
// Errors at open (one line each): PATH is a regular file -> InvalidArgument ("... is a
// file, not a refkv store directory"); a non-empty directory without a RocksDB CURRENT
// file, or a RocksDB database without the refkv marker -> InvalidArgument, and nothing
// is written to it (but a directory holding only what a creation that failed left
// behind, no CURRENT and nothing but LOCK, LOG*, IDENTITY, MANIFEST-*, OPTIONS-*, WAL
// files, *.dbtmp and refkv.pid, is an unborn store: cleared and created again); missing
// with !create_if_missing -> NotFound; open in another process
// -> Busy naming that process's pid (the holder of RocksDB's LOCK, else PATH/refkv.pid),
// without touching any file of the store; open twice in this process -> Busy; a bad
// parameter -> InvalidArgument naming it. Processes opening one store at once are
// serialised (a flock on PATH held for the open only), so each gets OK or Busy.
//
// OpenOptions::read_only opens with RocksDB's OpenForReadOnly: no LOCK, no pid file, so
// it works beside a writer in another process (seeing the state as of its open); every
// write fails with Unsupported. It writes no file at all, so it also works on a full disk.
//
// A full file system (ENOSPC) is NoSpace, one line naming the verb, partition, key and
// store ("... (store 'PATH'): no space left on device (<RocksDB's status>)"), never an
// abort: refkv never uses a RocksDB file writer that saw an error (the info log swallows
// its write errors; Sync fsyncs through the write path, which checks RocksDB's background
// error first — engine/rocks/store_fs.h). Opening for writes needs a little space (a new
// MANIFEST, WAL and OPTIONS file) and fails with NoSpace without it. After a write failed
// so, RocksDB stops writing: every later write and Sync of this Store returns NoSpace
// (reads go on) until the store is closed and reopened with space freed. Writes
// acknowledged before the error are in the WAL and survive; the failed write may or may
// not be (it was not acknowledged). Preallocation is at most 1 MiB per step, so a store
// with a few MiB free still takes small writes. Any other background write error (EIO)
// is the same: RocksDB's automatic resume is off (its resume path can assert in Debian's
// build), so the store answers the error until it is reopened.
//
// Thread-safety: see kv::Store. Reads take no lock and never wait for a writer; SetIf
// serialises only with writers of keys on the same lock stripe (1024 stripes).
// Close must not race other calls, and every iterator must be destroyed first.
#ifndef REFKV_ENGINE_ROCKS_ROCKS_STORE_H_
#define REFKV_ENGINE_ROCKS_ROCKS_STORE_H_

#include <memory>

#include "engine/open.h"
#include "engine/store.h"

namespace refkv::kv {

// Opens (or creates) the RocksDB store at uri.location. See above for the errors.
Result<std::unique_ptr<Store>> OpenRocksStore(const Uri& uri, const OpenOptions& options);

}  // namespace refkv::kv

#endif  // REFKV_ENGINE_ROCKS_ROCKS_STORE_H_
