// kv/<driver>/<op> beside baseline/rocksdb/<op>: the refkv KV layer against the same work
// written directly against the RocksDB API, in one process, with the same options and
// the same data (NumKeys() 16-byte keys with 100-byte values, loaded in key order in
// batches of 1,000 and then reopened, so both sit in SST files; an 8 MiB block cache).
//
// Every case reports items_per_second: at threads:1 per CPU-second of the benchmark thread
// (the machine is shared; being descheduled does not count), at threads:2 per wall-clock
// second. Threaded cases work on distinct keys (thread t of n owns the keys i with
// i % n == t). Run with --benchmark_enable_random_interleaving=true and repetitions so
// that load changes hit a case and its baseline alike; bench/compare.py prints ratios.
//
//   kv/rocks/*         rocks://DIR?block_cache_mb=8 (one column family per partition)
//   kv/rocks_shared/*  rocks://DIR?partitions=shared&block_cache_mb=8
//   kv/mem/*           mem:// (reference only)
//   baseline/rocksdb/* raw rocksdb::DB, the data in a column family "bench"
//
// Ops: get, set, scan (seek to a random key, read 100 entries), setif (random key, an
// equals predicate that holds; baseline get_put: a raw Get then a raw Put), setif_hot
// (64 hot keys per thread updated in turn; baseline set_hot: raw Puts of those keys).
#include <benchmark/benchmark.h>
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdlib>
#include <cstring>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "bench/bench_util.h"
#include "engine/open.h"
#include "engine/store.h"

namespace refkv::bench {
namespace {

constexpr std::string_view kPartition = "bench";
constexpr size_t kScanLength = 100;
constexpr size_t kLoadBatch = 1000;

// Every write bumps the key's version, so the current value is always
// Value(i, versions[i]). Threads touch distinct indexes: no race.
using Versions = std::vector<uint32_t>;

// ---------------------------------------------------------------------------
// refkv stores

struct KvTarget {
  std::string dir;  // empty for mem://
  std::string uri;
  std::unique_ptr<kv::Store> store;
  Versions versions;

