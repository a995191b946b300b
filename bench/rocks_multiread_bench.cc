// RocksDB driver MultiGet of random keys (batches of 32) with direct reads and a block
// cache far smaller than the data, through the io_uring file system (io/rocks_fs.h)
// against RocksDB's default file system (one pread per block), same store, same run.
// The physical limit (fio random 4 KiB reads at queue depth 32 on the same file
// system) is measured by bench/io_uring_multiread.sh beside this case.
//
// Data: REFKV_MULTIREAD_MB (default 256) MiB of 1000-byte random values under 16-byte
// keys in one ingested SST (4 KiB blocks: ~4 values per block), in the store at
// $REFKV_BENCH_DIR (default /tmp)/refkv-multiread-bench, kept between runs (rebuilt if
// missing). block_cache_mb=8.
//   refkv_bench --benchmark_filter=RocksMultiGet
#include <benchmark/benchmark.h>
#include <rocksdb/sst_file_writer.h>

#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>

#include "engine/open.h"
#include "io/rocks_fs.h"

namespace refkv {
namespace {

constexpr size_t kValueBytes = 1000;
constexpr size_t kBatch = 32;

struct MultiReadData {
  std::string dir;
  size_t keys = 0;
};

std::string KeyOf(size_t i) {
  char key[20];
  std::snprintf(key, sizeof(key), "key-%012zu", i);
  return key;
}

const MultiReadData& Data() {
  static const MultiReadData data = [] {
    MultiReadData d;
    const char* base = std::getenv("REFKV_BENCH_DIR");
    d.dir = std::string(base ? base : "/tmp") + "/refkv-multiread-bench";
    const char* mb = std::getenv("REFKV_MULTIREAD_MB");
    d.keys = (static_cast<size_t>(mb ? std::atol(mb) : 256) << 20) / (kValueBytes + 16);
    const std::string done = d.dir + "/READY-" + std::to_string(d.keys);
    if (std::filesystem::exists(done)) return d;
    std::filesystem::remove_all(d.dir);
    std::filesystem::create_directories(d.dir);
    const std::string sst = d.dir + "/data.sst";
    rocksdb::Options options;
    rocksdb::SstFileWriter writer(rocksdb::EnvOptions(), options);
    (void)writer.Open(sst);
    std::mt19937_64 rng(3);
    std::string value(kValueBytes, '\0');
    for (size_t i = 0; i < d.keys; ++i) {
      for (size_t j = 0; j < kValueBytes; j += 8) {
        uint64_t r = rng();
        std::memcpy(&value[j], &r, std::min<size_t>(8, kValueBytes - j));
      }
      (void)writer.Put(KeyOf(i), value);
    }
    (void)writer.Finish();
    auto store = kv::Open("rocks://" + d.dir + "/db");
    if (store.ok() && (*store)->IngestSstFiles("p", {sst}, true).ok() && (*store)->Close().ok()) {
      std::ofstream(done) << "ok\n";
    }
    return d;
  }();
  return data;
}

// Opens the data set's store for one case; null (the case skipped, saying why) if it
// cannot run.
std::unique_ptr<kv::Store> OpenCase(benchmark::State& state, const MultiReadData& d, bool uring,
                                    bool direct) {
  auto store = kv::Open("rocks://" + d.dir + "/db?block_cache_mb=8&direct_reads=" +
                        (direct ? "true" : "false") + "&io_uring=" + (uring ? "true" : "false"));
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return nullptr;
  }
  if (uring && !io::RocksUringUsable()) {
    state.SkipWithError("io_uring unavailable");
    return nullptr;
  }
  return std::move(*store);
}

// One MultiGet of keys.size() random keys; false (the case skipped) if it failed.
bool ReadRandomBatch(benchmark::State& state, kv::Store& store, const MultiReadData& d,
                     std::mt19937_64& rng, std::vector<std::string>& keys) {
  for (auto& k : keys) k = KeyOf(rng() % d.keys);
  auto got = store.MultiGet("p", keys);
  if (!got.ok() || !(*got)[0].ok()) {
    state.SkipWithError("multiget failed");
    return false;
  }
  return true;
}

// The io_uring requests per submitted batch since `before` (0 without io_uring).
double ReadsPerMultiRead(const io::RocksFsStats& before) {
  const io::RocksFsStats after = io::GetRocksFsStats();
  double batches = static_cast<double>(after.uring_batches - before.uring_batches);
  return batches > 0 ? static_cast<double>(after.uring_requests - before.uring_requests) / batches
                     : 0;
}

void BM_RocksMultiGet(benchmark::State& state) {
  const MultiReadData& d = Data();
  const bool uring = state.range(0) != 0;
  const bool direct = state.range(1) != 0;
  std::unique_ptr<kv::Store> store = OpenCase(state, d, uring, direct);
  if (!store) return;
  std::mt19937_64 rng(11);
  std::vector<std::string> keys(kBatch);
  const io::RocksFsStats before = io::GetRocksFsStats();
  for (auto _ : state) {
    if (!ReadRandomBatch(state, *store, d, rng, keys)) break;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  state.counters["reads_per_multiread"] = ReadsPerMultiRead(before);
  (void)store->Close();
}
// Args: uring, direct. direct:0 reads through the page cache (the data fits in it
// after the first pass): whether io_uring costs anything when reads do not wait.
BENCHMARK(BM_RocksMultiGet)
    ->Args({1, 1})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({0, 0})
    ->ArgNames({"uring", "direct"})
    ->UseRealTime()
    ->MinTime(5);

// T threads, each a MultiGet of 32/T random keys at a time, on one shared store: at
// most 32 block reads in flight in total (fio's QD 32), but while one thread waits for
// the slowest read of its batch or spends CPU on the blocks it got, the others keep
// reads in flight. Every key is a different thread's or batch's, so this is what an
// application serving concurrent requests sees. Args: uring; for T = 2, 4, 8.
struct SharedStore {
  std::unique_ptr<kv::Store> store;
  io::RocksFsStats before;
};
SharedStore& Shared() {
  static SharedStore s;
  return s;
}

void BM_RocksMultiGetThreads(benchmark::State& state) {
  const MultiReadData& d = Data();
  const bool uring = state.range(0) != 0;
  const size_t batch = kBatch / static_cast<size_t>(state.threads());
  SharedStore& shared = Shared();
  if (state.thread_index() == 0) {
    shared.store = OpenCase(state, d, uring, /*direct=*/true);
    shared.before = io::GetRocksFsStats();
  }
  std::mt19937_64 rng(11 + static_cast<uint64_t>(state.thread_index()));
  std::vector<std::string> keys(batch);
  for (auto _ : state) {
    if (!shared.store) {
      state.SkipWithError("no store");
      break;
    }
    if (!ReadRandomBatch(state, *shared.store, d, rng, keys)) break;
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * batch));
  if (state.thread_index() == 0) {
    state.counters["reads_per_multiread"] = ReadsPerMultiRead(shared.before);
    state.counters["keys_per_multiget"] = static_cast<double>(batch);
    if (shared.store) (void)shared.store->Close();
    shared.store.reset();
  }
}
// One registration per thread count, so each io_uring case runs beside its baseline.
[[maybe_unused]] const bool kThreadCasesRegistered = [] {
  for (int threads : {2, 4, 8}) {
    benchmark::RegisterBenchmark("BM_RocksMultiGetThreads", BM_RocksMultiGetThreads)
        ->Args({1})
        ->Args({0})
        ->ArgNames({"uring"})
        ->Threads(threads)
        ->UseRealTime()
        ->MinTime(5);
  }
  return true;
}();

// The same keys one Get at a time (no batching at all), for scale.
void BM_RocksMultiGet_SingleGets(benchmark::State& state) {
  const MultiReadData& d = Data();
  auto store = kv::Open("rocks://" + d.dir + "/db?direct_reads=true&block_cache_mb=8");
  if (!store.ok()) {
    state.SkipWithError(store.status().ToString().c_str());
    return;
  }
  std::mt19937_64 rng(11);
  for (auto _ : state) {
    for (size_t i = 0; i < kBatch; ++i) {
      benchmark::DoNotOptimize((*store)->Get("p", KeyOf(rng() % d.keys)));
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations() * kBatch));
  (void)(*store)->Close();
}
BENCHMARK(BM_RocksMultiGet_SingleGets)->UseRealTime()->MinTime(5);

}  // namespace
}  // namespace refkv
