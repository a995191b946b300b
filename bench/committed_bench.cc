// Committed data (refstore/committed): the cost of a 1-entry Apply as the tree grows
// (must follow the change, not the tree), and scan / point-read rates against raw
// baselines in the same run (std::map, one SST read with SstFileReader).
//
//   build-*/bin/refkv_bench --benchmark_filter='committed/'
#include <benchmark/benchmark.h>
#include <rocksdb/env.h>
#include <rocksdb/options.h>
#include <rocksdb/sst_file_reader.h>
#include <rocksdb/sst_file_writer.h>
#include <stdlib.h>

#include <cstdio>
#include <filesystem>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>

#include "bench/bench_util.h"
#include "engine/open.h"
#include "refstore/committed/committed.h"

namespace refkv::refstore {
namespace {

std::string PathOf(int64_t i) {
  char buf[48];
  snprintf(buf, sizeof(buf), "repo/data/%04d/obj-%08lld", static_cast<int>(i % 1000),
           static_cast<long long>(i));
  return buf;
}
std::string ValueOf(int64_t i) { return "meta:size=" + std::to_string(i * 37 % 100000) + ";etag"; }

// Paths in sorted order: PathOf is not monotonic in i, so generate from the sorted set.
class SortedSource final : public ChangeSource {
 public:
  explicit SortedSource(int64_t n) {
    for (int64_t i = 0; i < n; ++i) paths_.emplace(PathOf(i), i);
    it_ = paths_.begin();
  }
  bool Next(Change* c) override {
    if (it_ == paths_.end()) return false;
    c->path = it_->first;
    c->value = ValueOf(it_->second);
    ++it_;
    return true;
  }
  Status status() const override { return Status::OK(); }

 private:
  std::map<std::string, int64_t> paths_;
  std::map<std::string, int64_t>::iterator it_;
};

// A temporary directory for the whole run, removed at its end (bench::RunBenchEnd).
const std::string& BenchDir() {
  static const std::string* path = new std::string(bench::MakeScratchDir("committed"));
  return *path;
}

struct Tree {
  std::unique_ptr<kv::Store> kv;
  std::unique_ptr<RangeStore> ranges;
  std::unique_ptr<CommittedManager> manager;
  std::string id;
  int64_t entries = 0;
};

// Trees are built once per (store kind, size) and shared by the cases.
Tree& GetTree(const std::string& kind, int64_t n) {
  static std::map<std::pair<std::string, int64_t>, std::unique_ptr<Tree>> trees;
  auto& slot = trees[{kind, n}];
  if (slot) return *slot;
  slot = std::make_unique<Tree>();
  Tree& t = *slot;
  if (kind == "dir") {
    t.ranges = *OpenDirRangeStore(BenchDir() + "/dir-" + std::to_string(n));
  } else {
    t.kv = *kv::Open("mem://bench");
    t.ranges = *OpenKvRangeStore(*t.kv, "ranges");
  }
  t.manager = *CommittedManager::Create(*t.ranges, CommittedManager::Options{});
  SortedSource source(n);
  auto id = t.manager->Apply(t.manager->EmptyMetaRangeId(), source);
  if (!id.ok()) {
    fprintf(stderr, "build %s/%lld: %s\n", kind.c_str(), static_cast<long long>(n),
            id.status().ToString().c_str());
    abort();
  }
  t.id = *id;
  t.entries = n;
  return t;
}

// Apply of one changed entry on a tree of N entries; the new objects are deleted again
// (untimed) so the run does not fill the disk.
void ApplyOne(benchmark::State& state, const std::string& kind) {
  Tree& t = GetTree(kind, state.range(0));
  auto base = t.manager->Describe(t.id);
  std::set<std::string> base_ids;
  for (auto& r : base->ranges) base_ids.insert(r.id);
  std::mt19937_64 rng(42);
  int64_t i = 0;
  uint64_t written = 0;
  for (auto _ : state) {
    std::vector<Change> one{{PathOf(rng() % t.entries), "changed-" + std::to_string(++i)}};
    ApplyStats stats;
    auto id = t.manager->Apply(t.id, one, &stats);
    if (!id.ok()) {
      state.SkipWithError(id.status().ToString().c_str());
      break;
    }
    written += stats.ranges_written;
    state.PauseTiming();
    auto info = t.manager->Describe(*id);
    for (auto& r : info->ranges) {
      if (!base_ids.count(r.id)) (void)t.manager->DeleteRange(r.id);
    }
    (void)t.manager->DeleteMetaRange(*id);
    state.ResumeTiming();
  }
  state.SetItemsProcessed(state.iterations());
  state.counters["ranges_written_per_apply"] =
      static_cast<double>(written) / std::max<int64_t>(1, state.iterations());
  state.counters["ranges_in_tree"] = static_cast<double>(base->ranges.size());
}

void BM_ApplyOneDir(benchmark::State& state) { ApplyOne(state, "dir"); }
void BM_ApplyOneKvMem(benchmark::State& state) { ApplyOne(state, "kv"); }
BENCHMARK(BM_ApplyOneDir)
    ->Name("committed/apply_one")
    ->ArgName("entries")
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_ApplyOneKvMem)
    ->Name("committed/apply_one_kv_mem")
    ->ArgName("entries")
    ->Arg(1000)
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMicrosecond);

