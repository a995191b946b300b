// mech/*: how to make a compare-and-set (read, compare, write) atomic per key on raw
// RocksDB, measured on the same data as kv_bench (NumKeys() keys, 100-byte values,
// random keys, an expected value that holds, 1 and 2 threads on distinct keys):
//
//   mech/put               a plain Put: the floor
//   mech/striped_get_put   Get, compare, Put under one of 1,024 striped mutexes
//   mech/optimistic_txn    OptimisticTransactionDB: GetForUpdate + Put + Commit, retried
//                          on Busy/TryAgain
//   mech/pessimistic_txn   TransactionDB: GetForUpdate (locks the key) + Put + Commit
//
// mech/<name>/counter_check races 2 threads incrementing 4 shared counters through the
// same compare-and-set (re-reading and retrying when the compare fails) and reports
// lost_updates = expected - final sum; it must be 0. mech/unlocked_get_put/counter_check
// is the negative control (Get, compare, Put with no lock) that shows the check can fail.
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/utilities/optimistic_transaction_db.h>
#include <rocksdb/utilities/transaction_db.h>
#include <rocksdb/write_batch.h>

#include <atomic>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "bench/bench_util.h"

namespace refkv::bench {
namespace {

enum class Mech { kPut, kStriped, kUnlocked, kOptimistic, kPessimistic };

constexpr size_t kStripes = 1024;

struct alignas(64) Stripe {
  std::mutex mu;
};

// One raw database opened as a plain DB, an OptimisticTransactionDB or a TransactionDB.
class MechDb {
 public:
  explicit MechDb(Mech mech) : mech_(mech) {}
  ~MechDb() {
    delete db_;  // the transaction DBs own and close their base DB
    RemoveTree(dir_);
  }

  rocksdb::Status Open(const std::string& dir) {
    dir_ = dir;
    rocksdb::Options options = BaselineOptions();
    if (mech_ == Mech::kOptimistic) {
      rocksdb::OptimisticTransactionDB* odb = nullptr;
      auto s = rocksdb::OptimisticTransactionDB::Open(options, dir + "/db", &odb);
      odb_ = odb;
      db_ = odb;
      return s;
    }
    if (mech_ == Mech::kPessimistic) {
      rocksdb::TransactionDB* tdb = nullptr;
      auto s =
          rocksdb::TransactionDB::Open(options, rocksdb::TransactionDBOptions(), dir + "/db", &tdb);
      tdb_ = tdb;
      db_ = tdb;
      return s;
    }
    return rocksdb::DB::Open(options, dir + "/db", &db_);
  }
  void Close() {
    delete db_;
    db_ = nullptr;
    odb_ = nullptr;
    tdb_ = nullptr;
  }

  rocksdb::DB* db() { return db_; }

  // Writes `desired` if the current value equals `expected`. *matched says whether it
  // did. Not OK only on an unexpected RocksDB error. `txn` is this thread's reusable
  // transaction object (transaction mechanisms only).
  rocksdb::Status CompareAndSet(rocksdb::Slice key, rocksdb::Slice expected, rocksdb::Slice desired,
                                bool* matched, std::unique_ptr<rocksdb::Transaction>& txn,
                                std::string& scratch) {
    const rocksdb::WriteOptions wo;
    const rocksdb::ReadOptions ro;
    switch (mech_) {
      case Mech::kPut:
        *matched = true;
        return db_->Put(wo, key, desired);
      case Mech::kStriped: {
        std::lock_guard<std::mutex> lock(
            stripes_[std::hash<std::string_view>()({key.data(), key.size()}) % kStripes].mu);
        return GetComparePut(key, expected, desired, matched, scratch);
      }
      case Mech::kUnlocked:
        return GetComparePut(key, expected, desired, matched, scratch);
      case Mech::kOptimistic:
        for (;;) {
          txn.reset(
              odb_->BeginTransaction(wo, rocksdb::OptimisticTransactionOptions(), txn.release()));
          auto s = txn->GetForUpdate(ro, key, &scratch);
          if (!s.ok()) return s;
          *matched = scratch == expected;
          if (!*matched) return txn->Rollback();
          s = txn->Put(key, desired);
          if (s.ok()) s = txn->Commit();
          if (s.IsBusy() || s.IsTryAgain()) continue;  // a concurrent write: retry
          return s;
        }
      case Mech::kPessimistic:
        for (;;) {
          txn.reset(tdb_->BeginTransaction(wo, rocksdb::TransactionOptions(), txn.release()));
          auto s = txn->GetForUpdate(ro, key, &scratch);
          if (s.IsBusy() || s.IsTimedOut()) continue;  // lock wait expired: retry
          if (!s.ok()) return s;
          *matched = scratch == expected;
          if (!*matched) return txn->Rollback();
          s = txn->Put(key, desired);
          if (s.ok()) s = txn->Commit();
          return s;
        }
    }
    return rocksdb::Status::NotSupported("mechanism");
  }