  ~KvTarget() {
    if (store != nullptr) (void)store->Close();
    store.reset();
    if (!dir.empty()) RemoveTree(dir);
  }
};

[[noreturn]] void Die(const std::string& what) {
  std::fprintf(stderr, "refkv_bench: %s\n", what.c_str());
  std::abort();
}

Status LoadKv(KvTarget& t) {
  double start = NowSeconds();
  char key[kKeySize], value[kValueSize];
  kv::WriteBatch batch;
  for (uint64_t i = 0; i < TotalKeys(); ++i) {
    FillKey(i, key);
    FillValue(i, 0, value);
    batch.Put({key, kKeySize}, {value, kValueSize});
    if (batch.size() == kLoadBatch || i + 1 == TotalKeys()) {
      Status s = t.store->Write(kPartition, batch);
      if (!s.ok()) return Status::IOError("preload " + t.uri + ": " + s.message());
      batch.Clear();
    }
  }
  t.versions.assign(TotalKeys(), 0);
  std::fprintf(stderr, "refkv_bench: loaded %zu keys into %s in %.1f s\n", TotalKeys(),
               t.uri.c_str(), NowSeconds() - start);
  return Status::OK();
}

// Targets live until exit; they are closed (and their directories removed) by an atexit
// handler registered after each open, so it runs before RocksDB's own function-local
// statics (created during the open) are destroyed.
std::mutex kv_mu;
std::map<std::string, std::unique_ptr<KvTarget>>* kv_targets = nullptr;

void CloseKvTargets() {
  std::lock_guard<std::mutex> lock(kv_mu);
  if (kv_targets != nullptr) kv_targets->clear();
}

// The loaded target `name`, or nullptr after reporting why on `state` (a driver that
// cannot open must not abort the other cases).
KvTarget* GetKv(benchmark::State& state, const std::string& name) {
  std::lock_guard<std::mutex> lock(kv_mu);
  if (kv_targets == nullptr) kv_targets = new std::map<std::string, std::unique_ptr<KvTarget>>;
  auto& slot = (*kv_targets)[name];
  if (slot != nullptr) return slot.get();
  auto t = std::make_unique<KvTarget>();
  if (name == "mem") {
    t->uri = "mem://bench";
  } else {
    t->dir = MakeScratchDir(name);
    t->uri = "rocks://" + t->dir + "/db?" + DriverParams();
    if (name == "rocks_shared") t->uri += "&partitions=shared";
  }
  auto fail = [&](const Status& s) -> KvTarget* {
    std::string msg = "open/preload " + t->uri + ": " + s.message();
    std::fprintf(stderr, "refkv_bench: %s\n", msg.c_str());
    state.SkipWithError(msg.c_str());
    return nullptr;
  };
  auto store = kv::Open(t->uri);
  if (!store.ok()) return fail(store.status());
  t->store = std::move(store).value();
  if (Status s = LoadKv(*t); !s.ok()) return fail(s);
  if (!t->dir.empty()) {
    // Reopen: the WAL is replayed into SST files, as for the baseline.
    if (Status s = t->store->Close(); !s.ok()) return fail(s);
    t->store.reset();
    auto reopened = kv::Open(t->uri);
    if (!reopened.ok()) return fail(reopened.status());
    t->store = std::move(reopened).value();
    PrintLsmShape(t->uri, t->dir + "/db");
  }
  slot = std::move(t);
  std::atexit(CloseKvTargets);
  return slot.get();
}

void KvGet(benchmark::State& state, const std::string& name) {
  KvTarget* target = GetKv(state, name);
  if (target == nullptr) return;
  KvTarget& t = *target;
  KeyPicker picker(state.thread_index(), state.threads(), 1);
  char key[kKeySize];
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    FillKey(picker.Next(), key);
    auto value = t.store->Get(kPartition, {key, kKeySize});
    if (!value.ok()) {
      state.SkipWithError(value.status().message().c_str());
      break;
    }
    benchmark::DoNotOptimize(value->data());
  }
  ReportItems(state, state.iterations(), cpu_start);
}

void KvSet(benchmark::State& state, const std::string& name) {
  KvTarget* target = GetKv(state, name);
  if (target == nullptr) return;
  KvTarget& t = *target;
  KeyPicker picker(state.thread_index(), state.threads(), 2);
  char key[kKeySize], value[kValueSize];
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    uint64_t i = picker.Next();
    FillKey(i, key);
    FillValue(i, ++t.versions[i], value);
    Status s = t.store->Set(kPartition, {key, kKeySize}, {value, kValueSize});
    if (!s.ok()) {
      state.SkipWithError(s.message().c_str());
      break;
    }
  }
  ReportItems(state, state.iterations(), cpu_start);
}

void KvScan(benchmark::State& state, const std::string& name) {
  KvTarget* target = GetKv(state, name);
  if (target == nullptr) return;
  KvTarget& t = *target;
  KeyPicker picker(state.thread_index(), state.threads(), 3);
  char key[kKeySize];
  size_t items = 0;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    FillKey(picker.Next() % (NumKeys() - kScanLength), key);
    kv::ScanOptions options;
    options.start.assign(key, kKeySize);
    auto it = t.store->Scan(kPartition, options);
    if (!it.ok()) {
      state.SkipWithError(it.status().message().c_str());
      break;
    }
    size_t n = 0;
    for (; n < kScanLength && (*it)->Valid(); ++n, (*it)->Next()) {
      benchmark::DoNotOptimize((*it)->key().data());
      benchmark::DoNotOptimize((*it)->value().data());
    }
    if (n != kScanLength) {
      state.SkipWithError("scan ended early");
      break;
    }
    items += n;
  }
  ReportItems(state, static_cast<int64_t>(items), cpu_start);
}

// One compare-and-set of key `i` from its current version to the next.
bool KvCas(benchmark::State& state, KvTarget& t, uint64_t i) {
  char key[kKeySize], expected[kValueSize], value[kValueSize];
  FillKey(i, key);
  FillValue(i, t.versions[i], expected);
  FillValue(i, t.versions[i] + 1, value);
  Status s = t.store->SetIf(kPartition, {key, kKeySize}, {value, kValueSize},
                            kv::Predicate::Equals({expected, kValueSize}));
  if (!s.ok()) {
    state.SkipWithError(s.message().c_str());
    return false;
  }
  ++t.versions[i];
  return true;
}

void KvSetIf(benchmark::State& state, const std::string& name) {
  KvTarget* target = GetKv(state, name);
  if (target == nullptr) return;
  KvTarget& t = *target;
  KeyPicker picker(state.thread_index(), state.threads(), 4);
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    if (!KvCas(state, t, picker.Next())) break;
  }
  ReportItems(state, state.iterations(), cpu_start);
}