// Full scan of the tree through CommittedManager::NewIterator (dir store, default
// options: 64 cached range readers, so a 1M tree is read and verified from disk).
void BM_Scan(benchmark::State& state) {
  Tree& t = GetTree("dir", state.range(0));
  for (auto _ : state) {
    auto it = *t.manager->NewIterator(t.id, "");
    int64_t n = 0;
    for (; it->Valid(); it->Next()) {
      benchmark::DoNotOptimize(it->value().data());
      ++n;
    }
    if (n != t.entries) state.SkipWithError("scan count mismatch");
  }
  state.SetItemsProcessed(state.iterations() * t.entries);
}
BENCHMARK(BM_Scan)
    ->Name("committed/scan")
    ->ArgName("entries")
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);

// Baseline: the same entries in a std::map.
void BM_ScanStdMap(benchmark::State& state) {
  std::map<std::string, std::string> m;
  for (int64_t i = 0; i < state.range(0); ++i) m.emplace(PathOf(i), ValueOf(i));
  for (auto _ : state) {
    for (auto& [k, v] : m) benchmark::DoNotOptimize(v.data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScanStdMap)
    ->Name("committed/baseline_std_map_scan")
    ->ArgName("entries")
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);

// Baseline: the same entries in one SST file, read with SstFileReader (no hashing, no
// range switching, page cache warm).
void BM_ScanOneSst(benchmark::State& state) {
  std::string file = BenchDir() + "/one-" + std::to_string(state.range(0)) + ".sst";
  rocksdb::Options options;
  {
    rocksdb::SstFileWriter w(rocksdb::EnvOptions(), options);
    if (!w.Open(file).ok()) abort();
    SortedSource source(state.range(0));
    Change c;
    while (source.Next(&c)) {
      if (!w.Put(c.path, *c.value).ok()) abort();
    }
    if (!w.Finish().ok()) abort();
  }
  rocksdb::SstFileReader reader(options);
  if (!reader.Open(file).ok()) abort();
  for (auto _ : state) {
    std::unique_ptr<rocksdb::Iterator> it(reader.NewIterator(rocksdb::ReadOptions()));
    for (it->SeekToFirst(); it->Valid(); it->Next()) benchmark::DoNotOptimize(it->value().data());
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_ScanOneSst)
    ->Name("committed/baseline_one_sst_scan")
    ->ArgName("entries")
    ->Arg(100000)
    ->Arg(1000000)
    ->Unit(benchmark::kMillisecond);

// Random point reads at a tree head, against std::map::find.
void BM_Get(benchmark::State& state) {
  Tree& t = GetTree("dir", state.range(0));
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto v = t.manager->Get(t.id, PathOf(rng() % t.entries));
    if (!v.ok()) state.SkipWithError(v.status().ToString().c_str());
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Get)->Name("committed/get")->ArgName("entries")->Arg(100000)->Arg(1000000);

void BM_GetStdMap(benchmark::State& state) {
  std::map<std::string, std::string> m;
  for (int64_t i = 0; i < state.range(0); ++i) m.emplace(PathOf(i), ValueOf(i));
  std::mt19937_64 rng(1);
  for (auto _ : state) {
    auto it = m.find(PathOf(rng() % state.range(0)));
    benchmark::DoNotOptimize(it);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_GetStdMap)
    ->Name("committed/baseline_std_map_get")
    ->ArgName("entries")
    ->Arg(100000)
    ->Arg(1000000);

}  // namespace
}  // namespace refkv::refstore
