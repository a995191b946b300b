// RangeStore: where the immutable, content-addressed pieces of committed data live.
//
// Committed data (refstore/committed/committed.h) is made of two kinds of objects, both
// immutable and named by the hash of their content:
//   - a range: one RocksDB SST file (keys = paths, values = entry values);
//   - a metarange: a small record listing the ranges of one tree in key order.
// A RangeStore stores both as opaque bytes under their id. It never interprets them: the
// CommittedManager computes ids, verifies content hashes on read and builds/reads SSTs.
//
// Two implementations:
//   - OpenDirRangeStore(dir): files `<dir>/<id>.sst` and `<dir>/<id>.meta` (and `.root`,
//     `.part` for two-level metaranges), each written
//     to `<dir>/.tmp-<id>-<random>`, fsynced, renamed into place and the directory
//     fsynced (the rename is durable after Sync(): one directory fsync). The default
//     beside a RocksDB store. One process per directory. Opening removes temp files older
//     than an hour (left by a crash between write and rename).
//   - OpenKvRangeStore(store, partition): inside a kv::Store, so nodes sharing a PostgreSQL
//     database share committed data. Layout in `partition`:
//       rc/<id>/<token>/<chunk#>   the bytes of range <id>, in chunks of <= 1 MiB,
//                                  <chunk#> = 8 hex digits; <token> = the writer's random
//                                  token (two writers of one id never touch each other's
//                                  chunks: SST bytes of equal content may differ);
//       rm/<id>                    the manifest, written last with SetIf(absent):
//                                  "<token> <size> <chunks> <xxh64 of bytes>";
//       mc/<id>/<token>/<chunk#>, mm/<id>   the same for metaranges.
//       m2/<id>                    a two-level metarange root (format v2), one value;
//       p2/<id>                    a part of two-level metaranges, one value.
//     An object exists once its manifest exists; the manifest is only ever inserted, so
//     the store is insert-only and correct with the five KV verbs. A writer that loses the
//     manifest race deletes its own chunks. Deleting an object removes its manifest
//     (DeleteIf the value read) and then that manifest's chunks only, so a concurrent
//     writer of the same id keeps its chunks. A crash between chunks and manifest leaves
//     orphan chunks without a manifest; nothing removes them yet (a known leak).
//
// Thread-safety: every method may be called concurrently from any number of threads.
#ifndef REFKV_REFSTORE_COMMITTED_RANGE_STORE_H_
#define REFKV_REFSTORE_COMMITTED_RANGE_STORE_H_

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "base/result.h"
#include "base/status.h"
#include "engine/store.h"

namespace refkv::refstore {

class RangeStore {
 public:
  RangeStore() = default;
  RangeStore(const RangeStore&) = delete;
  RangeStore& operator=(const RangeStore&) = delete;
  virtual ~RangeStore();

  // "dir" or "kv", for messages and `store info`.
  virtual std::string_view kind() const = 0;

  // Stores `bytes` as range `id`. If `id` already exists, OK without writing (ids are
  // content hashes: what is stored has the same content). Durable only after the next OK
  // Sync(). IOError on a failed write. Cost (dir): one file write + one fsync + rename;
  // (kv): one Get, ceil(size / 1 MiB) Sets and one SetIf.
  virtual Status PutRange(std::string_view id, std::string_view bytes) = 0;
  // The bytes of range `id`. NotFound if it does not exist. Corruption if the stored
  // chunks do not match their manifest (kv).
  virtual Result<std::string> GetRange(std::string_view id) = 0;
  // True if range `id` exists.
  virtual Result<bool> HasRange(std::string_view id) = 0;

  // The same for metaranges.
  virtual Status PutMetaRange(std::string_view id, std::string_view bytes) = 0;
  virtual Result<std::string> GetMetaRange(std::string_view id) = 0;

  // Two-level metaranges (refstore/committed/two_level.h): roots, named by their tree's id,
  // and parts, named by their content hash, in namespaces of their own. Both are small
  // (a root ~40 bytes per part, a part ~100 bytes per range). Put writes unconditionally
  // (equal ids mean equal bytes, so a rewrite changes nothing). Cost (kv): one Set or Get;
  // (dir) as PutMetaRange. Get: NotFound if absent.
  enum class MetaObject { kRoot, kPart };
  virtual Status PutMetaObject(MetaObject kind, std::string_view id, std::string_view bytes) = 0;
  virtual Result<std::string> GetMetaObject(MetaObject kind, std::string_view id) = 0;
  virtual Result<std::vector<std::string>> ListMetaObjectIds(MetaObject kind) = 0;
  virtual Status DeleteMetaObject(MetaObject kind, std::string_view id) = 0;

  // Makes every Put that returned OK durable. Cost (dir): one directory fsync;
  // (kv): kv::Store::Sync().
  virtual Status Sync() = 0;

  // The kv::Store whose writes hold this range store's objects (the KV range store), or
  // nullptr (the directory store). A caller writing to that same store may rely on its
  // ordering instead of Sync() (CommittedManager::Options::sync).
  virtual const kv::Store* kv_store() const { return nullptr; }

  // Every stored id, sorted. For the cleaner; cost proportional to the number of objects.
  virtual Result<std::vector<std::string>> ListRangeIds() = 0;
  virtual Result<std::vector<std::string>> ListMetaRangeIds() = 0;

  // Removes the object (idempotent: OK if absent). The caller (the cleaner) must know
  // that nothing reachable references it.
  virtual Status DeleteRange(std::string_view id) = 0;
  virtual Status DeleteMetaRange(std::string_view id) = 0;
};

// Opens (creating if missing) a directory range store. IOError if `dir` cannot be created
// or is not a directory. InvalidArgument if `dir` is empty.
Result<std::unique_ptr<RangeStore>> OpenDirRangeStore(std::string dir);

// A range store inside `store`, partition `partition` (non-empty; the caller picks a name
// no one else uses, e.g. "refstore.ranges"). `store` is borrowed and must outlive the
// RangeStore. Never fails on a non-empty partition name.
Result<std::unique_ptr<RangeStore>> OpenKvRangeStore(kv::Store& store, std::string partition);

// Chunk size of the KV range store (1 MiB).
inline constexpr size_t kKvRangeChunkSize = size_t{1} << 20;

}  // namespace refkv::refstore

#endif  // REFKV_REFSTORE_COMMITTED_RANGE_STORE_H_