void KvSetIfHot(benchmark::State& state, const std::string& name) {
  KvTarget* target = GetKv(state, name);
  if (target == nullptr) return;
  KvTarget& t = *target;
  size_t turn = 0;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    if (!KvCas(state, t, HotKeyIndex(state.thread_index(), turn++ % kHotKeys))) break;
  }
  ReportItems(state, state.iterations(), cpu_start);
}

// ---------------------------------------------------------------------------
// The raw RocksDB baseline

struct RawTarget {
  std::string root;  // scratch directory, removed at exit
  std::string dir;   // the database, root + "/db"
  rocksdb::DB* db = nullptr;
  std::vector<rocksdb::ColumnFamilyHandle*> handles;  // [default, bench]
  rocksdb::ColumnFamilyHandle* cf = nullptr;
  Versions versions;

  void Open() {
    // One Options value: both families share one block cache, as in the driver.
    const rocksdb::Options options = BaselineOptions();
    std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {
        {rocksdb::kDefaultColumnFamilyName, options}, {std::string(kPartition), options}};
    rocksdb::Status s = rocksdb::DB::Open(options, dir, cfs, &handles, &db);
    if (!s.ok()) Die("open baseline " + dir + ": " + s.ToString());
    cf = handles[1];
  }
  void Close() {
    for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
    handles.clear();
    (void)db->Close();
    delete db;
    db = nullptr;
  }
  ~RawTarget() {
    if (db != nullptr) Close();
    RemoveTree(root);
  }
};

std::mutex raw_mu;
std::unique_ptr<RawTarget>* raw_target = nullptr;

void CloseRawTarget() {
  std::lock_guard<std::mutex> lock(raw_mu);
  if (raw_target != nullptr) raw_target->reset();
}

RawTarget& GetRaw() {
  std::lock_guard<std::mutex> lock(raw_mu);
  if (raw_target == nullptr) raw_target = new std::unique_ptr<RawTarget>;
  std::unique_ptr<RawTarget>& target = *raw_target;
  if (target != nullptr) return *target;
  auto t = std::make_unique<RawTarget>();
  t->root = MakeScratchDir("baseline");
  t->dir = t->root + "/db";
  t->Open();
  double start = NowSeconds();
  char key[kKeySize], value[kValueSize];
  rocksdb::WriteBatch batch;
  for (uint64_t i = 0; i < TotalKeys(); ++i) {
    FillKey(i, key);
    FillValue(i, 0, value);
    (void)batch.Put(t->cf, {key, kKeySize}, {value, kValueSize});
    if (batch.Count() == static_cast<int>(kLoadBatch) || i + 1 == TotalKeys()) {
      rocksdb::Status s = t->db->Write(rocksdb::WriteOptions(), &batch);
      if (!s.ok()) Die("preload baseline: " + s.ToString());
      batch.Clear();
    }
  }
  std::fprintf(stderr, "refkv_bench: loaded %zu keys into baseline %s in %.1f s\n", TotalKeys(),
               t->dir.c_str(), NowSeconds() - start);
  t->versions.assign(TotalKeys(), 0);
  t->Close();  // reopen: the WAL is replayed into SST files, as for the kv stores
  t->Open();
  PrintLsmShape("baseline", t->dir);
  target = std::move(t);
  std::atexit(CloseRawTarget);
  return *target;
}

void RawGet(benchmark::State& state) {
  RawTarget& t = GetRaw();
  KeyPicker picker(state.thread_index(), state.threads(), 1);
  char key[kKeySize];
  std::string value;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    FillKey(picker.Next(), key);
    rocksdb::Status s = t.db->Get(rocksdb::ReadOptions(), t.cf, {key, kKeySize}, &value);
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    benchmark::DoNotOptimize(value.data());
  }
  ReportItems(state, state.iterations(), cpu_start);
}

void RawSet(benchmark::State& state) {
  RawTarget& t = GetRaw();
  KeyPicker picker(state.thread_index(), state.threads(), 2);
  char key[kKeySize], value[kValueSize];
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    uint64_t i = picker.Next();
    FillKey(i, key);
    FillValue(i, ++t.versions[i], value);
    rocksdb::Status s =
        t.db->Put(rocksdb::WriteOptions(), t.cf, {key, kKeySize}, {value, kValueSize});
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  ReportItems(state, state.iterations(), cpu_start);
}

