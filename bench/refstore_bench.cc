// The ref store under commit-heavy load, each case beside its baseline in the same run:
//   refstore/<driver>/commit_latency/branch_entries:N   1-entry commit on a branch of N
//                                                      committed entries (N = 1k, 100k, 1M)
//   refstore/<driver>/commit_latency_v1/branch_entries:N
//                                                      baseline: the same on a store at
//                                                      schema 3 (flat v1 metaranges)
//   refstore/<driver>/commits/<one|separate>_branch/durable:D/threads:C
//                                                      commits/s, 10 staged entries each
//   refstore/<driver>/raw_kv_sets/entries:10/durable:D/threads:C
//                                                      baseline: the same 10 entries as 10
//                                                      Sets (durable: each followed by Sync)
//   refstore/<driver>/raw_kv_batch/entries:10/durable:D/threads:C
//                                                      baseline: one 10-entry Write (durable:
//                                                      then one Sync)
// Set-up as the CLI's (refstore/open_for_store.h): ranges in the KV store itself. Durable
// means rocks with sync=false plus refstore::Options::sync_commits: one WAL fsync per
// commit, after its branch CaS; the baselines sync through the same Store::Sync().
//   refstore/<driver>/staged_puts, refstore/<driver>/read_head/sealed:K (K = 0, 1, 4)
//
//   build-*/bin/refkv_bench --benchmark_filter='refstore/'
// The 1M case stages and commits a million entries first (tens of seconds on rocks); skip
// it with --benchmark_filter='refstore/.*branch_entries:(1000|100000)$'.
#include <benchmark/benchmark.h>
#include <stdlib.h>

#include <atomic>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <string>

#include "bench/bench_util.h"
#include "engine/open.h"
#include "refstore/committed/range_store.h"
#include "refstore/internal/codec.h"
#include "refstore/internal/keys.h"
#include "refstore/open_for_store.h"
#include "refstore/refstore.h"
#include "refstore/schema.h"

