// RefStore::Merge (refstore/merge.cc), each case beside its baseline in the same run:
//   refstore/rocks/merge_latency/branch_entries:N   N = 1k, 1M committed entries on main.
//       Per iteration: a 1-entry commit on main (the baseline, timed apart: counter
//       commit_us), a 1-entry commit on a feature branch (not timed), then the merge of the
//       feature into main with --ff never (timed: the reported time), then the feature
//       fast-forwards to main (not timed), so each merge has a 1-entry change on each
//       side of its base. Counters: medians
//       merge_us and commit_us and their ratio, ranges written per merge.
//   refstore/rocks/merges/concurrent/durable:1/threads:8
//       8 mergers, each with its own feature branch: a 1-entry commit on it, then a merge
//       into main (ff never), durable (one WAL sync per commit and per merge). Items =
//       merges; counter retries_per_merge (compare-and-set rounds beyond the first).
//       Baseline: refstore/rocks/commits/one_branch/durable:1/real_time/threads:8
//       (refstore_bench.cc).
//   refstore/rocks/merge_disjoint/entries:100000/dest_moved:D
//       A feature branch adds 100k entries under b/; main has 1k entries under a/ and
//       (D=1) changed some of them since the branch point. One merge; counters
//       ranges_written, ranges_reused (kept whole), ranges_read, ranges in the result.
//
//   build/bin/refkv_bench
//   --benchmark_filter='refstore/rocks/(merge|commits/one_branch/durable:1/threads:8)'
// Stores live in $TMPDIR (or /tmp) and are removed when each case ends.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "engine/open.h"
#include "refstore/committed/committed.h"
#include "refstore/open_for_store.h"
#include "refstore/refstore.h"

