// pair/<driver>/<op>: the kv/<driver>/<op> and baseline/rocksdb/<op> pair of kv_bench.cc
// measured A/B-interleaved inside one case, for a machine shared with other work.
//
// Each benchmark iteration runs a block of ops on the refkv store and a block on the raw
// baseline (alternating which goes first), every thread of the case in step (a barrier
// between blocks), and accumulates each side's wall-clock time (thread 0) and CPU time
// (each thread). A block lasts about a millisecond, so a burst of load from other
// processes falls on both sides alike, which separate cases run seconds apart cannot
// promise: on the shared 2-core machine at load ~14, ratio_cpu repeated within ~1% where
// separate cases varied by 15-30%. Counters (medians over repetitions in the JSON):
//   ratio      refkv throughput / baseline throughput, wall clock (all threads)
//   ratio_cpu  baseline CPU per op / refkv CPU per op (thread 0)
//   kv_items_per_second, baseline_items_per_second   wall clock, all threads
#include <benchmark/benchmark.h>

#include <barrier>
#include <string>

#include "bench/kv_targets.h"

namespace refkv::bench {
namespace {

// Ops per block: about a millisecond of work (a synced write is ~0.25 ms of fdatasync).
int64_t BlockOps(Op op) {
  if (op == Op::kSetSync) return 8;
  return op == Op::kScan ? 16 : 128;
}

std::barrier<>& BarrierFor(int threads) {
  static std::barrier<> one(1), two(2);
  return threads == 1 ? one : two;
}

void RunPair(benchmark::State& state, Op op, const std::string& driver) {
  std::string error;
  KvTarget* kv = GetKv(driver, &error);
  RawTarget* raw = kv != nullptr ? GetRaw(&error) : nullptr;
  if (kv == nullptr || raw == nullptr || state.threads() > 2) {
    state.SkipWithError(error.empty() ? "at most 2 threads" : error.c_str());
    return;
  }
  std::barrier<>& barrier = BarrierFor(state.threads());
  const uint64_t seed = 100 + static_cast<uint64_t>(op);
  Worker kw(state.thread_index(), state.threads(), seed);
  Worker rw(state.thread_index(), state.threads(), seed);
  const int64_t block = BlockOps(op);
  double kv_wall = 0, raw_wall = 0, kv_cpu = 0, raw_cpu = 0;
  int64_t kv_items = 0, raw_items = 0, round = 0;
  bool failed = false;
  auto run_block = [&](bool on_kv) {
    double w0 = NowSeconds(), c0 = ThreadCpuSeconds();
    for (int64_t i = 0; i < block && !failed; ++i) {
      int64_t n = on_kv ? KvStep(op, *kv, kw, &error) : RawStep(op, *raw, rw, &error);
      if (n == 0) failed = true;
      (on_kv ? kv_items : raw_items) += n;
    }
    (on_kv ? kv_cpu : raw_cpu) += ThreadCpuSeconds() - c0;
    barrier.arrive_and_wait();  // the block ends when every thread's block has
    (on_kv ? kv_wall : raw_wall) += NowSeconds() - w0;
  };
  for (auto _ : state) {
    bool kv_first = (round++ % 2) == 0;
    run_block(kv_first);
    run_block(!kv_first);
  }
  if (failed) {
    // Every thread ran the same number of blocks, so no one is left at the barrier.
    state.SkipWithError(error.c_str());
    return;
  }
  state.SetItemsProcessed(kv_items + raw_items);
  if (state.thread_index() == 0 && kv_wall > 0 && raw_wall > 0 && kv_cpu > 0 && raw_cpu > 0) {
    const double threads = state.threads();
    const double kv_rate = kv_items * threads / kv_wall, raw_rate = raw_items * threads / raw_wall;
    state.counters["kv_items_per_second"] = kv_rate;
    state.counters["baseline_items_per_second"] = raw_rate;
    state.counters["ratio"] = kv_rate / raw_rate;
    state.counters["ratio_cpu"] = (raw_cpu / raw_items) / (kv_cpu / kv_items);
  }
}

int Register() {
  for (Op op : kOps) {
    for (const char* driver : {"rocks", "rocks_shared"}) {
      std::string name = std::string("pair/") + driver + "/" + KvOpName(op);
      // A fixed 2 s per repetition (over --benchmark_min_time): ~1,000 blocks per side,
      // enough for the CPU ratio to settle within ~1% on a busy machine.
      benchmark::RegisterBenchmark(name.c_str(), RunPair, op, std::string(driver))
          ->MinTime(2.0)
          ->Threads(1)
          ->Threads(2)
          ->UseRealTime();
    }
  }
  return 0;
}

const int registered = Register();

}  // namespace
}  // namespace refkv::bench
