// kv/<driver>/<op> beside baseline/rocksdb/<op>: the refkv KV layer against the same work
// written directly against the RocksDB API, in one process, with the same options and
// the same data (see kv_targets.h: NumKeys() 16-byte keys with 100-byte values in SST
// files, an 8 MiB block cache, far smaller than the data).
//
//   kv/rocks/*         rocks://DIR?block_cache_mb=8 (one column family per partition)
//   kv/rocks_shared/*  rocks://DIR?partitions=shared&block_cache_mb=8
//   kv/mem/*           mem:// (reference only)
//   baseline/rocksdb/* raw rocksdb::DB: get, set, scan, get_put, set_hot
//
// Every case reports items_per_second: at threads:1 per CPU-second of the benchmark
// thread (being descheduled on the shared machine does not count), at threads:2 per
// wall-clock second; and items_per_cpu_second (bench_util.h). Threaded cases work on
// distinct keys. Run with --benchmark_enable_random_interleaving=true and repetitions so
// that load changes hit a case and its baseline alike; bench/compare.py prints ratios.
// kv_pair_bench.cc measures the same pairs A/B-interleaved within one case.
#include <benchmark/benchmark.h>

#include <string>

#include "bench/kv_targets.h"

namespace refkv::bench {
namespace {

// Runs `step` (a KvStep or RawStep bound to its target) as the benchmark loop: the same
// loop for refkv and for the raw baseline, so the pair differs only in the target.
template <class Target, class Step>
void RunSteps(benchmark::State& state, Op op, Target* target, const std::string& error, Step step) {
  if (target == nullptr) {
    state.SkipWithError(error.c_str());
    return;
  }
  Worker w(state.thread_index(), state.threads(), static_cast<uint64_t>(op) + 1);
  int64_t items = 0;
  std::string step_error;
  const double cpu_start = ThreadCpuSeconds();
  for (auto _ : state) {
    int64_t n = step(op, *target, w, &step_error);
    if (n == 0) {
      state.SkipWithError(step_error.c_str());
      break;
    }
    items += n;
  }
  ReportItems(state, items, cpu_start);
}

void RunKv(benchmark::State& state, Op op, const std::string& driver) {
  std::string error;
  KvTarget* t = GetKv(driver, &error);
  RunSteps(state, op, t, error, KvStep);
}

void RunRaw(benchmark::State& state, Op op) {
  std::string error;
  RawTarget* t = GetRaw(&error);
  RunSteps(state, op, t, error, RawStep);
}

// Registers a case twice: at 1 thread timed by the thread's CPU time (robust when other
// processes compete for the 2 cores), and at 2 threads by wall-clock time.
template <class Fn, class... Args>
void RegisterBoth(const std::string& name, Fn fn, Args... args) {
  benchmark::RegisterBenchmark(name.c_str(), fn, args...)->Threads(1);
  benchmark::RegisterBenchmark(name.c_str(), fn, args...)->Threads(2)->UseRealTime();
}

int Register() {
  for (Op op : kOps) {
    RegisterBoth(std::string("baseline/rocksdb/") + BaselineOpName(op), RunRaw, op);
    for (const char* driver : {"rocks", "rocks_shared", "mem"}) {
      RegisterBoth(std::string("kv/") + driver + "/" + KvOpName(op), RunKv, op,
                   std::string(driver));
    }
  }
  return 0;
}

const int registered = Register();

}  // namespace
}  // namespace refkv::bench
