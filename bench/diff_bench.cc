// Diff of two commits that differ in 10 of N entries (N = $REFKV_BENCH_DIFF_ENTRIES,
// default 1,000,000) on rocks, beside the lower bound the benchmark builds itself in the
// same run: the two commits' metaranges walked by range-id comparison only (as a Git
// tree walk that skips equal subtrees, without reading the changed ranges):
//   refstore/rocks/diff/refs/changed:10            RefStore::Diff of the two commit ids
//   refstore/rocks/diff/committed/changed:10       CommittedManager::Diff of their two
//                                                  metaranges (no ref resolution)
//   refstore/rocks/diff/range_ids/changed:10       baseline: walk the two trees' range
//                                                  lists (read once, as the Diff finds
//                                                  them in its cache) comparing ids only
// Each case reports `ranges_differing` (how many range pairs differ). The store is filled
// once (commits of 100k staged entries; tens of seconds at 1M) and kept for the three
// cases; the end of the run closes and removes it (bench::AtBenchEnd).
//
//   build/bin/refkv_bench --benchmark_filter='refstore/rocks/diff/'
#include <benchmark/benchmark.h>

#include <cstdio>
#include <cstdlib>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "bench/bench_util.h"
#include "engine/open.h"
#include "refstore/committed/committed.h"
#include "refstore/committed/range_store.h"
#include "refstore/open_for_store.h"
#include "refstore/refstore.h"