 private:
  rocksdb::Status GetComparePut(rocksdb::Slice key, rocksdb::Slice expected, rocksdb::Slice desired,
                                bool* matched, std::string& scratch) {
    auto s = db_->Get(rocksdb::ReadOptions(), key, &scratch);
    if (!s.ok()) return s;
    *matched = scratch == expected;
    if (!*matched) return rocksdb::Status::OK();
    return db_->Put(rocksdb::WriteOptions(), key, desired);
  }

  Mech mech_;
  std::string dir_;
  rocksdb::DB* db_ = nullptr;
  rocksdb::OptimisticTransactionDB* odb_ = nullptr;
  rocksdb::TransactionDB* tdb_ = nullptr;
  Stripe stripes_[kStripes];
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "refkv_bench: %s\n", what.c_str());
  std::abort();
}

struct MechTarget {
  std::unique_ptr<MechDb> db;
  std::vector<uint32_t> versions;
};

const char* MechName(Mech mech) {
  switch (mech) {
    case Mech::kPut:
      return "put";
    case Mech::kStriped:
      return "striped_get_put";
    case Mech::kUnlocked:
      return "unlocked_get_put";
    case Mech::kOptimistic:
      return "optimistic_txn";
    case Mech::kPessimistic:
      return "pessimistic_txn";
  }
  return "?";
}

// Loads NumKeys() keys in key order (WAL on, 1,000 per batch), then reopens so the data
// sits in SST files, as kv_bench does.
// Closed at the end of the run (AtBenchEnd), while RocksDB's statics are alive.
std::mutex mech_mu;
std::map<Mech, std::unique_ptr<MechTarget>>* mech_targets = nullptr;

void CloseMechTargets() {
  std::lock_guard<std::mutex> lock(mech_mu);
  if (mech_targets != nullptr) mech_targets->clear();
}

MechTarget& GetMech(Mech mech) {
  std::lock_guard<std::mutex> lock(mech_mu);
  if (mech_targets == nullptr) mech_targets = new std::map<Mech, std::unique_ptr<MechTarget>>;
  auto& slot = (*mech_targets)[mech];
  if (slot != nullptr) return *slot;
  auto t = std::make_unique<MechTarget>();
  std::string dir = MakeScratchDir(std::string("mech-") + MechName(mech));
  t->db = std::make_unique<MechDb>(mech);
  auto s = t->db->Open(dir);
  if (!s.ok()) Die("open " + dir + ": " + s.ToString());
  double start = NowSeconds();
  char key[kKeySize], value[kValueSize];
  rocksdb::WriteBatch batch;
  // The negative control only runs the counter check: no data needed.
  const uint64_t keys = mech == Mech::kUnlocked ? 0 : NumKeys();
  for (uint64_t i = 0; i < keys; ++i) {
    FillKey(i, key);
    FillValue(i, 0, value);
    (void)batch.Put({key, kKeySize}, {value, kValueSize});
    if (batch.Count() == 1000 || i + 1 == keys) {
      s = t->db->db()->Write(rocksdb::WriteOptions(), &batch);
      if (!s.ok()) Die("preload " + dir + ": " + s.ToString());
      batch.Clear();
    }
  }
  t->db->Close();
  s = t->db->Open(dir);
  if (!s.ok()) Die("reopen " + dir + ": " + s.ToString());
  std::fprintf(stderr, "refkv_bench: loaded %zu keys for mech/%s in %.1f s\n",
               static_cast<size_t>(keys), MechName(mech), NowSeconds() - start);
  t->versions.assign(NumKeys(), 0);
  slot = std::move(t);
  AtBenchEnd(CloseMechTargets);
  return *slot;
}

void MechCas(benchmark::State& state, Mech mech) {
  MechTarget& t = GetMech(mech);
  KeyPicker picker(state.thread_index(), state.threads(), 5);
  char key[kKeySize], expected[kValueSize], value[kValueSize];
  std::unique_ptr<rocksdb::Transaction> txn;
  std::string scratch;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    uint64_t i = picker.Next();
    FillKey(i, key);
    FillValue(i, t.versions[i], expected);
    FillValue(i, t.versions[i] + 1, value);
    bool matched = false;
    auto s = t.db->CompareAndSet({key, kKeySize}, {expected, kValueSize}, {value, kValueSize},
                                 &matched, txn, scratch);
    if (!s.ok() || !matched) {
      state.SkipWithError(s.ok() ? "compare failed on an uncontended key" : s.ToString().c_str());
      break;
    }
    ++t.versions[i];
  }
  ReportItems(state, state.iterations(), cpu_start);
}

