// The RocksDB driver's table of open partitions, read without locks.
//
// A Partition is one incarnation of a partition: created on first write (or by
// PreparePartitions, or found at open), retired by DropPartition. In the "cf" mapping it
// owns a column family handle; in the "shared" mapping it borrows the shared column
// family and carries the key prefix of its entries.
//
// Thread-safety: Find and the listing functions may run concurrently with each other and
// with one writer (Insert/Erase/Clear), which the caller serialises (the store's DDL
// mutex). The table is a fixed array of buckets, each a small copy-on-write vector: a
// writer builds the new vector outside any lock and swaps it in under the bucket's
// spinlock, which it holds for a pointer swap only; a reader holds that spinlock while it
// compares a few names and copies one shared_ptr. So readers never wait for a writer's
// work (no RocksDB call, no allocation happens under it), and a writer copies one small
// bucket, never the whole table (creating partition 10,001 costs the same as the first).
// (Not std::atomic<std::shared_ptr>: libstdc++ 12 releases its internal lock with a
// relaxed store after a load, which is a data race by the C++ model and TSan says so.)
//
// Lifetime: a Partition lives as long as anyone holds it (an operation in flight, an
// open iterator), even after DropPartition; its column family handle is destroyed with
// it. All of them must be gone before the RocksDB instance is closed.
#ifndef REFKV_ENGINE_ROCKS_PARTITION_TABLE_H_
#define REFKV_ENGINE_ROCKS_PARTITION_TABLE_H_

#include <rocksdb/db.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace refkv::kv::rocks {

// 64-bit FNV-1a: the hash for partition buckets and key stripes (stable, cheap for the
// short names and keys refkv uses).
inline uint64_t HashBytes(std::string_view bytes, uint64_t seed = 14695981039346656037ull) {
  uint64_t h = seed;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ull;
  }
  return h;
}

struct Partition {
  Partition(std::string name_in, uint64_t id_in, rocksdb::DB* db_in,
            rocksdb::ColumnFamilyHandle* cf_in, bool owns_cf_in, std::string prefix_in)
      : name(std::move(name_in)),
        id(id_in),
        hash(HashBytes(name)),
        db(db_in),
        cf(cf_in),
        owns_cf(owns_cf_in),
        prefix(std::move(prefix_in)) {}
  ~Partition() {
    if (owns_cf && cf != nullptr) (void)db->DestroyColumnFamilyHandle(cf);
  }
  Partition(const Partition&) = delete;
  Partition& operator=(const Partition&) = delete;

  const std::string name;
  const uint64_t id;    // unique per incarnation within a store; never 0
  const uint64_t hash;  // HashBytes(name)
  rocksdb::DB* const db;
  rocksdb::ColumnFamilyHandle* const cf;
  const bool owns_cf;
  const std::string prefix;  // "shared" mapping: varint(size) + name; "" in "cf"
  // Set by DropPartition while it holds every key stripe: a writer that finds it set
  // after taking its stripe retries on the partition's next incarnation.
  std::atomic<bool> dropped{false};
};

class PartitionTable {
 public:
  PartitionTable();
  PartitionTable(const PartitionTable&) = delete;
  PartitionTable& operator=(const PartitionTable&) = delete;

  // The live incarnation of `name`, or nullptr. Takes the bucket's spinlock for a few
  // name comparisons and one shared_ptr copy.
  std::shared_ptr<Partition> Find(std::string_view name) const;
  // Adds `partition` (its name must not be present). Caller serialises writers.
  void Insert(std::shared_ptr<Partition> partition);
  // Removes `name` if present. Caller serialises writers.
  void Erase(std::string_view name);
  // Every live partition name, sorted bytewise.
  std::vector<std::string> Names() const;
  // Every live partition.
  std::vector<std::shared_ptr<Partition>> All() const;
  size_t size() const { return size_.load(std::memory_order_relaxed); }
  // Drops every entry (Close). Caller serialises writers.
  void Clear();

 private:
  using Bucket = std::vector<std::shared_ptr<Partition>>;
  static constexpr size_t kBuckets = 4096;

  struct Slot {
    mutable std::atomic<bool> locked{false};
    std::unique_ptr<Bucket> bucket;  // guarded by locked; null = empty

    void Lock() const {
      for (int spins = 0; locked.exchange(true, std::memory_order_acquire);) {
        while (locked.load(std::memory_order_relaxed)) {
          // The holder may have been preempted (2 cores, many threads): give way.
          if (++spins % 64 == 0) std::this_thread::yield();
        }
      }
    }
    void Unlock() const { locked.store(false, std::memory_order_release); }
  };

  Slot& SlotFor(std::string_view name) const { return slots_[HashBytes(name) & (kBuckets - 1)]; }
  // Swaps `next` into `slot`; returns the previous bucket (destroyed by the caller,
  // outside the lock).
  static std::unique_ptr<Bucket> Swap(Slot& slot, std::unique_ptr<Bucket> next);

  std::unique_ptr<Slot[]> slots_;
  std::atomic<size_t> size_{0};
};

}  // namespace refkv::kv::rocks

#endif  // REFKV_ENGINE_ROCKS_PARTITION_TABLE_H_