void RawScan(benchmark::State& state) {
  RawTarget& t = GetRaw();
  KeyPicker picker(state.thread_index(), state.threads(), 3);
  char key[kKeySize];
  size_t items = 0;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    FillKey(picker.Next() % (NumKeys() - kScanLength), key);
    std::unique_ptr<rocksdb::Iterator> it(t.db->NewIterator(rocksdb::ReadOptions(), t.cf));
    it->Seek({key, kKeySize});
    size_t n = 0;
    for (; n < kScanLength && it->Valid(); ++n, it->Next()) {
      benchmark::DoNotOptimize(it->key().data());
      benchmark::DoNotOptimize(it->value().data());
    }
    if (n != kScanLength) {
      state.SkipWithError("scan ended early");
      break;
    }
    items += n;
  }
  ReportItems(state, static_cast<int64_t>(items), cpu_start);
}

// A raw Get then a raw Put of the same key: the irreducible work of a compare-and-set.
void RawGetPut(benchmark::State& state) {
  RawTarget& t = GetRaw();
  KeyPicker picker(state.thread_index(), state.threads(), 4);
  char key[kKeySize], expected[kValueSize], value[kValueSize];
  std::string current;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    uint64_t i = picker.Next();
    FillKey(i, key);
    FillValue(i, t.versions[i], expected);
    FillValue(i, t.versions[i] + 1, value);
    rocksdb::Status s = t.db->Get(rocksdb::ReadOptions(), t.cf, {key, kKeySize}, &current);
    if (s.ok() &&
        (current.size() != kValueSize || std::memcmp(current.data(), expected, kValueSize) != 0)) {
      s = rocksdb::Status::Aborted("value differs");
    }
    if (s.ok()) s = t.db->Put(rocksdb::WriteOptions(), t.cf, {key, kKeySize}, {value, kValueSize});
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
    ++t.versions[i];
  }
  ReportItems(state, state.iterations(), cpu_start);
}

// Raw Puts of the 64 hot keys of this thread, in turn.
void RawSetHot(benchmark::State& state) {
  RawTarget& t = GetRaw();
  char key[kKeySize], value[kValueSize];
  size_t turn = 0;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    uint64_t i = HotKeyIndex(state.thread_index(), turn++ % kHotKeys);
    FillKey(i, key);
    FillValue(i, ++t.versions[i], value);
    rocksdb::Status s =
        t.db->Put(rocksdb::WriteOptions(), t.cf, {key, kKeySize}, {value, kValueSize});
    if (!s.ok()) {
      state.SkipWithError(s.ToString().c_str());
      break;
    }
  }
  ReportItems(state, state.iterations(), cpu_start);
}

// ---------------------------------------------------------------------------
// Registration: each kv case next to its baseline, at 1 and 2 threads.

// Registers a case twice: at 1 thread timed by the thread's CPU time (robust when other
// processes compete for the 2 cores), and at 2 threads by wall-clock time.
template <class Fn, class... Args>
void RegisterPair(const std::string& name, Fn fn, Args... args) {
  benchmark::RegisterBenchmark(name.c_str(), fn, args...)->Threads(1);
  benchmark::RegisterBenchmark(name.c_str(), fn, args...)->Threads(2)->UseRealTime();
}

int Register() {
  using KvFn = void (*)(benchmark::State&, const std::string&);
  const std::pair<const char*, KvFn> kv_ops[] = {{"get", KvGet},
                                                 {"set", KvSet},
                                                 {"scan", KvScan},
                                                 {"setif", KvSetIf},
                                                 {"setif_hot", KvSetIfHot}};
  const std::pair<const char*, void (*)(benchmark::State&)> raw_ops[] = {{"get", RawGet},
                                                                         {"set", RawSet},
                                                                         {"scan", RawScan},
                                                                         {"get_put", RawGetPut},
                                                                         {"set_hot", RawSetHot}};
  for (size_t op = 0; op < std::size(kv_ops); ++op) {
    RegisterPair(std::string("baseline/rocksdb/") + raw_ops[op].first, raw_ops[op].second);
    for (const char* driver : {"rocks", "rocks_shared", "mem"}) {
      RegisterPair(std::string("kv/") + driver + "/" + kv_ops[op].first, kv_ops[op].second,
                   std::string(driver));
    }
  }
  return 0;
}

const int registered = Register();

}  // namespace
}  // namespace refkv::bench
