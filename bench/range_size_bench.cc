// The case for smaller ranges (a range-boundary change is a format change, so a schema
// step): the CPU of applying a commit's 10 changed entries to a tree of 100k entries as
// the average range shrinks, on a KV range store in memory (the refstore's layout
// without disk I/O), with the tree's size in ranges beside it:
//   committed/apply_ten_by_range_size/range_entries:R   R = 1000 (today's defaults:
//       boundary_bits 9, min 512, max 8192), 256 (bits 7, min 128, max 2048),
//       64 (bits 5, min 32, max 512)
// The new objects are deleted again (untimed) so the run does not grow.
//
//   build/bin/refkv_bench --benchmark_filter='committed/apply_ten_by_range_size/'
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "engine/open.h"
#include "refstore/committed/committed.h"
#include "refstore/committed/range_store.h"

namespace refkv::refstore {
namespace {

constexpr int64_t kTreeEntries = 100000;

std::string RangeSizePath(int64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "repo/data/%04d/obj-%08lld", static_cast<int>(i % 1000),
                static_cast<long long>(i));
  return buf;
}

CommittedManager::Options OptionsFor(int64_t range_entries) {
  CommittedManager::Options o;  // range_entries 1000: the defaults
  if (range_entries == 256) {
    o.boundary_bits = 7;
    o.min_range_entries = 128;
    o.max_range_entries = 2048;
  } else if (range_entries == 64) {
    o.boundary_bits = 5;
    o.min_range_entries = 32;
    o.max_range_entries = 512;
  }
  return o;
}

void ApplyTenByRangeSize(benchmark::State& state) {
  const int64_t range_entries = state.range(0);
  auto kv = kv::Open("mem://");
  if (!kv.ok()) return state.SkipWithError(kv.status().ToString().c_str());
  auto ranges = OpenKvRangeStore(**kv, "ranges");
  if (!ranges.ok()) return state.SkipWithError(ranges.status().ToString().c_str());
  auto manager = CommittedManager::Create(**ranges, OptionsFor(range_entries));
  if (!manager.ok()) return state.SkipWithError(manager.status().ToString().c_str());
  CommittedManager& m = **manager;
  std::map<std::string, std::string> all;
  for (int64_t i = 0; i < kTreeEntries; ++i) all[RangeSizePath(i)] = "v" + std::to_string(i);
  std::vector<Change> load;
  for (auto& [path, value] : all) load.push_back({path, value});
  auto base = m.Apply(m.EmptyMetaRangeId(), load, nullptr, MetaRangeFormat::kTwoLevel);
  if (!base.ok()) return state.SkipWithError(base.status().ToString().c_str());
  auto info = m.Describe(*base);
  if (!info.ok()) return state.SkipWithError(info.status().ToString().c_str());
  std::set<std::string> base_ids;
  for (auto& r : info->ranges) base_ids.insert(r.id);
  std::mt19937_64 rng(9);
  int64_t n = 0;
  for (auto _ : state) {
    std::map<std::string, std::string> ten;
    while (ten.size() < 10) ten[RangeSizePath(rng() % kTreeEntries)] = "c" + std::to_string(++n);
    std::vector<Change> changes;
    for (auto& [path, value] : ten) changes.push_back({path, value});
    auto id = m.Apply(*base, changes, nullptr, MetaRangeFormat::kTwoLevel);
    if (!id.ok()) return state.SkipWithError(id.status().ToString().c_str());
    state.PauseTiming();
    auto after = m.Describe(*id);
    if (after.ok()) {
      for (auto& r : after->ranges) {
        if (!base_ids.count(r.id)) (void)m.DeleteRange(r.id);
      }
    }
    (void)m.DeleteMetaRange(*id);
    state.ResumeTiming();
  }
  state.counters["ranges_in_tree"] = static_cast<double>(info->ranges.size());
}

BENCHMARK(ApplyTenByRangeSize)
    ->Name("committed/apply_ten_by_range_size")
    ->ArgName("range_entries")
    ->Arg(1000)
    ->Arg(256)
    ->Arg(64)
    ->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace refkv::refstore