namespace refkv::refstore {
namespace {

struct MergeEnv {
  std::string dir;
  std::unique_ptr<kv::Store> kv;
  OpenedRefStore opened;
  RefStore* refs = nullptr;
  ~MergeEnv() {
    opened = {};
    kv.reset();
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
};

std::unique_ptr<MergeEnv> MakeMergeEnv(bool durable) {
  auto env = std::make_unique<MergeEnv>();
  const char* base = getenv("TMPDIR");
  std::string pattern = std::string(base && *base ? base : "/tmp") + "/refkv-mergebench-XXXXXX";
  if (mkdtemp(pattern.data()) == nullptr) return nullptr;
  env->dir = pattern;
  auto kv = kv::Open("rocks://" + env->dir + "/db?sync=false");
  if (!kv.ok()) return nullptr;
  env->kv = std::move(kv).value();
  OpenForStoreOptions options;
  options.refstore.sync_commits = durable;
  options.refstore.max_commit_attempts = 1000;  // 8 mergers on one branch: never give up
  auto opened = OpenForStore(*env->kv, options);
  if (!opened.ok()) return nullptr;
  env->opened = std::move(opened).value();
  env->refs = env->opened.refs.get();
  if (!env->refs->CreateRepository("bench").ok()) return nullptr;
  return env;
}

std::string EntryPath(const std::string& prefix, int64_t i) {
  char buf[48];
  snprintf(buf, sizeof(buf), "%s%04d/obj-%08lld", prefix.c_str(), static_cast<int>(i % 1000),
           static_cast<long long>(i));
  return buf;
}

Status FillBranch(RefStore& refs, const std::string& branch, const std::string& prefix, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    REFKV_RETURN_IF_ERROR(refs.PutEntry("bench", branch, EntryPath(prefix, i), "v"));
    if ((i + 1) % 100000 == 0 || i + 1 == n) {
      REFKV_RETURN_IF_ERROR(refs.Commit("bench", branch, {}).status());
    }
  }
  return Status::OK();
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

double MicrosSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
}

void MergeLatency(benchmark::State& state) {
  const int64_t n = state.range(0);
  auto env = MakeMergeEnv(false);
  if (!env) return state.SkipWithError("cannot open rocks");
  Status s = FillBranch(*env->refs, "main", "data/", n);
  if (s.ok()) s = env->refs->CreateBranch("bench", "feature", "main").status();
  if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  std::mt19937_64 rng(1);
  std::vector<double> merge_us, commit_us;
  uint64_t ranges_written = 0;
  int64_t i = 0;
  MergeOptions never;
  never.fast_forward = MergeOptions::FastForward::kNever;
  for (auto _ : state) {
    ++i;
    // main changes even paths, the feature odd ones: no conflicts.
    const std::string tag = std::to_string(i);
    s = env->refs->PutEntry("bench", "main", EntryPath("data/", 2 * (rng() % (n / 2))), tag);
    auto t0 = std::chrono::steady_clock::now();
    auto c = env->refs->Commit("bench", "main", {});
    commit_us.push_back(MicrosSince(t0));
    if (s.ok()) s = c.status();
    if (s.ok()) {
      s = env->refs->PutEntry("bench", "feature", EntryPath("data/", 2 * (rng() % (n / 2)) + 1),
                              tag);
    }
    if (s.ok()) s = env->refs->Commit("bench", "feature", {}).status();
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    t0 = std::chrono::steady_clock::now();
    auto m = env->refs->Merge("bench", "main", "feature", never);
    const double us = MicrosSince(t0);
    merge_us.push_back(us);
    state.SetIterationTime(us / 1e6);
    if (!m.ok() || m->outcome != MergeResult::Outcome::kMerged) {
      return state.SkipWithError(m.ok() ? "merge did not merge" : m.status().ToString().c_str());
    }
    ranges_written += m->ranges_written;
    // The feature catches up (a fast-forward, not timed): the next merge base is this merge.
    auto up = env->refs->Merge("bench", "feature", "main", {});
    if (!up.ok()) return state.SkipWithError(up.status().ToString().c_str());
  }
  state.counters["merge_us"] = Median(merge_us);
  state.counters["commit_us"] = Median(commit_us);
  state.counters["ratio"] = Median(merge_us) / std::max(Median(commit_us), 1e-9);
  state.counters["ranges_written_per_merge"] =
      static_cast<double>(ranges_written) / static_cast<double>(std::max<int64_t>(i, 1));
}

std::mutex concurrent_mu;
std::unique_ptr<MergeEnv>* concurrent_env = new std::unique_ptr<MergeEnv>;
std::atomic<int64_t> concurrent_run{0};

void ConcurrentSetup(const benchmark::State&) {
  std::lock_guard lock(concurrent_mu);
  *concurrent_env = MakeMergeEnv(true);
}
void ConcurrentTeardown(const benchmark::State&) {
  std::lock_guard lock(concurrent_mu);
  concurrent_env->reset();
}

void ConcurrentMerges(benchmark::State& state) {
  MergeEnv* env = concurrent_env->get();
  if (env == nullptr) return state.SkipWithError("cannot open rocks");
  std::string branch = "f";
  branch.append(std::to_string(state.thread_index()))
      .append("-")
      .append(std::to_string(concurrent_run++));
  auto b = env->refs->CreateBranch("bench", branch, "main");
  if (!b.ok()) return state.SkipWithError(b.status().ToString().c_str());
  MergeOptions never;
  never.fast_forward = MergeOptions::FastForward::kNever;
  int64_t merges = 0, retries = 0, i = 0;
  for (auto _ : state) {
    Status s = env->refs->PutEntry("bench", branch, branch + "/" + std::to_string(i++), "v");
    if (s.ok()) s = env->refs->Commit("bench", branch, {}).status();
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    auto m = env->refs->Merge("bench", "main", branch, never);
    if (!m.ok()) return state.SkipWithError(m.status().ToString().c_str());
    ++merges;
    retries += m->attempts - 1;
  }
  state.SetItemsProcessed(merges);
  state.counters["retries_per_merge"] = benchmark::Counter(
      static_cast<double>(retries) / static_cast<double>(std::max<int64_t>(merges, 1)),
      benchmark::Counter::kAvgThreads);
}

void DisjointMerge(benchmark::State& state) {
  const int64_t n = state.range(0);
  const bool dest_moved = state.range(1) != 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto env = MakeMergeEnv(false);
    if (!env) return state.SkipWithError("cannot open rocks");
    Status s = FillBranch(*env->refs, "main", "a/", 1000);
    if (s.ok()) s = env->refs->CreateBranch("bench", "feature", "main").status();
    if (s.ok()) s = FillBranch(*env->refs, "feature", "b/", n);
    if (s.ok() && dest_moved) {
      for (int k = 0; k < 10 && s.ok(); ++k) {
        s = env->refs->PutEntry("bench", "main", EntryPath("a/", k * 97), "moved");
      }
      if (s.ok()) s = env->refs->Commit("bench", "main", {}).status();
    }
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    MergeOptions never;
    never.fast_forward = MergeOptions::FastForward::kNever;
    state.ResumeTiming();
    auto m = env->refs->Merge("bench", "main", "feature", never);
    state.PauseTiming();
    if (!m.ok() || m->outcome != MergeResult::Outcome::kMerged) {
      return state.SkipWithError(m.ok() ? "merge did not merge" : m.status().ToString().c_str());
    }
    auto manager = CommittedManager::Create(*env->opened.ranges, {});
    if (!manager.ok()) return state.SkipWithError(manager.status().ToString().c_str());
    auto info = (*manager)->Describe(m->commit.metarange_id);
    state.counters["ranges_written"] = static_cast<double>(m->ranges_written);
    state.counters["ranges_reused"] = static_cast<double>(m->ranges_reused);
    state.counters["ranges_read"] = static_cast<double>(m->ranges_read);
    state.counters["ranges_in_result"] = info.ok() ? static_cast<double>(info->ranges.size()) : -1;
    env.reset();
    state.ResumeTiming();
  }
}

[[maybe_unused]] const bool kRegistered = [] {
  benchmark::RegisterBenchmark("refstore/rocks/merge_latency", MergeLatency)
      ->ArgName("branch_entries")
      ->Arg(1000)
      ->Arg(1000000)
      ->Iterations(200)
      ->UseManualTime()
      ->Unit(benchmark::kMicrosecond);
  benchmark::RegisterBenchmark("refstore/rocks/merges/concurrent/durable:1", ConcurrentMerges)
      ->Threads(8)
      ->Setup(ConcurrentSetup)
      ->Teardown(ConcurrentTeardown)
      ->MinTime(3.0)
      ->UseRealTime()
      ->Unit(benchmark::kMillisecond);
  benchmark::RegisterBenchmark("refstore/rocks/merge_disjoint", DisjointMerge)
      ->ArgNames({"entries", "dest_moved"})
      ->Args({100000, 0})
      ->Args({100000, 1})
      ->Iterations(1)
      ->Unit(benchmark::kMillisecond);
  return true;
}();

}  // namespace
}  // namespace refkv::refstore