namespace refkv::refstore {
namespace {

int64_t DiffEntries() {
  const char* env = std::getenv("REFKV_BENCH_DIFF_ENTRIES");
  const int64_t n = env != nullptr ? std::strtoll(env, nullptr, 10) : 0;
  return n >= 1000 ? n : 1'000'000;
}

std::string DiffPath(int64_t i) {
  char buf[48];
  std::snprintf(buf, sizeof(buf), "data/%04d/obj-%08lld", static_cast<int>(i % 1000),
                static_cast<long long>(i));
  return buf;
}

// The store, its two commits and a committed manager of its own on the same range store
// (reads only: its cache is warmed by the first iteration, as the ref store's is).
struct DiffEnv {
  std::string dir;
  std::unique_ptr<kv::Store> kv;
  OpenedRefStore opened;
  std::unique_ptr<CommittedManager> committed;
  std::string left_commit, right_commit, left_tree, right_tree;
  MetaRangeInfo left_info, right_info;  // the two trees' range lists, for the baseline
  ~DiffEnv() {
    committed.reset();
    opened = {};
    kv.reset();
    bench::RemoveTree(dir);
  }
};

std::mutex diff_mu;
std::unique_ptr<DiffEnv>* diff_env = new std::unique_ptr<DiffEnv>;
std::string* diff_error = new std::string;

void ReleaseDiffEnv() {
  std::lock_guard lock(diff_mu);
  diff_env->reset();
}

Status FillDiffEnv(DiffEnv& env) {
  RefStore& refs = *env.opened.refs;
  REFKV_RETURN_IF_ERROR(refs.CreateRepository("bench").status());
  const int64_t n = DiffEntries();
  for (int64_t i = 0; i < n; ++i) {
    REFKV_RETURN_IF_ERROR(refs.PutEntry("bench", "main", DiffPath(i), "v" + std::to_string(i)));
    if ((i + 1) % 100000 == 0 || i + 1 == n) {
      REFKV_RETURN_IF_ERROR(refs.Commit("bench", "main", {}).status());
    }
  }
  REFKV_ASSIGN_OR_RETURN(CommitInfo left, refs.GetCommit("bench", "main"));
  std::mt19937_64 rng(3);
  for (int k = 0; k < 10; ++k) {
    REFKV_RETURN_IF_ERROR(
        refs.PutEntry("bench", "main", DiffPath(static_cast<int64_t>(rng() % n)), "changed"));
  }
  REFKV_RETURN_IF_ERROR(refs.Commit("bench", "main", {}).status());
  REFKV_ASSIGN_OR_RETURN(CommitInfo right, refs.GetCommit("bench", "main"));
  env.left_commit = left.id;
  env.right_commit = right.id;
  env.left_tree = left.metarange_id;
  env.right_tree = right.metarange_id;
  REFKV_ASSIGN_OR_RETURN(env.committed,
                         CommittedManager::Create(*env.opened.ranges, CommittedManager::Options{}));
  REFKV_ASSIGN_OR_RETURN(env.left_info, env.committed->Describe(env.left_tree));
  REFKV_ASSIGN_OR_RETURN(env.right_info, env.committed->Describe(env.right_tree));
  return Status::OK();
}

DiffEnv* GetDiffEnv(benchmark::State& state) {
  std::lock_guard lock(diff_mu);
  if (*diff_env) return diff_env->get();
  if (!diff_error->empty()) {
    state.SkipWithError(diff_error->c_str());
    return nullptr;
  }
  auto env = std::make_unique<DiffEnv>();
  env->dir = bench::MakeScratchDir("diff");
  Status s = [&]() -> Status {
    REFKV_ASSIGN_OR_RETURN(env->kv, kv::Open("rocks://" + env->dir + "/db?sync=false"));
    REFKV_ASSIGN_OR_RETURN(env->opened, OpenForStore(*env->kv, OpenForStoreOptions{}));
    return FillDiffEnv(*env);
  }();
  if (!s.ok()) {
    *diff_error = s.ToString();
    state.SkipWithError(diff_error->c_str());
    return nullptr;
  }
  static const bool kAtEnd = (bench::AtBenchEnd(ReleaseDiffEnv), true);
  (void)kAtEnd;
  *diff_env = std::move(env);
  return diff_env->get();
}

// Range pairs that differ between two trees, by id and position alone.
int64_t RangesDiffering(const MetaRangeInfo& a, const MetaRangeInfo& b) {
  int64_t differing = 0;
  size_t i = 0, j = 0;
  while (i < a.ranges.size() || j < b.ranges.size()) {
    if (i < a.ranges.size() && j < b.ranges.size() && a.ranges[i].id == b.ranges[j].id) {
      ++i, ++j;
      continue;
    }
    ++differing;
    // Advance the side whose range ends first (both when they end together).
    if (j == b.ranges.size()) {
      ++i;
    } else if (i == a.ranges.size()) {
      ++j;
    } else {
      const int cmp = a.ranges[i].max_path.compare(b.ranges[j].max_path);
      if (cmp <= 0) ++i;
      if (cmp >= 0) ++j;
    }
  }
  return differing;
}

enum class DiffCase { kRefs, kCommitted, kRangeIds };

void Diff(benchmark::State& state, DiffCase which) {
  DiffEnv* env = GetDiffEnv(state);
  if (env == nullptr) return;
  int64_t found = 0;
  for (auto _ : state) {
    switch (which) {
      case DiffCase::kRefs: {
        auto d = env->opened.refs->Diff("bench", env->left_commit, env->right_commit);
        if (!d.ok()) return state.SkipWithError(d.status().ToString().c_str());
        found = static_cast<int64_t>(d->size());
        break;
      }
      case DiffCase::kCommitted: {
        int64_t n = 0;
        Status s = env->committed->Diff(env->left_tree, env->right_tree, [&](const DiffEntry&) {
          ++n;
          return Status::OK();
        });
        if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
        found = n;
        break;
      }
      case DiffCase::kRangeIds:
        found = RangesDiffering(env->left_info, env->right_info);
        benchmark::DoNotOptimize(found);
        break;
    }
  }
  state.counters["ranges_differing"] =
      static_cast<double>(RangesDiffering(env->left_info, env->right_info));
  state.counters["ranges"] = static_cast<double>(env->right_info.ranges.size());
  state.counters[which == DiffCase::kRangeIds ? "ranges_found" : "entries_found"] =
      static_cast<double>(found);
}

const bool kRegistered = [] {
  const std::pair<const char*, DiffCase> cases[] = {{"refs", DiffCase::kRefs},
                                                    {"committed", DiffCase::kCommitted},
                                                    {"range_ids", DiffCase::kRangeIds}};
  for (const auto& [name, which] : cases) {
    benchmark::RegisterBenchmark(
        (std::string("refstore/rocks/diff/") + name + "/changed:10").c_str(), Diff, which)
        ->Unit(benchmark::kMicrosecond);
  }
  return true;
}();

}  // namespace
}  // namespace refkv::refstore