// 2 threads x kIncrements increments spread over 4 counters, each a CAS loop.
void MechCounterCheck(benchmark::State& state, Mech mech) {
  constexpr int kThreads = 2;
  constexpr int kIncrements = 5000;
  constexpr int kCounters = 4;
  MechTarget& t = GetMech(mech);
  int64_t lost = 0, attempts = 0;
  for (auto _ : state) {
    const std::string prefix = "counter/" + std::to_string(state.iterations()) + "/";
    for (int c = 0; c < kCounters; ++c) {
      auto s = t.db->db()->Put(rocksdb::WriteOptions(), prefix + std::to_string(c), "0");
      if (!s.ok()) Die("counter init: " + s.ToString());
    }
    std::atomic<int64_t> tries{0};
    std::atomic<bool> failed{false};
    std::vector<std::thread> threads;
    for (int th = 0; th < kThreads; ++th) {
      threads.emplace_back([&, th] {
        std::unique_ptr<rocksdb::Transaction> txn;
        std::string current, scratch;
        for (int n = 0; n < kIncrements; ++n) {
          std::string key = prefix + std::to_string((n + th) % kCounters);
          for (;;) {
            tries.fetch_add(1, std::memory_order_relaxed);
            if (!t.db->db()->Get(rocksdb::ReadOptions(), key, &current).ok()) {
              failed = true;
              return;
            }
            std::string next = std::to_string(std::stoll(current) + 1);
            bool matched = false;
            if (!t.db->CompareAndSet(key, current, next, &matched, txn, scratch).ok()) {
              failed = true;
              return;
            }
            if (matched) break;
          }
        }
      });
    }
    for (auto& th : threads) th.join();
    if (failed) {
      state.SkipWithError("rocksdb error during the counter check");
      return;
    }
    int64_t sum = 0;
    for (int c = 0; c < kCounters; ++c) {
      std::string v;
      if (!t.db->db()->Get(rocksdb::ReadOptions(), prefix + std::to_string(c), &v).ok()) {
        Die("counter read");
      }
      sum += std::stoll(v);
    }
    lost += int64_t{kThreads} * kIncrements - sum;
    attempts += tries.load();
  }
  state.counters["lost_updates"] = static_cast<double>(lost);
  state.counters["attempts"] = static_cast<double>(attempts);
  state.SetItemsProcessed(state.iterations() * kThreads * kIncrements);
  std::fprintf(stderr, "refkv_bench: mech/%s/counter_check: %s (%lld lost updates, %lld tries)\n",
               MechName(mech), lost == 0 ? "no lost update" : "LOST UPDATES",
               static_cast<long long>(lost), static_cast<long long>(attempts));
}

int Register() {
  for (Mech mech : {Mech::kPut, Mech::kStriped, Mech::kOptimistic, Mech::kPessimistic}) {
    std::string name = std::string("mech/") + MechName(mech);
    // 1 thread: CPU time of the thread; 2 threads: wall-clock (as in kv_bench).
    benchmark::RegisterBenchmark(name.c_str(), MechCas, mech)->Threads(1);
    benchmark::RegisterBenchmark(name.c_str(), MechCas, mech)->Threads(2)->UseRealTime();
  }
  for (Mech mech : {Mech::kStriped, Mech::kOptimistic, Mech::kPessimistic, Mech::kUnlocked}) {
    std::string name = std::string("mech/") + MechName(mech) + "/counter_check";
    benchmark::RegisterBenchmark(name.c_str(), MechCounterCheck, mech)
        ->Iterations(1)
        ->UseRealTime();
  }
  return 0;
}

const int registered = Register();

}  // namespace
}  // namespace refkv::bench
