// The stores the KV benchmarks compare and one operation on each, shared by the separate
// cases (kv_bench.cc) and the paired A/B cases (kv_pair_bench.cc).
//
// A kv target is a refkv store opened by URI ("rocks", "rocks_shared", "mem"); the raw
// target is a rocksdb::DB with the same options (BaselineOptions) and a column family
// per partition. Each is created on first use: TotalKeys() keys loaded into each of the
// two partitions below in key order in batches of 1,000 (WAL on), then closed and
// reopened so the data sits in SST files, the same LSM shape on both sides (printed to
// stderr). Targets live until exit.
//
// Every write bumps the key's version in the target's `versions`, so the current value of
// key i is always Value(i, versions[i]) and a compare-and-set knows what to expect.
// Threads of one case touch distinct keys (KeyPicker), hence distinct versions entries.
//
// Thread-safety: GetKv/GetRaw may be called from any thread; a Worker belongs to one.
#ifndef REFKV_BENCH_KV_TARGETS_H_
#define REFKV_BENCH_KV_TARGETS_H_

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/store.h"

namespace rocksdb {
class DB;
class ColumnFamilyHandle;
}  // namespace rocksdb

namespace refkv::bench {

// Reads (get, scan) use kReadPartition, which no case writes, so its LSM shape (the
// same on both sides after the preload) stays fixed however many writes the cases
// before did; writes (set, setif, setif_hot) use kWritePartition. Both hold the full
// data set. On the baseline each is a column family of the same name.
inline constexpr std::string_view kReadPartition = "bench";
inline constexpr std::string_view kWritePartition = "bench_w";
inline constexpr size_t kScanLength = 100;

// get, set, scan (seek to a random key, read kScanLength entries), setif (random key, an
// equals predicate that holds; raw: a Get, a compare, then a Put), setif_hot (this
// thread's kHotKeys keys in turn; raw: Puts of those keys), set_sync (a Set, then
// Store::Sync; raw: a Put, then DB::SyncWAL: what a durable ref-store command pays at its
// end, so the driver's Sync, which must not touch a WAL writer that failed, is measured
// against RocksDB's own).
enum class Op { kGet, kSet, kScan, kSetIf, kSetIfHot, kSetSync };
inline constexpr Op kOps[] = {Op::kGet,   Op::kSet,      Op::kScan,
                              Op::kSetIf, Op::kSetIfHot, Op::kSetSync};
const char* KvOpName(Op op);        // "get", ..., "setif_hot"
const char* BaselineOpName(Op op);  // "get", "set", "scan", "get_put", "set_hot"

struct KvTarget {
  std::string dir;  // scratch root; empty for mem://
  std::string uri;
  std::unique_ptr<kv::Store> store;
  std::vector<uint32_t> versions;
  ~KvTarget();
};

struct RawTarget {
  std::string root;  // scratch root, removed at exit
  std::string dir;   // the database, root + "/db"
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // [default, bench, bench_w]
  rocksdb::ColumnFamilyHandle* read_cf = nullptr;
  rocksdb::ColumnFamilyHandle* write_cf = nullptr;
  std::vector<uint32_t> versions;
  bool Open(std::string* error);
  void Close();
  ~RawTarget();
};

// The loaded target, or nullptr with *error set (a driver that cannot open must not
// abort the other cases).
KvTarget* GetKv(const std::string& name, std::string* error);
RawTarget* GetRaw(std::string* error);

// Per-thread state of one case.
struct Worker {
  Worker(int thread, int threads, uint64_t seed) : picker(thread, threads, seed), thread(thread) {}
  KeyPicker picker;
  int thread;
  size_t turn = 0;  // setif_hot: the next hot key
  std::string scratch;
};

// One operation. Returns the items it processed (1; kScanLength for a scan), or 0 with
// *error set.
int64_t KvStep(Op op, KvTarget& t, Worker& w, std::string* error);
int64_t RawStep(Op op, RawTarget& t, Worker& w, std::string* error);

}  // namespace refkv::bench

#endif  // REFKV_BENCH_KV_TARGETS_H_