namespace refkv::refstore {
namespace {

std::string PathOf(int64_t i) {
  char buf[48];
  snprintf(buf, sizeof(buf), "data/%04d/obj-%08lld", static_cast<int>(i % 1000),
           static_cast<long long>(i));
  return buf;
}

// One store + range store + ref store, opened as the CLI opens them: ranges in the KV
// store itself (refstore/open_for_store.h) on every driver.
struct Env {
  std::string dir;
  std::unique_ptr<kv::Store> kv;
  OpenedRefStore opened;
  RefStore* refs = nullptr;
  ~Env() {
    opened = {};
    kv.reset();
    bench::RemoveTree(dir);
  }
};

// `durable`: one Sync per commit (Options::sync_commits) on a sync=false store.
// `schema`: the store's schema (0: kv::Open's default, 1); at schema >= 4 commits write
// two-level metaranges, below flat (v1) ones.
std::unique_ptr<Env> MakeEnv(const std::string& driver, bool durable, int64_t schema = 0) {
  auto env = std::make_unique<Env>();
  env->dir = bench::MakeScratchDir("refstore");
  std::string uri = driver == "mem" ? "mem://" : "rocks://" + env->dir + "/db?sync=false";
  kv::OpenOptions open;
  if (schema > 0) open.code_schema_version = schema;
  auto kv = kv::Open(uri, open);
  if (!kv.ok()) return nullptr;
  env->kv = std::move(kv).value();
  OpenForStoreOptions options;
  options.refstore.sync_commits = durable;
  auto opened = OpenForStore(*env->kv, options);
  if (!opened.ok()) return nullptr;
  env->opened = std::move(opened).value();
  env->refs = env->opened.refs.get();
  if (!env->refs->CreateRepository("bench").ok()) return nullptr;
  return env;
}

bool Fail(benchmark::State& state, const Status& s) {
  state.SkipWithError(s.ToString().c_str());
  return false;
}

// Stages `n` entries on `branch` in commits of at most 100k.
bool Fill(benchmark::State& state, RefStore& refs, const std::string& branch, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    Status s = refs.PutEntry("bench", branch, PathOf(i), "v" + std::to_string(i));
    if (!s.ok()) return Fail(state, s);
    if ((i + 1) % 100000 == 0 || i + 1 == n) {
      auto c = refs.Commit("bench", branch, {});
      if (!c.ok()) return Fail(state, c.status());
    }
  }
  return true;
}

// The filled env of the latency case, one at a time, keyed by (driver, n): Google Benchmark
// calls the function several times per case (1, 10, 100... iterations, and once per
// repetition) and the 1M fill takes tens of seconds, so it is filled once per case and a
// profile of the running case sees the commits, not the fill. A new key releases the
// previous env; the end of the run releases the last one (AtBenchEnd: before RocksDB's
// static destructors, since closing a store after them crashes).
std::mutex filled_mu;
std::string* filled_key = new std::string;
std::unique_ptr<Env>* filled_env = new std::unique_ptr<Env>;

void ReleaseFilledEnv() {
  std::lock_guard lock(filled_mu);
  filled_env->reset();
  filled_key->clear();
}

// `schema` as for MakeEnv: commit_latency runs at this code's schema (two-level
// metaranges), commit_latency_v1 at schema 3 (flat metaranges, as before schema 4): its
// baseline in the same run. Both write the commit indexes of schema 3.
void CommitLatency(benchmark::State& state, const std::string& driver, int64_t schema) {
  const int64_t n = state.range(0);
  Env* env = nullptr;
  {
    std::lock_guard lock(filled_mu);
    const std::string key = driver + "/" + std::to_string(n) + "/" + std::to_string(schema);
    if (*filled_key != key || !*filled_env) {
      static const bool kAtEnd = (bench::AtBenchEnd(ReleaseFilledEnv), true);
      (void)kAtEnd;
      filled_env->reset();
      filled_key->clear();
      auto made = MakeEnv(driver, false, schema);
      if (!made) return state.SkipWithError(("cannot open " + driver).c_str());
      if (!Fill(state, *made->refs, "main", n)) return;
      *filled_env = std::move(made);
      *filled_key = key;
    }
    env = filled_env->get();
  }
  static thread_local std::mt19937_64 rng(1);
  static std::atomic<int64_t> commits_total{0};
  int64_t commits = 0;
  for (auto _ : state) {
    Status s = env->refs->PutEntry("bench", "main", PathOf(rng() % n),
                                   std::to_string(commits_total.fetch_add(1)));
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    auto c = env->refs->Commit("bench", "main", {});
    if (!c.ok() || c->outcome != CommitResult::Outcome::kCommitted) {
      return state.SkipWithError(c.status().ToString().c_str());
    }
    ++commits;
  }
  state.SetItemsProcessed(commits);
}

// Shared envs for the multi-threaded cases, one per (driver, durable), made on first use
// and released by the Teardown of each case (so none outlives main: closing a store
// while static destructors run aborts inside RocksDB).
std::mutex shared_mu;
std::map<std::string, std::unique_ptr<Env>>* shared_envs =
    new std::map<std::string, std::unique_ptr<Env>>;

Env* SharedEnv(const std::string& driver, bool durable) {
  std::lock_guard lock(shared_mu);
  auto& env = (*shared_envs)[driver + (durable ? "/durable" : "")];
  if (!env) env = MakeEnv(driver, durable);
  return env.get();
}

void ReleaseSharedEnvs(const benchmark::State&) {
  std::lock_guard lock(shared_mu);
  shared_envs->clear();
}

void Commits(benchmark::State& state, const std::string& driver, bool separate, bool durable) {
  Env* env = SharedEnv(driver, durable);
  if (!env) return state.SkipWithError(("cannot open " + driver).c_str());
  static std::atomic<int64_t> run{0};
  // Each run (and each thread of it, for separate branches) gets fresh branches.
  const std::string branch =
      separate ? "t" + std::to_string(state.thread_index()) + "-" + std::to_string(run.fetch_add(1))
               : "main";
  if (separate) {
    auto b = env->refs->CreateBranch("bench", branch, "main");
    if (!b.ok()) return state.SkipWithError(b.status().ToString().c_str());
  }
  int64_t i = 0, commits = 0, conflicts = 0;
  for (auto _ : state) {
    for (int k = 0; k < 10; ++k, ++i) {
      Status s = env->refs->PutEntry(
          "bench", branch, "c/" + std::to_string(state.thread_index()) + "/" + std::to_string(i),
          "v");
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
    auto c = env->refs->Commit("bench", branch, {});
    if (c.ok()) {
      ++commits;
    } else if (c.status().IsConflict()) {
      ++conflicts;
    } else {
      return state.SkipWithError(c.status().ToString().c_str());
    }
  }
  state.SetItemsProcessed(commits);
  state.counters["conflicts"] = static_cast<double>(conflicts);
}

// Baselines: the 10 entries of a commit written straight to the KV store, as 10 Sets
// (durable: each followed by a Sync, i.e. 10 synced writes) or as one batch (durable:
// one Write, one Sync).
void RawWrites(benchmark::State& state, const std::string& driver, bool durable, bool batch) {
  Env* env = SharedEnv(driver, durable);
  if (!env) return state.SkipWithError(("cannot open " + driver).c_str());
  const std::string prefix = std::to_string(state.thread_index()) + (batch ? "b/" : "s/");
  int64_t i = 0;
  kv::WriteBatch wb;
  for (auto _ : state) {
    wb.Clear();
    for (int k = 0; k < 10; ++k, ++i) {
      std::string key = prefix + std::to_string(i);
      if (batch) {
        wb.Put(key, "v");
        continue;
      }
      Status s = env->kv->Set("raw", key, "v");
      if (s.ok() && durable) s = env->kv->Sync();
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
    if (batch) {
      Status s = env->kv->Write("raw", wb);
      if (s.ok() && durable) s = env->kv->Sync();
      if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
    }
  }
  state.SetItemsProcessed(state.iterations());  // one "commit" worth of writes per item
}

void StagedPuts(benchmark::State& state, const std::string& driver) {
  auto env = MakeEnv(driver, false);
  if (!env) return state.SkipWithError(("cannot open " + driver).c_str());
  int64_t i = 0;
  for (auto _ : state) {
    Status s = env->refs->PutEntry("bench", "main", PathOf(i++), "v");
    if (!s.ok()) return state.SkipWithError(s.ToString().c_str());
  }
  state.SetItemsProcessed(i);
}

// Reads at the head of a branch with K sealed tokens (as after K failed commits), made by
// editing the branch record directly.
void ReadHead(benchmark::State& state, const std::string& driver) {
  const int sealed = static_cast<int>(state.range(0));
  auto env = MakeEnv(driver, false);
  if (!env) return state.SkipWithError(("cannot open " + driver).c_str());
  if (!Fill(state, *env->refs, "main", 10000)) return;
  auto repo = env->refs->GetRepository("bench");
  const std::string refs = internal::RefsPartition("bench", repo->instance_id);
  const std::string staging = internal::StagingPartition("bench", repo->instance_id);
  auto raw = env->kv->Get(refs, internal::BranchKey("main"));
  pb::Branch branch;
  if (!raw.ok() || !branch.ParseFromString(*raw)) return state.SkipWithError("branch");
  for (int k = 0; k < sealed; ++k) {
    std::string token = internal::NewTimedId();
    branch.add_sealed_tokens(token);
    pb::StagedEntry e;
    e.set_value("sealed");
    for (int i = 0; i < 100; ++i) {
      (void)env->kv->Set(staging, internal::StagingKey(token, PathOf(i * 97 + k)),
                         internal::Encode(e));
    }
  }
  (void)env->kv->Set(refs, internal::BranchKey("main"), internal::Encode(branch));
  std::mt19937_64 rng(2);
  int64_t reads = 0;
  for (auto _ : state) {
    auto v = env->refs->GetEntry("bench", "main", PathOf(rng() % 10000));
    if (!v.ok()) return state.SkipWithError(v.status().ToString().c_str());
    ++reads;
  }
  state.SetItemsProcessed(reads);
}

// The raw baseline for reads: a Get of a key in a KV partition of 10k keys.
void RawGets(benchmark::State& state, const std::string& driver) {
  auto env = MakeEnv(driver, false);
  if (!env) return state.SkipWithError(("cannot open " + driver).c_str());
  for (int i = 0; i < 10000; ++i) (void)env->kv->Set("raw", PathOf(i), "v");
  std::mt19937_64 rng(2);
  for (auto _ : state) {
    auto v = env->kv->Get("raw", PathOf(rng() % 10000));
    benchmark::DoNotOptimize(v);
  }
  state.SetItemsProcessed(state.iterations());
}

void Register() {
  for (const std::string driver : {"mem", "rocks"}) {
    const std::string p = "refstore/" + driver + "/";
    for (const int64_t schema : {kCodeSchema, kSchemaChildIndex}) {
      benchmark::RegisterBenchmark(
          (p + (schema == kCodeSchema ? "commit_latency" : "commit_latency_v1")).c_str(),
          CommitLatency, driver, schema)
          ->ArgName("branch_entries")
          ->Arg(1000)
          ->Arg(100000)
          ->Arg(1000000)
          ->Unit(benchmark::kMicrosecond)
          ->MeasureProcessCPUTime()  // CPU: all threads, flush and compaction included
          ->UseRealTime();
    }
    for (bool durable : {false, true}) {
      if (driver == "mem" && durable) continue;
      const std::string d = "/durable:" + std::to_string(durable);
      for (bool separate : {false, true}) {
        benchmark::RegisterBenchmark(
            (p + "commits/" + (separate ? "separate" : "one") + "_branch" + d).c_str(), Commits,
            driver, separate, durable)
            ->Threads(1)
            ->Threads(2)
            ->Threads(8)
            ->Teardown(ReleaseSharedEnvs)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
      for (bool batch : {false, true}) {
        benchmark::RegisterBenchmark(
            (p + (batch ? "raw_kv_batch" : "raw_kv_sets") + "/entries:10" + d).c_str(), RawWrites,
            driver, durable, batch)
            ->Threads(1)
            ->Threads(2)
            ->Threads(8)
            ->Teardown(ReleaseSharedEnvs)
            ->Unit(benchmark::kMicrosecond)
            ->UseRealTime();
      }
    }
    benchmark::RegisterBenchmark((p + "staged_puts").c_str(), StagedPuts, driver)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((p + "read_head").c_str(), ReadHead, driver)
        ->ArgName("sealed")
        ->Arg(0)
        ->Arg(1)
        ->Arg(4)
        ->Unit(benchmark::kMicrosecond);
    benchmark::RegisterBenchmark((p + "raw_kv_get").c_str(), RawGets, driver)
        ->Unit(benchmark::kMicrosecond);
  }
}

const bool kRegistered = (Register(), true);

}  // namespace
}  // namespace refkv::refstore
