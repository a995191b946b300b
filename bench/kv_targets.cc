#include "bench/kv_targets.h"

#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#include "engine/open.h"

namespace refkv::bench {
namespace {

constexpr size_t kLoadBatch = 1000;

Status LoadKv(KvTarget& t) {
  double start = NowSeconds();
  char key[kKeySize], value[kValueSize];
  kv::WriteBatch batch;
  for (uint64_t i = 0; i < TotalKeys(); ++i) {
    FillKey(i, key);
    FillValue(i, 0, value);
    batch.Put({key, kKeySize}, {value, kValueSize});
    if (batch.size() == kLoadBatch || i + 1 == TotalKeys()) {
      for (std::string_view partition : {kReadPartition, kWritePartition}) {
        Status s = t.store->Write(partition, batch);
        if (!s.ok()) return Status::IOError("preload " + t.uri + ": " + s.message());
      }
      batch.Clear();
    }
  }
  t.versions.assign(TotalKeys(), 0);
  std::fprintf(stderr, "refkv_bench: loaded %zu keys into %s in %.1f s\n", TotalKeys(),
               t.uri.c_str(), NowSeconds() - start);
  return Status::OK();
}

// Targets are closed (and their directories removed) at the end of the run
// (AtBenchEnd), while RocksDB's static objects are still alive.
std::mutex kv_mu;
std::map<std::string, std::unique_ptr<KvTarget>>* kv_targets = nullptr;
std::mutex raw_mu;
std::unique_ptr<RawTarget>* raw_target = nullptr;

void CloseKvTargets() {
  std::lock_guard<std::mutex> lock(kv_mu);
  if (kv_targets != nullptr) kv_targets->clear();
}

void CloseRawTarget() {
  std::lock_guard<std::mutex> lock(raw_mu);
  if (raw_target != nullptr) raw_target->reset();
}

bool Fail(std::string* error, const std::string& msg) {
  *error = msg;
  return false;
}

}  // namespace

const char* KvOpName(Op op) {
  static const char* const kNames[] = {"get", "set", "scan", "setif", "setif_hot", "set_sync"};
  return kNames[static_cast<int>(op)];
}

const char* BaselineOpName(Op op) {
  static const char* const kNames[] = {"get", "set", "scan", "get_put", "set_hot", "set_sync"};
  return kNames[static_cast<int>(op)];
}

KvTarget::~KvTarget() {
  if (store != nullptr) (void)store->Close();
  store.reset();
  if (!dir.empty()) RemoveTree(dir);
}

bool RawTarget::Open(std::string* error) {
  // One Options value: both families share one block cache, as in the driver.
  const rocksdb::Options options = BaselineOptions();
  std::vector<rocksdb::ColumnFamilyDescriptor> cfs = {{rocksdb::kDefaultColumnFamilyName, options},
                                                      {std::string(kReadPartition), options},
                                                      {std::string(kWritePartition), options}};
  rocksdb::Status s = rocksdb::DB::Open(options, dir, cfs, &handles, &db);
  if (!s.ok()) return Fail(error, "open baseline " + dir + ": " + s.ToString());
  read_cf = handles[1];
  write_cf = handles[2];
  return true;
}

void RawTarget::Close() {
  for (auto* h : handles) (void)db->DestroyColumnFamilyHandle(h);
  handles.clear();
  (void)db->Close();
  delete db;
  db = nullptr;
}

RawTarget::~RawTarget() {
  if (db != nullptr) Close();
  RemoveTree(root);
}

KvTarget* GetKv(const std::string& name, std::string* error) {
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
    *error = "open/preload " + t->uri + ": " + s.message();
    std::fprintf(stderr, "refkv_bench: %s\n", error->c_str());
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
  AtBenchEnd(CloseKvTargets);
  return slot.get();
}

RawTarget* GetRaw(std::string* error) {
  std::lock_guard<std::mutex> lock(raw_mu);
  if (raw_target == nullptr) raw_target = new std::unique_ptr<RawTarget>;
  std::unique_ptr<RawTarget>& target = *raw_target;
  if (target != nullptr) return target.get();
  auto t = std::make_unique<RawTarget>();
  t->root = MakeScratchDir("baseline");
  t->dir = t->root + "/db";
  if (!t->Open(error)) return nullptr;
  double start = NowSeconds();
  char key[kKeySize], value[kValueSize];
  rocksdb::WriteBatch batches[2];
  for (uint64_t i = 0; i < TotalKeys(); ++i) {
    FillKey(i, key);
    FillValue(i, 0, value);
    (void)batches[0].Put(t->read_cf, {key, kKeySize}, {value, kValueSize});
    (void)batches[1].Put(t->write_cf, {key, kKeySize}, {value, kValueSize});
    if (batches[0].Count() == static_cast<int>(kLoadBatch) || i + 1 == TotalKeys()) {
      for (auto& batch : batches) {
        rocksdb::Status s = t->db->Write(rocksdb::WriteOptions(), &batch);
        if (!s.ok()) {
          *error = "preload baseline: " + s.ToString();
          return nullptr;
        }
        batch.Clear();
      }
    }
  }
  std::fprintf(stderr, "refkv_bench: loaded %zu keys into baseline %s in %.1f s\n", TotalKeys(),
               t->dir.c_str(), NowSeconds() - start);
  t->versions.assign(TotalKeys(), 0);
  t->Close();  // reopen: the WAL is replayed into SST files, as for the kv stores
  if (!t->Open(error)) return nullptr;
  PrintLsmShape("baseline", t->dir);
  target = std::move(t);
  AtBenchEnd(CloseRawTarget);
  return target.get();
}

int64_t KvStep(Op op, KvTarget& t, Worker& w, std::string* error) {
  char key[kKeySize], expected[kValueSize], value[kValueSize];
  switch (op) {
    case Op::kGet: {
      FillKey(w.picker.Next(), key);
      auto got = t.store->Get(kReadPartition, {key, kKeySize});
      if (!got.ok()) return Fail(error, got.status().message()), 0;
      benchmark::DoNotOptimize(got->data());
      return 1;
    }
    case Op::kSet:
    case Op::kSetSync: {
      uint64_t i = w.picker.Next();
      FillKey(i, key);
      FillValue(i, ++t.versions[i], value);
      Status s = t.store->Set(kWritePartition, {key, kKeySize}, {value, kValueSize});
      if (s.ok() && op == Op::kSetSync) s = t.store->Sync();
      if (!s.ok()) return Fail(error, s.message()), 0;
      return 1;
    }
    case Op::kScan: {
      FillKey(w.picker.Next() % (NumKeys() - kScanLength), key);
      kv::ScanOptions options;
      options.start.assign(key, kKeySize);
      auto it = t.store->Scan(kReadPartition, options);
      if (!it.ok()) return Fail(error, it.status().message()), 0;
      size_t n = 0;
      for (; n < kScanLength && (*it)->Valid(); ++n, (*it)->Next()) {
        benchmark::DoNotOptimize((*it)->key().data());
        benchmark::DoNotOptimize((*it)->value().data());
      }
      if (n != kScanLength) return Fail(error, "scan ended early"), 0;
      return static_cast<int64_t>(n);
    }
    case Op::kSetIf:
    case Op::kSetIfHot: {
      uint64_t i = op == Op::kSetIf ? w.picker.Next() : HotKeyIndex(w.thread, w.turn++ % kHotKeys);
      FillKey(i, key);
      FillValue(i, t.versions[i], expected);
      FillValue(i, t.versions[i] + 1, value);
      Status s = t.store->SetIf(kWritePartition, {key, kKeySize}, {value, kValueSize},
                                kv::Predicate::Equals({expected, kValueSize}));
      if (!s.ok()) return Fail(error, s.message()), 0;
      ++t.versions[i];
      return 1;
    }
  }
  return Fail(error, "unknown op"), 0;
}

int64_t RawStep(Op op, RawTarget& t, Worker& w, std::string* error) {
  char key[kKeySize], expected[kValueSize], value[kValueSize];
  const rocksdb::ReadOptions ro;
  const rocksdb::WriteOptions wo;
  switch (op) {
    case Op::kGet: {
      FillKey(w.picker.Next(), key);
      rocksdb::Status s = t.db->Get(ro, t.read_cf, {key, kKeySize}, &w.scratch);
      if (!s.ok()) return Fail(error, s.ToString()), 0;
      benchmark::DoNotOptimize(w.scratch.data());
      return 1;
    }
    case Op::kSet:
    case Op::kSetSync:
    case Op::kSetIfHot: {  // baseline set_hot: a raw Put of the hot key
      uint64_t i =
          op == Op::kSetIfHot ? HotKeyIndex(w.thread, w.turn++ % kHotKeys) : w.picker.Next();
      FillKey(i, key);
      FillValue(i, ++t.versions[i], value);
      rocksdb::Status s = t.db->Put(wo, t.write_cf, {key, kKeySize}, {value, kValueSize});
      if (s.ok() && op == Op::kSetSync) s = t.db->SyncWAL();
      if (!s.ok()) return Fail(error, s.ToString()), 0;
      return 1;
    }
    case Op::kScan: {
      FillKey(w.picker.Next() % (NumKeys() - kScanLength), key);
      std::unique_ptr<rocksdb::Iterator> it(t.db->NewIterator(ro, t.read_cf));
      it->Seek({key, kKeySize});
      size_t n = 0;
      for (; n < kScanLength && it->Valid(); ++n, it->Next()) {
        benchmark::DoNotOptimize(it->key().data());
        benchmark::DoNotOptimize(it->value().data());
      }
      if (n != kScanLength) return Fail(error, "scan ended early"), 0;
      return static_cast<int64_t>(n);
    }
    case Op::kSetIf: {  // baseline get_put: the irreducible work of a compare-and-set
      uint64_t i = w.picker.Next();
      FillKey(i, key);
      FillValue(i, t.versions[i], expected);
      FillValue(i, t.versions[i] + 1, value);
      rocksdb::Status s = t.db->Get(ro, t.write_cf, {key, kKeySize}, &w.scratch);
      if (s.ok() && (w.scratch.size() != kValueSize ||
                     std::memcmp(w.scratch.data(), expected, kValueSize) != 0)) {
        s = rocksdb::Status::Aborted("value differs");
      }
      if (s.ok()) s = t.db->Put(wo, t.write_cf, {key, kKeySize}, {value, kValueSize});
      if (!s.ok()) return Fail(error, s.ToString()), 0;
      ++t.versions[i];
      return 1;
    }
  }
  return Fail(error, "unknown op"), 0;
}

}  // namespace refkv::bench
